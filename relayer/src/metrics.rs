//! Prometheus metrics in the text exposition format: jobs by state and gas spent (counters the
//! store keeps as jobs and batches change, read at scrape time without scanning the jobs, so they
//! survive restarts), proving and submission latency histograms and counters (in memory, since the
//! process started). The API renders them on the blocking pool.

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
}

/// The in-memory part of the metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
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
        let m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        m.proving.render(&mut out, "zkguard_relayer_proving_seconds", "Time to prove one batch.");
        m.submission.render(&mut out, "zkguard_relayer_submission_seconds", "Time from proof to confirmation.");
        for (name, help, value) in [
            ("zkguard_relayer_rpc_retries_total", "Transient RPC errors retried.", m.rpc_retries),
            ("zkguard_relayer_fee_bumps_total", "Stuck transactions replaced with higher fees.", m.fee_bumps),
            ("zkguard_relayer_requests_rejected_total", "Requests refused with a 4xx.", m.requests_rejected),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}");
        }
        Ok(out)
    }
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
