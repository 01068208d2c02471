// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ZkGuardBase, Segment} from "./utils/ZkGuardBase.sol";
import {InstanceLayout} from "../src/InstanceLayout.sol";
import {Attestation, IGuard, IGuardErrors, SubmissionContext} from "../src/interfaces/IGuard.sol";
import {IZkGuardVerifierErrors} from "../src/interfaces/IZkGuardVerifier.sol";
import {ModelConfig, Policy} from "../src/interfaces/IModelRegistry.sol";
import {IGuardAction} from "../src/interfaces/IGuardAction.sol";

/// @notice Negative property tests: with a verifier that accepts only the exact original calldata,
///         no single mutation of an instance, of the proof or of the submit calldata ever passes,
///         and each instance mutation fails with the error its position calls for.
contract GuardFuzzTest is ZkGuardBase {
    uint256 internal constant FUZZ_DIRECT = 20;
    uint256 internal constant FUZZ_BATCH = 21;

    function setUp() public override {
        super.setUp();
        _markBatch(FUZZ_BATCH);
        vm.startPrank(governance);
        registry.registerModel(
            FUZZ_DIRECT,
            ModelConfig(COMMIT_DIRECT, DIGEST_DIRECT, directVerifier, DIRECT_BATCH, SCORE_BITS, SCALE_BITS),
            Policy(IGuardAction(address(0)), MAX_AGE, 1, true, 0),
            _inputs()
        );
        registry.registerModel(
            FUZZ_BATCH,
            ModelConfig(COMMIT_BATCH, DIGEST_BATCH, batchVerifier, BATCH_BATCH, 0, 0),
            Policy(IGuardAction(address(0)), MAX_AGE, 1, false, 0),
            _inputs()
        );
        vm.stopPrank();
    }

    function _directSubmission() internal view returns (SubmissionContext memory c, uint256[] memory inst) {
        c = _ctxWith(7, _addrs(alice, bob, carol, dave));
        inst = _direct(FUZZ_DIRECT, c, _bools(true, false, true, false), _ints(-300, 5, 0, 1 << 9));
    }

    function _batchSubmission() internal view returns (SubmissionContext memory c, uint256[] memory inst) {
        c = _ctx(8);
        Segment[] memory segs = new Segment[](2);
        segs[0] = _segment(0xa0, _flags(250, 3), new int256[](0));
        segs[1] = _segment(0xa1, _flags(17, 2), new int256[](0));
        inst = _instances(FUZZ_BATCH, c, segs);
    }

    /// @dev The error a single mutation of `inst[index]` to `value` must produce, from its position.
    function _expectedError(
        uint256 index,
        uint256 value,
        uint256[] memory inst,
        uint256 limbs,
        uint256 app,
        uint256 batchSize,
        uint256 subjects
    ) internal pure returns (bytes memory) {
        if (index < limbs) return _outOfFieldOrRejected(index, value);
        uint256 k = (index - limbs) / app;
        uint256 off = (index - limbs) % app;
        uint256 base = limbs + k * app;
        if (off == InstanceLayout.MODEL_COMMITMENT_OFFSET) {
            return abi.encodeWithSelector(IGuardErrors.ModelCommitmentMismatch.selector, k, inst[base], value);
        }
        if (off == InstanceLayout.CONTEXT_OFFSET) {
            return abi.encodeWithSelector(IGuardErrors.ContextMismatch.selector, k, inst[base + 2], value);
        }
        if (off == InstanceLayout.SAMPLE_COUNT_OFFSET && (value == 0 || value > batchSize)) {
            return abi.encodeWithSelector(IGuardErrors.InvalidSampleCount.selector, k, value, batchSize);
        }
        if (off == InstanceLayout.SAMPLE_COUNT_OFFSET && subjects != 0) {
            // a valid but different sample count no longer matches one subject per real sample
            uint256 total = 0;
            for (uint256 j = 0; j < (inst.length - limbs) / app; ++j) {
                total += j == k ? value : inst[limbs + j * app + InstanceLayout.SAMPLE_COUNT_OFFSET];
            }
            return abi.encodeWithSelector(IGuardErrors.SubjectsLengthMismatch.selector, total, subjects);
        }
        uint256 words = InstanceLayout.decisionWordCount(batchSize);
        if (off >= InstanceLayout.DECISIONS_OFFSET && off < InstanceLayout.DECISIONS_OFFSET + words) {
            if (value >= InstanceLayout.DECISION_WORD_BOUND) {
                return abi.encodeWithSelector(
                    IGuardErrors.DecisionWordOutOfRange.selector,
                    k,
                    off - InstanceLayout.DECISIONS_OFFSET,
                    value
                );
            }
        }
        return _outOfFieldOrRejected(index, value);
    }

    function _outOfFieldOrRejected(uint256 index, uint256 value) internal pure returns (bytes memory) {
        if (value >= R) {
            return abi.encodeWithSelector(IZkGuardVerifierErrors.InstanceOutOfField.selector, index, value);
        }
        return abi.encodeWithSelector(IZkGuardVerifierErrors.ProofRejected.selector);
    }

    /// @dev Biases fuzzed values towards the interesting ranges (small, just below/above R, 2^248).
    function _pick(uint256 seed, uint256 value) internal pure returns (uint256) {
        uint256 mode = seed % 5;
        if (mode == 0) return value % 300;
        if (mode == 1) return R - 1 - (value % 4);
        if (mode == 2) return R + (value % 4);
        if (mode == 3) return InstanceLayout.DECISION_WORD_BOUND - 2 + (value % 4);
        return value;
    }

    function test_unmutatedSubmissionsPass() public {
        (SubmissionContext memory c, uint256[] memory inst) = _directSubmission();
        (uint256 flagged, uint256 samples) = _submit(FUZZ_DIRECT, c, inst);
        assertEq(flagged, 2);
        assertEq(samples, 4);
        (c, inst) = _batchSubmission();
        (flagged, samples) = _submit(FUZZ_BATCH, c, inst);
        assertEq(flagged, 84 + 9);
        assertEq(samples, 267);
    }

    function testFuzz_directMutatedInstance_neverPasses(uint256 index, uint256 seed, uint256 value) public {
        (SubmissionContext memory c, uint256[] memory inst) = _directSubmission();
        gen.expect(inst, proof);
        index = bound(index, 0, inst.length - 1);
        value = _pick(seed, value);
        vm.assume(value != inst[index]);
        bytes memory err = _expectedError(index, value, inst, 0, inst.length, DIRECT_BATCH, c.subjects.length);
        inst[index] = value;
        vm.expectRevert(err);
        guard.submit(FUZZ_DIRECT, c, _attest(FUZZ_DIRECT, c, inst), inst, proof);
        assertFalse(guard.isNonceUsed(FUZZ_DIRECT, c.nonce));
    }

    function testFuzz_batchMutatedInstance_neverPasses(uint256 index, uint256 seed, uint256 value) public {
        (SubmissionContext memory c, uint256[] memory inst) = _batchSubmission();
        gen.expect(inst, proof);
        index = bound(index, 0, inst.length - 1);
        value = _pick(seed, value);
        vm.assume(value != inst[index]);
        bytes memory err = _expectedError(
            index,
            value,
            inst,
            12,
            InstanceLayout.appInstanceCount(BATCH_BATCH, 0),
            BATCH_BATCH,
            c.subjects.length
        );
        inst[index] = value;
        vm.expectRevert(err);
        guard.submit(FUZZ_BATCH, c, _attest(FUZZ_BATCH, c, inst), inst, proof);
        assertFalse(guard.isNonceUsed(FUZZ_BATCH, c.nonce));
    }

    function testFuzz_mutatedProof_rejected(uint256 pos, uint8 mask) public {
        vm.assume(mask != 0);
        (SubmissionContext memory c, uint256[] memory inst) = _directSubmission();
        gen.expect(inst, proof);
        bytes memory bad = bytes.concat(proof);
        pos = bound(pos, 0, bad.length - 1);
        bad[pos] = bytes1(uint8(bad[pos]) ^ mask);
        vm.expectRevert(IZkGuardVerifierErrors.ProofRejected.selector);
        guard.submit(FUZZ_DIRECT, c, _attest(FUZZ_DIRECT, c, inst), inst, bad);
    }

    function testFuzz_truncatedOrExtendedProof_rejected(uint256 len) public {
        (SubmissionContext memory c, uint256[] memory inst) = _directSubmission();
        gen.expect(inst, proof);
        len = bound(len, 0, proof.length * 2);
        vm.assume(len != proof.length);
        bytes memory bad = new bytes(len);
        for (uint256 i = 0; i < len && i < proof.length; ++i) {
            bad[i] = proof[i];
        }
        vm.expectRevert(
            abi.encodeWithSelector(IZkGuardVerifierErrors.ProofLengthMismatch.selector, proof.length, len)
        );
        guard.submit(FUZZ_DIRECT, c, _attest(FUZZ_DIRECT, c, inst), inst, bad);
    }

    /// @dev Any single-byte change anywhere in the ABI-encoded submit calldata (selector, model id,
    ///      context, subjects, offsets, lengths, attestations, instances, proof) makes the call fail,
    ///      except in the 31 zero bytes that pad the 65-byte signature to a word (the ABI decoder
    ///      ignores padding; they are not part of any signed or proved value).
    function testFuzz_mutatedSubmitCalldata_neverPasses(uint256 pos, uint8 mask) public {
        vm.assume(mask != 0);
        (SubmissionContext memory c, uint256[] memory inst) = _directSubmission();
        gen.expect(inst, proof);
        Attestation[] memory att = _attest(FUZZ_DIRECT, c, inst);
        bytes memory data = abi.encodeCall(IGuard.submit, (FUZZ_DIRECT, c, att, inst, proof));
        uint256 sigAt = _find(data, att[0].signature);
        pos = bound(pos, 0, data.length - 1);
        vm.assume(pos < sigAt + 65 || pos >= sigAt + 96);
        // sanity: the original calldata passes (checked in a snapshot we roll back)
        uint256 snap = vm.snapshotState();
        (bool okOriginal,) = address(guard).call(data);
        assertTrue(okOriginal);
        vm.revertToState(snap);

        data[pos] = bytes1(uint8(data[pos]) ^ mask);
        (bool ok,) = address(guard).call(data);
        assertFalse(ok, "mutated calldata passed");
        assertFalse(guard.isNonceUsed(FUZZ_DIRECT, c.nonce));
    }

    /// @dev The offset of `needle` in `hay` (reverts when absent).
    function _find(bytes memory hay, bytes memory needle) internal pure returns (uint256) {
        for (uint256 i = 0; i + needle.length <= hay.length; ++i) {
            bool same = true;
            for (uint256 j = 0; j < needle.length && same; ++j) {
                same = hay[i + j] == needle[j];
            }
            if (same) return i;
        }
        revert("needle not found");
    }
}
