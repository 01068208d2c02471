//! JSON fixtures for the forge tests (`contracts/fixtures/<name>.json`, read by
//! `contracts/test/FixtureE2E.t.sol`): a real generated verifier's bytecode, a real proof and its
//! instances, the context it is bound to, and the outputs the Guard must decode.
//!
//! Format (keys in camelCase; the forge test reads them one by one, so extra keys are fine):
//!
//! | key | type | meaning |
//! |---|---|---|
//! | `verifierBytecode` | `0x` hex | creation code of the generated verifier |
//! | `circuitDigest` | `0x` bytes32 | digest of the verified circuit (app circuit in direct mode, aggregation circuit in batch mode) |
//! | `appCircuitDigest` | `0x` bytes32 | digest of the app circuit |
//! | `batchSize`, `scoreBits`, `scoreScaleBits` | number, number, number | the app layout (`scoreBits` 0: no scores) |
//! | `proofCount`, `accumulatorLimbs` | number | 1 and 0 direct; N and 12 batch |
//! | `modelId`, `modelCommitment` | number, `0x` uint256 | the registry entry |
//! | `chainId`, `guard`, `nonce`, `issuedAt`, `subjects` | number, address, number, number, address[] | what the context binds |
//! | `context` | `0x` uint256 | the context instance |
//! | `instances` | `0x` uint256[] | all public instances, accumulator limbs first |
//! | `proof` | `0x` hex | the proof |
//! | `flaggedCount`, `sampleCount` | number | the decoded totals over all segments |
//! | `decisions`, `scores` | bool[], decimal string[] | per real sample, in submission order |
//! | `gas` | object | revm figures: `txGas`, `calldataGas`, `calldataBytes`, `runtimeSize`, `deployGas` |
//! | `aggregationK` | number | batch mode only: degree of the aggregation circuit |
//!
//! Big numbers are `0x` strings (forge's `parseJsonUint` reads them; JSON numbers above 2^53 are
//! not safe in every reader).

use std::path::{Path, PathBuf};

use alloy_primitives::Address;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use serde::{Deserialize, Serialize};

use crate::circuit::instances::ACCUMULATOR_LIMBS;
use crate::circuit::{AppInstances, InstanceLayout};
use crate::evm::codegen::GeneratedVerifier;
use crate::evm::context::{fr_to_u256, SubmissionContext};
use crate::evm::exec::GasReport;

/// Why a fixture could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// The segments do not match the instances or each other.
    #[error("inconsistent fixture: {0}")]
    Inconsistent(String),
    /// I/O.
    #[error("fixture {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// JSON.
    #[error("fixture {path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: serde_json::Error,
    },
}

/// A fixture, as written to JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fixture {
    /// What this fixture is.
    pub description: String,
    /// The command that wrote it.
    pub generated_by: String,
    /// KZG parameters' identity.
    pub srs: String,
    /// Whether those are the insecure development setup (then anyone can forge proofs).
    pub insecure_srs: bool,
    /// Creation code of the generated verifier.
    pub verifier_bytecode: String,
    /// Runtime size of the generated verifier.
    pub verifier_runtime_size: usize,
    /// Digest of the circuit the verifier checks.
    pub circuit_digest: String,
    /// Digest of the app circuit.
    pub app_circuit_digest: String,
    /// Samples per app proof.
    pub batch_size: usize,
    /// Width of the packed scores after the decision words (0: no scores).
    pub score_bits: u32,
    /// Fractional bits of the scores.
    pub score_scale_bits: u32,
    /// App proofs covered.
    pub proof_count: usize,
    /// Accumulator limbs in front.
    pub accumulator_limbs: usize,
    /// Registry model id.
    pub model_id: u64,
    /// The model commitment.
    pub model_commitment: String,
    /// Chain id of the context.
    pub chain_id: u64,
    /// Guard of the context.
    pub guard: Address,
    /// Nonce of the context.
    pub nonce: u64,
    /// Issue time of the context.
    pub issued_at: u64,
    /// Subjects of the context.
    pub subjects: Vec<Address>,
    /// The context instance.
    pub context: String,
    /// All public instances.
    pub instances: Vec<String>,
    /// The proof.
    pub proof: String,
    /// Decoded flagged total.
    pub flagged_count: usize,
    /// Decoded sample total.
    pub sample_count: usize,
    /// Per real sample decisions, in submission order.
    pub decisions: Vec<bool>,
    /// Per real sample scores (decimal), in submission order; empty without scores.
    pub scores: Vec<String>,
    /// revm gas figures.
    pub gas: GasReport,
    /// Degree of the aggregation circuit (batch mode only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation_k: Option<u32>,
}

/// Everything a fixture is made from.
#[derive(Debug)]
pub struct FixtureInput<'a> {
    /// What it is.
    pub description: String,
    /// The command that wrote it.
    pub generated_by: String,
    /// SRS identity.
    pub srs: String,
    /// Insecure SRS.
    pub insecure_srs: bool,
    /// The verifier.
    pub verifier: &'a GeneratedVerifier,
    /// App circuit digest (hex, no 0x).
    pub app_circuit_digest: &'a str,
    /// App layout.
    pub layout: InstanceLayout,
    /// Fractional bits of scores.
    pub score_scale_bits: u32,
    /// The context every segment carries.
    pub ctx: &'a SubmissionContext,
    /// All public instances (limbs first in batch mode).
    pub instances: &'a [Fr],
    /// The proof.
    pub proof: &'a [u8],
    /// The decoded app segments, in order.
    pub segments: &'a [AppInstances],
    /// revm gas.
    pub gas: GasReport,
}

/// `0x` + 64 hex digits of a field element.
pub fn fr_hex(x: &Fr) -> String {
    format!("{:#066x}", fr_to_u256(x))
}

/// `0x` + 64 hex digits of a hex digest (with or without `0x`).
fn digest_hex(digest: &str) -> String {
    format!("0x{}", digest.trim_start_matches("0x"))
}

impl Fixture {
    /// Builds a fixture, checking that the segments are the instances' app part and that every
    /// segment carries one model commitment and the context of `ctx`.
    pub fn new(input: FixtureInput<'_>) -> Result<Self, FixtureError> {
        let segments = input.segments;
        let first = segments.first().ok_or_else(|| FixtureError::Inconsistent("no segments".into()))?;
        let limbs = input.verifier.spec.accumulator_limbs;
        if (limbs != 0 && limbs != ACCUMULATOR_LIMBS) || (segments.len() > 1 && limbs == 0) {
            return Err(FixtureError::Inconsistent(format!(
                "a verifier with {limbs} accumulator limbs cannot check {} segments",
                segments.len()
            )));
        }
        let flat: Vec<Fr> = segments.iter().flat_map(|s| s.to_vec()).collect();
        if input.instances.len() != limbs + flat.len() || input.instances[limbs..] != flat[..] {
            return Err(FixtureError::Inconsistent("the instances are not the limbs followed by the segments".into()));
        }
        let context = input.ctx.context();
        for (i, s) in segments.iter().enumerate() {
            if s.layout != input.layout || s.model_commitment != first.model_commitment || s.context != context {
                return Err(FixtureError::Inconsistent(format!(
                    "segment {i} has another layout, model commitment or context"
                )));
            }
        }
        let model_id = u64::try_from(input.ctx.model_id)
            .map_err(|_| FixtureError::Inconsistent("model ids above 2^64 are not supported in fixtures".into()))?;
        let mut decisions = vec![];
        let mut scores = vec![];
        for s in segments {
            decisions.extend_from_slice(&s.decisions[..s.sample_count]);
            if input.layout.has_scores() {
                scores.extend(s.scores[..s.sample_count].iter().map(|v| v.to_string()));
            }
        }
        Ok(Self {
            description: input.description,
            generated_by: input.generated_by,
            srs: input.srs,
            insecure_srs: input.insecure_srs,
            verifier_bytecode: format!("0x{}", hex::encode(&input.verifier.compiled.creation)),
            verifier_runtime_size: input.verifier.compiled.runtime.len(),
            circuit_digest: digest_hex(&input.verifier.spec.circuit_digest),
            app_circuit_digest: digest_hex(input.app_circuit_digest),
            batch_size: input.layout.batch_size,
            score_bits: input.layout.score_bits.unwrap_or(0),
            score_scale_bits: input.score_scale_bits,
            proof_count: segments.len(),
            accumulator_limbs: limbs,
            model_id,
            model_commitment: fr_hex(&first.model_commitment),
            chain_id: input.ctx.chain_id,
            guard: input.ctx.guard,
            nonce: input.ctx.nonce,
            issued_at: input.ctx.issued_at,
            subjects: input.ctx.subjects.clone(),
            context: fr_hex(&context),
            instances: input.instances.iter().map(fr_hex).collect(),
            proof: format!("0x{}", hex::encode(input.proof)),
            flagged_count: decisions.iter().filter(|d| **d).count(),
            sample_count: decisions.len(),
            decisions,
            scores,
            gas: input.gas,
            aggregation_k: None,
        })
    }

    /// Writes the fixture as pretty JSON (through a temporary file).
    pub fn write(&self, path: &Path) -> Result<(), FixtureError> {
        let mut text = serde_json::to_string_pretty(self)
            .map_err(|source| FixtureError::Json { path: path.to_path_buf(), source })?;
        text.push('\n');
        crate::evm::codegen::write_file(path, text.as_bytes()).map_err(|e| match e {
            crate::evm::CodegenError::Io { path, source } => FixtureError::Io { path, source },
            other => FixtureError::Inconsistent(other.to_string()),
        })
    }

    /// Reads a fixture.
    pub fn read(path: &Path) -> Result<Self, FixtureError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| FixtureError::Io { path: path.to_path_buf(), source })?;
        serde_json::from_str(&text).map_err(|source| FixtureError::Json { path: path.to_path_buf(), source })
    }

    /// The instances as field elements.
    pub fn instance_values(&self) -> Option<Vec<Fr>> {
        self.instances
            .iter()
            .map(|h| {
                let bytes: [u8; 32] = hex::decode(h.trim_start_matches("0x")).ok()?.try_into().ok()?;
                crate::circuit::field::fr_from_be_bytes(&bytes)
            })
            .collect()
    }

    /// The proof bytes.
    pub fn proof_bytes(&self) -> Option<Vec<u8>> {
        hex::decode(self.proof.trim_start_matches("0x")).ok()
    }

    /// The verifier's creation code.
    pub fn verifier_code(&self) -> Option<Vec<u8>> {
        hex::decode(self.verifier_bytecode.trim_start_matches("0x")).ok()
    }
}
