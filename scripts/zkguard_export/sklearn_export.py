"""Fitted scikit-learn estimators and pipelines -> zkguard model dicts (``docs/MODEL_FORMAT.md``).

Supported:

* an optional ``StandardScaler`` (bare or as the first ``Pipeline`` step) -> ``preprocessing``;
* ``LogisticRegression`` (binary) -> ``linear`` with ``link = "logit"`` (score = logit of the
  second class, ``classes_[1]``);
* ``SGDClassifier`` (binary) -> ``linear``, ``link = "logit"`` for ``loss="log_loss"``, else
  ``"identity"`` (the score is ``decision_function``);
* ``LinearRegression``, ``SGDRegressor``, ``Ridge``, ``Lasso``, ``ElasticNet`` (single output)
  -> ``linear`` with ``link = "identity"``;
* ``MLPRegressor`` trained as an autoencoder (outputs = inputs; hidden activation ``relu`` or
  ``identity``) -> ``mlp_autoencoder``.

Everything else is refused with :class:`UnsupportedModelError` naming the step / estimator.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import sklearn
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import (
    ElasticNet,
    Lasso,
    LinearRegression,
    LogisticRegression,
    Ridge,
    SGDClassifier,
    SGDRegressor,
)
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from . import reference
from .schema import FORMAT_NAME, FORMAT_VERSION, logit_threshold, validate_model

EXPORTER = "zkguard scripts/export_model.py"
EXPORTER_VERSION = 1

LINEAR_CLASSIFIERS = (LogisticRegression, SGDClassifier)
LINEAR_REGRESSORS = (LinearRegression, SGDRegressor, Ridge, Lasso, ElasticNet)
AUTOENCODER_ACTIVATIONS = ("relu", "identity")
SUPPORTED = (
    "LogisticRegression, SGDClassifier (binary; family linear), LinearRegression, SGDRegressor, "
    "Ridge, Lasso, ElasticNet (single output; family linear) and MLPRegressor trained as an "
    "autoencoder with relu/identity hidden layers (family mlp_autoencoder), optionally in a "
    "Pipeline after one StandardScaler"
)


class UnsupportedModelError(ValueError):
    """The estimator, a pipeline step or a setting has no zkguard representation."""


def _qualname(obj: Any) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _floats(a) -> list[float]:
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def _json_params(est) -> dict:
    """The estimator's constructor parameters that are plain JSON values (provenance only)."""

    def plain(v):
        if v is None or isinstance(v, (bool, int, str)):
            return v
        if isinstance(v, float):
            return v if math.isfinite(v) else repr(v)
        if isinstance(v, (np.integer,)):
            return int(v)
        if isinstance(v, (np.floating,)):
            return plain(float(v))
        if isinstance(v, (tuple, list)) and all(plain(x) is not _SKIP for x in v):
            return [plain(x) for x in v]
        return _SKIP

    out = {}
    for k, v in sorted(est.get_params(deep=False).items()):
        p = plain(v)
        if p is not _SKIP:
            out[k] = p
    return out


_SKIP = object()


def _split_pipeline(estimator) -> tuple[StandardScaler | None, Any, list[str]]:
    """``(scaler or None, final estimator, step descriptions)``; refuses unsupported steps."""
    if isinstance(estimator, Pipeline):
        steps = [(name, step) for name, step in estimator.steps if step is not None and step != "passthrough"]
        described = [f"{name}: {type(step).__name__}" for name, step in steps]
        if not steps:
            raise UnsupportedModelError("the pipeline has no estimator step")
        *pre, (last_name, last) = steps
        scaler = None
        for name, step in pre:
            if isinstance(step, StandardScaler) and scaler is None:
                scaler = step
                continue
            why = "a second StandardScaler" if isinstance(step, StandardScaler) else f"{type(step).__name__} ({_qualname(step)})"
            raise UnsupportedModelError(
                f"unsupported pipeline step {name!r}: {why}; zkguard model files allow at most one "
                f"StandardScaler before the estimator (supported: {SUPPORTED})"
            )
        if isinstance(last, (StandardScaler, Pipeline)):
            raise UnsupportedModelError(f"the pipeline's last step {last_name!r} must be an estimator, not {type(last).__name__}")
        return scaler, last, described
    return None, estimator, [type(estimator).__name__]


def _preprocessing(scaler: StandardScaler | None, n: int) -> dict | None:
    if scaler is None:
        return None
    try:
        check_is_fitted(scaler)
    except NotFittedError as e:
        raise UnsupportedModelError(f"the StandardScaler is not fitted: {e}") from None
    if not scaler.with_mean and not scaler.with_std:
        return None  # the identity transform
    # with_mean=False / with_std=False leave mean_ / scale_ unused (or None): use 0 / 1 then.
    mean = _floats(scaler.mean_) if scaler.with_mean else [0.0] * n
    scale = _floats(scaler.scale_) if scaler.with_std else [1.0] * n
    if len(mean) != n or len(scale) != n:
        raise UnsupportedModelError(f"the StandardScaler was fitted on {len(mean)} features, the model has {n}")
    return {"mean": mean, "scale": scale}


def _binary_classes(est) -> list:
    classes = list(est.classes_)
    if len(classes) != 2:
        raise UnsupportedModelError(
            f"{type(est).__name__} has {len(classes)} classes {classes!r}; zkguard decisions are binary "
            "(one score, flagged = score > threshold), so only two-class classifiers can be exported"
        )
    return classes


def _linear_body(est, n: int) -> tuple[dict, dict]:
    """``(model body, provenance)`` of a linear estimator."""
    if isinstance(est, LINEAR_CLASSIFIERS):
        _binary_classes(est)  # a multiclass classifier is refused for its classes, not its shape
    coef = np.asarray(est.coef_, dtype=np.float64)
    if coef.ndim == 2 and coef.shape[0] != 1:
        raise UnsupportedModelError(
            f"{type(est).__name__} has {coef.shape[0]} outputs; zkguard linear models have a single score"
        )
    weights = _floats(coef)
    intercept = _floats(est.intercept_) if np.ndim(est.intercept_) else [float(est.intercept_)]
    if len(intercept) != 1:
        raise UnsupportedModelError(f"{type(est).__name__} has {len(intercept)} intercepts; expected one")
    if len(weights) != n:
        raise UnsupportedModelError(f"{type(est).__name__} has {len(weights)} weights for {n} features")
    info: dict = {}
    if isinstance(est, LINEAR_CLASSIFIERS):
        classes = _binary_classes(est)
        info["positive_class"] = classes[1].item() if hasattr(classes[1], "item") else classes[1]
        info["negative_class"] = classes[0].item() if hasattr(classes[0], "item") else classes[0]
        if isinstance(est, LogisticRegression) or getattr(est, "loss", None) == "log_loss":
            link = "logit"
            info["score"] = f"logit of P(class {info['positive_class']!r}) = decision_function"
        else:
            link = "identity"
            info["score"] = f"decision_function (loss={est.loss!r}); positive = class {info['positive_class']!r}"
    else:
        link = "identity"
        info["score"] = "predict()"
    return {"family": "linear", "weights": weights, "bias": intercept[0], "link": link}, info


def _autoencoder_body(est: MLPRegressor, n: int) -> tuple[dict, dict]:
    if est.activation not in AUTOENCODER_ACTIVATIONS:
        raise UnsupportedModelError(
            f"MLPRegressor(activation={est.activation!r}) is not supported: zkguard circuits implement "
            f"only {' and '.join(AUTOENCODER_ACTIVATIONS)} hidden activations; retrain with activation='relu'"
        )
    if est.out_activation_ != "identity":
        raise UnsupportedModelError(f"MLPRegressor output activation {est.out_activation_!r}; expected 'identity'")
    if est.n_outputs_ != n:
        raise UnsupportedModelError(
            f"MLPRegressor has {est.n_outputs_} outputs for {n} input features: only autoencoders "
            "(trained with fit(Z, Z), outputs = inputs) can be exported as mlp_autoencoder"
        )
    layers = []
    last = len(est.coefs_) - 1
    for i, (W, b) in enumerate(zip(est.coefs_, est.intercepts_)):
        W = np.asarray(W, dtype=np.float64)
        # scikit-learn stores coefs_[i] as [in][out]; zkguard wants rows = outputs, [out][in].
        layers.append(
            {
                "weights": [_floats(row) for row in W.T],
                "bias": _floats(b),
                "activation": "identity" if i == last else est.activation,
            }
        )
    widths = [n] + [len(l["bias"]) for l in layers]
    info = {
        "score": "sum over features of (reconstruction - z)^2, z standardized",
        "architecture": "-".join(str(w) for w in widths),
    }
    return {"family": "mlp_autoencoder", "layers": layers}, info


def calibrate_threshold(
    model: dict, normal_samples, max_false_positive_rate: float = 0.05, margin_samples=None
) -> tuple[float, dict]:
    """A threshold that flags at most ``k = floor(rate * N)`` of the ``N`` normal samples.

    Returns ``(threshold, provenance)``. With the normal samples' float scores sorted ascending
    ``s[0] <= ... <= s[N-1]``, every threshold in ``[s[N-k-1], s[N-k])`` flags at most ``k`` of
    them. Within that interval the threshold is put where it is farthest from any known score,
    so that the small drift of the quantized (fixed-point) model cannot flip a decision:

    * without ``margin_samples``: the midpoint of ``s[N-k-1]`` and ``s[N-k]``;
    * with ``margin_samples`` (e.g. all labelled samples, anomalies included): the midpoint of
      the widest gap between consecutive scores of the normal and margin samples inside the
      interval. The false-positive bound on the normal samples is the same either way.
    """
    rate = float(max_false_positive_rate)
    s = np.sort(reference.scores(model, normal_samples))
    N = len(s)
    k = int(math.floor(rate * N + 1e-9))
    if not 0.0 < rate < 1.0 or not 1 <= k < N:
        raise ValueError(f"max_false_positive_rate={rate} over {N} samples allows {k} flagged samples; need 1..{N - 1}")
    lo, hi = float(s[N - k - 1]), float(s[N - k])
    points = [lo, hi]
    if margin_samples is not None:
        m = reference.scores(model, margin_samples)
        points += [float(v) for v in m[(m > lo) & (m < hi)]]
    points = sorted(set(points))
    gaps = [(b - a, a, b) for a, b in zip(points, points[1:])]
    _, a, b = max(gaps, key=lambda g: g[0]) if gaps else (0.0, lo, hi)
    threshold = a + (b - a) / 2.0
    info = {
        "method": (
            "flag at most k = floor(rate*N) normal samples: threshold in [s[N-k-1], s[N-k]) of the sorted "
            "normal scores, at the midpoint of the widest gap between known scores there"
        ),
        "max_false_positive_rate": rate,
        "normal_samples": N,
        "normal_flagged": int(np.sum(s > threshold)),
        "normal_score_interval": [lo, hi],
    }
    if margin_samples is not None:
        info["margin_samples"] = int(len(m))
    return threshold, info


def export_sklearn(
    estimator,
    feature_names: Sequence[str] | None = None,
    *,
    name: str,
    threshold: float | None = None,
    probability_threshold: float | None = None,
    calibrate_on=None,
    max_false_positive_rate: float = 0.05,
    margin_samples=None,
    description: str | None = None,
    source_extra: dict | None = None,
    scale_bits: int | None = None,
) -> dict:
    """Converts a fitted estimator (or ``Pipeline(StandardScaler, estimator)``) to a model dict.

    The decision threshold is, in order of precedence:

    * ``threshold`` -- in the score's own domain (the logit for logistic models);
    * ``probability_threshold`` -- logit models only, converted to ``log(p / (1 - p))``;
    * ``calibrate_on`` -- samples of the normal (unflagged) class, optionally ``margin_samples``:
      see :func:`calibrate_threshold`;
    * for logit models only, the default probability 0.5 (threshold 0.0).

    ``description`` (free text about the training data) and ``source_extra`` go to ``source``.
    The result is validated as zkguard would validate it; write it with ``write_model``.
    """
    scaler, est, steps = _split_pipeline(estimator)
    if not isinstance(est, LINEAR_CLASSIFIERS + LINEAR_REGRESSORS + (MLPRegressor,)):
        raise UnsupportedModelError(
            f"unsupported estimator {type(est).__name__} ({_qualname(est)}); zkguard model files support {SUPPORTED}"
        )
    try:
        check_is_fitted(est)
    except NotFittedError:
        raise UnsupportedModelError(f"{type(est).__name__} is not fitted; fit it before exporting") from None

    n_in = int(getattr(est, "n_features_in_", 0))
    if feature_names is None:
        names_in = getattr(estimator, "feature_names_in_", None)
        if names_in is None:
            raise ValueError(
                f"{type(est).__name__} was not fitted on named columns: pass feature_names ({n_in} names)"
            )
        feature_names = [str(f) for f in names_in]
    features = [str(f) for f in feature_names]
    names_in = getattr(estimator, "feature_names_in_", None)
    if names_in is not None and list(map(str, names_in)) != features:
        raise ValueError(f"feature_names {features} differ from the names the model was fitted on {list(names_in)}")
    if n_in and n_in != len(features):
        raise ValueError(f"{type(est).__name__} expects {n_in} features, {len(features)} names given")
    n = len(features)

    if isinstance(est, MLPRegressor):
        body, info = _autoencoder_body(est, n)
    else:
        body, info = _linear_body(est, n)
    logit = body.get("link") == "logit"

    model: dict = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "name": name, "features": features}
    pre = _preprocessing(scaler, n)
    if pre is not None:
        model["preprocessing"] = pre
    model["model"] = body
    model["decision"] = {"threshold": 0.0}  # placeholder until chosen below
    if scale_bits is not None:
        model["quantization"] = {"scale_bits": int(scale_bits)}

    if threshold is not None and probability_threshold is not None:
        raise ValueError("give either threshold or probability_threshold, not both")
    if probability_threshold is not None and not logit:
        raise ValueError(
            f"probability_threshold needs a logit score; {type(est).__name__} exports a {body['family']} "
            f"model with link {body.get('link', 'n/a')!r}: give threshold in the score's domain"
        )
    if threshold is not None:
        decision_info = {"method": "given", "threshold": float(threshold)}
        model["decision"]["threshold"] = float(threshold)
    elif probability_threshold is not None:
        model["decision"]["threshold"] = logit_threshold(probability_threshold)
        decision_info = {"method": "probability threshold p, threshold = log(p/(1-p))", "probability": float(probability_threshold)}
    elif calibrate_on is not None:
        validate_model(model)
        thr, decision_info = calibrate_threshold(model, calibrate_on, max_false_positive_rate, margin_samples)
        model["decision"]["threshold"] = thr
    elif logit:
        model["decision"]["threshold"] = 0.0
        decision_info = {"method": "default probability threshold p = 0.5, threshold = logit(0.5) = 0", "probability": 0.5}
    else:
        raise ValueError(
            f"a {body['family']} model from {type(est).__name__} needs a decision threshold: "
            "pass threshold= (CLI --threshold) or normal samples to calibrate on, calibrate_on= (CLI --calibrate-csv)"
        )

    source: dict = {
        "exporter": EXPORTER,
        "exporter_version": EXPORTER_VERSION,
        "libraries": {"scikit-learn": sklearn.__version__, "numpy": np.__version__},
        "estimator": _qualname(est),
        "pipeline": steps,
        "params": _json_params(est),
    }
    n_iter = getattr(est, "n_iter_", None)
    if n_iter is not None:
        source["n_iter"] = int(np.max(n_iter))
    source.update(info)
    source["decision"] = decision_info
    if description:
        source["training"] = description
    if source_extra:
        source.update(source_extra)
    model["source"] = source
    validate_model(model)
    return model
