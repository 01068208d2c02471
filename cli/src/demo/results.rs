//! The demo's results: one row per batch from the relayer's SQLite store (proving time, gas,
//! decisions, transaction), the HTML report (`prover::report`) and a JSON summary, and the final
//! terminal table.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;
use zkguard_prover::report::{BatchRow, Report, WindowPoint, WindowSeries};
use zkguard_relayer::store::{BatchState, JobStore, SqliteStore};

use super::feed::Transaction;
use super::{CheckedModel, DemoArgs, DemoOutcome, BREAKER_MODEL_ID, FILTER_MODEL_ID};

/// Every finished batch of the run, in creation order.
pub fn batches_from_store(db: &Path, args: &DemoArgs) -> anyhow::Result<Vec<BatchRow>> {
    let store = SqliteStore::open(db).with_context(|| format!("opening {}", db.display()))?;
    let mut batches = store.batches_in(&[BatchState::Confirmed, BatchState::Failed])?;
    batches.sort_by_key(|b| b.id);
    let mut rows = Vec::with_capacity(batches.len());
    for b in batches {
        let jobs = store.batch_jobs(b.id)?;
        let names = jobs.iter().map(|j| j.id.as_str()).collect::<Vec<_>>().join("+");
        let breaker = b.model_id == BREAKER_MODEL_ID.to_string();
        let flagged = b.decisions.as_ref().map_or(0, |d| d.iter().take(b.sample_count).filter(|&&x| x).count());
        rows.push(BatchRow {
            label: format!("{names} (m{})", b.model_id),
            mode: if breaker { "direct".into() } else { format!("batch, N = {}", args.aggregate) },
            samples: b.sample_count,
            flagged,
            prove_s: b.prove_ms.unwrap_or_default() as f64 / 1000.0,
            gas_used: b.gas_used,
            tx: b.tx_hash.clone(),
            status: match (&b.state, &b.error) {
                (Some(BatchState::Failed), Some(e)) => format!("failed: {e}"),
                (Some(state), _) => state.to_string(),
                (None, _) => "unknown".into(),
            },
            decisions: b.decisions.as_ref().map_or_else(Vec::new, |d| d.iter().take(b.sample_count).copied().collect()),
        });
    }
    Ok(rows)
}

/// Version of `summary.json`'s schema; bump on any change of its fields' meaning.
pub const SUMMARY_SCHEMA_VERSION: u32 = 2;

/// The JSON summary (the report's numbers without the per-sample scores).
#[derive(Serialize)]
struct Summary<'a> {
    schema_version: u32,
    /// Every proof was made against the INSECURE development SRS (anyone can forge proofs).
    insecure_srs: bool,
    /// The transactions are the SYNTHETIC feed (docs/FRAUD_FEED.md), not real data.
    synthetic_data: bool,
    outcome: &'a DemoOutcome,
    windows: Option<&'a WindowSeries>,
    injected_frauds: usize,
    injected_frauds_caught: usize,
    deployment: &'a [(String, String)],
    accuracy: Vec<AccuracySummary<'a>>,
    total_gas: u64,
    decisions: usize,
    gas_per_decision: Option<f64>,
}

#[derive(Serialize)]
struct AccuracySummary<'a> {
    model: &'a str,
    family: &'a str,
    samples: usize,
    agreement: f64,
    score_max_abs_error: f64,
    float_label_accuracy: Option<f64>,
    quantized_label_accuracy: Option<f64>,
}

fn totals(outcome: &DemoOutcome) -> (u64, usize) {
    let mined = outcome.batches.iter().filter(|b| b.gas_used.is_some());
    mined.fold((0, 0), |(g, n), b| (g + b.gas_used.unwrap_or_default(), n + b.samples))
}

/// The breaker's windows: flagged per window (from the verified decisions), the injected frauds
/// of the feed in each window and how many the proof flagged, and which windows tripped it.
pub fn window_series(args: &DemoArgs, outcome: &DemoOutcome, feed: &[Transaction]) -> WindowSeries {
    let points = feed
        .chunks(args.window)
        .enumerate()
        .map(|(index, txs)| {
            let label = format!("window-{index:03}");
            let row = outcome
                .batches
                .iter()
                .find(|b| b.label == format!("{label} (m{BREAKER_MODEL_ID})") && b.status == "confirmed");
            let decisions = row.map(|b| b.decisions.as_slice()).unwrap_or_default();
            let injected = txs.iter().filter(|t| t.pattern != "normal").count();
            let caught = txs.iter().zip(decisions).filter(|(t, d)| t.pattern != "normal" && **d).count();
            WindowPoint {
                label,
                flagged: row.map(|b| b.flagged),
                injected,
                caught,
                tripped: outcome.tripping_windows.contains(&index),
            }
        })
        .collect();
    WindowSeries { window: args.window, threshold: args.min_flagged as usize, points }
}

/// Contracts, model commitments and circuit digests, for the report and the summary.
fn deployment(outcome: &DemoOutcome, breaker: &CheckedModel, filter: &CheckedModel) -> Vec<(String, String)> {
    let mut rows = outcome.contracts.clone();
    for d in &outcome.deployments {
        let r = &d.registered;
        let verifier = match r.verifying_key {
            Some(key) => format!(
                "shared {} ({}), key {key} ({} gas), ZkGuardKeyedVerifier {} ({} gas)",
                r.raw_verifier,
                if r.raw_verifier_reused {
                    "reused".to_string()
                } else {
                    format!("{} gas, once per proof system", r.verifier_deploy_gas)
                },
                r.key_deploy_gas,
                r.verifier,
                r.wrapper_deploy_gas
            ),
            None => format!(
                "unrolled {} ({} gas), ZkGuardVerifier {} ({} gas)",
                r.raw_verifier, r.verifier_deploy_gas, r.verifier, r.wrapper_deploy_gas
            ),
        };
        rows.push((format!("model {} verifier", d.model_id), verifier));
        rows.push((format!("model {} deployment gas (this model alone)", d.model_id), d.model_deploy_gas.to_string()));
    }
    for (id, m) in [(BREAKER_MODEL_ID, breaker), (FILTER_MODEL_ID, filter)] {
        if let Some(c) = &m.circuit {
            rows.push((
                format!("model {id} ({}) commitment", m.check.model),
                format!("0x{:064x}", c.identity.commitment),
            ));
            rows.push((format!("model {id} circuit digest ({})", c.mode()), c.identity.digest.to_string()));
        }
    }
    rows
}

/// Writes `report.html` and `summary.json` into the work directory and records their paths.
pub(crate) fn write(
    args: &DemoArgs,
    outcome: &mut DemoOutcome,
    breaker: &CheckedModel,
    filter: &CheckedModel,
    feed: &[Transaction],
) -> anyhow::Result<()> {
    let windows = window_series(args, outcome, feed);
    let (injected, caught) = windows.caught();
    let deployment = deployment(outcome, breaker, filter);
    outcome.report = args.work_dir.join("report.html");
    outcome.summary = args.work_dir.join("summary.json");
    let mut outcomes = vec![
        (
            "circuit breaker".to_string(),
            format!(
                "{} trip(s); windows over the policy: {:?}; vault paused: {}",
                outcome.breaker_trips, outcome.tripping_windows, outcome.vault_paused
            ),
        ),
        (
            "vault withdrawal after the trip".to_string(),
            outcome.withdrawal_refused.as_deref().map_or("paid out".into(), |r| format!("refused: {r}")),
        ),
        (
            "verdict filter".to_string(),
            format!("flagged {:?}; allowed {}", outcome.flagged_subjects, outcome.allowed_subjects.len()),
        ),
    ];
    outcomes.push((
        "injected frauds caught".into(),
        format!("{caught} of the {injected} injected fraud transactions flagged by verified proofs (SYNTHETIC feed)"),
    ));
    if let Some(r) = &outcome.transfer_refused {
        outcomes.push(("token transfer to a flagged subject".into(), format!("refused: {r}")));
    }
    for attack in &outcome.attacks {
        outcomes.push((format!("attack: {}", attack.attacker), format!("refused: {}", attack.refusal)));
    }
    outcomes.push((
        "requests".into(),
        format!("{} sent, {} confirmed, {} failed", outcome.jobs, outcome.confirmed, outcome.failed),
    ));
    let report = Report {
        title: "zkguard demo: a verified fraud guard on a local chain".into(),
        subtitle: format!(
            "model {BREAKER_MODEL_ID} ({}) in direct mode trips the circuit breaker; model 2 ({}) in batch mode \
             (aggregated) feeds the verdict filter; {:.0} s end to end",
            breaker.check.model, filter.check.model, outcome.wall_s
        ),
        machine: zkguard_prover::bench::machine(),
        warnings: super::warnings(),
        accuracy: vec![breaker.accuracy.clone(), filter.accuracy.clone()],
        batches: outcome.batches.clone(),
        outcomes,
        windows: Some(windows.clone()),
        deployment: deployment.clone(),
    };
    std::fs::write(&outcome.report, report.to_html())
        .with_context(|| format!("writing {}", outcome.report.display()))?;
    let (total_gas, decisions) = totals(outcome);
    let summary = Summary {
        schema_version: SUMMARY_SCHEMA_VERSION,
        insecure_srs: true,
        synthetic_data: true,
        outcome,
        windows: Some(&windows),
        injected_frauds: injected,
        injected_frauds_caught: caught,
        deployment: &deployment,
        accuracy: [breaker, filter]
            .iter()
            .map(|m| AccuracySummary {
                model: &m.check.model,
                family: &m.accuracy.family,
                samples: m.check.samples,
                agreement: m.check.agreement,
                score_max_abs_error: m.check.score_max_abs_error,
                float_label_accuracy: m.check.float_label_accuracy,
                quantized_label_accuracy: m.check.quantized_label_accuracy,
            })
            .collect(),
        total_gas,
        decisions,
        gas_per_decision: (decisions > 0).then(|| total_gas as f64 / decisions as f64),
    };
    std::fs::write(&outcome.summary, serde_json::to_string_pretty(&summary)? + "\n")
        .with_context(|| format!("writing {}", outcome.summary.display()))?;
    Ok(())
}

/// The final terminal table: every batch, then the totals and what the contracts did.
pub fn summary_table(outcome: &DemoOutcome) -> String {
    let report = Report { batches: outcome.batches.clone(), ..Report::default() };
    let mut out = format!("\n{}", report.batch_table());
    let (gas, decisions) = totals(outcome);
    let per = if decisions > 0 { gas as f64 / decisions as f64 } else { 0.0 };
    let _ = writeln!(out, "\n  {decisions} verified decisions, {gas} gas in total, {per:.0} gas per decision");
    for mode in ["direct", "batch"] {
        let mined: Vec<&BatchRow> =
            outcome.batches.iter().filter(|b| b.mode.starts_with(mode) && b.gas_used.is_some()).collect();
        let (gas, decisions) =
            mined.iter().fold((0, 0), |(g, n), b| (g + b.gas_used.unwrap_or_default(), n + b.samples));
        if let (Some(n), true) = (u64::try_from(mined.len()).ok().filter(|&n| n > 0), decisions > 0) {
            let _ = writeln!(
                out,
                "  {mode}: {} transaction(s), {} gas each on average (Guard.submit: verify + action), {:.0} gas per decision",
                mined.len(),
                gas / n,
                gas as f64 / decisions as f64
            );
        }
    }
    for d in &outcome.deployments {
        let r = &d.registered;
        let _ = match r.verifying_key {
            Some(_) => writeln!(
                out,
                "  model {} ({}): shared verifier, this model's deployment {} gas (key {} + wrapper {}); the shared \
                 verifier {}",
                d.model_id,
                d.mode,
                d.model_deploy_gas,
                r.key_deploy_gas,
                r.wrapper_deploy_gas,
                if r.raw_verifier_reused {
                    "was already deployed".to_string()
                } else {
                    format!("{} gas, once per proof system", r.verifier_deploy_gas)
                }
            ),
            None => writeln!(
                out,
                "  model {} ({}): unrolled verifier, this model's deployment {} gas (verifier {} + wrapper {})",
                d.model_id, d.mode, d.model_deploy_gas, r.verifier_deploy_gas, r.wrapper_deploy_gas
            ),
        };
    }
    let _ = writeln!(
        out,
        "  breaker: {} | vault withdrawal: {} | filter flagged {} of {} screened subjects | token transfer to a flagged subject: {}",
        if outcome.vault_paused { "TRIPPED, vault paused" } else { "not tripped" },
        outcome.withdrawal_refused.as_deref().map_or("paid out".into(), |r| format!("REFUSED ({r})")),
        outcome.flagged_subjects.len(),
        outcome.flagged_subjects.len() + outcome.allowed_subjects.len(),
        outcome.transfer_refused.as_deref().map_or("not attempted".into(), |r| format!("REFUSED ({r})")),
    );
    out
}
