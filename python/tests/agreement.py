"""Each exporter against its library's own predictions on real bundled data: the decision
agreement table of the README ("Bring your model"). Run it to print the table::

    .venv/bin/python python/tests/agreement.py

``test_libraries.py`` asserts on the same rows.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.model_selection import train_test_split

import zkguard
from zkguard.exporters import reference

SEED = 0


@dataclass
class Row:
    library: str
    model: str
    data: str
    samples: int
    float_vs_library: float  # decision agreement of zkguard's float reference with the library's predict
    score_max_abs_diff: float  # largest |zkguard float score - library raw score|
    quantized_vs_float: float  # decision agreement of the quantized model (what is proved) with float
    quantized_vs_library: float


def datasets():
    bc = load_breast_cancer()
    wine = load_wine()
    return {
        "breast cancer (569 x 30)": (bc.data, bc.target, [str(f) for f in bc.feature_names]),
        "wine, class 0 vs rest (178 x 13)": (wine.data, (wine.target == 0).astype(int), [str(f) for f in wine.feature_names]),
    }


def models():
    """(library, label, fit(X, y) -> (estimator, raw scores fn, predict fn))."""
    import catboost
    import lightgbm
    import xgboost
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return [
        ("scikit-learn", "LogisticRegression (+StandardScaler)",
         lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
         lambda m, X: m.decision_function(X)),
        ("scikit-learn", "RandomForestClassifier (20 trees, depth 4)",
         lambda: RandomForestClassifier(n_estimators=20, max_depth=4, random_state=SEED),
         lambda m, X: m.predict_proba(X)[:, 1]),
        ("scikit-learn", "GradientBoostingClassifier (20 x depth 3)",
         lambda: GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=SEED),
         lambda m, X: m.decision_function(X)),
        ("XGBoost", "XGBClassifier (20 x depth 3)",
         lambda: xgboost.XGBClassifier(n_estimators=20, max_depth=3, random_state=SEED),
         lambda m, X: m.predict(X, output_margin=True)),
        ("LightGBM", "LGBMClassifier (20 x 7 leaves, depth 4)",
         lambda: lightgbm.LGBMClassifier(n_estimators=20, num_leaves=7, max_depth=4, random_state=SEED, verbose=-1),
         lambda m, X: m.predict(X, raw_score=True)),
        ("CatBoost", "CatBoostClassifier (20 x depth 4)",
         lambda: catboost.CatBoostClassifier(iterations=20, depth=4, random_seed=SEED, verbose=0, thread_count=1, allow_writing_files=False),
         lambda m, X: m.predict(X, prediction_type="RawFormulaVal")),
    ]


def rows() -> list[Row]:
    out = []
    for data_name, (X, y, names) in datasets().items():
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=SEED, stratify=y)
        for library, label, make, raw in models():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est = make().fit(Xtr, ytr)
            model = zkguard.export(est, names, name="m")
            ours = reference.scores(model, Xte)
            theirs = np.asarray(raw(est, Xte), dtype=np.float64)
            lib_decisions = est.predict(Xte) == 1
            float_decisions = ours > model["decision"]["threshold"]
            report = zkguard.check(model, Xte, yte, calibration=Xtr)
            quantized = np.asarray(report.quantized_scores) > zkguard.quantize(model, Xtr).threshold
            out.append(Row(library, label, data_name, len(Xte), float(np.mean(float_decisions == lib_decisions)),
                           float(np.max(np.abs(ours - theirs))), report.agreement,
                           float(np.mean(quantized == lib_decisions))))
    return out


def markdown(table: list[Row]) -> str:
    lines = ["| library | model | data (test split) | float = library `predict` | max score diff | quantized = float | quantized = library |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in table:
        lines.append(f"| {r.library} | {r.model} | {r.data}, {r.samples} | {r.float_vs_library:.2%} | "
                     f"{r.score_max_abs_diff:.1e} | {r.quantized_vs_float:.2%} | {r.quantized_vs_library:.2%} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(rows()))
