//! Each committed generated verifier's bytecode is stored twice: in its forge-style artifact
//! (`contracts/src/generated/<name>/Halo2Verifier.json`, `bytecode.object`, written by
//! `zkguard verifier generate` and the prover's fixture tests) and in the fixture the forge tests
//! deploy it from (`contracts/fixtures/<mode>.json`, `verifierBytecode`). The copies are matched
//! by circuit digest; this test fails when they differ, when their sizes or instance counts
//! disagree, when a fixture's verifier has no artifact, or when an artifact has no fixture (a
//! stale directory left after regenerating under a new digest).

use std::path::Path;

use serde_json::Value;

/// `(name, JSON)` pairs: generated verifier directories or fixture files.
type Named = Vec<(String, Value)>;

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Lower-case hex without `0x`.
fn hex_of(value: &Value) -> Option<String> {
    value.as_str().map(|s| s.trim_start_matches("0x").to_ascii_lowercase())
}

/// Every disagreement between the generated artifacts (`(directory name, artifact JSON)`) and the
/// fixtures (`(file name, fixture JSON)`); empty when each verifier's two copies match.
fn disagreements(generated: &[(String, Value)], fixtures: &[(String, Value)]) -> Vec<String> {
    let mut problems = vec![];
    let mut used = vec![false; generated.len()];
    for (file, f) in fixtures {
        let digest = hex_of(&f["circuitDigest"]).unwrap_or_default();
        let Some(i) = generated.iter().position(|(_, a)| hex_of(&a["spec"]["circuitDigest"]).as_ref() == Some(&digest))
        else {
            problems.push(format!("{file}: no generated verifier of circuit 0x{digest} under contracts/src/generated"));
            continue;
        };
        used[i] = true;
        let (name, a) = &generated[i];
        let at = format!("{file} and generated/{name}");
        if hex_of(&f["verifierBytecode"]) != hex_of(&a["bytecode"]["object"]) {
            problems.push(format!("{at}: the verifier's creation code differs"));
        }
        let runtime_hex = hex_of(&a["deployedBytecode"]["object"]).unwrap_or_default();
        let sizes = [f["verifierRuntimeSize"].as_u64(), a["runtimeSize"].as_u64(), Some(runtime_hex.len() as u64 / 2)];
        if sizes.iter().any(|s| *s != sizes[0]) {
            problems.push(format!("{at}: runtime sizes differ: {sizes:?}"));
        }
        let instances = f["instances"].as_array().map(|v| v.len() as u64);
        if instances != a["spec"]["numInstance"].as_u64() {
            problems.push(format!("{at}: {instances:?} instances, the verifier reads {}", a["spec"]["numInstance"]));
        }
        if f["accumulatorLimbs"].as_u64() != a["spec"]["accumulatorLimbs"].as_u64() {
            problems.push(format!("{at}: accumulator limbs differ"));
        }
    }
    for ((name, _), used) in generated.iter().zip(used) {
        if !used {
            problems.push(format!("generated/{name}: no fixture carries this verifier (stale?)"));
        }
    }
    problems
}

/// `(file name, JSON)` of every `*.json` in `dir` (sorted) that has `key`.
fn json_files(dir: &Path, key: &str) -> Named {
    let mut out: Named = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), read(&p)))
        .filter(|(_, v)| v.get(key).is_some())
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn committed() -> (Named, Named) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut generated = vec![];
    for entry in std::fs::read_dir(root.join("src/generated")).unwrap() {
        let dir = entry.unwrap().path();
        let artifact = dir.join("Halo2Verifier.json");
        if artifact.exists() {
            generated.push((dir.file_name().unwrap().to_string_lossy().into_owned(), read(&artifact)));
        }
    }
    generated.sort_by(|a, b| a.0.cmp(&b.0));
    (generated, json_files(&root.join("fixtures"), "verifierBytecode"))
}

#[test]
fn both_stored_copies_of_each_generated_verifier_match() {
    let (generated, fixtures) = committed();
    assert!(generated.len() >= 2 && fixtures.len() >= 2, "{} generated, {} fixtures", generated.len(), fixtures.len());
    let problems = disagreements(&generated, &fixtures);
    assert!(
        problems.is_empty(),
        "the committed verifiers disagree (regenerate both with the prover's `write_direct_fixture` / \
         `write_batch_fixture`, and delete a generated directory no fixture uses any more):\n{}",
        problems.join("\n")
    );
}

#[test]
fn a_changed_copy_or_an_orphan_is_found() {
    let (generated, fixtures) = committed();
    // One byte of the fixture's creation code.
    let mut tampered = fixtures.clone();
    let code = tampered[0].1["verifierBytecode"].as_str().unwrap().to_string();
    let last = if code.ends_with('0') { "1" } else { "0" };
    tampered[0].1["verifierBytecode"] = Value::String(format!("{}{last}", &code[..code.len() - 1]));
    let problems = disagreements(&generated, &tampered);
    assert!(problems.len() == 1 && problems[0].contains("creation code differs"), "{problems:?}");
    // The artifact's runtime size.
    let mut resized = generated.clone();
    resized[0].1["runtimeSize"] = Value::from(1);
    assert!(disagreements(&resized, &fixtures).iter().any(|p| p.contains("runtime sizes differ")));
    // A fixture whose verifier has no artifact, and that artifact left without a fixture.
    let missing = disagreements(&generated[1..], &fixtures);
    assert!(missing.iter().any(|p| p.contains("no generated verifier of circuit")), "{missing:?}");
    let orphan = disagreements(&generated, &fixtures[1..]);
    assert!(orphan.iter().any(|p| p.contains("no fixture carries this verifier")), "{orphan:?}");
}
