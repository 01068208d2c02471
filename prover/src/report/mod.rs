//! The demo's self-contained HTML report (and its terminal table): accuracy of the quantized
//! model against the float one with a plot of both score distributions, proving times and gas
//! per batch and per decision, and what the contracts did. The data is filled by whoever ran
//! the flow (`zkguard demo`); this module only renders it, with no scripts or external
//! resources, so the file opens anywhere.

pub mod svg;

use std::fmt::Write;

use serde::Serialize;

use crate::check::CheckReport;
use svg::{bars, escape, histogram, short, Series};

/// Everything the report shows.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// Page title.
    pub title: String,
    /// One line under the title (what ran, where).
    pub subtitle: String,
    /// The machine, for the timings.
    pub machine: String,
    /// Loud caveats (insecure SRS, dev keys, synthetic data).
    pub warnings: Vec<String>,
    /// One section per model.
    pub accuracy: Vec<Accuracy>,
    /// One row per submitted batch.
    pub batches: Vec<BatchRow>,
    /// What the contracts did: `(what, evidence)`.
    pub outcomes: Vec<(String, String)>,
    /// The breaker's windows over time, when a breaker ran.
    pub windows: Option<WindowSeries>,
    /// Contracts, model commitments and circuit digests: `(what, value)`.
    pub deployment: Vec<(String, String)>,
}

/// Flagged transactions per window of the circuit breaker, against its threshold.
#[derive(Clone, Debug, Default, Serialize)]
pub struct WindowSeries {
    /// Transactions per window.
    pub window: usize,
    /// The breaker's rule: it trips when at least this many of a window are flagged.
    pub threshold: usize,
    /// Per window, in time order.
    pub points: Vec<WindowPoint>,
}

/// One window of the breaker.
#[derive(Clone, Debug, Default, Serialize)]
pub struct WindowPoint {
    /// Label (the request id).
    pub label: String,
    /// Transactions flagged by the verified proof (None when the window was not confirmed).
    pub flagged: Option<usize>,
    /// Injected fraud transactions in the window (SYNTHETIC feed's ground truth).
    pub injected: usize,
    /// Of which the verified decisions flagged.
    pub caught: usize,
    /// Whether this window's proof tripped the breaker (paused the vault).
    pub tripped: bool,
}

impl WindowSeries {
    /// Injected frauds in all windows, and how many the verified decisions flagged.
    pub fn caught(&self) -> (usize, usize) {
        self.points.iter().fold((0, 0), |(i, c), p| (i + p.injected, c + p.caught))
    }
}

/// Quantized-versus-float accuracy of one model.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Accuracy {
    /// Model name.
    pub model: String,
    /// Family.
    pub family: String,
    /// Samples compared.
    pub samples: usize,
    /// Fixed-point fractional bits.
    pub scale_bits: u32,
    /// Share of equal decisions.
    pub agreement: f64,
    /// Flagged by the float model.
    pub float_flagged: usize,
    /// Flagged by the quantized model.
    pub quantized_flagged: usize,
    /// Largest score error.
    pub score_max_abs_error: f64,
    /// Decision threshold (score units).
    pub threshold: f64,
    /// Float scores.
    pub float_scores: Vec<f64>,
    /// Quantized scores (real units).
    pub quantized_scores: Vec<f64>,
    /// What the scores in the histogram are (e.g. "the 256 transactions proved").
    pub histogram_of: String,
}

impl Accuracy {
    /// From a `model check` report.
    pub fn from_check(check: &CheckReport, family: &str, threshold: f64) -> Self {
        Self {
            model: check.model.clone(),
            family: family.to_string(),
            samples: check.samples,
            scale_bits: check.scale_bits,
            agreement: check.agreement,
            float_flagged: check.float_flagged,
            quantized_flagged: check.quantized_flagged,
            score_max_abs_error: check.score_max_abs_error,
            threshold,
            float_scores: check.float_scores.clone(),
            quantized_scores: check.quantized_scores.clone(),
            histogram_of: format!("the {} samples checked", check.samples),
        }
    }

    /// Shows the score distributions of `proved` (float vs quantized on the rows actually
    /// proven) in the histogram, keeping the table's numbers from the accuracy check.
    pub fn with_histogram_of(mut self, proved: &CheckReport, what: String) -> Self {
        self.float_scores = proved.float_scores.clone();
        self.quantized_scores = proved.quantized_scores.clone();
        self.histogram_of = what;
        self
    }
}

/// One proven and submitted batch.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BatchRow {
    /// Batch label (job id, nonce).
    pub label: String,
    /// `direct` or `batch (N proofs)`.
    pub mode: String,
    /// Real samples (decisions).
    pub samples: usize,
    /// Samples flagged by the verified outputs.
    pub flagged: usize,
    /// Proving seconds: all app proofs of the batch and, in batch mode, their aggregation.
    pub prove_s: f64,
    /// Gas used by the guard transaction.
    pub gas_used: Option<u64>,
    /// Transaction hash.
    pub tx: Option<String>,
    /// Final state (`confirmed`, `failed: reason`).
    pub status: String,
    /// The verified decisions of the real samples (empty when not proven).
    #[serde(skip)]
    pub decisions: Vec<bool>,
}

impl BatchRow {
    /// Gas per decision, when the transaction was mined.
    pub fn gas_per_decision(&self) -> Option<f64> {
        self.gas_used.filter(|_| self.samples > 0).map(|g| g as f64 / self.samples as f64)
    }
}

/// Colour of the float model's histogram bars (and its legend entry).
pub const FLOAT_COLOUR: &str = "#1f77b4";
/// Colour of the quantized model's histogram bars (and its legend entry).
pub const QUANTIZED_COLOUR: &str = "#ff7f0e";

/// `0x1234…abcd` for a long hash or address.
fn short_hash(h: &str) -> String {
    if h.len() > 14 {
        format!("{}…{}", &h[..8], &h[h.len() - 4..])
    } else {
        h.to_string()
    }
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:980px;margin:2em auto;\
padding:0 1em;color:#222}h1{margin-bottom:.2em}.sub{color:#555;margin-top:0}.warn{background:#fff3cd;\
border:1px solid #e0b100;padding:.6em 1em;margin:.4em 0}table{border-collapse:collapse;margin:.8em 0}\
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}th{background:#f3f3f3}td:first-child,\
th:first-child{text-align:left}figure{margin:1em 0}figcaption{color:#555;font-size:.9em}code{font-size:.9em}";

impl Report {
    /// The whole HTML document.
    pub fn to_html(&self) -> String {
        let mut h = String::new();
        let _ = write!(
            h,
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body><h1>{}</h1><p class=\"sub\">{}</p>",
            escape(&self.title),
            escape(&self.title),
            escape(&self.subtitle)
        );
        for w in &self.warnings {
            let _ = write!(h, "<div class=\"warn\">{}</div>", escape(w));
        }
        if let Some(w) = &self.windows {
            Self::windows_html(&mut h, w);
        }
        if !self.outcomes.is_empty() {
            h.push_str("<h2>What the contracts did</h2><table><tr><th>outcome</th><th>evidence</th></tr>");
            for (what, evidence) in &self.outcomes {
                let _ = write!(h, "<tr><td>{}</td><td><code>{}</code></td></tr>", escape(what), escape(evidence));
            }
            h.push_str("</table>");
        }
        self.batches_html(&mut h);
        if !self.deployment.is_empty() {
            h.push_str("<h2 id=\"deployment\">Contracts and models</h2><table><tr><th>what</th><th>value</th></tr>");
            for (what, value) in &self.deployment {
                let _ = write!(h, "<tr><td>{}</td><td><code>{}</code></td></tr>", escape(what), escape(value));
            }
            h.push_str("</table>");
        }
        for a in &self.accuracy {
            Self::accuracy_html(&mut h, a);
        }
        let _ = write!(h, "<p class=\"sub\">Timings measured on {}.</p></body></html>", escape(&self.machine));
        h
    }

    fn batches_html(&self, h: &mut String) {
        if self.batches.is_empty() {
            return;
        }
        h.push_str("<h2 id=\"batches\">Batches proven and submitted</h2><table><tr><th>batch</th><th>mode</th><th>decisions</th><th>flagged</th><th>prove s</th><th>gas</th><th>gas / decision</th><th>transaction</th><th>status</th></tr>");
        for b in &self.batches {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{}</td><td>{}</td><td><code title=\"{}\">{}</code></td><td>{}</td></tr>",
                escape(&b.label),
                escape(&b.mode),
                b.samples,
                b.flagged,
                b.prove_s,
                b.gas_used.map_or("-".into(), |g| g.to_string()),
                b.gas_per_decision().map_or("-".into(), |g| format!("{g:.0}")),
                escape(b.tx.as_deref().unwrap_or("")),
                escape(&b.tx.as_deref().map_or("-".into(), short_hash)),
                escape(&b.status),
            );
        }
        h.push_str("</table>");
        let gas: Vec<(String, f64)> =
            self.batches.iter().filter_map(|b| b.gas_per_decision().map(|g| (b.label.clone(), g))).collect();
        if !gas.is_empty() {
            let _ = write!(
                h,
                "<figure>{}<figcaption>Gas per decision (guard transaction gas / real samples).</figcaption></figure>",
                bars(&gas, "gas", "#2e86c1")
            );
        }
        let times: Vec<(String, f64)> = self.batches.iter().map(|b| (b.label.clone(), b.prove_s)).collect();
        let _ = write!(
            h,
            "<figure>{}<figcaption>Proving time per batch (app proofs, plus their aggregation in batch mode).</figcaption></figure>",
            bars(&times, "s", "#7d3c98")
        );
    }

    fn accuracy_html(h: &mut String, a: &Accuracy) {
        let _ = write!(
            h,
            "<h2 class=\"accuracy\">Accuracy: {} ({})</h2><table><tr><th>samples</th><th>fixed point</th><th>decision agreement</th><th>flagged float / quantized</th><th>max score error</th></tr><tr><td>{}</td><td>2^{}</td><td>{:.2}%</td><td>{} / {}</td><td>{}</td></tr></table>",
            escape(&a.model),
            escape(&a.family),
            a.samples,
            a.scale_bits,
            a.agreement * 100.0,
            a.float_flagged,
            a.quantized_flagged,
            short(a.score_max_abs_error),
        );
        let plot = histogram(
            &[
                Series { label: "float model", colour: FLOAT_COLOUR, values: &a.float_scores },
                Series { label: "quantized (proven)", colour: QUANTIZED_COLOUR, values: &a.quantized_scores },
            ],
            40,
            Some(a.threshold),
            "score",
        );
        let _ = write!(
            h,
            "<figure class=\"histogram\">{plot}<figcaption>Score distributions on {}: the float model (left bar of each bin) and the quantized model the circuit proves (right bar); samples right of the threshold are flagged.</figcaption></figure>",
            escape(&a.histogram_of)
        );
    }

    fn windows_html(h: &mut String, w: &WindowSeries) {
        let (injected, caught) = w.caught();
        let tripped: Vec<&str> = w.points.iter().filter(|p| p.tripped).map(|p| p.label.as_str()).collect();
        let _ = write!(
            h,
            "<h2 id=\"windows\">The circuit breaker over time</h2><figure class=\"windows\">{}<figcaption>Transactions flagged by the verified proof of each window of {} (bars), against the breaker's threshold ({} of {}, dashed); windows at or over it in red. {} The proofs flagged {caught} of the {injected} injected fraud transactions (SYNTHETIC feed).</figcaption></figure>",
            svg::window_chart(w),
            w.window,
            w.threshold,
            w.window,
            if tripped.is_empty() {
                "The breaker did not trip.".to_string()
            } else {
                format!("The breaker tripped on {} (marked TRIP).", escape(&tripped.join(", ")))
            },
        );
    }

    /// The batches as a terminal table.
    pub fn batch_table(&self) -> String {
        let mut out = format!(
            "{:<14} {:<16} {:>9} {:>7} {:>8} {:>10} {:>9}  {}\n",
            "batch", "mode", "decisions", "flagged", "prove s", "gas", "gas/dec", "status"
        );
        for b in &self.batches {
            let _ = writeln!(
                out,
                "{:<14} {:<16} {:>9} {:>7} {:>8.2} {:>10} {:>9}  {}",
                b.label,
                b.mode,
                b.samples,
                b.flagged,
                b.prove_s,
                b.gas_used.map_or("-".into(), |g| g.to_string()),
                b.gas_per_decision().map_or("-".into(), |g| format!("{g:.0}")),
                b.status
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        Report {
            title: "zkguard demo".into(),
            subtitle: "synthetic feed <local>".into(),
            machine: "2 cores".into(),
            warnings: vec!["INSECURE dev SRS".into()],
            accuracy: vec![Accuracy {
                model: "fraud".into(),
                family: "linear".into(),
                samples: 4,
                scale_bits: 16,
                agreement: 1.0,
                float_flagged: 1,
                quantized_flagged: 1,
                score_max_abs_error: 1e-5,
                threshold: 0.0,
                float_scores: vec![-2.0, -1.0, 0.5, -0.5],
                quantized_scores: vec![-2.0, -1.0, 0.5, -0.5],
                histogram_of: "the 4 transactions proved".into(),
            }],
            batches: vec![
                BatchRow {
                    label: "job-1".into(),
                    mode: "direct".into(),
                    samples: 4,
                    flagged: 1,
                    prove_s: 2.5,
                    gas_used: Some(320_000),
                    tx: Some("0xabc".into()),
                    status: "confirmed".into(),
                    decisions: vec![true, false, false, false],
                },
                BatchRow {
                    label: "job-2".into(),
                    mode: "direct".into(),
                    status: "failed: StaleSubmission".into(),
                    ..BatchRow::default()
                },
            ],
            outcomes: vec![("breaker tripped".into(), "tx 0xabc".into())],
            windows: Some(WindowSeries {
                window: 4,
                threshold: 2,
                points: vec![
                    WindowPoint {
                        label: "window-000".into(),
                        flagged: Some(1),
                        injected: 1,
                        caught: 1,
                        tripped: false,
                    },
                    WindowPoint { label: "window-001".into(), flagged: Some(3), injected: 3, caught: 2, tripped: true },
                    WindowPoint { label: "window-002".into(), flagged: None, injected: 0, caught: 0, tripped: false },
                ],
            }),
            deployment: vec![("Guard".into(), "0x00000000000000000000000000000000000000a1".into())],
        }
    }

    #[test]
    fn the_html_is_self_contained_and_carries_the_numbers() {
        let html = sample().to_html();
        assert!(html.starts_with("<!doctype html>") && html.ends_with("</html>"));
        // Nothing loaded from elsewhere: no scripts, no src/href attributes.
        assert!(!html.contains("<script") && !html.contains("src=") && !html.contains("href="));
        assert!(html.contains("synthetic feed &lt;local&gt;"));
        assert!(html.contains("<td>80000</td>"), "gas per decision 320000 / 4");
        assert!(html.contains("100.00%") && html.contains("breaker tripped") && html.contains("INSECURE dev SRS"));
        assert_eq!(html.matches("<svg").count(), 4, "windows, gas, proving time, score histogram");
        assert!(html.contains(">TRIP<") && html.contains("flagged 3 of the 4 injected fraud"), "windows plot");
        assert!(html.contains("title=\"0xabc\"") && html.contains("0x00000000000000000000000000000000000000a1"));
        assert!(html.contains("on the 4 transactions proved"));
        assert!(!html.contains("aggregate s"), "no column that is always empty");
    }

    #[test]
    fn the_terminal_table_has_one_line_per_batch() {
        let table = sample().batch_table();
        assert_eq!(table.lines().count(), 3);
        assert!(table.contains("80000") && table.contains("failed: StaleSubmission"));
    }
}
