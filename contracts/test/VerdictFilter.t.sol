// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

import {ZkGuardBase, Segment} from "./utils/ZkGuardBase.sol";
import {VerdictFilter} from "../src/VerdictFilter.sol";
import {FilteredToken} from "../src/examples/FilteredToken.sol";
import {SubmissionContext, VerifiedResult} from "../src/interfaces/IGuard.sol";
import {
    IVerdictFilter,
    IVerdictFilterErrors,
    IVerdictFilterEvents,
    Verdict
} from "../src/interfaces/IVerdictFilter.sol";

contract VerdictFilterTest is ZkGuardBase {
    address internal stranger = makeAddr("stranger");
    uint64 internal nextNonce = 1;

    /// @dev Submits a MODEL_BATCH proof: samples split over the two segments (all but the last, then the last).
    function _verdictInstances(SubmissionContext memory c, bool[] memory flagged)
        internal
        view
        returns (uint256[] memory)
    {
        uint256 n = flagged.length;
        require(c.subjects.length == n && n >= 2, "test: shape");
        bool[] memory f0 = new bool[](n - 1);
        bool[] memory f1 = new bool[](1);
        for (uint256 i = 0; i < n - 1; ++i) {
            f0[i] = flagged[i];
        }
        f1[0] = flagged[n - 1];
        Segment[] memory segs = new Segment[](2);
        segs[0] = _segment(1, f0, new int256[](0));
        segs[1] = _segment(2, f1, new int256[](0));
        return _instances(MODEL_BATCH, c, segs);
    }

    /// @dev Submits a MODEL_BATCH proof: samples split over the two segments (all but the last, then the last).
    function _verdicts(address[] memory subjects, bool[] memory flagged)
        internal
        returns (SubmissionContext memory c)
    {
        c = _ctxWith(nextNonce++, subjects);
        _submit(MODEL_BATCH, c, _verdictInstances(c, flagged));
    }

    function _pair(address a, address b) internal pure returns (address[] memory s) {
        s = new address[](2);
        (s[0], s[1]) = (a, b);
    }

    function _two(bool a, bool b) internal pure returns (bool[] memory f) {
        f = new bool[](2);
        (f[0], f[1]) = (a, b);
    }

    // ------------------------------------------------------------------ construction / access

    function test_constructor() public {
        assertEq(filter.guard(), address(guard));
        assertEq(filter.verdictTtl(), TTL);
        assertEq(filter.owner(), governance);
        vm.expectRevert(abi.encodeWithSelector(IVerdictFilterErrors.GuardHasNoCode.selector, stranger));
        new VerdictFilter(stranger, governance, TTL);
        vm.expectRevert(abi.encodeWithSelector(IVerdictFilterErrors.InvalidTtl.selector, 0));
        new VerdictFilter(address(guard), governance, 0);
    }

    function test_onVerified_notGuard_reverts() public {
        VerifiedResult memory r;
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IVerdictFilterErrors.NotGuard.selector, stranger));
        filter.onVerified(r);
    }

    function test_onVerified_withoutSubjects_reverts() public {
        SubmissionContext memory c = _ctx(1);
        uint256[] memory inst = _batch(c, 2, 2, 1);
        gen.expect(inst, proof);
        vm.expectRevert(
            abi.encodeWithSelector(IVerdictFilterErrors.SubjectsRequired.selector, MODEL_BATCH, 1)
        );
        guard.submit(MODEL_BATCH, c, _attest(MODEL_BATCH, c, inst), inst, proof);
    }

    // ------------------------------------------------------------------ recording and expiry

    function test_recordsVerdictsAndEmits() public {
        uint64 expiresAt = uint64(block.timestamp) + TTL;
        SubmissionContext memory c = _ctxWith(1, _pair(alice, bob));
        uint256[] memory inst = _verdictInstances(c, _two(false, true));
        gen.expect(inst, proof);
        vm.expectEmit(true, true, false, true, address(filter));
        emit IVerdictFilterEvents.VerdictRecorded(alice, MODEL_BATCH, 1, false, expiresAt);
        vm.expectEmit(true, true, false, true, address(filter));
        emit IVerdictFilterEvents.VerdictRecorded(bob, MODEL_BATCH, 1, true, expiresAt);
        guard.submit(MODEL_BATCH, c, _attest(MODEL_BATCH, c, inst), inst, proof);

        assertTrue(filter.isAllowed(alice));
        assertFalse(filter.isAllowed(bob));
        assertTrue(filter.isAllowed(carol)); // never seen
        Verdict memory v = filter.verdictOf(bob);
        assertTrue(v.flagged);
        assertEq(v.expiresAt, expiresAt);
        assertEq(v.nonce, 1);
    }

    function test_flagExpires() public {
        _verdicts(_pair(alice, bob), _two(false, true));
        uint64 expiresAt = filter.verdictOf(bob).expiresAt;
        vm.warp(expiresAt - 1);
        assertFalse(filter.isAllowed(bob));
        vm.warp(expiresAt);
        assertTrue(filter.isAllowed(bob));
    }

    function test_allowedDoesNotOverrideActiveFlag() public {
        _verdicts(_pair(alice, bob), _two(false, true));
        vm.warp(block.timestamp + 10);
        _verdicts(_pair(bob, alice), _two(false, false));
        assertFalse(filter.isAllowed(bob));
        assertEq(filter.verdictOf(bob).nonce, 1);
        // once expired, a fresh allowed verdict replaces it
        vm.warp(block.timestamp + TTL);
        _verdicts(_pair(bob, alice), _two(false, false));
        assertTrue(filter.isAllowed(bob));
        assertFalse(filter.verdictOf(bob).flagged);
        assertEq(filter.verdictOf(bob).nonce, 3);
    }

    function test_newFlagExtendsExpiry() public {
        _verdicts(_pair(alice, bob), _two(false, true));
        vm.warp(block.timestamp + 100);
        _verdicts(_pair(alice, bob), _two(false, true));
        assertEq(filter.verdictOf(bob).expiresAt, block.timestamp + TTL);
        assertEq(filter.verdictOf(bob).nonce, 2);
    }

    function test_flagKeepsLaterExpiryAfterTtlShrinks() public {
        _verdicts(_pair(alice, bob), _two(false, true));
        uint64 longExpiry = filter.verdictOf(bob).expiresAt;
        vm.prank(governance);
        filter.setVerdictTtl(60);
        _verdicts(_pair(alice, bob), _two(false, true));
        assertEq(filter.verdictOf(bob).expiresAt, longExpiry);
    }

    function test_duplicateSubjectInOneSubmission_flagWins() public {
        address[] memory s = new address[](3);
        (s[0], s[1], s[2]) = (bob, bob, carol);
        bool[] memory f = new bool[](3);
        f[0] = true; // flagged first, then allowed
        _verdicts(s, f);
        assertFalse(filter.isAllowed(bob));
        (s[0], s[1], s[2]) = (carol, dave, dave);
        f[0] = false;
        f[2] = true; // allowed first, then flagged
        _verdicts(s, f);
        assertFalse(filter.isAllowed(dave));
        assertTrue(filter.isAllowed(carol));
    }

    // ------------------------------------------------------------------ governance

    function test_clearVerdict() public {
        _verdicts(_pair(alice, bob), _two(false, true));
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        filter.clearVerdict(bob);
        assertFalse(filter.isAllowed(bob));

        vm.expectEmit(true, true, false, true, address(filter));
        emit IVerdictFilterEvents.VerdictCleared(bob, governance);
        vm.prank(governance);
        filter.clearVerdict(bob);
        assertTrue(filter.isAllowed(bob));
        assertEq(filter.verdictOf(bob).expiresAt, 0);
    }

    function test_setVerdictTtl() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        filter.setVerdictTtl(5);
        vm.prank(governance);
        vm.expectRevert(abi.encodeWithSelector(IVerdictFilterErrors.InvalidTtl.selector, 0));
        filter.setVerdictTtl(0);

        vm.expectEmit(false, false, false, true, address(filter));
        emit IVerdictFilterEvents.VerdictTtlUpdated(TTL, 5);
        vm.prank(governance);
        filter.setVerdictTtl(5);
        assertEq(filter.verdictTtl(), 5);
        _verdicts(_pair(alice, bob), _two(false, true));
        assertEq(filter.verdictOf(bob).expiresAt, block.timestamp + 5);
        vm.warp(block.timestamp + 5);
        assertTrue(filter.isAllowed(bob));
    }

    // ------------------------------------------------------------------ FilteredToken

    function test_token_constructor() public {
        assertEq(address(token.filter()), address(filter));
        assertEq(token.balanceOf(alice), 1_000 ether);
        vm.expectRevert(abi.encodeWithSelector(FilteredToken.FilterHasNoCode.selector, stranger));
        new FilteredToken(IVerdictFilter(stranger), alice, 1);
    }

    function test_token_refusesFlaggedSubjects() public {
        vm.prank(alice);
        token.transfer(bob, 10 ether);

        _verdicts(_pair(alice, bob), _two(false, true));
        // to a flagged subject
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(FilteredToken.SubjectNotAllowed.selector, bob));
        token.transfer(bob, 1 ether);
        // from a flagged subject
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(FilteredToken.SubjectNotAllowed.selector, bob));
        token.transfer(carol, 1 ether);
        // through an allowance too
        vm.prank(bob);
        token.approve(carol, 1 ether);
        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(FilteredToken.SubjectNotAllowed.selector, bob));
        token.transferFrom(bob, carol, 1 ether);
        // allowed subjects are unaffected
        vm.prank(alice);
        token.transfer(carol, 1 ether);

        // after expiry the flagged subject may transfer again
        vm.warp(block.timestamp + TTL);
        vm.prank(bob);
        token.transfer(carol, 1 ether);
        assertEq(token.balanceOf(carol), 2 ether);
    }

    function test_token_resumesAfterGovernanceClears() public {
        _verdicts(_pair(alice, bob), _two(false, true));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(FilteredToken.SubjectNotAllowed.selector, bob));
        token.transfer(bob, 1 ether);
        vm.prank(governance);
        filter.clearVerdict(bob);
        vm.prank(alice);
        token.transfer(bob, 1 ether);
        assertEq(token.balanceOf(bob), 1 ether);
    }
}
