//! `zkguard verify` vouches only for what the proof shows: a real proof of the demo model made
//! with `zkguard prove`, then every readable field tampered (refused, naming the field), padded
//! and truncated proofs (refused by length), the verifier's expectations (`--model`,
//! `--commitment`, `--circuit`, `--context` and its parts), and `verify --vk FILE` from an exported
//! verifying key with an empty cache. Also the bad flags that must fail before any work.

mod cli_harness;

use cli_harness::{cache, err_of, root, run, s, write_inputs};

use std::path::{Path, PathBuf};

use clap::Parser;
use serde_json::Value;
use zkguard_prover::artifact;
use zkguard_prover::cli::Cli;
use zkguard_prover::demo;

const FEATURES: usize = 4;
const BATCH: usize = 4;

/// The demo model as a quantized file and its rows as a CSV (values in fixed point / 2^10).
fn inputs(dir: &Path, name: &str, weight0: i64) -> (PathBuf, PathBuf) {
    let mut model = demo::demo_model(FEATURES);
    if weight0 != 0 {
        // Another model of the same shape (and so the same circuit).
        let mut params = model.params();
        params[2 * FEATURES] = weight0;
        model = model.shape().model_from_params(name, &model.features, &params);
    }
    model.name = name.to_string();
    write_inputs(dir, &model, name)
}

fn context_parts() -> Vec<&'static str> {
    vec![
        "--chain-id",
        "31337",
        "--guard",
        "0x00000000000000000000000000000000000000A1",
        "--model-id",
        "3",
        "--nonce",
        "9",
        "--issued-at",
        "1700000000",
    ]
}

fn edited(original: &Path, dir: &Path, name: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let mut value: Value = serde_json::from_str(&std::fs::read_to_string(original).unwrap()).unwrap();
    edit(&mut value);
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(&value).unwrap()).unwrap();
    path
}

/// An edit of an artifact's JSON.
type Edit = Box<dyn FnOnce(&mut Value)>;

#[test]
fn verify_vouches_only_for_the_proof() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cache = cache();
    let (model, csv) = inputs(d, "fraud_logistic", 0);
    let (other_model, _) = inputs(d, "other_model", 700);

    // The expected context, as `zkguard context` computes it.
    let ctx = zkguard_prover::evm::SubmissionContext {
        chain_id: 31337,
        guard: demo::DEMO_GUARD,
        model_id: alloy_primitives::U256::from(3u64),
        nonce: 9,
        issued_at: 1_700_000_000,
        subjects: vec![],
    };
    let ctx_hex = artifact::fr_to_hex(&ctx.context());

    let proof = d.join("proof.json");
    let b = BATCH.to_string();
    let common = ["--insecure-dev-srs", "--cache-dir", &cache];
    let mut prove = vec!["prove", "--model", s(&model), "--data", s(&csv), "--batch-size", &b, "--max-columns", "1"];
    prove.extend(["--context", &ctx_hex, "-o", s(&proof)]);
    prove.extend(common);
    run(&prove).expect("prove");

    let verify = |file: &Path, extra: &[&str]| {
        let mut args = vec!["verify", s(file)];
        args.extend(common);
        args.extend(extra);
        run(&args)
    };
    verify(&proof, &[]).expect("the untouched artifact verifies");
    let artifact: Value = serde_json::from_str(&std::fs::read_to_string(&proof).unwrap()).unwrap();
    let commitment = artifact["model_commitment"].as_str().unwrap().to_string();
    let digest = artifact["circuit_digest"].as_str().unwrap().to_string();

    // Each readable field tampered: refused, naming the field.
    let cases: Vec<(&str, Edit)> = vec![
        ("decisions", Box::new(|v| v["decisions"][1] = Value::Bool(!v["decisions"][1].as_bool().unwrap()))),
        ("scores", Box::new(|v| v["scores"][0] = Value::String("123".into()))),
        (
            "model_commitment",
            Box::new(|v| {
                v["model_commitment"] = Value::String(format!("0x{}", "0".repeat(63) + "1"));
            }),
        ),
        ("sample_count", Box::new(|v| v["sample_count"] = Value::from(2))),
        ("batch_size", Box::new(|v| v["batch_size"] = Value::from(16))),
        ("produced_by", Box::new(|v| v["produced_by"]["insecure_srs"] = Value::Bool(false))),
        (
            "proof",
            Box::new(|v| {
                let p = v["proof"].as_str().unwrap().to_string();
                v["proof"] = Value::String(p + "00");
            }),
        ),
        (
            "proof",
            Box::new(|v| {
                let p = v["proof"].as_str().unwrap().to_string();
                v["proof"] = Value::String(p[..p.len() - 64].to_string());
            }),
        ),
        ("instances", Box::new(|v| v["instances"].as_array_mut().unwrap().push(Value::String("0x00".into())))),
    ];
    for (i, (field, edit)) in cases.into_iter().enumerate() {
        let file = edited(&proof, d, &format!("tampered-{i}.json"), edit);
        let err = err_of(verify(&file, &[]));
        assert!(err.contains(&format!("`{field}`")), "{field}: {err}");
    }
    // A changed public instance: the proof no longer verifies.
    let file = edited(&proof, d, "instance.json", |v| {
        v["instances"][3] = Value::String(format!("0x{}", "0".repeat(63) + "2"))
    });
    assert!(err_of(verify(&file, &[])).contains("does NOT verify"));
    // A duplicate key in the artifact: refused naming the key path.
    let text = std::fs::read_to_string(&proof).unwrap().replacen(
        "\"sample_count\"",
        "\"sample_count\": 1, \"sample_count\"",
        1,
    );
    let dup = d.join("dup.json");
    std::fs::write(&dup, text).unwrap();
    assert!(err_of(verify(&dup, &[])).contains("duplicate key `sample_count`"));

    // model_name: relabelled, it is refused when --model says which model this is.
    let relabelled = edited(&proof, d, "relabelled.json", |v| v["model_name"] = Value::String("other_model".into()));
    verify(&relabelled, &[]).expect("without --model the name is only reported as unchecked");
    let err = err_of(verify(&relabelled, &["--model", s(&model)]));
    assert!(err.contains("`model_name`"), "{err}");
    verify(&proof, &["--model", s(&model)]).expect("the right model");
    let err = err_of(verify(&proof, &["--model", s(&other_model)]));
    assert!(err.contains("not of --model"), "{err}");

    // Expectations.
    verify(&proof, &["--commitment", &commitment, "--circuit", &digest, "--context", &ctx_hex])
        .expect("all as expected");
    let wrong = format!("0x{}", "0".repeat(63) + "5");
    assert!(err_of(verify(&proof, &["--commitment", &wrong])).contains("--commitment"));
    assert!(err_of(verify(&proof, &["--circuit", &"ab".repeat(32)])).contains("--circuit"));
    assert!(err_of(verify(&proof, &["--context", &wrong])).contains("context"));
    verify(&proof, &context_parts()).expect("the context's parts");
    let mut parts = context_parts();
    parts[7] = "10"; // another nonce
    assert!(err_of(verify(&proof, &parts)).contains("bound to context"));
    assert!(err_of(verify(&proof, &parts[..4])).contains("missing --model-id, --nonce, --issued-at"));

    // A verifying-key artifact, used with an empty cache and no SRS flag.
    let vk = d.join("vk.json");
    run(&["vk", "export", "--proof", s(&proof), "-o", s(&vk), "--insecure-dev-srs", "--cache-dir", &cache]).unwrap();
    let empty = d.join("empty-cache");
    let with_vk = |file: &Path, vk: &Path| run(&["verify", s(file), "--vk", s(vk), "--cache-dir", s(&empty)]);
    with_vk(&proof, &vk).expect("verifies with the vk artifact alone");
    assert!(!empty.exists(), "the cache was not touched");
    let err = err_of(with_vk(
        &edited(&proof, d, "digest.json", |v| v["circuit_digest"] = Value::String("ab".repeat(32))),
        &vk,
    ));
    assert!(err.contains("`circuit_digest`"), "{err}");
    let err = err_of(with_vk(&edited(&proof, d, "scores.json", |v| v["scores"][2] = Value::String("-1".into())), &vk));
    assert!(err.contains("`scores`"), "{err}");
    // An edited vk artifact is refused, naming the field.
    let bad_vk = edited(&vk, d, "vk-len.json", |v| v["proof_length"]["evm"] = Value::from(64));
    assert!(err_of(with_vk(&proof, &bad_vk)).contains("`proof_length`"));
    let bad_vk = edited(&vk, d, "vk-digest.json", |v| v["circuit_digest"] = Value::String("00".repeat(32)));
    assert!(err_of(with_vk(&proof, &bad_vk)).contains("`circuit_digest`"));
}

#[test]
fn bad_flags_fail_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cache = cache();
    let (model, csv) = inputs(d, "m", 0);
    for flag in ["--max-columns", "--batch-size"] {
        let err =
            err_of(run(&["keygen", "--model", s(&model), flag, "0", "--insecure-dev-srs", "--cache-dir", &cache]));
        assert!(err.contains("must be at least 1"), "{flag}: {err}");
        let err = err_of(run(&[
            "prove",
            "--model",
            s(&model),
            "--data",
            s(&csv),
            flag,
            "0",
            "-o",
            "x.json",
            "--insecure-dev-srs",
        ]));
        assert!(err.contains("must be at least 1"), "{flag}: {err}");
    }
    // prove -o into a missing directory: refused before loading anything (no cache is created).
    let missing_cache = d.join("never-created");
    let out = d.join("no/such/dir/proof.json");
    let err = err_of(run(&[
        "prove",
        "--model",
        s(&model),
        "--data",
        s(&csv),
        "-o",
        s(&out),
        "--insecure-dev-srs",
        "--cache-dir",
        s(&missing_cache),
    ]));
    assert!(err.contains("does not exist"), "{err}");
    assert!(!missing_cache.exists());
    // import -o onto its own input.
    let float = root().join("models/breast_cancer_logistic.json");
    let copy = d.join("float.json");
    std::fs::copy(&float, &copy).unwrap();
    let calib = root().join("data/breast_cancer_logistic.csv");
    let err = err_of(run(&["model", "import", s(&copy), "--calibration", s(&calib), "-o", s(&copy)]));
    assert!(err.contains("is the input file"), "{err}");
    assert_eq!(std::fs::read(&copy).unwrap(), std::fs::read(&float).unwrap(), "the float model is intact");
    // A huge weight is printed short; NaN and a repeated key are named.
    let mut value: Value = serde_json::from_str(&std::fs::read_to_string(&float).unwrap()).unwrap();
    value["model"]["weights"][0] = Value::from(1e300);
    let huge = d.join("huge.json");
    std::fs::write(&huge, serde_json::to_string(&value).unwrap()).unwrap();
    let err = err_of(run(&["model", "check", s(&huge), s(&calib)]));
    assert!(err.contains("model.weights[0]") && err.contains("found 1e300") && err.len() < 400, "{err}");
    let text = std::fs::read_to_string(&float).unwrap();
    let nan = d.join("nan.json");
    std::fs::write(&nan, text.replacen("\"threshold\": ", "\"threshold\": NaN, \"x\": ", 1)).unwrap();
    let err = err_of(run(&["model", "check", s(&nan), s(&calib)]));
    assert!(err.contains("NaN is not a number in JSON"), "{err}");
    let dup = d.join("dup.json");
    std::fs::write(&dup, text.replacen("\"threshold\": ", "\"threshold\": 9, \"threshold\": ", 1)).unwrap();
    let err = err_of(run(&["model", "check", s(&dup), s(&calib)]));
    assert!(err.contains("duplicate key `decision.threshold`"), "{err}");
    // model check on a quantized file says what the file is.
    let err = err_of(run(&["model", "check", s(&model), s(&csv)]));
    assert!(err.contains("quantized model") && !err.contains("unknown field"), "{err}");
}

#[test]
fn default_outputs_never_touch_the_repository_files() {
    use zkguard_prover::cli::fixture::DEFAULT_FIXTURE_DIR;
    use zkguard_prover::cli::solidity::{resolve_solc, DEFAULT_GENERATED_DIR};
    use zkguard_prover::cli::verifier::VerifierCommand;
    use zkguard_prover::cli::Command;
    let parse =
        |args: &[&str]| Cli::try_parse_from(std::iter::once("zkguard").chain(args.iter().copied())).unwrap().command;
    let Command::Verifier(VerifierCommand::Generate(g)) = parse(&["verifier", "generate", "--circuit", "ab"]) else {
        panic!("verifier generate")
    };
    assert_eq!(g.solidity.generated_dir, Path::new(DEFAULT_GENERATED_DIR));
    let Command::Fixture(f) = parse(&["fixture"]) else { panic!("fixture") };
    assert_eq!(f.out, None, "the default is computed under {DEFAULT_FIXTURE_DIR}");
    assert_eq!(f.solidity.generated_dir, Path::new(DEFAULT_GENERATED_DIR));
    for dir in [DEFAULT_GENERATED_DIR, DEFAULT_FIXTURE_DIR] {
        assert!(dir.starts_with(".zkguard/"), "{dir}");
    }
    // The solc shim is found from outside the checkout; a wrong path says how to point at it.
    assert!(resolve_solc(Path::new("scripts/solc")).unwrap().exists());
    let err = resolve_solc(Path::new("/nonexistent/solc")).unwrap_err().to_string();
    assert!(err.contains("--solc PATH") && !err.contains("run `bash scripts/setup` to install"), "{err}");
}
