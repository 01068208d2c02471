//! `zkguard-relayer`: see `zkguard_relayer::cli`.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // The log filter: `$ZKGUARD_LOG` (as for `zkguard`), else this default.
    zkguard_prover::logging::init(None, "info,zkguard_prover=warn");
    zkguard_relayer::cli::run(zkguard_relayer::cli::Cli::parse()).await
}
