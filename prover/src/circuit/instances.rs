//! The public-instance layout of every app proof: the one definition that the prover, the
//! calldata encoder, the relayer and the Solidity decoder's drift test share.
//!
//! | index | field | meaning |
//! |---|---|---|
//! | 0 | `model_commitment` | Poseidon of the quantized model ([`super::commit`]) |
//! | 1 | `input_commitment` | Poseidon of the batch's inputs and a salt |
//! | 2 | `context` | binds the proof to its use (chain, guard, model id, nonce, time, subjects) |
//! | 3 | `sample_count` | real samples in the batch, `1..=batch_size` |
//! | 4 | `flagged_count` | flagged real samples (the sum of the decision bits, proven) |
//! | 5 .. 5+W | decision words | sample `i` is bit `i % 248` of word `i / 248`; bits past `sample_count` are 0 |
//! | 5+W .. 5+W+S | score words (only with scores) | sample `i` is slot `i % P` of word `i / P` |
//!
//! `W = ceil(batch_size / 248)`. Scores are signed fixed-point values of `score_bits` bits (the
//! model's `value_bits`, which the circuit range-checks); each is stored offset-binary,
//! `u = score + 2^(score_bits - 1)` in `[0, 2^score_bits)`, in slot `j` of a word at bit
//! `j * score_bits`. `P = floor(248 / score_bits)` slots per word, `S = ceil(batch_size / P)`
//! words; padding samples (past `sample_count`) carry score 0, slots past `batch_size` are 0.
//! The circuit range-checks every `u`, so the packing is injective and every word is `< 2^248`.
//! In batch mode the aggregation proof's instances are 12 accumulator limbs followed by each app
//! proof's instances in this layout, back to back, in the order the proofs were aggregated.

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use serde::{Deserialize, Serialize};

use super::field::{fr_from_be_bytes, fr_to_be_bytes, fr_to_i128};

/// Decision bits per packed word.
pub const DECISION_BITS_PER_WORD: usize = 248;
/// Bits of a score word that hold score slots (slots never straddle a word).
pub const SCORE_WORD_BITS: usize = 248;
/// Smallest score width a layout accepts.
pub const MIN_SCORE_BITS: u32 = 2;
/// Largest score width a layout accepts (scores decode to `i128`; the fixed-point chip's values
/// are narrower still).
pub const MAX_SCORE_BITS: u32 = 120;
/// Header fields before the decision words.
pub const HEADER_LEN: usize = 5;
/// Index of the model commitment.
pub const MODEL_COMMITMENT_INDEX: usize = 0;
/// Index of the input commitment.
pub const INPUT_COMMITMENT_INDEX: usize = 1;
/// Index of the context.
pub const CONTEXT_INDEX: usize = 2;
/// Index of the sample count.
pub const SAMPLE_COUNT_INDEX: usize = 3;
/// Index of the flagged count.
pub const FLAGGED_COUNT_INDEX: usize = 4;
/// Accumulator limbs in front of the app instances of an aggregation proof.
pub const ACCUMULATOR_LIMBS: usize = 12;

/// The shape of the layout for one circuit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InstanceLayout {
    /// Samples per proof.
    pub batch_size: usize,
    /// Width of one packed score, `MIN_SCORE_BITS..=MAX_SCORE_BITS`, or `None` when the circuit
    /// exposes no scores.
    pub score_bits: Option<u32>,
}

impl InstanceLayout {
    /// Whether per-sample scores follow the decision words.
    pub fn has_scores(&self) -> bool {
        self.score_bits.is_some()
    }

    /// Number of decision words `W`.
    pub fn decision_words(&self) -> usize {
        self.batch_size.div_ceil(DECISION_BITS_PER_WORD)
    }

    /// Score slots per word `P` (0 without scores).
    pub fn scores_per_word(&self) -> usize {
        self.score_bits.map_or(0, |b| SCORE_WORD_BITS / b as usize)
    }

    /// Number of score words `S` (0 without scores).
    pub fn score_words(&self) -> usize {
        match self.scores_per_word() {
            0 => 0,
            per => self.batch_size.div_ceil(per),
        }
    }

    /// Index of the first decision word.
    pub fn decisions_start(&self) -> usize {
        HEADER_LEN
    }

    /// Index of the first score word.
    pub fn scores_start(&self) -> usize {
        HEADER_LEN + self.decision_words()
    }

    /// Total instances of one app proof.
    pub fn len(&self) -> usize {
        HEADER_LEN + self.decision_words() + self.score_words()
    }

    /// Never empty (the header is always there); here for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Checks the layout's own parameters (batch size at least 1, a score width that fits a word).
    pub fn validate(&self) -> Result<(), LayoutError> {
        if self.batch_size == 0 {
            return Err(LayoutError::BatchSize);
        }
        match self.score_bits {
            Some(b) if !(MIN_SCORE_BITS..=MAX_SCORE_BITS).contains(&b) => Err(LayoutError::ScoreBits { score_bits: b }),
            _ => Ok(()),
        }
    }
}

/// The public outputs of one app proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppInstances {
    /// Layout these values follow.
    pub layout: InstanceLayout,
    /// Poseidon commitment of the quantized model.
    pub model_commitment: Fr,
    /// Poseidon commitment of the inputs and salt.
    pub input_commitment: Fr,
    /// Context binding.
    pub context: Fr,
    /// Real samples in the batch.
    pub sample_count: usize,
    /// Per-sample decisions (length `batch_size`, false past `sample_count`).
    pub decisions: Vec<bool>,
    /// Per-sample scores (length `batch_size` when the layout has scores, else empty).
    pub scores: Vec<i128>,
}

/// Why a flat instance vector (or a value to encode) does not fit the layout.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LayoutError {
    /// Wrong number of instances.
    #[error("expected {expected} instances for batch size {batch_size}, found {found}")]
    Length {
        /// Expected count.
        expected: usize,
        /// Found count.
        found: usize,
        /// Batch size of the layout.
        batch_size: usize,
    },
    /// A field that must be a small integer is not.
    #[error("instance {index} ({field}) is not a valid {field}")]
    Field {
        /// Index in the vector.
        index: usize,
        /// Field name.
        field: &'static str,
    },
    /// The flagged count is not the number of set decision bits.
    #[error("instance {FLAGGED_COUNT_INDEX} (flagged_count) is {found}, the decision words hold {expected} flags")]
    FlaggedCount {
        /// Set decision bits.
        expected: usize,
        /// The instance.
        found: usize,
    },
    /// A score does not fit the layout's score width.
    #[error("score {value} of sample {sample} does not fit {score_bits} signed bits")]
    ScoreRange {
        /// Sample index.
        sample: usize,
        /// The score.
        value: i128,
        /// The width.
        score_bits: u32,
    },
    /// The layout's batch size is 0.
    #[error("an instance layout needs a batch size of at least 1")]
    BatchSize,
    /// The layout's score width cannot be packed.
    #[error("score width {score_bits} is outside {MIN_SCORE_BITS}..={MAX_SCORE_BITS} bits")]
    ScoreBits {
        /// The width.
        score_bits: u32,
    },
}

impl AppInstances {
    /// Flagged real samples.
    pub fn flagged_count(&self) -> usize {
        self.decisions.iter().filter(|&&d| d).count()
    }

    /// The flat instance vector, in layout order.
    ///
    /// # Panics
    /// If a score does not fit the layout's width. Values from [`AppInstances::from_slice`] and
    /// `AppWitness::expected_instances` always fit; use [`AppInstances::encode`] for others.
    pub fn to_vec(&self) -> Vec<Fr> {
        self.encode().expect("every score fits the layout's width")
    }

    /// The flat instance vector, in layout order; refuses scores that do not fit the width (the
    /// circuit could not prove them either).
    pub fn encode(&self) -> Result<Vec<Fr>, LayoutError> {
        let mut out = vec![
            self.model_commitment,
            self.input_commitment,
            self.context,
            Fr::from(self.sample_count as u64),
            Fr::from(self.flagged_count() as u64),
        ];
        out.extend(decision_words(&self.decisions, self.layout.batch_size));
        if let Some(bits) = self.layout.score_bits {
            out.extend(score_words(&self.scores, self.layout.batch_size, bits)?);
        }
        Ok(out)
    }

    /// Decodes a flat instance vector; refuses any value the circuit cannot produce (a count
    /// out of range, set bits past the batch, a flagged count that disagrees with the bits,
    /// a score word with bits outside its slots).
    pub fn from_slice(layout: InstanceLayout, values: &[Fr]) -> Result<Self, LayoutError> {
        layout.validate()?;
        if values.len() != layout.len() {
            return Err(LayoutError::Length {
                expected: layout.len(),
                found: values.len(),
                batch_size: layout.batch_size,
            });
        }
        let small = |index: usize, field: &'static str, max: usize| {
            fr_to_i128(&values[index])
                .filter(|&c| c >= 0 && c as usize <= max)
                .map(|c| c as usize)
                .ok_or(LayoutError::Field { index, field })
        };
        let count = small(SAMPLE_COUNT_INDEX, "sample_count", layout.batch_size)?;
        if count == 0 {
            return Err(LayoutError::Field { index: SAMPLE_COUNT_INDEX, field: "sample_count" });
        }
        let flagged = small(FLAGGED_COUNT_INDEX, "flagged_count", count)?;
        let mut decisions = Vec::with_capacity(layout.batch_size);
        for w in 0..layout.decision_words() {
            let index = layout.decisions_start() + w;
            let used = DECISION_BITS_PER_WORD.min(layout.batch_size - w * DECISION_BITS_PER_WORD);
            let word = Word::from_fr(&values[index]);
            if !word.fits(used) {
                return Err(LayoutError::Field { index, field: "decision word" });
            }
            decisions.extend((0..used).map(|bit| word.bits(bit, 1) == 1));
        }
        if decisions[count..].iter().any(|&d| d) {
            return Err(LayoutError::Field { index: layout.decisions_start(), field: "decision word" });
        }
        let set = decisions.iter().filter(|&&d| d).count();
        if set != flagged {
            return Err(LayoutError::FlaggedCount { expected: set, found: flagged });
        }
        let mut scores = Vec::new();
        if let Some(bits) = layout.score_bits {
            let per = layout.scores_per_word();
            let offset = 1i128 << (bits - 1);
            for w in 0..layout.score_words() {
                let index = layout.scores_start() + w;
                let slots = per.min(layout.batch_size - w * per);
                let word = Word::from_fr(&values[index]);
                if !word.fits(slots * bits as usize) {
                    return Err(LayoutError::Field { index, field: "score word" });
                }
                scores.extend((0..slots).map(|j| word.bits(j * bits as usize, bits as usize) as i128 - offset));
            }
            if scores[count..].iter().any(|&s| s != 0) {
                return Err(LayoutError::Field { index: layout.scores_start(), field: "score word" });
            }
        }
        Ok(Self {
            layout,
            model_commitment: values[MODEL_COMMITMENT_INDEX],
            input_commitment: values[INPUT_COMMITMENT_INDEX],
            context: values[CONTEXT_INDEX],
            sample_count: count,
            decisions,
            scores,
        })
    }
}

/// A field element as a 256-bit big-endian word, for bit access.
struct Word([u8; 32]);

impl Word {
    fn from_fr(x: &Fr) -> Self {
        Self(fr_to_be_bytes(x))
    }

    /// Whether every bit at or above `bits` is zero.
    fn fits(&self, bits: usize) -> bool {
        (bits..256).all(|b| self.bits(b, 1) == 0)
    }

    /// `len <= 128` bits starting at bit `start` (LSB first), as an unsigned integer.
    fn bits(&self, start: usize, len: usize) -> u128 {
        (0..len).fold(0u128, |acc, i| {
            let b = start + i;
            acc | (((self.0[31 - b / 8] >> (b % 8)) & 1) as u128) << i
        })
    }
}

/// Sets `len` bits of `value` at bit `start` of a big-endian word.
fn put_bits(word: &mut [u8; 32], start: usize, len: usize, value: u128) {
    for i in (0..len).filter(|i| value >> i & 1 == 1) {
        let b = start + i;
        word[31 - b / 8] |= 1 << (b % 8);
    }
}

/// Packs decision bits into words (sample `i` is bit `i % 248` of word `i / 248`).
pub fn decision_words(decisions: &[bool], batch_size: usize) -> Vec<Fr> {
    (0..batch_size.div_ceil(DECISION_BITS_PER_WORD))
        .map(|w| {
            let mut bytes = [0u8; 32];
            for (bit, _) in decisions
                .iter()
                .skip(w * DECISION_BITS_PER_WORD)
                .take(DECISION_BITS_PER_WORD)
                .enumerate()
                .filter(|(_, &d)| d)
            {
                put_bits(&mut bytes, bit, 1, 1);
            }
            fr_from_be_bytes(&bytes).expect("248 bits fit the field")
        })
        .collect()
}

/// Packs signed scores of `score_bits` bits, offset-binary, `floor(248 / score_bits)` to a word
/// (sample `i` in slot `i % P` of word `i / P`); `scores` may be shorter than `batch_size`
/// (the rest are 0). Refuses a score outside `[-2^(score_bits-1), 2^(score_bits-1))`.
pub fn score_words(scores: &[i128], batch_size: usize, score_bits: u32) -> Result<Vec<Fr>, LayoutError> {
    InstanceLayout { batch_size, score_bits: Some(score_bits) }.validate()?;
    let bits = score_bits as usize;
    let per = SCORE_WORD_BITS / bits;
    let offset = 1i128 << (score_bits - 1);
    (0..batch_size.div_ceil(per))
        .map(|w| {
            let mut bytes = [0u8; 32];
            for slot in 0..per.min(batch_size - w * per) {
                let sample = w * per + slot;
                let value = scores.get(sample).copied().unwrap_or(0);
                if !(-offset..offset).contains(&value) {
                    return Err(LayoutError::ScoreRange { sample, value, score_bits });
                }
                put_bits(&mut bytes, slot * bits, bits, (value + offset) as u128);
            }
            Ok(fr_from_be_bytes(&bytes).expect("248 bits fit the field"))
        })
        .collect()
}

#[cfg(test)]
mod tests;
