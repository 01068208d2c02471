#!/usr/bin/env python3
"""Train zkguard's reference models on scikit-learn's bundled breast-cancer data and export them.

Writes (relative to the repository root, or --out-dir):

* ``models/breast_cancer_logistic.json`` -- Pipeline(StandardScaler, LogisticRegression), all 569
  samples, label 1 = malignant, threshold 0.0 (logit of probability 0.5);
* ``models/breast_cancer_autoencoder.json`` -- Pipeline(StandardScaler, MLPRegressor 30-16-8-16-30
  relu) trained to reconstruct BENIGN samples; score = sum of squared reconstruction errors in
  standardized space; threshold flags at most 5% of the benign samples (17 of 357) and sits in
  the widest gap between the scores of all 569 samples that keeps that bound, away from any
  sample's score (see ``zkguard_export.sklearn_export.calibrate_threshold``);
* ``data/breast_cancer_logistic.csv``, ``data/breast_cancer_autoencoder.csv`` -- all 569 samples:
  the 30 features, ``label``, and ``float_score`` / ``float_decision`` computed from the EXPORTED
  JSON by ``zkguard_export.reference`` (bit-identical to prover/src/model/float.rs).

Deterministic: fixed random_state everywhere, BLAS limited to one thread; running it twice
produces byte-identical files. Usage: ``.venv/bin/python scripts/train_reference.py``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))

from zkguard_export import evaluate, export_sklearn, write_model, write_reference_csv  # noqa: E402
from zkguard_export import reference  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RANDOM_STATE = 0
MAX_FALSE_POSITIVE_RATE = 0.05
DATASET = (
    "sklearn.datasets.load_breast_cancer (Wisconsin Diagnostic Breast Cancer, 569 samples x 30 features, "
    "bundled with scikit-learn); label 1 = malignant (212), 0 = benign (357) -- sklearn's target flipped"
)
LOGISTIC = "breast_cancer_logistic"
AUTOENCODER = "breast_cancer_autoencoder"


def load_data() -> tuple[list[str], np.ndarray, np.ndarray]:
    """``(feature names, X, y)`` with ``y = 1`` for malignant (sklearn's target is 0 = malignant)."""
    d = load_breast_cancer()
    features = [str(f) for f in d.feature_names]
    assert len(set(features)) == len(features) == 30
    X = np.asarray(d.data, dtype=np.float64)
    y = (np.asarray(d.target) == 0).astype(np.int64)  # sklearn: 0 = malignant, 1 = benign
    assert X.shape == (569, 30) and int(y.sum()) == 212
    return features, X, y


def fit_logistic(X: np.ndarray, y: np.ndarray) -> Pipeline:
    pipe = Pipeline(
        [
            ("scaler", StandardScaler()),
            ("logistic", LogisticRegression(max_iter=5000, C=1.0, random_state=RANDOM_STATE)),
        ]
    )
    with threadpool_limits(1):
        return pipe.fit(X, y)


def fit_autoencoder(X: np.ndarray, y: np.ndarray) -> Pipeline:
    """StandardScaler fit on benign samples; MLPRegressor fit to reconstruct them (standardized)."""
    benign = X[y == 0]
    with threadpool_limits(1):
        scaler = StandardScaler().fit(benign)
        Z = scaler.transform(benign)
        mlp = MLPRegressor(hidden_layer_sizes=(16, 8, 16), activation="relu", max_iter=3000, random_state=RANDOM_STATE)
        mlp.fit(Z, Z)
    return Pipeline([("scaler", scaler), ("autoencoder", mlp)])


def export_logistic(pipe: Pipeline, features: list[str]) -> dict:
    return export_sklearn(
        pipe,
        features,
        name=LOGISTIC,
        probability_threshold=0.5,
        description=f"{DATASET}. Fit on all 569 samples (no hold-out: a reference model for the prover).",
        source_extra={"script": "scripts/train_reference.py", "reference_csv": f"data/{LOGISTIC}.csv"},
    )


def export_autoencoder(pipe: Pipeline, features: list[str], X: np.ndarray, y: np.ndarray) -> dict:
    return export_sklearn(
        pipe,
        features,
        name=AUTOENCODER,
        calibrate_on=X[y == 0],
        max_false_positive_rate=MAX_FALSE_POSITIVE_RATE,
        margin_samples=X,
        description=(
            f"{DATASET}. Anomaly detector: StandardScaler and MLPRegressor fit on the 357 benign samples only "
            "(mlp.fit(Z, Z), Z standardized); malignant samples are the anomalies it should flag."
        ),
        source_extra={"script": "scripts/train_reference.py", "reference_csv": f"data/{AUTOENCODER}.csv"},
    )


def _stats(model: dict, X: np.ndarray, y: np.ndarray) -> dict:
    s, d = evaluate(model, X)
    thr = model["decision"]["threshold"]
    return {
        "accuracy": float(np.mean(d == y)),
        "tp": int(np.sum((d == 1) & (y == 1))),
        "fp": int(np.sum((d == 1) & (y == 0))),
        "fn": int(np.sum((d == 0) & (y == 1))),
        "tn": int(np.sum((d == 0) & (y == 0))),
        "flagged": int(d.sum()),
        "threshold": thr,
        "min_margin": float(np.min(np.abs(s - thr))),
    }


def build(out_dir: Path = ROOT) -> dict:
    """Trains, exports and writes everything; returns summary statistics per model."""
    features, X, y = load_data()
    summary = {}

    logistic = fit_logistic(X, y)
    model = export_logistic(logistic, features)
    with threadpool_limits(1):
        sk_scores = logistic.decision_function(X)
    assert np.allclose(reference.scores(model, X), sk_scores, rtol=1e-12, atol=1e-9), "logistic export mismatch"
    write_model(model, out_dir / "models" / f"{LOGISTIC}.json")
    write_reference_csv(model, X, out_dir / "data" / f"{LOGISTIC}.csv", labels=y)
    summary[LOGISTIC] = _stats(model, X, y)
    summary[LOGISTIC]["sklearn_agreement"] = float(np.mean(logistic.predict(X) == y))

    auto = fit_autoencoder(X, y)
    model = export_autoencoder(auto, features, X, y)
    with threadpool_limits(1):
        Z = auto[0].transform(X)
        sk_recon = auto[-1].predict(Z)
    assert np.allclose(reference.forward(model, X), sk_recon, rtol=1e-12, atol=1e-9), "autoencoder export mismatch"
    write_model(model, out_dir / "models" / f"{AUTOENCODER}.json")
    write_reference_csv(model, X, out_dir / "data" / f"{AUTOENCODER}.csv", labels=y)
    st = _stats(model, X, y)
    st["n_iter"] = int(auto[-1].n_iter_)
    st["benign_flag_rate"] = st["fp"] / 357
    st["malignant_flag_rate"] = st["tp"] / 212
    summary[AUTOENCODER] = st
    return summary


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out-dir", type=Path, default=ROOT, help="root under which models/ and data/ are written")
    args = p.parse_args(argv)
    summary = build(args.out_dir)

    lg = summary[LOGISTIC]
    print(f"{LOGISTIC}: threshold {lg['threshold']!r} (logit; probability 0.5)")
    print(f"  accuracy vs label {lg['accuracy']:.4f} on 569 (training data); flagged {lg['flagged']} "
          f"(TP {lg['tp']}, FP {lg['fp']}, FN {lg['fn']}, TN {lg['tn']}); min |logit - threshold| {lg['min_margin']:.4g}")
    ae = summary[AUTOENCODER]
    print(f"{AUTOENCODER}: 30-16-8-16-30 relu, {ae['n_iter']} epochs; threshold {ae['threshold']!r} "
          f"(sum of squared errors, standardized)")
    print(f"  benign flagged {ae['fp']}/357 ({ae['benign_flag_rate']:.2%}), malignant flagged {ae['tp']}/212 "
          f"({ae['malignant_flag_rate']:.2%}); accuracy vs label {ae['accuracy']:.4f}; "
          f"min |score - threshold| {ae['min_margin']:.4g}")
    for name in (LOGISTIC, AUTOENCODER):
        print(f"  wrote {args.out_dir / 'models' / (name + '.json')} and {args.out_dir / 'data' / (name + '.csv')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
