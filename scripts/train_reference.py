#!/usr/bin/env python3
"""Train zkguard's reference models on scikit-learn's bundled breast-cancer data, and the fraud-guard
demo's models on a SYNTHETIC transaction feed, and export them.

Writes (relative to the repository root, or --out-dir):

* ``models/breast_cancer_logistic.json`` -- Pipeline(StandardScaler, LogisticRegression), all 569
  samples, label 1 = malignant, threshold 0.0 (logit of probability 0.5);
* ``models/breast_cancer_autoencoder.json`` -- Pipeline(StandardScaler, MLPRegressor 30-16-8-16-30
  relu) trained to reconstruct BENIGN samples; score = sum of squared reconstruction errors in
  standardized space; threshold flags at most 5% of the benign samples (17 of 357) and sits in
  the widest gap between the scores of all 569 samples that keeps that bound, away from any
  sample's score (see ``zkguard.exporters.sklearn_export.calibrate_threshold``);
* tree ensembles (family ``tree_ensemble``, raw features, no scaler: trees do not need one), all
  fit on all 569 samples with random_state 0 and one thread:

  - ``models/breast_cancer_decision_tree.json`` -- DecisionTreeClassifier(max_depth=4); score =
    P(malignant) at the leaf, threshold 0.5;
  - ``models/breast_cancer_random_forest.json`` -- RandomForestClassifier(n_estimators=20,
    max_depth=4); score = mean P(malignant) over the trees, threshold 0.5;
  - ``models/breast_cancer_gbt.json`` -- GradientBoostingClassifier(n_estimators=50, max_depth=3);
    score = decision_function (log-odds), threshold 0;
  - ``models/breast_cancer_xgboost.json`` -- XGBClassifier(n_estimators=50, max_depth=4,
    tree_method="exact", n_jobs=1); score = margin (log-odds), threshold 0;
  - ``models/breast_cancer_isolation_forest.json`` -- IsolationForest(n_estimators=100,
    max_samples=256, contamination="auto"), unsupervised (labels unused); score =
    log2(-score_samples), threshold log2(0.5) = -1 (sklearn's fixed offset for "auto": flagged =
    anomaly score above 0.5, independent of any training-score percentile);

* ``data/<model>.csv`` for every model above -- all 569 samples: the 30 features, ``label``, and
  ``float_score`` / ``float_decision`` computed from the EXPORTED JSON by ``zkguard.exporters.reference``
  (bit-identical to prover/src/model/float.rs).

Every export is checked against the library's own predictions on all 569 samples before it is
written.

The fraud-guard demo's models are trained on a SYNTHETIC transaction feed
(``zkguard.exporters.feed``, documented in ``docs/FRAUD_FEED.md``): 4000 transactions, 5% injected
fraud, seed 1 for training; a separate 256-transaction demo feed, seed 2, for the held-out check:

* ``models/fraud_logistic.json`` -- Pipeline(StandardScaler, LogisticRegression(class_weight=
  "balanced")); score = logit;
* ``models/fraud_gbt.json`` -- GradientBoostingClassifier(n_estimators=20, max_depth=3) (small on
  purpose: proving cost grows with the trees); score = log-odds;
* both thresholds: the highest probability on a 0.05 grid whose decisions still catch at least
  95% of the TRAINING feed's fraud rows (a catch-rate target; the demo feed is not looked at);
* ``data/fraud_logistic.csv``, ``data/fraud_gbt.csv`` -- the training feed's features, ``label``,
  ``float_score``, ``float_decision`` (as for the models above);
* ``data/fraud_feed.csv`` -- the demo feed: ``subject, timestamp, pattern, label`` and the features.

Deterministic: fixed random_state and seeds everywhere, BLAS limited to one thread; running it
twice produces byte-identical files. Usage: ``.venv/bin/python scripts/train_reference.py``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import xgboost
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import GradientBoostingClassifier, IsolationForest, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))

from zkguard.exporters import evaluate, export_sklearn, write_model, write_reference_csv  # noqa: E402
from zkguard.exporters import feed, reference  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RANDOM_STATE = 0
MAX_FALSE_POSITIVE_RATE = 0.05
DATASET = (
    "sklearn.datasets.load_breast_cancer (Wisconsin Diagnostic Breast Cancer, 569 samples x 30 features, "
    "bundled with scikit-learn); label 1 = malignant (212), 0 = benign (357) -- sklearn's target flipped"
)
LOGISTIC = "breast_cancer_logistic"
AUTOENCODER = "breast_cancer_autoencoder"
DECISION_TREE = "breast_cancer_decision_tree"
RANDOM_FOREST = "breast_cancer_random_forest"
GBT = "breast_cancer_gbt"
XGBOOST = "breast_cancer_xgboost"
ISOLATION_FOREST = "breast_cancer_isolation_forest"
TREE_MODELS = (DECISION_TREE, RANDOM_FOREST, GBT, XGBOOST, ISOLATION_FOREST)
SUPERVISED = "Fit on all 569 samples (no hold-out: a reference model for the prover)."
TREE_DESCRIPTIONS = {
    DECISION_TREE: f"{DATASET}. DecisionTreeClassifier(max_depth=4). {SUPERVISED}",
    RANDOM_FOREST: f"{DATASET}. RandomForestClassifier(n_estimators=20, max_depth=4). {SUPERVISED}",
    GBT: f"{DATASET}. GradientBoostingClassifier(n_estimators=50, max_depth=3). {SUPERVISED}",
    XGBOOST: f"{DATASET}. XGBClassifier(n_estimators=50, max_depth=4, tree_method='exact', n_jobs=1). {SUPERVISED}",
    ISOLATION_FOREST: (
        f"{DATASET}. Anomaly detector: IsolationForest(n_estimators=100, max_samples=256, contamination='auto') "
        "fit on all 569 samples without labels; the label column is for evaluation only."
    ),
}


FRAUD_LOGISTIC = "fraud_logistic"
FRAUD_GBT = "fraud_gbt"
FRAUD_MODELS = (FRAUD_LOGISTIC, FRAUD_GBT)
FRAUD_FEED = "fraud_feed"
FRAUD_TRAINING = dict(n_transactions=4_000, fraud_share=0.05, seed=1)
FRAUD_DEMO = dict(n_transactions=256, seed=2)
TARGET_RECALL = 0.95
PROBABILITY_GRID = tuple(round(0.05 * i, 2) for i in range(1, 20))  # 0.05 .. 0.95
FRAUD_DATASET = (
    "SYNTHETIC transaction feed (python/zkguard/exporters/feed.py, docs/FRAUD_FEED.md): training_feed("
    "n_transactions=4000, fraud_share=0.05, seed=1), 200 injected fraud rows in 5 patterns; label 1 = fraud"
)
FRAUD_DESCRIPTIONS = {
    FRAUD_LOGISTIC: f"{FRAUD_DATASET}. StandardScaler + LogisticRegression(class_weight='balanced').",
    FRAUD_GBT: f"{FRAUD_DATASET}. GradientBoostingClassifier(n_estimators=20, max_depth=3).",
}


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


def fit_tree_model(name: str, X: np.ndarray, y: np.ndarray):
    """The reference tree model ``name`` (one of ``TREE_MODELS``), fitted deterministically."""
    est = {
        DECISION_TREE: lambda: DecisionTreeClassifier(max_depth=4, random_state=RANDOM_STATE),
        RANDOM_FOREST: lambda: RandomForestClassifier(n_estimators=20, max_depth=4, random_state=RANDOM_STATE, n_jobs=1),
        GBT: lambda: GradientBoostingClassifier(n_estimators=50, max_depth=3, random_state=RANDOM_STATE),
        XGBOOST: lambda: xgboost.XGBClassifier(
            n_estimators=50, max_depth=4, random_state=RANDOM_STATE, n_jobs=1, tree_method="exact"
        ),
        ISOLATION_FOREST: lambda: IsolationForest(
            n_estimators=100, max_samples=256, contamination="auto", random_state=RANDOM_STATE, n_jobs=1
        ),
    }[name]()
    with threadpool_limits(1):
        return est.fit(X) if name == ISOLATION_FOREST else est.fit(X, y)


def library_view(name: str, est, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(score, decision)`` of tree model ``name`` as its own library computes them."""
    with threadpool_limits(1):
        if name == ISOLATION_FOREST:
            return np.log2(-est.score_samples(X)), (est.predict(X) == -1).astype(np.int64)
        if name in (GBT, XGBOOST):
            margin = est.decision_function(X) if name == GBT else est.predict(X, output_margin=True)
            return margin.astype(np.float64), est.predict(X)
        return est.predict_proba(X)[:, 1], est.predict(X)


def export_tree_model(name: str, est, features: list[str]) -> dict:
    return export_sklearn(
        est,
        features,
        name=name,
        description=TREE_DESCRIPTIONS[name],
        source_extra={"script": "scripts/train_reference.py", "reference_csv": f"data/{name}.csv"},
    )


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


def fit_fraud_model(name: str, X: np.ndarray, y: np.ndarray):
    """The fraud model ``name`` (one of ``FRAUD_MODELS``), fitted deterministically."""
    est = {
        FRAUD_LOGISTIC: lambda: Pipeline(
            [
                ("scaler", StandardScaler()),
                ("logistic", LogisticRegression(max_iter=5000, class_weight="balanced", random_state=RANDOM_STATE)),
            ]
        ),
        FRAUD_GBT: lambda: GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=RANDOM_STATE),
    }[name]()
    with threadpool_limits(1):
        return est.fit(X, y)


def fraud_probability_threshold(est, X: np.ndarray, y: np.ndarray) -> float:
    """The highest probability on ``PROBABILITY_GRID`` whose decisions catch >= ``TARGET_RECALL`` of the fraud."""
    with threadpool_limits(1):
        p = est.predict_proba(X)[:, 1]
    ok = [t for t in PROBABILITY_GRID if np.sum((p > t) & (y == 1)) >= TARGET_RECALL * np.sum(y == 1)]
    if not ok:
        raise AssertionError(f"no threshold on the grid reaches recall {TARGET_RECALL} on the training feed")
    return max(ok)


def export_fraud_model(name: str, est, probability: float) -> dict:
    return export_sklearn(
        est,
        list(feed.FEATURES),
        name=name,
        probability_threshold=probability,
        description=FRAUD_DESCRIPTIONS[name],
        source_extra={
            "script": "scripts/train_reference.py",
            "reference_csv": f"data/{name}.csv",
            "demo_feed": f"data/{FRAUD_FEED}.csv",
            "threshold_rule": (
                f"highest probability on a 0.05 grid catching >= {TARGET_RECALL:.0%} of the training feed's fraud rows"
            ),
        },
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

    for name in TREE_MODELS:
        est = fit_tree_model(name, X, y)
        model = export_tree_model(name, est, features)
        lib_score, lib_decision = library_view(name, est, X)
        score, decision = evaluate(model, X)
        atol = 1e-5 if name == XGBOOST else 1e-9  # xgboost sums its float32 leaves in float32
        assert np.allclose(score, lib_score, rtol=0, atol=atol), f"{name} export: scores differ from the library's"
        assert np.array_equal(decision, lib_decision), f"{name} export: decisions differ from the library's predict"
        write_model(model, out_dir / "models" / f"{name}.json")
        write_reference_csv(model, X, out_dir / "data" / f"{name}.csv", labels=y)
        st = _stats(model, X, y)
        st["kind"] = model["model"]["kind"]
        st["trees"] = model["source"]["trees"]
        st["max_score_error"] = float(np.max(np.abs(score - lib_score)))
        summary[name] = st
    return summary


def build_fraud(out_dir: Path = ROOT) -> dict:
    """Generates the synthetic feeds, trains, exports and writes the fraud models; returns statistics."""
    train = feed.training_feed(**FRAUD_TRAINING)
    demo = feed.demo_feed(**FRAUD_DEMO)
    y, y_demo = train.labels, demo.labels
    summary = {}
    for name in FRAUD_MODELS:
        est = fit_fraud_model(name, train.X, y)
        probability = fraud_probability_threshold(est, train.X, y)
        model = export_fraud_model(name, est, probability)
        thr = model["decision"]["threshold"]
        for X in (train.X, demo.X):
            with threadpool_limits(1):
                lib_score = est.decision_function(X)
            score, decision = evaluate(model, X)
            assert np.allclose(score, lib_score, rtol=1e-12, atol=1e-9), f"{name} export: scores differ from sklearn's"
            assert np.array_equal(decision, (lib_score > thr).astype(np.int64)), f"{name} export: decisions differ"
        write_model(model, out_dir / "models" / f"{name}.json")
        write_reference_csv(model, train.X, out_dir / "data" / f"{name}.csv", labels=y)
        st = {"probability": probability, "train": _stats(model, train.X, y), "demo": _stats(model, demo.X, y_demo)}
        _, d = evaluate(model, demo.X)
        patterns = np.array(demo.patterns)
        st["demo_missed"] = {p: int(np.sum((d == 0) & (patterns == p))) for p in feed.PATTERNS}
        summary[name] = st
    feed.write_feed_csv(demo, out_dir / "data" / f"{FRAUD_FEED}.csv")
    summary[FRAUD_FEED] = {
        "train_rows": len(y), "train_fraud": int(y.sum()), "demo_rows": len(y_demo), "demo_fraud": int(y_demo.sum()),
    }
    return summary


def _precision_recall(st: dict) -> str:
    precision = st["tp"] / max(st["tp"] + st["fp"], 1)
    recall = st["tp"] / max(st["tp"] + st["fn"], 1)
    return (f"precision {precision:.3f}, recall {recall:.3f} (TP {st['tp']}, FP {st['fp']}, FN {st['fn']}, "
            f"TN {st['tn']}); min |score - threshold| {st['min_margin']:.4g}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out-dir", type=Path, default=ROOT, help="root under which models/ and data/ are written")
    args = p.parse_args(argv)
    summary = build(args.out_dir)
    fraud = build_fraud(args.out_dir)

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
    for name in TREE_MODELS:
        st = summary[name]
        t = st["trees"]
        print(f"{name}: {st['kind']}, {t['count']} trees, max depth {t['max_depth']}, {t['nodes']} nodes "
              f"({t['leaves']} leaves); threshold {st['threshold']!r}")
        print(f"  accuracy vs label {st['accuracy']:.4f}; flagged {st['flagged']} (TP {st['tp']}, FP {st['fp']}, "
              f"FN {st['fn']}, TN {st['tn']}); decisions = the library's on 569/569; max |score - library| "
              f"{st['max_score_error']:.3g}; min |score - threshold| {st['min_margin']:.4g}")
    fd = fraud[FRAUD_FEED]
    print(f"synthetic fraud feed: training {fd['train_rows']} rows ({fd['train_fraud']} fraud), "
          f"demo {fd['demo_rows']} rows ({fd['demo_fraud']} fraud)")
    for name in FRAUD_MODELS:
        st = fraud[name]
        print(f"{name}: threshold {st['train']['threshold']!r} (logit of probability {st['probability']})")
        print(f"  training feed: {_precision_recall(st['train'])}")
        print(f"  demo feed:     {_precision_recall(st['demo'])}; missed {st['demo_missed']}")
    for name in (LOGISTIC, AUTOENCODER) + TREE_MODELS + FRAUD_MODELS:
        print(f"  wrote {args.out_dir / 'models' / (name + '.json')} and {args.out_dir / 'data' / (name + '.csv')}")
    print(f"  wrote {args.out_dir / 'data' / (FRAUD_FEED + '.csv')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
