//! The prover's subcommands of the `zkguard` command line: clap-derive definitions and dispatch.
//! Each subcommand lives in its own file, calls the library and prints a short summary; option
//! groups several commands share are in [`common`] and [`solidity`]. The `zkguard` binary itself
//! is in the `zkguard-cli` crate (`cli/`), which adds the commands that talk to a chain.

pub mod aggregate;
pub mod common;
pub mod context;
pub mod fixture;
mod keygen;
mod model;
mod prove;
pub mod solidity;
pub mod verifier;
pub mod verify;
mod vk;

use clap::{Parser, Subcommand};

/// The prover's command tree alone, as the `zkguard` binary parses it (`zkguard_cli::Cli`
/// flattens [`Command`] and adds the chain commands and `--log`). Tests parse with it.
#[derive(Debug, Parser)]
#[command(name = "zkguard", version, about = "The prover's subcommands of zkguard", long_about = None)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Model files: import (validate + quantize) and check (quantized vs float accuracy).
    #[command(subcommand)]
    Model(model::ModelCommand),
    /// Generate (or load from the cache) the proving and verifying keys of a model's circuit.
    Keygen(keygen::KeygenArgs),
    /// Prove a model's outputs on a batch of private inputs; writes a proof artifact (JSON).
    Prove(prove::ProveArgs),
    /// Verify a proof artifact natively (with --vk FILE or the cached keys); refuses any field the
    /// proof does not back, and checks what you expect (--model, --commitment, --circuit, --context).
    Verify(verify::VerifyArgs),
    /// Verifying keys: `vk export` writes the artifact `verify --vk` needs (no proving key).
    #[command(subcommand)]
    Vk(vk::VkCommand),
    /// Solidity verifiers: generate, compile and size-check the verifier of a cached circuit.
    #[command(subcommand)]
    Verifier(verifier::VerifierCommand),
    /// Aggregate N Poseidon-transcript proofs of one circuit into one proof (batch mode).
    Aggregate(aggregate::AggregateArgs),
    /// Run direct or batch mode end to end and write `contracts/fixtures/<mode>.json`.
    Fixture(Box<fixture::FixtureArgs>),
    /// Print the context field element a proof must carry (for `prove --context`).
    Context(context::ContextArgs),
}

/// Runs one subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Model(cmd) => model::run(cmd),
        Command::Keygen(args) => keygen::run(args),
        Command::Prove(args) => prove::run_prove(args),
        Command::Verify(args) => verify::run_verify(args),
        Command::Vk(cmd) => vk::run(cmd),
        Command::Verifier(cmd) => verifier::run_verifier(cmd),
        Command::Aggregate(args) => aggregate::run_aggregate(args),
        Command::Fixture(args) => fixture::run_fixture(*args),
        Command::Context(args) => context::run_context(args),
    }
}
