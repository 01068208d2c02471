//! The `zkguard` binary: a thin wrapper around [`zkguard_prover::cli`].

fn main() -> std::process::ExitCode {
    zkguard_prover::cli::main()
}
