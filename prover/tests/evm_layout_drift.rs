//! Drift test: the Solidity half of the public-instance layout (`contracts/src/InstanceLayout.sol`)
//! must agree with the Rust half (`zkguard_prover::circuit::instances`), constant by constant,
//! and the Solidity file may not grow a constant this test does not know.

use std::collections::BTreeMap;
use std::path::Path;

use alloy_primitives::U256;
use zkguard_prover::circuit::instances::{
    InstanceLayout, ACCUMULATOR_LIMBS, CONTEXT_INDEX, DECISION_BITS_PER_WORD, HEADER_LEN, INPUT_COMMITMENT_INDEX,
    MODEL_COMMITMENT_INDEX, SAMPLE_COUNT_INDEX,
};
use zkguard_prover::evm::context::FIELD_MODULUS;

/// `uint256 internal constant NAME = <decimal>;` declarations (the value may wrap to the next line).
fn solidity_constants() -> BTreeMap<String, U256> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../contracts/src/InstanceLayout.sol");
    let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // Drop line comments (the NatSpec mentions the declaration form itself).
    let text: String = source.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
    let mut out = BTreeMap::new();
    for (i, piece) in text.split("uint256 internal constant").enumerate().skip(1) {
        let decl = piece.split(';').next().expect("a declaration ends with ;");
        let (name, value) = decl.split_once('=').unwrap_or_else(|| panic!("constant {i} has no `=`: {decl:?}"));
        let value: U256 = value
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("{}: {value:?} is not a decimal literal ({e})", name.trim()));
        assert!(out.insert(name.trim().to_string(), value).is_none(), "{} declared twice", name.trim());
    }
    out
}

#[test]
fn solidity_layout_constants_match_rust() {
    let sol = solidity_constants();
    let rust: BTreeMap<&str, U256> = [
        ("FIELD_MODULUS", FIELD_MODULUS),
        ("MAX_POSITIVE", (FIELD_MODULUS - U256::from(1u64)) / U256::from(2u64)),
        ("DECISION_BITS_PER_WORD", U256::from(DECISION_BITS_PER_WORD)),
        ("DECISION_WORD_BOUND", U256::from(1u64) << DECISION_BITS_PER_WORD),
        ("ACCUMULATOR_LIMBS", U256::from(ACCUMULATOR_LIMBS)),
        ("MODEL_COMMITMENT_OFFSET", U256::from(MODEL_COMMITMENT_INDEX)),
        ("INPUT_COMMITMENT_OFFSET", U256::from(INPUT_COMMITMENT_INDEX)),
        ("CONTEXT_OFFSET", U256::from(CONTEXT_INDEX)),
        ("SAMPLE_COUNT_OFFSET", U256::from(SAMPLE_COUNT_INDEX)),
        ("DECISIONS_OFFSET", U256::from(HEADER_LEN)),
        ("HEADER_INSTANCES", U256::from(HEADER_LEN)),
    ]
    .into_iter()
    .collect();
    let sol_names: Vec<&str> = sol.keys().map(String::as_str).collect();
    let rust_names: Vec<&str> = rust.keys().copied().collect();
    assert_eq!(sol_names, rust_names, "InstanceLayout.sol and this test name different constants");
    for (name, value) in &rust {
        assert_eq!(&sol[*name], value, "{name} differs between InstanceLayout.sol and Rust");
    }
}

/// `appInstanceCount` / `decisionWordCount` in Solidity are `4 + ceil(b / 248) + (scores ? b : 0)`:
/// the same formula as `InstanceLayout::len` (checked over the batch sizes where it could differ).
#[test]
fn solidity_instance_count_formula_matches_rust() {
    let sol = solidity_constants();
    let header = sol["HEADER_INSTANCES"].to::<usize>();
    let bits = sol["DECISION_BITS_PER_WORD"].to::<usize>();
    for batch_size in [1usize, 2, 4, 16, 247, 248, 249, 496, 497, 1024] {
        for has_scores in [false, true] {
            // Solidity's `(batchSize + BITS - 1) / BITS`, spelled out on purpose.
            #[allow(clippy::manual_div_ceil)]
            let words = (batch_size + bits - 1) / bits;
            let sol_count = header + words + if has_scores { batch_size } else { 0 };
            assert_eq!(
                InstanceLayout { batch_size, has_scores }.len(),
                sol_count,
                "batch {batch_size}, scores {has_scores}"
            );
        }
    }
}
