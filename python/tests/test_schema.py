"""The exporters' validator against the Rust one (#12: one source of limits, a drift test for the
rest) and the exporter items of #19: duplicate JSON keys refused with their path, a file that is
not a pickle refused with a clear message, string class labels needing ``positive_class``."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import zkguard
from zkguard import _zkguard
from zkguard.exporters import ModelFormatError, load_model, loads_model, parse_json, schema

from conftest import ROOT

LINEAR = {
    "format": "zkguard-model", "version": 1, "name": "m", "features": ["a", "b"],
    "model": {"family": "linear", "weights": [1.0, 2.0], "bias": 0.5, "link": "logit"},
    "decision": {"threshold": 0.0},
}
TREE = {
    "format": "zkguard-model", "version": 1, "name": "t", "features": ["a"],
    "model": {"family": "tree_ensemble", "kind": "xgboost", "split": "lt", "base_score": 0.0,
              "trees": [{"nodes": [{"feature": 0, "threshold": 0.5, "left": 1, "right": 2}, {"value": -1.0}, {"value": 1.0}]}]},
    "decision": {"threshold": 0.0},
}


def test_python_limits_are_the_rust_validators():
    rust = _zkguard.limits()
    assert schema.MAX_FEATURES == rust["MAX_FEATURES"] == 256
    assert schema.MAX_LAYER_WIDTH == rust["MAX_LAYER_WIDTH"]
    assert schema.MAX_LAYERS == rust["MAX_LAYERS"]
    assert schema.MAX_ABS_PARAM == rust["MAX_ABS_PARAM"]
    assert list(schema.SCALE_BITS_RANGE) == rust["SCALE_BITS_RANGE"]
    assert schema.MAX_TREE_DEPTH == rust["MAX_TREE_DEPTH"] and schema.MAX_TREES == rust["MAX_TREES"]
    assert list(schema.FAMILIES) == rust["FAMILIES"]
    assert (schema.FORMAT_NAME, schema.FORMAT_VERSION) == (rust["FORMAT_NAME"], rust["FORMAT_VERSION"])


def rust_error(model: dict) -> zkguard.ModelError:
    with pytest.raises(zkguard.ModelError) as e:
        zkguard.validate(json.dumps(model))
    return e.value


def serde_variants(model: dict) -> list[str]:
    """The variants serde lists in its "unknown variant" message: the Rust enum's names."""
    message = str(rust_error(model))
    return re.findall(r"`(\w+)`", message.split("expected one of", 1)[1] if "expected one of" in message else message.split("expected", 1)[1])


@pytest.mark.parametrize("where, names", [
    (("model", "link"), "LINKS"),
    (("model", "kind"), "TREE_KINDS"),
    (("model", "split"), "TREE_SPLITS"),
])
def test_enum_names_are_the_rust_parsers(where, names):
    base = json.loads(json.dumps(LINEAR if names == "LINKS" else TREE))
    base[where[0]][where[1]] = "nonsense"
    assert sorted(serde_variants(base)) == sorted(getattr(schema, names))


def test_activations_are_the_rust_parsers():
    m = {**LINEAR, "features": ["a"], "model": {"family": "mlp_autoencoder", "layers": [
        {"weights": [[1.0]], "bias": [0.0], "activation": "nonsense"}]}}
    assert sorted(serde_variants(m)) == sorted(schema.ACTIVATIONS)


@pytest.mark.parametrize("mutate", [
    lambda m: m.update(features=[f"f{i}" for i in range(schema.MAX_FEATURES + 1)]),
    lambda m: m["model"].update(bias=schema.MAX_ABS_PARAM * 2),
    lambda m: m.update(quantization={"scale_bits": schema.SCALE_BITS_RANGE[1] + 1}),
    lambda m: m.update(quantization={"scale_bits": schema.SCALE_BITS_RANGE[0] - 1}),
])
def test_python_and_rust_refuse_the_same_limit_violations(mutate):
    m = json.loads(json.dumps(LINEAR))
    mutate(m)
    if len(m["features"]) > 2:
        m["model"]["weights"] = [0.0] * len(m["features"])
    with pytest.raises(ModelFormatError) as ours:
        schema.validate_model(m)
    assert rust_error(m).path == ours.value.path


def test_limits_at_the_edge_are_accepted_by_both():
    m = json.loads(json.dumps(LINEAR))
    m["quantization"] = {"scale_bits": schema.SCALE_BITS_RANGE[1]}
    m["model"]["bias"] = schema.MAX_ABS_PARAM
    schema.validate_model(m)
    zkguard.validate(m)


def test_duplicate_keys_are_refused_naming_the_key_path(tmp_path):
    text = json.dumps(LINEAR, indent=1)
    dup = text.replace('"threshold": 0.0', '"threshold": 0.0, "threshold": 5.0')
    with pytest.raises(ModelFormatError, match=r"at `decision.threshold`: expected each field once"):
        loads_model(dup)
    nested = text.replace('"link": "logit"', '"link": "logit", "link": "identity"')
    with pytest.raises(ModelFormatError, match=r"at `model.link`"):
        loads_model(nested)
    in_list = json.dumps({"x": [{"a": 1}, {"b": 1}]}).replace('{"b": 1}', '{"b": 1, "b": 2}')
    with pytest.raises(ModelFormatError, match=r"at `x\[1\].b`"):
        parse_json(in_list)
    top = text.replace('"name": "m"', '"name": "m", "name": "other"')
    f = tmp_path / "m.json"
    f.write_text(top)
    with pytest.raises(ModelFormatError, match=r"at `name`"):
        load_model(f)
    with pytest.raises(ModelFormatError, match=r"at `<json>`: expected valid JSON"):
        loads_model("{not json")
    assert loads_model(text) == LINEAR


def run_export(*args):
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "export_model.py"), *args],
                          capture_output=True, text=True, timeout=120)


def test_a_file_that_is_not_a_pickle_is_a_clear_error(tmp_path):
    for content, hint in [(b"this is text", ""), (json.dumps(LINEAR).encode(), "looks like JSON")]:
        f = tmp_path / "model.joblib"
        f.write_bytes(content)
        r = run_export("sklearn", str(f), "--features", "a,b", "--name", "m", "--out", str(tmp_path / "o.json"))
        assert r.returncode == 2, r
        assert "Traceback" not in r.stderr
        assert f"{f} is not a joblib/pickle file of a fitted estimator" in r.stderr and hint in r.stderr
    r = run_export("sklearn", str(tmp_path / "missing.joblib"), "--features", "a,b", "--name", "m", "--out", "x.json")
    assert r.returncode == 2 and "no such file" in r.stderr and "Traceback" not in r.stderr


def test_cli_string_labels_need_positive_class_and_say_which_is_flagged(tmp_path, breast_cancer):
    X, y, _ = breast_cancer
    clf = LogisticRegression(max_iter=3000).fit(X[:, :2], np.where(y == 1, "benign", "malignant"))
    f = tmp_path / "clf.joblib"
    joblib.dump(clf, f)
    common = ["sklearn", str(f), "--features", "a,b", "--name", "m", "--out", str(tmp_path / "o.json")]
    r = run_export(*common)
    assert r.returncode == 2 and "positive_class=" in r.stderr and "'benign', 'malignant'" in r.stderr, r.stderr
    r = run_export(*common, "--positive-class", "malignant")
    assert r.returncode == 0, r.stderr
    assert "flags class 'malignant' (not 'benign')" in r.stdout
    model = load_model(tmp_path / "o.json")
    assert model["source"]["positive_class"] == "malignant"
    flagged = zkguard._float_scores(model, X[:, :2])[1]
    assert np.mean(flagged == (clf.predict(X[:, :2]) == "malignant")) == 1.0
