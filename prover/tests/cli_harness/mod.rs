//! What the CLI tests share: the workspace root, the test key cache, and running `zkguard`
//! in-process from its arguments.

use std::path::{Path, PathBuf};

use clap::Parser;
use zkguard_prover::cli::{self, Cli};

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
