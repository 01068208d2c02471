//! The public-instance layout of every app proof: the one definition that the prover, the
//! calldata encoder, the relayer and the Solidity decoder's drift test share.
//!
//! | index | field | meaning |
//! |---|---|---|
//! | 0 | `model_commitment` | Poseidon of the quantized model ([`super::commit`]) |
//! | 1 | `input_commitment` | Poseidon of the batch's inputs and a salt |
//! | 2 | `context` | binds the proof to its use (chain, guard, model id, nonce, time, subjects) |
//! | 3 | `sample_count` | real samples in the batch, `1..=batch_size` |
//! | 4 .. 4+W | decision words | sample `i` is bit `i % 248` of word `i / 248`; bits past `sample_count` are 0 |
//! | 4+W .. | scores | one per sample, signed, scale `2^scale_bits`; 0 past `sample_count` |
//!
//! `W = ceil(batch_size / 248)`. Signed values use the field encoding of [`super::field`].
//! In batch mode the aggregation proof's instances are 12 accumulator limbs followed by each app
//! proof's instances in this layout, back to back, in the order the proofs were aggregated.

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use serde::{Deserialize, Serialize};

use super::field::fr_to_i128;

/// Decision bits per packed word.
pub const DECISION_BITS_PER_WORD: usize = 248;
/// Header fields before the decision words.
pub const HEADER_LEN: usize = 4;
/// Index of the model commitment.
pub const MODEL_COMMITMENT_INDEX: usize = 0;
/// Index of the input commitment.
pub const INPUT_COMMITMENT_INDEX: usize = 1;
/// Index of the context.
pub const CONTEXT_INDEX: usize = 2;
/// Index of the sample count.
pub const SAMPLE_COUNT_INDEX: usize = 3;
/// Accumulator limbs in front of the app instances of an aggregation proof.
pub const ACCUMULATOR_LIMBS: usize = 12;

/// The shape of the layout for one circuit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InstanceLayout {
    /// Samples per proof.
    pub batch_size: usize,
    /// Whether per-sample scores follow the decision words.
    pub has_scores: bool,
}

impl InstanceLayout {
    /// Number of decision words.
    pub fn decision_words(&self) -> usize {
        self.batch_size.div_ceil(DECISION_BITS_PER_WORD)
    }

    /// Total instances of one app proof.
    pub fn len(&self) -> usize {
        HEADER_LEN + self.decision_words() + if self.has_scores { self.batch_size } else { 0 }
    }

    /// Never empty (the header is always there); here for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        false
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

/// Why a flat instance vector does not decode.
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
}

impl AppInstances {
    /// The flat instance vector, in layout order.
    pub fn to_vec(&self) -> Vec<Fr> {
        let mut out =
            vec![self.model_commitment, self.input_commitment, self.context, Fr::from(self.sample_count as u64)];
        out.extend(decision_words(&self.decisions, self.layout.batch_size));
        out.extend(self.scores.iter().map(|&s| super::field::fr_from_i128(s)));
        out
    }

    /// Decodes a flat instance vector.
    pub fn from_slice(layout: InstanceLayout, values: &[Fr]) -> Result<Self, LayoutError> {
        if values.len() != layout.len() {
            return Err(LayoutError::Length {
                expected: layout.len(),
                found: values.len(),
                batch_size: layout.batch_size,
            });
        }
        let count = fr_to_i128(&values[SAMPLE_COUNT_INDEX])
            .filter(|&c| c >= 1 && c as usize <= layout.batch_size)
            .ok_or(LayoutError::Field { index: SAMPLE_COUNT_INDEX, field: "sample_count" })?
            as usize;
        let mut decisions = Vec::with_capacity(layout.batch_size);
        for w in 0..layout.decision_words() {
            let index = HEADER_LEN + w;
            let bytes = super::field::fr_to_be_bytes(&values[index]);
            if bytes[0] != 0 {
                return Err(LayoutError::Field { index, field: "decision word" });
            }
            for bit in 0..DECISION_BITS_PER_WORD.min(layout.batch_size - w * DECISION_BITS_PER_WORD) {
                decisions.push(bytes[31 - bit / 8] >> (bit % 8) & 1 == 1);
            }
        }
        let score_start = HEADER_LEN + layout.decision_words();
        let scores = values[score_start..]
            .iter()
            .enumerate()
            .map(|(i, v)| fr_to_i128(v).ok_or(LayoutError::Field { index: score_start + i, field: "score" }))
            .collect::<Result<_, _>>()?;
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
                bytes[31 - bit / 8] |= 1 << (bit % 8);
            }
            super::field::fr_from_be_bytes(&bytes).expect("248 bits fit the field")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_round_trips() {
        for batch_size in [1usize, 16, 64, 248, 249, 300] {
            let layout = InstanceLayout { batch_size, has_scores: true };
            let decisions: Vec<bool> = (0..batch_size).map(|i| i % 3 == 0 && i < batch_size - batch_size / 4).collect();
            let count = batch_size - batch_size / 4;
            let scores: Vec<i128> = (0..batch_size).map(|i| if i < count { i as i128 * 37 - 500 } else { 0 }).collect();
            let app = AppInstances {
                layout,
                model_commitment: Fr::from(11u64),
                input_commitment: Fr::from(22u64),
                context: Fr::from(33u64),
                sample_count: count.max(1),
                decisions,
                scores,
            };
            let flat = app.to_vec();
            assert_eq!(flat.len(), layout.len());
            assert_eq!(AppInstances::from_slice(layout, &flat).unwrap(), app);
        }
    }

    #[test]
    fn decode_refuses_wrong_lengths_and_counts() {
        let layout = InstanceLayout { batch_size: 4, has_scores: false };
        assert!(matches!(AppInstances::from_slice(layout, &[Fr::zero(); 4]), Err(LayoutError::Length { .. })));
        let mut flat = vec![Fr::zero(); layout.len()];
        assert!(matches!(AppInstances::from_slice(layout, &flat), Err(LayoutError::Field { index: 3, .. })));
        flat[SAMPLE_COUNT_INDEX] = Fr::from(5u64);
        assert!(matches!(AppInstances::from_slice(layout, &flat), Err(LayoutError::Field { index: 3, .. })));
        flat[SAMPLE_COUNT_INDEX] = Fr::from(4u64);
        assert!(AppInstances::from_slice(layout, &flat).is_ok());
    }

    #[test]
    fn decision_bit_order_is_lsb_first() {
        let words = decision_words(&[true, false, true], 3);
        assert_eq!(words, vec![Fr::from(0b101u64)]);
    }
}
