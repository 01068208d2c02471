"""The package's API end to end: export -> check -> quantize -> keygen -> prove -> verify at small k,
and each refusal (tampered proof and fields, wrong feature count, unsupported model, SRS not chosen).

INSECURE: proofs here use the deterministic development SRS (publicly known secret) cached in
target/zkguard-test-cache, as the Rust tests do; anyone could forge them. Tests only.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import zkguard

from conftest import ROOT, TEST_CACHE

BATCH = 2


@pytest.fixture(scope="module")
def flow(breast_cancer):
    X, y, names = breast_cancer
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X, y)
    model = zkguard.export(clf, names, name="bc-logistic")
    q = zkguard.quantize(model, X)
    with pytest.warns(UserWarning, match="INSECURE DEVELOPMENT SRS"):
        keys = zkguard.keygen(q, BATCH, cache_dir=TEST_CACHE, insecure_dev_srs=True)
    return X, y, clf, model, q, keys


def test_export_check_quantize(flow):
    X, y, clf, model, q, _ = flow
    report = zkguard.check(model, X, y)
    assert isinstance(report, zkguard.CheckReport)
    assert report.samples == len(X) and report.agreement == 1.0 and report.disagreements == []
    assert report.float_label_accuracy == pytest.approx(np.mean(clf.predict(X) == y))
    assert len(report.float_scores) == len(X)
    assert q.features == list(model["features"]) and q.family == "linear"
    assert q.model_commitment.startswith("0x") and len(q.model_commitment) == 66
    assert '"format": "zkguard-quantized"' in q.to_json()


def test_prove_and_verify(flow):
    X, y, clf, model, q, keys = flow
    assert keys.k <= 16 and keys.batch_size == BATCH and keys.insecure_srs
    salt = "0x" + "00" * 31 + "2a"
    ctx = zkguard.context(chain_id=31337, guard="0x" + "11" * 20, model_id=1, nonce=5, issued_at=1_800_000_000,
                          subjects=["0x" + "22" * 20, "0x" + "33" * 20])
    rows = X[[0, 19]]  # a malignant and a benign sample
    proof = zkguard.prove(keys, q, rows, context=ctx, salt=salt)
    assert isinstance(proof, zkguard.Proof) and proof.insecure_srs and proof.transcript == "evm"
    assert proof.decisions == list(clf.predict(rows) == 1)
    assert proof.model_commitment == q.model_commitment and proof.context == ctx
    assert proof.input_commitment == zkguard.commit_inputs(q, rows, salt, BATCH)
    verified = zkguard.verify(keys, proof)
    assert verified.decisions == proof.decisions and verified.model_commitment == q.model_commitment
    scores = np.asarray(verified.scores_fixed) / 2**q.scale_bits
    np.testing.assert_allclose(scores, clf.decision_function(rows), atol=1e-2)
    # The artifact round-trips through JSON (and is what `zkguard verify` reads).
    again = zkguard.Proof.from_json(proof.to_json())
    assert zkguard.verify(keys, again).decisions == proof.decisions
    # A single sample is padded to the batch; a batch beyond it is refused.
    assert zkguard.prove(keys, q, X[3]).sample_count == 1
    with pytest.raises(zkguard.InputError, match="3 rows: a proof of this circuit takes 1..=2 rows"):
        zkguard.prove(keys, q, X[:3])


def test_tampered_proofs_are_refused(flow):
    X, _, _, _, q, keys = flow
    proof = zkguard.prove(keys, q, X[:2])
    fields = {f: getattr(proof, f) for f in dir(proof) if not f.startswith("_") and not callable(getattr(proof, f))}
    as_json = proof.to_json()

    def variant(**changes):
        import json

        d = json.loads(as_json)
        d.update(changes)
        return zkguard.Proof.from_json(json.dumps(d))

    flipped = bytearray(proof.proof)
    flipped[100] ^= 1
    with pytest.raises(zkguard.VerificationError, match="does NOT verify"):
        zkguard.verify(keys, variant(proof="0x" + flipped.hex()))
    other_instance = list(fields["instances"])
    other_instance[2] = "0x" + "00" * 31 + "01"  # another context
    with pytest.raises(zkguard.VerificationError, match="does NOT verify"):
        zkguard.verify(keys, variant(instances=other_instance))
    with pytest.raises(zkguard.VerificationError, match="`decisions` differs from its verified instances"):
        zkguard.verify(keys, variant(decisions=[not d for d in proof.decisions]))
    with pytest.raises(zkguard.VerificationError, match="`model_commitment` differs"):
        zkguard.verify(keys, variant(model_commitment="0x" + "00" * 32))
    with pytest.raises(zkguard.VerificationError, match="`scores_fixed` differs"):
        zkguard.verify(keys, variant(scores=["1", "2"]))
    with pytest.raises(zkguard.VerificationError, match="these keys are for"):
        zkguard.verify(keys, variant(circuit_digest="ab" * 32))


def test_wrong_inputs_are_refused_with_the_message(flow):
    X, _, _, model, q, keys = flow
    with pytest.raises(zkguard.InputError, match=r"row 0 has 5 features, the model expects 30 \(mean radius, "):
        zkguard.prove(keys, q, X[:2, :5])
    with pytest.raises(zkguard.InputError, match="row 0 has 29 features, the model expects 30"):
        zkguard.check(model, X[:, :29])
    bad = X[:2].copy()
    bad[1, 3] = np.nan
    with pytest.raises(zkguard.InputError, match="row 1: input feature \"mean area\" = NaN"):
        zkguard.prove(keys, q, bad)
    with pytest.raises(zkguard.InputError, match="salt=\"0xzz\" is not a 32-byte hex field element"):
        zkguard.prove(keys, q, X[:2], salt="0xzz")
    with pytest.raises(zkguard.InputError, match="choose the KZG parameters"):
        zkguard.keygen(q, BATCH, cache_dir=TEST_CACHE)
    with pytest.raises(zkguard.InputError, match="guard=\"0x12\" is not an address"):
        zkguard.context(chain_id=1, guard="0x12", model_id=1, nonce=1, issued_at=1)


def test_model_errors_carry_the_rust_message_and_field_path(flow):
    _, _, _, model, _, _ = flow
    broken = dict(model, model=dict(model["model"], weights=model["model"]["weights"][:-1]))
    import json

    with pytest.raises(zkguard.ModelError) as e:
        zkguard.validate(json.dumps(broken))
    assert e.value.path == "model.weights" and "expected 30 values" in str(e.value) and e.value.found == "29 values"
    with pytest.raises(zkguard.ModelError) as e:
        zkguard.quantize(json.dumps(dict(model, decision={"threshold": "high"})), [[0.0] * 30])
    assert e.value.path == "decision.threshold"


def test_proving_releases_the_gil(flow):
    X, _, _, _, q, keys = flow
    ticks = 0
    done = threading.Event()

    def count():
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0.001)

    t = threading.Thread(target=count)
    t.start()
    start = time.time()
    zkguard.prove(keys, q, X[:2])
    elapsed = time.time() - start
    done.set()
    t.join()
    # With the GIL held for the whole proof the counter could not run at all meanwhile.
    assert elapsed > 0.2 and ticks > 0.2 * elapsed / 0.002, (ticks, elapsed)


def test_aggregate_refuses_before_any_heavy_work(flow):
    """Aggregation itself (k >= 18, minutes) is covered by the Rust tests; its refusals are cheap."""
    X, _, _, _, q, keys = flow
    evm_proof = zkguard.prove(keys, q, X[:2])
    with pytest.raises(zkguard.ProofError, match="transcript"):
        zkguard.aggregate(keys, [evm_proof])
    with pytest.raises(zkguard.InputError, match="k"):
        zkguard.aggregate(keys, [evm_proof], k=30)
    with pytest.raises(zkguard.InputError, match="at least one proof"):
        zkguard.aggregate(keys, [])


def test_generated_solidity_verifier_accepts_the_proof_in_an_evm(flow):
    X, _, _, _, q, keys = flow
    solc = ROOT / "scripts" / "solc"
    verifier = zkguard.generate_verifier(keys, solc=solc)
    assert verifier.insecure_srs and 0 < len(verifier.runtime_code) <= 24_576
    assert "INSECURE" in verifier.source or "insecure" in verifier.source
    proof = zkguard.prove(keys, q, X[:2])
    gas = zkguard.evm_verify(verifier, proof)
    assert 200_000 < gas < 1_000_000
    forged = zkguard.Proof.from_json(proof.to_json().replace(proof.instances[2], "0x" + "00" * 31 + "05"))
    with pytest.raises(zkguard.VerificationError):
        zkguard.evm_verify(verifier, forged)


def test_a_quantized_file_from_the_cli_format_loads_with_its_commitment(flow, tmp_path):
    X, _, _, model, q, keys = flow
    path = tmp_path / "bc.quantized.json"
    path.write_text(q.to_json())
    again = zkguard.load_quantized(path)
    assert again.model_commitment == q.model_commitment and again.family == "linear"
    assert zkguard.verify(keys, zkguard.prove(keys, again, X[:1])).sample_count == 1
    float_file = ROOT / "models" / "breast_cancer_logistic.json"
    with pytest.raises(zkguard.ModelError, match="calibration"):
        zkguard.load_quantized(float_file)
    assert zkguard.load_quantized(float_file, ROOT / "data" / "breast_cancer_logistic.csv").family == "linear"


def test_fast_layout_keygen_prove_verify_and_its_refusals(flow):
    X, _, _, _, q, keys = flow
    assert keys.layout == "compact"
    with pytest.warns(UserWarning, match="INSECURE DEVELOPMENT SRS"):
        fast = zkguard.keygen(q, BATCH, cache_dir=TEST_CACHE, insecure_dev_srs=True, layout="fast")
    # Another circuit: the Poseidon gate's 22 columns beside halo2-base's.
    assert fast.layout == "fast" and fast.circuit_digest != keys.circuit_digest
    rows = X[[0, 19]]
    salt = "0x" + "00" * 31 + "07"
    proof, compact = zkguard.prove(fast, q, rows, salt=salt), zkguard.prove(keys, q, rows, salt=salt)
    verified = zkguard.verify(fast, proof)
    # Same statement in both layouts: commitments, decisions and scores are equal; the proof is larger.
    assert verified.decisions == compact.decisions and verified.scores_fixed == compact.scores_fixed
    assert proof.input_commitment == compact.input_commitment and proof.model_commitment == q.model_commitment
    assert len(proof.proof) > len(compact.proof)
    # The layout is read from the keys: loading them by digest verifies the same proof.
    with pytest.warns(UserWarning, match="INSECURE DEVELOPMENT SRS"):
        loaded = zkguard.load_keys(proof.circuit_digest, cache_dir=TEST_CACHE, insecure_dev_srs=True)
    assert loaded.layout == "fast" and zkguard.verify(loaded, zkguard.Proof.from_json(proof.to_json())).sample_count == 2
    with pytest.raises(zkguard.VerificationError, match="these keys are for"):
        zkguard.verify(keys, proof)
    insecure = pytest.warns(UserWarning, match="INSECURE DEVELOPMENT SRS")
    with insecure, pytest.raises(zkguard.InputError, match='unknown circuit layout "fastest"'):
        zkguard.keygen(q, BATCH, cache_dir=TEST_CACHE, insecure_dev_srs=True, layout="fastest")
    insecure = pytest.warns(UserWarning, match="INSECURE DEVELOPMENT SRS")
    with insecure, pytest.raises(zkguard.InputError, match="max_columns = 4 applies to the compact layout only"):
        zkguard.keygen(q, BATCH, cache_dir=TEST_CACHE, insecure_dev_srs=True, layout="fast", max_columns=4)


def test_keys_without_scores_prove_decisions_only(flow):
    X, _, _, _, q, keys = flow
    assert keys.has_scores
    with pytest.warns(UserWarning, match="INSECURE DEVELOPMENT SRS"):
        bare = zkguard.keygen(q, BATCH, cache_dir=TEST_CACHE, insecure_dev_srs=True, scores=False)
    assert not bare.has_scores and bare.circuit_digest != keys.circuit_digest
    assert bare.num_instance < keys.num_instance
    rows = X[[0, 19]]
    proof, scored = zkguard.prove(bare, q, rows), zkguard.prove(keys, q, rows)
    assert proof.scores_fixed == [] and proof.decisions == scored.decisions
    verified = zkguard.verify(bare, proof)
    assert verified.scores_fixed == [] and verified.decisions == scored.decisions
    again = zkguard.Proof.from_json(proof.to_json())
    assert zkguard.verify(bare, again).sample_count == 2
