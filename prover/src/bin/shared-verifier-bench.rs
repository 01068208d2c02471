//! `shared-verifier-bench`: the shared verifier's bytes and gas against the batch size, next to
//! snark-verifier's unrolled verifier (see `zkguard_prover::bench::shared_verifier`). Prints a markdown
//! table and writes JSON (rewritten after every case, so a long run keeps what it measured).
//!
//! `cargo run -p zkguard-prover --bin shared-verifier-bench -- --batches 1,16,64 --prove-max 64`
//!
//! Batch mode (aggregation proofs on the shared verifier, see
//! `zkguard_prover::bench::shared_aggregation`): `--aggregate N:B[:none][:fast],...` writes
//! `bench/shared_aggregation.json` (`--append` keeps earlier cases; run one case per process so
//! that its peak memory is its own):
//! `cargo run -p zkguard-prover --bin shared-verifier-bench -- --aggregate 1:256:none --append`

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use zkguard_prover::bench::aggregation::parse_aggregation_case;
use zkguard_prover::bench::shared_aggregation::{
    run_shared_aggregation_case, shared_aggregation_table, SharedAggregationCase,
};
use zkguard_prover::bench::shared_verifier::{run_case, table, SharedCase};
use zkguard_prover::circuit::poseidon::PoseidonBackend;

#[derive(Parser, Debug)]
#[command(about = "Shared verifier vs unrolled verifier: bytes and gas against the batch size")]
struct Args {
    /// Batch sizes.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64,256,1024")]
    batches: Vec<usize>,
    /// Prove and measure verify gas only up to this batch size (larger cases: keys and bytes only).
    #[arg(long, default_value_t = 64)]
    prove_max: usize,
    /// Without packed scores.
    #[arg(long)]
    no_scores: bool,
    /// Poseidon backends: flex, gate, or both.
    #[arg(long, default_value = "flex")]
    poseidon: String,
    /// Key and parameter cache.
    #[arg(long, default_value = "target/zkguard-test-cache")]
    cache: PathBuf,
    /// Output JSON (default `bench/shared_verifier.json`, with `--aggregate`
    /// `bench/shared_aggregation.json`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Batch mode instead: aggregation cases `N:B` (with scores) or `N:B:none`, comma-separated.
    #[arg(long, value_delimiter = ',')]
    aggregate: Vec<String>,
    /// Keep the cases already in the output file and add these after them.
    #[arg(long)]
    append: bool,
}

fn read_cases<T: serde::de::DeserializeOwned>(out: &std::path::Path, append: bool) -> anyhow::Result<Vec<T>> {
    if !(append && out.exists()) {
        return Ok(vec![]);
    }
    let text = std::fs::read_to_string(out).with_context(|| format!("reading {}", out.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", out.display()))
}

fn write_cases<T: serde::Serialize>(out: &std::path::Path, cases: &[T]) -> anyhow::Result<()> {
    let json = serde_json::to_string_pretty(cases)?;
    std::fs::write(out, json + "\n").with_context(|| format!("writing {}", out.display()))
}

fn aggregate(args: &Args, root: &std::path::Path) -> anyhow::Result<()> {
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("bench/shared_aggregation.json"));
    let mut cases: Vec<SharedAggregationCase> = read_cases(&out, args.append)?;
    for case in &args.aggregate {
        let (proofs, batch, scores, layout) = parse_aggregation_case(case)?;
        eprintln!("aggregation case: N = {proofs}, B = {batch}, scores {scores}, layout {layout}");
        let result = run_shared_aggregation_case(root, proofs, batch, scores, layout, &args.cache)
            .with_context(|| format!("aggregation case {case}"))?;
        eprintln!("{}", serde_json::to_string(&result)?);
        cases.push(result);
        write_cases(&out, &cases)?;
    }
    println!("{}", shared_aggregation_table(&cases));
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    if !args.aggregate.is_empty() {
        return aggregate(&args, &root);
    }
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("bench/shared_verifier.json"));
    let solc = root.join("scripts/solc");
    let backends = match args.poseidon.as_str() {
        "flex" => vec![PoseidonBackend::FlexGate],
        "gate" => vec![PoseidonBackend::Gate],
        "both" => vec![PoseidonBackend::FlexGate, PoseidonBackend::Gate],
        other => anyhow::bail!("--poseidon {other:?}: use flex, gate or both"),
    };
    let mut cases: Vec<SharedCase> = read_cases(&out, args.append)?;
    for poseidon in backends {
        for &batch in &args.batches {
            eprintln!("case: {poseidon:?}, B = {batch}");
            let case = run_case(batch, !args.no_scores, poseidon, batch <= args.prove_max, &args.cache, &solc)
                .with_context(|| format!("case {poseidon:?} B = {batch}"))?;
            eprintln!("{}", serde_json::to_string(&case)?);
            cases.push(case);
            write_cases(&out, &cases)?;
        }
    }
    println!("{}", table(&cases));
    Ok(())
}
