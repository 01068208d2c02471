// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {console} from "forge-std/console.sol";

import {ZkGuardBase, Segment} from "./utils/ZkGuardBase.sol";
import {Attestation, SubmissionContext} from "../src/interfaces/IGuard.sol";
import {ModelConfig, Policy} from "../src/interfaces/IModelRegistry.sol";
import {IGuardAction} from "../src/interfaces/IGuardAction.sol";

/// @notice Gas of Guard.submit with the mock generated verifier (so: everything but the pairing
///         check of a real verifier). Run with -vv to see the figures; the bounds catch regressions.
contract GuardGasTest is ZkGuardBase {
    uint256 internal constant GAS_PLAIN = 40;

    function setUp() public override {
        super.setUp();
        vm.prank(governance);
        registry.registerModel(
            GAS_PLAIN,
            ModelConfig(COMMIT_DIRECT, DIGEST_DIRECT, directVerifier, DIRECT_BATCH, true, SCALE_BITS),
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
