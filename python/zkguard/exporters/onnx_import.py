"""ONNX models -> zkguard model dicts: the one place ONNX is imported.

Two kinds of graphs are understood, as the real exporters write them:

* **Neural graphs** (``torch.onnx.export``, Keras 3 ``model.export(format="onnx")``, tf2onnx):
  a chain of dense layers -- ``Gemm``, or ``MatMul`` followed by ``Add`` -- with ``Relu`` between
  them, then either ``Sigmoid`` (the logistic link: one layer, one output -> ``linear`` with
  ``link = "logit"``), nothing (one layer, one output -> ``linear``, identity link; several layers
  back to the input width -> ``mlp_autoencoder``), or the reconstruction error of an autoencoder
  written out as ``Sub(reconstruction, input)``, ``Mul(d, d)`` (or ``Pow(d, 2)``) and ``ReduceSum``
  over the features (-> ``mlp_autoencoder``, whose score is exactly that sum). ``Identity``,
  ``Cast``, ``Flatten``, ``Dropout`` and a ``Reshape`` that keeps the (samples, features) shape
  pass values through; ``Shape``/``Gather``/``Unsqueeze``/``Concat``/``Constant`` may only compute
  shapes.
* **ai.onnx.ml graphs** (skl2onnx, onnxmltools): an optional ``Scaler`` (-> ``preprocessing``),
  then ``LinearClassifier`` (binary -> ``linear``, logit link), ``LinearRegressor`` (-> ``linear``),
  ``TreeEnsembleClassifier`` (binary) or ``TreeEnsembleRegressor`` (-> ``tree_ensemble``; ONNX
  compares float32 features with float32 thresholds, which zkguard's ``lt`` split reproduces
  exactly for every ``BRANCH_*`` mode but ``EQ``/``NEQ``), followed only by ``Identity``/``Cast`` or
  a multiplication by 1 of their outputs.

Anything else is refused with :class:`UnsupportedModelError` naming the op, its node and what is
supported. The tests check each committed fixture's imported float scores against onnxruntime.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .schema import UnsupportedModelError
from .sklearn_export import EXPORTER, EXPORTER_VERSION, LOGIT_DEFAULT, _finish
from .trees import _body, _build_tree

PASS_THROUGH = ("Identity", "Cast", "Flatten", "Dropout")
SHAPE_OPS = ("Shape", "Gather", "Unsqueeze", "Concat", "Constant", "ConstantOfShape", "Squeeze", "Slice")
SUPPORTED = (
    "Gemm, MatMul+Add, Relu, Sigmoid (the logistic link), Sub/Mul/Pow/ReduceSum (an autoencoder's "
    "reconstruction error), Identity, Cast, Flatten, Dropout, a shape-preserving Reshape (and the "
    "Shape/Gather/Unsqueeze/Concat/Constant that compute its shape); ai.onnx.ml Scaler, "
    "LinearClassifier (binary), LinearRegressor, TreeEnsembleClassifier (binary), TreeEnsembleRegressor"
)


def _refuse(node, why: str = "") -> UnsupportedModelError:
    domain = f"{node.domain}." if node.domain else ""
    return UnsupportedModelError(
        f"unsupported ONNX op {domain}{node.op_type} (node {node.name!r}){': ' + why if why else ''}; "
        f"zkguard imports {SUPPORTED}"
    )


def _attrs(node) -> dict:
    from onnx import helper, numpy_helper

    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        if hasattr(v, "raw_data") or a.type == a.TENSOR:
            v = numpy_helper.to_array(v)
        elif isinstance(v, bytes):
            v = v.decode()
        elif isinstance(v, list) and v and isinstance(v[0], bytes):
            v = [x.decode() for x in v]
        out[a.name] = v
    return out


@dataclass
class _Dense:
    """The data path of a neural graph: dense layers applied to the input so far."""

    layers: list = field(default_factory=list)  # [W (out x in), b (out), activation]
    width: int = 0
    sigmoid: bool = False
    diff: bool = False  # reconstruction - input
    squared: bool = False
    summed: bool = False


@dataclass
class _Ml:
    """A terminal ai.onnx.ml op's outputs (after an optional Scaler)."""

    node: Any
    output_index: int


def _f32_next_up(t: float) -> float:
    return float(np.nextafter(np.float32(t), np.float32(np.inf), dtype=np.float32))


def load_onnx(model: Any):
    """An ``onnx.ModelProto`` from a ModelProto, a path or serialized bytes."""
    import onnx

    if isinstance(model, onnx.ModelProto):
        return model
    if isinstance(model, (bytes, bytearray)):
        return onnx.load_from_string(bytes(model))
    return onnx.load(str(Path(model)))


def _trace(m) -> tuple[dict, Any, int]:
    """Walks the graph; returns ``(facts, terminal, n_features)``."""
    from onnx import numpy_helper

    g = m.graph
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    data_inputs = [i for i in g.input if i.name not in inits]
    if len(data_inputs) != 1:
        raise UnsupportedModelError(f"the ONNX graph has {len(data_inputs)} inputs; zkguard models take one feature vector")
    x = data_inputs[0]
    dims = [d.dim_value if d.HasField("dim_value") else None for d in x.type.tensor_type.shape.dim]
    if len(dims) != 2 or not dims[1]:
        raise UnsupportedModelError(f"the ONNX input {x.name!r} has shape {dims}; expected (samples, features)")
    n = int(dims[1])
    consts: dict[str, np.ndarray] = dict(inits)
    shape_vals: set[str] = set()
    vals: dict[str, Any] = {x.name: _Dense(width=n)}
    scaler = None
    terminal: Any = None
    for node in g.node:
        op, ins = node.op_type, list(node.input)
        a = _attrs(node)
        data = [vals.get(i) for i in ins]
        if op == "Constant":
            consts[node.output[0]] = np.asarray(a.get("value", a.get("value_float", a.get("value_floats", a.get("value_ints")))))
            continue
        if op in SHAPE_OPS:
            if any(isinstance(d, _Ml) for d in data):
                raise _refuse(node, "on a classifier's output")
            shape_vals.update(node.output)
            continue
        if node.domain == "ai.onnx.ml":
            src = data[0]
            if not isinstance(src, _Dense) or src.layers:
                raise _refuse(node, "ai.onnx.ml ops must read the model input (after at most one Scaler)")
            if op == "Scaler":
                if scaler is not None:
                    raise _refuse(node, "a second Scaler")
                scaler = (np.asarray(a["offset"], dtype=np.float64), np.asarray(a["scale"], dtype=np.float64))
                vals[node.output[0]] = _Dense(width=n)
                continue
            if op in ("LinearClassifier", "LinearRegressor", "TreeEnsembleClassifier", "TreeEnsembleRegressor"):
                if terminal is not None:
                    raise _refuse(node, "a second model op")
                terminal = node
                for k, out in enumerate(node.output):
                    vals[out] = _Ml(node, k)
                continue
            raise _refuse(node)
        if all(d is None for d in data) and all(i in consts or i in shape_vals or not i for i in ins):
            raise _refuse(node, "a computation on constants only")
        cur = data[0] if data else None
        if isinstance(cur, _Ml) or (len(data) > 1 and isinstance(data[1], _Ml)):
            ml = cur if isinstance(cur, _Ml) else data[1]
            other = (ins[1] if isinstance(cur, _Ml) else ins[0]) if len(ins) > 1 else None
            if op in ("Identity", "Cast") or (op == "Mul" and other in consts and np.all(consts[other] == 1)):
                vals[node.output[0]] = ml
                continue
            raise _refuse(node, "after the model op only Identity, Cast or a multiplication by 1 are supported")
        if not isinstance(cur, _Dense):
            raise _refuse(node, "its first input is not the model's data")
        d = _Dense(list(cur.layers), cur.width, cur.sigmoid, cur.diff, cur.squared, cur.summed)
        if cur.sigmoid and op not in PASS_THROUGH:
            raise _refuse(node, "after Sigmoid")
        if op in PASS_THROUGH:
            if op == "Flatten" and a.get("axis", 1) != 1:
                raise _refuse(node, f"Flatten(axis={a.get('axis')})")
        elif op == "Reshape":
            shape = consts.get(ins[1])
            if ins[1] not in shape_vals and (shape is None or list(shape)[-1] not in (d.width, -1) or len(shape) != 2):
                raise _refuse(node, f"a Reshape to {None if shape is None else list(shape)}, not (samples, {d.width})")
        elif op in ("Gemm", "MatMul"):
            if d.diff or (d.layers and d.layers[-1][2] is None):
                raise _refuse(node, "a dense layer after the reconstruction error")
            W = consts.get(ins[1])
            if W is None:
                raise _refuse(node, "its weights are not constants")
            W = np.asarray(W, dtype=np.float64)
            if op == "Gemm":
                if a.get("transA", 0):
                    raise _refuse(node, "Gemm with transA")
                W = W.T if a.get("transB", 0) else W  # now (in, out)
                W = W * float(a.get("alpha", 1.0))
                C = consts.get(ins[2]) if len(ins) > 2 and ins[2] else np.zeros(W.shape[1])
                if C is None:
                    raise _refuse(node, "its bias is not a constant")
                b = np.broadcast_to(np.asarray(C, dtype=np.float64) * float(a.get("beta", 1.0)), (W.shape[1],))
            else:
                b = np.zeros(W.shape[1])
            if W.ndim != 2 or W.shape[0] != d.width:
                raise _refuse(node, f"weights of shape {W.shape} for an input of width {d.width}")
            d.layers.append([W.T.copy(), np.array(b, dtype=np.float64), "identity"])
            d.width = W.shape[1]
        elif op == "Add":
            bias = consts.get(ins[1]) if isinstance(data[0], _Dense) else consts.get(ins[0])
            if bias is None or not d.layers or d.layers[-1][2] != "identity" or d.diff:
                raise _refuse(node, "an Add that is not a dense layer's bias")
            d.layers[-1][1] = d.layers[-1][1] + np.broadcast_to(np.asarray(bias, dtype=np.float64), (d.width,))
        elif op == "Relu":
            if not d.layers or d.layers[-1][2] != "identity" or d.diff:
                raise _refuse(node, "a Relu that does not follow a dense layer")
            d.layers[-1][2] = "relu"
        elif op == "Sigmoid":
            if len(d.layers) != 1 or d.width != 1 or d.layers[-1][2] != "identity":
                raise _refuse(node, "Sigmoid is supported as the link of a single dense layer with one output (logistic regression)")
            d.sigmoid = True
        elif op == "Sub":
            other = data[1]
            if not (isinstance(other, _Dense) and not other.layers) or d.width != n or not d.layers:
                raise _refuse(node, "Sub is supported as reconstruction - input of an autoencoder")
            d.diff = True
        elif op in ("Mul", "Pow"):
            square = (op == "Mul" and ins[0] == ins[1]) or (op == "Pow" and ins[1] in consts and np.all(consts[ins[1]] == 2))
            if not (d.diff and not d.squared and square):
                raise _refuse(node, "Mul/Pow are supported as the square of the reconstruction difference")
            d.squared = True
        elif op == "ReduceSum":
            axes = a.get("axes")
            if axes is None and len(ins) > 1 and ins[1]:
                axes = consts.get(ins[1])
            if not d.squared or axes is None or [int(v) for v in np.ravel(axes)] not in ([1], [-1]):
                raise _refuse(node, "ReduceSum is supported over the features of the squared reconstruction difference")
            d.summed, d.width = True, 1
        else:
            raise _refuse(node)
        vals[node.output[0]] = d
    outputs = [o.name for o in g.output]
    finals = [vals.get(o) for o in outputs]
    return {"scaler": scaler, "n": n, "outputs": outputs}, terminal if terminal is not None else finals[0], n


def _tree_ensemble(node, n: int) -> tuple[dict, dict, str | None, tuple | None]:
    a = _attrs(node)
    classifier = node.op_type == "TreeEnsembleClassifier"
    get = lambda k: a.get(k) if a.get(k) is not None else a.get(k + "_as_tensor")  # noqa: E731
    tree_ids, node_ids = list(map(int, a["nodes_treeids"])), list(map(int, a["nodes_nodeids"]))
    feats, modes = list(map(int, a["nodes_featureids"])), list(a["nodes_modes"])
    values = np.asarray(get("nodes_values"), dtype=np.float32)
    true_ids, false_ids = list(map(int, a["nodes_truenodeids"])), list(map(int, a["nodes_falsenodeids"]))
    prefix = "class" if classifier else "target"
    w_tree, w_node = list(map(int, a[f"{prefix}_treeids"])), list(map(int, a[f"{prefix}_nodeids"]))
    w_id = list(map(int, a[f"{prefix}_ids"]))
    w_val = np.asarray(get(f"{prefix}_weights"), dtype=np.float64)
    post = a.get("post_transform", "NONE")
    base_values = get("base_values")
    agg = a.get("aggregate_function", "SUM")
    if classifier:
        labels = a.get("classlabels_int64s")
        labels = list(labels) if labels is not None else list(a.get("classlabels_strings", []))
        if len(labels) != 2:
            raise _refuse(node, f"{len(labels)} classes; only binary classifiers")
        positive = 1
        ids = set(w_id)
        if not ids <= {0, 1}:
            raise _refuse(node, f"class ids {sorted(ids)}")
        want = 1 if 1 in ids else 0  # a single score column is the positive class's (ONNX binary rule)
    else:
        if int(a.get("n_targets", 1)) != 1:
            raise _refuse(node, "several regression targets")
        labels, positive, want = None, None, 0
    if post not in ("NONE", "LOGISTIC"):
        raise _refuse(node, f"post_transform {post!r}")
    if agg not in ("SUM", "AVERAGE"):
        raise _refuse(node, f"aggregate_function {agg!r}")
    base = 0.0
    if base_values is not None and len(base_values):
        bv = list(map(float, np.ravel(base_values)))
        base = bv[want] if len(bv) > want else bv[0]
    at = {(t, i): k for k, (t, i) in enumerate(zip(tree_ids, node_ids))}
    leaf_value: dict[tuple[int, int], float] = {}
    for t, i, c, v in zip(w_tree, w_node, w_id, w_val):
        if c == want:
            leaf_value[(t, i)] = leaf_value.get((t, i), 0.0) + float(v)
    trees = sorted(set(tree_ids))
    scale = 1.0 / len(trees) if agg == "AVERAGE" else 1.0
    built = []
    for t in trees:
        def split_of(i: int, t=t):
            k = at[(t, i)]
            mode = modes[k]
            if mode == "LEAF":
                return None
            thr = float(values[k])
            if mode == "BRANCH_LEQ":
                return feats[k], _f32_next_up(thr), true_ids[k], false_ids[k]
            if mode == "BRANCH_LT":
                return feats[k], thr, true_ids[k], false_ids[k]
            if mode == "BRANCH_GTE":
                return feats[k], thr, false_ids[k], true_ids[k]
            if mode == "BRANCH_GT":
                return feats[k], _f32_next_up(thr), false_ids[k], true_ids[k]
            raise _refuse(node, f"split mode {mode}")
        root = min(i for (tt, i) in at if tt == t)
        # _build_tree walks from node 0: renumber this tree so that its root is 0
        order = sorted(i for (tt, i) in at if tt == t)
        if order[0] != root or root != 0:
            raise _refuse(node, f"tree {t} does not start at node id 0")
        built.append(_build_tree(split_of, lambda i, d, t=t: scale * leaf_value.get((t, i), 0.0), f"ONNX tree {t}"))
    if any(f >= n for f in feats):
        raise _refuse(node, "a split on a feature beyond the input width")
    kind = "gradient_boosting" if post == "LOGISTIC" else ("random_forest" if classifier else "gradient_boosting")
    body, stats = _body(kind, "lt", base, built)
    info = {
        "score": ("the log-odds of class " if post == "LOGISTIC" else "the summed leaf weights of class ")
        + (repr(labels[want]) if classifier else "(regression target)"),
        "onnx_op": node.op_type,
        "post_transform": post,
        "split_rule": "lt: ONNX compares float32 features with float32 thresholds (LEQ/GT via the next float32)",
        "trees": stats,
    }
    if classifier:
        info["positive_class"] = labels[want] if not isinstance(labels[want], np.generic) else labels[want].item()
        info["negative_class"] = labels[1 - want] if not isinstance(labels[1 - want], np.generic) else labels[1 - want].item()
    if post == "LOGISTIC":
        return body, info, "logit", LOGIT_DEFAULT
    if classifier:
        return body, info, "probability", (0.5, {"method": "default probability threshold 0.5", "probability": 0.5})
    return body, info, None, None


def _linear_ml(node, n: int) -> tuple[dict, dict, str | None, tuple | None]:
    a = _attrs(node)
    coef = np.asarray(a["coefficients"], dtype=np.float64)
    icpt = np.asarray(a.get("intercepts", [0.0]), dtype=np.float64)
    post = a.get("post_transform", "NONE")
    if node.op_type == "LinearRegressor":
        if int(a.get("targets", 1)) != 1 or post != "NONE":
            raise _refuse(node, "only single-target regressors without post_transform")
        w, b = coef.reshape(1, -1)[0], float(icpt[0])
        return {"family": "linear", "weights": w.tolist(), "bias": b, "link": "identity"}, {
            "score": "the regression output", "onnx_op": node.op_type}, None, None
    labels = a.get("classlabels_ints")
    labels = list(labels) if labels is not None else list(a.get("classlabels_strings", []))
    rows = coef.reshape(-1, n)
    if len(labels) != 2:
        raise _refuse(node, f"{len(labels)} classes; only binary classifiers")
    if rows.shape[0] == 2:
        if post == "SOFTMAX":
            w, b = rows[1] - rows[0], float(icpt[1] - icpt[0])
        elif post == "LOGISTIC":
            w, b = rows[1], float(icpt[1])
        else:
            raise _refuse(node, f"post_transform {post!r} with two score rows")
    elif rows.shape[0] == 1 and post in ("LOGISTIC", "NONE"):
        w, b = rows[0], float(icpt[0])
    else:
        raise _refuse(node, f"{rows.shape[0]} coefficient rows with post_transform {post!r}")
    plain = lambda v: v.item() if hasattr(v, "item") else v  # noqa: E731
    info = {"score": f"the log-odds of class {plain(labels[1])!r}", "onnx_op": node.op_type, "post_transform": post,
            "positive_class": plain(labels[1]), "negative_class": plain(labels[0])}
    return {"family": "linear", "weights": w.tolist(), "bias": b, "link": "logit"}, info, "logit", LOGIT_DEFAULT


def import_onnx(
    model: Any,
    feature_names: Sequence[str] | None = None,
    *,
    name: str,
    description: str | None = None,
    source_extra: dict | None = None,
    scale_bits: int | None = None,
    **threshold_args: Any,
) -> dict:
    """Converts an ONNX model (``ModelProto``, path or bytes) to a zkguard model dict.

    ``feature_names`` name the input's columns (default ``x0``, ``x1``, ...). The threshold
    options are those of :func:`zkguard.exporters.export_sklearn` (``threshold``,
    ``probability_threshold``, ``calibrate_on``...); a logistic model defaults to probability 0.5,
    a regression or autoencoder needs one.
    """
    import onnx

    m = load_onnx(model)
    facts, terminal, n = _trace(m)
    features = [str(f) for f in feature_names] if feature_names is not None else [f"x{i}" for i in range(n)]
    if len(features) != n:
        raise ValueError(f"the ONNX model takes {n} features, {len(features)} names given")
    preprocessing = None
    if facts["scaler"] is not None:
        offset, scale = facts["scaler"]
        if np.any(scale <= 0):
            raise UnsupportedModelError("an ONNX Scaler with a non-positive scale")
        preprocessing = {"mean": [float(v) for v in np.broadcast_to(offset, (n,))],
                         "scale": [float(1.0 / v) for v in np.broadcast_to(scale, (n,))]}
    if isinstance(terminal, _Ml) or (hasattr(terminal, "op_type")):
        node = terminal.node if isinstance(terminal, _Ml) else terminal
        if node.op_type.startswith("TreeEnsemble"):
            if preprocessing is not None:
                raise UnsupportedModelError("a Scaler before a tree ensemble (fold it into the thresholds first)")
            body, info, domain, default = _tree_ensemble(node, n)
        else:
            body, info, domain, default = _linear_ml(node, n)
    elif isinstance(terminal, _Dense) and terminal.layers:
        d = terminal
        layers = [{"weights": W.tolist(), "bias": b.tolist(), "activation": act} for W, b, act in d.layers]
        if d.sigmoid or (len(layers) == 1 and d.width == 1 and not d.diff):
            if layers[0]["activation"] != "identity":
                raise UnsupportedModelError("a single dense layer with a Relu output is not a linear model zkguard supports")
            body = {"family": "linear", "weights": layers[0]["weights"][0], "bias": layers[0]["bias"][0],
                    "link": "logit" if d.sigmoid else "identity"}
            info = {"score": "the logit (the input of the graph's Sigmoid)" if d.sigmoid else "the graph's output"}
            domain, default = ("logit", LOGIT_DEFAULT) if d.sigmoid else (None, None)
        elif d.summed or (not d.diff and d.width == n):
            if layers[-1]["activation"] != "identity":
                raise UnsupportedModelError("an autoencoder whose last layer has a Relu: zkguard's last layer is linear")
            body = {"family": "mlp_autoencoder", "layers": layers}
            info = {"score": "sum over features of (reconstruction - input)^2"
                    + (" (the graph's ReduceSum output)" if d.summed else " (the graph outputs the reconstruction)"),
                    "architecture": "-".join(str(w) for w in [n] + [len(l["bias"]) for l in layers])}
            domain, default = None, None
        else:
            raise UnsupportedModelError(
                f"the ONNX graph ends in a {d.width}-wide dense output that is neither a single score nor a "
                f"reconstruction of its {n} inputs; zkguard imports {SUPPORTED}"
            )
    else:
        raise UnsupportedModelError(f"the ONNX graph computes nothing zkguard can prove; zkguard imports {SUPPORTED}")
    producer = f"{m.producer_name} {m.producer_version}".strip()
    source = {
        "exporter": EXPORTER,
        "exporter_version": EXPORTER_VERSION,
        "libraries": {"onnx": onnx.__version__},
        "estimator": f"ONNX graph {m.graph.name!r} by {producer or 'an unnamed producer'}",
        "pipeline": [f"{nd.domain + '.' if nd.domain else ''}{nd.op_type}" for nd in m.graph.node],
        "params": {"opsets": {o.domain or "ai.onnx": int(o.version) for o in m.opset_import}},
    }
    options = {"threshold": None, "probability_threshold": None, "calibrate_on": None,
               "max_false_positive_rate": 0.05, "margin_samples": None, **threshold_args}
    return _finish(name, features, preprocessing, body, info, source, "the ONNX model", domain, default,
                   description=description, source_extra=source_extra, scale_bits=scale_bits, **options)
