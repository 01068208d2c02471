//! Test support shared by every zkguard crate's tests and by the benchmarks (never shipped):
//! a real anvil with providers for its accounts ([`anvil`]), the deployed stack and the
//! logistic model's circuit ([`chain`]), the relayer binary run as a child process
//! ([`relayer`]), a throwaway PostgreSQL server ([`postgres`]), a loopback TCP proxy that can cut
//! a client off the chain ([`proxy`]), and the
//! repository's paths. Anvil's dev keys are PUBLIC and only ever used against a local anvil.

pub mod anvil;
pub mod chain;
pub mod outcomes;
pub mod postgres;
pub mod proxy;
pub mod relayer;

pub use anvil::{anvil_path, artifact_bytecode, TestCtx};

use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The prover's key cache shared by all tests (keygen once per circuit shape).
pub fn cache_dir() -> PathBuf {
    repo_root().join("target/zkguard-test-cache")
}

/// The model every test serves.
pub fn model_path() -> PathBuf {
    repo_root().join("models/breast_cancer_logistic.json")
}

/// Its calibration data (also the rows the tests submit).
pub fn data_path() -> PathBuf {
    repo_root().join("data/breast_cancer_logistic.csv")
}

/// Polls `f` every 100 ms until it returns `Some`, or panics after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: std::time::Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
