"""The zkguard model file format (``docs/MODEL_FORMAT.md``): validation and deterministic JSON.

:func:`validate_model` mirrors the Rust side -- serde's ``deny_unknown_fields`` parsing of
``prover/src/model/format.rs`` plus the semantic checks of ``prover/src/model/validate.rs`` -- so
that a file this package writes is never refused by ``zkguard model import``. It is stricter than
Rust in a few places that would otherwise only fail later (they are marked *exporter rule*).
It also defines :class:`UnsupportedModelError`, the exporters' refusal of a model the format cannot
express.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .._zkguard import limits as _rust_limits

# The validator's limits come from the Rust prover itself (``prover/src/model/validate.rs``,
# ``model/trees.rs``, ``model/format.rs``) through the native module: one source, no copy.
_RUST = _rust_limits()
FORMAT_NAME: str = _RUST["FORMAT_NAME"]
FORMAT_VERSION: int = _RUST["FORMAT_VERSION"]
MAX_FEATURES: int = _RUST["MAX_FEATURES"]
MAX_LAYER_WIDTH: int = _RUST["MAX_LAYER_WIDTH"]
MAX_LAYERS: int = _RUST["MAX_LAYERS"]
MAX_ABS_PARAM: float = _RUST["MAX_ABS_PARAM"]
SCALE_BITS_RANGE: tuple[int, int] = tuple(_RUST["SCALE_BITS_RANGE"])
MAX_TREE_DEPTH: int = _RUST["MAX_TREE_DEPTH"]  # the root is at depth 0
MAX_TREES: int = _RUST["MAX_TREES"]
FAMILIES: tuple[str, ...] = tuple(_RUST["FAMILIES"])
# Enum names the Rust parser accepts (serde variants; scripts/tests/test_limits.py checks them
# against the parser's own "expected one of" messages).
LINKS = ("identity", "logit")
ACTIVATIONS = ("identity", "relu")
TREE_KINDS = ("decision_tree", "random_forest", "gradient_boosting", "xgboost", "isolation_forest")
# "le": left iff x <= threshold (scikit-learn); "lt": left iff f32(x) < f32(threshold) (XGBoost).
TREE_SPLITS = ("le", "lt")
# Column names the Rust CSV loader (prover/src/data.rs) gives a meaning; a feature must not use them.
RESERVED_COLUMNS = ("label", "float_score", "float_decision")

# Allowed keys per object (serde `deny_unknown_fields`): required, optional.
TOP_KEYS = ({"format", "version", "name", "features", "model", "decision"}, {"preprocessing", "quantization", "source"})
PREPROCESSING_KEYS = ({"mean", "scale"}, set())
LINEAR_KEYS = ({"family", "weights", "bias"}, {"link"})
MLP_KEYS = ({"family", "layers"}, set())
LAYER_KEYS = ({"weights", "bias", "activation"}, set())
DECISION_KEYS = ({"threshold"}, set())
QUANTIZATION_KEYS = (set(), {"scale_bits"})
TREE_ENSEMBLE_KEYS = ({"family", "kind", "split", "base_score", "trees"}, set())
TREE_KEYS = ({"nodes"}, set())
SPLIT_NODE_KEYS = ({"feature", "threshold", "left", "right"}, set())
LEAF_NODE_KEYS = ({"value"}, set())


class ModelFormatError(ValueError):
    """A model dict / file that zkguard would refuse. The message names the field path."""

    def __init__(self, path: str, expected: str, found: Any):
        self.path, self.expected, self.found = path, expected, found
        super().__init__(f"at `{path}`: expected {expected}, found {found}")


class UnsupportedModelError(ValueError):
    """The estimator, a pipeline step or a setting has no zkguard representation."""


def logit_threshold(probability: float) -> float:
    """The logit-domain threshold of a probability threshold: ``log(p / (1 - p))`` (0.5 -> 0.0)."""
    p = float(probability)
    if not 0.0 < p < 1.0:
        raise ValueError(f"a probability threshold must be in (0, 1), got {probability!r}")
    return math.log(p / (1.0 - p))


# --------------------------------------------------------------------------------------------
# validation


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_index(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_keys(path: str, obj: Any, keys: tuple[set[str], set[str]]) -> None:
    required, optional = keys
    if not isinstance(obj, dict):
        raise ModelFormatError(path or "<root>", "a JSON object", type(obj).__name__)
    for k in obj:
        if k not in required and k not in optional:
            allowed = ", ".join(f"`{a}`" for a in sorted(required | optional))
            raise ModelFormatError(f"{path}.{k}" if path else k, f"one of the known fields {allowed}", "an unknown field")
    for k in sorted(required):
        if k not in obj:
            raise ModelFormatError(f"{path}.{k}" if path else k, "this required field", "nothing")


def _check_number(path: str, v: Any) -> None:
    if not _is_number(v):
        raise ModelFormatError(path, "a number", repr(v))
    if not (math.isfinite(v) and abs(v) <= MAX_ABS_PARAM):
        raise ModelFormatError(path, f"a finite number with |x| <= {MAX_ABS_PARAM:e}", repr(v))


def _check_vector(path: str, v: Any, length: int) -> None:
    if not isinstance(v, list):
        raise ModelFormatError(path, "a JSON array of numbers", type(v).__name__)
    if len(v) != length:
        raise ModelFormatError(path, f"{length} values", f"{len(v)} values")
    for i, x in enumerate(v):
        _check_number(f"{path}[{i}]", x)


def validate_model(model: dict) -> None:
    """Raises :class:`ModelFormatError` for the first problem zkguard (or this exporter) would refuse."""
    _check_keys("", model, TOP_KEYS)
    if model["format"] != FORMAT_NAME:
        raise ModelFormatError("format", f'"{FORMAT_NAME}"', repr(model["format"]))
    if not (isinstance(model["version"], int) and not isinstance(model["version"], bool)) or model["version"] != FORMAT_VERSION:
        raise ModelFormatError("version", f"schema version {FORMAT_VERSION}", repr(model["version"]))
    name = model["name"]
    if not isinstance(name, str) or not name.strip():
        raise ModelFormatError("name", "a non-empty name", repr(name))

    features = model["features"]
    if not isinstance(features, list) or not 1 <= len(features) <= MAX_FEATURES:
        found = len(features) if isinstance(features, list) else type(features).__name__
        raise ModelFormatError("features", f"1..={MAX_FEATURES} feature names", found)
    seen: set[str] = set()
    for i, f in enumerate(features):
        if not isinstance(f, str) or not f.strip():
            raise ModelFormatError(f"features[{i}]", "a non-empty feature name", repr(f))
        if f in seen:
            raise ModelFormatError(f"features[{i}]", "a unique feature name", f"duplicate {f!r}")
        seen.add(f)
        # exporter rules: the Rust CSV reader trims header cells and reserves three column names.
        if f != f.strip():
            raise ModelFormatError(f"features[{i}]", "a name without leading/trailing whitespace (CSV headers are trimmed)", repr(f))
        if f in RESERVED_COLUMNS:
            raise ModelFormatError(f"features[{i}]", f"a name other than the reserved CSV columns {RESERVED_COLUMNS}", repr(f))
    n = len(features)

    if "preprocessing" in model and model["preprocessing"] is not None:
        pre = model["preprocessing"]
        _check_keys("preprocessing", pre, PREPROCESSING_KEYS)
        _check_vector("preprocessing.mean", pre["mean"], n)
        scale = pre["scale"]
        if not isinstance(scale, list) or len(scale) != n:
            found = f"{len(scale)} values" if isinstance(scale, list) else type(scale).__name__
            raise ModelFormatError("preprocessing.scale", f"{n} values", found)
        for i, s in enumerate(scale):
            if not (_is_number(s) and math.isfinite(s) and s > 0.0):
                raise ModelFormatError(f"preprocessing.scale[{i}]", "a positive finite scale", repr(s))

    decision = model["decision"]
    _check_keys("decision", decision, DECISION_KEYS)
    _check_number("decision.threshold", decision["threshold"])

    if "quantization" in model and model["quantization"] is not None:
        q = model["quantization"]
        _check_keys("quantization", q, QUANTIZATION_KEYS)
        bits = q.get("scale_bits")
        if bits is not None:
            lo, hi = SCALE_BITS_RANGE
            if not (isinstance(bits, int) and not isinstance(bits, bool)) or not lo <= bits <= hi:
                raise ModelFormatError("quantization.scale_bits", f"{lo}..={hi}", repr(bits))

    body = model["model"]
    if not isinstance(body, dict):
        raise ModelFormatError("model", "a JSON object", type(body).__name__)
    family = body.get("family")
    if family == "linear":
        _check_keys("model", body, LINEAR_KEYS)
        _check_vector("model.weights", body["weights"], n)
        _check_number("model.bias", body["bias"])
        if "link" in body and body["link"] not in LINKS:
            raise ModelFormatError("model.link", f"one of {LINKS}", repr(body["link"]))
    elif family == "mlp_autoencoder":
        _check_keys("model", body, MLP_KEYS)
        layers = body["layers"]
        if not isinstance(layers, list) or not 1 <= len(layers) <= MAX_LAYERS:
            found = len(layers) if isinstance(layers, list) else type(layers).__name__
            raise ModelFormatError("model.layers", f"1..={MAX_LAYERS} layers", found)
        width = n
        for li, layer in enumerate(layers):
            path = f"model.layers[{li}]"
            _check_keys(path, layer, LAYER_KEYS)
            rows = layer["weights"]
            if not isinstance(rows, list) or not 1 <= len(rows) <= MAX_LAYER_WIDTH:
                found = len(rows) if isinstance(rows, list) else type(rows).__name__
                raise ModelFormatError(f"{path}.weights", f"1..={MAX_LAYER_WIDTH} rows (one per output)", found)
            for o, row in enumerate(rows):
                _check_vector(f"{path}.weights[{o}]", row, width)
            _check_vector(f"{path}.bias", layer["bias"], len(rows))
            if layer["activation"] not in ACTIVATIONS:
                raise ModelFormatError(f"{path}.activation", f"one of {ACTIVATIONS}", repr(layer["activation"]))
            width = len(rows)
        if width != n:
            raise ModelFormatError(
                f"model.layers[{len(layers) - 1}].weights",
                f"{n} outputs (an autoencoder reconstructs its {n} features)",
                width,
            )
    elif family == "tree_ensemble":
        if "preprocessing" in model:
            raise ModelFormatError(
                "preprocessing",
                "no preprocessing for a tree_ensemble (fold a StandardScaler into the thresholds)",
                "a preprocessing field",
            )
        _check_tree_ensemble(body, n)
    else:
        raise ModelFormatError("model.family", f"one of {FAMILIES}", repr(family))

    if "source" in model:
        try:
            json.dumps(model["source"], allow_nan=False)
        except (TypeError, ValueError) as e:
            raise ModelFormatError("source", "plain JSON without NaN/Infinity", str(e)) from None


def _check_tree_ensemble(body: dict, n: int) -> None:
    _check_keys("model", body, TREE_ENSEMBLE_KEYS)
    if body["kind"] not in TREE_KINDS:
        raise ModelFormatError("model.kind", f"one of {TREE_KINDS}", repr(body["kind"]))
    if body["split"] not in TREE_SPLITS:
        raise ModelFormatError("model.split", f"one of {TREE_SPLITS}", repr(body["split"]))
    _check_number("model.base_score", body["base_score"])
    trees = body["trees"]
    if not isinstance(trees, list) or not 1 <= len(trees) <= MAX_TREES:
        found = f"{len(trees)} trees" if isinstance(trees, list) else type(trees).__name__
        raise ModelFormatError("model.trees", f"1..={MAX_TREES} trees", found)
    for t, tree in enumerate(trees):
        _check_tree(f"model.trees[{t}]", tree, n)


def _check_tree(path: str, tree: Any, n: int) -> None:
    """One tree: node fields, then the shape (a proper binary tree rooted at node 0), then depth."""
    _check_keys(path, tree, TREE_KEYS)
    nodes = tree["nodes"]
    if not isinstance(nodes, list) or not nodes:
        found = "an empty array" if isinstance(nodes, list) else type(nodes).__name__
        raise ModelFormatError(f"{path}.nodes", "a non-empty array of nodes", found)
    for i, node in enumerate(nodes):
        p = f"{path}.nodes[{i}]"
        if isinstance(node, dict) and "value" in node:
            _check_keys(p, node, LEAF_NODE_KEYS)
            _check_number(f"{p}.value", node["value"])
            continue
        _check_keys(p, node, SPLIT_NODE_KEYS)
        f = node["feature"]
        if not (_is_index(f) and 0 <= f < n):
            raise ModelFormatError(f"{p}.feature", f"a feature index in 0..{n} (the model has {n} features)", repr(f))
        _check_number(f"{p}.threshold", node["threshold"])
        for side in ("left", "right"):
            c = node[side]
            if not (_is_index(c) and 0 <= c < len(nodes)):
                raise ModelFormatError(f"{p}.{side}", f"a node index in 0..{len(nodes)} (this tree's nodes)", repr(c))

    # Depth-first walk from the root. A node is "open" while its subtree is being walked, so the
    # open nodes are exactly the ancestors of the node being entered.
    UNSEEN, OPEN, DONE = 0, 1, 2
    state = [UNSEEN] * len(nodes)
    depth = [0] * len(nodes)
    stack: list[tuple[bool, int, int, str]] = [(True, 0, 0, path)]  # (enter?, node, depth, where referenced)
    while stack:
        enter, i, d, ref = stack.pop()
        if not enter:
            state[i] = DONE
            continue
        if state[i] == OPEN:
            raise ModelFormatError(
                ref, "a child that is not one of its ancestors (a tree has no cycles)", f"node {i}, an ancestor"
            )
        if state[i] == DONE:
            raise ModelFormatError(
                ref, "a node reached from the root exactly once (no shared subtrees)", f"node {i}, reached twice"
            )
        state[i], depth[i] = OPEN, d
        stack.append((False, i, d, ref))
        if "value" not in nodes[i]:
            for side in ("right", "left"):  # popped left first: preorder
                stack.append((True, nodes[i][side], d + 1, f"{path}.nodes[{i}].{side}"))
    for i, s in enumerate(state):
        if s == UNSEEN:
            raise ModelFormatError(
                f"{path}.nodes[{i}]", "a node reachable from the root (node 0)", "an unreachable node"
            )
    deepest = max(range(len(nodes)), key=lambda i: depth[i])
    if depth[deepest] > MAX_TREE_DEPTH:
        raise ModelFormatError(
            f"{path}.nodes[{deepest}]", f"depth <= {MAX_TREE_DEPTH} (the root is at depth 0)", f"depth {depth[deepest]}"
        )


# --------------------------------------------------------------------------------------------
# deterministic JSON


def _scalar(v: Any) -> str:
    if isinstance(v, float) and not math.isfinite(v):
        raise ModelFormatError("<value>", "a finite number", repr(v))
    # json.dumps writes floats with repr(): the shortest text that round-trips to the same f64.
    return json.dumps(v, allow_nan=False, ensure_ascii=False)


def _render(v: Any, depth: int) -> str:
    pad, inner = "  " * depth, "  " * (depth + 1)
    if isinstance(v, dict):
        if not v:
            return "{}"
        items = [f"{inner}{json.dumps(str(k), ensure_ascii=False)}: {_render(x, depth + 1)}" for k, x in v.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(v, (list, tuple)):
        if not v:
            return "[]"
        if all(_is_number(x) for x in v):
            # A vector (or one matrix row, i.e. one neuron) stays on one line.
            return "[" + ", ".join(_scalar(x) for x in v) + "]"
        if all(isinstance(x, dict) and x and all(_is_number(y) for y in x.values()) for x in v):
            # Records of numbers (tree nodes): one record per line.
            records = [", ".join(f"{_scalar(str(k))}: {_scalar(y)}" for k, y in x.items()) for x in v]
            return "[\n" + ",\n".join(inner + "{" + r + "}" for r in records) + "\n" + pad + "]"
        parts = [_render(x, depth + 1) for x in v]
        one_line = "[" + ", ".join(parts) + "]"
        if all("\n" not in p for p in parts) and len(one_line) + len(inner) <= 100:
            return one_line
        return "[\n" + ",\n".join(inner + p for p in parts) + "\n" + pad + "]"
    return _scalar(v)


def dumps_model(model: dict) -> str:
    """Validates ``model`` and renders it as deterministic, human-diffable JSON (trailing newline).

    Floats are written with ``repr`` (shortest round-trip text), so parsing the file gives back
    bit-identical f64 values; NaN/Infinity are refused.
    """
    validate_model(model)
    text = _render(model, 0) + "\n"
    # Belt and braces: the rendering must be plain JSON that parses back to the same dict.
    if json.loads(text) != json.loads(json.dumps(model, allow_nan=False)):
        raise AssertionError("internal error: the JSON rendering does not round-trip")
    return text


def write_model(model: dict, path: str | Path) -> Path:
    """Validates and writes ``model`` to ``path`` (creating parent directories). Returns the path."""
    path = Path(path)
    text = dumps_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")
    return path


def _no_constants(name: str) -> Any:
    raise ModelFormatError("<json>", "finite numbers (JSON has no NaN/Infinity)", name)


class _Pairs(list):
    """A JSON object's ``(key, value)`` pairs in file order, duplicates kept (see :func:`loads_model`)."""


def _undup(value: Any, path: str) -> Any:
    """``value`` with every object made a dict; refuses a key written twice, naming its path."""
    if isinstance(value, _Pairs):
        out: dict = {}
        for k, v in value:
            where = f"{path}.{k}" if path else k
            if k in out:
                raise ModelFormatError(where, "each field once (a duplicate key can be read two ways)", "a duplicate field")
            out[k] = _undup(v, where)
        return out
    if isinstance(value, list):
        return [_undup(v, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def parse_json(text: str) -> Any:
    """Parses JSON text as serde would read a model file: NaN/Infinity and duplicate keys (at any
    depth, named by their path, e.g. ``decision.threshold``) are refused."""
    try:
        raw = json.loads(text, parse_constant=_no_constants, object_pairs_hook=_Pairs)
    except json.JSONDecodeError as e:
        raise ModelFormatError("<json>", "valid JSON", f"{e.msg} at line {e.lineno} column {e.colno}") from None
    return _undup(raw, "")


def loads_model(text: str) -> dict:
    """Parses and validates model JSON text (see :func:`parse_json` and :func:`validate_model`)."""
    model = parse_json(text)
    validate_model(model)
    return model


def load_model(path: str | Path) -> dict:
    """Reads and validates a model file, refusing what serde would (NaN, duplicate fields...)."""
    return loads_model(Path(path).read_text(encoding="utf-8"))
