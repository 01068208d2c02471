"""Shared fixtures of the `zkguard` package's tests (run by scripts/test: `.venv/bin/python -m pytest python/tests`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_wine

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The Rust tests' cache: keys and the INSECURE development SRS (publicly known secret), shared so
# that a second run skips keygen. Tests only.
TEST_CACHE = ROOT / "target" / "zkguard-test-cache"


@pytest.fixture(scope="session")
def breast_cancer():
    d = load_breast_cancer()
    return d.data, d.target, [str(f) for f in d.feature_names]


@pytest.fixture(scope="session")
def wine():
    """The wine data made binary: class 0 (flagged, label 1) against the two others."""
    d = load_wine()
    return d.data, (d.target == 0).astype(int), [str(f) for f in d.feature_names]
