//! Conversions between signed integers and BN254 scalar-field elements.
//!
//! Signed values use the field encoding of the public-instance layout: `v >= 0` is `v`, `v < 0`
//! is `r - |v|`. Decoding takes the element as negative when it is above `(r - 1) / 2`.

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::{Field, PrimeField};

/// `2^n` as a field element.
pub fn pow2(n: u64) -> Fr {
    Fr::from(2u64).pow_vartime([n])
}

/// Encodes a signed integer.
pub fn fr_from_i128(v: i128) -> Fr {
    if v >= 0 {
        Fr::from_u128(v as u128)
    } else {
        -Fr::from_u128(v.unsigned_abs())
    }
}

/// Encodes a signed 64-bit integer.
pub fn fr_from_i64(v: i64) -> Fr {
    fr_from_i128(v as i128)
}

/// Decodes a field element that holds a signed integer of magnitude below 2^126; `None` if it is
/// outside that range on either side.
pub fn fr_to_i128(x: &Fr) -> Option<i128> {
    let repr = x.to_repr();
    let low = |bytes: &[u8]| -> Option<u128> {
        if bytes[16..].iter().any(|&b| b != 0) {
            return None;
        }
        let v = u128::from_le_bytes(bytes[..16].try_into().expect("16 bytes"));
        (v < 1 << 126).then_some(v)
    };
    if let Some(v) = low(repr.as_ref()) {
        return Some(v as i128);
    }
    let neg = (-*x).to_repr();
    low(neg.as_ref()).map(|v| -(v as i128))
}

/// The element as 32 big-endian bytes (the EVM's `uint256` word).
pub fn fr_to_be_bytes(x: &Fr) -> [u8; 32] {
    let mut bytes: [u8; 32] = x.to_repr().as_ref().try_into().expect("32 bytes");
    bytes.reverse();
    bytes
}

/// Parses 32 big-endian bytes; `None` if the value is not below the modulus.
pub fn fr_from_be_bytes(bytes: &[u8; 32]) -> Option<Fr> {
    let mut le = *bytes;
    le.reverse();
    Option::from(Fr::from_repr(le))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_round_trip() {
        for v in [0i128, 1, -1, 42, -42, (1 << 100) - 1, -(1 << 100), i64::MAX as i128, i64::MIN as i128] {
            assert_eq!(fr_to_i128(&fr_from_i128(v)), Some(v), "{v}");
        }
        assert_eq!(fr_to_i128(&Fr::from_u128(1 << 127)), None);
    }

    #[test]
    fn be_bytes_round_trip() {
        let x = fr_from_i128(-7);
        assert_eq!(fr_from_be_bytes(&fr_to_be_bytes(&x)), Some(x));
        assert_eq!(fr_to_be_bytes(&Fr::from(1u64))[31], 1);
        assert_eq!(fr_from_be_bytes(&[0xff; 32]), None);
    }
}
