//! Prometheus metrics in the text exposition format: jobs by state and gas spent (counters the
//! store keeps as jobs and batches change, read at scrape time without scanning the jobs, so they
//! survive restarts), proving and submission latency histograms and counters (in memory, since the
//! process started). The API renders them on the blocking pool.
//!
//! The fleet's view: this process's claims, the expired leases it took over, the stale results it
//! had refused, whether it is the active submitter (in memory); proofs stored per worker and the
//! holder of each submitter lease (from the store, so any role's `/metrics` shows the fleet).

use std::fmt::Write;
use std::sync::Mutex;

use crate::store::{JobStore, StoreError};

/// Histogram bucket upper bounds, seconds.
const BUCKETS: &[f64] = &[0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 640.0];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if self.counts.is_empty() {
            self.counts = vec![0; BUCKETS.len()];
        }
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                self.counts[i] += 1;
            }
        }
        self.sum += seconds;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (i, bound) in BUCKETS.iter().enumerate() {
            let c = self.counts.get(i).copied().unwrap_or(0);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {c}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{le=\"+Inf\"}} {}\n{name}_sum {}\n{name}_count {}",
            self.count, self.sum, self.count
        );
    }
}

#[derive(Debug, Default)]
struct Inner {
    proving: Histogram,
    submission: Histogram,
    rpc_retries: u64,
    fee_bumps: u64,
    requests_rejected: u64,
    claims: u64,
    segment_claims: u64,
    aggregation_claims: u64,
    lease_takeovers: u64,
    stale_results: u64,
    proved_here: u64,
    submitter_active: bool,
}

/// What a prover claimed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimKind {
    /// A batch proved whole (direct mode).
    Batch,
    /// One segment of a batch-mode batch.
    Segment,
    /// A batch-mode batch's aggregation.
    Aggregation,
}

impl ClaimKind {
    /// The kind's name in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimKind::Batch => "batch",
            ClaimKind::Segment => "segment",
            ClaimKind::Aggregation => "aggregation",
        }
    }
}

/// The in-memory part of the metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
    account: std::sync::OnceLock<String>,
}

impl Metrics {
    fn with(&self, f: impl FnOnce(&mut Inner)) {
        f(&mut self.inner.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// A proof took `seconds`.
    pub fn observe_proving(&self, seconds: f64) {
        self.with(|m| m.proving.observe(seconds));
    }

    /// A batch went from proved to confirmed in `seconds`.
    pub fn observe_submission(&self, seconds: f64) {
        self.with(|m| m.submission.observe(seconds));
    }

    /// A transient RPC error was retried.
    pub fn rpc_retry(&self) {
        self.with(|m| m.rpc_retries += 1);
    }

    /// A stuck transaction was replaced with higher fees.
    pub fn fee_bump(&self) {
        self.with(|m| m.fee_bumps += 1);
    }

    /// A request was refused (4xx).
    pub fn rejected(&self) {
        self.with(|m| m.requests_rejected += 1);
    }

    /// This process claimed work of `kind` (`took_over`: work whose prover's lease had expired).
    pub fn claimed(&self, kind: ClaimKind, took_over: bool) {
        self.with(|m| {
            m.claims += 1;
            m.segment_claims += u64::from(kind == ClaimKind::Segment);
            m.aggregation_claims += u64::from(kind == ClaimKind::Aggregation);
            m.lease_takeovers += u64::from(took_over);
        });
    }

    /// A result of this process was refused because its lease had expired.
    pub fn stale_result(&self) {
        self.with(|m| m.stale_results += 1);
    }

    /// This process stored a proof.
    pub fn proved_here(&self) {
        self.with(|m| m.proved_here += 1);
    }

    /// This process became (true) or stopped being (false) the active submitter of its account.
    pub fn set_submitter_active(&self, active: bool) {
        self.with(|m| m.submitter_active = active);
    }

    /// Whether this process is the active submitter.
    pub fn submitter_active(&self) -> bool {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).submitter_active
    }

    /// The signing account of this process (its submitter lease is then rendered).
    pub fn set_account(&self, account: String) {
        let _ = self.account.set(account);
    }

    /// The fleet's view from the store: proofs per worker, this account's submitter lease.
    fn render_fleet(&self, out: &mut String, store: &dyn JobStore) -> Result<(), StoreError> {
        let account = self.account.get().map(String::as_str);
        let _ = writeln!(
            out,
            "# HELP zkguard_relayer_proofs_by_worker Proofs stored per worker (all time).\n\
             # TYPE zkguard_relayer_proofs_by_worker gauge"
        );
        for (worker, n) in store.proofs_by_worker()? {
            let _ = writeln!(out, "zkguard_relayer_proofs_by_worker{{worker=\"{}\"}} {n}", label(&worker));
        }
        if let Some(account) = account {
            if let Some(lease) = store.submitter_lease(account)? {
                let live = u8::from(lease.until_ms >= crate::store::now_ms());
                let _ = writeln!(
                    out,
                    "# HELP zkguard_relayer_submitter_lease The submitter lease of the signing account (1: unexpired).\n\
                     # TYPE zkguard_relayer_submitter_lease gauge\n\
                     zkguard_relayer_submitter_lease{{account=\"{}\",holder=\"{}\"}} {live}",
                    label(account),
                    label(&lease.holder)
                );
            }
        }
        Ok(())
    }

    /// Renders every metric.
    pub fn render(&self, store: &dyn JobStore) -> Result<String, StoreError> {
        let mut out = String::new();
        out.push_str("# HELP zkguard_relayer_jobs Jobs by state.\n# TYPE zkguard_relayer_jobs gauge\n");
        for (state, count) in store.job_counts()? {
            let _ = writeln!(out, "zkguard_relayer_jobs{{state=\"{state}\"}} {count}");
        }
        let _ = writeln!(
            out,
            "# HELP zkguard_relayer_gas_spent_total Gas used by the relayer's Guard submissions.\n\
             # TYPE zkguard_relayer_gas_spent_total counter\nzkguard_relayer_gas_spent_total {}",
            store.gas_spent()?
        );
        self.render_fleet(&mut out, store)?;
        let m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        m.proving.render(&mut out, "zkguard_relayer_proving_seconds", "Time to prove one batch.");
        m.submission.render(&mut out, "zkguard_relayer_submission_seconds", "Time from proof to confirmation.");
        for (name, help, value) in [
            ("zkguard_relayer_rpc_retries_total", "Transient RPC errors retried.", m.rpc_retries),
            ("zkguard_relayer_fee_bumps_total", "Stuck transactions replaced with higher fees.", m.fee_bumps),
            ("zkguard_relayer_requests_rejected_total", "Requests refused with a 4xx.", m.requests_rejected),
            (
                "zkguard_relayer_claims_total",
                "Work this process claimed to prove (batches, segments, aggregations).",
                m.claims,
            ),
            ("zkguard_relayer_segment_claims_total", "Batch-mode segments this process claimed.", m.segment_claims),
            (
                "zkguard_relayer_aggregation_claims_total",
                "Batch-mode aggregations this process claimed.",
                m.aggregation_claims,
            ),
            (
                "zkguard_relayer_lease_expiries_total",
                "Claims of batches whose prover's lease had expired.",
                m.lease_takeovers,
            ),
            (
                "zkguard_relayer_stale_results_total",
                "Results of this process refused: its lease had expired.",
                m.stale_results,
            ),
            ("zkguard_relayer_proofs_total", "Proofs this process stored.", m.proved_here),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}");
        }
        let _ = writeln!(
            out,
            "# HELP zkguard_relayer_submitter_active 1 when this process is its account's active submitter.\n\
             # TYPE zkguard_relayer_submitter_active gauge\nzkguard_relayer_submitter_active {}",
            u8::from(m.submitter_active)
        );
        Ok(out)
    }
}

/// The HTTP surface of a role without the API (prover, submitter): `GET /metrics` and `GET /health`.
pub fn router(store: std::sync::Arc<dyn JobStore>, metrics: std::sync::Arc<Metrics>) -> axum::Router {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    let render = move || {
        let (store, metrics) = (store.clone(), metrics.clone());
        async move {
            match tokio::task::spawn_blocking(move || metrics.render(store.as_ref())).await {
                Ok(Ok(text)) => {
                    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
                }
                Ok(Err(e)) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
                Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
            }
        }
    };
    axum::Router::new()
        .route("/metrics", axum::routing::get(render))
        .route("/health", axum::routing::get(|| async { "ok" }))
}

/// A label value with `\` and `"` escaped.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let mut h = Histogram::default();
        h.observe(0.7);
        h.observe(30.0);
        let mut out = String::new();
        h.render(&mut out, "x", "y");
        assert!(out.contains("x_bucket{le=\"0.5\"} 0\n"));
        assert!(out.contains("x_bucket{le=\"1\"} 1\n"));
        assert!(out.contains("x_bucket{le=\"40\"} 2\n"));
        assert!(out.contains("x_count 2\n"));
    }
}
