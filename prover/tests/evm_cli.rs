//! The on-chain subcommands' clap definitions and `run_*` functions
//! (`zkguard_prover::cli::{verifier, aggregate, fixture, context}`), as the `zkguard` CLI calls them:
//! argument definitions are consistent, `context` prints the known answer's context, `verifier
//! generate` writes a verifier for a cached circuit, and `fixture --mode direct` writes a fixture that
//! verifies.

use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser, Subcommand};
use zkguard_prover::circuit::AppShape;
use zkguard_prover::cli::aggregate::AggregateArgs;
use zkguard_prover::cli::context::{run_context, ContextArgs};
use zkguard_prover::cli::fixture::{run_fixture, FixtureArgs};
use zkguard_prover::cli::verifier::{run_verifier, VerifierCommand};
use zkguard_prover::demo;
use zkguard_prover::evm::encode_calldata;
use zkguard_prover::evm::exec::evm_verify;
use zkguard_prover::keys::{load_params, AppKeys, SrsSource};
use zkguard_prover::pipeline::fixture::Fixture;

#[derive(Debug, Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(subcommand)]
    Verifier(VerifierCommand),
    // Boxed, as the CLI's `Command` enum should (clippy: large_enum_variant).
    Fixture(Box<FixtureArgs>),
    Aggregate(AggregateArgs),
    Context(ContextArgs),
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_path_buf()
}

fn parse(args: &[&str]) -> Command {
    Cli::try_parse_from(std::iter::once("zkguard").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
        .command
}

#[test]
fn argument_definitions_are_consistent() {
    Cli::command().debug_assert();
    assert!(Cli::try_parse_from(["zkguard", "verifier", "generate"]).is_err(), "--circuit or --proof is required");
    assert!(Cli::try_parse_from(["zkguard", "aggregate", "-o", "x.json"]).is_err(), "--proof is required");
    assert!(Cli::try_parse_from(["zkguard", "fixture", "--model", "m.json"]).is_err(), "--model requires --data");
    let err = Cli::try_parse_from(["zkguard", "context", "--chain-id", "1"]).unwrap_err().to_string();
    assert!(err.contains("--guard") && err.contains("--nonce"), "context requires what it binds: {err}");
}

#[test]
fn context_command_runs() {
    let Command::Context(args) = parse(&[
        "context",
        "--chain-id",
        "31337",
        "--guard",
        "0x00000000000000000000000000000000000000A1",
        "--model-id",
        "1",
        "--nonce",
        "7",
        "--issued-at",
        "1700000000",
        "--subject",
        "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "--subject",
        "0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    ]) else {
        panic!("not a context command")
    };
    assert_eq!(args.subjects.len(), 2);
    run_context(args).unwrap();
}

#[test]
fn verifier_generate_and_fixture_commands_run() {
    let cache = root().join("target/zkguard-test-cache");
    let out = tempfile::tempdir().unwrap();
    let generated = out.path().join("generated");
    let solc = root().join("scripts/solc");

    // A cached circuit (the demo shape) for `verifier generate --circuit`.
    let shape = AppShape::new(demo::demo_shape(4), 4);
    let config = AppKeys::choose_config(&shape, 1).unwrap();
    let params = load_params(&SrsSource::InsecureDev, config.k(), &cache).unwrap();
    let keys = AppKeys::load_or_generate(config, &params, &SrsSource::InsecureDev, &cache).unwrap();
    let common = ["--insecure-dev-srs", "--cache-dir", cache.to_str().unwrap(), "--solc", solc.to_str().unwrap()];
    let mut args = vec!["verifier", "generate", "--circuit", &keys.digest, "--name", "cli-test"];
    args.extend(["--generated-dir", generated.to_str().unwrap()]);
    args.extend(common);
    let Command::Verifier(cmd) = parse(&args) else { panic!("not a verifier command") };
    run_verifier(cmd).unwrap();
    let source = std::fs::read_to_string(generated.join("cli-test/Halo2Verifier.sol")).unwrap();
    // The header names the process's command line (here the test binary's) and the digest.
    assert!(source.starts_with("// GENERATED FILE") && source.contains(&keys.digest));
    assert!(generated.join("cli-test/Halo2Verifier.json").exists());

    // `fixture --mode direct` with the demo model.
    let fixture_path = out.path().join("direct.json");
    let mut args = vec!["fixture", "--mode", "direct", "--samples", "3", "-o", fixture_path.to_str().unwrap()];
    args.extend(["--generated-dir", generated.to_str().unwrap()]);
    args.extend(common);
    let Command::Fixture(fixture_args) = parse(&args) else { panic!("not a fixture command") };
    run_fixture(*fixture_args).unwrap();
    let fixture = Fixture::read(&fixture_path).unwrap();
    assert_eq!((fixture.sample_count, fixture.flagged_count, fixture.subjects.len()), (3, 2, 3));
    let code = fixture.verifier_code().unwrap();
    let calldata = encode_calldata(&fixture.instance_values().unwrap(), &fixture.proof_bytes().unwrap());
    evm_verify(&code, &calldata).expect("the fixture's verifier accepts the fixture's proof");
}
