//! Aggregation benchmarks: batch mode with N app proofs of the built-in 4-feature demo circuit
//! (batch 4; compact layout: one advice column; or the fast layout), aggregated at the default k
//! for N: keygen and prove times, peak memory, proof and calldata bytes, verifier runtime size
//! and the verify transaction's gas in revm (Prague), with the calldata share.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::peak_rss_mb;
use crate::circuit::config::Layout;
use crate::demo::demo_request_sized;
use crate::pipeline::batch;

/// One aggregation case's results.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AggregationResult {
    /// App proofs aggregated.
    pub proofs: usize,
    /// Samples per app proof.
    #[serde(default)]
    pub batch_size: usize,
    /// Whether the app proofs expose packed scores.
    #[serde(default)]
    pub scores: bool,
    /// Real samples over all app proofs.
    #[serde(default)]
    pub decisions: usize,
    /// The app circuit's layout (absent in results written before it existed: compact).
    #[serde(default)]
    pub layout: Layout,
    /// The app circuit's k.
    #[serde(default)]
    pub app_k: u32,
    /// The app circuit's advice columns, all of them (halo2-base's, lookup, the Poseidon gate's).
    #[serde(default)]
    pub app_advice_columns: usize,
    /// One app proof's bytes (Poseidon transcript).
    #[serde(default)]
    pub app_proof_bytes: usize,
    /// Aggregation circuit k.
    pub k: u32,
    /// The aggregation circuit's advice columns (halo2-base's, lookup included).
    #[serde(default)]
    pub advice_columns: usize,
    /// N app proofs (keys cached) in seconds.
    pub app_prove_s: f64,
    /// Aggregation keygen seconds (0 when cached: the cache is fresh per run here).
    pub keygen_s: f64,
    /// Aggregation proving seconds.
    pub prove_s: f64,
    /// Peak resident memory, MB.
    pub peak_rss_mb: f64,
    /// Aggregation proof bytes.
    pub proof_bytes: usize,
    /// Verifier calldata bytes (instances and proof).
    pub calldata_bytes: usize,
    /// Generated verifier runtime bytes (EIP-170 limit 24,576).
    pub verifier_runtime_bytes: usize,
    /// Gas of the verify transaction in revm.
    pub verify_gas: u64,
    /// Gas of its calldata.
    pub calldata_gas: u64,
}

/// Runs batch mode with `proofs` app proofs; parameters are cached in `cache`, keys are made fresh.
pub fn run_aggregation_case(root: &Path, proofs: usize, cache: &Path) -> anyhow::Result<AggregationResult> {
    run_aggregation_case_sized(root, proofs, 4, true, Layout::Compact, cache)
}

/// [`run_aggregation_case`] with app proofs of `batch_size` samples, with or without scores, in
/// the app circuit layout `layout`.
pub fn run_aggregation_case_sized(
    root: &Path,
    proofs: usize,
    batch_size: usize,
    scores: bool,
    layout: Layout,
    cache: &Path,
) -> anyhow::Result<AggregationResult> {
    let keys_dir = tempfile::tempdir()?;
    // Share the (slow to generate) SRS files, not the keys, so keygen is measured.
    let srs_dir = keys_dir.path().join("srs");
    std::fs::create_dir_all(cache.join("srs"))?;
    std::os::unix::fs::symlink(cache.join("srs").canonicalize()?, &srs_dir)?;
    let mut request = demo_request_sized(
        proofs,
        batch_size,
        scores,
        None,
        keys_dir.path().to_path_buf(),
        root.join("scripts/solc"),
        "zkguard-bench --aggregate",
    );
    request.layout = layout;
    let run = batch::run(&request)?;
    let app_cs = run.app_keys.vk().cs();
    let agg = &run.keys.config.params;
    Ok(AggregationResult {
        proofs,
        batch_size,
        scores,
        decisions: run.decoded.iter().map(|d| d.sample_count).sum(),
        layout,
        app_k: run.app_keys.config.k(),
        app_advice_columns: app_cs.num_advice_columns(),
        app_proof_bytes: run.app_proofs.first().map_or(0, |p| p.proof.len()),
        k: agg.degree,
        advice_columns: agg.num_advice + agg.num_lookup_advice,
        app_prove_s: run.timings.app_prove.as_secs_f64(),
        keygen_s: run.timings.aggregation_keygen.as_secs_f64(),
        prove_s: run.timings.aggregation_prove.as_secs_f64(),
        peak_rss_mb: peak_rss_mb(),
        proof_bytes: run.proof.proof.len(),
        calldata_bytes: run.gas.calldata_bytes,
        verifier_runtime_bytes: run.gas.runtime_size,
        verify_gas: run.gas.tx_gas,
        calldata_gas: run.gas.calldata_gas,
    })
}

/// Renders aggregation results as a markdown table.
pub fn aggregation_table(results: &[AggregationResult]) -> String {
    let mut out = String::from(
        "| N | B | scores | decisions | app layout | app k, advice cols, proof B | app prove s (N) | k | advice cols | keygen s | prove s | peak MB | proof B | calldata B | verifier B | verify gas | calldata gas | verify gas / decision |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in results {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {}, {}, {} | {:.1} | {} | {} | {:.1} | {:.1} | {:.0} | {} | {} | {} | {} | {} ({:.0}%) | {:.0} |\n",
            r.proofs,
            r.batch_size,
            if r.scores { "packed" } else { "none" },
            r.decisions,
            r.layout,
            r.app_k,
            r.app_advice_columns,
            r.app_proof_bytes,
            r.app_prove_s,
            r.k,
            r.advice_columns,
            r.keygen_s,
            r.prove_s,
            r.peak_rss_mb,
            r.proof_bytes,
            r.calldata_bytes,
            r.verifier_runtime_bytes,
            r.verify_gas,
            r.calldata_gas,
            100.0 * r.calldata_gas as f64 / r.verify_gas.max(1) as f64,
            r.verify_gas as f64 / r.decisions.max(1) as f64,
        ));
    }
    out
}

/// Parses an aggregation case `N`, `N:B`, then optionally `:none` (no scores) and `:compact` or
/// `:fast` (the app circuit's layout), in either order (default B = 4 with scores, compact).
pub fn parse_aggregation_case(case: &str) -> anyhow::Result<(usize, usize, bool, Layout)> {
    let mut parts = case.trim().split(':');
    let proofs = parts.next().unwrap_or("").parse()?;
    let batch = parts.next().map_or(Ok(4), str::parse)?;
    let (mut scores, mut layout) = (true, Layout::Compact);
    for part in parts {
        match part {
            "none" => scores = false,
            other => {
                layout = other.parse().map_err(|e| {
                    anyhow::anyhow!("aggregation case {case}: `{other}` is neither `none` nor a layout: {e}")
                })?
            }
        }
    }
    Ok((proofs, batch, scores, layout))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregation_cases_parse_with_their_layout() {
        assert_eq!(parse_aggregation_case("2").unwrap(), (2, 4, true, Layout::Compact));
        assert_eq!(parse_aggregation_case("1:8:none").unwrap(), (1, 8, false, Layout::Compact));
        assert_eq!(parse_aggregation_case("1:4:fast").unwrap(), (1, 4, true, Layout::Fast));
        assert_eq!(parse_aggregation_case("1:4:none:fast").unwrap(), (1, 4, false, Layout::Fast));
        let err = parse_aggregation_case("1:4:quick").unwrap_err().to_string();
        assert!(err.contains("`quick`") && err.contains("\"compact\" or \"fast\""), "{err}");
    }
}
