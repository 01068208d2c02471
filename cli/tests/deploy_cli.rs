//! `zkguard deploy` against a real anvil: the contracts and a registered model (direct mode,
//! breast-cancer logistic at B = 4, INSECURE dev SRS) on the shared verifier (its default), a
//! second deployment reusing that verifier, the addresses file, and the refusals (no key, a key
//! that is not a key, no chain, the shared verifier in batch mode). Anvil's dev keys are PUBLIC: local chain only.

use std::path::{Path, PathBuf};
use std::process::Command;

use alloy::primitives::Address;
use alloy::providers::{Provider, ProviderBuilder};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn zkguard() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_zkguard"));
    c.current_dir(root()).env_remove("ZKGUARD_DEPLOYER_KEY").env("ZKGUARD_LOG", "warn");
    c
}

#[tokio::test(flavor = "multi_thread")]
async fn deploys_contracts_and_registers_a_model() {
    let anvil =
        zkguard_contracts::deploy::anvil::spawn(&zkguard_contracts::deploy::anvil::anvil_binary(&root())).unwrap();
    let key = alloy::hex::encode(anvil.keys()[0].to_bytes());
    let attester = anvil.addresses()[3].to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("deployment.json");
    let output = zkguard()
        .args(["deploy", "--rpc-url", anvil.endpoint().as_str(), "--out", out.to_str().unwrap()])
        .args(["--model", "models/breast_cancer_logistic.json", "--calibration", "data/breast_cancer_logistic.csv"])
        .args(["--batch-size", "4", "--action", "breaker", "--model-id", "7", "--insecure-dev-srs"])
        .args(["--input-policy", "attested", "--attester", &attester, "--threshold", "1"])
        .args(["--cache-dir", "target/zkguard-test-cache"])
        .args(["--generated-dir", dir.path().join("generated").to_str().unwrap()])
        .env("ZKGUARD_DEPLOYER_KEY", &key)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "deploy failed:\n{stdout}\n{stderr}");
    assert!(!stdout.contains(&key) && !stderr.contains(&key), "the key leaked into the output");
    let file: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(file["chainId"], 31337);
    assert_eq!(file["model"]["modelId"], 7);
    assert_eq!(file["model"]["mode"], "direct");
    let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url());
    for field in ["registry", "guard", "breaker", "filter", "vault", "token"] {
        let address: Address = file[field].as_str().unwrap().parse().unwrap();
        assert!(!provider.get_code_at(address).await.unwrap().is_empty(), "{field} has no code");
    }
    let verifier: Address = file["model"]["verifier"].as_str().unwrap().parse().unwrap();
    assert!(!provider.get_code_at(verifier).await.unwrap().is_empty());
    // Direct mode's default: the shared verifier (deployed now) and the model's key.
    assert_eq!(file["model"]["verifierKind"], "shared", "{file}");
    assert_eq!(file["model"]["rawVerifierReused"], false);
    let key_contract: Address = file["model"]["verifyingKey"].as_str().unwrap().parse().unwrap();
    assert!(!provider.get_code_at(key_contract).await.unwrap().is_empty());
    let shared: Address = file["model"]["rawVerifier"].as_str().unwrap().parse().unwrap();
    let wrapper = zkguard_contracts::rpc::ZkGuardKeyedVerifier::new(verifier, &provider);
    assert_eq!(wrapper.sharedVerifier().call().await.unwrap(), shared);
    assert_eq!(wrapper.verifyingKey().call().await.unwrap(), key_contract);
    assert!(stdout.contains("deployed now through CREATE2"), "{stdout}");
    // A second deployment on the chain finds the shared verifier and deploys only key and wrapper.
    let again = dir.path().join("again.json");
    let output = zkguard()
        .args(["deploy", "--rpc-url", anvil.endpoint().as_str(), "--out", again.to_str().unwrap()])
        .args(["--model", "models/breast_cancer_logistic.json", "--calibration", "data/breast_cancer_logistic.csv"])
        .args(["--batch-size", "4", "--action", "breaker", "--model-id", "7", "--insecure-dev-srs"])
        .args(["--input-policy", "attested", "--attester", &attester, "--threshold", "1"])
        .args(["--cache-dir", "target/zkguard-test-cache", "--verifier", "shared"])
        .env("ZKGUARD_DEPLOYER_KEY", &key)
        .output()
        .unwrap();
    assert!(output.status.success(), "second deploy: {}", String::from_utf8_lossy(&output.stderr));
    let second: serde_json::Value = serde_json::from_slice(&std::fs::read(&again).unwrap()).unwrap();
    assert_eq!(second["model"]["rawVerifier"], file["model"]["rawVerifier"]);
    assert_eq!(
        (&second["model"]["rawVerifierReused"], &second["model"]["verifierDeployGas"]),
        (&true.into(), &0.into())
    );
    assert_ne!(second["model"]["verifyingKey"], file["model"]["verifyingKey"]);
    // the model's input policy is on chain: the attester given, threshold 1
    let registry: Address = file["registry"].as_str().unwrap().parse().unwrap();
    let registry = zkguard_contracts::rpc::ModelRegistry::new(registry, &provider);
    let model = registry.getModel(alloy::primitives::U256::from(7)).call().await.unwrap();
    assert_eq!((model.inputMode, model.attestThreshold), (0, 1), "Attested, threshold 1");
    let members = registry.inputMembers(alloy::primitives::U256::from(7)).call().await.unwrap();
    assert_eq!(members, vec![attester.parse::<Address>().unwrap()]);

    // Input-policy flags that cannot work are refused before any work, naming the flag.
    for (flags, expected) in [
        (vec!["--input-policy", "open", "--action", "breaker"], "refused for --action breaker"),
        (vec!["--input-policy", "attested"], "needs at least one --attester"),
        (vec!["--input-policy", "attested", "--attester", &attester, "--threshold", "2"], "--threshold 2"),
        (vec!["--input-policy", "submitters"], "needs at least one --submitter"),
        (
            vec![
                "--input-policy",
                "attested",
                "--attester",
                &attester,
                "--aggregate",
                "0",
                "--verifier",
                "shared",
                "--insecure-dev-srs",
            ],
            "batch mode aggregates at least 1 proof",
        ),
    ] {
        let out = zkguard()
            .args([
                "deploy",
                "--rpc-url",
                anvil.endpoint().as_str(),
                "--out",
                dir.path().join("x.json").to_str().unwrap(),
            ])
            .args(["--model", "models/breast_cancer_logistic.json", "--calibration", "data/breast_cancer_logistic.csv"])
            .args(&flags)
            .env("ZKGUARD_DEPLOYER_KEY", &key)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(expected), "{flags:?}: {err}");
        assert!(!dir.path().join("x.json").exists());
    }

    // Refusals: each names what is wrong, and nothing is written.
    let missing = dir.path().join("missing.json");
    let no_key = zkguard()
        .args(["deploy", "--rpc-url", anvil.endpoint().as_str(), "--out", missing.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!no_key.status.success());
    assert!(String::from_utf8_lossy(&no_key.stderr).contains("set ZKGUARD_DEPLOYER_KEY"));
    let bad_key = zkguard()
        .args(["deploy", "--rpc-url", anvil.endpoint().as_str(), "--out", missing.to_str().unwrap()])
        .env("ZKGUARD_DEPLOYER_KEY", "0xnot-a-key")
        .output()
        .unwrap();
    assert!(!bad_key.status.success());
    let err = String::from_utf8_lossy(&bad_key.stderr).to_string();
    assert!(err.contains("does not hold a valid hex private key") && !err.contains("not-a-key"), "{err}");
    let no_chain = zkguard()
        .args(["deploy", "--rpc-url", "http://127.0.0.1:9", "--out", missing.to_str().unwrap()])
        .env("ZKGUARD_DEPLOYER_KEY", &key)
        .output()
        .unwrap();
    assert!(!no_chain.status.success());
    assert!(String::from_utf8_lossy(&no_chain.stderr).contains("no chain at http://127.0.0.1:9"));
    assert!(!missing.exists());
}

#[test]
fn every_subcommand_has_help() {
    for args in [
        vec!["--help"],
        vec!["demo", "--help"],
        vec!["deploy", "--help"],
        vec!["relay", "serve", "--help"],
        vec!["model", "import", "--help"],
        vec!["aggregate", "--help"],
        vec!["verifier", "generate", "--help"],
    ] {
        let out = zkguard().args(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: zkguard"), "{args:?}");
    }
    let out = zkguard().args(["relay", "serve"]).output().unwrap();
    assert!(!out.status.success(), "relay serve needs --config");
}
