// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IGuardAction} from "./interfaces/IGuardAction.sol";
import {VerifiedResult} from "./interfaces/IGuard.sol";
import {IBreakerTarget, IPausableTarget} from "./interfaces/IBreakerTarget.sol";
import {
    ICircuitBreakerErrors,
    ICircuitBreakerEvents,
    TargetKind,
    Trip
} from "./interfaces/ICircuitBreaker.sol";

/// @title CircuitBreaker
/// @notice A Guard action that pauses a model's protected target when a verified result crosses the
///         model's policy: flaggedCount >= minFlagged (when minFlagged > 0), or any real sample's
///         score >= scoreThreshold (when the policy uses scores).
/// @dev Only the Guard can trip it; only governance (the Ownable2Step owner) configures targets and
///      unpauses hook targets. An OpenZeppelin Pausable target (kind PausableRole) grants this
///      breaker its pauser role and is unpaused by its own governance.
contract CircuitBreaker is IGuardAction, ICircuitBreakerErrors, ICircuitBreakerEvents, Ownable2Step {
    /// @notice The Guard allowed to call {onVerified}.
    address public immutable guard;

    /// @notice The protected target of each model.
    mapping(uint256 modelId => address target) public targetOf;
    /// @notice How each target is paused.
    mapping(address target => TargetKind) public kindOf;

    Trip[] private _trips;

    /// @notice Creates a breaker for `guard_`, governed by `initialOwner`.
    /// @param guard_ The Guard contract.
    /// @param initialOwner Governance.
    constructor(address guard_, address initialOwner) Ownable(initialOwner) {
        if (guard_.code.length == 0) revert GuardHasNoCode(guard_);
        guard = guard_;
    }

    /// @notice Sets (or, with target 0 and kind None, removes) the protected target of a model.
    /// @param modelId The model.
    /// @param target The contract to pause.
    /// @param kind How to pause it.
    function setTarget(uint256 modelId, address target, TargetKind kind) external onlyOwner {
        if (kind == TargetKind.None) {
            if (target != address(0)) revert InvalidTarget(target, kind);
        } else {
            if (target.code.length == 0) revert InvalidTarget(target, kind);
            kindOf[target] = kind;
        }
        targetOf[modelId] = target;
        emit TargetSet(modelId, target, kind);
    }

    /// @notice Whether a verified result crosses its policy.
    /// @param result The verified result.
    /// @return crossed True when the breaker would trip.
    /// @return maxScore Highest real-sample score (type(int256).min without scores).
    function crossesPolicy(VerifiedResult calldata result)
        public
        pure
        returns (bool crossed, int256 maxScore)
    {
        maxScore = type(int256).min;
        for (uint256 i = 0; i < result.scores.length; ++i) {
            if (result.scores[i] > maxScore) maxScore = result.scores[i];
        }
        uint32 minFlagged = result.policy.minFlagged;
        crossed = (minFlagged != 0 && result.flaggedCount >= minFlagged)
            || (result.policy.useScoreThreshold
                && result.scores.length != 0
                && maxScore >= result.policy.scoreThreshold);
    }

    /// @inheritdoc IGuardAction
    /// @dev Trips (records, emits, pauses the target) when the result crosses the policy; otherwise
    ///      does nothing. Reverts with {TargetNotConfigured} when it must trip but has no target.
    function onVerified(VerifiedResult calldata result) external {
        if (msg.sender != guard) revert NotGuard(msg.sender);
        (bool crossed, int256 maxScore) = crossesPolicy(result);
        if (!crossed) return;

        address target = targetOf[result.modelId];
        if (target == address(0)) revert TargetNotConfigured(result.modelId);
        bytes32 evidence = keccak256(abi.encode(result.modelId, result.nonce, result.inputCommitments));
        uint256 tripId = _trips.length;
        _trips.push(
            Trip({
                modelId: result.modelId,
                evidence: evidence,
                maxScore: maxScore,
                target: target,
                nonce: result.nonce,
                flaggedCount: SafeCast.toUint32(result.flaggedCount)
            })
        );
        emit Tripped(tripId, result.modelId, target, result.nonce, result.flaggedCount, maxScore, evidence);

        if (kindOf[target] == TargetKind.Hook) {
            IBreakerTarget(target).zkGuardPause(evidence);
        } else if (!IPausableTarget(target).paused()) {
            IPausableTarget(target).pause();
        }
    }

    /// @notice Unpauses a hook target (governance only). PausableRole targets are unpaused by
    ///         their own governance and revert with {UnpauseNotSupported}.
    /// @param target The target to resume.
    function unpauseTarget(address target) external onlyOwner {
        TargetKind kind = kindOf[target];
        if (kind != TargetKind.Hook) revert UnpauseNotSupported(target, kind);
        emit TargetUnpaused(target, msg.sender);
        IBreakerTarget(target).zkGuardUnpause();
    }

    /// @notice Number of recorded trips.
    /// @return The count.
    function tripCount() external view returns (uint256) {
        return _trips.length;
    }

    /// @notice A recorded trip.
    /// @param tripId Its index (0-based).
    /// @return The trip.
    function tripAt(uint256 tripId) external view returns (Trip memory) {
        if (tripId >= _trips.length) revert UnknownTrip(tripId);
        return _trips[tripId];
    }
}
