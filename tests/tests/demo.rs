//! The end-to-end demo flow (`zkguard demo`, what the README's run command shows) at a smaller
//! size: the first 224 transactions of the SYNTHETIC feed in 14 windows through the breaker model
//! (direct mode), the latest 4 through the screening model (a tree ensemble, batch mode with its
//! proof aggregated, at B = 4 instead of 16), on a real anvil with the relayer in-process on SQLite. It checks what a
//! user is shown: every request confirmed, the breaker tripped by a verified proof and the vault
//! refusing withdrawals, the filter's verdicts and the token refusing a flagged subject, and the
//! report and summary written; both models on a shared verifier (the screening model on the
//! aggregation circuits' one) and the summary table's per-model deployment gas and gas per decision.

use zkguard_cli::demo::{run, DemoArgs};
use zkguard_test_utils::repo_root;

#[test]
fn demo_flow_trips_the_breaker_and_filters_subjects() {
    let root = repo_root();
    let work = tempfile::tempdir().unwrap();
    let args = DemoArgs {
        work_dir: work.path().to_path_buf(),
        breaker_model: root.join("models/fraud_logistic.json"),
        breaker_data: root.join("data/fraud_logistic.csv"),
        filter_model: root.join("models/fraud_gbt.json"),
        filter_data: root.join("data/fraud_gbt.csv"),
        feed: root.join("data/fraud_feed.csv"),
        limit: Some(224),
        window: 16,
        // Window 13 is the first drain burst (12 of 16 flagged); window 3, an address-poisoning
        // campaign, has 9; the others have at most 3. Its last 4 rows (the screened ones) are two
        // drain transactions of one account and two normal ones.
        min_flagged: 10,
        filter_batch: 4,
        visibility: zkguard_prover::circuit::Visibility::Committed,
        aggregate: 1,
        verifier: zkguard_prover::pipeline::deploy::VerifierKind::Shared,
        cache_dir: root.join("target/zkguard-test-cache"),
        compiler: zkguard_prover::cli::solidity::SolcArgs { solc: root.join("scripts/solc") },
        contracts_out: root.join("contracts/out"),
        root: root.clone(),
        timeout_s: 1_200,
    };
    let outcome = run(args).expect("the demo runs");
    assert_eq!(outcome.jobs, 15, "14 windows + 1 screening request");
    assert_eq!(outcome.confirmed, 15, "every request confirmed: {outcome:?}");
    assert_eq!(outcome.failed, 0);
    assert_eq!(outcome.tripping_windows, vec![13], "only the drain burst crosses the policy");
    assert!(outcome.vault_paused, "the breaker paused the vault");
    assert_eq!(outcome.breaker_trips, 1);
    assert_eq!(outcome.withdrawal_refused.as_deref(), Some("EnforcedPause()"));
    assert_eq!(outcome.batches.len(), 15);
    assert!(outcome.batches.iter().all(|b| b.gas_used.is_some_and(|g| g > 0)), "{:?}", outcome.batches);
    // The drain account is flagged, the two normal senders are allowed, and the token refuses
    // a transfer to the flagged one.
    assert_eq!(outcome.flagged_subjects.len(), 1, "{:?}", outcome.flagged_subjects);
    assert!(outcome.flagged_subjects[0].starts_with("0x8b18c3"), "{:?}", outcome.flagged_subjects);
    assert_eq!(outcome.allowed_subjects.len(), 2, "{:?}", outcome.allowed_subjects);
    let refused = outcome.transfer_refused.as_deref().unwrap_or_default().to_lowercase();
    assert_eq!(refused, format!("subjectnotallowed({})", outcome.flagged_subjects[0]));
    // Both attackers without the data provider's attestation were refused, before the real trip.
    assert_eq!(outcome.attacks.len(), 2, "{:?}", outcome.attacks);
    assert!(outcome.attacks[0].refusal.contains("422") && outcome.attacks[0].refusal.contains("invalid_attestation"));
    assert!(outcome.attacks[1].refusal.contains("UnattestedInputs"), "{:?}", outcome.attacks[1]);
    let html = std::fs::read_to_string(&outcome.report).unwrap();
    assert!(html.contains("<svg") && html.contains("fraud_logistic") && html.contains("INSECURE"));
    assert!(html.contains("UnattestedInputs"), "the report's outcome table shows the refusals");
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(&outcome.summary).unwrap()).unwrap();
    assert_eq!(summary["outcome"]["confirmed"], 15);
    assert_eq!(summary["outcome"]["attacks"].as_array().map(Vec::len), Some(2));
    assert!(summary["gas_per_decision"].as_f64().unwrap() > 0.0);
    // Both models on a shared verifier, each deployed by the demo (the first of its proof system
    // on this chain): the breaker model (direct) on the app circuits' verifier, the screening
    // model (batch) on the aggregation circuits' verifier (another proof system: another address).
    let deployments = &summary["outcome"]["deployments"];
    for d in deployments.as_array().unwrap() {
        assert_eq!(d["verifierKind"], "shared", "{deployments}");
        assert_eq!(d["rawVerifierReused"], false, "{deployments}");
        assert!(d["verifierDeployGas"].as_u64().unwrap() > 0, "{deployments}");
        assert!(d["keyDeployGas"].as_u64().unwrap() > 0 && d["verifyingKey"].is_string(), "{deployments}");
        let own = d["keyDeployGas"].as_u64().unwrap() + d["wrapperDeployGas"].as_u64().unwrap();
        assert_eq!(d["modelDeployGas"].as_u64(), Some(own), "key + wrapper: {deployments}");
    }
    assert_eq!(deployments.as_array().map(Vec::len), Some(2));
    assert_ne!(deployments[0]["rawVerifier"], deployments[1]["rawVerifier"], "{deployments}");
    // The summary table names both deployments and the gas per decision of each mode.
    let table = zkguard_cli::demo::results::summary_table(&outcome);
    for line in ["direct: 14 transaction(s)", "batch: 1 transaction(s)", "model 1 (direct): shared verifier"] {
        assert!(table.contains(line), "{line}: {table}");
    }
    assert!(table.contains("model 2 (batch (1 proof aggregated)): shared verifier"), "{table}");
}
