//! The Solidity options every command that generates a verifier shares (`verifier generate`,
//! `fixture`, `deploy`, `demo`): the compiler (`--solc`) and where generated verifiers go
//! (`--generated-dir`), as clap option groups under one help heading, flattened where needed
//! (foundry's `RpcOpts` pattern); and the compiler's resolution.

use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::Args;

/// Default directory of generated verifiers: under the current directory, never the repository's
/// committed `contracts/src/generated`.
pub const DEFAULT_GENERATED_DIR: &str = ".zkguard/generated";
/// Default Solidity compiler path (see [`resolve_solc`]).
pub const DEFAULT_SOLC: &str = "scripts/solc";

/// The Solidity compiler.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Solidity verifier")]
pub struct SolcArgs {
    /// The solc-compatible compiler (zkguard's solcjs shim, `scripts/solc` in a checkout; found
    /// from the current directory, else in the checkout this binary was built from).
    #[arg(long, value_name = "PATH", env = "ZKGUARD_SOLC", default_value = DEFAULT_SOLC)]
    pub solc: PathBuf,
}

impl SolcArgs {
    /// The compiler to run ([`resolve_solc`]).
    pub fn resolve(&self) -> anyhow::Result<PathBuf> {
        resolve_solc(&self.solc)
    }
}

/// The Solidity compiler and where generated verifiers are written.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Solidity verifier")]
pub struct SolidityArgs {
    /// The compiler.
    #[command(flatten)]
    pub compiler: SolcArgs,
    /// Directory of generated verifiers (one sub-directory per circuit), relative to the current
    /// directory. The repository's committed verifiers live in contracts/src/generated: pass it
    /// explicitly to replace them.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_GENERATED_DIR)]
    pub generated_dir: PathBuf,
}

/// The Solidity compiler to run: `given` when it exists; for the default `scripts/solc` run from
/// outside a checkout, the shim of the checkout this binary was built from; otherwise an error
/// that says how to point at it (not how to install it: the shim is part of a checkout).
pub fn resolve_solc(given: &Path) -> anyhow::Result<PathBuf> {
    if given.exists() {
        return Ok(given.to_path_buf());
    }
    if given == Path::new(DEFAULT_SOLC) {
        let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(DEFAULT_SOLC);
        if built_from.exists() {
            return Ok(built_from);
        }
    }
    let cwd = std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_else(|_| "?".into());
    bail!(
        "no Solidity compiler at {} (relative to {cwd}): pass --solc PATH (or set ZKGUARD_SOLC) to zkguard's \
         scripts/solc shim in a checkout, whose `bash scripts/setup` installs the compiler it runs",
        given.display()
    )
}

/// The command line as typed (program name without its directory), for generated headers and
/// fixtures.
pub(crate) fn command_line() -> String {
    let args: Vec<String> = std::env::args().collect();
    let program = args
        .first()
        .and_then(|a| Path::new(a).file_name())
        .map_or("zkguard".into(), |n| n.to_string_lossy().into_owned());
    std::iter::once(program).chain(args.into_iter().skip(1)).collect::<Vec<_>>().join(" ")
}
