"""zkguard: verifiable ML guards -- export a model, prove its decisions, verify the proofs.

The flow, in process (the Rust prover is compiled into this package)::

    import zkguard
    model = zkguard.export(clf, feature_names, name="fraud")        # sklearn, XGBoost, LightGBM, CatBoost, ONNX
    report = zkguard.check(model, X_test, y_test)                   # quantized vs float agreement
    q = zkguard.quantize(model, X_train)                            # fixed point + Poseidon commitment
    keys = zkguard.keygen(q, batch_size=4, insecure_dev_srs=True)   # INSECURE dev SRS: tests only
    proof = zkguard.prove(keys, q, X_test[:4])
    verified = zkguard.verify(keys, proof)                          # raises VerificationError if not

Arrays are numpy (or anything ``numpy.asarray`` takes: lists, pandas frames), one row per sample
with the model's features in order. Results are typed objects (:class:`QuantizedModel`,
:class:`CheckReport`, :class:`Keys`, :class:`Proof`, :class:`Verified`, ...). Errors are
:class:`ZkguardError` subclasses carrying the prover's message; a :class:`ModelError` also has
``path``, ``expected`` and ``found``. Proving, key generation, aggregation and verification
release the GIL.

The exporters (model objects -> zkguard model files, ``docs/MODEL_FORMAT.md``) are in
:mod:`zkguard.exporters`; :func:`export` picks the right one.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from . import _zkguard
from ._zkguard import (
    INSECURE_WARNING,
    AggregationProof,
    CheckReport,
    InputError,
    Keys,
    KeysError,
    ModelError,
    Proof,
    ProofError,
    QuantizedModel,
    VerificationError,
    Verified,
    Verifier,
    VerifierError,
    ZkguardError,
)

__version__ = _zkguard.VERSION

__all__ = [
    "INSECURE_WARNING",
    "AggregationProof",
    "CheckReport",
    "InputError",
    "Keys",
    "KeysError",
    "ModelError",
    "Proof",
    "ProofError",
    "QuantizedModel",
    "VerificationError",
    "Verified",
    "Verifier",
    "VerifierError",
    "ZkguardError",
    "aggregate",
    "check",
    "commit_inputs",
    "context",
    "evm_verify",
    "export",
    "generate_verifier",
    "keygen",
    "limits",
    "load_keys",
    "load_model",
    "load_proof",
    "load_quantized",
    "prove",
    "quantize",
    "validate",
    "verify",
    "write_model",
]

DEFAULT_CACHE_DIR = ".zkguard"
DEFAULT_MAX_COLUMNS = 4  # the compact layout's default column budget


def limits() -> dict:
    """The limits the Rust validator enforces (max features, layers, trees, depth, scale bits...)."""
    return _zkguard.limits()


def _rows(X: Any, what: str = "X") -> list[list[float]]:
    """``X`` as a list of float rows: a 2-D array (one row per sample) or a single 1-D sample."""
    a = np.asarray(X, dtype=np.float64)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise InputError(f"{what} must be a 2-D array (samples x features), got shape {a.shape}")
    return a.tolist()


def _model_json(model: Any) -> str:
    """Model JSON text from a model dict, a JSON string or a path to a model file."""
    if isinstance(model, dict):
        from .exporters.schema import dumps_model

        return dumps_model(model)
    if isinstance(model, (str, os.PathLike)) and not str(model).lstrip().startswith("{"):
        return Path(model).read_text(encoding="utf-8")
    if isinstance(model, str):
        return model
    raise TypeError(f"a model is a dict (from zkguard.export), a JSON string or a path, not {type(model).__name__}")


def export(model: Any, feature_names: Sequence[str] | None = None, *, name: str, **options: Any) -> dict:
    """Converts a fitted model to a zkguard model dict (``docs/MODEL_FORMAT.md``).

    Accepts scikit-learn estimators and pipelines, ``xgboost`` (``XGBClassifier``, ``Booster``),
    ``lightgbm`` (``LGBMClassifier``, ``Booster``), ``catboost`` (``CatBoostClassifier``) and ONNX
    models (an ``onnx.ModelProto`` or a path to a ``.onnx`` file, from PyTorch, Keras, skl2onnx or
    onnxmltools). ``options`` are those of the specific exporter (``threshold``,
    ``probability_threshold``, ``calibrate_on``, ``positive_class``, ...). Anything unsupported is
    refused with ``UnsupportedModelError`` naming it.
    """
    from . import exporters

    return exporters.export(model, feature_names, name=name, **options)


def validate(model: Any) -> None:
    """Validates a model (dict, JSON text or path) exactly as the prover does; raises ModelError."""
    _zkguard.validate_model_json(_model_json(model))


def load_model(path: str | os.PathLike) -> dict:
    """Reads a model file, refusing NaN and duplicate keys (named by path) and validating it."""
    from .exporters.schema import load_model as load

    return load(path)


def write_model(model: dict, path: str | os.PathLike) -> Path:
    """Validates and writes a model dict as deterministic JSON."""
    from .exporters.schema import write_model as write

    return write(model, path)


def quantize(model: Any, calibration: Any) -> QuantizedModel:
    """Validates and quantizes ``model``, choosing the fixed-point scale from ``calibration`` rows
    (what ``zkguard model import`` does). The result carries the model commitment."""
    return _zkguard.quantize(_model_json(model), _rows(calibration, "calibration"))


def load_quantized(path: str | os.PathLike, calibration_csv: str | os.PathLike | None = None) -> QuantizedModel:
    """Loads a ``zkguard-quantized`` file (``zkguard model import``), or quantizes a float model
    file with a calibration CSV, as the CLI's ``--model``/``--calibration`` do."""
    return _zkguard.load_quantized(os.fspath(path), None if calibration_csv is None else os.fspath(calibration_csv))


def check(model: Any, X: Any, y: Any = None, *, calibration: Any = None) -> CheckReport:
    """Compares the quantized model's decisions and scores with the float model's on ``X``
    (``y``: optional labels; ``calibration``: rows to choose the scale from, default ``X``)."""
    labels = None if y is None else np.asarray(y, dtype=np.float64).ravel().tolist()
    cal = None if calibration is None else _rows(calibration, "calibration")
    return _zkguard.check(_model_json(model), _rows(X), labels, cal)


def _srs_args(srs: str | os.PathLike | None, srs_sha256: str | None, insecure_dev_srs: bool) -> dict:
    if insecure_dev_srs:
        warnings.warn(f"{INSECURE_WARNING} (from Python: srs=FILE, srs_sha256=HEX)", UserWarning, stacklevel=3)
    return {"srs": None if srs is None else os.fspath(srs), "srs_sha256": srs_sha256, "insecure_dev_srs": insecure_dev_srs}


def keygen(
    model: QuantizedModel,
    batch_size: int = 16,
    *,
    cache_dir: str | os.PathLike = DEFAULT_CACHE_DIR,
    srs: str | os.PathLike | None = None,
    srs_sha256: str | None = None,
    insecure_dev_srs: bool = False,
    max_columns: int | None = None,
    visibility: str = "committed",
    layout: str = "compact",
    scores: bool = True,
) -> Keys:
    """Generates (or loads from ``cache_dir``) the proving and verifying keys of ``model``'s
    circuit at ``batch_size`` samples per proof. Choose the KZG parameters explicitly: a ceremony
    file (``srs=``, ``srs_sha256=``) or ``insecure_dev_srs=True`` (INSECURE: anyone can forge
    proofs; a warning says so). ``visibility="committed"`` (the default) keeps the parameters
    private behind the model commitment, one circuit per shape; ``"fixed"`` makes them constants
    of the circuit (one circuit per model: the verifying key pins it, proofs are cheaper, and the
    proving key holds the weights); proving with another model than a fixed key's is refused.
    ``layout="compact"`` (the default) lays the circuit out in few tall columns (at most
    ``max_columns``, default ``DEFAULT_MAX_COLUMNS``): ~2-3 KB proofs and a Solidity verifier that
    fits on chain; ``"fast"`` uses the dedicated Poseidon gate and many short columns: proving is
    several times faster, proofs are 7-27 KB and the circuit's own Solidity verifier is over the
    24,576-byte contract limit, so use it for proofs verified off chain (:func:`verify`). It sizes
    its own columns: ``max_columns`` with ``layout="fast"`` is refused. :func:`prove` and
    :func:`verify` follow the keys' layout (``keys.layout``). ``scores=False`` makes a circuit
    whose proofs carry each sample's decision but no score (fewer public instances; enough for a
    policy on flagged counts or verdicts): ``proof.scores_fixed`` is then empty."""
    return _zkguard.keygen(
        model, int(batch_size), cache_dir=os.fspath(cache_dir),
        max_columns=None if max_columns is None else int(max_columns),
        visibility=str(visibility), layout=str(layout), scores=bool(scores), **_srs_args(srs, srs_sha256, insecure_dev_srs),
    )


def load_keys(
    circuit_digest: str,
    *,
    cache_dir: str | os.PathLike = DEFAULT_CACHE_DIR,
    srs: str | os.PathLike | None = None,
    srs_sha256: str | None = None,
    insecure_dev_srs: bool = False,
) -> Keys:
    """Loads cached keys by circuit digest (e.g. ``proof.circuit_digest``)."""
    return _zkguard.load_keys(circuit_digest, cache_dir=os.fspath(cache_dir), **_srs_args(srs, srs_sha256, insecure_dev_srs))


def prove(
    keys: Keys,
    model: QuantizedModel,
    X: Any,
    *,
    context: str | None = None,
    salt: str | None = None,
    transcript: str = "evm",
) -> Proof:
    """Proves ``model``'s decisions on the rows of ``X`` (1..=``keys.batch_size`` samples).

    ``context`` (hex, from :func:`context`) binds the proof to one submission (0 without it: no
    Guard accepts that); ``salt`` (hex) hides the inputs behind their commitment (random if not
    given); ``transcript`` is ``"evm"`` (Solidity verifier) or ``"poseidon"`` (for :func:`aggregate`).
    """
    return _zkguard.prove(keys, model, _rows(X), context=context, salt=salt, transcript=transcript)


def verify(keys: Keys, proof: Proof) -> Verified:
    """Verifies ``proof``; returns what its verified instances say, or raises VerificationError
    (also when a field beside the instances -- decisions, scores, commitments -- was changed)."""
    return _zkguard.verify(keys, proof)


def load_proof(path: str | os.PathLike) -> Proof:
    """Reads a proof artifact (``zkguard prove -o FILE`` or ``Path(f).write_text(proof.to_json())``)."""
    return Proof.from_json(Path(path).read_text(encoding="utf-8"))


def commit_inputs(model: QuantizedModel, X: Any, salt: str, batch_size: int) -> str:
    """The input commitment (hex) a proof of the rows of ``X`` with ``salt`` carries."""
    return _zkguard.commit_inputs(model, _rows(X), salt, int(batch_size))


def context(
    *, chain_id: int, guard: str, model_id: int, nonce: int, issued_at: int, subjects: Sequence[str] = ()
) -> str:
    """The context field element (hex) binding a proof to chain, Guard, model id, nonce, issue time
    and subjects (one address per sample, or none). Every part is required."""
    return _zkguard.context(
        chain_id=chain_id, guard=guard, model_id=model_id, nonce=nonce, issued_at=issued_at, subjects=list(subjects)
    )


def aggregate(keys: Keys, proofs: Sequence[Proof], *, k: int | None = None) -> AggregationProof:
    """Aggregates ``poseidon``-transcript proofs of one circuit into one proof (batch mode). The
    aggregation circuit has k >= 18: minutes and gigabytes, not a notebook-cell operation."""
    return _zkguard.aggregate(keys, list(proofs), k=k)


def generate_verifier(keys: Keys, *, solc: str | os.PathLike, name: str | None = None) -> Verifier:
    """Generates and compiles the Solidity verifier of ``keys``' circuit with ``solc``."""
    return _zkguard.generate_verifier(keys, solc=os.fspath(solc), name=name)


def evm_verify(verifier: Verifier, proof: Proof) -> int:
    """Runs ``verifier`` on ``proof`` in an in-process EVM; returns the gas, or raises VerificationError."""
    return _zkguard.evm_verify_proof(verifier, proof)


def _float_scores(model: Any, X: Any) -> tuple[np.ndarray, np.ndarray]:
    """The Rust float reference's scores and decisions (what ``check`` compares against)."""
    scores, decisions = _zkguard.float_scores(_model_json(model), _rows(X))
    return np.asarray(scores), np.asarray(decisions)


del json
