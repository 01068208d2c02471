"""Tests of the tree-ensemble exporters (``zkguard.exporters.trees``), their float reference and the
``tree_ensemble`` validation: run with `.venv/bin/python -m pytest scripts/tests`."""

from __future__ import annotations

import copy
import csv
import json
import math
from pathlib import Path

import joblib
import numpy as np
import pytest
import xgboost
from sklearn.ensemble import GradientBoostingClassifier, IsolationForest, RandomForestClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

import export_model
import train_reference
from train_reference import DECISION_TREE, GBT, ISOLATION_FOREST, RANDOM_FOREST, TREE_MODELS, XGBOOST
from zkguard.exporters import (
    ModelFormatError,
    UnsupportedModelError,
    dumps_model,
    export_sklearn,
    export_xgboost,
    load_model,
    reference,
    validate_model,
)
from zkguard.exporters.trees import _average_path_length

ROOT = Path(__file__).resolve().parents[2]

KINDS = {
    DECISION_TREE: ("decision_tree", "le"),
    RANDOM_FOREST: ("random_forest", "le"),
    GBT: ("gradient_boosting", "le"),
    XGBOOST: ("xgboost", "lt"),
    ISOLATION_FOREST: ("isolation_forest", "le"),
}
# The fields of the tree structs in prover/src/model/format.rs / trees.rs (all deny_unknown_fields).
RUST_TREE_KEYS = {"family", "kind", "split", "base_score", "trees"}


@pytest.fixture(scope="module")
def data():
    return train_reference.load_data()


@pytest.fixture(scope="module")
def fitted(data):
    _, X, y = data
    return {name: train_reference.fit_tree_model(name, X, y) for name in TREE_MODELS}


@pytest.fixture(scope="module")
def exported(data, fitted):
    features, _, _ = data
    # Through the JSON text: the reference must be computed from what the file says.
    return {
        name: json.loads(dumps_model(train_reference.export_tree_model(name, est, features)))
        for name, est in fitted.items()
    }


def library(name: str, est, X) -> tuple[np.ndarray, np.ndarray]:
    """What the library itself says: (score, flagged), written out per kind (not train_reference's helper)."""
    if name in (DECISION_TREE, RANDOM_FOREST):
        return est.predict_proba(X)[:, 1], est.predict(X)
    if name == GBT:
        return est.decision_function(X), est.predict(X)
    if name == XGBOOST:
        return est.predict(X, output_margin=True).astype(np.float64), est.predict(X)
    return np.log2(-est.score_samples(X)), (est.predict(X) == -1).astype(int)


def float_rs_tree_infer(model: dict, row: list[float]) -> float:
    """A literal scalar transcription of prover/src/model/float.rs for tree_ensemble."""
    body = model["model"]
    leaves = -0.0  # Rust's f64 Sum folds from -0.0, left to right
    for tree in body["trees"]:
        node = tree["nodes"][0]
        while "value" not in node:
            x, t = row[node["feature"]], node["threshold"]
            left = x <= t if body["split"] == "le" else np.float32(x) < np.float32(t)
            node = tree["nodes"][node["left"] if left else node["right"]]
        leaves = leaves + node["value"]
    return body["base_score"] + leaves


# --------------------------------------------------------------------- agreement with the libraries


@pytest.mark.parametrize("name", TREE_MODELS)
def test_exported_json_agrees_with_the_library_on_all_samples(name, data, fitted, exported):
    _, X, _ = data
    model = exported[name]
    lib_score, lib_flagged = library(name, fitted[name], X)
    score, flagged = reference.evaluate(model, X)
    np.testing.assert_array_equal(flagged, lib_flagged)  # the decisions of predict, all 569 samples
    np.testing.assert_allclose(score, lib_score, rtol=0, atol=1e-5 if name == XGBOOST else 1e-9)
    kind, split = KINDS[name]
    assert (model["model"]["kind"], model["model"]["split"]) == (kind, split)
    assert "preprocessing" not in model and set(model["model"]) == RUST_TREE_KEYS


def test_gradient_boosting_base_is_the_zero_tree_raw_prediction(data, fitted, exported):
    _, X, y = data
    est, model = fitted[GBT], exported[GBT]
    base = model["model"]["base_score"]
    # decision_function before any tree: the log-odds of the class prior (init_ = DummyClassifier prior)
    prior = y.mean()
    assert base == pytest.approx(math.log(prior / (1 - prior)), abs=1e-12)
    first_stage = next(est.staged_decision_function(X[:5])).ravel()
    tree0 = reference.leaf_values(model["model"]["trees"][0], "le", X[:5])
    np.testing.assert_allclose(first_stage, base + tree0, rtol=0, atol=1e-12)
    assert model["decision"]["threshold"] == 0.0


def test_xgboost_base_is_the_margin_of_base_score(data, fitted, exported):
    _, X, _ = data
    booster, model = fitted[XGBOOST].get_booster(), exported[XGBOOST]
    p = model["source"]["xgboost_base_score"]  # xgboost 3.x stores base_score as a probability
    assert model["model"]["base_score"] == pytest.approx(math.log(p / (1 - p)), abs=1e-6)
    one_tree = booster.predict(xgboost.DMatrix(X), output_margin=True, iteration_range=(0, 1))
    tree0 = reference.leaf_values(model["model"]["trees"][0], "lt", X)
    np.testing.assert_allclose(one_tree, model["model"]["base_score"] + tree0, rtol=0, atol=1e-6)
    # every threshold and leaf is a float32 written exactly
    for tree in model["model"]["trees"]:
        for node in tree["nodes"]:
            v = node.get("threshold", node.get("value"))
            assert float(np.float32(v)) == v


def test_xgboost_feature_names_map_to_columns(data, fitted, exported):
    features, _, _ = data
    booster, model = fitted[XGBOOST].get_booster(), exported[XGBOOST]
    dump = json.loads(booster.get_dump(dump_format="json")[0])  # no names: splits say f<column>
    assert dump["split"] == f"f{model['model']['trees'][0]['nodes'][0]['feature']}"
    named = booster.copy()
    named.feature_names = list(features)
    dump = json.loads(named.get_dump(dump_format="json")[0])
    assert dump["split"] == features[model["model"]["trees"][0]["nodes"][0]["feature"]]


def c_of(n: int) -> float:
    """c(n) written out: 0, 1, then 2 H(n-1) - 2 (n-1) / n with H(i) ~ ln(i) + Euler's gamma (as sklearn)."""
    return 0.0 if n <= 1 else 1.0 if n == 2 else 2 * (math.log(n - 1) + np.euler_gamma) - 2 * (n - 1) / n


def test_isolation_forest_leaves_and_threshold(data, fitted, exported):
    est, model = fitted[ISOLATION_FOREST], exported[ISOLATION_FOREST]
    assert est.offset_ == -0.5 and model["decision"]["threshold"] == -1.0  # contamination="auto"
    ns = [1, 2, 3, 17, 256]  # the exporter's c(n) is sklearn's
    np.testing.assert_allclose(_average_path_length(ns), [c_of(n) for n in ns], rtol=1e-15, atol=0)
    # the leftmost leaf of tree 0 by hand: -(depth + c(n_leaf)) / (T c(max_samples))
    tree = est.estimators_[0].tree_
    depth, node = 0, 0
    while tree.children_left[node] != -1:
        node, depth = tree.children_left[node], depth + 1
    leaf = model["model"]["trees"][0]["nodes"][depth]  # preorder: it follows its `depth` ancestors
    assert leaf["value"] == pytest.approx(-(depth + c_of(int(tree.n_node_samples[node]))) / (100 * c_of(256)), rel=1e-14)


def test_isolation_forest_maps_subsampled_features(data):
    features, X, _ = data
    iso = IsolationForest(n_estimators=10, max_samples=64, max_features=0.5, random_state=0).fit(X)
    assert any(list(f) != list(range(len(f))) for f in iso.estimators_features_)
    model = export_sklearn(iso, features, name="iso")
    score, flagged = reference.evaluate(model, X)
    np.testing.assert_allclose(score, np.log2(-iso.score_samples(X)), rtol=0, atol=1e-9)
    np.testing.assert_array_equal(flagged, iso.predict(X) == -1)


def test_random_forest_vote_mode(data, fitted):
    features, X, _ = data
    rf = fitted[RANDOM_FOREST]
    model = export_sklearn(rf, features, name="rf_vote", vote=True)
    T = len(rf.estimators_)
    votes = np.sum([tree.predict(X) for tree in rf.estimators_], axis=0)
    score, flagged = reference.evaluate(model, X)
    np.testing.assert_allclose(score, votes / T, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(flagged, 2 * votes > T)  # a strict majority
    assert model["decision"]["threshold"] == (T // 2 + 0.5) / T and model["source"]["vote"] is True
    # the threshold is robust where 0.5 is not: ten votes of 1/20 sum to just below or above 0.5
    tie = reference.evaluate({**model, "model": {**model["model"], "trees": [{"nodes": [{"value": 1 / 20}]}] * 10}}, X[:1])
    assert tie[1][0] == 0


def test_decision_tree_ties_go_to_class_0(data, fitted, exported):
    _, X, _ = data
    score, flagged = reference.evaluate(exported[DECISION_TREE], X)
    tie = score == 0.5  # a leaf with as many malignant as benign samples: predict gives class 0
    assert tie.any() and not flagged[tie].any()
    np.testing.assert_array_equal(fitted[DECISION_TREE].predict(X)[tie], 0)


@pytest.mark.parametrize(
    "make",
    [
        lambda: DecisionTreeClassifier(max_depth=4, random_state=0),
        lambda: RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0),
        lambda: GradientBoostingClassifier(n_estimators=10, max_depth=3, random_state=0),
        lambda: xgboost.XGBClassifier(n_estimators=10, max_depth=3, random_state=0, n_jobs=1, tree_method="exact"),
        lambda: IsolationForest(n_estimators=10, max_samples=128, random_state=0),
    ],
    ids=["decision_tree", "random_forest", "gbt", "xgboost", "isolation_forest"],
)
def test_standard_scaler_is_folded_into_thresholds(make, data):
    features, X, y = data
    pipe = Pipeline([("scaler", StandardScaler()), ("model", make())]).fit(X, y)
    model = export_sklearn(pipe, features, name="folded")
    assert "preprocessing" not in model and "folded" in model["source"]["standard_scaler"]
    _, flagged = reference.evaluate(model, X)
    est, scaler = pipe[-1], pipe[0]
    expected = est.predict(scaler.transform(X)) == -1 if isinstance(est, IsolationForest) else pipe.predict(X)
    np.testing.assert_array_equal(flagged, expected)
    root = model["model"]["trees"][0]["nodes"][0]
    j = root["feature"]
    assert root["threshold"] == first_root_threshold(est) * scaler.scale_[j] + scaler.mean_[j]


def first_root_threshold(est) -> float:
    """The threshold at the root of the model's first tree, in the model's own (standardized) units."""
    if isinstance(est, xgboost.XGBClassifier):
        trees = json.loads(est.get_booster().save_raw("json"))["learner"]["gradient_booster"]["model"]["trees"]
        return float(np.float32(trees[0]["split_conditions"][0]))
    first = est if isinstance(est, DecisionTreeClassifier) else np.ravel(est.estimators_)[0]
    return float(first.tree_.threshold[0])


# -------------------------------------------------------------------------------- XGBoost Booster


def test_booster_with_feature_names_and_cli(data, tmp_path):
    features, X, y = data
    booster = xgboost.train(
        {"objective": "binary:logistic", "max_depth": 3, "seed": 0, "nthread": 1, "tree_method": "exact"},
        xgboost.DMatrix(X, label=y, feature_names=features),
        10,
    )
    model = export_xgboost(booster, name="booster")  # names from the booster
    assert model["features"] == features and model["source"]["pipeline"] == ["Booster"]
    margin = booster.predict(xgboost.DMatrix(X, feature_names=features), output_margin=True)
    score, flagged = reference.evaluate(model, X)
    np.testing.assert_allclose(score, margin, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(flagged, margin > 0)
    with pytest.raises(ValueError, match="differ from the names"):
        export_xgboost(booster, features[::-1], name="booster")

    booster.save_model(tmp_path / "booster.json")
    rc = export_model.main(
        ["xgboost", str(tmp_path / "booster.json"), "--name", "booster", "--out", str(tmp_path / "b.json")]
    )
    assert rc == 0
    assert load_model(tmp_path / "b.json")["model"] == model["model"]


def test_booster_refusals(data):
    features, X, y = data
    params = {"max_depth": 2, "seed": 0, "nthread": 1}
    three = xgboost.DMatrix(X, label=np.arange(569) % 3)
    multi = xgboost.train({**params, "objective": "multi:softprob", "num_class": 3}, three, 2)
    with pytest.raises(UnsupportedModelError, match="objective 'multi:softprob'"):
        export_xgboost(multi, features, name="x")
    dart = xgboost.train({**params, "objective": "binary:logistic", "booster": "dart"}, xgboost.DMatrix(X, label=y), 2)
    with pytest.raises(UnsupportedModelError, match="booster 'dart'"):
        export_xgboost(dart, features, name="x")
    stopped = xgboost.XGBClassifier(n_estimators=50, max_depth=2, n_jobs=1, early_stopping_rounds=1, random_state=0)
    stopped.fit(X, y, eval_set=[(X[::-1], 1 - y[::-1])], verbose=False)  # a hopeless eval set stops at once
    with pytest.raises(UnsupportedModelError, match="early-stopped"):
        export_sklearn(stopped, features, name="x")
    with pytest.raises(UnsupportedModelError, match="export_xgboost"):
        export_sklearn(dart, features, name="x")


# --------------------------------------------------------------------------- exporter options / refusals


def test_thresholds_by_domain(data, fitted):
    features, _, _ = data
    dt = export_sklearn(fitted[DECISION_TREE], features, name="dt", probability_threshold=0.8)
    assert dt["decision"]["threshold"] == 0.8  # a probability score
    gbt = export_sklearn(fitted[GBT], features, name="gbt", probability_threshold=0.8)
    assert gbt["decision"]["threshold"] == pytest.approx(math.log(4.0))  # a logit score
    with pytest.raises(ValueError, match="needs a logit or probability score"):
        export_sklearn(fitted[ISOLATION_FOREST], features, name="iso", probability_threshold=0.8)
    iso = export_sklearn(fitted[ISOLATION_FOREST], features, name="iso", threshold=-0.9)
    assert iso["decision"] == {"threshold": -0.9}


def test_tree_exporter_refusals(data):
    features, X, y = data
    with pytest.raises(UnsupportedModelError, match="3 classes"):
        export_sklearn(DecisionTreeClassifier(max_depth=2).fit(X, np.arange(569) % 3), features, name="x")
    with pytest.raises(UnsupportedModelError, match="loss='exponential'"):
        export_sklearn(GradientBoostingClassifier(n_estimators=2, loss="exponential").fit(X, y), features, name="x")
    with pytest.raises(ValueError, match="vote=True is for RandomForestClassifier"):
        export_sklearn(DecisionTreeClassifier(max_depth=2).fit(X, y), features, name="x", vote=True)
    # alternating labels along one feature: the tree peels one sample per level
    line = np.arange(100, dtype=np.float64)[:, None]
    deep = DecisionTreeClassifier(random_state=0).fit(line, np.arange(100) % 2)
    assert deep.get_depth() > 12
    with pytest.raises(UnsupportedModelError, match=r"the tree has depth \d+; .*max_depth <= 12"):
        export_sklearn(deep, ["x"], name="deep")


def test_cli_exports_a_pickled_forest_with_vote(data, fitted, tmp_path):
    features, X, _ = data
    joblib.dump(fitted[RANDOM_FOREST], tmp_path / "rf.joblib")
    rc = export_model.main(["sklearn", str(tmp_path / "rf.joblib"), "--features", ",".join(features), "--vote",
                            "--name", "rf", "--out", str(tmp_path / "rf.json")])
    assert rc == 0
    assert load_model(tmp_path / "rf.json") == export_sklearn(fitted[RANDOM_FOREST], features, name="rf", vote=True)


# ------------------------------------------------------------------------------- committed files


@pytest.mark.parametrize("name", TREE_MODELS)
def test_committed_tree_model_and_csv(name, data):
    features, X, y = data
    model = load_model(ROOT / "models" / f"{name}.json")  # strict: no NaN, no duplicate fields
    assert set(model["model"]) == RUST_TREE_KEYS and "preprocessing" not in model and "quantization" not in model
    with (ROOT / "data" / f"{name}.csv").open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == features + ["label", "float_score", "float_decision"]
    assert len(rows) == 570
    thr = model["decision"]["threshold"]
    for i, r in enumerate(rows[1:]):
        x = [float(v) for v in r[:30]]
        assert x == list(X[i]) and int(r[30]) == y[i]
        score = float(r[31])
        assert score == float_rs_tree_infer(model, x), f"row {i}: not bit-identical to float.rs"
        assert int(r[32]) == int(score > thr)


# ------------------------------------------------------------------------------------ validation


def toy() -> dict:
    """A valid two-feature, two-tree ensemble."""
    return {
        "format": "zkguard-model",
        "version": 1,
        "name": "toy",
        "features": ["a", "b"],
        "model": {
            "family": "tree_ensemble",
            "kind": "gradient_boosting",
            "split": "le",
            "base_score": -0.5,
            "trees": [
                {"nodes": [{"feature": 0, "threshold": 1.5, "left": 1, "right": 2}, {"value": -0.25},
                           {"feature": 1, "threshold": 0.0, "left": 3, "right": 4}, {"value": 0.5}, {"value": 1.0}]},
                {"nodes": [{"value": 0.125}]},
            ],
        },
        "decision": {"threshold": 0.0},
    }


def chain(depth: int) -> list[dict]:
    """A tree whose deepest leaf is at ``depth``: each split's right child is a leaf."""
    nodes = []
    for d in range(depth):
        nodes += [{"feature": 0, "threshold": float(d), "left": 2 * d + 2, "right": 2 * d + 1}, {"value": 0.0}]
    return nodes + [{"value": 1.0}]


def test_toy_model_validates_and_evaluates():
    model = toy()
    validate_model(model)
    X = np.array([[1.0, 5.0], [1.5000001, 0.0], [2.0, 0.1]])
    scores, decisions = reference.evaluate(model, X)
    assert list(scores) == [-0.5 + (-0.25 + 0.125), -0.5 + (0.5 + 0.125), -0.5 + (1.0 + 0.125)]
    assert list(decisions) == [0, 1, 1]
    lt = copy.deepcopy(model)
    lt["model"]["split"] = "lt"
    # float32(1.49999999) == 1.5, which is not < 1.5 in float32: right, although 1.49999999 < 1.5
    assert list(reference.evaluate(lt, np.array([[1.5, 0.0], [1.49999999, 0.0], [1.4999, 0.0]]))[1]) == [1, 1, 0]
    deep = copy.deepcopy(model)
    deep["model"]["trees"][0]["nodes"] = chain(12)  # depth 12 is the limit, allowed
    validate_model(deep)


def _broken(edit) -> dict:
    model = toy()
    edit(model["model"]["trees"][0]["nodes"])
    return model


@pytest.mark.parametrize(
    "edit, path, what",
    [
        (lambda n: n[0].update(left=7), r"model\.trees\[0\]\.nodes\[0\]\.left", "node index in 0..5"),
        (lambda n: n[2].update(right=0), r"model\.trees\[0\]\.nodes\[2\]\.right", "ancestor"),
        (lambda n: n[2].update(left=2), r"model\.trees\[0\]\.nodes\[2\]\.left", "ancestor"),
        (lambda n: n[2].update(right=1), r"model\.trees\[0\]\.nodes\[2\]\.right", "reached twice"),
        (lambda n: n.append({"value": 3.0}), r"model\.trees\[0\]\.nodes\[5\]", "unreachable"),
        (lambda n: n.__setitem__(slice(None), chain(13)), r"model\.trees\[0\]\.nodes\[\d+\]", "depth 13"),
        (lambda n: n[2].update(feature=2), r"model\.trees\[0\]\.nodes\[2\]\.feature", "feature index in 0..2"),
        (lambda n: n[0].update(threshold=float("nan")), r"model\.trees\[0\]\.nodes\[0\]\.threshold", "nan"),
        (lambda n: n[3].update(value=float("inf")), r"model\.trees\[0\]\.nodes\[3\]\.value", "inf"),
        (lambda n: n[0].update(left=True), r"model\.trees\[0\]\.nodes\[0\]\.left", "True"),
        (lambda n: n[0].update(feature=1.0), r"model\.trees\[0\]\.nodes\[0\]\.feature", "1.0"),
        (lambda n: n[3].update(feature=0), r"model\.trees\[0\]\.nodes\[3\]\.feature", "unknown field"),
        (lambda n: n[0].pop("right"), r"model\.trees\[0\]\.nodes\[0\]\.right", "required field"),
        (lambda n: n.clear(), r"model\.trees\[0\]\.nodes", "non-empty"),
    ],
    ids=["child-out-of-range", "cycle-to-root", "self-loop", "shared-child", "unreachable", "too-deep",
         "feature-out-of-range", "nan-threshold", "inf-leaf", "bool-index", "float-feature", "leaf-with-split-key",
         "missing-child", "no-nodes"],
)
def test_malformed_trees_are_refused(edit, path, what):
    model = _broken(edit)
    with pytest.raises(ModelFormatError, match=path) as e:
        validate_model(model)
    assert what in str(e.value)
    with pytest.raises(ModelFormatError):
        dumps_model(model)


@pytest.mark.parametrize(
    "edit, path",
    [
        (lambda m: m["model"].update(kind="lightgbm"), r"model\.kind"),
        (lambda m: m["model"].update(split="ge"), r"model\.split"),
        (lambda m: m["model"].update(base_score=float("nan")), r"model\.base_score"),
        (lambda m: m["model"].update(trees=[]), r"model\.trees"),
        (lambda m: m["model"].update(trees=[{"nodes": [{"value": 0.0}]}] * 1025), r"model\.trees"),
        (lambda m: m["model"]["trees"][1].update(extra=1), r"model\.trees\[1\]\.extra"),
        (lambda m: m["model"].pop("base_score"), r"model\.base_score"),
        (lambda m: m.update(preprocessing={"mean": [0.0, 0.0], "scale": [1.0, 1.0]}), r"preprocessing"),
    ],
)
def test_malformed_ensembles_are_refused(edit, path):
    model = toy()
    edit(model)
    with pytest.raises(ModelFormatError, match=path):
        validate_model(model)
