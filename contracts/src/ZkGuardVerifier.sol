// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IZkGuardVerifier} from "./interfaces/IZkGuardVerifier.sol";
import {InstanceLayout} from "./InstanceLayout.sol";

/// @title ZkGuardVerifier
/// @notice Hand-written wrapper around a generated halo2 verifier (direct or aggregated).
/// @dev The generated verifier is never edited by hand. Its `fallback` takes the raw calldata
///      `instances (32-byte big-endian words) ‖ proof`, returns empty on success and reverts on
///      failure, and it ignores calldata past the proof. This wrapper fixes the instance count and
///      the exact proof length (so no padded or truncated proof reaches it), range-checks every
///      instance and turns a rejection into {ProofRejected}.
contract ZkGuardVerifier is IZkGuardVerifier {
    /// @notice The generated verifier contract.
    address public immutable generatedVerifier;

    bytes32 private immutable _circuitDigest;
    uint256 private immutable _appInstanceCount;
    uint256 private immutable _proofCount;
    uint256 private immutable _accumulatorLimbs;
    uint256 private immutable _proofLength;

    /// @notice Wraps a deployed generated verifier.
    /// @param generatedVerifier_ The generated verifier (must hold code).
    /// @param circuitDigest_ Digest of the circuit the verifier was generated for.
    /// @param appInstanceCount_ Instances per app proof (>= 5: header and one decision word).
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
    ) {
        if (generatedVerifier_.code.length == 0) {
            revert VerifierHasNoCode(generatedVerifier_);
        }
        if (proofCount_ == 0 || appInstanceCount_ <= InstanceLayout.HEADER_INSTANCES) {
            revert InvalidVerifierLayout(appInstanceCount_, proofCount_);
        }
        if (proofLength_ == 0 || proofLength_ % 32 != 0) revert InvalidProofLength(proofLength_);
        generatedVerifier = generatedVerifier_;
        _circuitDigest = circuitDigest_;
        _appInstanceCount = appInstanceCount_;
        _proofCount = proofCount_;
        _accumulatorLimbs = accumulatorLimbs_;
        _proofLength = proofLength_;
    }

    /// @inheritdoc IZkGuardVerifier
    function verify(uint256[] calldata instances, bytes calldata proof) external view {
        uint256 expected = instanceCount();
        if (instances.length != expected) revert InstanceCountMismatch(expected, instances.length);
        if (proof.length != _proofLength) revert ProofLengthMismatch(_proofLength, proof.length);
        for (uint256 i = 0; i < instances.length; ++i) {
            if (instances[i] >= InstanceLayout.FIELD_MODULUS) revert InstanceOutOfField(i, instances[i]);
        }
        // abi.encodePacked pads each array element to 32 bytes: exactly `instances ‖ proof`.
        (bool ok,) = generatedVerifier.staticcall(abi.encodePacked(instances, proof));
        if (!ok) revert ProofRejected();
    }

    /// @inheritdoc IZkGuardVerifier
    function circuitDigest() external view returns (bytes32) {
        return _circuitDigest;
    }

    /// @inheritdoc IZkGuardVerifier
    function instanceCount() public view returns (uint256) {
        return _accumulatorLimbs + _proofCount * _appInstanceCount;
    }

    /// @inheritdoc IZkGuardVerifier
    function proofLength() external view returns (uint256) {
        return _proofLength;
    }

    /// @inheritdoc IZkGuardVerifier
    function appInstanceCount() external view returns (uint256) {
        return _appInstanceCount;
    }

    /// @inheritdoc IZkGuardVerifier
    function proofCount() external view returns (uint256) {
        return _proofCount;
    }

    /// @inheritdoc IZkGuardVerifier
    function accumulatorLimbs() external view returns (uint256) {
        return _accumulatorLimbs;
    }
}
