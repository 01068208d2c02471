//! Keys, proofs and native verification in the native module. Proving and key generation run
//! with the GIL released (`Python::detach`, PyO3's name for `allow_threads`), so other Python
//! threads keep running while halo2 works.

use std::path::PathBuf;
use std::sync::Arc;

use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, Fr};
use halo2_base::halo2_proofs::halo2curves::ff::Field;
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;
use pyo3::prelude::*;
use rand::rngs::OsRng;
use zkguard_prover::artifact::{fr_from_hex, fr_to_hex, ProofArtifact, Provenance, ARTIFACT_VERSION, PROOF_FORMAT};
use zkguard_prover::circuit::commit::input_commitment;
use zkguard_prover::circuit::config::Layout;
use zkguard_prover::circuit::{AppCircuitConfig, AppInstances, AppShape, AppWitness, Visibility};
use zkguard_prover::keys::{load_params, AppKeys, SrsSource};
use zkguard_prover::prove::{self as prover, AppProof, Transcript};

use crate::errors::{chain, to_py, InputError, KeysError, ProofError, VerificationError};
use crate::model::{quantize_rows, PyQuantizedModel};

/// The KZG parameters' source from the Python arguments: a ceremony file pinned by its sha256,
/// or the INSECURE development setup; one must be chosen explicitly.
pub fn srs_source(srs: Option<PathBuf>, srs_sha256: Option<String>, insecure_dev_srs: bool) -> PyResult<SrsSource> {
    match (srs, srs_sha256, insecure_dev_srs) {
        (Some(path), Some(sha256), false) => Ok(SrsSource::Ceremony { path, sha256 }),
        (None, None, true) => Ok(SrsSource::InsecureDev),
        (Some(_), None, _) => Err(InputError::new_err("srs= needs srs_sha256= (the file's pinned sha256)")),
        (Some(_), Some(_), true) => Err(InputError::new_err("give srs= or insecure_dev_srs=True, not both")),
        _ => Err(InputError::new_err(
            "choose the KZG parameters: srs=FILE with srs_sha256=HEX (a ceremony file), or insecure_dev_srs=True \
             (INSECURE: anyone can forge proofs; development only)",
        )),
    }
}

/// A field element from hex, or `InputError` naming the argument.
pub fn field(name: &str, hex: &str) -> PyResult<Fr> {
    fr_from_hex(hex).ok_or_else(|| {
        InputError::new_err(format!("{name}={hex:?} is not a 32-byte hex field element below the BN254 modulus"))
    })
}

/// A circuit's keys and KZG parameters, loaded once and reused by `prove`, `verify`,
/// `aggregate` and `generate_verifier`.
#[pyclass(name = "Keys", module = "zkguard", frozen)]
pub struct PyKeys {
    /// The app circuit's keys.
    pub keys: Arc<AppKeys>,
    /// Its parameters.
    pub params: Arc<ParamsKZG<Bn256>>,
    /// Where the parameters came from.
    pub srs: SrsSource,
    /// The key cache.
    pub cache_dir: PathBuf,
}

#[pymethods]
impl PyKeys {
    /// The circuit digest (hex): selects keys and verifier.
    #[getter]
    fn circuit_digest(&self) -> String {
        self.keys.digest.clone()
    }
    /// log2 of the circuit's rows.
    #[getter]
    fn k(&self) -> u32 {
        self.keys.config.k()
    }
    /// Samples per proof.
    #[getter]
    fn batch_size(&self) -> usize {
        self.keys.config.shape.batch_size
    }
    /// `committed` (one circuit per shape) or `fixed` (the keys pin one model).
    #[getter]
    fn visibility(&self) -> String {
        self.keys.config.shape.visibility().to_string()
    }
    /// `compact` (small proofs, a verifier that fits on chain) or `fast` (the Poseidon gate and
    /// many short columns: faster proving, larger proofs; for off-chain verification).
    #[getter]
    fn layout(&self) -> String {
        self.keys.config.layout().to_string()
    }
    /// Whether proofs carry a score per sample (`keygen(scores=False)`: decisions only).
    #[getter]
    fn has_scores(&self) -> bool {
        self.keys.config.shape.has_scores
    }
    /// Public instances per proof.
    #[getter]
    fn num_instance(&self) -> usize {
        self.keys.config.shape.layout().len()
    }
    /// Advice columns per phase.
    #[getter]
    fn advice_columns(&self) -> Vec<usize> {
        self.keys.config.params.num_advice_per_phase.clone()
    }
    /// `insecure-dev` or `ceremony-<sha256 prefix>`.
    #[getter]
    fn srs(&self) -> String {
        self.srs.id()
    }
    /// True for the INSECURE development setup (anyone can forge proofs).
    #[getter]
    fn insecure_srs(&self) -> bool {
        self.srs.is_insecure()
    }
    fn __repr__(&self) -> String {
        format!(
            "Keys(circuit_digest={:?}, k={}, batch_size={}, srs={:?})",
            self.keys.digest,
            self.k(),
            self.batch_size(),
            self.srs.id()
        )
    }
}

/// Generates the keys of `model`'s circuit at `batch_size` (or loads them from `cache_dir`).
#[pyfunction]
#[pyo3(signature = (model, batch_size, *, cache_dir, srs=None, srs_sha256=None, insecure_dev_srs=false, max_columns=None, visibility="committed", layout="compact", scores=true))]
#[allow(clippy::too_many_arguments)]
fn keygen(
    py: Python<'_>,
    model: &PyQuantizedModel,
    batch_size: usize,
    cache_dir: PathBuf,
    srs: Option<PathBuf>,
    srs_sha256: Option<String>,
    insecure_dev_srs: bool,
    max_columns: Option<usize>,
    visibility: &str,
    layout: &str,
    scores: bool,
) -> PyResult<PyKeys> {
    let visibility: Visibility = visibility.parse().map_err(InputError::new_err)?;
    let layout: Layout = layout.parse().map_err(InputError::new_err)?;
    let source = srs_source(srs, srs_sha256, insecure_dev_srs)?;
    if batch_size == 0 {
        return Err(InputError::new_err("batch_size must be at least 1"));
    }
    if max_columns == Some(0) {
        return Err(InputError::new_err("max_columns must be at least 1"));
    }
    let budget = layout.column_budget(max_columns).map_err(|e| to_py::<InputError>(&e))?;
    let shape = AppShape::for_model(&model.model, batch_size, visibility).with_scores(scores);
    let config = AppCircuitConfig::for_layout(&shape, layout, budget).map_err(|e| to_py::<KeysError>(&e))?;
    let (keys, params) = py
        .detach(|| -> Result<_, String> {
            let params = load_params(&source, config.k(), &cache_dir).map_err(|e| chain(&e))?;
            let keys = AppKeys::load_or_generate(config, &params, &source, &cache_dir).map_err(|e| chain(&e))?;
            Ok((keys, params))
        })
        .map_err(KeysError::new_err)?;
    Ok(PyKeys { keys: Arc::new(keys), params: Arc::new(params), srs: source, cache_dir })
}

/// Loads cached keys by circuit digest (what a verifier needs for a proof made elsewhere).
#[pyfunction]
#[pyo3(signature = (circuit_digest, *, cache_dir, srs=None, srs_sha256=None, insecure_dev_srs=false))]
fn load_keys(
    py: Python<'_>,
    circuit_digest: &str,
    cache_dir: PathBuf,
    srs: Option<PathBuf>,
    srs_sha256: Option<String>,
    insecure_dev_srs: bool,
) -> PyResult<PyKeys> {
    let source = srs_source(srs, srs_sha256, insecure_dev_srs)?;
    let digest = circuit_digest.trim_start_matches("0x").to_string();
    let (keys, params) = py
        .detach(|| AppKeys::load_by_digest(&digest, &source, &cache_dir).map_err(|e| chain(&e)))
        .map_err(|e| KeysError::new_err(format!("no usable cached keys for circuit {digest}: {e}")))?;
    Ok(PyKeys { keys: Arc::new(keys), params: Arc::new(params), srs: source, cache_dir })
}

/// A proof with its public instances and their decoded meaning.
#[pyclass(name = "Proof", module = "zkguard", frozen, get_all)]
#[derive(Clone)]
pub struct PyProof {
    /// The circuit that made it.
    pub circuit_digest: String,
    /// The model's name (informational: the commitment is what is proved).
    pub model_name: String,
    /// Poseidon commitment of the quantized model (hex), `instances[0]`.
    pub model_commitment: String,
    /// Poseidon commitment of the inputs and salt (hex).
    pub input_commitment: String,
    /// The context field element the proof is bound to (hex).
    pub context: String,
    /// `evm` (Solidity verifier) or `poseidon` (aggregation).
    pub transcript: String,
    /// Samples per proof of the circuit.
    pub batch_size: usize,
    /// Real samples proved.
    pub sample_count: usize,
    /// Decision of each real sample (`score > threshold`).
    pub decisions: Vec<bool>,
    /// Score of each real sample in fixed point (divide by `2**scale_bits` for real units).
    pub scores_fixed: Vec<i128>,
    /// Public instances (hex).
    pub instances: Vec<String>,
    /// The proof bytes.
    pub proof: Vec<u8>,
    /// SRS identity the proof was made with.
    pub srs: String,
    /// True when made with the INSECURE development setup.
    pub insecure_srs: bool,
}

fn transcript_name(t: Transcript) -> &'static str {
    match t {
        Transcript::Evm => "evm",
        Transcript::Poseidon => "poseidon",
    }
}

fn parse_transcript(name: &str) -> PyResult<Transcript> {
    match name {
        "evm" => Ok(Transcript::Evm),
        "poseidon" => Ok(Transcript::Poseidon),
        other => Err(InputError::new_err(format!("transcript={other:?}: expected \"evm\" or \"poseidon\""))),
    }
}

impl PyProof {
    fn from_parts(keys: &PyKeys, model_name: &str, proof: &AppProof, decoded: &AppInstances) -> Self {
        Self {
            circuit_digest: keys.keys.digest.clone(),
            model_name: model_name.to_string(),
            model_commitment: fr_to_hex(&decoded.model_commitment),
            input_commitment: fr_to_hex(&decoded.input_commitment),
            context: fr_to_hex(&decoded.context),
            transcript: transcript_name(proof.transcript).to_string(),
            batch_size: keys.keys.config.shape.batch_size,
            sample_count: decoded.sample_count,
            decisions: decoded.decisions[..decoded.sample_count].to_vec(),
            scores_fixed: decoded.scores.iter().take(decoded.sample_count).copied().collect(),
            instances: proof.instances.iter().map(fr_to_hex).collect(),
            proof: proof.proof.clone(),
            srs: keys.srs.id(),
            insecure_srs: keys.srs.is_insecure(),
        }
    }

    /// The proof's instances, bytes and transcript, parsed.
    pub fn app_proof(&self) -> PyResult<AppProof> {
        let instances = self
            .instances
            .iter()
            .enumerate()
            .map(|(i, h)| field(&format!("instances[{i}]"), h))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(AppProof { instances, proof: self.proof.clone(), transcript: parse_transcript(&self.transcript)? })
    }

    fn artifact(&self) -> ProofArtifact {
        ProofArtifact {
            format: PROOF_FORMAT.into(),
            version: ARTIFACT_VERSION,
            circuit_digest: self.circuit_digest.clone(),
            model_name: self.model_name.clone(),
            model_commitment: self.model_commitment.clone(),
            transcript: if self.transcript == "poseidon" { Transcript::Poseidon } else { Transcript::Evm },
            batch_size: self.batch_size,
            sample_count: self.sample_count,
            instances: self.instances.clone(),
            proof: format!("0x{}", hex::encode(&self.proof)),
            decisions: self.decisions.clone(),
            scores: self.scores_fixed.iter().map(|s| s.to_string()).collect(),
            produced_by: Provenance {
                tool: format!("zkguard {} (python)", env!("CARGO_PKG_VERSION")),
                srs: self.srs.clone(),
                insecure_srs: self.insecure_srs,
            },
        }
    }
}

#[pymethods]
impl PyProof {
    /// The proof artifact JSON `zkguard prove` writes (readable by `zkguard verify`).
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string_pretty(&self.artifact()).map_err(|e| to_py::<InputError>(&e))
    }
    /// Reads a proof artifact (from `zkguard prove` or `Proof.to_json`). Its human-readable
    /// fields are only trusted after `verify`, which checks them against the instances.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        let a: ProofArtifact = serde_json::from_str(text).map_err(|e| to_py::<InputError>(&e))?;
        if a.format != PROOF_FORMAT {
            return Err(InputError::new_err(format!("format {:?} is not {PROOF_FORMAT:?}", a.format)));
        }
        let proof = hex::decode(a.proof.trim_start_matches("0x"))
            .map_err(|e| InputError::new_err(format!("proof is not hex: {e}")))?;
        let at = |i: usize| a.instances.get(i).cloned().unwrap_or_default();
        Ok(Self {
            circuit_digest: a.circuit_digest.clone(),
            model_name: a.model_name.clone(),
            model_commitment: a.model_commitment.clone(),
            input_commitment: at(1),
            context: at(2),
            transcript: transcript_name(a.transcript).to_string(),
            batch_size: a.batch_size,
            sample_count: a.sample_count,
            decisions: a.decisions.clone(),
            scores_fixed: a
                .scores
                .iter()
                .map(|s| s.parse::<i128>().map_err(|_| InputError::new_err(format!("score {s:?} is not an integer"))))
                .collect::<PyResult<_>>()?,
            instances: a.instances.clone(),
            proof,
            srs: a.produced_by.srs.clone(),
            insecure_srs: a.produced_by.insecure_srs,
        })
    }
    fn __repr__(&self) -> String {
        let flagged = self.decisions.iter().filter(|d| **d).count();
        format!(
            "Proof(circuit_digest={:?}, samples={}, flagged={}, transcript={:?}, proof_bytes={}{})",
            self.circuit_digest,
            self.sample_count,
            flagged,
            self.transcript,
            self.proof.len(),
            if self.insecure_srs { ", INSECURE dev SRS" } else { "" }
        )
    }
}

/// Proves `model` on `rows` (real units; at most `keys.batch_size` of them) with `keys`.
#[pyfunction]
#[pyo3(signature = (keys, model, rows, *, context=None, salt=None, transcript="evm"))]
fn prove(
    py: Python<'_>,
    keys: &PyKeys,
    model: &PyQuantizedModel,
    rows: Vec<Vec<f64>>,
    context: Option<&str>,
    salt: Option<&str>,
    transcript: &str,
) -> PyResult<PyProof> {
    let transcript = parse_transcript(transcript)?;
    let batch = keys.keys.config.shape.batch_size;
    if rows.is_empty() || rows.len() > batch {
        return Err(InputError::new_err(format!(
            "{} rows: a proof of this circuit takes 1..={batch} rows (its batch size)",
            rows.len()
        )));
    }
    if model.model.shape() != keys.keys.config.shape.model {
        return Err(InputError::new_err(format!(
            "the keys are for another model shape (circuit {}); run keygen for model {:?}",
            keys.keys.digest, model.model.name
        )));
    }
    let quantized = quantize_rows(&model.model, &rows)?;
    let context = context.map(|c| field("context", c)).transpose()?.unwrap_or(Fr::ZERO);
    let salt = salt.map(|s| field("salt", s)).transpose()?.unwrap_or_else(|| Fr::random(OsRng));
    let witness = AppWitness::new(model.model.clone(), quantized, batch, salt, context)
        .map_err(|e| to_py::<InputError>(&e))?
        .with_scores(keys.keys.config.shape.has_scores);
    let (k, p) = (Arc::clone(&keys.keys), Arc::clone(&keys.params));
    let proof = py.detach(move || prover::prove(&p, &k, &witness, transcript)).map_err(|e| to_py::<ProofError>(&e))?;
    let decoded = AppInstances::from_slice(keys.keys.config.shape.layout(), &proof.instances)
        .map_err(|e| to_py::<ProofError>(&e))?;
    Ok(PyProof::from_parts(keys, &model.model.name, &proof, &decoded))
}

/// What a verified proof establishes, decoded from its verified instances only.
#[pyclass(name = "Verified", module = "zkguard", frozen, get_all)]
pub struct PyVerified {
    /// The circuit (from the keys that verified it).
    pub circuit_digest: String,
    /// The model commitment (hex).
    pub model_commitment: String,
    /// The input commitment (hex).
    pub input_commitment: String,
    /// The context (hex).
    pub context: String,
    /// Real samples.
    pub sample_count: usize,
    /// Their decisions.
    pub decisions: Vec<bool>,
    /// Their fixed-point scores.
    pub scores_fixed: Vec<i128>,
    /// True when the keys come from the INSECURE development setup.
    pub insecure_srs: bool,
}

#[pymethods]
impl PyVerified {
    fn __repr__(&self) -> String {
        format!(
            "Verified(model_commitment={}, samples={}, flagged={})",
            self.model_commitment,
            self.sample_count,
            self.decisions.iter().filter(|d| **d).count()
        )
    }
}

/// Checks that what `proof` says beside its instances is what the instances say.
fn check_fields(proof: &PyProof, decoded: &AppInstances) -> Result<(), String> {
    let mismatch = |field: &str| Err(format!("the proof's `{field}` differs from its verified instances"));
    if proof.model_commitment != fr_to_hex(&decoded.model_commitment) {
        return mismatch("model_commitment");
    }
    if proof.input_commitment != fr_to_hex(&decoded.input_commitment) {
        return mismatch("input_commitment");
    }
    if proof.context != fr_to_hex(&decoded.context) {
        return mismatch("context");
    }
    if proof.sample_count != decoded.sample_count {
        return mismatch("sample_count");
    }
    if proof.decisions[..] != decoded.decisions[..decoded.sample_count] {
        return mismatch("decisions");
    }
    if proof.scores_fixed.iter().ne(decoded.scores.iter().take(decoded.sample_count)) {
        return mismatch("scores_fixed");
    }
    Ok(())
}

/// Verifies `proof` with `keys`; raises `VerificationError` when it does not verify or when a
/// field beside the instances (commitments, decisions, scores, circuit) disagrees with them.
#[pyfunction]
fn verify(py: Python<'_>, keys: &PyKeys, proof: &PyProof) -> PyResult<PyVerified> {
    if proof.circuit_digest.trim_start_matches("0x") != keys.keys.digest {
        return Err(VerificationError::new_err(format!(
            "the proof is for circuit {}, these keys are for {}",
            proof.circuit_digest, keys.keys.digest
        )));
    }
    let app = proof.app_proof().map_err(|e| VerificationError::new_err(e.to_string()))?;
    let layout = keys.keys.config.shape.layout();
    if app.instances.len() != layout.len() {
        return Err(VerificationError::new_err(format!(
            "the proof has {} instances, the circuit {}",
            app.instances.len(),
            layout.len()
        )));
    }
    let (k, p) = (Arc::clone(&keys.keys), Arc::clone(&keys.params));
    let instances = app.instances.clone();
    let ok = py.detach(move || prover::verify(&p, k.vk(), &instances, &app.proof, app.transcript));
    if !ok {
        return Err(VerificationError::new_err("the proof does NOT verify against these keys and instances"));
    }
    let decoded = AppInstances::from_slice(layout, &app.instances).map_err(|e| to_py::<VerificationError>(&e))?;
    check_fields(proof, &decoded).map_err(VerificationError::new_err)?;
    Ok(PyVerified {
        circuit_digest: keys.keys.digest.clone(),
        model_commitment: fr_to_hex(&decoded.model_commitment),
        input_commitment: fr_to_hex(&decoded.input_commitment),
        context: fr_to_hex(&decoded.context),
        sample_count: decoded.sample_count,
        decisions: decoded.decisions[..decoded.sample_count].to_vec(),
        scores_fixed: decoded.scores.iter().take(decoded.sample_count).copied().collect(),
        insecure_srs: keys.srs.is_insecure(),
    })
}

/// The input commitment a proof of `rows` with `salt` carries (Poseidon over the batch's
/// fixed-point inputs, padded with zero rows to `batch_size`).
#[pyfunction]
fn commit_inputs(model: &PyQuantizedModel, rows: Vec<Vec<f64>>, salt: &str, batch_size: usize) -> PyResult<String> {
    if rows.is_empty() || rows.len() > batch_size {
        return Err(InputError::new_err(format!("{} rows for a batch of {batch_size}", rows.len())));
    }
    let mut quantized = quantize_rows(&model.model, &rows)?;
    quantized.resize(batch_size, vec![0; model.model.n_features()]);
    let salt = field("salt", salt)?;
    Ok(fr_to_hex(&input_commitment(&quantized, salt, model.model.fixed.value_bits)))
}

/// Registers this module's functions and classes.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyKeys>()?;
    m.add_class::<PyProof>()?;
    m.add_class::<PyVerified>()?;
    m.add_function(wrap_pyfunction!(keygen, m)?)?;
    m.add_function(wrap_pyfunction!(load_keys, m)?)?;
    m.add_function(wrap_pyfunction!(prove, m)?)?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    m.add_function(wrap_pyfunction!(commit_inputs, m)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srs_must_be_chosen() {
        assert!(matches!(srs_source(None, None, true), Ok(SrsSource::InsecureDev)));
        assert!(srs_source(None, None, false).is_err());
        assert!(srs_source(Some("p".into()), None, false).is_err());
        assert!(srs_source(Some("p".into()), Some("ab".into()), true).is_err());
        assert!(matches!(srs_source(Some("p".into()), Some("ab".into()), false), Ok(SrsSource::Ceremony { .. })));
    }

    #[test]
    fn fields_parse_or_name_the_argument() {
        // Formatting a PyErr attaches to the interpreter (the test binary embeds libpython).
        Python::initialize();
        assert_eq!(field("salt", &fr_to_hex(&Fr::from(7))).unwrap(), Fr::from(7));
        let err = field("salt", "0xzz").unwrap_err();
        assert!(err.to_string().contains("salt=\"0xzz\""), "{err}");
        assert!(parse_transcript("keccak").is_err());
        assert_eq!(parse_transcript("poseidon").unwrap(), Transcript::Poseidon);
    }
}
