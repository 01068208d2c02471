//! `zkguard relay ...`: the relayer's commands (`serve`, `submit`, `status`, ...) under the one
//! `zkguard` binary, on a tokio runtime.

/// Runs a relayer command.
pub fn run(command: zkguard_relayer::cli::Command) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(zkguard_relayer::cli::run(zkguard_relayer::cli::Cli { command }))
}
