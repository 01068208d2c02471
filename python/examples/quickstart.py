"""zkguard in ~20 lines: train, export, check, prove and verify a fraud-style classifier.

    pip install ./python && python python/examples/quickstart.py

INSECURE: this uses the development SRS (a publicly known secret: anyone can forge proofs) so
that it runs offline; use a ceremony file (srs=, srs_sha256=) for anything real.
"""

import zkguard
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

data = load_breast_cancer()
X, y, names = data.data, data.target, list(data.feature_names)
clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X, y)

model = zkguard.export(clf, names, name="quickstart", positive_class=0)  # flag class 0: malignant
report = zkguard.check(model, X, y)                         # fixed point vs float, on real data
print(f"quantized = float on {report.agreement:.2%} of {report.samples} samples")

q = zkguard.quantize(model, X)                              # fixed point + Poseidon commitment
keys = zkguard.keygen(q, batch_size=4, insecure_dev_srs=True)  # cached in .zkguard/
proof = zkguard.prove(keys, q, X[:4])                       # GIL released while proving
verified = zkguard.verify(keys, proof)                      # raises VerificationError if not
print(f"verified {verified.sample_count} decisions {verified.decisions} of model {verified.model_commitment[:18]}...")
