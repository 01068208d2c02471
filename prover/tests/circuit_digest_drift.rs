//! Drift test: a circuit's digest must change whenever its constraints do.
//!
//! The circuit digest (`keys::circuit_digest`) hashes version tags, the shape and the halo2
//! configuration, not the constraint system itself; it names the key cache's entries and is
//! what registries and generated verifiers pin. A change to the synthesized circuit under an
//! unchanged digest makes every cached proving key stale (proofs fail their self-check) and
//! every registered digest a lie. For one small circuit of each kind (family x visibility, the
//! Poseidon gate, no scores, the fast layout's tree lookup) this test generates the verifying key with the insecure dev SRS and
//! compares `vk.transcript_repr()` (halo2's hash of the constraint system, fixed and permutation
//! commitments) with `prover/tests/data/circuit_digests.json`:
//! * same digest, other verifying key: fails, asking for a version tag bump in
//!   `prover/src/keys/cache.rs` (the recorder refuses to record it too);
//! * other digest: fails, asking to record the new digests (after checking that the change was
//!   meant: fixtures and deployed registries pin digests).
//!
//! Record: `cargo test -p zkguard-prover --test circuit_digest_drift -- --ignored record_circuit_digests`.

mod small_models;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use halo2_base::gates::circuit::CircuitBuilderStage;
use halo2_base::halo2_proofs::plonk::keygen_vk;
use serde::{Deserialize, Serialize};
use zkguard_prover::circuit::config::Layout;
use zkguard_prover::circuit::field::fr_to_be_bytes;
use zkguard_prover::circuit::poseidon::PoseidonBackend;
use zkguard_prover::circuit::tree_lookup::TreeSelection;
use zkguard_prover::circuit::{AppCircuitConfig, AppShape, AppWitness, Visibility};
use zkguard_prover::keys::{circuit_digest, load_params, SrsSource};
use zkguard_prover::quant::{ModelShape, QuantizedModel};

/// A circuit's digest and its verifying key's transcript hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Recorded {
    digest: String,
    vk_transcript_repr: String,
}

/// The record file's contents.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    #[serde(rename = "_comment")]
    comment: String,
    cases: BTreeMap<String, Recorded>,
}

/// What a comparison with the record found.
#[derive(Debug, PartialEq, Eq)]
enum Drift {
    /// The constraint system changed but the digest did not: the version tag needs a bump.
    UnchangedDigest { case: String, digest: String },
    /// The digest changed (intended or not): record it.
    NewDigest { case: String, recorded: String, now: String },
    /// No record for this case.
    Unrecorded { case: String },
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Drift::UnchangedDigest { case, digest } => write!(
                f,
                "circuit `{case}` changed but its digest {digest} did not: bump CIRCUIT_VERSION, \
                 TREE_CIRCUIT_VERSION or FIXED_CIRCUIT_VERSION in prover/src/keys/cache.rs (cached keys \
                 and registered digests would otherwise be reused for another circuit), then record"
            ),
            Drift::NewDigest { case, recorded, now } => write!(
                f,
                "the digest of `{case}` changed ({recorded} -> {now}); fixtures and registries pin \
                 digests: if this change was meant, regenerate the fixtures and record the digests"
            ),
            Drift::Unrecorded { case } => write!(f, "`{case}` has no recorded digest: record the digests"),
        }
    }
}

/// Compares one computed case with the record.
fn compare(case: &str, recorded: Option<&Recorded>, now: &Recorded) -> Result<(), Drift> {
    let Some(recorded) = recorded else { return Err(Drift::Unrecorded { case: case.into() }) };
    if recorded.digest != now.digest {
        return Err(Drift::NewDigest { case: case.into(), recorded: recorded.digest.clone(), now: now.digest.clone() });
    }
    if recorded.vk_transcript_repr != now.vk_transcript_repr {
        return Err(Drift::UnchangedDigest { case: case.into(), digest: now.digest.clone() });
    }
    Ok(())
}

fn record_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/circuit_digests.json")
}

fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/zkguard-test-cache")
}

fn features(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("x{i}")).collect()
}

/// A small model of `shape` with `params`, as the drift test's circuits carry it.
fn model((shape, params): (ModelShape, Vec<i64>)) -> QuantizedModel {
    shape.model_from_params("drift", &features(shape.n_features), &params)
}

/// One small circuit of each kind, by name.
fn cases() -> Vec<(String, AppCircuitConfig)> {
    let mut out = Vec::new();
    for (family, model) in [
        ("linear", model(small_models::linear())),
        ("autoencoder", model(small_models::autoencoder())),
        ("trees", model(small_models::trees())),
    ] {
        for visibility in [Visibility::Committed, Visibility::Fixed] {
            let shape = AppShape::for_model(&model, 2, visibility);
            out.push((format!("{family}-{visibility}"), AppCircuitConfig::choose(&shape, 4).unwrap()));
        }
    }
    let linear = AppShape::for_model(&model(small_models::linear()), 2, Visibility::Committed);
    out.push((
        "linear-committed-no-scores".into(),
        AppCircuitConfig::choose(&linear.clone().with_scores(false), 4).unwrap(),
    ));
    out.push((
        "linear-committed-poseidon-gate".into(),
        AppCircuitConfig::choose_with(&linear, 4, PoseidonBackend::Gate).unwrap(),
    ));
    // The fast layout's committed trees: nodes, inputs and leaves looked up.
    let trees = AppShape::for_model(&model(small_models::trees()), 2, Visibility::Committed);
    let fast = AppCircuitConfig::for_layout(&trees, Layout::Fast, 4).unwrap();
    assert!(matches!(fast.tree_selection, TreeSelection::Lookup { .. }), "{:?}", fast.tree_selection);
    out.push(("trees-committed-fast-lookup".into(), fast));
    out
}

/// The digest and verifying-key hash of a circuit, from a fresh keygen (never the key cache).
fn compute(config: &AppCircuitConfig) -> Recorded {
    let srs = SrsSource::InsecureDev;
    let params = load_params(&srs, config.k(), &cache_dir()).unwrap();
    let (circuit, _) = config.builder(CircuitBuilderStage::Keygen, &AppWitness::dummy(&config.shape)).unwrap();
    let vk = keygen_vk(&params, &circuit).unwrap();
    Recorded { digest: circuit_digest(config), vk_transcript_repr: hex::encode(fr_to_be_bytes(&vk.transcript_repr())) }
}

fn read_record() -> Record {
    let path = record_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn a_circuit_changes_only_with_its_digest() {
    let record = read_record();
    let mut drifts = Vec::new();
    for (case, config) in cases() {
        let now = compute(&config);
        if let Err(drift) = compare(&case, record.cases.get(&case), &now) {
            drifts.push(drift.to_string());
        }
    }
    assert!(drifts.is_empty(), "{}", drifts.join("\n"));
}

/// The comparison refuses each kind of drift (the check itself can fail).
#[test]
fn the_comparison_names_each_drift() {
    let recorded = Recorded { digest: "d1".into(), vk_transcript_repr: "v1".into() };
    assert_eq!(compare("c", Some(&recorded), &recorded.clone()), Ok(()));
    let changed_circuit = Recorded { digest: "d1".into(), vk_transcript_repr: "v2".into() };
    assert_eq!(
        compare("c", Some(&recorded), &changed_circuit),
        Err(Drift::UnchangedDigest { case: "c".into(), digest: "d1".into() })
    );
    let bumped = Recorded { digest: "d2".into(), vk_transcript_repr: "v2".into() };
    assert!(matches!(compare("c", Some(&recorded), &bumped), Err(Drift::NewDigest { .. })));
    assert_eq!(compare("c", None, &recorded), Err(Drift::Unrecorded { case: "c".into() }));
}

/// Every case's circuit differs from every other's (the cases are not redundant, and the
/// verifying-key hash does tell circuits apart).
#[test]
fn the_recorded_cases_are_distinct_circuits() {
    let record = read_record();
    let mut seen = BTreeMap::new();
    for (case, r) in &record.cases {
        if let Some(other) = seen.insert(r.vk_transcript_repr.clone(), case.clone()) {
            panic!("`{case}` and `{other}` record the same verifying key");
        }
    }
    assert_eq!(record.cases.len(), cases().len());
}

/// Writes the record; refuses a case whose circuit changed under its recorded digest.
#[test]
#[ignore = "writes prover/tests/data/circuit_digests.json"]
fn record_circuit_digests() {
    let old = std::fs::read_to_string(record_path()).ok().map(|_| read_record());
    let mut cases_out = BTreeMap::new();
    for (case, config) in cases() {
        let now = compute(&config);
        if let Some(old) = &old {
            if let Err(drift @ Drift::UnchangedDigest { .. }) = compare(&case, old.cases.get(&case), &now) {
                panic!("{drift}");
            }
        }
        cases_out.insert(case, now);
    }
    let record = Record {
        comment: "Circuit digests and verifying-key transcript hashes (insecure dev SRS) of small circuits; \
                  written by `cargo test -p zkguard-prover --test circuit_digest_drift -- --ignored \
                  record_circuit_digests`, checked by the same file's drift test."
            .into(),
        cases: cases_out,
    };
    std::fs::create_dir_all(record_path().parent().unwrap()).unwrap();
    std::fs::write(record_path(), serde_json::to_string_pretty(&record).unwrap() + "\n").unwrap();
}
