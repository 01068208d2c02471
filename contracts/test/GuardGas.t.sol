// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {console} from "forge-std/console.sol";

import {ZkGuardBase, Segment} from "./utils/ZkGuardBase.sol";
import {Attestation, SubmissionContext} from "../src/interfaces/IGuard.sol";
import {ModelConfig, Policy} from "../src/interfaces/IModelRegistry.sol";
import {IGuardAction} from "../src/interfaces/IGuardAction.sol";
import {InstanceLayout} from "../src/InstanceLayout.sol";
import {ZkGuardVerifier} from "../src/ZkGuardVerifier.sol";

/// @notice Gas of Guard.submit with the mock generated verifier (so: everything but the pairing
///         check of a real verifier). Run with -vv to see the figures; the bounds catch regressions.
contract GuardGasTest is ZkGuardBase {
    uint256 internal constant GAS_PLAIN = 40;

    function setUp() public override {
        super.setUp();
        vm.prank(governance);
        registry.registerModel(
            GAS_PLAIN,
            ModelConfig(COMMIT_DIRECT, DIGEST_DIRECT, directVerifier, DIRECT_BATCH, SCORE_BITS, SCALE_BITS),
            Policy(IGuardAction(address(0)), MAX_AGE, 1, false, 0),
            _inputs()
        );
    }

    function _measure(string memory label, uint256 modelId, SubmissionContext memory c, uint256[] memory inst)
        internal
        returns (uint256 used)
    {
        gen.expect(inst, proof);
        Attestation[] memory attestations = _attest(modelId, c, inst);
        uint256 before = gasleft();
        guard.submit(modelId, c, attestations, inst, proof);
        used = before - gasleft();
        console.log(label, used);
    }

    function test_gas_submit_directNoAction() public {
        SubmissionContext memory c = _ctx(1);
        uint256 used = _measure(
            "submit direct, 4 samples + scores, no action:",
            GAS_PLAIN,
            c,
            _direct(GAS_PLAIN, c, _bools(true, false, false, false), _ints(1, 2, 3, 4))
        );
        assertLt(used, 95_000);
    }

    function test_gas_submit_directBreakerNoTrip() public {
        SubmissionContext memory c = _ctx(1);
        uint256 used = _measure(
            "submit direct, breaker action, no trip:",
            MODEL_DIRECT,
            c,
            _direct(MODEL_DIRECT, c, _bools(true, false, false, false), _ints(1, 2, 3, 4))
        );
        assertLt(used, 115_000);
    }

    function test_gas_submit_directBreakerTrip() public {
        SubmissionContext memory c = _ctx(1);
        uint256 used = _measure(
            "submit direct, breaker trips (records + pauses vault):",
            MODEL_DIRECT,
            c,
            _direct(MODEL_DIRECT, c, _bools(true, true, false, false), _ints(1, 2, 3, 4))
        );
        assertLt(used, 265_000);
    }

    function test_gas_submit_batch2x250_filter8Subjects() public {
        address[] memory subjects = new address[](8);
        for (uint256 i = 0; i < 8; ++i) {
            subjects[i] = address(uint160(0x1000 + i));
        }
        SubmissionContext memory c = _ctxWith(1, subjects);
        uint256 used = _measure(
            "submit aggregated 2 proofs (12 limbs), 8 real samples, filter records 8 verdicts:",
            MODEL_BATCH,
            c,
            _batch(c, 4, 4, 3)
        );
        assertLt(used, 400_000);
    }
}

/// @notice Guard gas against the batch size B (direct mode, mock verifier accepting everything,
///         so the figures are the Guard's own: checks, decoding, the action; add the real
///         verifier's gas from `zkguard-bench --onchain`). Run with -vv; logged, not asserted,
///         beyond a loose bound per decision.
contract GuardGasPerSampleTest is ZkGuardBase {
    uint256 internal nextId = 100;

    function _register(uint16 batch, uint8 scoreBits, Policy memory p) internal returns (uint256 id) {
        id = nextId++;
        ZkGuardVerifier v = new ZkGuardVerifier(
            address(gen), DIGEST_DIRECT, InstanceLayout.appInstanceCount(batch, scoreBits), 1, 0, PROOF_LEN
        );
        vm.prank(governance);
        registry.registerModel(
            id, ModelConfig(COMMIT_DIRECT, DIGEST_DIRECT, v, batch, scoreBits, SCALE_BITS), p, _inputs()
        );
    }

    function _run(string memory label, uint16 batch, uint8 scoreBits, Policy memory p, bool withSubjects)
        internal
        returns (uint256 used)
    {
        uint256 id = _register(batch, scoreBits, p);
        address[] memory subjects = new address[](withSubjects ? batch : 0);
        for (uint256 i = 0; i < subjects.length; ++i) {
            subjects[i] = address(uint160(0x10000 + i));
        }
        SubmissionContext memory c = _ctxWith(uint64(id), subjects);
        int256[] memory scores = new int256[](batch);
        for (uint256 i = 0; i < batch; ++i) {
            scores[i] = int256(i * 37) - 500;
        }
        uint256[] memory inst = _direct(id, c, _flags(batch, 7), scores);
        gen.setAcceptAll(true);
        Attestation[] memory attestations = _attest(id, c, inst);
        uint256 before = gasleft();
        guard.submit(id, c, attestations, inst, proof);
        used = before - gasleft();
        console.log(label, batch, used, used / batch);
        // A loose regression bound: the Guard's fixed cost plus the action's per-subject writes.
        assertLt(used, 100_000 + uint256(batch) * (withSubjects ? 30_000 : 400));
    }

    function test_gas_perSample_breakerCounts() public {
        Policy memory p = Policy(breaker, MAX_AGE, type(uint32).max, false, 0);
        for (uint256 i = 0; i < 5; ++i) {
            uint16 b = [uint16(1), 16, 64, 256, 1024][i];
            _run("breaker (counts), no scores: B, gas, gas/decision", b, 0, p, false);
            _run("breaker (counts), 40-bit scores: B, gas, gas/decision", b, SCORE_BITS, p, false);
        }
    }

    function test_gas_perSample_breakerScoreThreshold() public {
        Policy memory p = Policy(breaker, MAX_AGE, type(uint32).max, true, type(int256).max);
        for (uint256 i = 0; i < 5; ++i) {
            uint16 b = [uint16(1), 16, 64, 256, 1024][i];
            _run("breaker, max score read in place: B, gas, gas/decision", b, SCORE_BITS, p, false);
        }
    }

    function test_gas_perSample_filterVerdicts() public {
        Policy memory p = Policy(filter, MAX_AGE, 0, false, 0);
        for (uint256 i = 0; i < 3; ++i) {
            uint16 b = [uint16(16), 64, 256][i];
            _run("filter, one verdict per subject: B, gas, gas/decision", b, 0, p, true);
        }
    }
}
