"""Fitted scikit-learn estimators and pipelines (and XGBoost models) -> zkguard model dicts.

This is the exporters' front end (``docs/MODEL_FORMAT.md``): pipeline steps, feature names, the
decision threshold and the ``source`` provenance; the linear and autoencoder bodies are built here,
tree ensembles by :mod:`zkguard.exporters.trees`. Supported:

* an optional ``StandardScaler`` (bare or as the first ``Pipeline`` step) -> ``preprocessing``;
* ``LogisticRegression`` (binary) -> ``linear`` with ``link = "logit"`` (score = logit of the
  second class, ``classes_[1]``);
* ``SGDClassifier`` (binary) -> ``linear``, ``link = "logit"`` for ``loss="log_loss"``, else
  ``"identity"`` (the score is ``decision_function``);
* ``LinearRegression``, ``SGDRegressor``, ``Ridge``, ``Lasso``, ``ElasticNet`` (single output)
  -> ``linear`` with ``link = "identity"``;
* ``MLPRegressor`` trained as an autoencoder (outputs = inputs; hidden activation ``relu`` or
  ``identity``) -> ``mlp_autoencoder``;
* ``DecisionTreeClassifier``, ``RandomForestClassifier``, ``GradientBoostingClassifier`` (binary),
  ``IsolationForest`` and ``xgboost.XGBClassifier`` (``binary:logistic``) -> ``tree_ensemble``,
  a ``StandardScaler`` before them folded into the thresholds; a bare ``xgboost.Booster`` through
  :func:`export_xgboost`.

Everything else is refused with :class:`UnsupportedModelError` naming the step / estimator.
"""

from __future__ import annotations

import json
import math
from typing import Any, Sequence

import numpy as np
import sklearn
from sklearn.base import is_classifier
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

from . import reference, trees
from .schema import FORMAT_NAME, FORMAT_VERSION, UnsupportedModelError, logit_threshold, validate_model

EXPORTER = "zkguard scripts/export_model.py"
EXPORTER_VERSION = 1

LINEAR_CLASSIFIERS = (LogisticRegression, SGDClassifier)
LINEAR_REGRESSORS = (LinearRegression, SGDRegressor, Ridge, Lasso, ElasticNet)
AUTOENCODER_ACTIVATIONS = ("relu", "identity")
SUPPORTED = (
    "LogisticRegression, SGDClassifier (binary; family linear), LinearRegression, SGDRegressor, "
    "Ridge, Lasso, ElasticNet (single output; family linear), MLPRegressor trained as an "
    "autoencoder with relu/identity hidden layers (family mlp_autoencoder), DecisionTreeClassifier, "
    "RandomForestClassifier, GradientBoostingClassifier (binary), IsolationForest and "
    "xgboost.XGBClassifier (binary:logistic) (family tree_ensemble), optionally in a Pipeline "
    "after one StandardScaler"
)
# The decision threshold of a logit score when none is given (probability 0.5).
LOGIT_DEFAULT = (0.0, {"method": "default probability threshold p = 0.5, threshold = logit(0.5) = 0", "probability": 0.5})


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


def _plain(v):
    return v.item() if hasattr(v, "item") else v


_UNSET = object()


def _positive_index(est, positive_class=_UNSET) -> int:
    """The index in ``classes_`` of the flagged class.

    With labels 0/1 (or False/True) it is 1 and ``positive_class`` is optional; any other labels
    (strings, say) need ``positive_class=`` so that no class is flagged by alphabetical accident.
    """
    classes = [_plain(c) for c in _binary_classes(est)]
    if positive_class is _UNSET or positive_class is None:
        if set(classes) == {0, 1}:
            return 1
        raise ValueError(
            f"{type(est).__name__} has class labels {classes!r}: say which one the guard flags with "
            f"positive_class= (one of {classes!r}; CLI --positive-class)"
        )
    positive_class = _plain(positive_class)
    if positive_class not in classes:
        raise ValueError(f"positive_class={positive_class!r} is not one of the classifier's classes {classes!r}")
    return classes.index(positive_class)


def _class_info(est, positive: int = 1) -> dict:
    """``positive_class`` (the flagged one, ``classes_[positive]``) and ``negative_class``."""
    classes = _binary_classes(est)
    return {"positive_class": _plain(classes[positive]), "negative_class": _plain(classes[1 - positive])}


def _linear_body(est, n: int, positive: int = 1) -> tuple[dict, dict]:
    """``(model body, provenance)`` of a linear estimator (``positive``: see :func:`_positive_index`)."""
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
        info.update(_class_info(est, positive))
        if positive == 0:  # the score of classes_[0] is the negated decision_function
            weights, intercept = [-w for w in weights], [-b for b in intercept]
        if isinstance(est, LogisticRegression) or getattr(est, "loss", None) == "log_loss":
            link = "logit"
            info["score"] = f"logit of P(class {info['positive_class']!r}) = {'-' if positive == 0 else ''}decision_function"
        else:
            link = "identity"
            info["score"] = (
                f"{'-' if positive == 0 else ''}decision_function (loss={est.loss!r}); positive = class {info['positive_class']!r}"
            )
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


def _choose_threshold(
    model: dict,
    what: str,
    score: str,
    domain: str | None,
    default: tuple[float, dict] | None,
    *,
    threshold: float | None,
    probability_threshold: float | None,
    calibrate_on,
    max_false_positive_rate: float,
    margin_samples,
) -> dict:
    """Sets ``model["decision"]["threshold"]`` (see :func:`export_sklearn`); returns its provenance.

    ``domain`` says what the score is: ``"logit"`` (a probability threshold p becomes log(p/(1-p))),
    ``"probability"`` (p is the threshold) or None (no probability threshold); ``default`` is the
    threshold used when none is asked for (None: one must be asked for).
    """
    if threshold is not None and probability_threshold is not None:
        raise ValueError("give either threshold or probability_threshold, not both")
    if probability_threshold is not None and domain is None:
        raise ValueError(
            f"probability_threshold needs a logit or probability score; {what} exports a {model['model']['family']} "
            f"model whose score is {score}: give threshold in the score's domain"
        )
    if threshold is not None:
        model["decision"]["threshold"] = float(threshold)
        return {"method": "given", "threshold": float(threshold)}
    if probability_threshold is not None and domain == "logit":
        model["decision"]["threshold"] = logit_threshold(probability_threshold)
        return {
            "method": "probability threshold p, threshold = log(p/(1-p))",
            "probability": float(probability_threshold),
        }
    if probability_threshold is not None:
        if not 0.0 < float(probability_threshold) < 1.0:
            raise ValueError(f"a probability threshold must be in (0, 1), got {probability_threshold!r}")
        model["decision"]["threshold"] = float(probability_threshold)
        return {
            "method": "probability threshold p on a probability score, threshold = p",
            "probability": float(probability_threshold),
        }
    if calibrate_on is not None:
        validate_model(model)
        thr, info = calibrate_threshold(model, calibrate_on, max_false_positive_rate, margin_samples)
        model["decision"]["threshold"] = thr
        return info
    if default is not None:
        model["decision"]["threshold"] = float(default[0])
        return dict(default[1])  # a copy: the defaults are shared
    raise ValueError(
        f"a {model['model']['family']} model from {what} needs a decision threshold: "
        "pass threshold= (CLI --threshold) or normal samples to calibrate on, calibrate_on= (CLI --calibrate-csv)"
    )


def _finish(
    name: str,
    features: list[str],
    preprocessing: dict | None,
    body: dict,
    info: dict,
    source: dict,
    what: str,
    domain: str | None,
    default: tuple[float, dict] | None,
    *,
    description: str | None,
    source_extra: dict | None,
    scale_bits: int | None,
    **threshold_args,
) -> dict:
    """Assembles, thresholds and validates the model dict; ``source`` is the provenance so far."""
    model: dict = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "name": name, "features": features}
    if preprocessing is not None:
        model["preprocessing"] = preprocessing
    model["model"] = body
    model["decision"] = {"threshold": 0.0}  # placeholder until chosen below
    if scale_bits is not None:
        model["quantization"] = {"scale_bits": int(scale_bits)}
    decision_info = _choose_threshold(model, what, info["score"], domain, default, **threshold_args)
    source = dict(source)
    source.update(info)
    source["decision"] = decision_info
    if description:
        source["training"] = description
    if source_extra:
        source.update(source_extra)
    model["source"] = source
    validate_model(model)
    return model


def _feature_list(n_in: int, feature_names: Sequence[str] | None, fitted_names, what: str) -> list[str]:
    """The file's feature names: ``feature_names``, else the names the model was fitted on."""
    if feature_names is None:
        if fitted_names is None:
            raise ValueError(f"{what} was not fitted on named columns: pass feature_names ({n_in} names)")
        feature_names = fitted_names
    features = [str(f) for f in feature_names]
    if fitted_names is not None and [str(f) for f in fitted_names] != features:
        raise ValueError(f"feature_names {features} differ from the names the model was fitted on {list(fitted_names)}")
    if n_in and n_in != len(features):
        raise ValueError(f"{what} expects {n_in} features, {len(features)} names given")
    return features


def _libraries(est) -> dict:
    libs = {"scikit-learn": sklearn.__version__, "numpy": np.__version__}
    if isinstance(est, trees.XGBOOST_MODELS):
        libs["xgboost"] = trees.xgboost.__version__
    return libs


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
    vote: bool = False,
    positive_class=None,
) -> dict:
    """Converts a fitted estimator (or ``Pipeline(StandardScaler, estimator)``) to a model dict.

    The decision threshold is, in order of precedence:

    * ``threshold`` -- in the score's own domain (the logit for logistic models);
    * ``probability_threshold`` -- logit scores (logistic models, gradient boosting, XGBoost):
      converted to ``log(p / (1 - p))``; probability scores (decision tree, random forest): ``p``;
    * ``calibrate_on`` -- samples of the normal (unflagged) class, optionally ``margin_samples``:
      see :func:`calibrate_threshold`;
    * the model's default: probability 0.5 for classifiers (threshold 0.0 for a logit, 0.5 for a
      probability), ``log2(-offset_)`` for ``IsolationForest`` (its own ``predict``).

    ``vote=True`` exports a ``RandomForestClassifier`` as a hard majority vote (see
    :mod:`zkguard.exporters.trees`). A classifier whose labels are not 0/1 needs
    ``positive_class=`` (the label the guard flags); the file's ``source.positive_class`` says which
    class is flagged either way. ``description`` (free text about the training data) and
    ``source_extra`` go to ``source``. The result is validated as zkguard would validate it; write
    it with ``write_model``.
    """
    scaler, est, steps = _split_pipeline(estimator)
    if not isinstance(est, LINEAR_CLASSIFIERS + LINEAR_REGRESSORS + (MLPRegressor,) + trees.TREE_MODELS):
        raise UnsupportedModelError(
            f"unsupported estimator {type(est).__name__} ({_qualname(est)}); zkguard model files support {SUPPORTED}"
        )
    if trees.xgboost is not None and isinstance(est, trees.xgboost.Booster):
        raise UnsupportedModelError("export a bare xgboost.Booster with export_xgboost (CLI: export_model.py xgboost)")
    try:
        check_is_fitted(est)
    except NotFittedError:
        raise UnsupportedModelError(f"{type(est).__name__} is not fitted; fit it before exporting") from None

    what = type(est).__name__
    n_in = int(getattr(est, "n_features_in_", 0))
    features = _feature_list(n_in, feature_names, getattr(estimator, "feature_names_in_", None), what)
    n = len(features)
    preprocessing = _preprocessing(scaler, n)

    if isinstance(est, trees.TREE_MODELS):
        positive = _positive_index(est, positive_class) if is_classifier(est) else 1  # refuses multiclass first
        classes = _class_info(est, positive) if is_classifier(est) else {}
        fold = None if preprocessing is None else (preprocessing["mean"], preprocessing["scale"])
        body, info, domain, default = trees.tree_body(est, n, fold, vote=vote, positive=positive)
        info = {**classes, **info}
        if fold is not None:
            info["standard_scaler"] = "folded into the thresholds: t_raw = t * scale[j] + mean[j] (no preprocessing)"
        preprocessing = None
    else:
        if vote:
            raise ValueError(f"vote=True is for RandomForestClassifier, not {what}")
        if isinstance(est, MLPRegressor):
            body, info = _autoencoder_body(est, n)
        else:
            positive = _positive_index(est, positive_class) if isinstance(est, LINEAR_CLASSIFIERS) else 1
            body, info = _linear_body(est, n, positive)
        domain = "logit" if body.get("link") == "logit" else None
        default = LOGIT_DEFAULT if domain == "logit" else None

    source: dict = {
        "exporter": EXPORTER,
        "exporter_version": EXPORTER_VERSION,
        "libraries": _libraries(est),
        "estimator": _qualname(est),
        "pipeline": steps,
        "params": _json_params(est),
    }
    n_iter = getattr(est, "n_iter_", None)
    if n_iter is not None:
        source["n_iter"] = int(np.max(n_iter))
    return _finish(
        name, features, preprocessing, body, info, source, what, domain, default,
        description=description, source_extra=source_extra, scale_bits=scale_bits, threshold=threshold,
        probability_threshold=probability_threshold, calibrate_on=calibrate_on,
        max_false_positive_rate=max_false_positive_rate, margin_samples=margin_samples,
    )


def export_xgboost(
    model,
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
    """Converts a fitted ``xgboost.Booster`` (``binary:logistic``) to a model dict.

    ``XGBClassifier`` and pipelines go through :func:`export_sklearn` (with the same options).
    The feature names default to the booster's ``feature_names``; without them the booster's
    feature ``i`` (``f<i>`` in its dumps) is ``feature_names[i]``. The threshold options are
    those of :func:`export_sklearn` (default: margin 0, probability 0.5).
    """
    options = dict(
        name=name, threshold=threshold, probability_threshold=probability_threshold, calibrate_on=calibrate_on,
        max_false_positive_rate=max_false_positive_rate, margin_samples=margin_samples, description=description,
        source_extra=source_extra, scale_bits=scale_bits,
    )
    xgboost = trees.xgboost
    if xgboost is None:
        raise UnsupportedModelError("export_xgboost needs the xgboost package (pip install xgboost)")
    if isinstance(model, (xgboost.XGBClassifier, Pipeline)):
        return export_sklearn(model, feature_names, **options)
    if not isinstance(model, xgboost.Booster):
        raise UnsupportedModelError(
            f"export_xgboost needs an xgboost.Booster or XGBClassifier, not {type(model).__name__}"
        )
    features = _feature_list(model.num_features(), feature_names, model.feature_names, "the XGBoost booster")
    body, info, domain, default = trees.tree_body(model, len(features))
    config = json.loads(model.save_config())["learner"]
    source: dict = {
        "exporter": EXPORTER,
        "exporter_version": EXPORTER_VERSION,
        "libraries": _libraries(model),
        "estimator": _qualname(model),
        "pipeline": ["Booster"],
        "params": config["gradient_booster"]["tree_train_param"],
    }
    return _finish(
        name, features, None, body, info, source, "the XGBoost booster", domain, default,
        description=description, source_extra=source_extra, scale_bits=scale_bits, threshold=threshold,
        probability_threshold=probability_threshold, calibrate_on=calibrate_on,
        max_false_positive_rate=max_false_positive_rate, margin_samples=margin_samples,
    )
