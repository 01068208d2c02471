// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ZkGuardVerifierBase} from "./ZkGuardVerifierBase.sol";
import {IHalo2SharedVerifier} from "./interfaces/IHalo2SharedVerifier.sol";

/// @title ZkGuardKeyedVerifier
/// @notice Wrapper around a shared halo2 verifier (deployed once per proof system) and one
///         circuit's verifying-key contract (deployed once per model): a new model deploys only its
///         key and this wrapper, not a verifier.
/// @dev The key is pinned by its code hash: the constructor refuses a key whose code hash is not
///      the one given, and the registry pins this wrapper's address, hence the key. Instance count,
///      proof length and field range are checked by {ZkGuardVerifierBase} before the verifier runs.
contract ZkGuardKeyedVerifier is ZkGuardVerifierBase {
    /// @notice The verifying key's code hash is not the pinned one.
    /// @param expected The pinned code hash.
    /// @param actual The key contract's code hash.
    error VerifyingKeyHashMismatch(bytes32 expected, bytes32 actual);

    /// @notice The shared verifier of the proof system.
    address public immutable sharedVerifier;
    /// @notice The circuit's verifying-key contract.
    address public immutable verifyingKey;
    /// @notice keccak256 of the verifying-key contract's runtime code.
    bytes32 public immutable verifyingKeyHash;

    /// @notice Wraps a shared verifier and one circuit's verifying key.
    /// @param sharedVerifier_ The shared verifier (must hold code).
    /// @param verifyingKey_ The circuit's verifying-key contract (must hold code).
    /// @param verifyingKeyHash_ The key's code hash the circuit's artifacts name.
    /// @param circuitDigest_ Digest of the circuit the key belongs to.
    /// @param appInstanceCount_ Instances per app proof (>= 6: the header and one decision word).
    /// @param proofCount_ App proofs per verified proof (>= 1).
    /// @param accumulatorLimbs_ Accumulator limbs in front (0 direct, 12 aggregated).
    /// @param proofLength_ The circuit's proof length in bytes (> 0, a multiple of 32).
    constructor(
        address sharedVerifier_,
        address verifyingKey_,
        bytes32 verifyingKeyHash_,
        bytes32 circuitDigest_,
        uint256 appInstanceCount_,
        uint256 proofCount_,
        uint256 accumulatorLimbs_,
        uint256 proofLength_
    ) ZkGuardVerifierBase(circuitDigest_, appInstanceCount_, proofCount_, accumulatorLimbs_, proofLength_) {
        if (sharedVerifier_.code.length == 0) revert VerifierHasNoCode(sharedVerifier_);
        if (verifyingKey_.code.length == 0) revert VerifierHasNoCode(verifyingKey_);
        if (verifyingKey_.codehash != verifyingKeyHash_) {
            revert VerifyingKeyHashMismatch(verifyingKeyHash_, verifyingKey_.codehash);
        }
        sharedVerifier = sharedVerifier_;
        verifyingKey = verifyingKey_;
        verifyingKeyHash = verifyingKeyHash_;
    }

    /// @inheritdoc ZkGuardVerifierBase
    function _verifies(uint256[] calldata instances, bytes calldata proof)
        internal
        view
        override
        returns (bool)
    {
        // The shared verifier only reads memory, calldata and the key's code: a static call.
        (bool ok, bytes memory ret) = sharedVerifier.staticcall(
            abi.encodeCall(IHalo2SharedVerifier.verifyProof, (verifyingKey, proof, instances))
        );
        // exactly one word holding 1 (a verifier returning anything else has not accepted)
        return ok && ret.length == 32 && abi.decode(ret, (uint256)) == 1;
    }
}
