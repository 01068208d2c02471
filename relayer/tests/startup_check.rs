//! The start-up registration check on a real anvil with the direct B = 4 deployment: a relayer
//! configured for another batch size, for batch mode, for an unregistered model id, or for a
//! retired model refuses to start, naming the model, the field, and the configured and registered
//! values; no key is loaded first (batch mode would otherwise generate aggregation keys for
//! minutes), so each refusal takes about a second. The matching configuration starts.

mod support;

use std::time::Duration;

use support::chain::Deployment;
use support::relayer::{relayer_binary, Relayer, Setup, TOKEN};
use support::{cache_dir, data_path, model_path};

/// Writes a config for `d` with the given model section lines and runs `serve` until it exits;
/// returns its exit success and its log.
async fn start_with(dir: &std::path::Path, d: &Deployment, model: &str) -> (bool, String) {
    let config = format!(
        r#"
listen = "127.0.0.1:0"
database = "relayer.db"

[chain]
rpc_url = "{rpc}"
chain_id = 31337
guard = "{guard}"

[proving]
cache_dir = "{cache}"
insecure_dev_srs = true

[[models]]
path = "{model_path}"
calibration = "{data}"
{model}
"#,
        rpc = d.anvil.endpoint(),
        guard = d.guard,
        cache = cache_dir().display(),
        model_path = model_path().display(),
        data = data_path().display(),
    );
    let path = dir.join("relayer.toml");
    std::fs::write(&path, config).unwrap();
    let mut cmd = std::process::Command::new(relayer_binary());
    cmd.arg("serve")
        .arg("--config")
        .arg(&path)
        .env("ZKGUARD_RELAYER_TOKEN", TOKEN)
        // Anvil's PUBLIC dev key #1: local anvil only.
        .env("ZKGUARD_RELAYER_KEY", &d.relayer_key)
        .env(zkguard_prover::logging::LOG_ENV, "info,zkguard_prover=warn")
        .stdout(std::process::Stdio::null());
    let run = tokio::task::spawn_blocking(move || cmd.output().unwrap());
    let output = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the relayer did not exit within 120 s (it should refuse at start-up)")
        .unwrap();
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relayer_whose_config_does_not_match_the_registration_refuses_to_start() {
    let d = Deployment::start(4).await;
    let dir = tempfile::tempdir().unwrap();

    // Another batch size: another circuit.
    let started = std::time::Instant::now();
    let (ok, log) = start_with(dir.path(), &d, "id = \"1\"\nbatch_size = 8").await;
    assert!(!ok, "started with batch_size = 8 against the B = 4 verifier:\n{log}");
    assert!(log.contains("refusing to start: model 1 (direct mode)"), "{log}");
    assert!(log.contains("batch_size is 8 in the config but 4 in the registry"), "{log}");
    assert!(log.contains("circuit_digest is 0x"), "{log}");
    assert!(!log.contains("model loaded"), "keys were loaded before the check:\n{log}");
    eprintln!("batch-size mismatch refused in {:.1} s", started.elapsed().as_secs_f64());

    // Batch mode (N = 1) against the direct verifier: refused before any aggregation keygen.
    let started = std::time::Instant::now();
    let (ok, log) = start_with(dir.path(), &d, "id = \"1\"\nbatch_size = 4\naggregate = 1").await;
    assert!(!ok, "started in batch mode against the direct verifier:\n{log}");
    assert!(log.contains("model 1 (aggregate 1 mode)"), "{log}");
    assert!(log.contains("accumulator_limbs is 12 in the config but 0 in the registry"), "{log}");
    assert!(log.contains("circuit_digest is 0x"), "{log}");
    assert!(!log.contains("aggregation keys"), "aggregation keys were touched before the check:\n{log}");
    assert!(started.elapsed() < Duration::from_secs(60), "batch mode took {:?} to refuse", started.elapsed());

    // An id the registry does not know.
    let (ok, log) = start_with(dir.path(), &d, "id = \"2\"\nbatch_size = 4").await;
    assert!(!ok);
    assert!(log.contains("model 2 is not registered in the Guard's registry"), "{log}");

    // The matching configuration starts (and serves).
    let relayer = Relayer::start(&Setup::new(dir.path(), &d), &d, None).await;
    assert!(relayer.log_text().contains("the registered verifier matches the configuration"), "{}", relayer.log_text());
    drop(relayer);

    // Retired: refused too.
    d.retire().await;
    let (ok, log) = start_with(dir.path(), &d, "id = \"1\"\nbatch_size = 4").await;
    assert!(!ok);
    assert!(log.contains("model 1 is retired"), "{log}");
}
