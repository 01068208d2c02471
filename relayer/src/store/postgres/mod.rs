//! [`JobStore`](crate::store::JobStore) on PostgreSQL, for a fleet of processes sharing one
//! database.
//!
//! The driver is the synchronous `postgres` crate, run on a few threads owned by the store: the
//! `JobStore` trait is synchronous (SQLite answers in well under a millisecond, so callers call it
//! from async tasks and blocking threads alike), and `postgres` drives its own small runtime,
//! which must not run on a tokio worker. Each method sends one closure to a store thread and
//! waits for its answer, like a call into SQLite under its mutex. A thread whose connection broke
//! (the server restarted) reconnects before its next call; the call that met the break fails with
//! [`StoreError::Unavailable`] and its caller retries as it does for any store error.

use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use postgres::{Client, NoTls};

use super::{Backend, StoreError};

mod claims;
mod maintenance;
mod ops;
mod rows;
pub mod schema;
mod segments;

/// Store threads (each with one connection).
const THREADS: usize = 3;
/// How long connecting may take before the database counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

type Task = Box<dyn FnOnce(&mut Conn) + Send>;

/// One store thread's connection, made (again) on demand.
struct Conn {
    config: postgres::Config,
    target: String,
    client: Option<Client>,
}

impl Conn {
    fn client(&mut self) -> Result<&mut Client, StoreError> {
        if self.client.as_ref().is_some_and(|c| c.is_closed()) {
            self.client = None;
        }
        if self.client.is_none() {
            let client = self.config.connect(NoTls).map_err(|e| unavailable(&self.target, &e))?;
            self.client = Some(client);
        }
        Ok(self.client.as_mut().expect("connected above"))
    }
}

/// PostgreSQL job store.
pub struct PgStore {
    tasks: mpsc::Sender<Task>,
    target: String,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").field("target", &self.target).finish_non_exhaustive()
    }
}

/// Maps a driver error: a broken or refused connection is [`StoreError::Unavailable`].
pub(crate) fn db_error(target: &str, e: postgres::Error) -> StoreError {
    let connection_class = e.code().is_some_and(|c| {
        let code = c.code();
        code.starts_with("08") || code.starts_with("28") || code == "57P01" || code == "57P03" || code == "3D000"
    });
    if e.is_closed() || connection_class || std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>()) {
        return unavailable(target, &e);
    }
    StoreError::Db { backend: Backend::Postgres, source: Box::new(e) }
}

fn unavailable(target: &str, e: &postgres::Error) -> StoreError {
    let reason = match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text = format!("{text}: {s}");
                source = s.source();
            }
            text
        }
    };
    StoreError::Unavailable { backend: Backend::Postgres, target: target.into(), reason }
}

impl PgStore {
    /// Connects to `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB`), refuses a schema newer than
    /// this binary's, and migrates an older one (one process at a time: an advisory lock).
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        let target = super::url::redact(url);
        let mut config: postgres::Config = url.parse().map_err(|e: postgres::Error| StoreError::Unavailable {
            backend: Backend::Postgres,
            target: target.clone(),
            reason: format!("bad URL: {e}"),
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("zkguard-relayer");
        }
        let (tasks, receiver) = mpsc::channel::<Task>();
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..THREADS {
            let receiver = receiver.clone();
            let mut conn = Conn { config: config.clone(), target: target.clone(), client: None };
            std::thread::Builder::new()
                .name(format!("zkguard-pg-{i}"))
                .spawn(move || loop {
                    let task = match receiver.lock().unwrap_or_else(|p| p.into_inner()).recv() {
                        Ok(task) => task,
                        Err(_) => return, // the store was dropped
                    };
                    task(&mut conn);
                })
                .map_err(|e| StoreError::Unavailable {
                    backend: Backend::Postgres,
                    target: target.clone(),
                    reason: format!("cannot start a store thread: {e}"),
                })?;
        }
        let store = Self { tasks, target };
        store.call(schema_check_and_migrate)?;
        Ok(store)
    }

    /// Runs `f` on a store thread with its connection and waits for the answer.
    pub(crate) fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Client, &str) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (answer, wait) = mpsc::sync_channel(1);
        let task: Task = Box::new(move |conn: &mut Conn| {
            let target = conn.target.clone();
            let result = conn.client().and_then(|client| f(client, &target));
            if result.is_err() && conn.client.as_ref().is_some_and(|c| c.is_closed()) {
                conn.client = None;
            }
            let _ = answer.send(result);
        });
        let gone = || StoreError::Unavailable {
            backend: Backend::Postgres,
            target: self.target.clone(),
            reason: "the store's threads stopped".into(),
        };
        self.tasks.send(task).map_err(|_| gone())?;
        wait.recv().map_err(|_| gone())?.map_err(|e| match e {
            StoreError::Unavailable { backend, target, reason } if target.is_empty() => {
                StoreError::Unavailable { backend, target: self.target.clone(), reason }
            }
            e => e,
        })
    }
}

/// Key of the advisory lock that serialises migrations of concurrent start-ups.
const MIGRATION_LOCK: i64 = 0x7a6b_6775_6172_6401;

/// Refuses a newer schema (before writing anything), then applies the missing migrations.
fn schema_check_and_migrate(client: &mut Client, target: &str) -> Result<(), StoreError> {
    let err = |e| db_error(target, e);
    let latest = crate::store::schema::LATEST;
    let found = schema_version_of(client, target)?;
    if found > latest {
        return Err(StoreError::SchemaTooNew { backend: Backend::Postgres, found, supported: latest });
    }
    if found == latest {
        return Ok(());
    }
    let mut tx = client.transaction().map_err(err)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).map_err(err)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS zkguard_schema (version BIGINT NOT NULL)").map_err(err)?;
    let row = tx.query_one("SELECT COALESCE(MAX(version), 0) FROM zkguard_schema", &[]).map_err(err)?;
    let found: i64 = row.try_get(0).map_err(err)?;
    if found > latest {
        return Err(StoreError::SchemaTooNew { backend: Backend::Postgres, found, supported: latest });
    }
    for (version, sql) in schema::MIGRATIONS.iter().filter(|(v, _)| *v > found) {
        tx.batch_execute(sql).map_err(err)?;
        tx.execute("INSERT INTO zkguard_schema (version) VALUES ($1)", &[version]).map_err(err)?;
        tracing::info!(version, "applied store migration (postgresql)");
    }
    tx.commit().map_err(err)
}

/// The schema version (0: a database the relayer never touched).
pub(super) fn schema_version_of(client: &mut Client, target: &str) -> Result<i64, StoreError> {
    let err = |e| db_error(target, e);
    let exists: bool = client
        .query_one("SELECT to_regclass('zkguard_schema') IS NOT NULL", &[])
        .and_then(|r| r.try_get(0))
        .map_err(err)?;
    if !exists {
        return Ok(0);
    }
    client
        .query_one("SELECT COALESCE(MAX(version), 0) FROM zkguard_schema", &[])
        .and_then(|r| r.try_get(0))
        .map_err(err)
}
