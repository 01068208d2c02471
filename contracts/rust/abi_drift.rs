//! Drift test: each committed ABI (`contracts/abi/<Contract>.json`, what the bindings are
//! generated from) equals the ABI forge builds from the sources now (`contracts/out`). Run
//! `forge build` first (scripts/test does); regenerate a stale one with `scripts/export-abi`.

use std::path::Path;

use alloy_json_abi::JsonAbi;

fn read(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!("{}: {e} (run `forge build` before `cargo test`; scripts/test does)", path.display())
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn committed_abis_match_the_built_contracts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let list = std::fs::read_to_string(root.join("abi/CONTRACTS")).unwrap();
    let mut checked = 0;
    for line in list.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
        let (source, name) = line.split_once(' ').expect("`<source> <name>` per line");
        let committed: JsonAbi = serde_json::from_value(read(&root.join(format!("abi/{name}.json")))).unwrap();
        let built_artifact = read(&root.join(format!("out/{source}/{name}.json")));
        let built: JsonAbi = serde_json::from_value(built_artifact["abi"].clone()).unwrap();
        assert_eq!(
            committed, built,
            "contracts/abi/{name}.json is stale: the contract's interface changed; run scripts/export-abi"
        );
        checked += 1;
    }
    assert!(checked >= 7, "only {checked} contracts listed in contracts/abi/CONTRACTS");
}
