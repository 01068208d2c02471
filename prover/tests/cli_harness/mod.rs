//! What the CLI tests share: the workspace root, the test key cache, running `zkguard`
//! in-process from its arguments, and a model file with rows to prove.

use std::path::{Path, PathBuf};

use clap::Parser;
use zkguard_prover::artifact::{self, QuantizedFile};
use zkguard_prover::cli::{self, Cli};
use zkguard_prover::demo;
use zkguard_prover::quant::QuantizedModel;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_path_buf()
}

/// The key cache the tests share (`target/zkguard-test-cache`).
pub fn cache() -> String {
    root().join("target/zkguard-test-cache").to_string_lossy().into_owned()
}

/// Runs `zkguard ARGS` in this process.
pub fn run(args: &[&str]) -> anyhow::Result<()> {
    let parsed = Cli::try_parse_from(std::iter::once("zkguard").chain(args.iter().copied()))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    cli::run(parsed.command)
}

/// A path as a command-line argument.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The error of a refused command, with its causes.
pub fn err_of(result: anyhow::Result<()>) -> String {
    format!("{:#}", result.expect_err("expected a refusal"))
}

/// Writes `model` as the quantized file `<stem>.json` and three demo rows as `rows.csv` (values
/// in fixed point / 2^10) in `dir`.
pub fn write_inputs(dir: &Path, model: &QuantizedModel, stem: &str) -> (PathBuf, PathBuf) {
    let model_path = dir.join(format!("{stem}.json"));
    artifact::write_json(&model_path, &QuantizedFile::new(model.clone(), "0".repeat(64))).unwrap();
    let mut csv = model.features.join(",") + "\n";
    for row in demo::demo_rows(model.features.len(), 3, 0) {
        let cells: Vec<String> = row.iter().map(|v| format!("{}", *v as f64 / 1024.0)).collect();
        csv += &(cells.join(",") + "\n");
    }
    let csv_path = dir.join("rows.csv");
    std::fs::write(&csv_path, csv).unwrap();
    (model_path, csv_path)
}
