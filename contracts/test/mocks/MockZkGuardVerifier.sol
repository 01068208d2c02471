// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IZkGuardVerifier} from "../../src/interfaces/IZkGuardVerifier.sol";

/// @title MockZkGuardVerifier
/// @notice A wrapper stand-in with freely settable (possibly inconsistent) layout getters, to test
///         the registry's checks of a verifier's shape.
contract MockZkGuardVerifier is IZkGuardVerifier {
    bytes32 public circuitDigest;
    uint256 public instanceCount;
    uint256 public appInstanceCount;
    uint256 public proofCount;
    uint256 public accumulatorLimbs;
    uint256 public proofLength = 96;

    constructor(bytes32 digest, uint256 total, uint256 app, uint256 proofs, uint256 limbs) {
        circuitDigest = digest;
        instanceCount = total;
        appInstanceCount = app;
        proofCount = proofs;
        accumulatorLimbs = limbs;
    }

    /// @inheritdoc IZkGuardVerifier
    function verify(uint256[] calldata, bytes calldata) external pure {
        revert ProofRejected();
    }
}
