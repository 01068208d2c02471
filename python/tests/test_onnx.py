"""ONNX import (``zkguard.exporters.onnx_import``): every committed fixture, produced by the real
exporters (``fixtures/make_onnx_fixtures.py``: torch.onnx.export, Keras 3, tf2onnx, skl2onnx, onnxmltools),
imported and its float scores compared with onnxruntime's outputs on the breast-cancer data; and
graphs with an unsupported op refused with the op and node name."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from sklearn.preprocessing import StandardScaler

import zkguard
from zkguard.exporters import UnsupportedModelError, reference
from zkguard.exporters.onnx_import import import_onnx

from conftest import FIXTURES

ONNX_DIR = FIXTURES / "onnx"


def run_ort(path, X):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return [np.asarray(o) for o in sess.run(None, {name: X.astype(np.float32)})]


def sigmoid(s):
    return 1.0 / (1.0 + np.exp(-s))


def inputs(breast_cancer, fixture):
    X, y, names = breast_cancer
    if fixture.startswith(("torch_", "keras_", "tf2onnx_")):  # these were trained on standardized inputs
        X = StandardScaler().fit_transform(X)
    if fixture == "skl2onnx_linear_regression":
        X = X[:, :10]
    return X.astype(np.float32).astype(np.float64), y


# fixture -> (how onnxruntime's output relates to the zkguard score, options)
CASES = {
    "torch_logistic": ("sigmoid", {}),
    "keras_logistic": ("sigmoid", {}),
    "torch_autoencoder": ("identity", {"threshold": 10.0}),
    "tf2onnx_autoencoder": ("reconstruction", {"threshold": 10.0}),
    "skl2onnx_logistic": ("sigmoid_p1", {}),
    "skl2onnx_linear_regression": ("identity", {"threshold": 0.0}),
    "skl2onnx_random_forest": ("p1", {}),
    "skl2onnx_gradient_boosting": ("sigmoid_p1", {}),
    "onnxmltools_lightgbm": ("sigmoid_p1", {}),
}


def test_every_fixture_is_covered_and_recorded():
    files = sorted(p.stem for p in ONNX_DIR.glob("*.onnx"))
    assert files == sorted(CASES)
    manifest = json.loads((ONNX_DIR / "MANIFEST.json").read_text())
    for key in ("skl", "torch", "keras", "tf2onnx"):
        assert "onnx" in manifest["generated_by"][key], manifest  # the script records versions
    assert "torch" in manifest["generated_by"]["torch"] and "keras" in manifest["generated_by"]["keras"]
    assert "tf2onnx" in manifest["generated_by"]["tf2onnx"] and "tensorflow" in manifest["generated_by"]["tf2onnx"]


@pytest.mark.parametrize("fixture", sorted(CASES))
def test_imported_scores_equal_onnxruntime(fixture, breast_cancer):
    link, options = CASES[fixture]
    path = ONNX_DIR / f"{fixture}.onnx"
    X, y = inputs(breast_cancer, fixture)
    model = import_onnx(path, name=fixture, **options)
    zkguard.validate(model)  # the Rust validator accepts it
    ours = reference.scores(model, X)
    rust_scores, _ = zkguard._float_scores(model, X)
    np.testing.assert_allclose(rust_scores, ours, rtol=1e-12, atol=1e-12)  # Python and Rust references agree
    outs = run_ort(path, X)
    if link in ("sigmoid_p1", "p1"):
        theirs = outs[-1][:, 1]  # probabilities of the positive class
    elif link == "reconstruction":  # the graph outputs the reconstruction; zkguard's score is its error
        np.testing.assert_allclose(reference.forward(model, X), outs[0], rtol=2e-4, atol=2e-4)
        theirs = np.sum((outs[0].astype(np.float64) - X) ** 2, axis=1)
    else:
        theirs = outs[0].reshape(len(X), -1)[:, 0]
    mapped = sigmoid(ours) if link.startswith("sigmoid") else ours
    # onnxruntime computes in float32; zkguard's reference in float64.
    np.testing.assert_allclose(mapped, theirs, rtol=2e-4, atol=2e-5)
    if link in ("sigmoid", "sigmoid_p1", "p1"):
        decisions = ours > model["decision"]["threshold"]
        agreement = np.mean(decisions == (theirs > 0.5))
        assert agreement >= 0.995, agreement


def test_tree_splits_match_onnxruntime_exactly_at_the_thresholds(breast_cancer):
    """Inputs exactly at a float32 threshold take ONNX's branch (the `lt` rule with next-up thresholds)."""
    path = ONNX_DIR / "skl2onnx_random_forest.onnx"
    model = import_onnx(path, name="rf")
    X, _, _ = breast_cancer
    rows = []
    for tree in model["model"]["trees"]:
        for node in tree["nodes"]:
            if "feature" in node:
                row = X[0].copy()
                t = np.float32(node["threshold"])
                row[node["feature"]] = float(np.nextafter(t, np.float32(-np.inf), dtype=np.float32))  # = ONNX threshold
                rows.append(row)
    R = np.asarray(rows)
    np.testing.assert_allclose(reference.scores(model, R), run_ort(path, R)[-1][:, 1], rtol=1e-6, atol=1e-6)


def graph_with(op_type, name="weird"):
    w = numpy_helper.from_array(np.ones((3, 1), dtype=np.float32), "w")
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"], name="dense"), helper.make_node(op_type, ["h"], ["y"], name=name)]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])], [w])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def test_unsupported_op_is_refused_with_its_name_and_node():
    with pytest.raises(UnsupportedModelError, match=r"unsupported ONNX op Tanh \(node 'weird'\).*Gemm, MatMul\+Add, Relu"):
        import_onnx(graph_with("Tanh"), name="m")
    with pytest.raises(UnsupportedModelError, match=r"unsupported ONNX op Softmax \(node 'sm'\)"):
        zkguard.export(graph_with("Softmax", "sm"), name="m")


def test_a_multiclass_onnx_classifier_is_refused(breast_cancer):
    from skl2onnx import to_onnx
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    Xi, yi = load_iris(return_X_y=True)
    onx = to_onnx(LogisticRegression(max_iter=500).fit(Xi, yi), Xi[:1].astype(np.float32), options={"zipmap": False})
    with pytest.raises(UnsupportedModelError, match=r"ai.onnx.ml.Normalizer \(node "):
        import_onnx(onx, name="iris")


def test_onnx_fixture_proves_end_to_end_through_the_package(breast_cancer):
    """An imported PyTorch model goes through quantize/check like any other model."""
    X, y = inputs(breast_cancer, "torch_logistic")
    model = zkguard.export(str(ONNX_DIR / "torch_logistic.onnx"), [f"z{i}" for i in range(30)], name="torch-logistic")
    report = zkguard.check(model, X, y)
    assert report.agreement == 1.0 and report.samples == len(X)
