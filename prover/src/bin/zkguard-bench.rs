//! `zkguard-bench`: runs the prover benchmarks (each case in a child process), prints a markdown
//! table and writes JSON. Not a test: numbers are recorded, never asserted.
//!
//! Usage: `zkguard-bench [--runs N] [--out FILE] [--cases model:batch[:committed|fixed],...] [--aggregate 1,2,4]`

use std::path::PathBuf;
use std::process::Command;

use anyhow::Context;
use clap::Parser;
use zkguard_prover::bench::aggregation::{aggregation_table, run_aggregation_case, AggregationResult};
use zkguard_prover::bench::{machine, run_case, table, CaseResult};
use zkguard_prover::circuit::Visibility;

#[derive(Debug, Parser)]
#[command(about = "Prover benchmarks: k, cells, keygen/prove/verify time, proof size, peak memory")]
struct Args {
    /// Proving runs per case (the median is reported); 0: the circuits' size only (k, cells), no
    /// keys or proofs.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Cases as `model:batch` or `model:batch:visibility` (`committed`, the default, or
    /// `fixed`), comma separated (models from models/).
    #[arg(
        long,
        default_value = "breast_cancer_logistic:1,breast_cancer_logistic:16,breast_cancer_logistic:64,\
breast_cancer_autoencoder:1,breast_cancer_autoencoder:16,breast_cancer_autoencoder:64,\
breast_cancer_decision_tree:1,breast_cancer_decision_tree:16,breast_cancer_decision_tree:64,\
breast_cancer_random_forest:1,breast_cancer_random_forest:16,breast_cancer_gbt:1,breast_cancer_gbt:16,\
breast_cancer_xgboost:1,breast_cancer_xgboost:16"
    )]
    cases: String,
    /// JSON results file.
    #[arg(long, default_value = "bench/results/prover.json")]
    out: PathBuf,
    /// Aggregation cases: numbers of app proofs N to aggregate, comma separated (empty: none).
    /// N = 4 needs ~12 GB and several minutes on 2 cores.
    #[arg(long, default_value = "1,2")]
    aggregate: String,
    /// Internal: run one case in this process and print its JSON.
    #[arg(long, hide = true)]
    child: Option<String>,
    /// Internal: run one aggregation case in this process and print its JSON.
    #[arg(long, hide = true)]
    child_aggregate: Option<usize>,
    /// Cache for the (insecure, benchmark-only) SRS.
    #[arg(long, default_value = "target/zkguard-bench-cache")]
    cache: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    if let Some(case) = &args.child {
        let mut parts = case.split(':');
        let (Some(model), Some(batch), visibility, None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            anyhow::bail!("case {case:?} must be model:batch or model:batch:visibility");
        };
        let batch = batch.parse().with_context(|| format!("case {case:?}: batch {batch:?} is not a number"))?;
        let visibility = visibility
            .map_or(Ok(Visibility::Committed), str::parse)
            .map_err(|e| anyhow::anyhow!("case {case:?}: {e}"))?;
        let result = run_case(&root, model, batch, visibility, args.runs, &args.cache)?;
        println!("{}", serde_json::to_string(&result)?);
        return Ok(());
    }
    if let Some(proofs) = args.child_aggregate {
        let result = run_aggregation_case(&root, proofs, &args.cache)?;
        println!("{}", serde_json::to_string(&result)?);
        return Ok(());
    }
    let exe = std::env::current_exe()?;
    let mut results: Vec<CaseResult> = Vec::new();
    for case in args.cases.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        eprintln!("bench: {case} ...");
        let output = Command::new(&exe)
            .args(["--child", case, "--runs", &args.runs.to_string(), "--cache"])
            .arg(&args.cache)
            .output()
            .with_context(|| format!("running case {case}"))?;
        anyhow::ensure!(output.status.success(), "case {case} failed: {}", String::from_utf8_lossy(&output.stderr));
        let line = String::from_utf8_lossy(&output.stdout);
        results
            .push(serde_json::from_str(line.trim().lines().last().unwrap_or("")).context("parsing the case's JSON")?);
    }
    let mut aggregations: Vec<AggregationResult> = Vec::new();
    for n in args.aggregate.split(',').filter(|s| !s.trim().is_empty()) {
        eprintln!("bench: aggregate N={n} ...");
        let output = Command::new(&exe)
            .args(["--child-aggregate", n.trim(), "--cache"])
            .arg(&args.cache)
            .output()
            .with_context(|| format!("running aggregation N={n}"))?;
        anyhow::ensure!(
            output.status.success(),
            "aggregation N={n} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let line = String::from_utf8_lossy(&output.stdout);
        aggregations
            .push(serde_json::from_str(line.trim().lines().last().unwrap_or("")).context("parsing the case's JSON")?);
    }
    let machine = machine();
    println!("machine: {machine}\n\n{}", table(&results));
    if !aggregations.is_empty() {
        println!(
            "\naggregation (batch mode, demo app circuit: 4 features, batch 4):\n\n{}",
            aggregation_table(&aggregations)
        );
    }
    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let json = serde_json::json!({ "machine": machine, "results": results, "aggregation": aggregations });
    std::fs::write(&args.out, serde_json::to_vec_pretty(&json)?)?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}
