"""zkguard's Python model exporters.

Turns fitted scikit-learn (and XGBoost) models into zkguard model files (``docs/MODEL_FORMAT.md``),
validates them the way the Rust prover does (``prover/src/model/validate.rs``) and evaluates them
in float exactly as the prover's float reference does (``prover/src/model/float.rs``).

Modules:

* :mod:`zkguard_export.schema` -- the file format: constants, validation, deterministic JSON.
* :mod:`zkguard_export.reference` -- float inference of a model dict (the ``model check`` reference)
  and the reference CSV writer.
* :mod:`zkguard_export.sklearn_export` -- scikit-learn estimators / pipelines (and XGBoost
  models) to model dicts: pipeline steps, feature names, thresholds, provenance.
* :mod:`zkguard_export.trees` -- tree models to ``tree_ensemble`` bodies (nodes, leaf values,
  base score per kind; StandardScaler folding).
* :mod:`zkguard_export.feed` -- a SYNTHETIC transaction feed with injected fraud patterns (the
  fraud-guard demo's training data and demo feed; ``docs/FRAUD_FEED.md``).
"""

from .reference import evaluate, reference_rows, standardize, write_reference_csv
from .schema import (
    FORMAT_NAME,
    FORMAT_VERSION,
    ModelFormatError,
    dumps_model,
    load_model,
    logit_threshold,
    validate_model,
    write_model,
)
from .sklearn_export import UnsupportedModelError, calibrate_threshold, export_sklearn, export_xgboost

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
