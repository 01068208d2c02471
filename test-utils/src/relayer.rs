//! The relayer binary as a child process: a config in a temp dir (SQLite file included), the
//! token and the signer key in its environment, its log in a file, killed on drop.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use zkguard_relayer::client::Client;
use zkguard_relayer::secret::Secret;

use crate::chain::{Deployment, MODEL_ID};
use crate::{cache_dir, data_path, eventually, model_path};

/// The API token the tests use.
pub const TOKEN: &str = "test-token-0123456789abcdef";

/// Settings of one relayer instance.
#[derive(Clone, Debug)]
pub struct Setup {
    /// Working directory (config, database, logs).
    pub dir: PathBuf,
    /// RPC URL (anvil, or the proxy in front of it).
    pub rpc_url: String,
    /// Batch flush window.
    pub max_wait_ms: u64,
    /// Proving workers.
    pub workers: usize,
    /// Fee bump after this long without a receipt.
    pub stuck_after_ms: u64,
    /// Confirmation depth.
    pub confirmations: u64,
    /// Proving memory budget, MB (0: unlimited).
    pub memory_budget_mb: u64,
    /// The model's `attestation` source (`client`, `relayer`), if any.
    pub attestation: Option<String>,
    /// Extra environment of the process (e.g. the attester key).
    pub env: Vec<(String, String)>,
    /// The database URL (default: `relayer.db`, a SQLite file in `dir`).
    pub database_url: Option<String>,
    /// `--role` (default: `all`).
    pub role: Option<String>,
    /// The `[fleet]` section's body (worker name, leases), if any.
    pub fleet: Option<String>,
}

impl Setup {
    /// Defaults for a deployment.
    pub fn new(dir: &std::path::Path, d: &Deployment) -> Self {
        Self {
            dir: dir.to_path_buf(),
            rpc_url: d.anvil.endpoint(),
            max_wait_ms: 300,
            workers: 1,
            stuck_after_ms: 20_000,
            confirmations: 1,
            memory_budget_mb: 0,
            attestation: None,
            env: vec![],
            database_url: None,
            role: None,
            fleet: None,
        }
    }

    /// A process of a fleet: `role` on the PostgreSQL database `url`, named `worker`, with leases
    /// of `lease_ms`.
    pub fn fleet(dir: &std::path::Path, d: &Deployment, url: &str, role: &str, worker: &str, lease_ms: u64) -> Self {
        let mut s = Self::new(dir, d);
        s.database_url = Some(url.into());
        s.role = Some(role.into());
        s.fleet = Some(format!(
            "worker_name = \"{worker}\"\nprover_lease_ms = {lease_ms}\nsubmitter_lease_ms = {lease_ms}\n"
        ));
        s
    }

    /// The database file.
    pub fn database(&self) -> PathBuf {
        self.dir.join("relayer.db")
    }

    fn write_config(&self, d: &Deployment) -> PathBuf {
        let config = format!(
            r#"
listen = "127.0.0.1:0"
database = "{database}"
address_file = "address"
{fleet}
[chain]
rpc_url = "{rpc}"
chain_id = 31337
guard = "{guard}"
confirmations = {confirmations}
poll_interval_ms = 100
stuck_after_ms = {stuck}
max_backoff_ms = 1000

[proving]
workers = {workers}
memory_budget_mb = {memory}
cache_dir = "{cache}"
insecure_dev_srs = true

[batching]
max_wait_ms = {wait}

[[models]]
id = "{MODEL_ID}"
path = "{model}"
calibration = "{data}"
batch_size = {batch}
{aggregate}{attestation}"#,
            database = self.database_url.as_deref().unwrap_or("relayer.db"),
            fleet = self.fleet.as_ref().map(|f| format!("\n[fleet]\n{f}\n")).unwrap_or_default(),
            rpc = self.rpc_url,
            guard = d.guard,
            confirmations = self.confirmations,
            stuck = self.stuck_after_ms,
            workers = self.workers,
            memory = self.memory_budget_mb,
            cache = cache_dir().display(),
            wait = self.max_wait_ms,
            model = model_path().display(),
            data = data_path().display(),
            batch = d.circuit.batch_size,
            aggregate = d.circuit.aggregate.map(|n| format!("aggregate = {n}\n")).unwrap_or_default(),
            attestation = self.attestation.as_ref().map(|a| format!("attestation = \"{a}\"\n")).unwrap_or_default(),
        );
        let path = self.dir.join("relayer.toml");
        std::fs::write(&path, config).unwrap();
        path
    }
}

/// The relayer binary: `$ZKGUARD_RELAYER_BIN`, else `zkguard-relayer` in the cargo target
/// directory of the running executable (an integration test runs from `target/<profile>/deps/`,
/// the benchmark binary from `target/<profile>/`; cargo builds the relayer's binary before its
/// integration tests run).
pub fn relayer_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("ZKGUARD_RELAYER_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("current exe");
    let mut dir = exe.parent().expect("the executable has a directory").to_path_buf();
    if dir.file_name().is_some_and(|name| name == "deps") {
        dir.pop();
    }
    dir.join("zkguard-relayer")
}

/// The relayer's command for `setup` (config written, token and signer key in its environment,
/// stderr to `log`); `crash_at` sets the TEST-ONLY crash point.
fn command(setup: &Setup, d: &Deployment, log: &std::path::Path, crash_at: Option<&str>) -> Command {
    let config = setup.write_config(d);
    let mut cmd = Command::new(relayer_binary());
    cmd.arg("serve")
        .arg("--config")
        .arg(&config)
        .arg("--role")
        .arg(setup.role.as_deref().unwrap_or("all"))
        .env("ZKGUARD_RELAYER_TOKEN", TOKEN)
        // Anvil's PUBLIC dev key #1: local anvil only.
        .env("ZKGUARD_RELAYER_KEY", &d.relayer_key)
        .env(zkguard_prover::logging::LOG_ENV, "info,zkguard_prover=warn")
        .env_remove(zkguard_relayer::crash::CRASH_ENV)
        .env_remove(zkguard_relayer::crash::STALL_ENV)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap());
    if let Some(point) = crash_at {
        cmd.env(zkguard_relayer::crash::CRASH_ENV, point);
    }
    for (k, v) in &setup.env {
        cmd.env(k, v);
    }
    cmd
}

/// A running relayer.
pub struct Relayer {
    /// The process.
    pub child: Child,
    /// Its API.
    pub client: Client,
    /// Its base URL.
    pub url: String,
    /// Its log file.
    pub log: PathBuf,
}

impl Relayer {
    /// Runs the binary until it exits by itself (a start-up refusal); returns its status and log.
    pub fn run_to_exit(setup: &Setup, d: &Deployment) -> (std::process::ExitStatus, String) {
        let log = setup.dir.join("refused.log");
        let mut child = command(setup, d, &log, None).spawn().expect("spawn zkguard-relayer");
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("the relayer did not exit: {}", std::fs::read_to_string(&log).unwrap_or_default());
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        (status, std::fs::read_to_string(&log).unwrap_or_default())
    }

    /// Starts the binary; `crash_at` sets the TEST-ONLY crash point. Returns once it serves.
    pub async fn start(setup: &Setup, d: &Deployment, crash_at: Option<&str>) -> Self {
        let address_file = setup.dir.join("address");
        let _ = std::fs::remove_file(&address_file);
        let log = setup.dir.join(format!(
            "relayer-{}.log",
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
        ));
        let mut child = command(setup, d, &log, crash_at).spawn().expect("spawn zkguard-relayer");
        let addr = eventually("the relayer to listen", Duration::from_secs(240), || {
            let status = child.try_wait().unwrap();
            let log = log.clone();
            let address_file = address_file.clone();
            async move {
                if let Some(status) = status {
                    panic!(
                        "relayer exited early ({status}); log:\n{}",
                        std::fs::read_to_string(&log).unwrap_or_default()
                    );
                }
                std::fs::read_to_string(&address_file).ok().filter(|s| !s.is_empty())
            }
        })
        .await;
        let url = format!("http://{addr}");
        Self { child, client: Client::new(&url, Secret::new(TOKEN)), url, log }
    }

    /// The log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the process exits (a crash point fired); returns its status.
    pub async fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let child = &mut self.child;
        eventually("the relayer to exit", timeout, || {
            let status = child.try_wait().unwrap();
            async move { status }
        })
        .await
    }

    /// SIGTERM (graceful shutdown); returns the exit status.
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("kill -TERM");
        assert!(sent.success());
        self.wait_exit(Duration::from_secs(30)).await
    }

    /// Sends `signal` (`STOP`, `CONT`, `KILL`) to the process.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args([&format!("-{signal}"), &pid]).status().expect("kill");
        assert!(sent.success(), "kill -{signal} {pid}");
    }

    /// This process's `/metrics` (every role serves it).
    pub async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.url)).await.unwrap().text().await.unwrap()
    }

    /// SIGKILL.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Relayer {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!("---- relayer log {} ----\n{}", self.log.display(), self.log_text());
        }
    }
}
