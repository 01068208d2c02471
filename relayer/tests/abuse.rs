//! Abuse resistance, end to end on a real anvil with real proofs (direct mode, B = 4):
//!
//! - one client's row that the circuit cannot prove (a standardized feature past the 40-bit
//!   range) is refused at intake with 422 `value_overflow`; a job holding such a row that is
//!   already in the store (accepted by an older version) fails alone with its own reason, and the
//!   other jobs of its batch are proved without it and confirmed, none of them carrying its text;
//! - a copied transaction: another account lands the relayer's pending `Guard.submit` calldata
//!   first; the relayer's own transaction reverts with `NonceAlreadyUsed`, and the batch is
//!   confirmed (carried by the copy, whose sender is recorded), not failed, and not sent again.

mod support;

use std::time::Duration;

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::B256;
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use support::chain::{rows, Deployment};
use support::eventually;
use support::relayer::{Relayer, Setup, TOKEN};
use zkguard_prover::quant::QuantizedModel;
use zkguard_relayer::intake::SubmitRequest;
use zkguard_relayer::store::{JobStore, NewJob, SqliteStore};

const FINAL: Duration = Duration::from_secs(300);

fn request(id: &str, rows: Vec<Vec<f64>>) -> SubmitRequest {
    SubmitRequest { request_id: id.into(), model_id: "1".into(), rows, ..SubmitRequest::default() }
}

/// A row inside the input range whose standardized feature overflows the circuit's range, and
/// that feature's name.
fn poisoned_row(model: &QuantizedModel) -> (Vec<f64>, String) {
    let limit = model.fixed.to_f64(model.fixed.bound());
    for j in 0..model.n_features() {
        let mut row = rows(1)[0].clone();
        row[j] = limit * 0.99;
        if model.infer(&model.quantize_input(&row).unwrap()).is_err() {
            return (row, model.features[j].clone());
        }
    }
    panic!("no feature overflows at the input limit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_poisoned_row_fails_alone_and_its_batch_neighbours_are_confirmed() {
    let d = Deployment::start(4).await;
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup::new(dir.path(), &d);
    let (poison, feature) = poisoned_row(&d.circuit.model);
    let good = rows(3);
    // Jobs already in the store when the relayer starts (accepted before intake ran the reference
    // inference): two clients' good rows around an attacker's row, all due for one batch of B = 4.
    {
        let store = SqliteStore::open(&setup.database()).unwrap();
        for (id, rows) in
            [("good1", vec![good[0].clone()]), ("poison", vec![poison.clone()]), ("good2", vec![good[1].clone()])]
        {
            let job = NewJob {
                id: id.into(),
                model_id: "1".into(),
                body_hash: format!("stored-{id}"),
                rows,
                salt: None,
                subjects: vec![],
                attestation: None,
            };
            store.insert_job(&job).unwrap();
        }
    }
    let relayer = Relayer::start(&setup, &d, None).await;
    let c = &relayer.client;

    // The same row through the API today: refused at intake, naming the row, feature and bound.
    let http = reqwest::Client::new();
    let resp = http
        .post(format!("{}/v1/requests", relayer.url))
        .bearer_auth(TOKEN)
        .json(&request("poison-http", vec![good[2].clone(), poison.clone()]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 422);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "value_overflow", "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("rows[1]") && message.contains(&feature) && message.contains("2^39"), "{message}");
    assert!(c.job("poison-http").await.is_err(), "a refused request is not stored");

    let poisoned = c.wait_final("poison", FINAL).await.unwrap();
    assert_eq!(poisoned.state, "failed", "{poisoned:?}");
    let reason = poisoned.error.clone().unwrap();
    assert!(reason.contains("value_overflow") && reason.contains(&feature), "{reason}");
    for id in ["good1", "good2"] {
        let job = c.wait_final(id, FINAL).await.unwrap();
        assert_eq!(job.state, "confirmed", "{id}: {job:?}");
        assert_eq!(job.error, None, "{id} carries an error");
        let text = serde_json::to_string(&job).unwrap();
        assert!(!text.contains(&feature) && !text.contains("overflow"), "{id} carries the poisoned row's text: {text}");
        assert!(job.transitions.iter().any(|t| t.to == "queued" && t.detail.contains("dissolved")), "{job:?}");
        assert_eq!(job.score_values.as_ref().map(Vec::len), Some(1), "the real score beside the raw one");
    }
    // One proof, of the two good samples, verified once.
    let events = d.verified().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].1, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copied_transaction_that_lands_first_confirms_the_batch_it_carries() {
    // Attested inputs (the relayer attests with anvil's PUBLIC dev key #3): the calldata carries
    // the attestation, so anyone can land a copy of it. (With the `Submitters` policy a copy from
    // another account reverts with `SubmitterNotAllowed` instead.)
    const ATTESTER_KEY: &str = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";
    let attester: PrivateKeySigner = ATTESTER_KEY.parse().unwrap();
    let attester_address = attester.address();
    let d = Deployment::start_with_inputs(4, None, move |_| {
        zkguard_contracts::registration::InputPolicyArgs::Attested { threshold: 1, attesters: vec![attester_address] }
    })
    .await;
    d.set_automine(false).await;
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(dir.path(), &d);
    setup.attestation = Some("relayer".into());
    setup.env = vec![("ZKGUARD_ATTESTER_KEY".into(), ATTESTER_KEY.into())];
    let relayer = Relayer::start(&setup, &d, None).await;
    relayer.client.submit(&request("f1", rows(2))).await.unwrap();
    let sent = eventually("the relayer's transaction in the mempool", FINAL, || async {
        let job = relayer.client.job("f1").await.ok()?;
        let sent = job.state == "submitted" && job.transitions.iter().any(|t| t.to == "sent");
        (sent && d.relayer_pending_tx_count().await == 1).then_some(job)
    })
    .await;
    let relayer_tx: B256 = sent.tx_hash.clone().unwrap().parse().unwrap();
    // Another account (anvil's PUBLIC dev key #2) copies the calldata from the mempool and pays
    // a far higher tip: ordered first in the next block.
    let pending = d.owner.get_transaction_by_hash(relayer_tx).await.unwrap().expect("in the mempool");
    let input = alloy::consensus::Transaction::input(&pending).clone();
    let attacker: PrivateKeySigner = d.anvil.keys()[2].clone().into();
    let attacker_address = attacker.address();
    let copier =
        ProviderBuilder::new().wallet(EthereumWallet::from(attacker)).connect_http(d.anvil.endpoint_url()).erased();
    let copy = TransactionRequest::default()
        .with_to(d.guard)
        .with_input(input)
        .with_gas_limit(3_000_000)
        .with_max_priority_fee_per_gas(100_000_000_000)
        .with_max_fee_per_gas(200_000_000_000);
    let copy_tx = *copier.send_transaction(copy).await.unwrap().tx_hash();
    d.mine().await;
    let (copy_ok, copy_block, copy_index) = d.receipt_of(copy_tx).await.expect("copy mined");
    let (relayer_ok, relayer_block, relayer_index) = d.receipt_of(relayer_tx).await.expect("relayer tx mined");
    assert!(copy_ok, "the copy verified");
    assert_eq!(copy_block, relayer_block);
    assert!(copy_index < relayer_index, "the copy is ordered first");
    assert!(!relayer_ok, "the relayer's own transaction reverts (NonceAlreadyUsed)");
    d.mine().await;

    let job = relayer.client.wait_final("f1", FINAL).await.unwrap();
    assert_eq!(job.state, "confirmed", "{job:?}");
    assert_eq!(job.error, None);
    assert_eq!(job.tx_hash.as_deref(), Some(format!("{copy_tx:#x}").as_str()), "the carrying transaction");
    assert_eq!(job.carried_by.as_deref(), Some(attacker_address.to_checksum(None).as_str()));
    assert_eq!(job.block_number, Some(copy_block));
    let last = job.transitions.last().unwrap();
    assert!(last.detail.contains("carried by") && last.detail.contains("NonceAlreadyUsed"), "{last:?}");
    // Verified once, with the relayer's nonce; nothing is sent again.
    let events = d.verified().await;
    assert_eq!(events, vec![(job.nonce.unwrap(), 2)]);
    tokio::time::sleep(Duration::from_secs(3)).await;
    d.mine().await;
    assert_eq!(d.relayer_tx_count().await, 1, "the relayer sent another transaction");
    assert_eq!(relayer.client.job("f1").await.unwrap().transitions.len(), job.transitions.len());
}
