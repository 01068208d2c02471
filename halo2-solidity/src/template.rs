//! The two askama templates: `templates/Halo2Verifier.sol` (the shared verifier of a proof
//! system) and `templates/Halo2VerifyingKey.sol` (one circuit's key as contract code).
//!
//! Derived from PSE's halo2-solidity-verifier (f0626be, MIT), `src/codegen/template.rs`. See
//! `NOTICE`.

use crate::meta::Ptr;
use askama::Template;
use ruint::aliases::U256;

/// The verifying key's words, in the order the verifier reads them from the key's code.
#[derive(Template)]
#[template(path = "Halo2VerifyingKey.sol", escape = "none")]
pub(crate) struct Halo2VerifyingKey {
    pub(crate) header: String,
    pub(crate) constants: Vec<(&'static str, U256)>,
    pub(crate) fixed_comms: Vec<(U256, U256)>,
    pub(crate) permutation_comms: Vec<(U256, U256)>,
}

impl Halo2VerifyingKey {
    /// Bytes of the key contract's runtime code.
    pub(crate) fn len(&self) -> usize {
        (self.constants.len() * 0x20) + (self.fixed_comms.len() + self.permutation_comms.len()) * 0x40
    }

    /// The runtime code the key's constructor returns: every word, big-endian, in order.
    pub(crate) fn code(&self) -> Vec<u8> {
        let points = self.fixed_comms.iter().chain(&self.permutation_comms).flat_map(|(x, y)| [*x, *y]);
        self.constants.iter().map(|(_, word)| *word).chain(points).flat_map(|word| word.to_be_bytes::<32>()).collect()
    }
}

/// Everything the verifier's code depends on: the constraint system's shape only (no value of
/// one circuit's key).
#[derive(Template)]
#[template(path = "Halo2Verifier.sol", escape = "none")]
pub(crate) struct Halo2Verifier {
    pub(crate) header: String,
    pub(crate) vk_len: usize,
    pub(crate) proof_len: usize,
    pub(crate) vk_mptr: Ptr,
    pub(crate) challenge_mptr: Ptr,
    pub(crate) theta_mptr: Ptr,
    pub(crate) proof_cptr: Ptr,
    pub(crate) quotient_comm_cptr: Ptr,
    pub(crate) num_neg_lagranges: usize,
    pub(crate) num_advices: Vec<usize>,
    pub(crate) num_challenges: Vec<usize>,
    pub(crate) num_evals: usize,
    pub(crate) num_quotients: usize,
    /// halo2's `DELTA` (the permutation argument's coset generator), in decimal.
    pub(crate) delta: U256,
    pub(crate) quotient_eval_numer_computations: Vec<Vec<String>>,
    pub(crate) pcs_computations: Vec<Vec<String>>,
    /// The accumulator words the key must hold (`has_accumulator`, offset, limbs, limb bits).
    pub(crate) acc_words: [U256; 4],
    /// Reading the accumulator from the instances (empty without one).
    pub(crate) accumulator_computations: Vec<String>,
}

mod filters {
    use std::fmt::LowerHex;

    pub fn hex(value: impl LowerHex) -> ::askama::Result<String> {
        let value = format!("{value:x}");
        Ok(if value.len() % 2 == 1 { format!("0x0{value}") } else { format!("0x{value}") })
    }

    pub fn hex_padded(value: impl LowerHex, pad: usize) -> ::askama::Result<String> {
        let string = format!("0x{value:0pad$x}");
        if string == "0x0" {
            Ok(format!("0x{}", "0".repeat(pad)))
        } else {
            Ok(string)
        }
    }
}
