//! `zkguard-bench`: runs the prover benchmarks (each case in a child process), prints a markdown
//! table and writes JSON. Not a test: numbers are recorded, never asserted.
//!
//! Usage: `zkguard-bench [--runs N] [--out FILE] [--cases model:batch[:committed|fixed],...]
//! [--aggregate 1,2,4:4:fast] [--poseidon flex-gate|gate] [--max-columns C]` (`C = 0`: the fastest layout), or `zkguard-bench --onchain
//! 1,16,256,256:none [--out bench/results/onchain.json]` for the direct-mode on-chain costs against
//! the batch size (`:none`: without scores).

use std::path::PathBuf;
use std::process::Command;

use anyhow::Context;
use clap::Parser;
use zkguard_prover::bench::aggregation::{
    aggregation_table, parse_aggregation_case, run_aggregation_case_sized, AggregationResult,
};
use zkguard_prover::bench::onchain::{onchain_table, run_onchain_case};
use zkguard_prover::bench::{machine, run_case, table, CaseResult, CircuitChoice};
use zkguard_prover::circuit::config::DEFAULT_MAX_ADVICE_COLUMNS;
use zkguard_prover::circuit::poseidon::PoseidonBackend;

/// `--poseidon` values.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum PoseidonArg {
    FlexGate,
    Gate,
}

impl PoseidonArg {
    fn name(self) -> &'static str {
        match self {
            Self::FlexGate => "flex-gate",
            Self::Gate => "gate",
        }
    }
}

impl From<PoseidonArg> for PoseidonBackend {
    fn from(arg: PoseidonArg) -> Self {
        match arg {
            PoseidonArg::FlexGate => Self::FlexGate,
            PoseidonArg::Gate => Self::Gate,
        }
    }
}
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
    /// Aggregation cases: numbers of app proofs N to aggregate, comma separated (empty: none),
    /// each `N` (app batch 4 with scores), `N:B` or `N:B:none` (app batch B without scores),
    /// optionally followed by the app circuit's layout, `:compact` (the default) or `:fast`.
    /// N = 4 needs ~12 GB and several minutes on 2 cores.
    #[arg(long, default_value = "1,2")]
    aggregate: String,
    /// Internal: run one case in this process and print its JSON.
    #[arg(long, hide = true)]
    child: Option<String>,
    /// Internal: run one aggregation case in this process and print its JSON.
    #[arg(long, hide = true)]
    child_aggregate: Option<String>,
    /// Direct-mode on-chain cases instead of the prover cases: batch sizes, comma separated, each
    /// with packed scores or, as `B:none`, without.
    #[arg(long)]
    onchain: Option<String>,
    /// How the app circuits hash their commitments: `flex-gate` (halo2-base's sponge, today's
    /// deployable circuits) or `gate` (the dedicated Poseidon gate).
    #[arg(long, value_enum, default_value = "flex-gate")]
    poseidon: PoseidonArg,
    /// Most halo2-base advice columns an app circuit may use (k is the smallest that fits); 0:
    /// the fastest layout (the k and column count with the fewest weighted column-rows).
    #[arg(long, default_value_t = DEFAULT_MAX_ADVICE_COLUMNS)]
    max_columns: usize,
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
        let result = run_case(
            &root,
            model,
            batch,
            CircuitChoice { visibility, poseidon: args.poseidon.into(), max_columns: args.max_columns },
            args.runs,
            &args.cache,
        )?;
        println!("{}", serde_json::to_string(&result)?);
        return Ok(());
    }
    if let Some(case) = &args.child_aggregate {
        let (proofs, batch, scores, layout) = parse_aggregation_case(case)?;
        let result = run_aggregation_case_sized(&root, proofs, batch, scores, layout, &args.cache)?;
        println!("{}", serde_json::to_string(&result)?);
        return Ok(());
    }
    if let Some(cases) = &args.onchain {
        return onchain(&root, cases, &args);
    }
    let exe = std::env::current_exe()?;
    let mut results: Vec<CaseResult> = Vec::new();
    for case in args.cases.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        eprintln!("bench: {case} ...");
        let output = Command::new(&exe)
            .args(["--child", case, "--runs", &args.runs.to_string(), "--poseidon", args.poseidon.name()])
            .args(["--max-columns", &args.max_columns.to_string(), "--cache"])
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
            "\naggregation (batch mode, demo app circuit: 4 features, 1 advice column):\n\n{}",
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

/// Runs the on-chain cases in this process, one after the other, and writes their JSON.
fn onchain(root: &std::path::Path, cases: &str, args: &Args) -> anyhow::Result<()> {
    let mut results = Vec::new();
    for case in cases.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (batch, scores) = match case.split_once(':') {
            Some((b, "none")) => (b, false),
            Some((_, other)) => anyhow::bail!("on-chain case {case}: `{other}` is not `none`"),
            None => (case, true),
        };
        let batch: usize = batch.parse().with_context(|| format!("on-chain case {case}: batch size"))?;
        eprintln!("bench: on-chain B = {batch}, scores {scores} ...");
        let result = run_onchain_case(batch, scores, &args.cache, &root.join("scripts/solc"))
            .with_context(|| format!("on-chain case {case}"))?;
        eprintln!("{}", serde_json::to_string(&result)?);
        results.push(result);
    }
    let machine = machine();
    println!(
        "machine: {machine}\n\ndirect mode, demo circuit (4 features, 1 advice column), revm (Prague):\n\n{}",
        onchain_table(&results)
    );
    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let json = serde_json::json!({ "machine": machine, "hardfork": "revm default (Prague)", "direct": results });
    std::fs::write(&args.out, serde_json::to_vec_pretty(&json)?)?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}
