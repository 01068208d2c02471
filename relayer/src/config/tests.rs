//! The configuration's unit tests: parsing, defaults, refusals and path resolution.

use super::*;

pub(super) const MINIMAL: &str = r#"
    database = "jobs.db"
    api_token = "0123456789abcdef"
    [chain]
    rpc_url = "http://127.0.0.1:8545"
    chain_id = 31337
    guard = "0x00000000000000000000000000000000000000a1"
    [proving]
    cache_dir = "cache"
    insecure_dev_srs = true
    [[models]]
    id = "1"
    path = "m.json"
    batch_size = 4
"#;

#[test]
fn parses_with_defaults_and_resolves_paths() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("relayer.toml");
    std::fs::write(&path, MINIMAL).unwrap();
    let c = Config::load(&path).unwrap();
    assert_eq!(c.database, crate::store::DatabaseUrl::Sqlite(dir.path().join("jobs.db")));
    assert_eq!(c.chain.confirmations, 1);
    assert_eq!(c.models[0].path, dir.path().join("m.json"));
    assert_eq!(c.retention.max_age_ms(), Some(30 * 86_400_000), "finished jobs kept 30 days by default");
    let forever: Config = toml::from_str(&format!("{MINIMAL}\n[retention]\nfinished_after_days = 0\n")).unwrap();
    assert_eq!(forever.retention.max_age_ms(), None);
    assert!(!format!("{c:?}").contains("0123456789abcdef"), "the token leaks through Debug");
}

#[test]
fn refuses_short_tokens_unknown_keys_and_bad_models() {
    let short: Config = toml::from_str(&MINIMAL.replace("0123456789abcdef", "short")).unwrap();
    assert!(short.validate().unwrap_err().to_string().contains("at least 16"));
    assert!(toml::from_str::<Config>(&format!("{MINIMAL}\nbogus = 1")).is_err());
    let zero: Config = toml::from_str(&MINIMAL.replace("batch_size = 4", "batch_size = 0")).unwrap();
    assert!(zero.validate().is_err());
}

#[test]
fn model_visibility_defaults_to_committed_and_parses() {
    use zkguard_prover::circuit::Visibility;
    let with = |extra: &str| toml::from_str::<Config>(&format!("{MINIMAL}{extra}"));
    assert_eq!(with("").unwrap().models[0].visibility, Visibility::Committed);
    assert_eq!(with("visibility = \"fixed\"\n").unwrap().models[0].visibility, Visibility::Fixed);
    assert_eq!(with("visibility = \"committed\"\n").unwrap().models[0].visibility, Visibility::Committed);
    let err = with("visibility = \"public\"\n").unwrap_err().to_string();
    assert!(err.contains("public") && err.contains("fixed"), "{err}");
}

#[test]
fn the_fast_layout_is_refused_naming_the_model_and_why() {
    let with = |extra: &str| toml::from_str::<Config>(&format!("{MINIMAL}{extra}")).unwrap();
    assert_eq!(with("").models[0].layout, Layout::Compact);
    assert!(with("layout = \"compact\"\naggregate = 1\n").validate().is_ok());
    let err = with("layout = \"fast\"\n").validate().unwrap_err().to_string();
    for part in ["models[0] (id 1)", "layout = \"fast\" is refused", "direct mode", "EIP-170", "gas"] {
        assert!(err.contains(part), "{part:?} missing from: {err}");
    }
    // Batch mode: the aggregation verifier of fast-layout proofs was measured over EIP-170.
    let batch = with("layout = \"fast\"\naggregate = 1\n");
    assert_eq!(batch.models[0].layout, Layout::Fast);
    let err = batch.validate().unwrap_err().to_string();
    for part in ["models[0] (id 1)", "batch mode", "aggregation", "25,713 bytes", "layout = \"compact\""] {
        assert!(err.contains(part), "{part:?} missing from: {err}");
    }
    let err = toml::from_str::<Config>(&format!("{MINIMAL}layout = \"fastest\"\n")).unwrap_err().to_string();
    assert!(err.contains("fastest") && err.contains("compact"), "{err}");
    // Config::load validates: the refusal comes at load.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("relayer.toml");
    std::fs::write(&path, format!("{MINIMAL}layout = \"fast\"\n")).unwrap();
    assert!(Config::load(&path).unwrap_err().to_string().contains("is refused: in direct mode"));
}

#[test]
fn model_scores_default_to_on_and_shape_the_circuit() {
    let with = |extra: &str| toml::from_str::<Config>(&format!("{MINIMAL}{extra}")).unwrap();
    let model = zkguard_prover::demo::demo_model(4);
    let scored = with("");
    assert!(scored.models[0].scores && scored.models[0].app_shape(&model).has_scores);
    let bare = with("scores = false\n");
    assert!(!bare.models[0].scores && !bare.models[0].app_shape(&model).has_scores);
    assert!(bare.validate().is_ok());
    assert!(toml::from_str::<Config>(&format!("{MINIMAL}scores = \"no\"\n")).is_err());
}

#[test]
fn the_prover_role_reads_its_own_memory_budget() {
    let with = |extra: &str| toml::from_str::<Config>(&format!("{MINIMAL}\n{extra}")).unwrap();
    let shared = with("");
    assert_eq!((shared.memory_budget_mb("prover"), shared.memory_budget_mb("all")), (0, 0));
    let c = with("[prover]\nmemory_budget_mb = 2000\n");
    assert_eq!(c.memory_budget_mb("prover"), 2000, "[prover] applies to --role prover");
    assert_eq!(c.memory_budget_mb("all"), 0, "and not to the other roles");
    let proving = toml::from_str::<Config>(
        &MINIMAL.replace("insecure_dev_srs = true", "insecure_dev_srs = true\nmemory_budget_mb = 9000"),
    )
    .unwrap();
    assert_eq!((proving.memory_budget_mb("prover"), proving.memory_budget_mb("all")), (9000, 9000));
    assert!(toml::from_str::<Config>(&format!("{MINIMAL}\n[prover]\nbogus = 1\n")).is_err());
}

#[test]
fn batch_mode_is_validated() {
    let with = |extra: &str| toml::from_str::<Config>(&format!("{MINIMAL}{extra}")).unwrap();
    let direct = with("");
    assert_eq!(direct.models[0].aggregate, None);
    assert_eq!(direct.models[0].aggregation_degree(), None);
    let two = with("aggregate = 2\n");
    assert!(two.validate().is_ok());
    assert_eq!(two.models[0].aggregation_degree(), Some(21));
    assert_eq!(with("aggregate = 1\naggregation_k = 22\n").models[0].aggregation_degree(), Some(22));
    for (extra, message) in [
        ("aggregate = 0\n", "aggregates 1..=4"),
        ("aggregate = 5\n", "aggregates 1..=4"),
        ("aggregation_k = 20\n", "without aggregate"),
        ("aggregate = 1\naggregation_k = 12\n", "outside 18..=23"),
    ] {
        let err = with(extra).validate().unwrap_err().to_string();
        assert!(err.contains(message), "{extra}: {err}");
    }
}
