"""Float inference of a model dict: the reference ``zkguard model check`` compares against.

This is a transcription of ``prover/src/model/float.rs`` in numpy. It is vectorized over samples
but keeps Rust's *operation order* inside each sample -- every dot product and the final sum of
squared errors are accumulated left to right, one IEEE-754 double operation at a time, without
fused multiply-add -- so the scores are bit-identical to ``float::infer`` rather than merely close.

Semantics:

* ``z = (x - mean) / scale`` when the model has ``preprocessing``, else ``z = x``;
* ``linear``: ``score = sum_j w_j * z_j + bias`` (the logit for ``link = "logit"``);
* ``mlp_autoencoder``: ``a = z``; per layer ``a = act(W a + b)`` (``W`` rows = outputs);
  ``score = sum_j (a_j - z_j)^2`` -- a SUM over features, in standardized space;
* ``tree_ensemble`` (never has preprocessing): each tree is walked from node 0, going left iff
  ``x[feature] <= threshold`` (``split = "le"``) or ``f32(x[feature]) < f32(threshold)``
  (``split = "lt"``, XGBoost's float32 comparison), to a leaf;
  ``score = base_score + (v_0 + v_1 + ...)``: the leaf values summed left to right in tree order,
  then added to ``base_score``;
* ``decision = score > threshold``.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Sequence

import numpy as np


def _matrix(X) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[None, :]
    if X.ndim != 2:
        raise ValueError(f"expected a 2-D array of samples x features, got shape {X.shape}")
    return X


def _seq_sum(terms_by_index) -> np.ndarray:
    """Left-to-right sum, like Rust's ``Iterator::sum::<f64>()`` (which folds from -0.0)."""
    acc = None
    for t in terms_by_index:
        acc = (np.float64(-0.0) + t) if acc is None else acc + t
    return acc


def standardize(model: dict, X) -> np.ndarray:
    """``(x - mean) / scale`` per feature when the model has preprocessing, else a copy of ``X``."""
    X = _matrix(X)
    n = len(model["features"])
    if X.shape[1] != n:
        raise ValueError(f"the model has {n} features, the data has {X.shape[1]} columns")
    pre = model.get("preprocessing")
    if pre is None:
        return X.copy()
    mean = np.asarray(pre["mean"], dtype=np.float64)
    scale = np.asarray(pre["scale"], dtype=np.float64)
    return (X - mean) / scale


def _dense(W: np.ndarray, b: np.ndarray, A: np.ndarray) -> np.ndarray:
    """``W @ a + b`` per sample, each dot product summed left to right as in float.rs."""
    out = np.empty((A.shape[0], W.shape[0]), dtype=np.float64)
    for o in range(W.shape[0]):
        out[:, o] = _seq_sum(W[o, i] * A[:, i] for i in range(W.shape[1])) + b[o]
    return out


def forward(model: dict, X) -> np.ndarray:
    """The autoencoder's reconstruction (in standardized space) of each sample."""
    body = model["model"]
    if body["family"] != "mlp_autoencoder":
        raise ValueError(f"forward() needs an mlp_autoencoder model, not {body['family']!r}")
    A = standardize(model, X)
    for layer in body["layers"]:
        A = _dense(np.asarray(layer["weights"], dtype=np.float64), np.asarray(layer["bias"], dtype=np.float64), A)
        if layer["activation"] == "relu":
            A = np.maximum(A, 0.0)
        elif layer["activation"] != "identity":
            raise ValueError(f"unknown activation {layer['activation']!r}")
    return A


def leaf_values(tree: dict, split: str, X) -> np.ndarray:
    """The value of the leaf each sample reaches in one ``tree_ensemble`` tree (a 1-D array)."""
    X = _matrix(X)
    nodes = tree["nodes"]
    is_leaf = np.array(["value" in nd for nd in nodes])
    feature = np.array([nd.get("feature", 0) for nd in nodes], dtype=np.int64)
    threshold = np.array([nd.get("threshold", 0.0) for nd in nodes], dtype=np.float64)
    left = np.array([nd.get("left", 0) for nd in nodes], dtype=np.int64)
    right = np.array([nd.get("right", 0) for nd in nodes], dtype=np.int64)
    value = np.array([nd.get("value", 0.0) for nd in nodes], dtype=np.float64)
    rows = np.arange(X.shape[0])
    at = np.zeros(X.shape[0], dtype=np.int64)
    for _ in range(len(nodes)):  # a valid tree has fewer levels than nodes
        walking = ~is_leaf[at]
        if not walking.any():
            return value[at]
        x = X[rows, feature[at]]
        if split == "le":
            go_left = x <= threshold[at]
        elif split == "lt":
            go_left = x.astype(np.float32) < threshold[at].astype(np.float32)
        else:
            raise ValueError(f"unknown split {split!r}")
        at = np.where(walking, np.where(go_left, left[at], right[at]), at)
    raise ValueError("a tree walk did not reach a leaf: the tree has a cycle (validate the model)")


def scores(model: dict, X) -> np.ndarray:
    """The float score of each sample (a 1-D array)."""
    body = model["model"]
    Z = standardize(model, X)
    if body["family"] == "linear":
        w = np.asarray(body["weights"], dtype=np.float64)
        return _seq_sum(w[j] * Z[:, j] for j in range(Z.shape[1])) + np.float64(body["bias"])
    if body["family"] == "mlp_autoencoder":
        R = forward(model, X)
        return _seq_sum((R[:, j] - Z[:, j]) * (R[:, j] - Z[:, j]) for j in range(Z.shape[1]))
    if body["family"] == "tree_ensemble":
        leaves = _seq_sum(leaf_values(tree, body["split"], Z) for tree in body["trees"])
        return np.float64(body["base_score"]) + leaves
    raise ValueError(f"unknown model family {body['family']!r}")


def evaluate(model: dict, X) -> tuple[np.ndarray, np.ndarray]:
    """``(scores, decisions)``: float scores and ``score > threshold`` as 0/1 ints."""
    s = scores(model, X)
    return s, (s > float(model["decision"]["threshold"])).astype(np.int64)


def _num(v: float) -> str:
    v = float(v)
    if not np.isfinite(v):
        raise ValueError(f"refusing to write a non-finite value {v!r} to a reference CSV")
    return repr(v)  # shortest text that round-trips to the same f64


def reference_rows(model: dict, X, labels: Sequence[int] | None = None) -> tuple[list[str], list[list[str]]]:
    """Header and text rows of a reference CSV: features, [label], float_score, float_decision."""
    X = _matrix(X)
    s, d = evaluate(model, X)
    header = list(model["features"]) + (["label"] if labels is not None else []) + ["float_score", "float_decision"]
    if labels is not None and len(labels) != X.shape[0]:
        raise ValueError(f"{len(labels)} labels for {X.shape[0]} samples")
    rows = []
    for i in range(X.shape[0]):
        row = [_num(v) for v in X[i]]
        if labels is not None:
            row.append(str(int(labels[i])))
        row += [_num(s[i]), str(int(d[i]))]
        rows.append(row)
    return header, rows


def write_reference_csv(model: dict, X, path: str | Path, labels: Sequence[int] | None = None) -> Path:
    """Writes the reference CSV ``zkguard model check`` reads (``prover/src/data.rs``)."""
    header, rows = reference_rows(model, X, labels)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path
