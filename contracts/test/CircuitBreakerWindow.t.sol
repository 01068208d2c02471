// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Vm} from "forge-std/Vm.sol";

import {ZkGuardBase} from "./utils/ZkGuardBase.sol";
import {SubmissionContext} from "../src/interfaces/IGuard.sol";
import {ICircuitBreakerErrors, ICircuitBreakerEvents} from "../src/interfaces/ICircuitBreaker.sol";
import {Policy} from "../src/interfaces/IModelRegistry.sol";

/// @notice The breaker's policy over time: flagged samples within a sliding window of seconds,
///         whichever submissions they arrive in, so a burst cannot be split to stay under it.
contract CircuitBreakerWindowTest is ZkGuardBase {
    uint32 internal constant WINDOW = 10 minutes;

    function setUp() public override {
        super.setUp();
        vm.startPrank(governance);
        // the per-submission rule off (minFlagged 0, no score rule): only the window decides
        registry.updatePolicy(MODEL_HOOK, Policy(breaker, MAX_AGE, 0, false, 0));
        breaker.setWindow(MODEL_HOOK, WINDOW, 3);
        vm.stopPrank();
    }

    uint64 internal nonce;

    /// @dev Submits `flagged` flagged samples (of 4) for MODEL_HOOK.
    function _send(uint256 flagged) internal {
        SubmissionContext memory c = _ctx(++nonce);
        bool[] memory f = _bools(flagged > 0, flagged > 1, flagged > 2, flagged > 3);
        _submit(MODEL_HOOK, c, _direct(MODEL_HOOK, c, f, _ints(0, 0, 0, 0)));
    }

    function test_threeFlaggedInOneSubmission_trips() public {
        _send(3);
        assertTrue(hookTarget.paused());
        assertEq(breaker.tripCount(), 1);
    }

    /// @dev The split the per-submission rule missed: three submissions of one flagged sample each,
    ///      minutes apart, trip exactly as one submission of three.
    function test_threeFlaggedInThreeSubmissions_tripsLikeOne() public {
        _send(1);
        vm.warp(block.timestamp + 4 minutes);
        _send(1);
        assertFalse(hookTarget.paused());
        assertEq(breaker.flaggedInWindow(MODEL_HOOK), 2);
        vm.warp(block.timestamp + 4 minutes);
        vm.recordLogs();
        _send(1);
        assertTrue(hookTarget.paused());
        _assertWindowCrossed(3);
        assertEq(breaker.tripCount(), 1);
        // the window's evidence is spent
        assertEq(breaker.flaggedInWindow(MODEL_HOOK), 0);
    }

    /// @dev The breaker emitted WindowCrossed(MODEL_HOOK, total, WINDOW) among the recorded logs.
    function _assertWindowCrossed(uint256 total) internal {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; ++i) {
            if (
                logs[i].emitter == address(breaker)
                    && logs[i].topics[0] == ICircuitBreakerEvents.WindowCrossed.selector
            ) {
                assertEq(uint256(logs[i].topics[1]), MODEL_HOOK);
                assertEq(logs[i].data, abi.encode(total, WINDOW));
                return;
            }
        }
        revert("no WindowCrossed event");
    }

    function test_flagsOutsideTheWindow_expire() public {
        _send(2);
        vm.warp(block.timestamp + WINDOW);
        assertEq(breaker.flaggedInWindow(MODEL_HOOK), 0);
        _send(1);
        assertFalse(hookTarget.paused());
        assertEq(breaker.flaggedInWindow(MODEL_HOOK), 1);
        vm.warp(block.timestamp + WINDOW - 1);
        _send(2);
        assertTrue(hookTarget.paused());
    }

    function test_quietSubmissions_doNotCount() public {
        _send(0);
        _send(0);
        _send(2);
        assertFalse(hookTarget.paused());
        assertEq(breaker.flaggedInWindow(MODEL_HOOK), 2);
    }

    /// @dev Several submissions in one block share one queue entry.
    function test_sameBlock_accumulates() public {
        _send(1);
        _send(1);
        assertEq(breaker.flaggedInWindow(MODEL_HOOK), 2);
        _send(1);
        assertTrue(hookTarget.paused());
    }

    function test_setWindow_onlyOwner_andValidated() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, bob));
        vm.prank(bob);
        breaker.setWindow(MODEL_HOOK, 1, 1);
        vm.startPrank(governance);
        vm.expectRevert(abi.encodeWithSelector(ICircuitBreakerErrors.InvalidWindow.selector, 0, 1));
        breaker.setWindow(MODEL_HOOK, 0, 1);
        vm.expectRevert(abi.encodeWithSelector(ICircuitBreakerErrors.InvalidWindow.selector, 60, 0));
        breaker.setWindow(MODEL_HOOK, 60, 0);
        vm.expectEmit(true, false, false, true, address(breaker));
        emit ICircuitBreakerEvents.WindowSet(MODEL_HOOK, 0, 0);
        breaker.setWindow(MODEL_HOOK, 0, 0);
        vm.stopPrank();
        _send(4);
        assertFalse(hookTarget.paused(), "window off and per-submission rule off: nothing trips");
    }

    /// @dev Changing the window resets it: old flags do not count toward the new rule.
    function test_setWindow_resets() public {
        _send(2);
        vm.prank(governance);
        breaker.setWindow(MODEL_HOOK, WINDOW, 3);
        assertEq(breaker.flaggedInWindow(MODEL_HOOK), 0);
        _send(1);
        assertFalse(hookTarget.paused());
    }

    /// @dev Random splits of flagged samples over submissions at random times trip exactly when
    ///      the flags within the trailing window reach the threshold (checked against a model here).
    function testFuzz_window_matchesReference(uint256 seed) public {
        uint256[] memory times = new uint256[](12);
        uint256[] memory flags = new uint256[](12);
        for (uint256 i = 0; i < 12; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            vm.warp(block.timestamp + (r % 300));
            uint256 flagged = (r >> 16) % 3;
            times[i] = block.timestamp;
            flags[i] = flagged;
            uint256 inWindow = 0;
            for (uint256 j = 0; j <= i; ++j) {
                if (times[j] + WINDOW > block.timestamp) inWindow += flags[j];
            }
            _send(flagged);
            if (inWindow >= 3) {
                assertTrue(hookTarget.paused(), "reference says trip");
                return;
            }
            assertFalse(hookTarget.paused(), "reference says no trip");
        }
    }
}
