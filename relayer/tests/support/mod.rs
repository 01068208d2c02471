//! Test support for the relayer's end-to-end tests: a real anvil with the registry, Guard,
//! circuit breaker, a protected vault and the generated verifier of the breast-cancer logistic
//! model deployed; the relayer binary run as a child process on a temp-dir SQLite file; a
//! loopback TCP proxy that can cut the relayer off the chain. Anvil's dev keys are PUBLIC and
//! only ever used against this local anvil.

#![allow(dead_code)]

pub mod chain;
pub mod proxy;
pub mod relayer;

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
