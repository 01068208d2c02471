//! A throwaway PostgreSQL server for tests and benches (never for deployments): `initdb` into a
//! fresh directory under `target/`, `pg_ctl start` on a free loopback port with password
//! authentication over TCP, stopped (and its directory removed) on drop.
//!
//! PostgreSQL refuses to run as root: as root, the data directory is given to the `postgres`
//! system user and the server runs as that user (`runuser`); without root it runs as the caller.
//! The binaries are looked up in `$ZKGUARD_PG_BIN`, on `PATH`, in `/usr/local/bin` and in
//! `/usr/lib/postgresql/*/bin` (`scripts/setup` installs the distribution's packages when none
//! is found).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The superuser's password of every throwaway server (they listen on loopback only).
pub const PASSWORD: &str = "zkguard-test-password";

/// Why the server could not be started or driven.
#[derive(Debug, thiserror::Error)]
#[error("throwaway postgresql: {0}")]
pub struct HarnessError(String);

/// A running throwaway server.
#[derive(Debug)]
pub struct TestPostgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_postgres_user: bool,
}

fn find_bin() -> Result<PathBuf, HarnessError> {
    let mut candidates: Vec<PathBuf> = vec![];
    if let Ok(dir) = std::env::var("ZKGUARD_PG_BIN") {
        candidates.push(dir.into());
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path));
    }
    candidates.push("/usr/local/bin".into());
    if let Ok(versions) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut found: Vec<PathBuf> = versions.flatten().map(|v| v.path().join("bin")).collect();
        found.sort();
        candidates.extend(found.into_iter().rev());
    }
    candidates.into_iter().find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file()).ok_or_else(|| {
        HarnessError(
            "initdb and pg_ctl not found ($ZKGUARD_PG_BIN, PATH, /usr/local/bin, /usr/lib/postgresql/*/bin): \
             run `bash scripts/setup` (it installs the distribution's postgresql package)"
                .into(),
        )
    })
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

fn free_port() -> Result<u16, HarnessError> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| HarnessError(format!("no free port: {e}")))?;
    Ok(listener.local_addr().map_err(|e| HarnessError(e.to_string()))?.port())
}

fn checked(what: &str, output: std::io::Result<Output>) -> Result<Output, HarnessError> {
    let output = output.map_err(|e| HarnessError(format!("{what}: {e}")))?;
    if !output.status.success() {
        return Err(HarnessError(format!(
            "{what} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    Ok(output)
}

/// The default parent of the servers' directories: the workspace's `target/`.
pub fn default_parent() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("zkguard-pg")
}

impl TestPostgres {
    /// Starts a server in a new directory under [`default_parent`].
    pub fn start() -> Result<Self, HarnessError> {
        Self::start_in(&default_parent())
    }

    /// Starts a server in a new directory under `parent`.
    pub fn start_in(parent: &Path) -> Result<Self, HarnessError> {
        let bin = find_bin()?;
        std::fs::create_dir_all(parent).map_err(|e| HarnessError(format!("{}: {e}", parent.display())))?;
        let dir = tempfile::Builder::new()
            .prefix("pg-")
            .tempdir_in(parent)
            .map_err(|e| HarnessError(format!("{}: {e}", parent.display())))?;
        let as_postgres_user = is_root();
        let pwfile = dir.path().join("pwfile");
        std::fs::write(&pwfile, PASSWORD).map_err(|e| HarnessError(e.to_string()))?;
        if as_postgres_user {
            checked(
                "chown postgres (as root, the server runs as the `postgres` system user; create it with \
                 `useradd --system postgres` if it is missing)",
                Command::new("chown").args(["-R", "postgres"]).arg(dir.path()).output(),
            )?;
        }
        let server = Self { bin, dir, port: free_port()?, as_postgres_user };
        let data = server.data();
        server.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                &format!("--pwfile={}", pwfile.display()),
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )?;
        server.start_server()?;
        Ok(server)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<Output, HarnessError> {
        let exe = self.bin.join(tool);
        let mut cmd = if self.as_postgres_user {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        cmd.args(args).current_dir(self.dir.path());
        checked(&format!("{} {}", exe.display(), args.join(" ")), cmd.output())
    }

    fn start_server(&self) -> Result<(), HarnessError> {
        let options = format!(
            "-p {} -k {} -h 127.0.0.1 -c fsync=off -c max_connections=200",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        self.run("pg_ctl", &["-D", &self.data(), "-o", &options, "-l", &log, "-w", "-t", "60", "start"])?;
        Ok(())
    }

    /// One server for the whole test process, stopped and removed by a reaper process once the
    /// test process exits (a static is never dropped).
    pub fn shared() -> Result<&'static Self, HarnessError> {
        static SHARED: std::sync::OnceLock<Result<TestPostgres, String>> = std::sync::OnceLock::new();
        let server = SHARED.get_or_init(|| {
            let server = Self::start().map_err(|e| e.0)?;
            server.spawn_reaper().map_err(|e| e.0)?;
            Ok(server)
        });
        server.as_ref().map_err(|e| HarnessError(e.clone()))
    }

    fn spawn_reaper(&self) -> Result<(), HarnessError> {
        let pg_ctl = self.bin.join("pg_ctl");
        let stop = if self.as_postgres_user {
            format!("runuser -u postgres -- '{}' -D '{}' -m immediate -w stop", pg_ctl.display(), self.data())
        } else {
            format!("'{}' -D '{}' -m immediate -w stop", pg_ctl.display(), self.data())
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop} >/dev/null 2>&1; rm -rf '{dir}'",
            pid = std::process::id(),
            dir = self.dir.path().display()
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| HarnessError(format!("cannot start the reaper: {e}")))?;
        Ok(())
    }

    /// A fresh database on the server, with a unique name; returns its URL.
    pub fn fresh_database(&self) -> Result<String, HarnessError> {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.create_database(&format!("zk_{}_{n}", std::process::id()))
    }

    /// The superuser's URL of database `db`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres:{PASSWORD}@127.0.0.1:{}/{db}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs SQL as the superuser (through the server's socket directory, with `psql`).
    pub fn psql(&self, db: &str, sql: &str) -> Result<String, HarnessError> {
        let psql = [self.bin.join("psql"), "/usr/bin/psql".into()]
            .into_iter()
            .find(|p| p.is_file())
            .unwrap_or_else(|| "psql".into());
        let out = checked(
            &format!("psql {sql:?}"),
            Command::new(psql)
                .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", "postgres", "-d", db])
                .arg("-p")
                .arg(self.port.to_string())
                .arg("-c")
                .arg(sql)
                .env("PGPASSWORD", PASSWORD)
                .output(),
        )?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// Creates database `name` and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String, HarnessError> {
        self.psql("postgres", &format!("CREATE DATABASE \"{name}\""))?;
        Ok(self.url(name))
    }

    /// Stops the server (fast shutdown: connections are closed).
    pub fn stop(&self) -> Result<(), HarnessError> {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]).map(drop)
    }

    /// Starts the stopped server again on the same port.
    pub fn restart(&self) -> Result<(), HarnessError> {
        self.start_server()
    }

    /// The server's log (for test failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        let _ = self.run("pg_ctl", &["-D", &self.data(), "-m", "immediate", "-w", "stop"]);
    }
}
