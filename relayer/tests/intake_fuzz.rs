//! Fuzz target (proptest) on the intake's request parser and validator, without keys or a chain:
//! arbitrary bytes, arbitrary JSON values and structured requests mixing valid and malformed
//! fields, against the logistic model in direct mode (B = 4) and in batch mode (N = 2). Nothing
//! panics, every refusal is a 4xx with a code, and every accepted request is one the prover can
//! prove: 1..=B rows of the model's width, each quantizing and passing the integer reference
//! inference, a printable id, a valid salt with enough rows, one valid subject per row or none.
//! `PROPTEST_CASES` sets the case count per property (default 512) for a longer run.

use std::path::Path;

use proptest::prelude::*;
use zkguard_prover::quant::QuantizedModel;
use zkguard_relayer::intake::validate::{
    check_row, parse_submit_for, validate_for, IntakeModel, SubmitRequest, MAX_REQUEST_ID_LEN,
};
use zkguard_relayer::store::NewJob;

fn model() -> &'static QuantizedModel {
    static MODEL: std::sync::OnceLock<QuantizedModel> = std::sync::OnceLock::new();
    MODEL.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        zkguard_prover::load::load_quantized(
            &root.join("models/breast_cancer_logistic.json"),
            Some(&root.join("data/breast_cancer_logistic.csv")),
        )
        .expect("the logistic model")
    })
}

fn data() -> &'static Vec<Vec<f64>> {
    static ROWS: std::sync::OnceLock<Vec<Vec<f64>>> = std::sync::OnceLock::new();
    ROWS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        zkguard_prover::data::load_csv(&root.join("data/breast_cancer_logistic.csv"), &model().features)
            .expect("data")
            .rows
    })
}

const B: usize = 4;

fn lookup(id: &str) -> Option<IntakeModel<'static>> {
    match id {
        "1" => Some(IntakeModel {
            id: "1",
            quantized: model(),
            batch_size: B,
            proofs_per_batch: 1,
            id_u256: alloy::primitives::U256::from(1u64),
            attestation: None,
            input_policy: None,
        }),
        "2" => Some(IntakeModel {
            id: "2",
            quantized: model(),
            batch_size: B,
            proofs_per_batch: 2,
            id_u256: alloy::primitives::U256::from(2u64),
            attestation: None,
            input_policy: None,
        }),
        _ => None,
    }
}

/// What every accepted request must satisfy.
fn check_accepted(job: &NewJob) {
    let m = lookup(&job.model_id).expect("accepted for a served model");
    let id = &job.id;
    assert!(
        !id.is_empty()
            && id.len() <= MAX_REQUEST_ID_LEN
            && zkguard_relayer::intake::validate::valid_request_id_chars(id),
        "id {id:?}"
    );
    assert_eq!(id.trim(), id, "accepted ids are trimmed");
    assert!((1..=m.batch_size).contains(&job.rows.len()), "{} rows", job.rows.len());
    for (i, row) in job.rows.iter().enumerate() {
        assert_eq!(row.len(), model().n_features());
        let q = model().quantize_input(row).expect("accepted rows quantize");
        model().infer(&q).expect("accepted rows pass the reference inference");
        assert!(check_row(model(), i, row).is_ok());
    }
    if let Some(salt) = &job.salt {
        assert!(zkguard_prover::artifact::fr_from_hex(salt).is_some(), "salt {salt:?}");
        assert!(job.rows.len() >= m.proofs_per_batch);
    }
    assert!(job.subjects.is_empty() || job.subjects.len() == job.rows.len());
    for s in &job.subjects {
        s.parse::<alloy::primitives::Address>().expect("accepted subjects are addresses");
    }
    assert_eq!(job.body_hash.len(), 64);
}

fn feature_value() -> impl Strategy<Value = f64> {
    let limit = model().fixed.to_f64(model().fixed.bound());
    prop_oneof![
        4 => Just(0.0),
        2 => -10.0f64..10_000.0,
        1 => (-limit * 1.01)..(limit * 1.01),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(-0.0),
        1 => any::<f64>(),
    ]
}

fn row() -> impl Strategy<Value = Vec<f64>> {
    let n = model().n_features();
    prop_oneof![
        // A real row, maybe with one feature replaced.
        6 => (0..data().len(), proptest::option::weighted(0.5, (0..n, feature_value()))).prop_map(|(i, change)| {
            let mut r = data()[i].clone();
            if let Some((j, v)) = change {
                r[j] = v;
            }
            r
        }),
        // Any width.
        1 => proptest::collection::vec(feature_value(), 0..n + 3),
    ]
}

fn request() -> impl Strategy<Value = SubmitRequest> {
    let id = prop_oneof![
        4 => "[a-zA-Z0-9_-]{1,20}",
        1 => ".{0,140}",
        1 => Just(" padded ".to_string()),
        1 => "[a-z]{129,140}",
    ];
    let model_id = prop_oneof![4 => Just("1".to_string()), 2 => Just("2".to_string()), 1 => ".{0,4}"];
    let salt = proptest::option::weighted(
        0.2,
        prop_oneof![
            "0x[0-9a-f]{1,64}",
            Just("0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001".to_string()),
            ".{0,10}",
        ],
    );
    let subject = prop_oneof![4 => "0x[0-9a-fA-F]{40}", 1 => ".{0,44}"];
    let rows =
        prop_oneof![4 => proptest::collection::vec(row(), 1..=B), 1 => proptest::collection::vec(row(), 0..B + 2)];
    let subjects = prop_oneof![3 => Just(vec![]), 1 => proptest::collection::vec(subject, 0..B + 2)];
    (id, model_id, rows, salt, subjects).prop_map(|(request_id, model_id, rows, salt, subjects)| SubmitRequest {
        request_id,
        model_id,
        rows,
        salt,
        subjects,
        ..SubmitRequest::default()
    })
}

fn judge(result: Result<NewJob, zkguard_relayer::intake::error::ApiError>) {
    match result {
        Ok(job) => check_accepted(&job),
        Err(e) => {
            assert!(e.status.is_client_error(), "{} {}: {}", e.status, e.code, e.message);
            assert!(!e.code.is_empty() && !e.message.is_empty());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512),
        ..ProptestConfig::default()
    })]

    #[test]
    fn structured_requests_are_accepted_only_when_provable(req in request()) {
        let body = serde_json::to_vec(&req);
        judge(validate_for(req, lookup));
        if let Ok(body) = body {
            judge(parse_submit_for(&body, lookup));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_are_refused_as_4xx(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        judge(parse_submit_for(&body, lookup));
    }

    #[test]
    fn arbitrary_json_objects_never_panic(
        fields in proptest::collection::btree_map(
            prop_oneof![
                Just("request_id".to_string()), Just("model_id".to_string()), Just("rows".to_string()),
                Just("salt".to_string()), Just("subjects".to_string()), "[a-z]{1,8}"
            ],
            prop_oneof![
                Just(serde_json::json!(null)), any::<i64>().prop_map(|v| serde_json::json!(v)),
                ".{0,8}".prop_map(|v| serde_json::json!(v)),
                proptest::collection::vec(proptest::collection::vec(-1e12f64..1e12, 0..32), 0..6)
                    .prop_map(|v| serde_json::json!(v)),
            ],
            0..7,
        )
    ) {
        let body = serde_json::to_vec(&fields).unwrap();
        judge(parse_submit_for(&body, lookup));
    }
}

#[test]
fn the_validator_refuses_each_malformed_field_by_name() {
    let good = SubmitRequest {
        request_id: "r".into(),
        model_id: "1".into(),
        rows: vec![data()[0].clone()],
        ..SubmitRequest::default()
    };
    judge(validate_for(good.clone(), lookup));
    assert!(validate_for(good.clone(), lookup).is_ok());
    let mut overflow = good.clone();
    let limit = model().fixed.to_f64(model().fixed.bound());
    let j = (0..model().n_features())
        .find(|&j| {
            let mut r = data()[0].clone();
            r[j] = limit * 0.99;
            model().infer(&model().quantize_input(&r).unwrap()).is_err()
        })
        .expect("a feature that overflows when standardized");
    overflow.rows[0][j] = limit * 0.99;
    assert_eq!(validate_for(overflow, lookup).unwrap_err().code, "value_overflow");
    for (req, code) in [
        (SubmitRequest { rows: vec![], ..good.clone() }, "empty_batch"),
        (SubmitRequest { rows: vec![data()[0].clone(); B + 1], ..good.clone() }, "oversize_batch"),
        (SubmitRequest { rows: vec![vec![1.0]], ..good.clone() }, "wrong_feature_count"),
        (SubmitRequest { request_id: "a\tb".into(), ..good.clone() }, "invalid_request_id"),
        (SubmitRequest { model_id: "9".into(), ..good.clone() }, "unknown_model"),
        (SubmitRequest { salt: Some("zz".into()), ..good.clone() }, "invalid_salt"),
        (SubmitRequest { model_id: "2".into(), salt: Some("0x01".into()), ..good.clone() }, "invalid_salt"),
        (SubmitRequest { subjects: vec!["0x1".into()], ..good.clone() }, "invalid_subject"),
        (SubmitRequest { subjects: vec![], rows: vec![data()[0].clone(); 2], ..good.clone() }, ""),
    ] {
        let got = validate_for(req, lookup);
        if code.is_empty() {
            assert!(got.is_ok());
        } else {
            assert_eq!(got.unwrap_err().code, code);
        }
    }
}

/// The generator is not vacuous: it reaches both accepted and refused requests, and refusals of
/// many kinds.
#[test]
fn the_generator_reaches_acceptance_and_many_refusals() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = request();
    let (mut accepted, mut codes) = (0, std::collections::BTreeSet::new());
    for _ in 0..1000 {
        match validate_for(strategy.new_tree(&mut runner).unwrap().current(), lookup) {
            Ok(job) => {
                check_accepted(&job);
                accepted += 1;
            }
            Err(e) => {
                codes.insert(e.code);
            }
        }
    }
    assert!(accepted >= 50, "only {accepted} of 1000 generated requests were accepted");
    for code in ["value_overflow", "value_out_of_range", "non_finite", "wrong_feature_count", "invalid_request_id"] {
        assert!(codes.contains(code), "the generator never reached {code}: {codes:?}");
    }
}
