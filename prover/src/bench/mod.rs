//! Prover benchmarks: per model family and batch size, the circuit size (k, advice cells,
//! columns), keygen, prove and verify times (medians), proof bytes and peak memory.
//!
//! Each case runs in its own child process so that its peak RSS (`VmHWM`) is its own; the
//! parent collects one JSON line per case, prints a table and writes a JSON file. Numbers are
//! machine-dependent: the table records the machine (cores, CPU model).

pub mod aggregation;
pub mod onchain;
pub mod shared_aggregation;
pub mod shared_verifier;

use std::path::Path;
use std::time::Instant;

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use serde::{Deserialize, Serialize};

use crate::circuit::poseidon::PoseidonBackend;
use crate::circuit::tree_lookup::TreeSelection;
use crate::circuit::{AppCircuitConfig, AppShape, AppWitness, Visibility};
use crate::data::load_csv;
use crate::keys::{load_params, AppKeys, SrsSource};
use crate::model::load_model;
use crate::prove::{prove, verify, Transcript};
use crate::quant::{calibrate, DEFAULT_HEADROOM_BITS};

/// One benchmark case's results.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CaseResult {
    /// Model file stem.
    pub model: String,
    /// Family.
    pub family: String,
    /// Samples per proof.
    pub batch_size: usize,
    /// How commitments were hashed.
    #[serde(default)]
    pub poseidon: PoseidonBackend,
    /// How the circuit holds the model (absent in results written before it existed).
    #[serde(default)]
    pub visibility: Visibility,
    /// log2 rows.
    pub k: u32,
    /// Advice columns.
    pub advice_columns: usize,
    /// Lookup advice columns.
    pub lookup_columns: usize,
    /// Advice cells used (before padding to columns x 2^k): halo2-base's plus the Poseidon
    /// gate's region (its rows x its advice columns) plus the tree lookup's (its table and
    /// looked-up rows x 3 columns).
    pub advice_cells: usize,
    /// Of those, the Poseidon gate's.
    #[serde(default)]
    pub poseidon_cells: usize,
    /// Of those, the tree lookup's (absent in results written before it existed).
    #[serde(default)]
    pub tree_lookup_cells: usize,
    /// How a committed tree ensemble selected its nodes (absent: multiplexers).
    #[serde(default, skip_serializing_if = "TreeSelection::is_multiplexer")]
    pub tree_selection: TreeSelection,
    /// Keygen seconds (vk + pk, excluding parameter generation).
    pub keygen_s: f64,
    /// Median proving seconds (EVM transcript).
    pub prove_s_median: f64,
    /// All proving runs.
    pub prove_s_runs: Vec<f64>,
    /// Median native verification seconds.
    pub verify_s_median: f64,
    /// Proof bytes.
    pub proof_bytes: usize,
    /// Public instances.
    pub instances: usize,
    /// Peak resident memory of the case's process, MB.
    pub peak_rss_mb: f64,
}

/// How a case's circuit is built.
#[derive(Clone, Copy, Debug)]
pub struct CircuitChoice {
    /// How the circuit holds the model.
    pub visibility: Visibility,
    /// How commitments are hashed.
    pub poseidon: PoseidonBackend,
    /// Most halo2-base advice columns (k is the smallest that fits); 0: the fastest layout
    /// ([`AppCircuitConfig::choose_fastest`]).
    pub max_columns: usize,
}

/// Runs one case in this process: `model_path` is a float model with its CSV beside it in
/// `data/` (as the reference models are), proving `batch_size` rows `runs` times in the circuit
/// `choice` describes (`runs = 0`: the circuit's size only, no keys or proofs).
pub fn run_case(
    root: &Path,
    model_name: &str,
    batch_size: usize,
    choice: CircuitChoice,
    runs: usize,
    cache: &Path,
) -> anyhow::Result<CaseResult> {
    let CircuitChoice { visibility, poseidon, max_columns } = choice;
    let model = load_model(&root.join(format!("models/{model_name}.json")))?;
    let data = load_csv(&root.join(format!("data/{model_name}.csv")), &model.features)?;
    let quantized = calibrate(&model, &data.rows, DEFAULT_HEADROOM_BITS)?;
    let rows: Vec<Vec<i64>> =
        data.rows.iter().take(batch_size).map(|r| quantized.quantize_input(r)).collect::<Result<_, _>>()?;
    let witness = AppWitness::new(quantized.clone(), rows, batch_size, Fr::from(7u64), Fr::from(11u64))?;
    let shape = AppShape::for_model(&quantized, batch_size, visibility);
    let config = match max_columns {
        0 => AppCircuitConfig::choose_fastest(&shape, poseidon)?,
        _ => AppCircuitConfig::choose_with(&shape, max_columns, poseidon)?,
    };
    let (advice_cells, poseidon_cells, tree_lookup_cells) = advice_cells(&config, &witness)?;
    let tree_selection = config.tree_selection;
    if runs == 0 {
        // The circuit's size only: no parameters, keys or proofs.
        return Ok(CaseResult {
            model: model_name.to_string(),
            family: model.model.family().to_string(),
            batch_size,
            visibility,
            poseidon,
            poseidon_cells,
            tree_lookup_cells,
            tree_selection,
            k: config.k(),
            advice_columns: config.params.num_advice_per_phase[0],
            lookup_columns: config.params.num_lookup_advice_per_phase[0],
            advice_cells,
            keygen_s: 0.0,
            prove_s_median: 0.0,
            prove_s_runs: vec![],
            verify_s_median: 0.0,
            proof_bytes: 0,
            instances: shape.layout().len(),
            peak_rss_mb: peak_rss_mb(),
        });
    }
    let srs = SrsSource::InsecureDev;
    let params = load_params(&srs, config.k(), cache)?;
    // Fresh keygen, timed (a temporary cache so the timing is a real keygen).
    let tmp = tempfile::tempdir()?;
    let started = Instant::now();
    let keys = AppKeys::load_or_generate(config, &params, &srs, tmp.path())?;
    let keygen_s = started.elapsed().as_secs_f64();

    let mut prove_runs = Vec::new();
    let mut verify_runs = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let started = Instant::now();
        let proof = prove(&params, &keys, &witness, Transcript::Evm)?;
        prove_runs.push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        anyhow::ensure!(
            verify(&params, keys.vk(), &proof.instances, &proof.proof, Transcript::Evm),
            "proof did not verify"
        );
        verify_runs.push(started.elapsed().as_secs_f64());
        last = Some(proof);
    }
    let proof = last.expect("at least one run");
    Ok(CaseResult {
        model: model_name.to_string(),
        family: model.model.family().to_string(),
        batch_size,
        poseidon,
        visibility,
        k: keys.config.k(),
        advice_columns: keys.config.params.num_advice_per_phase[0],
        lookup_columns: keys.config.params.num_lookup_advice_per_phase[0],
        advice_cells,
        poseidon_cells,
        tree_lookup_cells,
        tree_selection,
        keygen_s,
        prove_s_median: median(&prove_runs),
        prove_s_runs: prove_runs,
        verify_s_median: median(&verify_runs),
        proof_bytes: proof.proof.len(),
        instances: proof.instances.len(),
        peak_rss_mb: peak_rss_mb(),
    })
}

/// Advice cells of the circuit (halo2-base's plus the Poseidon region's) and the Poseidon region's.
/// All advice cells, the Poseidon region's and the tree lookup's.
fn advice_cells(
    config: &crate::circuit::AppCircuitConfig,
    witness: &AppWitness,
) -> anyhow::Result<(usize, usize, usize)> {
    let (circuit, _) = config.builder(halo2_base::gates::circuit::CircuitBuilderStage::Mock, witness)?;
    let poseidon = circuit.poseidon_rows() * crate::circuit::poseidon::gate::ADVICE_COLUMNS;
    let lookups = &circuit.tree_lookups;
    let tree_lookup = (lookups.table_len() + lookups.lookup_len()) * crate::circuit::tree_lookup::table::LOOKUP_WIDTH;
    Ok((circuit.base.statistics().gate.total_advice_per_phase[0] + poseidon + tree_lookup, poseidon, tree_lookup))
}

/// Median of a non-empty slice.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Peak resident set size of this process in MB (Linux `VmHWM`), 0 elsewhere.
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// A description of the machine for the results file.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{cores} cores, {cpu}")
}

/// Renders results as a markdown table.
pub fn table(results: &[CaseResult]) -> String {
    let mut out = String::from(
        "| model | batch | model visibility | poseidon | k | advice cols | advice cells | keygen s | prove s (median) | verify ms | proof B | instances | peak MB |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in results {
        out.push_str(&format!(
            "| {} | {} | {} | {:?} | {} | {}+{} | {} | {:.2} | {:.2} | {:.1} | {} | {} | {:.0} |\n",
            r.model,
            r.batch_size,
            r.visibility,
            r.poseidon,
            r.k,
            r.advice_columns,
            r.lookup_columns,
            r.advice_cells,
            r.keygen_s,
            r.prove_s_median,
            r.verify_s_median * 1000.0,
            r.proof_bytes,
            r.instances,
            r.peak_rss_mb
        ));
    }
    out
}
