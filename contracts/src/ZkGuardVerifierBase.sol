// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IZkGuardVerifier} from "./interfaces/IZkGuardVerifier.sol";
import {InstanceLayout} from "./InstanceLayout.sol";

/// @title ZkGuardVerifierBase
/// @notice What every verifier wrapper checks before a proof reaches a verifier: the instance
///         count of the circuit's layout, the circuit's exact proof length (no padded or truncated
///         proof), and that every instance is a BN254 scalar field element.
/// @dev A wrapper supplies {_verifies}, the call into the verifier it wraps; a rejection there
///      becomes {ProofRejected}. The layout is immutable: the registry pins the wrapper's address.
abstract contract ZkGuardVerifierBase is IZkGuardVerifier {
    bytes32 private immutable _circuitDigest;
    uint256 private immutable _appInstanceCount;
    uint256 private immutable _proofCount;
    uint256 private immutable _accumulatorLimbs;
    uint256 private immutable _proofLength;

    /// @param circuitDigest_ Digest of the circuit the verifier was generated for.
    /// @param appInstanceCount_ Instances per app proof (>= 6: the header and one decision word).
    /// @param proofCount_ App proofs per verified proof (>= 1).
    /// @param accumulatorLimbs_ Accumulator limbs in front (0 direct, 12 aggregated).
    /// @param proofLength_ The circuit's proof length in bytes (> 0, a multiple of 32).
    constructor(
        bytes32 circuitDigest_,
        uint256 appInstanceCount_,
        uint256 proofCount_,
        uint256 accumulatorLimbs_,
        uint256 proofLength_
    ) {
        if (proofCount_ == 0 || appInstanceCount_ <= InstanceLayout.HEADER_INSTANCES) {
            revert InvalidVerifierLayout(appInstanceCount_, proofCount_);
        }
        if (proofLength_ == 0 || proofLength_ % 32 != 0) revert InvalidProofLength(proofLength_);
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
        if (!_verifies(instances, proof)) revert ProofRejected();
    }

    /// @dev Runs the wrapped verifier on checked instances and proof; true when it accepts.
    /// @param instances The instances (count and field range checked).
    /// @param proof The proof (length checked).
    /// @return accepted Whether the wrapped verifier accepted.
    function _verifies(uint256[] calldata instances, bytes calldata proof)
        internal
        view
        virtual
        returns (bool accepted);

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
