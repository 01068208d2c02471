//! Drift test: the Solidity half of the public-instance layout (`contracts/src/InstanceLayout.sol`)
//! must agree with the Rust half (`zkguard_prover::circuit::instances`), constant by constant,
//! and the Solidity file may not grow a constant this test does not know. The packed-word
//! vectors `contracts/fixtures/packing.json` (Rust encodes, `InstanceLayoutPacking.t.sol` decodes
//! with the Solidity library) must be what the Rust encoder produces today.

use std::collections::BTreeMap;
use std::path::Path;

use alloy_primitives::U256;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use zkguard_prover::circuit::field::fr_to_be_bytes;
use zkguard_prover::circuit::instances::{
    AppInstances, InstanceLayout, ACCUMULATOR_LIMBS, CONTEXT_INDEX, DECISION_BITS_PER_WORD, FLAGGED_COUNT_INDEX,
    HEADER_LEN, INPUT_COMMITMENT_INDEX, MAX_SCORE_BITS, MIN_SCORE_BITS, MODEL_COMMITMENT_INDEX, SAMPLE_COUNT_INDEX,
    SCORE_WORD_BITS,
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
        ("FLAGGED_COUNT_OFFSET", U256::from(FLAGGED_COUNT_INDEX)),
        ("SCORE_WORD_BITS", U256::from(SCORE_WORD_BITS)),
        ("MIN_SCORE_BITS", U256::from(MIN_SCORE_BITS)),
        ("MAX_SCORE_BITS", U256::from(MAX_SCORE_BITS)),
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

/// `appInstanceCount` in Solidity is `5 + ceil(b / 248) + ceil(b / floor(248 / scoreBits))` (no
/// score words for `scoreBits = 0`): the same formula as `InstanceLayout::len`, checked over the
/// batch sizes and widths where it could differ.
#[test]
fn solidity_instance_count_formula_matches_rust() {
    let sol = solidity_constants();
    let header = sol["HEADER_INSTANCES"].to::<usize>();
    let bits = sol["DECISION_BITS_PER_WORD"].to::<usize>();
    let score_word = sol["SCORE_WORD_BITS"].to::<usize>();
    // Solidity's `(n + d - 1) / d`, spelled out on purpose.
    #[allow(clippy::manual_div_ceil)]
    let ceil = |n: usize, d: usize| (n + d - 1) / d;
    for batch_size in [1usize, 2, 4, 6, 7, 16, 247, 248, 249, 256, 496, 497, 1024] {
        for score_bits in [0u32, 2, 7, 40, 41, 62, 63, 120] {
            let scores = if score_bits == 0 { 0 } else { ceil(batch_size, score_word / score_bits as usize) };
            let sol_count = header + ceil(batch_size, bits) + scores;
            let layout = InstanceLayout { batch_size, score_bits: (score_bits != 0).then_some(score_bits) };
            assert_eq!(layout.len(), sol_count, "batch {batch_size}, score bits {score_bits}");
        }
    }
}

const PACKING_VECTORS: &str = "../contracts/fixtures/packing.json";

/// (batch size, score bits (0: none), real samples) of each vector.
const PACKING_CASES: [(usize, u32, usize); 6] =
    [(1, 40, 1), (247, 40, 200), (248, 0, 248), (249, 7, 249), (1024, 40, 1000), (1024, 0, 3)];

/// The vectors as the Rust encoder produces them: deterministic decisions and scores (the extreme
/// scores of the width included), and the flat instances `AppInstances::to_vec` gives.
fn packing_vectors() -> serde_json::Value {
    let cases: Vec<serde_json::Value> = PACKING_CASES
        .iter()
        .map(|&(batch_size, bits, count)| {
            let layout = InstanceLayout { batch_size, score_bits: (bits != 0).then_some(bits) };
            let decisions: Vec<bool> = (0..batch_size).map(|i| i < count && (i * 7 + 3) % 5 < 2).collect();
            let scores: Vec<i128> = match bits {
                0 => vec![],
                _ => {
                    let half = 1i128 << (bits - 1);
                    (0..batch_size)
                        .map(|i| match i {
                            _ if i >= count => 0,
                            0 => half - 1,
                            1 => -half,
                            _ => ((i as i128 * 1_000_003) % (2 * half)) - half,
                        })
                        .collect()
                }
            };
            let app = AppInstances {
                layout,
                model_commitment: Fr::from(0x1111u64),
                input_commitment: Fr::from(0x2222u64),
                context: Fr::from(0x3333u64),
                sample_count: count,
                decisions: decisions.clone(),
                scores: scores.clone(),
            };
            let flat = app.encode().expect("scores fit");
            assert_eq!(AppInstances::from_slice(layout, &flat).as_ref(), Ok(&app), "Rust round trip");
            serde_json::json!({
                "batchSize": batch_size,
                "scoreBits": bits,
                "sampleCount": count,
                "flaggedCount": app.flagged_count(),
                "decisions": decisions,
                "scores": scores[..scores.len().min(count)].iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                "instances": flat.iter().map(|x| format!("0x{}", hex::encode(fr_to_be_bytes(x)))).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::json!({
        "generatedBy": "cargo test -p zkguard-prover --test evm_layout_drift -- --ignored write_packing_vectors",
        "cases": cases,
    })
}

fn vectors_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(PACKING_VECTORS)
}

#[test]
fn committed_packing_vectors_are_current() {
    let path = vectors_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let committed: serde_json::Value = serde_json::from_str(&text).expect("packing.json parses");
    assert!(
        committed == packing_vectors(),
        "{} is stale: regenerate it with `{}`",
        path.display(),
        packing_vectors()["generatedBy"].as_str().unwrap()
    );
}

#[test]
#[ignore = "writes contracts/fixtures/packing.json"]
fn write_packing_vectors() {
    let text = serde_json::to_string_pretty(&packing_vectors()).unwrap() + "\n";
    std::fs::write(vectors_path(), text).unwrap();
}
