//! The package's exceptions and the mapping of the prover's errors onto them.
//!
//! Every message is the Rust error's `Display` followed by its `source()` chain, so nothing the
//! prover says is lost. A model file error also sets `path` (the field path, e.g.
//! `model.layers[1].bias[3]`), `expected` and `found` on the exception.

use std::error::Error;

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use zkguard_prover::model::ModelError as RustModelError;

pyo3::create_exception!(_zkguard, ZkguardError, PyException, "Any error of the zkguard prover.");
pyo3::create_exception!(
    _zkguard,
    ModelError,
    ZkguardError,
    "A model file zkguard refuses: `path` names the field, `expected` and `found` say why."
);
pyo3::create_exception!(
    _zkguard,
    InputError,
    ZkguardError,
    "Input data the model or circuit cannot take (wrong feature count, out-of-range value, bad hex)."
);
pyo3::create_exception!(_zkguard, KeysError, ZkguardError, "Keys or parameters could not be made or loaded.");
pyo3::create_exception!(_zkguard, ProofError, ZkguardError, "Proving or aggregating failed.");
pyo3::create_exception!(
    _zkguard,
    VerificationError,
    ZkguardError,
    "A proof that does not verify, or whose fields disagree with its verified instances."
);
pyo3::create_exception!(_zkguard, VerifierError, ZkguardError, "Generating or compiling a Solidity verifier failed.");

/// `error`'s message followed by each distinct source's (`a: b: c`).
pub fn chain(error: &dyn Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// A model error as [`ModelError`] with `path`, `expected` and `found` set (None where the
/// prover's error has no such part, e.g. an unreadable file).
pub fn model_error(py: Python<'_>, error: &RustModelError) -> PyErr {
    let err = ModelError::new_err(chain(error));
    let (path, expected, found) = match error {
        RustModelError::Io { .. } => (None, None, None),
        RustModelError::Parse { path, message, .. } => (Some(path.clone()), None, Some(message.clone())),
        RustModelError::Invalid { path, expected, found, .. } => {
            (Some(path.clone()), Some(expected.clone()), Some(found.clone()))
        }
    };
    let value = err.value(py);
    // Setting attributes on a fresh exception instance cannot fail short of memory exhaustion;
    // the message carries the same facts if it ever did.
    let _ = value.setattr("path", path);
    let _ = value.setattr("expected", expected);
    let _ = value.setattr("found", found);
    err
}

/// Maps any error onto exception type `E` with its full message.
pub fn to_py<E: pyo3::type_object::PyTypeInfo>(error: &dyn Error) -> PyErr {
    PyErr::new::<E, _>(chain(error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);
    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl Error for Layer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1.as_deref().map(|l| l as &(dyn Error + 'static))
        }
    }

    #[test]
    fn chain_appends_each_new_source_once() {
        let e = Layer("reading keys", Some(Box::new(Layer("no such file", Some(Box::new(Layer("os error 2", None)))))));
        assert_eq!(chain(&e), "reading keys: no such file: os error 2");
        // A source already quoted in the message is not repeated ("cause printed twice", #19).
        let e = Layer("reading keys: no such file", Some(Box::new(Layer("no such file", None))));
        assert_eq!(chain(&e), "reading keys: no such file");
    }
}
