//! The `zkguard` command line: the prover's subcommands (`model`, `keygen`, `prove`, `verify`,
//! `verifier`, `aggregate`, `fixture`, `context`) and the ones that talk to a chain, which the
//! prover library keeps out of its own dependencies: `deploy`, `relay` and `demo`.
//!
//! - [`deploy`]: contracts, verifiers and model registration on an RPC endpoint.
//! - [`relay`]: the relayer service and its client commands.
//! - [`demo`]: the whole fraud-guard flow on a local anvil, with a report.

pub mod attest;
pub mod demo;
pub mod deploy;
pub mod relay;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// zkguard: verifiable ML guards for Ethereum. Turns small fraud/anomaly models into Halo2 KZG
/// circuits, proves their outputs on private inputs, aggregates the proofs, generates Solidity
/// verifiers, and submits the verified outputs to guard contracts that pause or filter.
///
/// Start with `zkguard demo` (everything on a local anvil), or go step by step:
/// `model import` -> `model check` -> `keygen` -> `prove` -> `aggregate` -> `verifier generate`
/// -> `deploy` -> `relay serve`.
#[derive(Debug, Parser)]
#[command(name = "zkguard", version, about, long_about)]
pub struct Cli {
    /// Log filter (tracing env-filter syntax), e.g. `info` or `zkguard_prover=debug` (default
    /// `info`; `warn` for `demo`, whose stage lines say what happens).
    #[arg(long, global = true, env = "ZKGUARD_LOG")]
    pub log: Option<String>,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The prover's subcommands.
    #[command(flatten)]
    Prover(zkguard_prover::cli::Command),
    /// The input commitments of rows, as the prover will commit them (what an attester signs).
    CommitInputs(attest::CommitInputsArgs),
    /// Sign an input attestation (EIP-712) as a data provider, with a key from the environment.
    Attest(Box<attest::AttestArgs>),
    /// Deploy the contracts (and a model's verifier and registration) to an RPC endpoint.
    Deploy(Box<deploy::DeployArgs>),
    /// The relayer: `relay serve` runs the service; `submit`, `submit-proof` and `status` are its clients.
    Relay {
        /// What to do.
        #[command(subcommand)]
        command: zkguard_relayer::cli::Command,
    },
    /// The whole fraud-guard flow on a local anvil, with a report (INSECURE dev setup, local only).
    Demo(Box<demo::DemoArgs>),
}

/// Parses the command line, runs it and maps errors to a non-zero exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_log = match cli.command {
        Command::Demo(_) => "warn,zkguard_prover=error",
        _ => "info,halo2_base=error",
    };
    let filter = tracing_subscriber::EnvFilter::try_new(cli.log.as_deref().unwrap_or(default_log))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Prover(command) => zkguard_prover::cli::run(command),
        Command::CommitInputs(args) => attest::commit_inputs(args),
        Command::Attest(args) => attest::attest(*args),
        Command::Deploy(args) => deploy::run(*args),
        Command::Relay { command } => relay::run(command),
        Command::Demo(args) => demo::run(*args).map(|_| ()),
    }
}
