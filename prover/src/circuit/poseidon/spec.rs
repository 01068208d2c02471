//! The Poseidon instance of every commitment, in its plain (unoptimized) form: BN254, width
//! T = 9, rate 8, x^5 S-box, R_F = 8 full and R_P = 63 partial rounds, round constants and MDS
//! matrix from the Grain LFSR of the Poseidon paper (first secure matrix), exactly as halo2-base
//! and snark-verifier generate them (their sponges use an equivalent optimized form of the same
//! permutation; tests check the two agree).
//!
//! The sponge is snark-verifier's: the state starts as `[2^64, 0, ..., 0]`; the message is cut
//! into chunks of [`RATE`] words, with one more, empty chunk when its length is a multiple of
//! [`RATE`] (zero included); a chunk of `n` words is added to state words `1..=n`, a chunk
//! shorter than [`RATE`] also adds 1 to word `n + 1`, and each chunk is followed by one
//! permutation. The digest is state word 1.

use std::sync::OnceLock;

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use poseidon_primitives::poseidon::primitives::Spec;

/// State width.
pub const T: usize = 9;
/// Words absorbed per permutation.
pub const RATE: usize = 8;
/// Full rounds (half before, half after the partial rounds).
pub const R_F: usize = 8;
/// Partial rounds: t = 9 over BN254 with x^5 at 128-bit security (the Poseidon paper's
/// parameter table, as used by circomlib).
pub const R_P: usize = 63;
/// Index of the first secure MDS matrix the generator yields (0 for these parameters).
pub const SECURE_MDS: usize = 0;
/// Rounds in one permutation.
pub const ROUNDS: usize = R_F + R_P;

/// The parameter set, for poseidon-primitives' constant generator.
#[derive(Debug)]
struct Params;

impl Spec<Fr, T, RATE> for Params {
    fn full_rounds() -> usize {
        R_F
    }
    fn partial_rounds() -> usize {
        R_P
    }
    fn sbox(val: Fr) -> Fr {
        sbox(val)
    }
    fn secure_mds() -> usize {
        SECURE_MDS
    }
}

/// Round constants (one row of T per round) and the MDS matrix.
#[derive(Debug)]
pub struct Constants {
    /// `round_constants[r][i]` is added to state word `i` at the start of round `r`.
    pub round_constants: Vec<[Fr; T]>,
    /// `mds[i][j]`: the new word `i` is `sum_j mds[i][j] * word_j`.
    pub mds: [[Fr; T]; T],
}

/// The constants, generated once.
pub fn constants() -> &'static Constants {
    static CONSTANTS: OnceLock<Constants> = OnceLock::new();
    CONSTANTS.get_or_init(|| {
        let (round_constants, mds, _) = Params::constants();
        Constants { round_constants, mds }
    })
}

/// The S-box, x^5.
pub fn sbox(x: Fr) -> Fr {
    let x2 = x.square();
    x2.square() * x
}

/// True for the partial rounds (S-box on word 0 only).
pub fn is_partial(round: usize) -> bool {
    (R_F / 2..R_F / 2 + R_P).contains(&round)
}

/// One round: add the round constants, apply the S-box (all words, or word 0 in a partial
/// round), multiply by the MDS matrix.
pub fn round(state: &[Fr; T], round: usize) -> [Fr; T] {
    let c = constants();
    let mut x = [Fr::zero(); T];
    for (i, xi) in x.iter_mut().enumerate() {
        *xi = state[i] + c.round_constants[round][i];
        if i == 0 || !is_partial(round) {
            *xi = sbox(*xi);
        }
    }
    mix(&x)
}

/// The MDS multiplication.
pub fn mix(x: &[Fr; T]) -> [Fr; T] {
    let c = constants();
    std::array::from_fn(|i| (0..T).map(|j| c.mds[i][j] * x[j]).sum())
}

/// The permutation.
pub fn permute(state: &[Fr; T]) -> [Fr; T] {
    (0..ROUNDS).fold(*state, |s, r| round(&s, r))
}

/// The sponge's initial state.
pub fn initial_state() -> [Fr; T] {
    let mut state = [Fr::zero(); T];
    state[0] = Fr::from(1u64 << 32) * Fr::from(1u64 << 32);
    state
}

/// The chunks a message of `len` words is absorbed in, as ranges of word indices.
pub fn chunks(len: usize) -> Vec<std::ops::Range<usize>> {
    (0..=len / RATE).map(|c| c * RATE..((c + 1) * RATE).min(len)).collect()
}

/// What absorbing a chunk of `len` words adds to the state besides the words: 1 after them
/// when the chunk is short (the padding).
pub fn padding(len: usize) -> [Fr; T] {
    let mut pad = [Fr::zero(); T];
    if len < RATE {
        pad[1 + len] = Fr::one();
    }
    pad
}

/// The sponge over `elements` (see the module docs).
pub fn hash(elements: &[Fr]) -> Fr {
    let mut state = initial_state();
    for chunk in chunks(elements.len()) {
        let words = &elements[chunk];
        let pad = padding(words.len());
        for (i, s) in state.iter_mut().enumerate() {
            *s += pad[i];
        }
        for (s, w) in state.iter_mut().skip(1).zip(words) {
            *s += w;
        }
        state = permute(&state);
    }
    state[1]
}
