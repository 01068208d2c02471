"""Tests of the SYNTHETIC fraud feed (``zkguard.exporters.feed``, ``scripts/make_feed.py``) and of the fraud
models ``train_reference.py`` trains on it: run with `.venv/bin/python -m pytest scripts/tests`."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import make_feed
import train_reference
import float_noise
from train_reference import FRAUD_FEED, FRAUD_MODELS
from zkguard.exporters import evaluate, feed, load_model

ROOT = Path(__file__).resolve().parents[2]
ADDRESS = re.compile(r"^0x[0-9a-f]{40}$")
# The training mix of docs/FRAUD_FEED.md: 200 fraud rows of 4000.
TRAINING_COUNTS = {"drain_burst": 60, "approval_phishing": 30, "address_poisoning": 40, "gas_panic": 20,
                   "slow_exfiltration": 50}
DEMO_COUNTS = {"drain_burst": 22, "approval_phishing": 2, "address_poisoning": 10, "gas_panic": 2,
               "slow_exfiltration": 3}


@pytest.fixture(scope="module")
def training():
    return feed.training_feed(**train_reference.FRAUD_TRAINING)


@pytest.fixture(scope="module")
def demo():
    return feed.demo_feed(**train_reference.FRAUD_DEMO)


@pytest.fixture(scope="module")
def fitted(training):
    return {name: train_reference.fit_fraud_model(name, training.X, training.labels) for name in FRAUD_MODELS}


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def test_generation_is_deterministic(tmp_path):
    for name, make in (("training", feed.training_feed), ("demo", feed.demo_feed)):
        a = feed.write_feed_csv(make(), tmp_path / f"{name}_a.csv")
        b = feed.write_feed_csv(make(), tmp_path / f"{name}_b.csv")
        assert a.read_bytes() == b.read_bytes()
    other = feed.write_feed_csv(feed.training_feed(seed=3), tmp_path / "seed3.csv")
    assert other.read_bytes() != (tmp_path / "training_a.csv").read_bytes()


def test_committed_fraud_files_are_up_to_date(tmp_path):
    train_reference.build_fraud(tmp_path)
    expected = sorted(
        [f"models/{n}.json" for n in FRAUD_MODELS] + [f"data/{n}.csv" for n in FRAUD_MODELS + (FRAUD_FEED,)]
    )
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == expected
    for rel in written:
        diff = float_noise.difference(tmp_path / rel, ROOT / rel)
        assert diff is None, f"{rel} is stale ({diff}): rerun train_reference.py"


def test_feed_csv_columns_and_round_trip(demo):
    header, rows = read_csv(ROOT / "data" / f"{FRAUD_FEED}.csv")
    assert header == ["subject", "timestamp", "pattern", "label"] + list(feed.FEATURES)
    assert len(rows) == 256
    assert [r[0] for r in rows] == demo.subjects
    assert [int(r[1]) for r in rows] == list(demo.timestamps)
    assert [r[2] for r in rows] == demo.patterns
    assert [int(r[3]) for r in rows] == list(demo.labels)
    np.testing.assert_array_equal(np.array([[float(v) for v in r[4:]] for r in rows]), demo.X)
    for name in FRAUD_MODELS:  # the models read the feed's columns by these names
        assert load_model(ROOT / "models" / f"{name}.json")["features"] == list(feed.FEATURES)


@pytest.mark.parametrize("which", ["training", "demo"])
def test_rows_are_well_formed(which, request):
    f = request.getfixturevalue(which)
    assert np.all(np.diff(f.timestamps) > 0), "timestamps strictly increase"
    assert all(ADDRESS.match(s) for s in f.subjects)
    assert set(f.patterns) <= {feed.NORMAL, *feed.PATTERNS}
    np.testing.assert_array_equal(f.labels, [int(p != feed.NORMAL) for p in f.patterns])
    assert f.X.shape == (len(f.patterns), len(feed.FEATURES)) and np.all(np.isfinite(f.X))
    for j, spec in enumerate(feed.FEATURES_DOC):
        lo, hi = (np.log10(spec.low), np.log10(spec.high)) if spec.log10 else (spec.low, spec.high)
        assert np.all((f.X[:, j] >= lo - 1e-4) & (f.X[:, j] <= hi + 1e-4)), spec.name
        if spec.unit in ("0/1", "count"):
            assert np.all(f.X[:, j] == np.round(f.X[:, j])), spec.name
    assert np.max(np.abs(f.X)) < 1e3  # fixed point keeps a fine scale (|x| * 2^20 << 2^36)


def test_training_mix_is_as_documented(training):
    counts = Counter(training.patterns)
    assert len(training.patterns) == 4000 and counts[feed.NORMAL] == 3800  # 5% fraud
    assert {p: counts[p] for p in feed.PATTERNS} == TRAINING_COUNTS == feed.pattern_rows(200)
    attackers = {s for s, p in zip(training.subjects, training.patterns) if p == "address_poisoning"}
    victims = {s for s, p in zip(training.subjects, training.patterns) if p not in (feed.NORMAL, "address_poisoning")}
    normal = {s for s, p in zip(training.subjects, training.patterns) if p == feed.NORMAL}
    assert attackers.isdisjoint(normal), "poisoning comes from attacker accounts"
    assert victims <= normal, "the other patterns hit accounts that also behave normally"


def test_demo_feed_ends_with_drain_bursts(demo):
    counts = Counter(demo.patterns)
    assert {p: counts[p] for p in feed.PATTERNS} == DEMO_COUNTS and counts[feed.NORMAL] == 217
    tail = slice(int(0.8 * len(demo.patterns)), None)
    tail_fraud = [(s, p) for s, p in zip(demo.subjects[tail], demo.patterns[tail]) if p != feed.NORMAL]
    assert len(tail_fraud) == 22 and {p for _, p in tail_fraud} == {"drain_burst"}
    assert len({s for s, _ in tail_fraud}) == 2


def test_no_single_feature_separates_the_fraud(training):
    """Several features matter: the best single-feature threshold stays far below the models' F1."""
    y = training.labels
    for j, name in enumerate(feed.FEATURES):
        for sign in (1.0, -1.0):
            x = sign * training.X[:, j]
            order = np.argsort(-x, kind="stable")
            xs, tp = x[order], np.cumsum(y[order])
            last = np.r_[xs[1:] != xs[:-1], True]  # flag everything >= xs[i]: only at the end of a tie
            flagged = np.arange(1, len(y) + 1)[last]
            f1 = 2 * tp[last] / (flagged + y.sum())
            assert f1.max() < 0.7, f"{name} alone separates the fraud (F1 {f1.max():.3f})"


@pytest.mark.parametrize("name", FRAUD_MODELS)
def test_exported_decisions_equal_sklearn(name, fitted, training, demo):
    est = fitted[name]
    model = load_model(ROOT / "models" / f"{name}.json")
    probability = train_reference.fraud_probability_threshold(est, training.X, training.labels)
    assert model["decision"]["threshold"] == pytest.approx(np.log(probability / (1 - probability)), abs=1e-12)
    for f in (training, demo):
        score, decision = evaluate(model, f.X)
        np.testing.assert_allclose(score, est.decision_function(f.X), rtol=1e-12, atol=1e-9)
        np.testing.assert_array_equal(decision, (est.predict_proba(f.X)[:, 1] > probability).astype(np.int64))
    header, rows = read_csv(ROOT / "data" / f"{name}.csv")
    assert header == list(feed.FEATURES) + ["label", "float_score", "float_decision"]
    np.testing.assert_array_equal(np.array([[float(v) for v in r[:11]] for r in rows]), training.X)
    score, decision = evaluate(model, training.X)
    assert [int(r[11]) for r in rows] == list(training.labels)
    assert [float(r[12]) for r in rows] == list(score) and [int(r[13]) for r in rows] == list(decision)


@pytest.mark.parametrize("name", FRAUD_MODELS)
def test_models_catch_the_demo_fraud(name, demo, training):
    model = load_model(ROOT / "models" / f"{name}.json")
    for f, min_recall, min_precision in ((demo, 0.9, 0.8), (training, 0.95, 0.45)):
        _, d = evaluate(model, f.X)
        tp = int(np.sum((d == 1) & (f.labels == 1)))
        assert tp / f.labels.sum() >= min_recall and tp / d.sum() >= min_precision, (name, tp, int(d.sum()))
    _, d = evaluate(model, demo.X)
    drains = np.array(demo.patterns) == "drain_burst"
    assert d[drains].mean() >= 0.9, "the drain bursts (the breaker's moment) are flagged"


def test_cli_writes_the_demo_feed(tmp_path, capsys):
    out = tmp_path / "demo.csv"
    assert make_feed.main(["demo", "--out", str(out)]) == 0
    assert out.read_bytes() == (ROOT / "data" / f"{FRAUD_FEED}.csv").read_bytes()
    assert "SYNTHETIC" in capsys.readouterr().out
    assert make_feed.main(["demo", "--n", "30", "--out", str(tmp_path / "small.csv")]) == 2
