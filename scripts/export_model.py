#!/usr/bin/env python3
"""Export fitted scikit-learn and XGBoost models to zkguard model files (docs/MODEL_FORMAT.md).

As a library, through the ``zkguard`` package (``pip install ./python``; ``zkguard.export`` also
takes LightGBM, CatBoost and ONNX models)::

    from zkguard.exporters import export_sklearn, export_xgboost, write_model, write_reference_csv
    model = export_sklearn(pipeline, feature_names, name="my-model", probability_threshold=0.5)
    model = export_xgboost(booster, feature_names, name="my-xgb")   # an xgboost.Booster
    write_model(model, "models/my-model.json")
    write_reference_csv(model, X, "data/my-model.csv", labels=y)   # for `zkguard model check`

As a command::

    .venv/bin/python scripts/export_model.py sklearn model.joblib --features-file names.txt \\
        --name my-model --probability-threshold 0.5 --out models/my-model.json
    .venv/bin/python scripts/export_model.py xgboost booster.json --features-file names.txt \\
        --name my-xgb --out models/my-xgb.json
    .venv/bin/python scripts/export_model.py reference models/my-model.json samples.csv \\
        --label-column label --out data/my-model.csv

See ``python/zkguard/exporters`` for the implementation and ``scripts/train_reference.py`` for a
complete example.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from zkguard.exporters import (  # noqa: E402  (after the sys.path tweak)
    FORMAT_NAME,
    FORMAT_VERSION,
    ModelFormatError,
    UnsupportedModelError,
    calibrate_threshold,
    dumps_model,
    evaluate,
    export_sklearn,
    export_xgboost,
    load_model,
    logit_threshold,
    reference_rows,
    standardize,
    validate_model,
    write_model,
    write_reference_csv,
)

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "ModelFormatError",
    "UnsupportedModelError",
    "calibrate_threshold",
    "dumps_model",
    "evaluate",
    "export_sklearn",
    "export_xgboost",
    "load_model",
    "logit_threshold",
    "reference_rows",
    "standardize",
    "validate_model",
    "write_model",
    "write_reference_csv",
]


def _read_csv(path: Path, features: list[str], label_column: str | None = None):
    """Feature matrix (columns selected by name, in ``features`` order) and optional labels."""
    import numpy as np

    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise ValueError(f"{path}: empty file")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in features + ([label_column] if label_column else []) if c not in header]
    if missing:
        raise ValueError(f"{path}: no column(s) named {missing}; columns are {header}")
    cols = [header.index(c) for c in features]
    body = [r for r in rows[1:] if r]
    X = np.array([[float(r[c]) for c in cols] for r in body], dtype=np.float64)
    labels = None
    if label_column:
        lc = header.index(label_column)
        labels = [int(float(r[lc])) for r in body]
    return X, labels


def _features(args) -> list[str] | None:
    if args.features:
        return [f.strip() for f in args.features.split(",")]
    if args.features_file:
        return [line.strip() for line in Path(args.features_file).read_text(encoding="utf-8").splitlines() if line.strip()]
    return None


def _export(export, model, fitted_names, args, **extra) -> int:
    """Runs ``export`` (export_sklearn / export_xgboost) with the CLI's options and writes the file."""
    features = _features(args)
    kwargs = dict(
        name=args.name,
        threshold=args.threshold,
        probability_threshold=args.probability_threshold,
        description=args.description,
        scale_bits=args.scale_bits,
        max_false_positive_rate=args.max_fpr,
        **extra,
    )
    if args.calibrate_csv:
        # The feature names select the CSV columns of the normal samples.
        names = features or [str(f) for f in fitted_names or []]
        if not names:
            raise ValueError("--calibrate-csv needs --features / --features-file (the model has no feature names)")
        kwargs["calibrate_on"], _ = _read_csv(Path(args.calibrate_csv), names)
    model = export(model, features, **kwargs)
    out = write_model(model, args.out)
    flagged = ""
    if "positive_class" in model["source"]:
        flagged = f", flags class {model['source']['positive_class']!r} (not {model['source']['negative_class']!r})"
    print(f"wrote {out}: {model['model']['family']} model {model['name']!r}, {len(model['features'])} features, "
          f"threshold {model['decision']['threshold']!r}{flagged}")
    return 0


def load_estimator(path: str):
    """Unpickles a joblib/pickle file, or says clearly what the file is not (no traceback)."""
    import pickle

    import joblib

    p = Path(path)
    if not p.is_file():
        raise ValueError(f"{path}: no such file")
    try:
        return joblib.load(p)
    except (pickle.UnpicklingError, EOFError, KeyError, ValueError, IndexError, TypeError, AttributeError) as e:
        head = p.read_bytes()[:16]
        hint = ""
        if head.lstrip().startswith(b"{"):
            hint = " (it looks like JSON: a zkguard model file, or an XGBoost model for `export_model.py xgboost`?)"
        raise ValueError(
            f"{path} is not a joblib/pickle file of a fitted estimator{hint}: {type(e).__name__}: {e}"
        ) from None
    except ModuleNotFoundError as e:
        raise ValueError(f"{path} needs the module {e.name!r} to unpickle: install it in this environment") from None


def cmd_sklearn(args) -> int:
    estimator = load_estimator(args.estimator)
    extra = {"vote": args.vote}
    if args.positive_class is not None:
        extra["positive_class"] = _label(estimator, args.positive_class)
    return _export(export_sklearn, estimator, getattr(estimator, "feature_names_in_", None), args, **extra)


def _label(estimator, text: str):
    """``--positive-class`` as the classifier's own label type (``"1"`` matches the int 1)."""
    for c in list(getattr(estimator, "classes_", [])):
        if str(c) == text:
            return c.item() if hasattr(c, "item") else c
    return text


def cmd_xgboost(args) -> int:
    import xgboost

    booster = xgboost.Booster(model_file=args.booster)
    return _export(export_xgboost, booster, booster.feature_names, args)


def cmd_reference(args) -> int:
    model = load_model(args.model)
    X, labels = _read_csv(Path(args.data), list(model["features"]), args.label_column)
    out = write_reference_csv(model, X, args.out, labels)
    _, decisions = evaluate(model, X)
    print(f"wrote {out}: {len(X)} rows, {int(decisions.sum())} flagged")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="export_model.py",
        description="Export fitted scikit-learn and XGBoost models to zkguard model files (docs/MODEL_FORMAT.md) "
        "and write the float reference CSV that `zkguard model check` compares against.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    def export_options(s) -> None:
        s.add_argument("--out", required=True, help="model file to write (JSON)")
        s.add_argument("--name", required=True, help="model name recorded in the file")
        g = s.add_mutually_exclusive_group()
        g.add_argument("--features", help="comma-separated feature names, in the model's column order")
        g.add_argument("--features-file", help="file with one feature name per line")
        t = s.add_mutually_exclusive_group()
        t.add_argument("--threshold", type=float, help="decision threshold in the score's domain (logit for logistic)")
        t.add_argument("--probability-threshold", type=float,
                       help="probability threshold p: log(p/(1-p)) for logit scores, p for probability scores")
        t.add_argument("--calibrate-csv", help="CSV of normal samples: threshold flags at most --max-fpr of them")
        s.add_argument("--max-fpr", type=float, default=0.05, help="with --calibrate-csv: max flagged fraction (default 0.05)")
        s.add_argument("--description", help="free text about the training data, recorded in source.training")
        s.add_argument("--scale-bits", type=int, help="pin quantization.scale_bits (4..24); normally omitted")

    s = sub.add_parser(
        "sklearn",
        help="export a joblib/pickle file holding a fitted estimator or Pipeline(StandardScaler, estimator)",
        description="Export a fitted scikit-learn estimator. Supported: LogisticRegression, SGDClassifier "
        "(binary), LinearRegression, SGDRegressor, Ridge, Lasso, ElasticNet, MLPRegressor autoencoders "
        "(relu/identity), DecisionTreeClassifier, RandomForestClassifier, GradientBoostingClassifier (binary), "
        "IsolationForest and xgboost.XGBClassifier (binary:logistic), optionally after one StandardScaler in a "
        "Pipeline (folded into the thresholds of tree models). The file is unpickled: only load files you trust.",
    )
    s.add_argument("estimator", help="joblib or pickle file of the fitted estimator / pipeline")
    s.add_argument("--positive-class", help="the class label the guard flags; required when the labels are not 0/1")
    export_options(s)
    s.add_argument("--vote", action="store_true",
                   help="RandomForestClassifier: score = fraction of trees voting 1, flagged on a strict majority")
    s.set_defaults(func=cmd_sklearn)

    x = sub.add_parser(
        "xgboost",
        help="export an XGBoost Booster saved with save_model (JSON or UBJSON; objective binary:logistic)",
        description="Export an xgboost.Booster from its own model file (booster.save_model / XGBClassifier."
        "save_model; not a pickle). The score is the margin (log-odds); the default threshold is 0 "
        "(probability 0.5). Feature names default to the booster's; otherwise give one per column.",
    )
    x.add_argument("booster", help="XGBoost model file (.json or .ubj)")
    export_options(x)
    x.set_defaults(func=cmd_xgboost)

    r = sub.add_parser(
        "reference",
        help="evaluate a model file on a CSV and write features, label, float_score, float_decision",
        description="Evaluate a zkguard model file in float (the semantics of prover/src/model/float.rs, "
        "bit for bit) on a CSV whose columns include the model's feature names.",
    )
    r.add_argument("model", help="zkguard model file")
    r.add_argument("data", help="CSV with a header naming the columns")
    r.add_argument("--label-column", help="column holding the true label (copied as `label`)")
    r.add_argument("--out", required=True, help="reference CSV to write")
    r.set_defaults(func=cmd_reference)

    args = p.parse_args(argv)
    try:
        return args.func(args)
    except (UnsupportedModelError, ModelFormatError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
