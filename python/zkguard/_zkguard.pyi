"""Type stubs of the native module ``zkguard._zkguard`` (the Rust prover, PyO3)."""

from typing import Any

VERSION: str
INSECURE_WARNING: str

class ZkguardError(Exception): ...

class ModelError(ZkguardError):
    path: str | None
    expected: str | None
    found: str | None

class InputError(ZkguardError): ...
class KeysError(ZkguardError): ...
class ProofError(ZkguardError): ...
class VerificationError(ZkguardError): ...
class VerifierError(ZkguardError): ...

class QuantizedModel:
    @property
    def name(self) -> str: ...
    @property
    def features(self) -> list[str]: ...
    @property
    def family(self) -> str: ...
    @property
    def scale_bits(self) -> int: ...
    @property
    def value_bits(self) -> int: ...
    @property
    def threshold(self) -> float: ...
    @property
    def model_commitment(self) -> str: ...
    def to_json(self) -> str: ...
    def quantize_rows(self, rows: list[list[float]]) -> list[list[int]]: ...

class CheckReport:
    model: str
    samples: int
    scale_bits: int
    value_bits: int
    agreement: float
    disagreements: list[int]
    float_flagged: int
    quantized_flagged: int
    score_max_abs_error: float
    score_mean_abs_error: float
    score_rmse: float
    float_label_accuracy: float | None
    quantized_label_accuracy: float | None
    float_scores: list[float]
    quantized_scores: list[float]

class Keys:
    @property
    def circuit_digest(self) -> str: ...
    @property
    def k(self) -> int: ...
    @property
    def batch_size(self) -> int: ...
    @property
    def visibility(self) -> str: ...
    @property
    def layout(self) -> str: ...
    @property
    def has_scores(self) -> bool: ...
    @property
    def num_instance(self) -> int: ...
    @property
    def advice_columns(self) -> list[int]: ...
    @property
    def srs(self) -> str: ...
    @property
    def insecure_srs(self) -> bool: ...

class Proof:
    circuit_digest: str
    model_name: str
    model_commitment: str
    input_commitment: str
    context: str
    transcript: str
    batch_size: int
    sample_count: int
    decisions: list[bool]
    scores_fixed: list[int]
    instances: list[str]
    proof: bytes
    srs: str
    insecure_srs: bool
    def to_json(self) -> str: ...
    @staticmethod
    def from_json(text: str) -> Proof: ...

class Verified:
    circuit_digest: str
    model_commitment: str
    input_commitment: str
    context: str
    sample_count: int
    decisions: list[bool]
    scores_fixed: list[int]
    insecure_srs: bool

class AggregationProof:
    circuit_digest: str
    app_circuit_digest: str
    proofs: int
    k: int
    instances: list[str]
    proof: bytes
    calldata: bytes
    insecure_srs: bool

class Verifier:
    name: str
    circuit_digest: str
    num_instance: int
    source: str
    creation_code: bytes
    runtime_code: bytes
    compiler: str
    insecure_srs: bool

def limits() -> dict[str, Any]: ...
def validate_model_json(json: str) -> None: ...
def float_scores(json: str, rows: list[list[float]]) -> tuple[list[float], list[bool]]: ...
def quantize(json: str, calibration: list[list[float]]) -> QuantizedModel: ...
def check(
    json: str, data: list[list[float]], labels: list[float] | None = None, calibration: list[list[float]] | None = None
) -> CheckReport: ...
def load_quantized(path: str, calibration: str | None = None) -> QuantizedModel: ...
def keygen(
    model: QuantizedModel,
    batch_size: int,
    *,
    cache_dir: str,
    srs: str | None = None,
    srs_sha256: str | None = None,
    insecure_dev_srs: bool = False,
    max_columns: int | None = None,
    visibility: str = "committed",
    layout: str = "compact",
    scores: bool = True,
) -> Keys: ...
def load_keys(
    circuit_digest: str, *, cache_dir: str, srs: str | None = None, srs_sha256: str | None = None, insecure_dev_srs: bool = False
) -> Keys: ...
def prove(
    keys: Keys,
    model: QuantizedModel,
    rows: list[list[float]],
    *,
    context: str | None = None,
    salt: str | None = None,
    transcript: str = "evm",
) -> Proof: ...
def verify(keys: Keys, proof: Proof) -> Verified: ...
def commit_inputs(model: QuantizedModel, rows: list[list[float]], salt: str, batch_size: int) -> str: ...
def context(
    *, chain_id: int, guard: str, model_id: int, nonce: int, issued_at: int, subjects: list[str] = ...
) -> str: ...
def aggregate(keys: Keys, proofs: list[Proof], *, k: int | None = None) -> AggregationProof: ...
def generate_verifier(keys: Keys, *, solc: str, name: str | None = None) -> Verifier: ...
def evm_verify_proof(verifier: Verifier, proof: Proof) -> int: ...
