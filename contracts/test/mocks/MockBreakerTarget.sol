// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IBreakerTarget} from "../../src/interfaces/IBreakerTarget.sol";

/// @title MockBreakerTarget
/// @notice A protected contract implementing the IBreakerTarget hook, callable by its breaker only.
contract MockBreakerTarget is IBreakerTarget {
    /// @notice The breaker allowed to pause/unpause.
    address public immutable breaker;
    /// @notice Whether paused.
    bool public paused;
    /// @notice Evidence of the last pause.
    bytes32 public lastReason;
    /// @notice Number of pause calls.
    uint256 public pauseCalls;

    /// @notice The caller is not the breaker.
    error NotBreaker(address caller);
    /// @notice The protected action ran while paused.
    error IsPaused();

    constructor(address breaker_) {
        breaker = breaker_;
    }

    /// @inheritdoc IBreakerTarget
    function zkGuardPause(bytes32 reason) external {
        if (msg.sender != breaker) revert NotBreaker(msg.sender);
        paused = true;
        lastReason = reason;
        ++pauseCalls;
    }

    /// @inheritdoc IBreakerTarget
    function zkGuardUnpause() external {
        if (msg.sender != breaker) revert NotBreaker(msg.sender);
        paused = false;
    }

    /// @notice A protected action.
    /// @return 1 when not paused.
    function act() external view returns (uint256) {
        if (paused) revert IsPaused();
        return 1;
    }
}
