// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice How the breaker pauses a target.
/// @dev Hook: the target implements IBreakerTarget. PausableRole: an OpenZeppelin Pausable target
///      that granted the breaker a pauser role on its `pause()`.
enum TargetKind {
    None,
    Hook,
    PausableRole
}

/// @notice A recorded trip (4 storage slots; the Tripped event carries the same data).
/// @param modelId The model whose verified result crossed the policy.
/// @param evidence keccak256(abi.encode(modelId, nonce, inputCommitments)).
/// @param maxScore Highest real-sample score (type(int256).min when the model has no scores).
/// @param target The paused target.
/// @param nonce The submission nonce.
/// @param flaggedCount Flagged real samples (< 2^32: at most 65535 proofs of 65535 samples).
struct Trip {
    uint256 modelId;
    bytes32 evidence;
    int256 maxScore;
    address target;
    uint64 nonce;
    uint32 flaggedCount;
}

/// @notice The breaker's policy over time for one model: trip when at least `minFlagged` flagged
///         samples were verified within the last `windowSeconds` seconds, whichever submissions
///         they came in (so a burst cannot be split into small submissions to stay under it).
/// @param windowSeconds Length of the sliding window (0 with minFlagged 0: off).
/// @param minFlagged Flagged samples within the window that trip the breaker.
struct FlagWindow {
    uint32 windowSeconds;
    uint32 minFlagged;
}

/// @title ICircuitBreakerErrors
interface ICircuitBreakerErrors {
    /// @notice The caller is not the Guard.
    error NotGuard(address caller);
    /// @notice The guard address given to the constructor holds no code.
    error GuardHasNoCode(address guard);
    /// @notice The result crossed the policy but no target is configured for the model.
    error TargetNotConfigured(uint256 modelId);
    /// @notice The target address holds no code, or the kind does not fit (None with a target).
    error InvalidTarget(address target, TargetKind kind);
    /// @notice The breaker cannot unpause this target: its own governance unpauses it.
    error UnpauseNotSupported(address target, TargetKind kind);
    /// @notice No trip with this id.
    error UnknownTrip(uint256 tripId);
    /// @notice A window needs both a length and a threshold (or neither, to turn it off).
    error InvalidWindow(uint32 windowSeconds, uint32 minFlagged);
}

/// @title ICircuitBreakerEvents
interface ICircuitBreakerEvents {
    /// @notice The protected target of a model was set (target 0 / kind None: removed).
    event TargetSet(uint256 indexed modelId, address indexed target, TargetKind kind);
    /// @notice A verified result crossed the policy and the target was paused.
    event Tripped(
        uint256 indexed tripId,
        uint256 indexed modelId,
        address indexed target,
        uint64 nonce,
        uint256 flaggedCount,
        int256 maxScore,
        bytes32 evidence
    );
    /// @notice Governance set (or, with zeros, removed) a model's sliding-window rule.
    event WindowSet(uint256 indexed modelId, uint32 windowSeconds, uint32 minFlagged);
    /// @notice The flagged samples within a model's window reached its threshold (a trip follows).
    event WindowCrossed(uint256 indexed modelId, uint256 flaggedInWindow, uint32 windowSeconds);
    /// @notice Governance unpaused a hook target through the breaker.
    event TargetUnpaused(address indexed target, address indexed by);
}
