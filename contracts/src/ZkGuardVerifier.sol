// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ZkGuardVerifierBase} from "./ZkGuardVerifierBase.sol";

/// @title ZkGuardVerifier
/// @notice Hand-written wrapper around a generated halo2 verifier (direct or aggregated), one per
///         circuit (snark-verifier's unrolled verifier; its size grows with the instance count).
/// @dev The generated verifier is never edited by hand. Its `fallback` takes the raw calldata
///      `instances (32-byte big-endian words) ‖ proof`, returns empty on success and reverts on
///      failure, and it ignores calldata past the proof; {ZkGuardVerifierBase} fixes the instance
///      count and the exact proof length first.
contract ZkGuardVerifier is ZkGuardVerifierBase {
    /// @notice The generated verifier contract.
    address public immutable generatedVerifier;

    /// @notice Wraps a deployed generated verifier.
    /// @param generatedVerifier_ The generated verifier (must hold code).
    /// @param circuitDigest_ Digest of the circuit the verifier was generated for.
    /// @param appInstanceCount_ Instances per app proof (>= 6: the header and one decision word).
    /// @param proofCount_ App proofs per verified proof (>= 1).
    /// @param accumulatorLimbs_ Accumulator limbs in front (0 direct, 12 aggregated).
    /// @param proofLength_ The circuit's proof length in bytes (> 0, a multiple of 32).
    constructor(
        address generatedVerifier_,
        bytes32 circuitDigest_,
        uint256 appInstanceCount_,
        uint256 proofCount_,
        uint256 accumulatorLimbs_,
        uint256 proofLength_
    ) ZkGuardVerifierBase(circuitDigest_, appInstanceCount_, proofCount_, accumulatorLimbs_, proofLength_) {
        if (generatedVerifier_.code.length == 0) {
            revert VerifierHasNoCode(generatedVerifier_);
        }
        generatedVerifier = generatedVerifier_;
    }

    /// @inheritdoc ZkGuardVerifierBase
    function _verifies(uint256[] calldata instances, bytes calldata proof)
        internal
        view
        override
        returns (bool)
    {
        // abi.encodePacked pads each array element to 32 bytes: exactly `instances ‖ proof`.
        (bool ok,) = generatedVerifier.staticcall(abi.encodePacked(instances, proof));
        return ok;
    }
}
