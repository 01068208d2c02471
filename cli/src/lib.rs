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

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

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

/// What `zkguard relay serve --help` says (the relayer crate's own text is one line).
const RELAY_SERVE_ABOUT: &str =
    "Run the relayer service: an HTTP API that batches clients' rows, proves them and submits the proofs to the Guard";
const RELAY_SERVE_LONG: &str = "\
Run the relayer service until Ctrl-C (graceful shutdown: jobs in flight resume on the next start).

It reads the TOML file given by --config (an example: examples/relayer.toml; every key: relayer/README.md),
then ZKGUARD_RELAYER_* environment overrides (LISTEN, DATABASE, TOKEN, RPC_URL, CHAIN_ID, GUARD,
CONFIRMATIONS, WORKERS, MAX_WAIT_MS). Secrets come only from the environment or a keystore and are
never logged: the API token clients present as a bearer token (ZKGUARD_RELAYER_TOKEN, 16+ characters)
and the signer's key (the variable `chain.signer_key_env` names, ZKGUARD_RELAYER_KEY by default, or
`chain.keystore`).

At start-up it loads every served model and its keys (keygen on the first start), and compares each
with its on-chain registration (circuit digest, mode, batch size, commitment): a mismatch stops it.
Then it serves POST /v1/requests (rows to prove), POST /v1/proofs (a client's ready proof),
GET /v1/jobs/ID, /health and /metrics on `listen`, batches requests per model (on size or after
batching.max_wait_ms), proves them on `proving.workers` workers, submits Guard.submit and follows
each transaction to `chain.confirmations` confirmations, recording everything in the SQLite
`database`. Clients: `zkguard relay submit`, `relay submit-proof`, `relay status`.";

/// The command line definition, with the relayer's `serve` explained.
pub fn command() -> clap::Command {
    Cli::command().mut_subcommand("relay", |relay| {
        relay.mut_subcommand("serve", |serve| serve.about(RELAY_SERVE_ABOUT).long_about(RELAY_SERVE_LONG))
    })
}

/// Parses the command line, runs it and maps errors to a non-zero exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::from_arg_matches(&command().get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let default_log = match cli.command {
        Command::Demo(_) => "warn,zkguard_prover=error",
        _ => "info,halo2_base=error",
    };
    zkguard_prover::logging::init(cli.log.as_deref(), default_log);
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", render_error(&err));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, `outer: cause: root`, each cause once: a cause whose
/// text its parent's message already contains (an error that prints its source itself) is not
/// repeated.
pub fn render_error(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if text.is_empty() || out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
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

#[cfg(test)]
mod tests {
    use super::render_error;

    #[test]
    fn relay_serve_help_explains_the_service() {
        let mut cmd = super::command();
        cmd.build();
        let serve = cmd.find_subcommand_mut("relay").and_then(|r| r.find_subcommand_mut("serve")).unwrap();
        let help = serve.render_long_help().to_string();
        for needle in ["examples/relayer.toml", "ZKGUARD_RELAYER_TOKEN", "registration", "/v1/requests", "--config"] {
            assert!(help.contains(needle), "{needle} missing from: {help}");
        }
    }

    #[test]
    fn solidity_options_are_one_group_under_one_heading() {
        let mut cmd = super::command();
        cmd.build();
        for (path, with_dir) in [
            (&["verifier", "generate"][..], true),
            (&["fixture"][..], true),
            (&["deploy"][..], true),
            (&["demo"][..], false),
        ] {
            let mut sub = &mut cmd;
            for name in path {
                sub = sub.find_subcommand_mut(name).unwrap_or_else(|| panic!("no subcommand {path:?}"));
            }
            let solc = sub.get_arguments().find(|a| a.get_id() == "solc").unwrap_or_else(|| panic!("{path:?}: --solc"));
            assert_eq!(solc.get_help_heading(), Some("Solidity verifier"), "{path:?}");
            assert_eq!(solc.get_env().and_then(|e| e.to_str()), Some("ZKGUARD_SOLC"), "{path:?}");
            let defaults = |a: &clap::Arg| {
                a.get_default_values().iter().map(|v| v.to_string_lossy().into_owned()).collect::<Vec<_>>()
            };
            assert_eq!(defaults(solc), [zkguard_prover::cli::solidity::DEFAULT_SOLC], "{path:?}");
            let dir = sub.get_arguments().find(|a| a.get_id() == "generated_dir");
            assert_eq!(dir.is_some(), with_dir, "{path:?}: --generated-dir");
            if let Some(dir) = dir {
                assert_eq!(dir.get_help_heading(), Some("Solidity verifier"), "{path:?}");
                assert_eq!(defaults(dir), [zkguard_prover::cli::solidity::DEFAULT_GENERATED_DIR], "{path:?}");
            }
        }
    }

    #[test]
    fn each_cause_is_printed_once() {
        let io = std::io::Error::from(std::io::ErrorKind::NotFound);
        let inner = zkguard_prover::artifact::ArtifactError::Io { path: "m.json".into(), source: io };
        let err = anyhow::Error::new(inner).context("loading the model");
        let text = render_error(&err);
        assert_eq!(text.matches("entity not found").count(), 1, "{text}");
        assert!(text.starts_with("loading the model: m.json: "), "{text}");
        let plain = anyhow::anyhow!("root").context("middle").context("top");
        assert_eq!(render_error(&plain), "top: middle: root");
    }
}
