//! Options shared by several subcommands (SRS, cache, model loading, circuit layout) and their
//! resolution.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Args;
use sha2::{Digest, Sha256};

use crate::circuit::config::Layout;
use crate::circuit::{AppCircuitConfig, AppShape, Visibility};
use crate::keys::srs::INSECURE_WARNING;
use crate::keys::SrsSource;
use crate::quant::QuantizedModel;

/// Where KZG parameters come from.
#[derive(Debug, Clone, Args)]
pub struct SrsArgs {
    /// Ceremony parameters file (halo2 ParamsKZG format). Requires --srs-sha256.
    #[arg(long, value_name = "FILE", requires = "srs_sha256", conflicts_with = "insecure_dev_srs")]
    pub srs: Option<PathBuf>,
    /// Pinned sha256 (hex) of the --srs file.
    #[arg(long, value_name = "HEX")]
    pub srs_sha256: Option<String>,
    /// Use the INSECURE deterministic development setup (anyone can forge proofs). Local testing only.
    #[arg(long)]
    pub insecure_dev_srs: bool,
}

impl SrsArgs {
    /// The source, or an error asking for an explicit choice.
    pub fn source(&self) -> anyhow::Result<SrsSource> {
        let source = SrsSource::choose(self.srs.as_deref(), self.srs_sha256.as_deref(), self.insecure_dev_srs)
            .context("choose the KZG parameters: --srs FILE --srs-sha256 HEX (a ceremony file), or --insecure-dev-srs (development only)")?;
        if source == SrsSource::InsecureDev {
            banner_insecure();
        }
        Ok(source)
    }
}

impl SrsArgs {
    /// Whether any SRS flag was given.
    pub fn given(&self) -> bool {
        self.srs.is_some() || self.srs_sha256.is_some() || self.insecure_dev_srs
    }
}

/// Prints the loud INSECURE banner on stderr, once per process (later calls and the library's
/// own warning stay silent).
pub fn banner_insecure() {
    if !crate::keys::srs::mark_insecure_announced() {
        eprintln!("\n!!! {INSECURE_WARNING}\n");
    }
}

/// Where keys and generated parameters are cached.
#[derive(Debug, Clone, Args)]
pub struct CacheArgs {
    /// Cache directory for KZG parameters and keys.
    #[arg(long, value_name = "DIR", env = "ZKGUARD_CACHE", default_value = ".zkguard")]
    pub cache_dir: PathBuf,
}

/// KZG parameters and the key cache together (the commands that load keys by digest).
#[derive(Debug, Clone, Args)]
pub struct SrsCacheArgs {
    /// KZG parameters.
    #[command(flatten)]
    pub srs: SrsArgs,
    /// Cache.
    #[command(flatten)]
    pub cache: CacheArgs,
}

impl SrsCacheArgs {
    /// The KZG parameters' source ([`SrsArgs::source`]).
    pub fn source(&self) -> anyhow::Result<SrsSource> {
        self.srs.source()
    }
}

/// How to get a quantized model.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// A model file: a float model (`zkguard-model`, needs --calibration) or a quantized one
    /// (`zkguard-quantized`, from `zkguard model import`).
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// CSV of sample rows to choose the fixed-point scale from (float models only).
    #[arg(long, value_name = "CSV")]
    pub calibration: Option<PathBuf>,
    /// How the circuit holds the model: `committed` (private parameters behind the Poseidon
    /// commitment; one circuit and key per shape) or `fixed` (parameters are constants of the
    /// circuit: one circuit and key per model, the verifying key pins it, faster proofs; the
    /// proving key then holds the weights).
    #[arg(long, value_enum, default_value_t = Visibility::Committed)]
    pub visibility: Visibility,
}

impl ModelArgs {
    /// Loads (and if needed calibrates) the quantized model.
    pub fn load(&self) -> anyhow::Result<QuantizedModel> {
        Ok(crate::load::load_quantized(&self.model, self.calibration.as_deref())?)
    }
}

/// sha256 (hex) of a file.
pub fn file_sha256(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(hex::encode(Sha256::digest(bytes)))
}

/// A clap value parser for counts that must be at least 1 (batch sizes, column budgets, ...).
pub fn positive(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// Checks, before any expensive work, that `out` can be written: not a directory, its directory
/// exists and is writable, and it is none of `inputs` (writing would replace an input).
pub fn check_output(out: &Path, inputs: &[&Path]) -> anyhow::Result<()> {
    if out.is_dir() {
        bail!("output {} is a directory; give a file name", out.display());
    }
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        bail!("cannot write {}: directory {} does not exist", out.display(), dir.display());
    }
    if let Ok(out_canonical) = out.canonicalize() {
        for input in inputs {
            if input.canonicalize().is_ok_and(|i| i == out_canonical) {
                bail!("output {} is the input file {}: refusing to replace it", out.display(), input.display());
            }
        }
    }
    tempfile::NamedTempFile::new_in(&dir)
        .map(drop)
        .with_context(|| format!("cannot write {}: directory {} is not writable", out.display(), dir.display()))
}

/// The circuit layout and, for the compact layout, its column budget (`keygen` and `prove`).
#[derive(Debug, Clone, Args)]
pub struct LayoutArgs {
    /// Circuit layout: `compact` (few tall columns, the flex-gate sponge: ~2-3 KB proofs, a
    /// Solidity verifier that fits on chain; for direct on-chain verification) or `fast` (the
    /// Poseidon gate and many short columns: several times faster proving, 7-27 KB proofs, a
    /// verifier over EIP-170; for proofs verified off chain). Part of the circuit digest:
    /// `keygen` and `prove` must agree; `verify` reads it from the keys.
    #[arg(long, value_enum, default_value_t = Layout::Compact)]
    pub layout: Layout,
    /// Advice-column budget of the compact layout, at least 1 (default 4; fewer, taller columns
    /// make aggregation cheaper). Refused with `--layout fast`, which sizes its own columns.
    #[arg(long, value_parser = positive)]
    pub max_columns: Option<usize>,
}

impl LayoutArgs {
    /// The circuit configuration of `shape` in this layout (a budget given with `--layout fast`
    /// is refused before any layout work).
    pub fn config(&self, shape: &AppShape) -> anyhow::Result<AppCircuitConfig> {
        let budget = self.layout.column_budget(self.max_columns).map_err(|_| {
            anyhow::anyhow!(
                "--max-columns applies to --layout compact only: --layout fast chooses its own columns \
                 (drop --max-columns, or use --layout compact)"
            )
        })?;
        Ok(AppCircuitConfig::for_layout(shape, self.layout, budget)?)
    }
}
