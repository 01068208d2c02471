//! The `zkguard` binary: a thin wrapper around [`zkguard_cli::main`].

fn main() -> std::process::ExitCode {
    zkguard_cli::main()
}
