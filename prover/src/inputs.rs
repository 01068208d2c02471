//! The input commitments of a submission, computed natively and exactly as the prover makes them:
//! the rows quantized, split in order into the submission's segments ([`segment_sizes`]: one in
//! direct mode, N in batch mode), each padded to the batch size with zero rows and committed with
//! the salt `salt + i` for segment `i`. A data provider computes these to sign an attestation
//! (`zkguard commit-inputs`) without proving anything; the relayer recomputes them to check a
//! client's attestation before it proves.

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;

use crate::circuit::commit::input_commitment;
use crate::quant::QuantizedModel;

/// Why the input commitments cannot be computed.
#[derive(Debug, thiserror::Error)]
pub enum InputsError {
    /// The rows do not fit the submission's segments.
    #[error("{samples} rows cannot fill {segments} segment(s) of 1..={batch_size} samples")]
    Shape {
        /// Rows given.
        samples: usize,
        /// Segments of the submission.
        segments: usize,
        /// Samples per segment at most.
        batch_size: usize,
    },
    /// A row does not quantize (wrong feature count, out of range, not finite).
    #[error("row {row}: {message}")]
    Row {
        /// Its index.
        row: usize,
        /// What is wrong.
        message: String,
    },
}

/// Splits `samples` into `segments` sizes, in order and as even as possible (the first
/// `samples % segments` take one more). Every size is in 1..=`batch_size` when
/// `segments <= samples <= segments * batch_size`; `None` otherwise.
pub fn segment_sizes(samples: usize, segments: usize, batch_size: usize) -> Option<Vec<usize>> {
    if segments == 0 || samples < segments || samples > segments * batch_size {
        return None;
    }
    let (base, extra) = (samples / segments, samples % segments);
    Some((0..segments).map(|i| base + usize::from(i < extra)).collect())
}

/// The input commitment of every segment of a submission of float `rows`.
pub fn submission_input_commitments(
    model: &QuantizedModel,
    rows: &[Vec<f64>],
    batch_size: usize,
    segments: usize,
    salt: Fr,
) -> Result<Vec<Fr>, InputsError> {
    let quantized = rows
        .iter()
        .enumerate()
        .map(|(row, r)| model.quantize_input(r).map_err(|e| InputsError::Row { row, message: e.to_string() }))
        .collect::<Result<Vec<_>, _>>()?;
    quantized_input_commitments(model, quantized, batch_size, segments, salt)
}

/// [`submission_input_commitments`] of rows already quantized.
pub fn quantized_input_commitments(
    model: &QuantizedModel,
    rows: Vec<Vec<i64>>,
    batch_size: usize,
    segments: usize,
    salt: Fr,
) -> Result<Vec<Fr>, InputsError> {
    let sizes = segment_sizes(rows.len(), segments, batch_size).ok_or(InputsError::Shape {
        samples: rows.len(),
        segments,
        batch_size,
    })?;
    let mut rest = rows.into_iter();
    let mut out = Vec::with_capacity(sizes.len());
    for (i, size) in sizes.into_iter().enumerate() {
        let mut segment: Vec<Vec<i64>> = rest.by_ref().take(size).collect();
        segment.resize(batch_size, vec![0; model.n_features()]);
        out.push(input_commitment(&segment, salt + Fr::from(i as u64), model.fixed.value_bits));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::circuit::AppWitness;
    use crate::demo::{demo_model, demo_rows};

    #[test]
    fn segments_are_even_and_in_range() {
        assert_eq!(segment_sizes(5, 2, 4), Some(vec![3, 2]));
        assert_eq!(segment_sizes(8, 2, 4), Some(vec![4, 4]));
        assert_eq!(segment_sizes(1, 2, 4), None);
        assert_eq!(segment_sizes(9, 2, 4), None);
        assert_eq!(segment_sizes(1, 0, 4), None);
    }

    /// The commitments equal the ones the circuit's witness exposes, in both modes.
    #[test]
    fn equal_the_witness_commitments() {
        let model = demo_model(4);
        let rows = demo_rows(4, 7, 3);
        let salt = Fr::from(99u64);
        let direct = quantized_input_commitments(&model, rows[..3].to_vec(), 4, 1, salt).unwrap();
        let witness = AppWitness::new(model.clone(), rows[..3].to_vec(), 4, salt, Fr::zero()).unwrap();
        assert_eq!(direct, vec![witness.expected_instances().unwrap().input_commitment]);
        let batch = quantized_input_commitments(&model, rows.clone(), 4, 2, salt).unwrap();
        let second = AppWitness::new(model.clone(), rows[4..].to_vec(), 4, salt + Fr::one(), Fr::zero()).unwrap();
        assert_eq!(batch[1], second.expected_instances().unwrap().input_commitment);
        assert_ne!(batch[0], direct[0]);
        let err = quantized_input_commitments(&model, rows, 4, 1, salt).unwrap_err().to_string();
        assert!(err.contains("7 rows cannot fill 1 segment(s) of 1..=4"), "{err}");
    }
}
