//! Turns revert data into a readable reason: a known custom error with its arguments, a
//! `Error(string)` / `Panic(uint256)`, or the raw selector.

use alloy::sol_types::{Revert, SolError, SolInterface};

use super::bindings::SubmitErrors::SubmitErrorsErrors;

/// A readable reason for `data` (the revert payload).
pub fn decode_revert(data: &[u8]) -> String {
    if data.is_empty() {
        return "reverted without data".into();
    }
    if let Ok(e) = SubmitErrorsErrors::abi_decode(data) {
        return readable(&format!("{e:?}"));
    }
    if let Ok(r) = Revert::abi_decode(data) {
        return format!("Error({:?})", r.reason);
    }
    if let Ok(p) = alloy::sol_types::Panic::abi_decode(data) {
        return format!("Panic({:#x})", p.code);
    }
    format!("unknown custom error 0x{}", hex::encode(&data[..data.len().min(4)]))
}

/// `Variant(Variant { a: 1, b: 2 })` (the derived `Debug`) as `Variant(a: 1, b: 2)`.
fn readable(debug: &str) -> String {
    let Some(open) = debug.find('(') else { return debug.to_string() };
    let variant = &debug[..open];
    let fields = match (debug.find('{'), debug.rfind('}')) {
        (Some(a), Some(b)) if a < b => debug[a + 1..b].trim(),
        _ => "",
    };
    format!("{variant}({fields})")
}

/// Whether a decoded reason means the proof can never go through as is (every Guard error
/// does; the relayer does not retry them).
pub fn is_known_error(data: &[u8]) -> bool {
    SubmitErrorsErrors::abi_decode(data).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::bindings::SubmitErrors;
    use alloy::primitives::U256;

    #[test]
    fn decodes_guard_errors_with_arguments() {
        let data = SubmitErrors::ModelIsRetired { modelId: U256::from(7) }.abi_encode();
        assert_eq!(decode_revert(&data), "ModelIsRetired(modelId: 7)");
        assert!(is_known_error(&data));
        assert_eq!(decode_revert(&SubmitErrors::ProofRejected {}.abi_encode()), "ProofRejected()");
        assert_eq!(decode_revert(&Revert::from("nope").abi_encode()), "Error(\"nope\")");
        assert_eq!(decode_revert(&[1, 2, 3, 4, 5]), "unknown custom error 0x01020304");
        assert_eq!(decode_revert(&[]), "reverted without data");
    }
}
