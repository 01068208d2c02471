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
    FlagWindow,
    TargetKind,
    Trip
} from "./interfaces/ICircuitBreaker.sol";

/// @title CircuitBreaker
/// @notice A Guard action that pauses a model's protected target when a verified result crosses the
///         model's policy: flaggedCount >= minFlagged (when minFlagged > 0), or any real sample's
///         score >= scoreThreshold (when the policy uses scores); or when the flagged samples of
///         all submissions within the model's sliding window (set here by governance) reach the
///         window's threshold.
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

    /// @notice The sliding-window rule of each model (zeros: off).
    mapping(uint256 modelId => FlagWindow) public windowOf;

    /// @dev A model's window: a queue of (block time, flagged samples) entries, one per block with
    ///      flagged samples, and the running total of the entries not yet expired. Each entry is
    ///      pushed and popped once, so a submission costs amortised O(1).
    struct WindowState {
        uint64 head;
        uint64 tail;
        uint128 total;
    }

    mapping(uint256 modelId => WindowState) private _window;
    mapping(uint256 modelId => mapping(uint256 index => uint256 packed)) private _entries;

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

    /// @notice Sets (or, with zeros, removes) a model's sliding-window rule; resets its window.
    /// @param modelId The model.
    /// @param windowSeconds Window length in seconds.
    /// @param minFlagged Flagged samples within the window that trip the breaker.
    function setWindow(uint256 modelId, uint32 windowSeconds, uint32 minFlagged) external onlyOwner {
        if ((windowSeconds == 0) != (minFlagged == 0)) revert InvalidWindow(windowSeconds, minFlagged);
        windowOf[modelId] = FlagWindow(windowSeconds, minFlagged);
        _resetWindow(modelId);
        emit WindowSet(modelId, windowSeconds, minFlagged);
    }

    /// @notice Flagged samples verified for a model within its window, as of now.
    /// @param modelId The model.
    /// @return count The flagged samples of the unexpired entries.
    function flaggedInWindow(uint256 modelId) external view returns (uint256 count) {
        FlagWindow memory w = windowOf[modelId];
        WindowState memory st = _window[modelId];
        count = st.total;
        for (uint64 i = st.head; i < st.tail; ++i) {
            uint256 e = _entries[modelId][i];
            if (uint64(e >> 128) + w.windowSeconds > block.timestamp) break;
            count -= uint128(e);
        }
    }

    /// @inheritdoc IGuardAction
    /// @dev The breaker pauses targets.
    function canPause() external pure returns (bool) {
        return true;
    }

    /// @notice Whether a verified result crosses its policy.
    /// @param result The verified result.
    /// @return crossed True when the breaker would trip.
    /// @return maxScore Highest real-sample score (type(int256).min when the policy reads none).
    function crossesPolicy(VerifiedResult calldata result)
        public
        pure
        returns (bool crossed, int256 maxScore)
    {
        maxScore = result.maxScore;
        uint32 minFlagged = result.policy.minFlagged;
        crossed = (minFlagged != 0 && result.flaggedCount >= minFlagged)
            || (result.policy.useScoreThreshold
                && maxScore != type(int256).min
                && maxScore >= result.policy.scoreThreshold);
    }

    /// @inheritdoc IGuardAction
    /// @dev Trips (records, emits, pauses the target) when the result crosses the policy; otherwise
    ///      does nothing. Reverts with {TargetNotConfigured} when it must trip but has no target.
    function onVerified(VerifiedResult calldata result) external {
        if (msg.sender != guard) revert NotGuard(msg.sender);
        (bool crossed, int256 maxScore) = crossesPolicy(result);
        bool windowCrossed = _recordInWindow(result.modelId, result.flaggedCount);
        if (!crossed && !windowCrossed) return;

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

    /// @dev Expires old entries, adds this result's flagged samples and returns whether the window
    ///      reached its threshold (then the window starts empty again: its evidence is spent).
    function _recordInWindow(uint256 modelId, uint256 flagged) private returns (bool) {
        FlagWindow memory w = windowOf[modelId];
        if (w.minFlagged == 0) return false;
        WindowState memory st = _window[modelId];
        mapping(uint256 => uint256) storage entries = _entries[modelId];
        while (st.head < st.tail) {
            uint256 e = entries[st.head];
            if (uint64(e >> 128) + w.windowSeconds > block.timestamp) break;
            st.total -= uint128(e);
            delete entries[st.head];
            ++st.head;
        }
        if (flagged != 0) {
            st.total += SafeCast.toUint128(flagged);
            uint256 last = st.tail == st.head ? 0 : entries[st.tail - 1];
            if (st.tail != st.head && uint64(last >> 128) == block.timestamp) {
                entries[st.tail - 1] = last + flagged;
            } else {
                entries[st.tail] = (uint256(block.timestamp) << 128) | flagged;
                ++st.tail;
            }
        }
        if (st.total >= w.minFlagged) {
            emit WindowCrossed(modelId, st.total, w.windowSeconds);
            _resetWindow(modelId);
            return true;
        }
        _window[modelId] = st;
        return false;
    }

    /// @dev Empties a model's window (entries left behind are never read again).
    function _resetWindow(uint256 modelId) private {
        WindowState storage st = _window[modelId];
        st.head = st.tail;
        st.total = 0;
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
