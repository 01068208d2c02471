//! Model files: every malformed input is refused with an error that names the field path and
//! what was expected; values that cannot be represented in fixed point are refused before any
//! circuit is built.

use std::path::Path;

use serde_json::{json, Value};
use zkguard_prover::model::{parse_model, ModelError};
use zkguard_prover::quant::{calibrate, FixedPoint, QuantError, QuantizedModel};

fn linear() -> Value {
    json!({
        "format": "zkguard-model", "version": 1, "name": "t",
        "features": ["a", "b", "c"],
        "preprocessing": {"mean": [0.0, 1.0, 2.0], "scale": [1.0, 2.0, 0.5]},
        "model": {"family": "linear", "weights": [0.5, -1.0, 2.0], "bias": 0.1, "link": "logit"},
        "decision": {"threshold": 0.0}
    })
}

fn mlp() -> Value {
    json!({
        "format": "zkguard-model", "version": 1, "name": "ae",
        "features": ["a", "b"],
        "model": {"family": "mlp_autoencoder", "layers": [
            {"weights": [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], "bias": [0.0, 0.1, 0.2], "activation": "relu"},
            {"weights": [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], "bias": [0.0, 0.0], "activation": "identity"}
        ]},
        "decision": {"threshold": 1.5}
    })
}

fn error_of(v: &Value) -> String {
    parse_model(&v.to_string(), Path::new("m.json")).unwrap_err().to_string()
}

fn with(mut v: Value, pointer: &str, new: Value) -> Value {
    *v.pointer_mut(pointer).unwrap_or_else(|| panic!("{pointer}")) = new;
    v
}

#[test]
fn valid_models_load() {
    parse_model(&linear().to_string(), "m.json").unwrap();
    parse_model(&mlp().to_string(), "m.json").unwrap();
}

#[test]
fn schema_errors_name_the_field_path() {
    let mut missing = linear();
    missing["model"].as_object_mut().unwrap().remove("bias");
    let e = error_of(&missing);
    assert!(e.contains("m.json") && e.contains("`model`") && e.contains("bias"), "{e}");

    let e = error_of(&with(linear(), "/model/family", json!("random_forest")));
    assert!(e.contains("`model.family`") && e.contains("random_forest"), "{e}");

    let e = error_of(&with(linear(), "/model/weights/1", json!("x")));
    assert!(e.contains("model.weights[1]"), "{e}");

    let mut unknown = linear();
    unknown["extra"] = json!(1);
    assert!(error_of(&unknown).contains("extra"));

    // JSON has no NaN: Python's json.dumps writes `NaN`, which must be refused with a position.
    let text = linear().to_string().replace("0.1,", "NaN,");
    let e = parse_model(&text, "m.json").unwrap_err();
    assert!(matches!(e, ModelError::Parse { .. }), "{e}");
    assert!(e.to_string().contains("line"), "{e}");
}

#[test]
fn semantic_errors_say_expected_and_found() {
    let cases: Vec<(Value, &str, &str)> = vec![
        (with(linear(), "/format", json!("other")), "format", "\"zkguard-model\""),
        (with(linear(), "/version", json!(2)), "version", "schema version 1"),
        (with(linear(), "/model/weights", json!([1.0, 2.0])), "model.weights", "3 values"),
        (with(linear(), "/preprocessing/scale/2", json!(0.0)), "preprocessing.scale[2]", "positive"),
        (with(linear(), "/preprocessing/mean", json!([0.0])), "preprocessing.mean", "3 values"),
        (with(linear(), "/model/bias", json!(1e12)), "model.bias", "finite"),
        (with(linear(), "/features/1", json!("a")), "features[1]", "unique"),
        (with(linear(), "/features", json!([])), "features", "1..=256"),
        (with(mlp(), "/model/layers/1/weights/0", json!([1.0, 2.0])), "model.layers[1].weights[0]", "3 values"),
        (with(mlp(), "/model/layers/0/bias", json!([0.0])), "model.layers[0].bias", "3 values"),
        (
            with(
                mlp(),
                "/model/layers/1",
                json!({"weights": [[0.1, 0.2, 0.3]], "bias": [0.0], "activation": "identity"}),
            ),
            "model.layers[1].weights",
            "2 outputs",
        ),
        (with(mlp(), "/model/layers", json!([])), "model.layers", "1..=8 layers"),
        (
            {
                let mut m = linear();
                m["quantization"] = json!({"scale_bits": 40});
                m
            },
            "quantization.scale_bits",
            "4..=24",
        ),
    ];
    for (model, path, expected) in cases {
        let e = error_of(&model);
        assert!(e.contains(&format!("`{path}`")), "error should name `{path}`: {e}");
        assert!(e.contains(expected), "error should say {expected:?}: {e}");
        assert!(e.contains("found"), "{e}");
    }
}

#[test]
fn unsupported_activation_is_refused() {
    let e = error_of(&with(mlp(), "/model/layers/0/activation", json!("tanh")));
    assert!(e.contains("model.layers[0].activation") && e.contains("tanh"), "{e}");
}

#[test]
fn values_that_overflow_fixed_point_are_refused() {
    let model = parse_model(&with(linear(), "/model/weights/0", json!(1e8)).to_string(), "m.json").unwrap();
    let err = QuantizedModel::from_float(&model, FixedPoint { scale_bits: 20, value_bits: 40 }).unwrap_err();
    assert!(matches!(&err, QuantError::ParameterOutOfRange { path, .. } if path == "model.weights[0]"), "{err}");
    // Calibration falls back to a smaller scale where the weight fits.
    let q = calibrate(&model, &[vec![1.0, 2.0, 3.0]], 3).unwrap();
    assert!(q.fixed.scale_bits < 20);

    // An input the circuit cannot represent is named, not silently wrapped.
    let q = calibrate(&parse_model(&linear().to_string(), "m.json").unwrap(), &[vec![1.0, 2.0, 3.0]], 3).unwrap();
    let err = q.quantize_input(&[1.0, f64::NAN, 3.0]).unwrap_err();
    assert!(err.to_string().contains("\"b\""), "{err}");
    let err = q.quantize_input(&[1e15, 0.0, 3.0]).unwrap_err();
    assert!(err.to_string().contains("\"a\""), "{err}");
    let err = q.quantize_input(&[1.0, 2.0]).unwrap_err();
    assert!(err.to_string().contains("expects 3"), "{err}");
}

fn forest() -> Value {
    json!({
        "format": "zkguard-model", "version": 1, "name": "gbt",
        "features": ["a", "b", "c"],
        "model": {"family": "tree_ensemble", "kind": "gradient_boosting", "split": "le", "base_score": -0.5,
            "trees": [
                {"nodes": [
                    {"feature": 0, "threshold": 1.5, "left": 1, "right": 2},
                    {"value": -0.25},
                    {"feature": 2, "threshold": -3.0, "left": 3, "right": 4},
                    {"value": 0.5},
                    {"value": 0.75}
                ]},
                {"nodes": [{"value": 0.125}]}
            ]},
        "decision": {"threshold": 0.0}
    })
}

#[test]
fn tree_ensembles_load_and_quantize_to_padded_trees() {
    let model = parse_model(&forest().to_string(), "m.json").unwrap();
    let q = QuantizedModel::from_float(&model, FixedPoint { scale_bits: 8, value_bits: 40 }).unwrap();
    let trees = q.shape().trees.unwrap();
    assert_eq!((trees.n_trees, trees.depth), (2, 2), "padded to the deepest tree");
    // x = (2, _, -4): right, then left -> 0.5; plus the single-leaf tree's 0.125 and the base
    // -0.5: 0.125, i.e. 32 at 2^8.
    let out = q.infer(&q.quantize_input(&[2.0, 0.0, -4.0]).unwrap()).unwrap();
    assert_eq!(out.score, 32);
    assert!(out.decision);
}

#[test]
fn tree_structure_errors_name_the_node() {
    let cases = [
        ("/model/trees/0/nodes/0/right", json!(9), "model.trees[0].nodes[0].right", "a node index < 5"),
        ("/model/trees/0/nodes/2/left", json!(0), "model.trees[0].nodes[2].left", "cycle"),
        ("/model/trees/0/nodes/2/feature", json!(3), "model.trees[0].nodes[2].feature", "a feature index < 3"),
        ("/model/trees/0/nodes/1", json!({"value": 1.0, "left": 2}), "model.trees[0].nodes[1]", "fields {left, value}"),
        ("/model/trees/1/nodes", json!([]), "model.trees[1].nodes", "at least one node"),
        ("/model/trees", json!([]), "model.trees", "1..=1024 trees"),
        ("/model/kind", json!("svm"), "model.kind", "unknown variant"),
        ("/model/split", json!("ge"), "model.split", "unknown variant"),
    ];
    for (pointer, value, path, message) in cases {
        let e = error_of(&with(forest(), pointer, value));
        assert!(e.contains(&format!("`{path}`")) && e.contains(message), "{pointer}: {e}");
    }
    let mut unreachable = forest();
    unreachable["model"]["trees"][1]["nodes"].as_array_mut().unwrap().push(json!({"value": 1.0}));
    let e = error_of(&unreachable);
    assert!(e.contains("`model.trees[1].nodes[1]`") && e.contains("unreachable"), "{e}");

    let mut unknown = forest();
    unknown["model"]["trees"][0]["nodes"][1]["weight"] = json!(1.0);
    let e = error_of(&unknown);
    assert!(e.contains("model.trees[0].nodes[1]") && e.contains("weight"), "{e}");

    let mut scaled = forest();
    scaled["preprocessing"] = json!({"mean": [0.0, 0.0, 0.0], "scale": [1.0, 1.0, 1.0]});
    let e = error_of(&scaled);
    assert!(e.contains("`preprocessing`") && e.contains("fold"), "{e}");
}

#[test]
fn a_tree_threshold_that_overflows_fixed_point_is_refused() {
    let model =
        parse_model(&with(forest(), "/model/trees/0/nodes/2/threshold", json!(1e8)).to_string(), "m.json").unwrap();
    let e = QuantizedModel::from_float(&model, FixedPoint { scale_bits: 8, value_bits: 32 }).unwrap_err();
    assert!(e.to_string().contains("model.trees[0].nodes[2].threshold"), "{e}");
}
