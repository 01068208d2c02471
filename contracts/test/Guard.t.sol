// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {ZkGuardBase, Segment} from "./utils/ZkGuardBase.sol";
import {Guard} from "../src/Guard.sol";
import {InstanceLayout} from "../src/InstanceLayout.sol";
import {
    IGuard,
    IGuardErrors,
    IGuardEvents,
    SubmissionContext,
    VerifiedResult
} from "../src/interfaces/IGuard.sol";
import {IZkGuardVerifierErrors} from "../src/interfaces/IZkGuardVerifier.sol";
import {IModelRegistry, ModelConfig, Policy} from "../src/interfaces/IModelRegistry.sol";
import {IGuardAction} from "../src/interfaces/IGuardAction.sol";
import {RecordingAction, ReentrantAction, RevertingAction} from "./mocks/MockActions.sol";

contract GuardTest is ZkGuardBase {
    uint256 internal constant MODEL_REC_DIRECT = 10;
    uint256 internal constant MODEL_REC_BATCH = 11;
    uint256 internal constant MODEL_NO_ACTION = 12;
    RecordingAction internal rec;

    function setUp() public override {
        super.setUp();
        _markBatch(MODEL_REC_BATCH);
        rec = new RecordingAction();
        vm.startPrank(governance);
        registry.registerModel(
            MODEL_REC_DIRECT,
            ModelConfig(COMMIT_DIRECT, DIGEST_DIRECT, directVerifier, DIRECT_BATCH, SCORE_BITS, SCALE_BITS),
            Policy(rec, MAX_AGE, 1, true, type(int256).max),
            _inputs()
        );
        registry.registerModel(
            MODEL_REC_BATCH,
            ModelConfig(COMMIT_BATCH, DIGEST_BATCH, batchVerifier, BATCH_BATCH, 0, 0),
            Policy(rec, MAX_AGE, 0, false, 0),
            _inputs()
        );
        registry.registerModel(
            MODEL_NO_ACTION,
            ModelConfig(COMMIT_DIRECT, DIGEST_DIRECT, directVerifier, DIRECT_BATCH, SCORE_BITS, SCALE_BITS),
            Policy(IGuardAction(address(0)), MAX_AGE, 1, false, 0),
            _inputs()
        );
        vm.stopPrank();
    }

    function _quiet() internal pure returns (bool[] memory, int256[] memory) {
        return (_bools(true, false, false, false), _ints(-5, 0, 1 << 8, 2 << 8));
    }

    // ------------------------------------------------------------------ happy paths

    function test_constructor_registryWithoutCode_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(Guard.RegistryHasNoCode.selector, address(0xbeef)));
        new Guard(IModelRegistry(address(0xbeef)));
    }

    function test_registry_getter() public view {
        assertEq(address(guard.registry()), address(registry));
    }

    function test_submit_direct_returnsCountsEmitsAndConsumesNonce() public {
        SubmissionContext memory c = _ctx(7);
        (bool[] memory f, int256[] memory s) = _quiet();
        uint256[] memory inst = _direct(MODEL_DIRECT, c, f, s);
        uint256[] memory inputs = new uint256[](1);
        inputs[0] = inst[1];

        assertFalse(guard.isNonceUsed(MODEL_DIRECT, 7));
        gen.expect(inst, proof);
        vm.expectEmit(true, true, false, true, address(guard));
        emit IGuardEvents.Verified(MODEL_DIRECT, 7, inputs, 1, 4);
        vm.prank(relayer);
        (uint256 flagged, uint256 samples) =
            guard.submit(MODEL_DIRECT, c, _attest(MODEL_DIRECT, c, inst), inst, proof);
        assertEq(flagged, 1);
        assertEq(samples, 4);
        assertTrue(guard.isNonceUsed(MODEL_DIRECT, 7));
        assertFalse(guard.isNonceUsed(MODEL_HOOK, 7));
        assertFalse(vault.paused());
    }

    function test_submit_anyoneMaySubmit() public {
        SubmissionContext memory c = _ctx(1);
        (bool[] memory f, int256[] memory s) = _quiet();
        uint256[] memory inst = _direct(MODEL_DIRECT, c, f, s);
        gen.expect(inst, proof);
        vm.prank(makeAddr("stranger"));
        guard.submit(MODEL_DIRECT, c, _attest(MODEL_DIRECT, c, inst), inst, proof);
        assertTrue(guard.isNonceUsed(MODEL_DIRECT, 1));
    }

    function test_submit_sameNonceOnAnotherModel_isIndependent() public {
        SubmissionContext memory c = _ctx(9);
        (bool[] memory f, int256[] memory s) = _quiet();
        _submit(MODEL_DIRECT, c, _direct(MODEL_DIRECT, c, f, s));
        _submit(MODEL_NO_ACTION, c, _direct(MODEL_NO_ACTION, c, f, s));
        assertTrue(guard.isNonceUsed(MODEL_NO_ACTION, 9));
    }

    function test_submit_withoutAction_onlyEmits() public {
        SubmissionContext memory c = _ctx(1);
        uint256[] memory inst =
            _direct(MODEL_NO_ACTION, c, _bools(true, true, true, true), _ints(9e3, 9e3, 9e3, 9e3));
        (uint256 flagged,) = _submit(MODEL_NO_ACTION, c, inst);
        assertEq(flagged, 4);
        assertEq(rec.calls(), 0);
    }

    function test_submit_frozenModel_staysUsable() public {
        vm.prank(governance);
        registry.freezeModel(MODEL_DIRECT);
        SubmissionContext memory c = _ctx(1);
        (bool[] memory f, int256[] memory s) = _quiet();
        (uint256 flagged,) = _submit(MODEL_DIRECT, c, _direct(MODEL_DIRECT, c, f, s));
        assertEq(flagged, 1);
    }

    function test_submit_directDecode_handsResultToAction() public {
        address[] memory subjects = _addrs(alice, bob, carol, dave);
        SubmissionContext memory c = _ctxWith(42, subjects);
        int256[] memory scores = _ints(-(1 << 8), 0, 7, -3);
        uint256[] memory inst = _direct(MODEL_REC_DIRECT, c, _bools(false, true, false, true), scores);
        // the proven flagged count, one decision word, one word of 40-bit offset-binary scores
        assertEq(inst.length, 7);
        assertEq(inst[InstanceLayout.FLAGGED_COUNT_OFFSET], 2);
        assertEq(inst[5], 0xa);
        assertEq(inst[6] & ((1 << 40) - 1), (1 << 39) - (1 << 8));
        assertEq((inst[6] >> 120) & ((1 << 40) - 1), (1 << 39) - 3);
        _submit(MODEL_REC_DIRECT, c, inst);

        VerifiedResult memory r = rec.last();
        assertEq(rec.lastCaller(), address(guard));
        assertEq(r.modelId, MODEL_REC_DIRECT);
        assertEq(r.nonce, 42);
        assertEq(r.issuedAt, c.issuedAt);
        assertEq(r.sampleCount, 4);
        assertEq(r.flaggedCount, 2);
        assertEq(r.flaggedBits.length, 1);
        assertEq(r.flaggedBits[0], 0xa);
        assertEq(r.maxScore, 7);
        for (uint256 i = 0; i < 4; ++i) {
            assertEq(r.subjects[i], subjects[i]);
        }
        assertEq(r.scoreScaleBits, SCALE_BITS);
        assertEq(r.inputCommitments.length, 1);
        assertEq(r.inputCommitments[0], inst[1]);
        assertEq(address(r.policy.action), address(rec));
        assertEq(r.policy.minFlagged, 1);
        assertEq(r.policy.maxAge, MAX_AGE);
    }

    function test_submit_partialDirectBatch_onlyRealSamplesCount() public {
        SubmissionContext memory c = _ctx(3);
        bool[] memory f = new bool[](2);
        f[1] = true;
        int256[] memory s = new int256[](2);
        s[0] = -1;
        s[1] = 1;
        uint256[] memory inst = _direct(MODEL_REC_DIRECT, c, f, s);
        assertEq(inst[3], 2);
        // padding: a set decision bit and a high score beyond sampleCount are ignored
        inst[5] |= 1 << 3;
        inst[6] |= ((1 << 40) - 1) << 120;
        (uint256 flagged, uint256 samples) = _submit(MODEL_REC_DIRECT, c, inst);
        assertEq(flagged, 1);
        assertEq(samples, 2);
        VerifiedResult memory r = rec.last();
        assertEq(r.flaggedBits.length, 1);
        assertEq(r.flaggedBits[0], 2);
        assertEq(r.maxScore, 1);
    }

    function test_submit_batchDecode_concatenatesSegmentsAcrossWords() public {
        SubmissionContext memory c = _ctx(5);
        Segment[] memory segs = new Segment[](2);
        bool[] memory f0 = new bool[](250);
        f0[0] = true;
        f0[247] = true; // last bit of word 0
        f0[248] = true; // first bit of word 1
        f0[249] = true;
        bool[] memory f1 = new bool[](3);
        f1[2] = true;
        segs[0] = _segment(0xa0, f0, new int256[](0));
        segs[1] = _segment(0xa1, f1, new int256[](0));
        uint256[] memory inst = _instances(MODEL_REC_BATCH, c, segs);
        assertEq(inst.length, 12 + 2 * 7);
        assertEq(inst[12 + 4], 4);
        assertEq(inst[12 + 5], (uint256(1) << 247) | 1);
        assertEq(inst[12 + 6], 3);
        assertEq(inst[12 + 7 + 4], 1);

        uint256[] memory inputs = new uint256[](2);
        (inputs[0], inputs[1]) = (0xa0, 0xa1);
        gen.expect(inst, proof);
        vm.expectEmit(true, true, false, true, address(guard));
        emit IGuardEvents.Verified(MODEL_REC_BATCH, 5, inputs, 5, 253);
        guard.submit(MODEL_REC_BATCH, c, _attest(MODEL_REC_BATCH, c, inst), inst, proof);

        VerifiedResult memory r = rec.last();
        assertEq(r.sampleCount, 253);
        assertEq(r.flaggedCount, 5);
        assertEq(r.flaggedBits.length, 1);
        uint256[] memory b = r.flaggedBits;
        assertTrue(_flagged(b, 0) && _flagged(b, 247) && _flagged(b, 248) && _flagged(b, 249));
        assertFalse(_flagged(b, 1) || _flagged(b, 246) || _flagged(b, 250) || _flagged(b, 251));
        assertTrue(_flagged(b, 252)); // sample 2 of segment 1
        assertEq(b[0] >> 253, 0);
        assertEq(r.maxScore, type(int256).min);
        assertEq(r.inputCommitments[0], 0xa0);
        assertEq(r.inputCommitments[1], 0xa1);
    }

    function test_submit_batchWithSubjects_oneSubjectPerRealSample() public {
        address[] memory subjects = new address[](3);
        (subjects[0], subjects[1], subjects[2]) = (alice, bob, carol);
        SubmissionContext memory c = _ctxWith(6, subjects);
        (uint256 flagged, uint256 samples) =
            _submit(MODEL_REC_BATCH, c, _batchFor(MODEL_REC_BATCH, c, 1, 2, 1));
        assertEq(samples, 3);
        assertEq(flagged, 3);
        assertEq(rec.last().subjects[2], carol);
    }

    function test_computeContext_matchesProverEncoding() public {
        SubmissionContext memory c = _ctxWith(11, _addrs(alice, bob, carol, dave));
        assertEq(
            guard.computeContext(MODEL_DIRECT, c), _contextFor(address(guard), block.chainid, MODEL_DIRECT, c)
        );
        vm.chainId(10);
        assertEq(guard.computeContext(MODEL_DIRECT, c), _contextFor(address(guard), 10, MODEL_DIRECT, c));
    }

    function test_submit_staleBoundary_exactlyMaxAgeIsAccepted() public {
        SubmissionContext memory c = _ctx(1);
        (bool[] memory f, int256[] memory s) = _quiet();
        uint256[] memory inst = _direct(MODEL_DIRECT, c, f, s);
        vm.warp(uint256(c.issuedAt) + MAX_AGE);
        _submit(MODEL_DIRECT, c, inst);
        assertTrue(guard.isNonceUsed(MODEL_DIRECT, 1));
    }

    // ------------------------------------------------------------------ reverts

    function _expectSubmitRevert(
        uint256 modelId,
        SubmissionContext memory c,
        uint256[] memory inst,
        bytes memory err
    ) internal {
        gen.expect(inst, proof);
        vm.expectRevert(err);
        guard.submit(modelId, c, _attest(modelId, c, inst), inst, proof);
        assertFalse(guard.isNonceUsed(modelId, c.nonce));
    }

    function test_submit_unknownModel_reverts() public {
        SubmissionContext memory c = _ctx(1);
        (bool[] memory f, int256[] memory s) = _quiet();
        uint256[] memory inst = _direct(MODEL_DIRECT, c, f, s);
        _expectSubmitRevert(99, c, inst, abi.encodeWithSelector(IGuardErrors.UnknownModel.selector, 99));
    }

    function test_submit_retiredModel_reverts() public {
        vm.prank(governance);
        registry.retireModel(MODEL_DIRECT);
        SubmissionContext memory c = _ctx(1);
        (bool[] memory f, int256[] memory s) = _quiet();
        uint256[] memory inst = _direct(MODEL_DIRECT, c, f, s);
        _expectSubmitRevert(
            MODEL_DIRECT, c, inst, abi.encodeWithSelector(IGuardErrors.ModelIsRetired.selector, 1)
        );
    }

    function test_submit_tooFewInstances_reverts() public {
        SubmissionContext memory c = _ctx(1);
        (bool[] memory f, int256[] memory s) = _quiet();
        uint256[] memory inst = _direct(MODEL_DIRECT, c, f, s);
        uint256[] memory shorter = new uint256[](inst.length - 1);
        for (uint256 i = 0; i < shorter.length; ++i) {
            shorter[i] = inst[i];
        }
        _expectSubmitRevert(
            MODEL_DIRECT,
            c,
            shorter,
            abi.encodeWithSelector(IGuardErrors.InstanceCountMismatch.selector, 7, 6)
        );
    }

    function test_submit_tooManyInstances_reverts() public {
        SubmissionContext memory c = _ctx(1);
        uint256[] memory inst = _batch(c, 3, 3, 0);
        uint256[] memory longer = new uint256[](inst.length + 1);
        for (uint256 i = 0; i < inst.length; ++i) {
            longer[i] = inst[i];
        }
        _expectSubmitRevert(
            MODEL_BATCH,
            c,
            longer,
            abi.encodeWithSelector(IGuardErrors.InstanceCountMismatch.selector, 26, 27)
        );
    }

    function test_submit_commitmentMismatch_directSegment_reverts() public {
        SubmissionContext memory c = _ctx(1);
        (bool[] memory f, int256[] memory s) = _quiet();
        uint256[] memory inst = _direct(MODEL_DIRECT, c, f, s);
        inst[0] = COMMIT_HOOK;
        _expectSubmitRevert(
            MODEL_DIRECT,
            c,
            inst,
            abi.encodeWithSelector(
                IGuardErrors.ModelCommitmentMismatch.selector, 0, COMMIT_DIRECT, COMMIT_HOOK
            )
        );
    }

    function test_submit_commitmentMismatch_secondBatchSegment_reverts() public {
        SubmissionContext memory c = _ctx(1);
        uint256[] memory inst = _batch(c, 3, 3, 0);
        inst[12 + 7] = 0xdead;
        _expectSubmitRevert(
            MODEL_BATCH,
            c,
            inst,
            abi.encodeWithSelector(IGuardErrors.ModelCommitmentMismatch.selector, 1, COMMIT_BATCH, 0xdead)
        );
    }

    function test_submit_contextMismatch_secondBatchSegmentWithOtherNonce_reverts() public {
        SubmissionContext memory c = _ctx(1);
        uint256[] memory inst = _batch(c, 3, 3, 0);
        uint256 other = _contextFor(address(guard), block.chainid, MODEL_BATCH, _ctx(2));
        inst[12 + 7 + 2] = other;
        _expectSubmitRevert(
            MODEL_BATCH,
            c,
            inst,
            abi.encodeWithSelector(IGuardErrors.ContextMismatch.selector, 1, inst[14], other)
        );
    }

    function test_submit_contextForOtherChain_reverts() public {
        SubmissionContext memory c = _ctx(1);
        (bool[] memory f, int256[] memory s) = _quiet();
        uint256[] memory inst = _direct(MODEL_DIRECT, c, f, s);
        uint256 proven = inst[2];
        vm.chainId(1);
        uint256 expected = _contextFor(address(guard), 1, MODEL_DIRECT, c);
        _expectSubmitRevert(
            MODEL_DIRECT,
            c,
            inst,
            abi.encodeWithSelector(IGuardErrors.ContextMismatch.selector, 0, expected, proven)
        );
    }

    function test_submit_contextForOtherGuard_reverts() public {
        Guard other = new Guard(registry);
        SubmissionContext memory c = _ctx(1);
        Segment[] memory segs = new Segment[](1);
        (bool[] memory f, int256[] memory s) = _quiet();
        segs[0] = _segment(1, f, s);
        uint256[] memory inst = _instancesFor(address(other), block.chainid, MODEL_NO_ACTION, c, segs);
        // accepted by the guard it was made for ...
        gen.expect(inst, proof);
        other.submit(
            MODEL_NO_ACTION, c, _attestFor(IGuard(address(other)), MODEL_NO_ACTION, c, inst), inst, proof
        );
        assertTrue(other.isNonceUsed(MODEL_NO_ACTION, 1));
        // ... refused by this one
        _expectSubmitRevert(
            MODEL_NO_ACTION,
            c,
            inst,
            abi.encodeWithSelector(
                IGuardErrors.ContextMismatch.selector, 0, guard.computeContext(MODEL_NO_ACTION, c), inst[2]
            )
        );
    }

    function test_submit_contextWithOtherModelId_reverts() public {
        SubmissionContext memory c = _ctx(1);
        Segment[] memory segs = new Segment[](1);
        (bool[] memory f, int256[] memory s) = _quiet();
        segs[0] = _segment(1, f, s);
        // same commitment and layout (MODEL_NO_ACTION), but the context names another model
        uint256[] memory inst = _instancesFor(address(guard), block.chainid, MODEL_NO_ACTION, c, segs);
        _expectSubmitRevert(
            MODEL_DIRECT,
            c,
            inst,
            abi.encodeWithSelector(
                IGuardErrors.ContextMismatch.selector, 0, guard.computeContext(MODEL_DIRECT, c), inst[2]
            )
        );
    }

    function test_submit_subjectsSwapped_contextMismatch_reverts() public {
        SubmissionContext memory c = _ctxWith(1, _addrs(alice, bob, carol, dave));
        (bool[] memory f, int256[] memory s) = _quiet();
        uint256[] memory inst = _direct(MODEL_DIRECT, c, f, s);
        c.subjects = _addrs(bob, alice, carol, dave);
        _expectSubmitRevert(
            MODEL_DIRECT,
            c,
            inst,
            abi.encodeWithSelector(
                IGuardErrors.ContextMismatch.selector, 0, guard.computeContext(MODEL_DIRECT, c), inst[2]
            )
        );
    }

    function test_submit_issuedAtChanged_contextMismatch_reverts() public {
        SubmissionContext memory c = _ctx(1);
        (bool[] memory f, int256[] memory s) = _quiet();
        uint256[] memory inst = _direct(MODEL_DIRECT, c, f, s);
        c.issuedAt -= 1;
        _expectSubmitRevert(
            MODEL_DIRECT,
            c,
            inst,
            abi.encodeWithSelector(
                IGuardErrors.ContextMismatch.selector, 0, guard.computeContext(MODEL_DIRECT, c), inst[2]
            )
        );
    }

    function test_submit_replayedNonce_reverts() public {
        SubmissionContext memory c = _ctx(1);
        (bool[] memory f, int256[] memory s) = _quiet();
        uint256[] memory inst = _direct(MODEL_DIRECT, c, f, s);
        _submit(MODEL_DIRECT, c, inst);
        vm.expectRevert(abi.encodeWithSelector(IGuardErrors.NonceAlreadyUsed.selector, MODEL_DIRECT, 1));
        guard.submit(MODEL_DIRECT, c, _attest(MODEL_DIRECT, c, inst), inst, proof);
    }

    function test_submit_stale_reverts() public {
        SubmissionContext memory c = _ctx(1);
        (bool[] memory f, int256[] memory s) = _quiet();
        uint256[] memory inst = _direct(MODEL_DIRECT, c, f, s);
        uint256 late = uint256(c.issuedAt) + MAX_AGE + 1;
        vm.warp(late);
        _expectSubmitRevert(
            MODEL_DIRECT,
            c,
            inst,
            abi.encodeWithSelector(IGuardErrors.StaleSubmission.selector, c.issuedAt, MAX_AGE, late)
        );
    }

    function test_submit_issuedInFuture_reverts() public {
        SubmissionContext memory c = _ctx(1);
        c.issuedAt = uint64(block.timestamp + 1);
        (bool[] memory f, int256[] memory s) = _quiet();
        uint256[] memory inst = _direct(MODEL_DIRECT, c, f, s);
        _expectSubmitRevert(
            MODEL_DIRECT,
            c,
            inst,
            abi.encodeWithSelector(IGuardErrors.IssuedInFuture.selector, c.issuedAt, block.timestamp)
        );
    }

    function test_submit_verifierRejects_reverts() public {
        SubmissionContext memory c = _ctx(1);
        (bool[] memory f, int256[] memory s) = _quiet();
        uint256[] memory inst = _direct(MODEL_DIRECT, c, f, s);
        gen.expect(inst, proof);
        bytes memory badProof = bytes.concat(proof);
        badProof[7] ^= 0x01;
        vm.expectRevert(IZkGuardVerifierErrors.ProofRejected.selector);
        guard.submit(MODEL_DIRECT, c, _attest(MODEL_DIRECT, c, inst), inst, badProof);
        assertFalse(guard.isNonceUsed(MODEL_DIRECT, 1));
    }

    function test_submit_instanceNotInField_reverts() public {
        SubmissionContext memory c = _ctx(1);
        (bool[] memory f, int256[] memory s) = _quiet();
        uint256[] memory inst = _direct(MODEL_DIRECT, c, f, s);
        inst[6] = R; // the score word
        _expectSubmitRevert(
            MODEL_DIRECT,
            c,
            inst,
            abi.encodeWithSelector(IZkGuardVerifierErrors.InstanceOutOfField.selector, 6, R)
        );
    }

    function test_submit_accumulatorLimbNotInField_reverts() public {
        SubmissionContext memory c = _ctx(1);
        uint256[] memory inst = _batch(c, 2, 2, 0);
        inst[11] = type(uint256).max;
        _expectSubmitRevert(
            MODEL_BATCH,
            c,
            inst,
            abi.encodeWithSelector(IZkGuardVerifierErrors.InstanceOutOfField.selector, 11, type(uint256).max)
        );
    }

    function test_submit_sampleCountZero_reverts() public {
        SubmissionContext memory c = _ctx(1);
        (bool[] memory f, int256[] memory s) = _quiet();
        uint256[] memory inst = _direct(MODEL_DIRECT, c, f, s);
        inst[3] = 0;
        _expectSubmitRevert(
            MODEL_DIRECT, c, inst, abi.encodeWithSelector(IGuardErrors.InvalidSampleCount.selector, 0, 0, 4)
        );
    }

    function test_submit_sampleCountAboveBatchSize_reverts() public {
        SubmissionContext memory c = _ctx(1);
        (bool[] memory f, int256[] memory s) = _quiet();
        uint256[] memory inst = _direct(MODEL_DIRECT, c, f, s);
        inst[3] = 5;
        _expectSubmitRevert(
            MODEL_DIRECT, c, inst, abi.encodeWithSelector(IGuardErrors.InvalidSampleCount.selector, 0, 5, 4)
        );
    }

    function test_submit_sampleCountAboveBatchSize_secondSegment_reverts() public {
        SubmissionContext memory c = _ctx(1);
        uint256[] memory inst = _batch(c, 250, 250, 0);
        inst[12 + 7 + 3] = 251;
        _expectSubmitRevert(
            MODEL_BATCH,
            c,
            inst,
            abi.encodeWithSelector(IGuardErrors.InvalidSampleCount.selector, 1, 251, 250)
        );
    }

    function test_submit_decisionWordOutOfRange_reverts() public {
        SubmissionContext memory c = _ctx(1);
        uint256[] memory inst = _batch(c, 250, 250, 0);
        uint256 word = InstanceLayout.DECISION_WORD_BOUND; // 2^248 < R
        inst[12 + 7 + 6] = word;
        _expectSubmitRevert(
            MODEL_BATCH,
            c,
            inst,
            abi.encodeWithSelector(IGuardErrors.DecisionWordOutOfRange.selector, 1, 1, word)
        );
    }

    function test_submit_subjectsLengthMismatch_reverts() public {
        address[] memory subjects = new address[](3);
        (subjects[0], subjects[1], subjects[2]) = (alice, bob, carol);
        SubmissionContext memory c = _ctxWith(1, subjects);
        (bool[] memory f, int256[] memory s) = _quiet();
        uint256[] memory inst = _direct(MODEL_DIRECT, c, f, s);
        _expectSubmitRevert(
            MODEL_DIRECT, c, inst, abi.encodeWithSelector(IGuardErrors.SubjectsLengthMismatch.selector, 4, 3)
        );
    }

    function test_submit_actionRevert_revertsAndKeepsNonce() public {
        RevertingAction bad = new RevertingAction();
        vm.prank(governance);
        registry.updatePolicy(MODEL_NO_ACTION, Policy(bad, MAX_AGE, 1, false, 0));
        SubmissionContext memory c = _ctx(1);
        (bool[] memory f, int256[] memory s) = _quiet();
        uint256[] memory inst = _direct(MODEL_NO_ACTION, c, f, s);
        _expectSubmitRevert(
            MODEL_NO_ACTION,
            c,
            inst,
            abi.encodeWithSelector(RevertingAction.ActionFailed.selector, MODEL_NO_ACTION)
        );
    }

    function test_submit_reentrancyFromAction_reverts() public {
        ReentrantAction evil = new ReentrantAction();
        vm.prank(governance);
        registry.updatePolicy(MODEL_NO_ACTION, Policy(evil, MAX_AGE, 1, false, 0));
        (bool[] memory f, int256[] memory s) = _quiet();
        SubmissionContext memory c2 = _ctx(2);
        evil.arm(guard, MODEL_NO_ACTION, c2, _direct(MODEL_NO_ACTION, c2, f, s), proof);
        SubmissionContext memory c = _ctx(1);
        uint256[] memory inst = _direct(MODEL_NO_ACTION, c, f, s);
        gen.setAcceptAll(true);
        vm.expectRevert(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
        guard.submit(MODEL_NO_ACTION, c, _attest(MODEL_NO_ACTION, c, inst), inst, proof);
    }
}
