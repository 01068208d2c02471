//! One active submitter per signing account: a submitter runs only while it holds its account's
//! lease ([`JobStore::acquire_submitter`]), renewed every third of its length. A standby polls the
//! lease and takes over once the active one stops renewing; it resumes from the store exactly as
//! a restarted process does (a `signed` batch is re-broadcast with its stored bytes, a `sent` one
//! followed, a `proved` one checked against `Guard.isNonceUsed` before anything is signed).
//!
//! An active submitter that cannot renew (its database is away) stops submitting before its lease
//! can expire (after two thirds of it), so two submitters of one account never sign at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::Submitter;
use crate::config::FleetConfig;
use crate::metrics::Metrics;
use crate::store::{JobStore, StoreError, SubmitterLease};

/// Who competes for which account's lease.
#[derive(Clone, Debug)]
pub struct Election {
    /// The signing account (0x address).
    pub account: String,
    /// This submitter's name.
    pub holder: String,
    /// The lease (ms).
    pub lease_ms: u64,
}

async fn acquire(store: &Arc<dyn JobStore>, e: &Election) -> Result<Option<SubmitterLease>, StoreError> {
    let (s, e) = (store.clone(), e.clone());
    tokio::task::spawn_blocking(move || s.acquire_submitter(&e.account, &e.holder, e.lease_ms as i64))
        .await
        .unwrap_or_else(|join| Err(StoreError::NotFound(format!("the lease task panicked: {join}"))))
}

/// Runs `make()`'s submitter whenever this process holds the account's lease, until shutdown.
pub async fn run_elected(
    store: Arc<dyn JobStore>,
    election: Election,
    metrics: Arc<Metrics>,
    make: impl Fn() -> Submitter,
    mut shutdown: watch::Receiver<bool>,
) {
    let every = FleetConfig::heartbeat(election.lease_ms);
    let give_up = Duration::from_millis(election.lease_ms * 2 / 3);
    loop {
        // Standby until the lease is ours.
        match acquire(&store, &election).await {
            Ok(Some(lease)) => {
                tracing::info!(account = %election.account, holder = %election.holder, token = lease.token,
                    "active submitter of the account");
            }
            Ok(None) => {
                tokio::select! {
                    _ = tokio::time::sleep(every) => continue,
                    _ = shutdown.changed() => return,
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the submitter lease; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(every) => continue,
                    _ = shutdown.changed() => return,
                }
            }
        }
        metrics.set_submitter_active(true);
        let (stop, stopped) = watch::channel(false);
        let mut task = tokio::spawn(make().run(stopped));
        let mut renewed = Instant::now();
        let reason = loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.changed() => {
                    let _ = stop.send(true);
                    let _ = tokio::time::timeout(Duration::from_secs(10), &mut task).await;
                    let (s, e) = (store.clone(), election.clone());
                    let _ = tokio::task::spawn_blocking(move || s.release_submitter(&e.account, &e.holder)).await;
                    metrics.set_submitter_active(false);
                    return;
                }
                _ = &mut task => break "the submitter stopped",
            }
            match acquire(&store, &election).await {
                Ok(Some(_)) => renewed = Instant::now(),
                Ok(None) => break "another submitter holds the lease",
                Err(e) if renewed.elapsed() >= give_up => {
                    tracing::error!(error = %e, "cannot renew the submitter lease");
                    break "the lease could not be renewed in time";
                }
                Err(e) => tracing::warn!(error = %e, "cannot renew the submitter lease; retrying"),
            }
        };
        let _ = stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(10), &mut task).await;
        metrics.set_submitter_active(false);
        tracing::warn!(account = %election.account, reason, "no longer the active submitter: standby");
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
    }
}
