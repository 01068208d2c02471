//! `shared-verifier-bench`: the shared verifier's bytes and gas against the batch size, next to
//! snark-verifier's unrolled verifier (see `zkguard_prover::bench::shared_verifier`). Prints a markdown
//! table and writes JSON (rewritten after every case, so a long run keeps what it measured).
//!
//! `cargo run -p zkguard-prover --bin shared-verifier-bench -- --batches 1,16,64 --prove-max 64`

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
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
    /// Output JSON.
    #[arg(long, default_value = "bench/shared_verifier.json")]
    out: PathBuf,
    /// Keep the cases already in the output file and add these after them.
    #[arg(long)]
    append: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let solc = root.join("scripts/solc");
    let backends = match args.poseidon.as_str() {
        "flex" => vec![PoseidonBackend::FlexGate],
        "gate" => vec![PoseidonBackend::Gate],
        "both" => vec![PoseidonBackend::FlexGate, PoseidonBackend::Gate],
        other => anyhow::bail!("--poseidon {other:?}: use flex, gate or both"),
    };
    let mut cases: Vec<SharedCase> = if args.append && args.out.exists() {
        let text = std::fs::read_to_string(&args.out).with_context(|| format!("reading {}", args.out.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", args.out.display()))?
    } else {
        vec![]
    };
    for poseidon in backends {
        for &batch in &args.batches {
            eprintln!("case: {poseidon:?}, B = {batch}");
            let case = run_case(batch, !args.no_scores, poseidon, batch <= args.prove_max, &args.cache, &solc)
                .with_context(|| format!("case {poseidon:?} B = {batch}"))?;
            eprintln!("{}", serde_json::to_string(&case)?);
            cases.push(case);
            let json = serde_json::to_string_pretty(&cases)?;
            std::fs::write(&args.out, json + "\n").with_context(|| format!("writing {}", args.out.display()))?;
        }
    }
    println!("{}", table(&cases));
    Ok(())
}
