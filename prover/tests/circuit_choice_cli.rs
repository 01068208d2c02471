//! The circuit choices of `zkguard keygen` and `prove` beyond the model: `--layout` (a
//! fast-layout circuit, the Poseidon gate and many short columns, of the demo model made, proved
//! and verified through the CLI from the key cache and from the verifying-key artifact alone,
//! with no layout flag; its digest distinct from the compact circuit's; the refusals of an
//! unknown layout and of `--max-columns` with `--layout fast` before any work) and `--no-scores`
//! (a proof without score instances that verifies, and `verify` saying there are none).

mod cli_harness;

use cli_harness::{cache, err_of, run, s, write_inputs};

use std::path::{Path, PathBuf};

use clap::Parser;
use serde_json::Value;
use zkguard_prover::circuit::config::{AppCircuitConfig, Layout};
use zkguard_prover::circuit::poseidon::PoseidonBackend;
use zkguard_prover::circuit::{AppShape, Visibility};
use zkguard_prover::cli::{self, Cli, Command};
use zkguard_prover::demo;
use zkguard_prover::keys::cache::circuit_digest;

const FEATURES: usize = 4;
const BATCH: usize = 4;

/// The demo model as a quantized file and three of its rows as a CSV.
fn inputs(dir: &Path) -> (PathBuf, PathBuf) {
    write_inputs(dir, &demo::demo_model(FEATURES), "demo")
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_fast_layout_circuit_is_made_proved_and_verified_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cache = cache();
    let (model, csv) = inputs(d);
    let b = BATCH.to_string();
    let common = ["--insecure-dev-srs", "--cache-dir", &cache];

    let vk = d.join("fast-vk.json");
    let mut keygen = vec!["keygen", "--model", s(&model), "--batch-size", &b, "--layout", "fast", "--vk-out", s(&vk)];
    keygen.extend(common);
    run(&keygen).expect("keygen --layout fast");

    let salt = format!("0x{}05", "00".repeat(31));
    let prove = |layout: &str, out: &Path| {
        let mut args = vec!["prove", "--model", s(&model), "--data", s(&csv), "--batch-size", &b];
        args.extend(["--layout", layout, "--salt", &salt, "-o", s(out)]);
        args.extend(common);
        run(&args)
    };
    let fast = d.join("fast.json");
    let compact = d.join("compact.json");
    prove("fast", &fast).expect("prove --layout fast");
    prove("compact", &compact).expect("prove --layout compact");
    let (fast_artifact, compact_artifact) = (read(&fast), read(&compact));

    // The fast circuit is the Poseidon gate with the fastest layout: its own digest.
    let shape = AppShape::for_model(&demo::demo_model(FEATURES), BATCH, Visibility::Committed);
    let expected = AppCircuitConfig::for_layout(&shape, Layout::Fast, 4).unwrap();
    assert_eq!(expected.poseidon, PoseidonBackend::Gate);
    assert_eq!(fast_artifact["circuit_digest"].as_str().unwrap(), circuit_digest(&expected));
    assert_ne!(fast_artifact["circuit_digest"], compact_artifact["circuit_digest"]);
    // Same statement (same salt, rows and model): the same instances, a larger proof.
    assert_eq!(fast_artifact["instances"], compact_artifact["instances"]);
    assert!(fast_artifact["proof"].as_str().unwrap().len() > compact_artifact["proof"].as_str().unwrap().len());

    // `verify` needs no layout flag: the cached configuration or the vk artifact carries it.
    let mut verify = vec!["verify", s(&fast)];
    verify.extend(common);
    run(&verify).expect("verify a fast-layout proof from the key cache");
    let empty = d.join("empty-cache");
    run(&["verify", s(&fast), "--vk", s(&vk), "--cache-dir", s(&empty)]).expect("verify with the vk artifact alone");
    assert!(!empty.exists(), "the cache was not touched");
    // The fast proof is not a proof of the compact circuit.
    let swapped = d.join("swapped.json");
    let mut value = fast_artifact.clone();
    value["circuit_digest"] = compact_artifact["circuit_digest"].clone();
    std::fs::write(&swapped, serde_json::to_string(&value).unwrap()).unwrap();
    let mut verify = vec!["verify", s(&swapped)];
    verify.extend(common);
    assert!(run(&verify).is_err(), "a fast proof verified against the compact key");
}

#[test]
fn bad_layouts_and_a_column_budget_with_the_fast_layout_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (model, csv) = inputs(d);
    let missing_cache = d.join("never-created");
    let cache = s(&missing_cache);

    let err = err_of(run(&["keygen", "--model", s(&model), "--layout", "fastest", "--insecure-dev-srs"]));
    assert!(err.contains("fastest") && err.contains("compact") && err.contains("fast"), "{err}");

    let keygen = ["keygen", "--model", s(&model), "--layout", "fast", "--max-columns", "8", "--insecure-dev-srs"];
    let err = err_of(run(&[&keygen[..], &["--cache-dir", cache]].concat()));
    assert!(err.contains("--max-columns applies to --layout compact only"), "{err}");
    let out = d.join("proof.json");
    let prove = ["prove", "--model", s(&model), "--data", s(&csv), "--layout", "fast", "--max-columns", "2"];
    let err = err_of(run(&[&prove[..], &["-o", s(&out), "--insecure-dev-srs", "--cache-dir", cache]].concat()));
    assert!(err.contains("--max-columns applies to --layout compact only"), "{err}");
    assert!(!missing_cache.exists() && !out.exists(), "nothing was generated or written");
}

#[test]
fn a_circuit_without_scores_proves_and_verifies_and_verify_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cache = cache();
    let (model, csv) = inputs(d);
    let b = BATCH.to_string();
    let common = ["--insecure-dev-srs", "--cache-dir", &cache];
    let prove = |extra: &[&str], out: &Path| {
        let mut args = vec!["prove", "--model", s(&model), "--data", s(&csv), "--batch-size", &b, "-o", s(out)];
        args.extend(extra);
        args.extend(common);
        run(&args)
    };
    let (bare, scored) = (d.join("bare.json"), d.join("scored.json"));
    prove(&["--no-scores"], &bare).expect("prove --no-scores");
    prove(&[], &scored).expect("prove with scores");
    let (bare_artifact, scored_artifact) = (read(&bare), read(&scored));
    assert_eq!(bare_artifact["scores"], Value::Array(vec![]));
    assert_eq!(scored_artifact["scores"].as_array().unwrap().len(), 3);
    assert_eq!(bare_artifact["decisions"], scored_artifact["decisions"]);
    assert_ne!(bare_artifact["circuit_digest"], scored_artifact["circuit_digest"]);
    let instances = |a: &Value| a["instances"].as_array().unwrap().len();
    assert!(instances(&bare_artifact) < instances(&scored_artifact), "no score words");

    let verified = |file: &Path| {
        let mut args = vec!["zkguard", "verify", s(file)];
        args.extend(common);
        let Command::Verify(args) = Cli::try_parse_from(args).unwrap().command else { unreachable!() };
        cli::verify::verify_artifact(&args)
    };
    let v = verified(&bare).expect("a proof without scores verifies (keys from the cache)");
    assert!(v.instances.scores.is_empty() && !v.instances.layout.has_scores());
    let line = cli::verify::summary(&v);
    assert!(line.contains("3 samples") && line.contains("exposes no scores"), "{line}");
    let line = cli::verify::summary(&verified(&scored).unwrap());
    assert!(line.contains("decisions and scores match") && !line.contains("no scores"), "{line}");
    // Scores added to a proof that has none are refused, naming the field.
    let forged = d.join("forged.json");
    let mut value = bare_artifact.clone();
    value["scores"] = scored_artifact["scores"].clone();
    std::fs::write(&forged, serde_json::to_string(&value).unwrap()).unwrap();
    let err = format!("{:#}", verified(&forged).unwrap_err());
    assert!(err.contains("`scores`"), "{err}");
}
