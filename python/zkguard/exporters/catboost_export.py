"""CatBoost models -> zkguard ``tree_ensemble`` model dicts.

A binary CatBoost model (``Logloss``; ``CatBoostClassifier`` or ``CatBoost``) is read from its
native JSON dump (``save_model(format="json")``). CatBoost trees are *oblivious*: every node of
level ``j`` tests the same split ``x[f_j] > border_j``, and the leaf index has bit ``j`` set when
that split goes right. Each becomes a complete binary tree of the same depth whose level ``j``
tests split ``j``. CatBoost compares float32 features with float32 borders, going left iff
``f32(x) <= border``; zkguard's ``lt`` rule goes left iff ``f32(x) < f32(t)``, so ``t`` is the
next float32 above the border (exact). The raw score is ``scale * sum(leaves) + bias``: leaves are
multiplied by ``scale``, ``base_score = bias``; the score is the log-odds, default threshold 0.

Refused, naming what: non-binary losses, categorical / text / embedding features, non-oblivious
trees, multi-dimensional leaves.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any, Sequence

import numpy as np

from .schema import UnsupportedModelError
from .sklearn_export import EXPORTER, EXPORTER_VERSION, LOGIT_DEFAULT, _class_info, _feature_list, _finish, _positive_index
from .trees import _body, _build_tree


def _dump(model: Any) -> dict:
    fd, path = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    try:
        model.save_model(path, format="json")
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    finally:
        os.unlink(path)


def _next_f32_up(border: float) -> float:
    b = np.float32(border)
    return float(np.nextafter(b, np.float32(np.inf), dtype=np.float32))


def _oblivious(tree: dict, k: int, flat: list[int], scale: float, sign: float) -> tuple[list[dict], int]:
    splits = tree.get("splits") or []
    for s in splits:
        if s.get("split_type") != "FloatFeature":
            raise UnsupportedModelError(
                f"CatBoost tree {k} has a {s.get('split_type')!r} split; only numerical (FloatFeature) splits are supported"
            )
    depth = len(splits)
    leaves = tree["leaf_values"]
    if len(leaves) != 1 << depth:
        raise UnsupportedModelError(
            f"CatBoost tree {k} has {len(leaves)} leaf values for depth {depth}: only single-dimension leaves"
        )
    # Complete tree in preorder: a node is (level, leaf index bits so far); ids assigned on the fly.
    ids: dict[tuple[int, int], int] = {}
    keys: list[tuple[int, int]] = []  # id -> (level, bits)

    def node_id(level: int, bits: int) -> int:
        if (level, bits) not in ids:
            ids[(level, bits)] = len(keys)
            keys.append((level, bits))
        return ids[(level, bits)]

    def split_of(i: int):
        level, bits = keys[i]
        if level == depth:
            return None
        s = splits[level]
        left, right = node_id(level + 1, bits), node_id(level + 1, bits | (1 << level))
        return flat[s["float_feature_index"]], _next_f32_up(s["border"]), left, right

    def value_of(i: int, d: int) -> float:
        _, bits = keys[i]
        return sign * (scale * float(leaves[bits]))

    node_id(0, 0)
    return _build_tree(split_of, value_of, f"CatBoost tree {k}")


def export_catboost(
    model: Any,
    feature_names: Sequence[str] | None = None,
    *,
    name: str,
    positive_class=None,
    description: str | None = None,
    source_extra: dict | None = None,
    scale_bits: int | None = None,
    **threshold_args: Any,
) -> dict:
    """Converts a fitted binary ``CatBoostClassifier`` to a model dict.

    ``feature_names`` default to the model's own (``feature_names_``, when they are not CatBoost's
    ``"0"``, ``"1"``... placeholders). The threshold options are those of
    :func:`zkguard.exporters.export_sklearn`; ``positive_class`` as there.
    """
    import catboost

    if not isinstance(model, catboost.CatBoost):
        raise UnsupportedModelError(f"export_catboost needs a CatBoostClassifier, not {type(model).__name__}")
    if not model.is_fitted():
        raise UnsupportedModelError(f"{type(model).__name__} is not fitted; fit it before exporting")
    dump = _dump(model)
    loss = dump.get("model_info", {}).get("params", {}).get("loss_function", {}).get("type")
    if loss not in ("Logloss", "CrossEntropy"):
        raise UnsupportedModelError(f"CatBoost loss {loss!r} is not supported; only binary Logloss / CrossEntropy")
    info_f = dump.get("features_info", {})
    for kind in ("categorical_features", "text_features", "embedding_features"):
        if info_f.get(kind):
            raise UnsupportedModelError(f"the CatBoost model has {kind.replace('_', ' ')}; only numerical features")
    if "trees" in dump or "non_symmetric_trees" in dump:
        raise UnsupportedModelError("the CatBoost model has non-oblivious trees (grow_policy); only SymmetricTree")
    flat = [int(f["flat_feature_index"]) for f in info_f.get("float_features", [])]
    scale, bias = dump["scale_and_bias"]
    bias = bias[0] if isinstance(bias, list) else bias
    if isinstance(bias, list):
        raise UnsupportedModelError("the CatBoost model has several outputs; only binary models")
    names = list(getattr(model, "feature_names_", None) or [])
    fitted = None if all(n == str(i) for i, n in enumerate(names)) else names
    features = _feature_list(len(flat), feature_names, fitted, "the CatBoost model")

    info: dict = {}
    sign = 1.0
    classes = getattr(model, "classes_", None)
    if classes is not None and len(classes):
        positive = _positive_index(model, positive_class)
        info.update(_class_info(model, positive))
        sign = 1.0 if positive == 1 else -1.0
    built = [_oblivious(t, k, flat, float(scale), sign) for k, t in enumerate(dump["oblivious_trees"])]
    body, stats = _body("gradient_boosting", "lt", sign * float(bias), built)
    info.update({
        "score": ("-" if sign < 0 else "") + "the raw formula value (log-odds) = predict(prediction_type='RawFormulaVal'); "
        "oblivious trees as complete trees, leaves = scale * value, base_score = bias",
        "loss_function": loss,
        "scale_and_bias": [float(scale), float(bias)],
        "split_rule": "lt with t = next float32 above the border: left iff f32(x) <= border, as CatBoost",
        "trees": stats,
    })
    source = {
        "exporter": EXPORTER,
        "exporter_version": EXPORTER_VERSION,
        "libraries": {"catboost": catboost.__version__},
        "estimator": f"{type(model).__module__}.{type(model).__qualname__}",
        "pipeline": [type(model).__name__],
        "params": {k: v for k, v in sorted(model.get_params().items()) if isinstance(v, (bool, int, float, str))},
    }
    return _finish(
        name, features, None, body, info, source, "the CatBoost model", "logit", LOGIT_DEFAULT,
        description=description, source_extra=source_extra, scale_bits=scale_bits,
        **{"threshold": None, "probability_threshold": None, "calibrate_on": None,
           "max_false_positive_rate": 0.05, "margin_samples": None, **threshold_args},
    )
