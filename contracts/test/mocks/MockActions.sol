// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IGuardAction} from "../../src/interfaces/IGuardAction.sol";
import {Attestation, IGuard, SubmissionContext, VerifiedResult} from "../../src/interfaces/IGuard.sol";

/// @title RecordingAction
/// @notice Stores the last verified result it was given.
contract RecordingAction is IGuardAction {
    VerifiedResult internal _last;
    /// @notice Number of calls.
    uint256 public calls;
    /// @notice Last caller.
    address public lastCaller;

    /// @inheritdoc IGuardAction
    function canPause() external pure returns (bool) {
        return false;
    }

    /// @inheritdoc IGuardAction
    function onVerified(VerifiedResult calldata result) external {
        _last = result;
        ++calls;
        lastCaller = msg.sender;
    }

    /// @notice The last result.
    /// @return The stored result.
    function last() external view returns (VerifiedResult memory) {
        return _last;
    }
}

/// @title ReentrantAction
/// @notice Tries to re-enter the Guard from inside onVerified.
contract ReentrantAction is IGuardAction {
    IGuard public guard;
    uint256 public modelId;
    SubmissionContext internal _ctx;
    uint256[] internal _instances;
    bytes internal _proof;

    /// @notice Configure the re-entrant call.
    function arm(
        IGuard guard_,
        uint256 modelId_,
        SubmissionContext memory ctx,
        uint256[] memory instances,
        bytes memory proof
    ) external {
        guard = guard_;
        modelId = modelId_;
        _ctx = ctx;
        _instances = instances;
        _proof = proof;
    }

    /// @inheritdoc IGuardAction
    function canPause() external pure returns (bool) {
        return false;
    }

    /// @inheritdoc IGuardAction
    function onVerified(VerifiedResult calldata) external {
        guard.submit(modelId, _ctx, new Attestation[](0), _instances, _proof);
    }
}

/// @title RevertingAction
/// @notice Always reverts.
contract RevertingAction is IGuardAction {
    /// @notice The error it reverts with.
    error ActionFailed(uint256 modelId);

    /// @inheritdoc IGuardAction
    function canPause() external pure returns (bool) {
        return true;
    }

    /// @inheritdoc IGuardAction
    function onVerified(VerifiedResult calldata result) external pure {
        revert ActionFailed(result.modelId);
    }
}
