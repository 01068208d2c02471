// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {ZkGuardBase} from "./utils/ZkGuardBase.sol";
import {CircuitBreaker} from "../src/CircuitBreaker.sol";
import {ProtectedVault} from "../src/examples/ProtectedVault.sol";
import {SubmissionContext, VerifiedResult} from "../src/interfaces/IGuard.sol";
import {Policy} from "../src/interfaces/IModelRegistry.sol";
import {
    ICircuitBreakerErrors,
    ICircuitBreakerEvents,
    TargetKind,
    Trip
} from "../src/interfaces/ICircuitBreaker.sol";
import {MockBreakerTarget} from "./mocks/MockBreakerTarget.sol";

contract CircuitBreakerTest is ZkGuardBase {
    address internal stranger = makeAddr("stranger");
    uint64 internal nextNonce = 100;

    function setUp() public override {
        super.setUp();
        vm.deal(alice, 10 ether);
        vm.prank(alice);
        vault.deposit{value: 5 ether}();
    }

    /// @dev Submits a direct proof for `modelId` with the given decisions and scores.
    function _submitDirect(uint256 modelId, bool[] memory f, int256[] memory s)
        internal
        returns (SubmissionContext memory c, uint256[] memory inst)
    {
        c = _ctx(nextNonce++);
        inst = _direct(modelId, c, f, s);
        _submit(modelId, c, inst);
    }

    function _below() internal pure returns (int256[] memory) {
        return _ints(SCORE_THRESHOLD - 1, -SCORE_THRESHOLD, 0, SCORE_THRESHOLD - 1);
    }

    // ------------------------------------------------------------------ construction / config

    function test_constructor() public {
        assertEq(breaker.guard(), address(guard));
        assertEq(breaker.owner(), governance);
        vm.expectRevert(abi.encodeWithSelector(ICircuitBreakerErrors.GuardHasNoCode.selector, stranger));
        new CircuitBreaker(stranger, governance);
    }

    function test_setTarget_emitsAndStores() public {
        vm.expectEmit(true, true, false, true, address(breaker));
        emit ICircuitBreakerEvents.TargetSet(7, address(hookTarget), TargetKind.Hook);
        vm.prank(governance);
        breaker.setTarget(7, address(hookTarget), TargetKind.Hook);
        assertEq(breaker.targetOf(7), address(hookTarget));
        assertEq(uint8(breaker.kindOf(address(hookTarget))), uint8(TargetKind.Hook));

        vm.expectEmit(true, true, false, true, address(breaker));
        emit ICircuitBreakerEvents.TargetSet(7, address(0), TargetKind.None);
        vm.prank(governance);
        breaker.setTarget(7, address(0), TargetKind.None);
        assertEq(breaker.targetOf(7), address(0));
    }

    function test_setTarget_notOwner_reverts() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        breaker.setTarget(7, address(hookTarget), TargetKind.Hook);
    }

    function test_setTarget_invalid_reverts() public {
        vm.startPrank(governance);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICircuitBreakerErrors.InvalidTarget.selector, stranger, TargetKind.PausableRole
            )
        );
        breaker.setTarget(7, stranger, TargetKind.PausableRole);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICircuitBreakerErrors.InvalidTarget.selector, address(vault), TargetKind.None
            )
        );
        breaker.setTarget(7, address(vault), TargetKind.None);
        vm.stopPrank();
    }

    function test_onVerified_notGuard_reverts() public {
        VerifiedResult memory r;
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ICircuitBreakerErrors.NotGuard.selector, stranger));
        breaker.onVerified(r);
    }

    // ------------------------------------------------------------------ policy boundary

    function test_flaggedBelowMin_doesNotTrip() public {
        _submitDirect(MODEL_DIRECT, _bools(false, true, false, false), _below());
        assertFalse(vault.paused());
        assertEq(breaker.tripCount(), 0);
    }

    function test_flaggedAtMin_trips() public {
        (SubmissionContext memory c, uint256[] memory inst) =
            _submitDirect(MODEL_DIRECT, _bools(false, true, true, false), _below());
        assertTrue(vault.paused());
        assertEq(breaker.tripCount(), 1);
        Trip memory t = breaker.tripAt(0);
        uint256[] memory inputs = new uint256[](1);
        inputs[0] = inst[1];
        assertEq(t.modelId, MODEL_DIRECT);
        assertEq(t.nonce, c.nonce);
        assertEq(t.target, address(vault));
        assertEq(t.flaggedCount, 2);
        assertEq(t.maxScore, SCORE_THRESHOLD - 1);
        assertEq(t.evidence, keccak256(abi.encode(MODEL_DIRECT, c.nonce, inputs)));
    }

    function test_trip_emitsTripped() public {
        SubmissionContext memory c = _ctx(1);
        uint256[] memory inst = _direct(MODEL_DIRECT, c, _bools(true, true, true, false), _below());
        uint256[] memory inputs = new uint256[](1);
        inputs[0] = inst[1];
        gen.expect(inst, proof);
        vm.expectEmit(true, true, true, true, address(breaker));
        emit ICircuitBreakerEvents.Tripped(
            0,
            MODEL_DIRECT,
            address(vault),
            1,
            3,
            SCORE_THRESHOLD - 1,
            keccak256(abi.encode(MODEL_DIRECT, 1, inputs))
        );
        guard.submit(MODEL_DIRECT, c, _attest(MODEL_DIRECT, c, inst), inst, proof);
    }

    function test_scoreBelowThreshold_doesNotTrip() public {
        _submitDirect(MODEL_DIRECT, _bools(false, false, false, false), _ints(0, SCORE_THRESHOLD - 1, -1, 5));
        assertFalse(vault.paused());
    }

    function test_scoreAtThreshold_trips() public {
        _submitDirect(MODEL_DIRECT, _bools(false, false, false, false), _ints(0, 0, -1, SCORE_THRESHOLD));
        assertTrue(vault.paused());
        assertEq(breaker.tripAt(0).flaggedCount, 0);
        assertEq(breaker.tripAt(0).maxScore, SCORE_THRESHOLD);
    }

    function test_negativeThreshold() public {
        vm.prank(governance);
        registry.updatePolicy(MODEL_DIRECT, Policy(breaker, MAX_AGE, 0, true, -(2 << 8)));
        _submitDirect(
            MODEL_DIRECT,
            _bools(true, true, true, true),
            _ints(-(3 << 8), -(2 << 8) - 1, -(5 << 8), -(9 << 8))
        );
        assertFalse(vault.paused());
        _submitDirect(
            MODEL_DIRECT, _bools(false, false, false, false), _ints(-(3 << 8), -(2 << 8), -(5 << 8), -1e9)
        );
        assertTrue(vault.paused());
    }

    function test_minFlaggedZero_disablesCountRule() public {
        vm.prank(governance);
        registry.updatePolicy(MODEL_HOOK, Policy(breaker, MAX_AGE, 0, false, 0));
        _submitDirect(MODEL_HOOK, _bools(true, true, true, true), _ints(1e9, 1e9, 1e9, 1e9));
        assertFalse(hookTarget.paused());
        assertEq(breaker.tripCount(), 0);
    }

    function test_crossesPolicy_view() public view {
        VerifiedResult memory r;
        r.policy = Policy(breaker, MAX_AGE, 3, true, 10);
        r.flaggedCount = 2;
        r.maxScore = 9;
        (bool crossed, int256 maxScore) = breaker.crossesPolicy(r);
        assertFalse(crossed);
        assertEq(maxScore, 9);
        r.flaggedCount = 3;
        (crossed,) = breaker.crossesPolicy(r);
        assertTrue(crossed);
        r.flaggedCount = 0;
        r.maxScore = 10;
        (crossed, maxScore) = breaker.crossesPolicy(r);
        assertTrue(crossed);
        assertEq(maxScore, 10);
        r.maxScore = type(int256).min; // no scores read: the score rule cannot fire
        r.policy.scoreThreshold = type(int256).min;
        (crossed, maxScore) = breaker.crossesPolicy(r);
        assertFalse(crossed);
        assertEq(maxScore, type(int256).min);
    }

    // ------------------------------------------------------------------ hook target

    function test_hookTarget_pausedWithEvidence_unpausedByGovernanceOnly() public {
        (SubmissionContext memory c, uint256[] memory inst) =
            _submitDirect(MODEL_HOOK, _bools(false, false, false, true), _ints(0, 0, 0, 0));
        assertTrue(hookTarget.paused());
        uint256[] memory inputs = new uint256[](1);
        inputs[0] = inst[1];
        assertEq(hookTarget.lastReason(), keccak256(abi.encode(MODEL_HOOK, c.nonce, inputs)));
        vm.expectRevert(MockBreakerTarget.IsPaused.selector);
        hookTarget.act();

        // a second trip while paused is fine (the hook is idempotent)
        _submitDirect(MODEL_HOOK, _bools(true, false, false, false), _ints(0, 0, 0, 0));
        assertEq(hookTarget.pauseCalls(), 2);
        assertEq(breaker.tripCount(), 2);

        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        breaker.unpauseTarget(address(hookTarget));
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(MockBreakerTarget.NotBreaker.selector, stranger));
        hookTarget.zkGuardUnpause();
        assertTrue(hookTarget.paused());

        vm.expectEmit(true, true, false, true, address(breaker));
        emit ICircuitBreakerEvents.TargetUnpaused(address(hookTarget), governance);
        vm.prank(governance);
        breaker.unpauseTarget(address(hookTarget));
        assertFalse(hookTarget.paused());
        assertEq(hookTarget.act(), 1);
    }

    function test_unpauseTarget_notHook_reverts() public {
        vm.startPrank(governance);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICircuitBreakerErrors.UnpauseNotSupported.selector, address(vault), TargetKind.PausableRole
            )
        );
        breaker.unpauseTarget(address(vault));
        vm.expectRevert(
            abi.encodeWithSelector(
                ICircuitBreakerErrors.UnpauseNotSupported.selector, stranger, TargetKind.None
            )
        );
        breaker.unpauseTarget(stranger);
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ vault (Pausable + role)

    function test_vault_tripBlocksWithdrawals_governanceResumes() public {
        vm.prank(alice);
        vault.withdraw(payable(alice), 1 ether);

        _submitDirect(MODEL_DIRECT, _bools(true, true, false, false), _below());
        assertTrue(vault.paused());
        vm.prank(alice);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vault.withdraw(payable(alice), 1 ether);

        // another trip while paused does not revert the submission
        _submitDirect(MODEL_DIRECT, _bools(true, true, true, true), _below());
        assertEq(breaker.tripCount(), 2);

        // nobody but governance can unpause: not a stranger, not the breaker, not its owner via the breaker
        bytes32 adminRole = vault.DEFAULT_ADMIN_ROLE();
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, adminRole
            )
        );
        vault.unpause();
        vm.prank(address(breaker));
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, address(breaker), adminRole
            )
        );
        vault.unpause();
        assertTrue(vault.paused());

        vm.prank(governance);
        vault.unpause();
        vm.prank(alice);
        vault.withdraw(payable(alice), 1 ether);
        assertEq(vault.balanceOf(alice), 3 ether);
        assertEq(alice.balance, 7 ether);
    }

    function test_vault_breakerWithoutRole_revertsSubmission() public {
        ProtectedVault lonely = new ProtectedVault(governance, address(0));
        vm.prank(governance);
        breaker.setTarget(MODEL_DIRECT, address(lonely), TargetKind.PausableRole);
        SubmissionContext memory c = _ctx(1);
        uint256[] memory inst = _direct(MODEL_DIRECT, c, _bools(true, true, false, false), _below());
        gen.expect(inst, proof);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                address(breaker),
                lonely.PAUSER_ROLE()
            )
        );
        guard.submit(MODEL_DIRECT, c, _attest(MODEL_DIRECT, c, inst), inst, proof);
        assertFalse(guard.isNonceUsed(MODEL_DIRECT, 1));
    }

    function test_trip_withoutTarget_reverts() public {
        vm.prank(governance);
        breaker.setTarget(MODEL_DIRECT, address(0), TargetKind.None);
        SubmissionContext memory c = _ctx(1);
        uint256[] memory inst = _direct(MODEL_DIRECT, c, _bools(true, true, false, false), _below());
        gen.expect(inst, proof);
        vm.expectRevert(
            abi.encodeWithSelector(ICircuitBreakerErrors.TargetNotConfigured.selector, MODEL_DIRECT)
        );
        guard.submit(MODEL_DIRECT, c, _attest(MODEL_DIRECT, c, inst), inst, proof);
        // below the policy no target is needed
        _submitDirect(MODEL_DIRECT, _bools(true, false, false, false), _below());
    }

    function test_tripAt_unknown_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(ICircuitBreakerErrors.UnknownTrip.selector, 0));
        breaker.tripAt(0);
    }

    function test_twoStepOwnership() public {
        address next = makeAddr("next");
        vm.prank(governance);
        breaker.transferOwnership(next);
        assertEq(breaker.owner(), governance);
        vm.prank(next);
        breaker.acceptOwnership();
        assertEq(breaker.owner(), next);
        vm.prank(governance);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, governance));
        breaker.setTarget(7, address(0), TargetKind.None);
    }
}
