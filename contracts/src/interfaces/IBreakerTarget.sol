// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IBreakerTarget
/// @notice A small hook a protected contract implements so a CircuitBreaker can pause it.
/// @dev Implementations must restrict both functions to their breaker, and should make them
///      idempotent (pausing a paused target must not revert).
interface IBreakerTarget {
    /// @notice Pauses the protected contract.
    /// @param reason Evidence digest of the trip (see CircuitBreaker).
    function zkGuardPause(bytes32 reason) external;

    /// @notice Resumes the protected contract (called by the breaker on governance's order).
    function zkGuardUnpause() external;
}

/// @title IPausableTarget
/// @notice An OpenZeppelin `Pausable` contract that exposes role-gated `pause()`/`unpause()`.
interface IPausableTarget {
    /// @notice Pauses the target (the breaker must hold the target's pauser role).
    function pause() external;

    /// @notice Unpauses the target (normally the target's governance only).
    function unpause() external;

    /// @notice Whether the target is paused.
    /// @return True when paused.
    function paused() external view returns (bool);
}
