"""Comparing regenerated reference files with the committed ones, up to floating-point noise.

Training is deterministic (fixed seeds, pinned libraries), but BLAS kernels differ between CPUs
(AVX2 vs AVX-512 code paths reorder sums), so a retrained model can differ from the committed one
in the last digits on another machine. These helpers accept that and nothing more: every
structural difference (keys, columns, labels, decisions) and every number off by more than a
relative 1e-9 is a real change and fails with the path of the first difference.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

REL_TOL = 1e-9
ABS_TOL = 1e-12


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def _json_diff(a, b, path: str) -> str | None:
    if isinstance(a, bool) or isinstance(b, bool):
        return None if a is b else f"{path}: {a!r} != {b!r}"
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return None if _close(float(a), float(b)) else f"{path}: {a!r} != {b!r}"
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            return f"{path}: keys {list(a)} != {list(b)}"
        for k in a:
            d = _json_diff(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = _json_diff(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if a == b else f"{path}: {a!r} != {b!r}"


def _cell(text: str):
    try:
        return float(text)
    except ValueError:
        return text


def _csv_diff(a: str, b: str) -> str | None:
    la, lb = a.splitlines(), b.splitlines()
    if len(la) != len(lb):
        return f"{len(la)} lines != {len(lb)}"
    for n, (ra, rb) in enumerate(zip(la, lb), start=1):
        ca, cb = ra.split(","), rb.split(",")
        if len(ca) != len(cb):
            return f"line {n}: {len(ca)} cells != {len(cb)}"
        for j, (x, y) in enumerate(zip(ca, cb), start=1):
            x, y = _cell(x), _cell(y)
            same = _close(x, y) if isinstance(x, float) and isinstance(y, float) else x == y
            if not same:
                return f"line {n}, column {j}: {x!r} != {y!r}"
    return None


def difference(regenerated: Path, committed: Path) -> str | None:
    """The first difference beyond floating-point noise, or None."""
    a, b = regenerated.read_text(), committed.read_text()
    if a == b:
        return None
    if regenerated.suffix == ".json":
        return _json_diff(json.loads(a), json.loads(b), "$")
    return _csv_diff(a, b)
