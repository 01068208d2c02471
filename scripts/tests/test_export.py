"""Tests of the model exporters: run with `.venv/bin/python -m pytest scripts/tests`."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, LogisticRegression, SGDClassifier, SGDRegressor
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

import export_model
import train_reference
import float_noise
from zkguard.exporters import (
    ModelFormatError,
    UnsupportedModelError,
    dumps_model,
    export_sklearn,
    load_model,
    logit_threshold,
    reference,
    validate_model,
    write_model,
)

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"

# The fields of each serde struct in prover/src/model/format.rs (all `deny_unknown_fields`).
RUST_KEYS = {
    "top": {"format", "version", "name", "features", "preprocessing", "model", "decision", "quantization", "source"},
    "preprocessing": {"mean", "scale"},
    "linear": {"family", "weights", "bias", "link"},
    "mlp_autoencoder": {"family", "layers"},
    "layer": {"weights", "bias", "activation"},
    "decision": {"threshold"},
    "quantization": {"scale_bits"},
}


@pytest.fixture(scope="module")
def data():
    return train_reference.load_data()


@pytest.fixture(scope="module")
def logistic(data):
    features, X, y = data
    pipe = train_reference.fit_logistic(X, y)
    return pipe, train_reference.export_logistic(pipe, features)


@pytest.fixture(scope="module")
def autoencoder(data):
    features, X, y = data
    pipe = train_reference.fit_autoencoder(X, y)
    return pipe, train_reference.export_autoencoder(pipe, features, X, y)


def float_rs_infer(model: dict, row: list[float]) -> float:
    """A literal, scalar transcription of prover/src/model/float.rs (pure Python floats = f64)."""
    pre = model.get("preprocessing")
    z = [(x - m) / s for x, m, s in zip(row, pre["mean"], pre["scale"])] if pre else list(row)
    body = model["model"]

    def dot(ws, xs):
        acc = -0.0  # Rust's f64 Sum folds from -0.0, left to right
        for w, x in zip(ws, xs):
            acc = acc + w * x
        return acc

    if body["family"] == "linear":
        return dot(body["weights"], z) + body["bias"]
    a = z
    for layer in body["layers"]:
        out = []
        for wrow, b in zip(layer["weights"], layer["bias"]):
            v = dot(wrow, a) + b
            out.append(max(v, 0.0) if layer["activation"] == "relu" else v)
        a = out
    acc = -0.0
    for r, x in zip(a, z):
        acc = acc + (r - x) * (r - x)
    return acc


def check_keys(model: dict) -> None:
    assert set(model) <= RUST_KEYS["top"]
    if "preprocessing" in model:
        assert set(model["preprocessing"]) == RUST_KEYS["preprocessing"]
    body = model["model"]
    assert set(body) <= RUST_KEYS[body["family"]]
    for layer in body.get("layers", []):
        assert set(layer) == RUST_KEYS["layer"]
    assert set(model["decision"]) == RUST_KEYS["decision"]
    assert set(model.get("quantization", {})) <= RUST_KEYS["quantization"]


def strict_json(text: str) -> dict:
    def refuse(name):
        raise AssertionError(f"non-JSON constant {name} in output")

    return json.loads(text, parse_constant=refuse)


# ---------------------------------------------------------------------------------- logistic


def test_logistic_scores_equal_decision_function(data, logistic):
    _, X, y = data
    pipe, model = logistic
    np.testing.assert_allclose(reference.scores(model, X), pipe.decision_function(X), rtol=0, atol=1e-9)
    assert model["model"]["link"] == "logit" and model["decision"]["threshold"] == 0.0
    assert model["source"]["positive_class"] == 1  # 1 = malignant after the flip
    _, d = reference.evaluate(model, X)
    np.testing.assert_array_equal(d, pipe.predict(X))


def test_logistic_layout(logistic):
    pipe, model = logistic
    assert model["model"]["weights"] == [float(w) for w in pipe[-1].coef_[0]]
    assert model["model"]["bias"] == float(pipe[-1].intercept_[0])
    assert model["preprocessing"]["mean"] == [float(v) for v in pipe[0].mean_]
    assert model["preprocessing"]["scale"] == [float(v) for v in pipe[0].scale_]


# ------------------------------------------------------------------------------- autoencoder


def test_autoencoder_forward_equals_sklearn_predict(data, autoencoder):
    _, X, _ = data
    pipe, model = autoencoder
    Z = pipe[0].transform(X)
    recon = pipe[-1].predict(Z)
    np.testing.assert_allclose(reference.forward(model, X), recon, rtol=0, atol=1e-9)
    expected = np.sum((recon - Z) ** 2, axis=1)  # SUM, not mean, in standardized space
    np.testing.assert_allclose(reference.scores(model, X), expected, rtol=1e-12, atol=1e-9)


def test_autoencoder_layout(autoencoder, data):
    features, X, y = data
    pipe, model = autoencoder
    layers = model["model"]["layers"]
    assert [(len(l["weights"]), len(l["weights"][0])) for l in layers] == [(16, 30), (8, 16), (16, 8), (30, 16)]
    assert [l["activation"] for l in layers] == ["relu", "relu", "relu", "identity"]
    # sklearn's coefs_ are [in][out]; the file's weights are [out][in].
    assert layers[0]["weights"][3][7] == float(pipe[-1].coefs_[0][7][3])
    # the scaler is the benign-only one
    np.testing.assert_allclose(model["preprocessing"]["mean"], X[y == 0].mean(axis=0), rtol=1e-12)
    thr = model["decision"]["threshold"]
    benign_scores = reference.scores(model, X[y == 0])
    assert int(np.sum(benign_scores > thr)) <= math.floor(0.05 * 357)


# ------------------------------------------------------------------------- committed files


def test_committed_files_are_up_to_date_and_reproducible(tmp_path):
    train_reference.build(tmp_path)
    names = (train_reference.LOGISTIC, train_reference.AUTOENCODER) + train_reference.TREE_MODELS
    expected = sorted([f"models/{n}.json" for n in names] + [f"data/{n}.csv" for n in names])
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == expected
    for rel in written:
        diff = float_noise.difference(tmp_path / rel, ROOT / rel)
        assert diff is None, f"{rel} is stale ({diff}): rerun train_reference.py"


@pytest.mark.parametrize("name", ["breast_cancer_logistic", "breast_cancer_autoencoder"])
def test_committed_model_is_strict_json_with_rust_keys(name):
    text = (ROOT / "models" / f"{name}.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    model = strict_json(text)
    check_keys(model)
    validate_model(model)
    assert load_model(ROOT / "models" / f"{name}.json") == model
    assert "quantization" not in model  # the prover calibrates


@pytest.mark.parametrize("name", ["breast_cancer_logistic", "breast_cancer_autoencoder"])
def test_reference_csv_matches_float_rs_bit_for_bit(name, data):
    features, X, y = data
    model = load_model(ROOT / "models" / f"{name}.json")
    with (ROOT / "data" / f"{name}.csv").open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == features + ["label", "float_score", "float_decision"]
    body = rows[1:]
    assert len(body) == 569
    Xc = np.array([[float(v) for v in r[:30]] for r in body])
    np.testing.assert_array_equal(Xc, X)  # repr round-trips exactly
    assert [int(r[30]) for r in body] == list(y)
    thr = model["decision"]["threshold"]
    for i, r in enumerate(body):
        score = float(r[31])
        assert score == float_rs_infer(model, list(Xc[i])), f"row {i}: not bit-identical to float.rs"
        assert int(r[32]) == int(score > thr)


# ------------------------------------------------------------------------- other estimators


def test_linear_regressors_and_sgd_classifier(data):
    features, X, y = data
    for est in (LinearRegression(), SGDRegressor(random_state=0, max_iter=50, tol=None)):
        pipe = Pipeline([("s", StandardScaler()), ("r", est)]).fit(X, y.astype(float))
        model = export_sklearn(pipe, features, name="r", threshold=0.5)
        assert model["model"]["link"] == "identity"
        np.testing.assert_allclose(reference.scores(model, X), pipe.predict(X), rtol=0, atol=1e-9)
    for loss, link in (("log_loss", "logit"), ("hinge", "identity")):
        pipe = Pipeline([("s", StandardScaler()), ("c", SGDClassifier(loss=loss, random_state=0))]).fit(X, y)
        model = export_sklearn(pipe, features, name="c", threshold=0.0)
        assert model["model"]["link"] == link
        np.testing.assert_allclose(reference.scores(model, X), pipe.decision_function(X), rtol=0, atol=1e-9)


def test_bare_estimator_and_partial_scaler(data):
    features, X, y = data
    lr = LogisticRegression(max_iter=5000).fit(X[:, :5], y)
    model = export_sklearn(lr, features[:5], name="bare", probability_threshold=0.9)
    assert "preprocessing" not in model
    assert model["decision"]["threshold"] == math.log(9.0)
    np.testing.assert_allclose(reference.scores(model, X[:, :5]), lr.decision_function(X[:, :5]), atol=1e-9)
    pipe = Pipeline([("s", StandardScaler(with_mean=False)), ("l", LogisticRegression(max_iter=5000))]).fit(X, y)
    model = export_sklearn(pipe, features, name="nomean")
    assert model["preprocessing"]["mean"] == [0.0] * 30
    np.testing.assert_allclose(reference.scores(model, X), pipe.decision_function(X), atol=1e-9)


def test_logit_threshold():
    assert logit_threshold(0.5) == 0.0
    assert logit_threshold(0.9) == pytest.approx(math.log(9))
    with pytest.raises(ValueError):
        logit_threshold(1.0)


# ------------------------------------------------------------------------------- refusals


def _small_autoencoder(activation: str, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MLPRegressor(hidden_layer_sizes=(4,), activation=activation, max_iter=5, random_state=0).fit(X, X)


def test_refuses_unsupported_estimator(data):
    features, X, y = data
    knn = KNeighborsClassifier(n_neighbors=3).fit(X, y)
    with pytest.raises(UnsupportedModelError, match=r"unsupported estimator KNeighborsClassifier"):
        export_sklearn(knn, features, name="k", threshold=0.5)
    with pytest.raises(UnsupportedModelError, match=r"KNeighborsClassifier"):
        export_sklearn(Pipeline([("s", StandardScaler()), ("k", knn)]), features, name="k", threshold=0.5)


def test_refuses_tanh_mlp(data):
    features, X, _ = data
    Z = StandardScaler().fit_transform(X)
    with pytest.raises(UnsupportedModelError, match=r"activation='tanh'.*relu"):
        export_sklearn(_small_autoencoder("tanh", Z), features, name="a", threshold=1.0)
    # relu and identity are fine
    for act in ("relu", "identity"):
        export_sklearn(_small_autoencoder(act, Z), features, name="a", threshold=1.0)


def test_refuses_other_shapes_and_steps(data):
    features, X, y = data
    Z = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        not_auto = MLPRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(Z, Z[:, :3])
        clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(Z, y)
    with pytest.raises(UnsupportedModelError, match="only autoencoders"):
        export_sklearn(not_auto, features, name="a", threshold=1.0)
    with pytest.raises(UnsupportedModelError, match="MLPClassifier"):
        export_sklearn(clf, features, name="a", threshold=1.0)
    with pytest.raises(UnsupportedModelError, match=r"step 'mm': MinMaxScaler"):
        export_sklearn(Pipeline([("mm", MinMaxScaler()), ("l", LogisticRegression())]).fit(X, y), features, name="x")
    three = np.arange(len(y)) % 3
    with pytest.raises(UnsupportedModelError, match="3 classes"):
        export_sklearn(LogisticRegression(max_iter=200).fit(Z, three), features, name="x")
    with pytest.raises(UnsupportedModelError, match="not fitted"):
        export_sklearn(LogisticRegression(), features, name="x")
    with pytest.raises(ValueError, match="needs a decision threshold"):
        export_sklearn(LinearRegression().fit(X, y), features, name="x")
    with pytest.raises(ValueError, match="needs a logit or probability score"):
        export_sklearn(LinearRegression().fit(X, y), features, name="x", probability_threshold=0.5)
    with pytest.raises(ValueError, match="expects 30 features"):
        export_sklearn(LinearRegression().fit(X, y), features[:29], name="x", threshold=0.0)


def test_validation_refuses_nan_unknown_keys_and_bad_names(logistic):
    _, model = logistic
    bad = json.loads(json.dumps(model))
    bad["model"]["weights"][3] = float("nan")
    with pytest.raises(ModelFormatError, match=r"model\.weights\[3\]"):
        dumps_model(bad)
    bad = json.loads(json.dumps(model))
    bad["decision"]["threshold"] = 2e9
    with pytest.raises(ModelFormatError, match="decision.threshold"):
        validate_model(bad)
    for part in (None, "model", "decision", "preprocessing"):
        b2 = json.loads(json.dumps(model))
        (b2 if part is None else b2[part])["extra"] = 1
        with pytest.raises(ModelFormatError, match="unknown field"):
            validate_model(b2)
    for names, msg in ((["a", "a"], "unique"), ([" a", "b"], "whitespace"), (["label", "b"], "reserved"), (["", "b"], "non-empty")):
        with pytest.raises(ModelFormatError, match=msg):
            export_sklearn(LinearRegression().fit(np.eye(2), [0.0, 1.0]), names, name="x", threshold=0.0)


def test_written_file_round_trips(logistic, tmp_path):
    _, model = logistic
    path = write_model(model, tmp_path / "m.json")
    text = path.read_text()
    assert text.endswith("}\n") and "NaN" not in text
    assert load_model(path) == model  # floats written with repr round-trip exactly
    (tmp_path / "dup.json").write_text(text.replace('"version": 1,', '"version": 1, "version": 1,'))
    with pytest.raises(ModelFormatError, match="duplicate"):
        load_model(tmp_path / "dup.json")


# ------------------------------------------------------------------------------------ CLI


def test_cli_help():
    out = subprocess.run([sys.executable, str(SCRIPTS / "export_model.py"), "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "sklearn" in out.stdout and "reference" in out.stdout


def test_cli_export_and_reference(logistic, data, tmp_path, capsys):
    features, X, y = data
    pipe, model = logistic
    joblib.dump(pipe, tmp_path / "pipe.joblib")
    (tmp_path / "names.txt").write_text("\n".join(features) + "\n")
    rc = export_model.main(["sklearn", str(tmp_path / "pipe.joblib"), "--features-file", str(tmp_path / "names.txt"),
                            "--name", "breast_cancer_logistic", "--out", str(tmp_path / "m.json")])
    assert rc == 0
    got = load_model(tmp_path / "m.json")
    assert got["model"] == model["model"] and got["preprocessing"] == model["preprocessing"]
    assert got["decision"] == model["decision"]
    rc = export_model.main(["reference", str(ROOT / "models/breast_cancer_logistic.json"),
                            str(ROOT / "data/breast_cancer_logistic.csv"), "--label-column", "label",
                            "--out", str(tmp_path / "r.csv")])
    assert rc == 0
    assert (tmp_path / "r.csv").read_bytes() == (ROOT / "data/breast_cancer_logistic.csv").read_bytes()
    joblib.dump(KNeighborsClassifier(n_neighbors=3).fit(X, y), tmp_path / "knn.joblib")
    rc = export_model.main(["sklearn", str(tmp_path / "knn.joblib"), "--features", ",".join(features),
                            "--name", "k", "--threshold", "0.5", "--out", str(tmp_path / "k.json")])
    assert rc == 2 and "unsupported estimator KNeighborsClassifier" in capsys.readouterr().err
    assert not (tmp_path / "k.json").exists()


def test_float_noise_tolerates_only_last_digit_noise(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps({"w": [0.1234567890123456, 2.0], "name": "m"}))
    b.write_text(json.dumps({"w": [0.1234567890123457, 2.0], "name": "m"}))
    assert float_noise.difference(a, b) is None
    b.write_text(json.dumps({"w": [0.1234568, 2.0], "name": "m"}))
    assert "$.w[0]" in float_noise.difference(a, b)
    b.write_text(json.dumps({"w": [0.1234567890123456, 2.0], "name": "n"}))
    assert "$.name" in float_noise.difference(a, b)
    c, d = tmp_path / "c.csv", tmp_path / "d.csv"
    c.write_text("x,label\n0.30000000000000004,1\n")
    d.write_text("x,label\n0.3,1\n")
    assert float_noise.difference(c, d) is None
    d.write_text("x,label\n0.3,0\n")
    assert "line 2, column 2" in float_noise.difference(c, d)
