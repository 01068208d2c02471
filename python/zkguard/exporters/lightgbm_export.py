"""LightGBM models -> zkguard ``tree_ensemble`` model dicts.

A binary LightGBM model (``objective = binary``, ``LGBMClassifier`` or ``lightgbm.Booster``) is
read from its native dump (``Booster.dump_model()``) and becomes a ``gradient_boosting``
ensemble with split rule ``le``: LightGBM goes left iff ``x <= threshold`` (thresholds are
doubles), and its raw score is the sum of the reached leaves (the initial score is folded into
the first tree), so ``base_score = 0`` and the score is the margin (the log-odds,
``predict(raw_score=True)``); the default threshold is 0 (probability 0.5).

Refused, naming what: multiclass and non-binary objectives, ``sigmoid != 1``, random-forest
mode (``average_output``), categorical splits, ``zero_as_missing`` splits (a zero input would take
the missing-value branch), trees deeper than the format allows.
"""

from __future__ import annotations

from typing import Any, Sequence

from .schema import UnsupportedModelError
from .sklearn_export import EXPORTER, EXPORTER_VERSION, LOGIT_DEFAULT, _feature_list, _finish, _positive_index, _class_info
from .trees import _body, _build_tree


def _booster(model: Any):
    import lightgbm

    if isinstance(model, lightgbm.Booster):
        return model, None
    if isinstance(model, lightgbm.LGBMModel):
        if not hasattr(model, "booster_"):
            raise UnsupportedModelError(f"{type(model).__name__} is not fitted; fit it before exporting")
        return model.booster_, model
    raise UnsupportedModelError(f"export_lightgbm needs an LGBMClassifier or lightgbm.Booster, not {type(model).__name__}")


def _tree(structure: dict, k: int) -> tuple[list[dict], int]:
    """Nodes of one dumped tree (nested dicts), renumbered in preorder."""
    by_id: dict[int, dict] = {}

    def walk(node: dict) -> int:
        i = len(by_id)
        by_id[i] = node
        if "leaf_value" not in node:
            node["_left"], node["_right"] = walk(node["left_child"]), walk(node["right_child"])
        return i

    walk(dict(structure))

    def split_of(i: int):
        node = by_id[i]
        if "leaf_value" in node:
            return None
        if node["decision_type"] != "<=":
            raise UnsupportedModelError(
                f"LightGBM tree {k} has a {node['decision_type']!r} (categorical) split on feature "
                f"{node['split_feature']}; only numerical splits are supported"
            )
        if node.get("missing_type") == "Zero":
            raise UnsupportedModelError(
                f"LightGBM tree {k} treats zero as missing (zero_as_missing=True): a zero input would take the "
                "missing-value branch; retrain with zero_as_missing=False"
            )
        return int(node["split_feature"]), float(node["threshold"]), node["_left"], node["_right"]

    return _build_tree(split_of, lambda i, d: float(by_id[i]["leaf_value"]), f"LightGBM tree {k}")


def export_lightgbm(
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
    """Converts a fitted binary ``LGBMClassifier`` / ``lightgbm.Booster`` to a model dict.

    ``feature_names`` default to the names the model was trained with (when they are not
    LightGBM's ``Column_<i>`` placeholders). The threshold options are those of
    :func:`zkguard.exporters.export_sklearn`; ``positive_class`` as there (an ``LGBMClassifier``
    with labels other than 0/1 needs it).
    """
    import lightgbm

    booster, clf = _booster(model)
    dump = booster.dump_model()
    objective = str(dump.get("objective", ""))
    parts = objective.split()
    if not parts or parts[0] != "binary":
        raise UnsupportedModelError(f"LightGBM objective {objective!r} is not supported; only binary (log loss)")
    if any(p.startswith("sigmoid:") and float(p.split(":")[1]) != 1.0 for p in parts[1:]):
        raise UnsupportedModelError(f"LightGBM {objective!r}: only sigmoid:1 (the plain log-odds) is supported")
    if dump.get("num_class", 1) != 1 or dump.get("num_tree_per_iteration", 1) != 1:
        raise UnsupportedModelError("the LightGBM model has several classes; only binary models are supported")
    if dump.get("average_output"):
        raise UnsupportedModelError("LightGBM random-forest mode (boosting='rf', average_output) is not supported")
    names = dump.get("feature_names") or []
    fitted = None if all(n == f"Column_{i}" for i, n in enumerate(names)) else names
    features = _feature_list(int(dump["max_feature_idx"]) + 1, feature_names, fitted, "the LightGBM model")

    sign, info = 1.0, {}
    if clf is not None:
        positive = _positive_index(clf, positive_class)
        info.update(_class_info(clf, positive))
        sign = 1.0 if positive == 1 else -1.0
    built = []
    for k, tree in enumerate(dump["tree_info"]):
        nodes, depth = _tree(tree["tree_structure"], k)
        if sign < 0:
            nodes = [{**nd, "value": -nd["value"]} if "value" in nd else nd for nd in nodes]
        built.append((nodes, depth))
    body, stats = _body("gradient_boosting", "le", 0.0, built)
    info.update({
        "score": ("-" if sign < 0 else "") + "the raw score (log-odds) = predict(raw_score=True); base_score 0 "
        "(LightGBM folds the initial score into the first tree)",
        "objective": objective,
        "missing_values": "ignored: inputs are finite, so LightGBM's default directions never apply",
        "trees": stats,
    })
    source = {
        "exporter": EXPORTER,
        "exporter_version": EXPORTER_VERSION,
        "libraries": {"lightgbm": lightgbm.__version__},
        "estimator": f"{type(model).__module__}.{type(model).__qualname__}",
        "pipeline": [type(model).__name__],
        "params": {k: v for k, v in sorted(booster.params.items()) if isinstance(v, (bool, int, float, str))},
    }
    return _finish(
        name, features, None, body, info, source, "the LightGBM model", "logit", LOGIT_DEFAULT,
        description=description, source_extra=source_extra, scale_bits=scale_bits,
        **{"threshold": None, "probability_threshold": None, "calibrate_on": None,
           "max_false_positive_rate": 0.05, "margin_samples": None, **threshold_args},
    )
