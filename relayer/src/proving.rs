//! The proofs a prover makes (blocking; the pool in [`crate::worker`] runs them on tokio's
//! blocking pool): a direct-mode batch's one EVM-transcript app proof; in batch mode, one
//! segment's Poseidon-transcript app proof (the batch's rows split in order into N segments,
//! segment `i` salted `salt + i`, all bound to the batch's one context, as the prover's batch mode
//! does), and the aggregation of the N stored segment proofs into the batch's proof. Every row is
//! screened through the model's integer reference inference first ([`screen`]) so that one
//! client's row never fails its neighbours; a failure is typed ([`ProveFailure`]): one sample's
//! (only its job is refused) or the batch's (holding no client's input).

use alloy::primitives::Address;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use zkguard_prover::aggregate::{aggregate, app_snark, AggregateError};
use zkguard_prover::artifact::{fr_from_hex, fr_to_hex};
use zkguard_prover::circuit::instances::AppInstances;
use zkguard_prover::circuit::{AppWitness, CircuitError};
use zkguard_prover::evm::SubmissionContext;
use zkguard_prover::prove::{prove, verify, AppProof, ProveError, Transcript};
use zkguard_prover::quant::QuantError;

use crate::model::{segment_sizes, Aggregation, ServedModel};
use crate::store::{BatchRecord, BatchUpdate, JobRecord, RefusedJob, SegmentProof};

/// Why proving failed: because of one sample (then only its job is refused), or not.
#[derive(Debug, thiserror::Error)]
pub enum ProveFailure {
    /// Sample `index` of the batch (in batch order) cannot be proved.
    #[error("sample {index}: {source}")]
    Sample {
        /// Index in the batch.
        index: usize,
        /// Why (about that sample's own input).
        #[source]
        source: QuantError,
    },
    /// Anything else (keys, memory, the prover); holds no client's input.
    #[error(transparent)]
    Batch(#[from] BatchFailure),
}

/// Which proof of a batch a failure is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The batch's one proof (direct mode).
    Whole,
    /// Segment `i` (batch mode).
    Segment(usize),
    /// The aggregation (batch mode).
    Aggregation,
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Part::Whole => f.write_str("the batch"),
            Part::Segment(i) => write!(f, "segment {i}"),
            Part::Aggregation => f.write_str("the aggregation"),
        }
    }
}

/// A batch-wide proving failure (no client's input in it).
#[derive(Debug, thiserror::Error)]
pub enum BatchFailure {
    /// The stored salt does not parse.
    #[error("stored salt is not a field element")]
    Salt,
    /// A stored subject does not parse.
    #[error("stored subject {0:?} is not an address")]
    Subject(String),
    /// The batch's samples do not split into the model's N segments.
    #[error("{samples} samples cannot fill {proofs} segments of 1..={batch_size} samples")]
    Split {
        /// Samples of the batch.
        samples: usize,
        /// N.
        proofs: usize,
        /// B.
        batch_size: usize,
    },
    /// A segment or an aggregation of a model served in direct mode.
    #[error("model {0} is served in direct mode: it has no segments to prove or aggregate")]
    DirectMode(String),
    /// The batch was created for another number of segments than the model's N.
    #[error("the batch has {stored} segments, the model aggregates {proofs}")]
    SegmentCount {
        /// Segments stored with the batch.
        stored: usize,
        /// The model's N.
        proofs: usize,
    },
    /// The witness does not fit the circuit.
    #[error("{part}: {source}")]
    Circuit {
        /// Which proof.
        part: Part,
        /// The circuit's error.
        #[source]
        source: CircuitError,
    },
    /// The prover failed.
    #[error("{part}: {source}")]
    Prove {
        /// Which proof.
        part: Part,
        /// The prover's error.
        #[source]
        source: ProveError,
    },
    /// A proof's instances do not decode with the model's layout.
    #[error("{part}: the proof's instances do not decode")]
    Decode {
        /// Which proof.
        part: Part,
    },
    /// A proof counts another number of samples than it was given.
    #[error("{part}: the proof counts {proved} samples, it was given {given}")]
    SampleCount {
        /// Which proof.
        part: Part,
        /// Counted by the proof.
        proved: usize,
        /// Given.
        given: usize,
    },
    /// A stored segment is missing its proof.
    #[error("segment {0}: no stored proof")]
    MissingSegment(usize),
    /// A stored segment proof's hex does not decode.
    #[error("segment {segment}: stored proof: {source}")]
    StoredHex {
        /// The segment.
        segment: usize,
        /// The decoding error.
        #[source]
        source: hex::FromHexError,
    },
    /// A stored segment instance is not a field element.
    #[error("segment {0}: a stored instance is not a field element")]
    StoredInstance(usize),
    /// A stored segment proof does not verify against the model's key, or is bound to another
    /// context than the batch's.
    #[error("segment {0}: the stored proof does not verify for this batch")]
    SegmentRejected(usize),
    /// This process did not load the model's aggregation keys (its role or memory budget rules
    /// aggregation out), yet was asked to aggregate.
    #[error("model {0}: this process did not load the aggregation keys (role or memory budget)")]
    NoAggregationKeys(String),
    /// snark-verifier refused a segment or the aggregation.
    #[error("{part}: {source}")]
    Aggregate {
        /// Which proof.
        part: Part,
        /// Its error.
        #[source]
        source: AggregateError,
    },
}

/// Maps a circuit error to a failure, locating a sample error at `offset + index` of the batch.
pub(crate) fn circuit_failure(e: CircuitError, offset: usize, part: Part) -> ProveFailure {
    match e {
        CircuitError::Sample { index, source } => ProveFailure::Sample { index: offset + index, source },
        source => BatchFailure::Circuit { part, source }.into(),
    }
}

/// Runs every row of `jobs` through the model's checks and integer reference inference (what the
/// circuit computes); the jobs with a row that cannot be proved, each with its own reason.
pub fn screen(model: &zkguard_prover::quant::QuantizedModel, jobs: &[JobRecord]) -> Vec<RefusedJob> {
    jobs.iter()
        .filter_map(|job| {
            job.rows
                .iter()
                .enumerate()
                .find_map(|(i, row)| crate::intake::validate::check_row(model, i, row).err())
                .map(|e| RefusedJob {
                    job_id: job.id.clone(),
                    reason: format!("refused before proving ({}): {}", e.code, e.message),
                })
        })
        .collect()
}

/// The job holding sample `index` of a batch whose jobs are `jobs` (in sample order).
pub fn job_of_sample(jobs: &[JobRecord], index: usize) -> Option<&JobRecord> {
    let mut start = 0;
    for job in jobs {
        if index < start + job.rows.len() {
            return Some(job);
        }
        start += job.rows.len();
    }
    None
}

/// The Guard context a batch's proof is bound to.
pub fn batch_context(
    chain_id: u64,
    guard: Address,
    model: &ServedModel,
    batch: &BatchRecord,
) -> Result<SubmissionContext, BatchFailure> {
    let subjects = batch
        .subjects
        .iter()
        .map(|s| s.parse::<Address>().map_err(|_| BatchFailure::Subject(s.clone())))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SubmissionContext {
        chain_id,
        guard,
        model_id: model.id_u256,
        nonce: batch.nonce,
        issued_at: batch.issued_at,
        subjects,
    })
}

/// The batch's rows, quantized, in sample order (a row that does not quantize is its sample's
/// failure).
fn quantized_rows(model: &ServedModel, jobs: &[JobRecord]) -> Result<Vec<Vec<i64>>, ProveFailure> {
    let mut rows = vec![];
    for row in jobs.iter().flat_map(|j| j.rows.iter()) {
        let index = rows.len();
        rows.push(model.model.quantize_input(row).map_err(|source| ProveFailure::Sample { index, source })?);
    }
    Ok(rows)
}

/// The model's batch mode (a segment or an aggregation of a direct-mode model is a failure).
fn batch_mode(model: &ServedModel) -> Result<&Aggregation, BatchFailure> {
    model.aggregation.as_ref().ok_or_else(|| BatchFailure::DirectMode(model.id.clone()))
}

fn salt_of(batch: &BatchRecord) -> Result<Fr, BatchFailure> {
    fr_from_hex(&batch.salt).ok_or(BatchFailure::Salt)
}

/// Proves a batch whole (blocking): direct mode's one app proof; in batch mode (a batch stored
/// before segment jobs existed) its N segments and their aggregation in one go. Returns the
/// store update of a proved batch.
pub fn prove_batch(
    model: &ServedModel,
    batch: &BatchRecord,
    jobs: &[JobRecord],
    ctx: &SubmissionContext,
) -> Result<BatchUpdate, ProveFailure> {
    match &model.aggregation {
        None => prove_direct(model, quantized_rows(model, jobs)?, salt_of(batch)?, ctx),
        Some(aggregation) => {
            let segments = (0..aggregation.shape.proofs)
                .map(|i| prove_segment(model, batch, jobs, ctx, i))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(aggregate_segments(model, &segments, ctx)?)
        }
    }
}

fn prove_direct(
    model: &ServedModel,
    rows: Vec<Vec<i64>>,
    salt: Fr,
    ctx: &SubmissionContext,
) -> Result<BatchUpdate, ProveFailure> {
    let part = Part::Whole;
    let witness = AppWitness::new(model.model.clone(), rows, model.batch_size, salt, ctx.context())
        .map_err(|e| circuit_failure(e, 0, part))?
        .with_scores(model.keys.config.shape.has_scores);
    crate::crash::point(crate::crash::PROVING);
    let proof = prove(&model.params, &model.keys, &witness, Transcript::Evm)
        .map_err(|source| BatchFailure::Prove { part, source })?;
    let decoded = model.decode(&proof.instances).ok_or(BatchFailure::Decode { part })?;
    let n = decoded.sample_count;
    Ok(BatchUpdate {
        instances: Some(proof.instances.iter().map(fr_to_hex).collect()),
        proof: Some(format!("0x{}", hex::encode(&proof.proof))),
        decisions: Some(decoded.decisions[..n].to_vec()),
        scores: Some(decoded.scores.iter().take(n).map(|s| s.to_string()).collect()),
        ..BatchUpdate::default()
    })
}

/// Batch mode, segment `index` (blocking): the rows split in order into N segments
/// ([`segment_sizes`]); this segment's app proof (Poseidon transcript, salted `salt + index`,
/// bound to the batch's context) with the decisions and scores of its real samples.
pub fn prove_segment(
    model: &ServedModel,
    batch: &BatchRecord,
    jobs: &[JobRecord],
    ctx: &SubmissionContext,
    index: usize,
) -> Result<SegmentProof, ProveFailure> {
    let started = std::time::Instant::now();
    let part = Part::Segment(index);
    let aggregation = batch_mode(model)?;
    let rows = quantized_rows(model, jobs)?;
    let salt = salt_of(batch)?;
    let (samples, proofs, batch_size) = (rows.len(), aggregation.shape.proofs, model.batch_size);
    let sizes =
        segment_sizes(samples, proofs, batch_size).ok_or(BatchFailure::Split { samples, proofs, batch_size })?;
    let Some(&size) = sizes.get(index) else {
        return Err(BatchFailure::SegmentCount { stored: index + 1, proofs }.into());
    };
    let offset: usize = sizes[..index].iter().sum();
    let segment: Vec<Vec<i64>> = rows.into_iter().skip(offset).take(size).collect();
    let witness =
        AppWitness::new(model.model.clone(), segment, model.batch_size, salt + Fr::from(index as u64), ctx.context())
            .map_err(|e| circuit_failure(e, offset, part))?
            .with_scores(model.keys.config.shape.has_scores);
    crate::crash::point(crate::crash::PROVING_SEGMENT);
    let proof = prove(&model.params, &model.keys, &witness, Transcript::Poseidon)
        .map_err(|source| BatchFailure::Prove { part, source })?;
    let decoded = model.decode(&proof.instances).ok_or(BatchFailure::Decode { part })?;
    let n = decoded.sample_count;
    if n != size {
        return Err(BatchFailure::SampleCount { part, proved: n, given: size }.into());
    }
    Ok(SegmentProof {
        instances: proof.instances.iter().map(fr_to_hex).collect(),
        proof: format!("0x{}", hex::encode(&proof.proof)),
        decisions: decoded.decisions[..n].to_vec(),
        scores: decoded.scores.iter().take(n).map(|s| s.to_string()).collect(),
        prove_ms: started.elapsed().as_millis() as i64,
    })
}

/// Batch mode's aggregation (blocking): the N stored segment proofs, each checked against the
/// model's key and the batch's context, aggregated into one proof whose instances are the
/// accumulator limbs followed by the N segments' instances. Decisions and scores are the
/// segments' in order, i.e. the batch's samples in order.
pub fn aggregate_segments(
    model: &ServedModel,
    segments: &[SegmentProof],
    ctx: &SubmissionContext,
) -> Result<BatchUpdate, BatchFailure> {
    let aggregation = batch_mode(model)?;
    if segments.len() != aggregation.shape.proofs {
        return Err(BatchFailure::SegmentCount { stored: segments.len(), proofs: aggregation.shape.proofs });
    }
    let (mut snarks, mut decisions, mut scores) = (vec![], vec![], vec![]);
    for (i, s) in segments.iter().enumerate() {
        let (proof, verified) = checked_segment(model, s, i, ctx)?;
        // What the batch reports comes from the verified instances, not the stored copies.
        let n = verified.sample_count;
        decisions.extend_from_slice(&verified.decisions[..n]);
        scores.extend(verified.scores.iter().take(n).map(|s| s.to_string()));
        snarks.push(
            app_snark(&model.params, &model.keys, &proof, i)
                .map_err(|source| BatchFailure::Aggregate { part: Part::Segment(i), source })?,
        );
    }
    crate::crash::point(crate::crash::PROVING);
    let prover = aggregation.prover.as_ref().ok_or_else(|| BatchFailure::NoAggregationKeys(model.id.clone()))?;
    let proof = aggregate(&prover.params, &prover.keys, snarks)
        .map_err(|source| BatchFailure::Aggregate { part: Part::Aggregation, source })?;
    Ok(BatchUpdate {
        instances: Some(proof.instances.iter().map(fr_to_hex).collect()),
        proof: Some(format!("0x{}", hex::encode(&proof.proof))),
        decisions: Some(decisions),
        scores: Some(scores),
        ..BatchUpdate::default()
    })
}

/// Stored segment `i`, checked before it is aggregated: its instances and proof decode, it is
/// bound to the batch's context and the model's commitment, and the model's key verifies it
/// (a row changed in the store, or a segment of another batch, is refused here rather than
/// aggregated). Returns the proof and its verified instances, decoded.
fn checked_segment(
    model: &ServedModel,
    s: &SegmentProof,
    i: usize,
    ctx: &SubmissionContext,
) -> Result<(AppProof, AppInstances), BatchFailure> {
    let instances = s
        .instances
        .iter()
        .map(|h| fr_from_hex(h).ok_or(BatchFailure::StoredInstance(i)))
        .collect::<Result<Vec<_>, _>>()?;
    let bytes = hex::decode(s.proof.trim_start_matches("0x"))
        .map_err(|source| BatchFailure::StoredHex { segment: i, source })?;
    let decoded = model.decode(&instances).ok_or(BatchFailure::Decode { part: Part::Segment(i) })?;
    let bound = decoded.context == ctx.context() && decoded.model_commitment == model.commitment;
    if !bound || !verify(&model.params, model.keys.vk(), &instances, &bytes, Transcript::Poseidon) {
        return Err(BatchFailure::SegmentRejected(i));
    }
    Ok((AppProof { instances, proof: bytes, transcript: Transcript::Poseidon }, decoded))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::validate::tests::{data_rows, logistic, poisoned_row};
    use crate::store::JobState;

    fn job(id: &str, rows: Vec<Vec<f64>>) -> JobRecord {
        JobRecord {
            id: id.into(),
            model_id: "1".into(),
            state: JobState::Proving,
            rows,
            salt: None,
            subjects: vec![],
            batch_id: Some(1),
            offset: None,
            created_ms: 0,
            updated_ms: 0,
            error: None,
        }
    }

    /// The demo model served in direct mode (B = 4, one advice column), its keys from the
    /// workspace's test cache (generated there on first use).
    fn served_demo() -> ServedModel {
        use zkguard_prover::keys::{load_params, AppKeys, SrsSource};
        let model = zkguard_prover::demo::demo_model(4);
        let cache = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/zkguard-test-cache");
        let srs = SrsSource::InsecureDev;
        let config = AppKeys::choose_config(&zkguard_prover::circuit::AppShape::new(model.shape(), 4), 1).unwrap();
        let params = load_params(&srs, config.k(), &cache).unwrap();
        let keys = AppKeys::load_or_generate(config, &params, &srs, &cache).unwrap();
        let commitment = zkguard_prover::circuit::commit::model_commitment(&model.shape(), &model.params());
        ServedModel {
            id: "1".into(),
            id_u256: alloy::primitives::U256::from(1),
            model,
            batch_size: 4,
            keys,
            params,
            aggregation: None,
            commitment,
            attestation: None,
            input_policy: std::sync::OnceLock::new(),
        }
    }

    /// A real Poseidon-transcript segment proof of three demo rows bound to `ctx`, as stored.
    fn stored_segment(model: &ServedModel, ctx: &SubmissionContext) -> SegmentProof {
        let rows = zkguard_prover::demo::demo_rows(4, 3, 0);
        let witness = AppWitness::new(model.model.clone(), rows, 4, Fr::from(5u64), ctx.context()).unwrap();
        let proof = prove(&model.params, &model.keys, &witness, Transcript::Poseidon).unwrap();
        let decoded = model.decode(&proof.instances).unwrap();
        SegmentProof {
            instances: proof.instances.iter().map(fr_to_hex).collect(),
            proof: format!("0x{}", hex::encode(&proof.proof)),
            decisions: decoded.decisions[..3].to_vec(),
            scores: decoded.scores.iter().take(3).map(|s| s.to_string()).collect(),
            prove_ms: 0,
        }
    }

    /// A stored segment is verified before aggregation: a changed proof byte, another batch's
    /// context, another model's commitment, undecodable hex or instances are refused, each
    /// naming the segment; decisions changed in the store are not believed (the verified
    /// instances' are used).
    #[test]
    fn a_tampered_stored_segment_is_refused_before_aggregation() {
        let model = served_demo();
        let ctx = zkguard_prover::demo::demo_context(3);
        let good = stored_segment(&model, &ctx);
        let (_, verified) = checked_segment(&model, &good, 0, &ctx).unwrap();
        assert_eq!(verified.sample_count, 3);

        let mut flipped = good.clone();
        let mut bytes = hex::decode(&flipped.proof[2..]).unwrap();
        bytes[100] ^= 1;
        flipped.proof = format!("0x{}", hex::encode(bytes));
        assert!(matches!(checked_segment(&model, &flipped, 2, &ctx), Err(BatchFailure::SegmentRejected(2))));

        let other_batch = SubmissionContext { nonce: ctx.nonce + 1, ..ctx.clone() };
        assert!(matches!(checked_segment(&model, &good, 1, &other_batch), Err(BatchFailure::SegmentRejected(1))));

        let other_model = ServedModel { commitment: model.commitment + Fr::one(), ..served_demo() };
        assert!(matches!(checked_segment(&other_model, &good, 0, &ctx), Err(BatchFailure::SegmentRejected(0))));

        let bad_hex = SegmentProof { proof: "0xzz".into(), ..good.clone() };
        assert!(matches!(checked_segment(&model, &bad_hex, 3, &ctx), Err(BatchFailure::StoredHex { segment: 3, .. })));
        let mut bad_instance = good.clone();
        bad_instance.instances[1] = "0xnot-a-field-element".into();
        assert!(matches!(checked_segment(&model, &bad_instance, 4, &ctx), Err(BatchFailure::StoredInstance(4))));
        let mut short = good.clone();
        short.instances.pop();
        assert!(matches!(
            checked_segment(&model, &short, 5, &ctx),
            Err(BatchFailure::Decode { part: Part::Segment(5) })
        ));

        let mut lying = good.clone();
        lying.decisions = lying.decisions.iter().map(|d| !d).collect();
        let (_, verified) = checked_segment(&model, &lying, 0, &ctx).unwrap();
        assert_eq!(verified.decisions[..3], good.decisions[..]);
    }

    /// A process that did not load the aggregation keys refuses to aggregate, after checking
    /// the segments, with a typed failure naming the model (the pool never claims such work).
    #[test]
    fn aggregating_without_the_aggregation_keys_is_a_typed_failure() {
        let direct = served_demo();
        let ctx = zkguard_prover::demo::demo_context(3);
        let segment = stored_segment(&direct, &ctx);
        let shape = zkguard_prover::aggregate::AggregationShape::new(
            &direct.keys.digest,
            direct.keys.config.shape.layout().len(),
            1,
            20,
        );
        let model = ServedModel { aggregation: Some(Aggregation { shape, prover: None }), ..served_demo() };
        let err = aggregate_segments(&model, &[segment], &ctx).unwrap_err();
        assert!(matches!(err, BatchFailure::NoAggregationKeys(ref id) if id == "1"), "{err:?}");
    }

    #[test]
    fn screening_refuses_only_the_job_with_the_unprovable_row() {
        let model = logistic();
        let (poison, feature) = poisoned_row(&model);
        let good = data_rows(&model, 3);
        let jobs = vec![
            job("a", vec![good[0].clone()]),
            job("b", vec![good[1].clone(), poison]),
            job("c", vec![good[2].clone()]),
        ];
        let refused = screen(&model, &jobs);
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].job_id, "b");
        assert!(refused[0].reason.contains("value_overflow") && refused[0].reason.contains(&feature));
        assert!(refused[0].reason.contains("rows[1]"), "{}", refused[0].reason);
        assert!(screen(&model, &[jobs[0].clone(), jobs[2].clone()]).is_empty());
    }

    #[test]
    fn a_sample_index_maps_to_the_job_holding_it() {
        let jobs = vec![job("a", vec![vec![]; 2]), job("b", vec![vec![]; 1]), job("c", vec![vec![]; 3])];
        let at = |i| job_of_sample(&jobs, i).map(|j| j.id.as_str());
        assert_eq!(
            [at(0), at(1), at(2), at(3), at(5), at(6)],
            [Some("a"), Some("a"), Some("b"), Some("c"), Some("c"), None]
        );
    }

    #[test]
    fn a_circuit_sample_error_is_located_in_the_batch_and_others_keep_their_source() {
        let source = QuantError::FeatureCount { expected: 1, found: 2 };
        let e = CircuitError::Sample { index: 1, source };
        assert!(matches!(circuit_failure(e, 4, Part::Segment(1)), ProveFailure::Sample { index: 5, .. }));
        let e = CircuitError::BatchSize { rows: 9, batch_size: 4 };
        let failure = circuit_failure(e, 0, Part::Segment(1));
        assert!(failure.to_string().starts_with("segment 1: a batch needs 1..=4 rows"), "{failure}");
        let source = std::error::Error::source(&failure).expect("the circuit error is kept as the source");
        assert!(source.downcast_ref::<CircuitError>().is_some(), "{source:?}");
    }

    #[test]
    fn a_stored_subject_that_is_not_an_address_is_named() {
        let e = BatchFailure::Subject("0xnope".into());
        assert_eq!(e.to_string(), "stored subject \"0xnope\" is not an address");
    }
}
