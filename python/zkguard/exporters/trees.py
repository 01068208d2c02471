"""Tree models -> ``tree_ensemble`` model bodies (``docs/MODEL_FORMAT.md``, "Tree ensembles").

This module owns the mapping of each supported tree model to the format: the nodes of every tree
(renumbered in preorder from the root, node 0), the leaf values, ``base_score``, the split rule
and the default decision threshold. ``score = base_score + sum of the leaves reached``, and
``T`` is the number of trees:

* ``DecisionTreeClassifier`` -> ``decision_tree``, split ``le``: leaf = ``P(classes_[1])`` at the
  leaf, base 0, threshold 0.5 (``predict``);
* ``RandomForestClassifier`` -> ``random_forest``, ``le``: leaf = ``P(classes_[1]) / T`` (the sum
  is ``predict_proba``'s mean), base 0, threshold 0.5; with ``vote=True`` leaf = ``[P > 0.5] / T``
  (the fraction of trees voting 1), threshold ``(T // 2 + 0.5) / T`` (a strict majority);
* ``GradientBoostingClassifier`` (binary, ``log_loss``) -> ``gradient_boosting``, ``le``: leaf =
  ``learning_rate * value``, base = the init raw prediction (the prior's log-odds), threshold 0
  (the score is ``decision_function``);
* ``XGBClassifier`` / ``Booster`` (``binary:logistic``) -> ``xgboost``, ``lt`` (float32): leaf =
  the float32 leaf value, base = ``logit(base_score)`` as xgboost computes it in float32,
  threshold 0 (the score is the margin);
* ``IsolationForest`` -> ``isolation_forest``, ``le``: leaf = ``-(depth + c(n_leaf)) / (T *
  c(max_samples_))``, base 0 (the score is ``log2(-score_samples)``), threshold
  ``log2(-offset_)`` (flagged = ``predict == -1``).

``c`` is scikit-learn's average path length. A ``StandardScaler`` in front of the model is folded
into the thresholds: a split on standardized feature ``j`` at ``t`` becomes a split on the raw
feature at ``t * scale[j] + mean[j]`` (``scale > 0`` keeps the direction), so tree models never
carry ``preprocessing``.

The front ends (pipelines, feature names, thresholds, provenance) are in
:mod:`zkguard.exporters.sklearn_export`.
"""

from __future__ import annotations

import json
import math
from typing import Callable, NamedTuple, Sequence

import numpy as np

try:  # XGBoost is optional: without it, its models are simply not among the supported ones
    import xgboost
except ImportError:  # pragma: no cover - the test environment has it
    xgboost = None
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import GradientBoostingClassifier, IsolationForest, RandomForestClassifier
# sklearn's own c(n) = 2 H(n-1) - 2 (n-1) / n (c(1) = 0, c(2) = 1), vectorized; private, pinned version
from sklearn.ensemble._iforest import _average_path_length
from sklearn.tree import DecisionTreeClassifier

from .schema import MAX_TREE_DEPTH, UnsupportedModelError

SKLEARN_TREE_MODELS = (DecisionTreeClassifier, RandomForestClassifier, GradientBoostingClassifier, IsolationForest)
XGBOOST_MODELS = (xgboost.XGBClassifier, xgboost.Booster) if xgboost is not None else ()
TREE_MODELS = SKLEARN_TREE_MODELS + XGBOOST_MODELS

# A StandardScaler's (mean, scale), folded into the thresholds; None: the model saw raw features.
Fold = tuple[Sequence[float], Sequence[float]] | None


class TreeBody(NamedTuple):
    """A ``tree_ensemble`` body and what the exporter front end needs to finish the model."""

    body: dict  # the file's `model` object
    info: dict  # provenance for `source`
    domain: str | None  # what the score is: "probability", "logit" (margin) or None (neither)
    default: tuple[float, dict]  # the default decision threshold and its provenance


def _folded(fold: Fold, j: int, t: float) -> float:
    """Threshold ``t`` on (standardized) feature ``j`` in raw units: ``t * scale[j] + mean[j]``."""
    if fold is None:
        return t
    mean, scale = fold
    return t * scale[j] + mean[j]


def _build_tree(
    split_of: Callable[[int], tuple[int, float, int, int] | None],
    value_of: Callable[[int, int], float],
    where: str,
) -> tuple[list[dict], int]:
    """``(nodes, depth)``: the nodes reachable from node 0, renumbered in preorder (root 0).

    ``split_of(i)`` gives a split node's ``(feature, threshold, left, right)`` (source ids) or None
    for a leaf; ``value_of(i, depth)`` gives a leaf's value.
    """
    order: list[tuple[int, int]] = []
    splits: dict[int, tuple[int, float, int, int] | None] = {}
    stack = [(0, 0)]
    while stack:
        i, d = stack.pop()
        if i in splits:
            raise UnsupportedModelError(f"{where}: node {i} is reached twice, so this is not a tree")
        splits[i] = split_of(i)
        order.append((i, d))
        if splits[i] is not None:
            _, _, left, right = splits[i]
            stack += [(right, d + 1), (left, d + 1)]  # left popped first: preorder
    depth = max(d for _, d in order)
    if depth > MAX_TREE_DEPTH:
        raise UnsupportedModelError(
            f"{where} has depth {depth}; zkguard trees have depth <= {MAX_TREE_DEPTH}: "
            f"retrain with max_depth <= {MAX_TREE_DEPTH}"
        )
    new_id = {i: k for k, (i, _) in enumerate(order)}
    nodes = []
    for i, d in order:
        split = splits[i]
        if split is None:
            nodes.append({"value": float(value_of(i, d))})
        else:
            feature, threshold, left, right = split
            nodes.append(
                {"feature": int(feature), "threshold": float(threshold), "left": new_id[left], "right": new_id[right]}
            )
    return nodes, depth


def _sklearn_tree(tree, columns: Sequence[int], fold: Fold, value_of, where: str) -> tuple[list[dict], int]:
    """Nodes of a fitted ``sklearn.tree._tree.Tree``; its feature ``j`` is model column ``columns[j]``."""
    left, right, feature, threshold = tree.children_left, tree.children_right, tree.feature, tree.threshold

    def split_of(i: int):
        if left[i] == -1:  # scikit-learn marks leaves with children -1
            return None
        j = int(columns[feature[i]])
        return j, _folded(fold, j, float(threshold[i])), int(left[i]), int(right[i])

    return _build_tree(split_of, value_of, where)


def _p1(tree, positive: int = 1):
    """``P(classes_[positive])`` at node ``i`` exactly as ``predict_proba`` computes it (value row / its sum).

    ``positive`` is the index of the flagged class (1 unless ``positive_class=`` chose ``classes_[0]``).
    """
    value = tree.value[:, 0, :]
    return lambda i: float(value[i, positive] / (value[i, 0] + value[i, 1]))


def _stats(trees: list[dict], depths: list[int]) -> dict:
    nodes = sum(len(t["nodes"]) for t in trees)
    leaves = sum(1 for t in trees for nd in t["nodes"] if "value" in nd)
    return {"count": len(trees), "max_depth": max(depths), "nodes": nodes, "leaves": leaves}


def _body(kind: str, split: str, base: float, built: list[tuple[list[dict], int]]) -> tuple[dict, dict]:
    trees = [{"nodes": nodes} for nodes, _ in built]
    body = {"family": "tree_ensemble", "kind": kind, "split": split, "base_score": float(base), "trees": trees}
    return body, _stats(trees, [d for _, d in built])


def _check_single_output(est) -> None:
    if est.n_outputs_ != 1:
        raise UnsupportedModelError(f"{type(est).__name__} has {est.n_outputs_} outputs; zkguard models have one score")


def _decision_tree(est: DecisionTreeClassifier, n: int, fold: Fold, positive: int = 1) -> TreeBody:
    _check_single_output(est)
    p1 = _p1(est.tree_, positive)
    built = [_sklearn_tree(est.tree_, range(n), fold, lambda i, d: p1(i), "the tree")]
    body, stats = _body("decision_tree", "le", 0.0, built)
    info = {"score": "P(classes_[1]) at the leaf = predict_proba[:, 1]", "trees": stats}
    default = (0.5, {
        "method": "default probability threshold 0.5: predict gives classes_[1] iff P(classes_[1]) > 0.5",
        "probability": 0.5,
    })
    return TreeBody(body, info, "probability", default)


def _random_forest(est: RandomForestClassifier, n: int, fold: Fold, vote: bool, positive: int = 1) -> TreeBody:
    _check_single_output(est)
    T = len(est.estimators_)
    built = []
    for k, tree in enumerate(est.estimators_):
        p1 = _p1(tree.tree_, positive)
        vote_or_p = (lambda i, p1=p1: 1.0 if p1(i) > 0.5 else 0.0) if vote else p1
        built.append(_sklearn_tree(tree.tree_, range(n), fold, lambda i, d, v=vote_or_p: v(i) / T, f"tree {k}"))
    body, stats = _body("random_forest", "le", 0.0, built)
    if vote:
        info = {"score": f"fraction of the {T} trees whose leaf has P(classes_[1]) > 0.5 (hard votes)", "vote": True}
        default = ((T // 2 + 0.5) / T, {
            "method": "majority vote: flagged iff more than half of the T trees vote classes_[1]; "
            "threshold = (floor(T/2) + 0.5) / T lies between two possible vote fractions",
            "trees": T,
        })
        return TreeBody(body, {**info, "trees": stats}, None, default)
    info = {"score": f"mean over the {T} trees of P(classes_[1]) = predict_proba[:, 1]", "vote": False, "trees": stats}
    default = (0.5, {
        "method": "default probability threshold 0.5: predict gives classes_[1] iff the mean P(classes_[1]) > 0.5",
        "probability": 0.5,
    })
    return TreeBody(body, info, "probability", default)


def _gradient_boosting(est: GradientBoostingClassifier, n: int, fold: Fold, positive: int = 1) -> TreeBody:
    if est.loss != "log_loss":
        raise UnsupportedModelError(
            f"GradientBoostingClassifier(loss={est.loss!r}) is not supported; use loss='log_loss'"
        )
    if est.n_trees_per_iteration_ != 1:
        raise UnsupportedModelError(
            f"GradientBoostingClassifier has {est.n_trees_per_iteration_} trees per stage; only binary models"
        )
    if not (est.init_ == "zero" or (isinstance(est.init_, DummyClassifier) and est.init_.strategy == "prior")):
        raise UnsupportedModelError(
            f"GradientBoostingClassifier(init={est.init!r}): only init=None (the class prior) or 'zero' "
            "give a constant base score"
        )
    # The raw prediction before any tree: sklearn's own computation (the logit of the prior, or 0).
    sign = 1.0 if positive == 1 else -1.0  # the log-odds of classes_[0] are the negated ones
    base = sign * float(est._raw_predict_init(np.zeros((1, n)))[0, 0])
    lr = float(est.learning_rate)
    built = []
    for k, tree in enumerate(est.estimators_[:, 0]):
        value = tree.tree_.value
        built.append(
            _sklearn_tree(tree.tree_, range(n), fold, lambda i, d, v=value: sign * (lr * float(v[i, 0, 0])), f"stage {k}")
        )
    body, stats = _body("gradient_boosting", "le", base, built)
    info = {
        "score": "decision_function: the log-odds of classes_[1]; base_score = the init raw prediction, "
        "leaves = learning_rate * value",
        "learning_rate": lr,
        "trees": stats,
    }
    default = (0.0, {
        "method": "default probability threshold p = 0.5, threshold = logit(0.5) = 0 (predict uses decision_function >= 0: "
        "the same except for a score of exactly 0)",
        "probability": 0.5,
    })
    return TreeBody(body, info, "logit", default)


def _isolation_forest(est: IsolationForest, n: int, fold: Fold) -> TreeBody:
    T = len(est.estimators_)
    denominator = T * float(_average_path_length([est.max_samples_])[0])
    built = []
    for k, (tree, columns) in enumerate(zip(est.estimators_, est.estimators_features_)):
        c = _average_path_length(tree.tree_.n_node_samples)  # c(n_node_samples) of every node
        built.append(
            _sklearn_tree(tree.tree_, columns, fold, lambda i, d, c=c: -(d + float(c[i])) / denominator, f"tree {k}")
        )
    body, stats = _body("isolation_forest", "le", 0.0, built)
    offset = float(est.offset_)
    info = {
        "score": "log2(s), s = -score_samples = 2^(-mean path length / c(max_samples_)), sklearn's anomaly score; "
        "higher = more anomalous",
        "max_samples": int(est.max_samples_),
        "offset": offset,
        "trees": stats,
    }
    default = (math.log2(-offset), {
        "method": "sklearn's offset_: predict is -1 (anomaly) iff score_samples < offset_, "
        "i.e. log2(-score_samples) > log2(-offset_)",
        "contamination": est.contamination,
        "offset": offset,
    })
    return TreeBody(body, info, None, default)


def _xgboost(model, n: int, fold: Fold, positive: int = 1) -> TreeBody:
    booster = model.get_booster() if hasattr(model, "get_booster") else model
    learner = json.loads(booster.save_raw("json"))["learner"]
    objective = learner["objective"]["name"]
    if objective != "binary:logistic":
        raise UnsupportedModelError(f"XGBoost objective {objective!r} is not supported; only binary:logistic")
    gbm = learner["gradient_booster"]
    if gbm["name"] != "gbtree":
        raise UnsupportedModelError(f"XGBoost booster {gbm['name']!r} is not supported; only gbtree")
    param = learner["learner_model_param"]
    if int(param["num_feature"]) != n:
        raise UnsupportedModelError(f"the XGBoost model has {param['num_feature']} features, {n} names given")
    best = booster.attr("best_iteration")
    if best is not None and int(best) + 1 != booster.num_boosted_rounds():
        raise UnsupportedModelError(
            f"the XGBoost model was early-stopped at iteration {best} of {booster.num_boosted_rounds()}: "
            f"export the trees predict uses, booster[: {int(best) + 1}]"
        )
    trees = gbm["model"]["trees"]
    if any(group != 0 for group in gbm["model"]["tree_info"]):
        raise UnsupportedModelError("the XGBoost model has several output groups; only single-output binary models")
    # base_score is stored as a probability ("[3.7258348E-1]" in xgboost 3.x); the margin it starts
    # from is xgboost's float32 ProbToMargin: -log(1/p - 1).
    values = param["base_score"].strip("[]").split(",")
    if len(values) != 1:
        raise UnsupportedModelError(f"the XGBoost model has {len(values)} base scores; only single-output binary models")
    p = np.float32(values[0])
    sign = 1.0 if positive == 1 else -1.0  # the margin of classes_[0] is the negated margin
    base = sign * float(-np.log(np.float32(1.0) / p - np.float32(1.0)))

    built = []
    for k, tree in enumerate(trees):
        if any(t != 0 for t in tree["split_type"]):
            raise UnsupportedModelError(f"XGBoost tree {k} has categorical splits; only numerical splits are supported")
        left, right = tree["left_children"], tree["right_children"]
        feature, condition = tree["split_indices"], tree["split_conditions"]

        def split_of(i: int, left=left, right=right, feature=feature, condition=condition):
            if left[i] == -1:
                return None
            j = int(feature[i])
            # float32(condition) is the threshold XGBoost compares with, held exactly by a double
            return j, _folded(fold, j, float(np.float32(condition[i]))), int(left[i]), int(right[i])

        # A leaf's split_conditions entry is its value (learning rate applied), a float32.
        built.append(_build_tree(split_of, lambda i, d, c=condition: sign * float(np.float32(c[i])), f"XGBoost tree {k}"))
    body, stats = _body("xgboost", "lt", base, built)
    info = {
        "score": "the margin (log-odds) = predict(output_margin=True); base_score = logit(the model's base_score)",
        "objective": objective,
        "xgboost_base_score": float(p),
        "missing_values": "ignored: inputs are finite, so XGBoost's default directions never apply",
        "trees": stats,
    }
    default = (0.0, {
        "method": "default probability threshold p = 0.5, threshold = logit(0.5) = 0 (predict: sigmoid(margin) > 0.5)",
        "probability": 0.5,
    })
    return TreeBody(body, info, "logit", default)


def tree_body(est, n: int, fold: Fold = None, *, vote: bool = False, positive: int = 1) -> TreeBody:
    """The ``tree_ensemble`` body of a fitted tree model (one of :data:`TREE_MODELS`), ``n`` features.

    ``fold`` is a ``StandardScaler``'s ``(mean, scale)`` that fed the model, folded into the
    thresholds; ``vote`` selects hard majority voting for a ``RandomForestClassifier``; ``positive``
    is the index in ``classes_`` of the flagged class (1, or 0 when ``positive_class=`` names the first).
    """
    if vote and not isinstance(est, RandomForestClassifier):
        raise ValueError(f"vote=True is for RandomForestClassifier, not {type(est).__name__}")
    if isinstance(est, DecisionTreeClassifier):
        return _decision_tree(est, n, fold, positive)
    if isinstance(est, RandomForestClassifier):
        return _random_forest(est, n, fold, vote, positive)
    if isinstance(est, GradientBoostingClassifier):
        return _gradient_boosting(est, n, fold, positive)
    if isinstance(est, IsolationForest):
        return _isolation_forest(est, n, fold)
    if isinstance(est, XGBOOST_MODELS):
        return _xgboost(est, n, fold, positive)
    raise UnsupportedModelError(f"{type(est).__name__} is not a supported tree model")
