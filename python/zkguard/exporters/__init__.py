"""zkguard's Python model exporters (``zkguard.exporters``; ``zkguard.export`` picks one).

Turns fitted scikit-learn, XGBoost, LightGBM and CatBoost models, and ONNX graphs (PyTorch, Keras,
skl2onnx, onnxmltools), into zkguard model files (``docs/MODEL_FORMAT.md``),
validates them the way the Rust prover does (``prover/src/model/validate.rs``) and evaluates them
in float exactly as the prover's float reference does (``prover/src/model/float.rs``).

Modules:

* :mod:`zkguard.exporters.schema` -- the file format: constants, validation, deterministic JSON.
* :mod:`zkguard.exporters.reference` -- float inference of a model dict (the ``model check`` reference)
  and the reference CSV writer.
* :mod:`zkguard.exporters.sklearn_export` -- scikit-learn estimators / pipelines (and XGBoost
  models) to model dicts: pipeline steps, feature names, thresholds, provenance.
* :mod:`zkguard.exporters.trees` -- tree models to ``tree_ensemble`` bodies (nodes, leaf values,
  base score per kind; StandardScaler folding).
* :mod:`zkguard.exporters.lightgbm_export`, :mod:`zkguard.exporters.catboost_export` -- LightGBM
  and CatBoost native dumps to ``tree_ensemble`` bodies.
* :mod:`zkguard.exporters.onnx_import` -- ONNX graphs (the one place ONNX is read).
* :mod:`zkguard.exporters.feed` -- a SYNTHETIC transaction feed with injected fraud patterns (the
  fraud-guard demo's training data and demo feed; ``docs/FRAUD_FEED.md``).
"""

from typing import Any, Sequence

from .reference import evaluate, reference_rows, standardize, write_reference_csv
from .schema import (
    FORMAT_NAME,
    FORMAT_VERSION,
    ModelFormatError,
    dumps_model,
    load_model,
    loads_model,
    logit_threshold,
    parse_json,
    validate_model,
    write_model,
)
from .sklearn_export import UnsupportedModelError, calibrate_threshold, export_sklearn, export_xgboost



def export(model: Any, feature_names: Sequence[str] | None = None, *, name: str, **options: Any) -> dict:
    """Dispatches to the exporter of ``model``'s library (see :func:`zkguard.export`)."""
    module = type(model).__module__.split(".")[0]
    if module == "lightgbm":
        from .lightgbm_export import export_lightgbm

        return export_lightgbm(model, feature_names, name=name, **options)
    if module == "catboost":
        from .catboost_export import export_catboost

        return export_catboost(model, feature_names, name=name, **options)
    if module == "onnx" or isinstance(model, (bytes, bytearray)) or str(model).endswith(".onnx"):
        from .onnx_import import import_onnx

        return import_onnx(model, feature_names, name=name, **options)
    if module == "xgboost" and type(model).__name__ == "Booster":
        return export_xgboost(model, feature_names, name=name, **options)
    if module in ("sklearn", "xgboost") or hasattr(model, "get_params"):
        return export_sklearn(model, feature_names, name=name, **options)
    raise UnsupportedModelError(
        f"unsupported model {type(model).__module__}.{type(model).__qualname__}: zkguard exports scikit-learn, "
        "XGBoost, LightGBM and CatBoost models and ONNX graphs"
    )


__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "ModelFormatError",
    "UnsupportedModelError",
    "calibrate_threshold",
    "dumps_model",
    "evaluate",
    "export",
    "export_sklearn",
    "export_xgboost",
    "load_model",
    "loads_model",
    "parse_json",
    "logit_threshold",
    "reference_rows",
    "standardize",
    "validate_model",
    "write_model",
    "write_reference_csv",
]
