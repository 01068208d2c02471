// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

import {ZkGuardBase, Segment} from "./utils/ZkGuardBase.sol";
import {ModelRegistry} from "../src/ModelRegistry.sol";
import {ZkGuardVerifier} from "../src/ZkGuardVerifier.sol";
import {InstanceLayout} from "../src/InstanceLayout.sol";
import {
    IModelRegistryErrors,
    IModelRegistryEvents,
    Model,
    ModelConfig,
    ModelStatus,
    Policy
} from "../src/interfaces/IModelRegistry.sol";
import {IGuardAction} from "../src/interfaces/IGuardAction.sol";
import {IZkGuardVerifier} from "../src/interfaces/IZkGuardVerifier.sol";
import {SubmissionContext} from "../src/interfaces/IGuard.sol";
import {MockZkGuardVerifier} from "./mocks/MockZkGuardVerifier.sol";

contract ModelRegistryTest is ZkGuardBase {
    uint256 internal constant NEW_ID = 77;
    address internal stranger = makeAddr("stranger");

    function _cfg() internal view returns (ModelConfig memory) {
        return ModelConfig(0xabc, DIGEST_DIRECT, directVerifier, DIRECT_BATCH, SCORE_BITS, SCALE_BITS);
    }

    function _policy() internal view returns (Policy memory) {
        return Policy(breaker, MAX_AGE, 2, true, 5);
    }

    function _register(ModelConfig memory cfg, Policy memory p) internal {
        vm.prank(governance);
        registry.registerModel(NEW_ID, cfg, p, _inputs());
    }

    function _expectRegisterRevert(ModelConfig memory cfg, Policy memory p, bytes memory err) internal {
        vm.prank(governance);
        vm.expectRevert(err);
        registry.registerModel(NEW_ID, cfg, p, _inputs());
        assertEq(uint8(registry.statusOf(NEW_ID)), uint8(ModelStatus.None));
    }

    function _unauthorized(address who) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, who);
    }

    // ------------------------------------------------------------------ register

    function test_constructor_setsOwner() public {
        assertEq(registry.owner(), governance);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableInvalidOwner.selector, address(0)));
        new ModelRegistry(address(0));
    }

    function test_register_storesEntryAndEmits() public {
        Policy memory p = _policy();
        vm.expectEmit(true, false, false, true, address(registry));
        emit IModelRegistryEvents.ModelRegistered(
            NEW_ID, 0xabc, DIGEST_DIRECT, address(directVerifier), DIRECT_BATCH, SCORE_BITS, SCALE_BITS
        );
        vm.expectEmit(true, false, false, true, address(registry));
        emit IModelRegistryEvents.PolicyUpdated(NEW_ID, p);
        _register(_cfg(), p);

        Model memory m = registry.getModel(NEW_ID);
        assertEq(m.modelCommitment, 0xabc);
        assertEq(m.circuitDigest, DIGEST_DIRECT);
        assertEq(address(m.verifier), address(directVerifier));
        assertEq(m.batchSize, DIRECT_BATCH);
        assertEq(m.proofCount, 1);
        assertEq(m.accumulatorLimbs, 0);
        assertEq(m.scoreBits, SCORE_BITS);
        assertEq(m.scoreScaleBits, SCALE_BITS);
        assertEq(uint8(m.status), uint8(ModelStatus.Active));
        assertEq(address(m.policy.action), address(breaker));
        assertEq(m.policy.maxAge, MAX_AGE);
        assertEq(m.policy.minFlagged, 2);
        assertTrue(m.policy.useScoreThreshold);
        assertEq(m.policy.scoreThreshold, 5);
        assertEq(uint8(registry.statusOf(NEW_ID)), uint8(ModelStatus.Active));
    }

    function test_register_cachesAggregatedShape() public view {
        Model memory m = registry.getModel(MODEL_BATCH);
        assertEq(m.proofCount, BATCH_PROOFS);
        assertEq(m.accumulatorLimbs, 12);
    }

    function test_register_unknownModelIsNone() public view {
        assertEq(uint8(registry.statusOf(12345)), uint8(ModelStatus.None));
        assertEq(registry.getModel(12345).modelCommitment, 0);
    }

    function test_register_notOwner_reverts() public {
        ModelConfig memory cfg = _cfg();
        Policy memory p = _policy();
        vm.prank(stranger);
        vm.expectRevert(_unauthorized(stranger));
        registry.registerModel(NEW_ID, cfg, p, _inputs());
    }

    function test_register_takenId_reverts() public {
        ModelConfig memory cfg = _cfg();
        Policy memory p = _policy();
        vm.prank(governance);
        vm.expectRevert(
            abi.encodeWithSelector(IModelRegistryErrors.ModelAlreadyRegistered.selector, MODEL_DIRECT)
        );
        registry.registerModel(MODEL_DIRECT, cfg, p, _inputs());
    }

    function test_register_zeroCommitment_reverts() public {
        ModelConfig memory cfg = _cfg();
        cfg.modelCommitment = 0;
        _expectRegisterRevert(
            cfg, _policy(), abi.encodeWithSelector(IModelRegistryErrors.InvalidModelCommitment.selector, 0)
        );
    }

    function test_register_commitmentNotInField_reverts() public {
        ModelConfig memory cfg = _cfg();
        cfg.modelCommitment = R;
        _expectRegisterRevert(
            cfg, _policy(), abi.encodeWithSelector(IModelRegistryErrors.InvalidModelCommitment.selector, R)
        );
    }

    function test_register_zeroBatchSize_reverts() public {
        ModelConfig memory cfg = _cfg();
        cfg.batchSize = 0;
        _expectRegisterRevert(
            cfg, _policy(), abi.encodeWithSelector(IModelRegistryErrors.InvalidBatchSize.selector, 0)
        );
    }

    function test_register_verifierWithoutCode_reverts() public {
        ModelConfig memory cfg = _cfg();
        cfg.verifier = IZkGuardVerifier(stranger);
        _expectRegisterRevert(
            cfg, _policy(), abi.encodeWithSelector(IModelRegistryErrors.VerifierHasNoCode.selector, stranger)
        );
    }

    function test_register_circuitDigestMismatch_reverts() public {
        ModelConfig memory cfg = _cfg();
        cfg.circuitDigest = DIGEST_BATCH;
        _expectRegisterRevert(
            cfg,
            _policy(),
            abi.encodeWithSelector(
                IModelRegistryErrors.CircuitDigestMismatch.selector, DIGEST_BATCH, DIGEST_DIRECT
            )
        );
    }

    function test_register_layoutMismatch_reverts() public {
        ModelConfig memory cfg = _cfg();
        cfg.scoreBits = 0; // 5 + 1 instances expected, the verifier has 5 + 1 + 1
        _expectRegisterRevert(
            cfg,
            Policy(breaker, MAX_AGE, 2, false, 0),
            abi.encodeWithSelector(IModelRegistryErrors.VerifierLayoutMismatch.selector, 6, 7)
        );
    }

    function test_register_inconsistentVerifierShape_reverts() public {
        MockZkGuardVerifier odd = new MockZkGuardVerifier(DIGEST_DIRECT, 10, 7, 1, 0);
        ModelConfig memory cfg = _cfg();
        cfg.verifier = odd;
        _expectRegisterRevert(
            cfg,
            _policy(),
            abi.encodeWithSelector(IModelRegistryErrors.UnsupportedVerifierShape.selector, 1, 0, 10)
        );
    }

    function test_register_zeroProofVerifier_reverts() public {
        MockZkGuardVerifier odd = new MockZkGuardVerifier(DIGEST_DIRECT, 0, 7, 0, 0);
        ModelConfig memory cfg = _cfg();
        cfg.verifier = odd;
        _expectRegisterRevert(
            cfg,
            _policy(),
            abi.encodeWithSelector(IModelRegistryErrors.UnsupportedVerifierShape.selector, 0, 0, 0)
        );
    }

    function test_register_zeroMaxAge_reverts() public {
        Policy memory p = _policy();
        p.maxAge = 0;
        _expectRegisterRevert(
            _cfg(), p, abi.encodeWithSelector(IModelRegistryErrors.InvalidMaxAge.selector, 0)
        );
    }

    function test_register_scoreThresholdWithoutScores_reverts() public {
        ModelConfig memory cfg = ModelConfig(0xabc, DIGEST_BATCH, batchVerifier, BATCH_BATCH, 0, 0);
        _expectRegisterRevert(
            cfg,
            _policy(),
            abi.encodeWithSelector(IModelRegistryErrors.ScoreThresholdWithoutScores.selector, NEW_ID)
        );
    }

    function test_register_actionWithoutCode_reverts() public {
        Policy memory p = _policy();
        p.action = IGuardAction(stranger);
        _expectRegisterRevert(
            _cfg(), p, abi.encodeWithSelector(IModelRegistryErrors.ActionHasNoCode.selector, stranger)
        );
    }

    function test_register_noAction_isAllowed() public {
        Policy memory p = _policy();
        p.action = IGuardAction(address(0));
        _register(_cfg(), p);
        assertEq(address(registry.getModel(NEW_ID).policy.action), address(0));
    }

    // ------------------------------------------------------------------ updatePolicy

    function test_updatePolicy_storesAndEmits() public {
        Policy memory p = Policy(filter, 2 hours, 0, false, -7);
        vm.expectEmit(true, false, false, true, address(registry));
        emit IModelRegistryEvents.PolicyUpdated(MODEL_DIRECT, p);
        vm.prank(governance);
        registry.updatePolicy(MODEL_DIRECT, p);
        Model memory m = registry.getModel(MODEL_DIRECT);
        assertEq(address(m.policy.action), address(filter));
        assertEq(m.policy.maxAge, 2 hours);
        assertEq(m.policy.scoreThreshold, -7);
    }

    function test_updatePolicy_notOwner_reverts() public {
        Policy memory p = _policy();
        vm.prank(stranger);
        vm.expectRevert(_unauthorized(stranger));
        registry.updatePolicy(MODEL_DIRECT, p);
    }

    function test_updatePolicy_unknown_reverts() public {
        Policy memory p = _policy();
        vm.prank(governance);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistryErrors.UnknownModel.selector, NEW_ID));
        registry.updatePolicy(NEW_ID, p);
    }

    function test_updatePolicy_frozen_reverts() public {
        Policy memory p = _policy();
        vm.startPrank(governance);
        registry.freezeModel(MODEL_DIRECT);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistryErrors.ModelIsFrozen.selector, MODEL_DIRECT));
        registry.updatePolicy(MODEL_DIRECT, p);
        vm.stopPrank();
    }

    function test_updatePolicy_retired_reverts() public {
        Policy memory p = _policy();
        vm.startPrank(governance);
        registry.retireModel(MODEL_DIRECT);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistryErrors.ModelIsRetired.selector, MODEL_DIRECT));
        registry.updatePolicy(MODEL_DIRECT, p);
        vm.stopPrank();
    }

    function test_updatePolicy_invalid_reverts() public {
        vm.prank(governance);
        vm.expectRevert(
            abi.encodeWithSelector(IModelRegistryErrors.ScoreThresholdWithoutScores.selector, MODEL_BATCH)
        );
        registry.updatePolicy(MODEL_BATCH, Policy(filter, MAX_AGE, 0, true, 1));
    }

    // ------------------------------------------------------------------ updateVerifier

    function test_updateVerifier_sameDigest_switchesToAggregatedShape() public {
        // The same app circuit, now verified through an aggregated wrapper of 2 proofs.
        ZkGuardVerifier agg = new ZkGuardVerifier(address(gen), DIGEST_DIRECT, 7, 2, 12, PROOF_LEN);
        vm.expectEmit(true, false, false, true, address(registry));
        emit IModelRegistryEvents.VerifierUpdated(MODEL_DIRECT, address(directVerifier), address(agg));
        vm.prank(governance);
        registry.updateVerifier(MODEL_DIRECT, agg);
        Model memory m = registry.getModel(MODEL_DIRECT);
        assertEq(address(m.verifier), address(agg));
        assertEq(m.proofCount, 2);
        assertEq(m.accumulatorLimbs, 12);
        _markAggregated(MODEL_DIRECT, 2, 7);

        // The Guard now expects two segments behind 12 limbs.
        SubmissionContext memory c = _ctx(1);
        Segment[] memory segs = new Segment[](2);
        segs[0] = _segment(1, _bools(false, false, false, false), _ints(0, 0, 0, 0));
        segs[1] = _segment(2, _bools(false, true, false, false), _ints(0, 0, 0, 0));
        (uint256 flagged, uint256 samples) = _submit(MODEL_DIRECT, c, _instances(MODEL_DIRECT, c, segs));
        assertEq(flagged, 1);
        assertEq(samples, 8);
    }

    function test_updateVerifier_digestMismatch_reverts() public {
        vm.prank(governance);
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelRegistryErrors.CircuitDigestMismatch.selector, DIGEST_DIRECT, DIGEST_BATCH
            )
        );
        registry.updateVerifier(MODEL_DIRECT, batchVerifier);
    }

    function test_updateVerifier_layoutMismatch_reverts() public {
        ZkGuardVerifier other = new ZkGuardVerifier(address(gen), DIGEST_DIRECT, 10, 1, 0, PROOF_LEN);
        vm.prank(governance);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistryErrors.VerifierLayoutMismatch.selector, 7, 10));
        registry.updateVerifier(MODEL_DIRECT, other);
    }

    function test_updateVerifier_withoutCode_reverts() public {
        vm.prank(governance);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistryErrors.VerifierHasNoCode.selector, stranger));
        registry.updateVerifier(MODEL_DIRECT, IZkGuardVerifier(stranger));
    }

    function test_updateVerifier_notOwner_reverts() public {
        vm.prank(stranger);
        vm.expectRevert(_unauthorized(stranger));
        registry.updateVerifier(MODEL_DIRECT, directVerifier);
    }

    function test_updateVerifier_unknownFrozenRetired_revert() public {
        vm.startPrank(governance);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistryErrors.UnknownModel.selector, NEW_ID));
        registry.updateVerifier(NEW_ID, directVerifier);
        registry.freezeModel(MODEL_DIRECT);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistryErrors.ModelIsFrozen.selector, MODEL_DIRECT));
        registry.updateVerifier(MODEL_DIRECT, directVerifier);
        registry.retireModel(MODEL_HOOK);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistryErrors.ModelIsRetired.selector, MODEL_HOOK));
        registry.updateVerifier(MODEL_HOOK, directVerifier);
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ freeze / retire

    function test_freeze_emitsAndBlocksChanges() public {
        vm.expectEmit(true, false, false, true, address(registry));
        emit IModelRegistryEvents.ModelFrozen(MODEL_DIRECT);
        vm.prank(governance);
        registry.freezeModel(MODEL_DIRECT);
        assertEq(uint8(registry.statusOf(MODEL_DIRECT)), uint8(ModelStatus.Frozen));

        vm.prank(governance);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistryErrors.ModelIsFrozen.selector, MODEL_DIRECT));
        registry.freezeModel(MODEL_DIRECT);
    }

    function test_freeze_notOwner_reverts() public {
        vm.prank(stranger);
        vm.expectRevert(_unauthorized(stranger));
        registry.freezeModel(MODEL_DIRECT);
    }

    function test_freeze_unknownOrRetired_reverts() public {
        vm.startPrank(governance);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistryErrors.UnknownModel.selector, NEW_ID));
        registry.freezeModel(NEW_ID);
        registry.retireModel(MODEL_DIRECT);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistryErrors.ModelIsRetired.selector, MODEL_DIRECT));
        registry.freezeModel(MODEL_DIRECT);
        vm.stopPrank();
    }

    function test_retire_fromActive_isFinal() public {
        vm.expectEmit(true, false, false, true, address(registry));
        emit IModelRegistryEvents.ModelRetired(MODEL_DIRECT);
        vm.prank(governance);
        registry.retireModel(MODEL_DIRECT);
        assertEq(uint8(registry.statusOf(MODEL_DIRECT)), uint8(ModelStatus.Retired));

        ModelConfig memory cfg = _cfg();
        Policy memory p = _policy();
        vm.startPrank(governance);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistryErrors.ModelIsRetired.selector, MODEL_DIRECT));
        registry.retireModel(MODEL_DIRECT);
        // no way back: the id cannot be registered again
        vm.expectRevert(
            abi.encodeWithSelector(IModelRegistryErrors.ModelAlreadyRegistered.selector, MODEL_DIRECT)
        );
        registry.registerModel(MODEL_DIRECT, cfg, p, _inputs());
        vm.stopPrank();
    }

    function test_retire_fromFrozen() public {
        vm.startPrank(governance);
        registry.freezeModel(MODEL_DIRECT);
        registry.retireModel(MODEL_DIRECT);
        vm.stopPrank();
        assertEq(uint8(registry.statusOf(MODEL_DIRECT)), uint8(ModelStatus.Retired));
    }

    function test_retire_unknown_reverts() public {
        vm.prank(governance);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistryErrors.UnknownModel.selector, NEW_ID));
        registry.retireModel(NEW_ID);
    }

    function test_retire_notOwner_reverts() public {
        vm.prank(stranger);
        vm.expectRevert(_unauthorized(stranger));
        registry.retireModel(MODEL_DIRECT);
    }

    // ------------------------------------------------------------------ ownership / governance

    function test_twoStepOwnership() public {
        address next = makeAddr("nextGovernance");
        vm.prank(stranger);
        vm.expectRevert(_unauthorized(stranger));
        registry.transferOwnership(next);

        vm.prank(governance);
        registry.transferOwnership(next);
        assertEq(registry.owner(), governance);
        assertEq(registry.pendingOwner(), next);

        vm.prank(stranger);
        vm.expectRevert(_unauthorized(stranger));
        registry.acceptOwnership();

        vm.prank(next);
        registry.acceptOwnership();
        assertEq(registry.owner(), next);
        assertEq(registry.pendingOwner(), address(0));

        vm.prank(governance);
        vm.expectRevert(_unauthorized(governance));
        registry.freezeModel(MODEL_DIRECT);
        vm.prank(next);
        registry.freezeModel(MODEL_DIRECT);
    }

    function test_timelockAsOwner_registersAfterDelay() public {
        uint256 delay = 2 days;
        address[] memory proposers = new address[](1);
        proposers[0] = governance;
        address[] memory executors = new address[](1); // address(0): anyone may execute
        TimelockController timelock = new TimelockController(delay, proposers, executors, address(0));

        // hand the registry to the timelock (two steps, the second through the timelock)
        vm.prank(governance);
        registry.transferOwnership(address(timelock));
        bytes memory accept = abi.encodeCall(registry.acceptOwnership, ());
        vm.prank(governance);
        timelock.schedule(address(registry), 0, accept, bytes32(0), bytes32(0), delay);
        vm.warp(block.timestamp + delay);
        timelock.execute(address(registry), 0, accept, bytes32(0), bytes32(0));
        assertEq(registry.owner(), address(timelock));

        // a model registration is now a scheduled, delayed operation
        bytes memory call = abi.encodeCall(registry.registerModel, (NEW_ID, _cfg(), _policy(), _inputs()));
        bytes32 salt = keccak256("register-77");
        vm.prank(governance);
        timelock.schedule(address(registry), 0, call, bytes32(0), salt, delay);
        bytes32 id = timelock.hashOperation(address(registry), 0, call, bytes32(0), salt);
        vm.expectRevert(
            abi.encodeWithSelector(
                TimelockController.TimelockUnexpectedOperationState.selector,
                id,
                bytes32(1 << uint8(TimelockController.OperationState.Ready))
            )
        );
        timelock.execute(address(registry), 0, call, bytes32(0), salt);

        vm.warp(block.timestamp + delay);
        timelock.execute(address(registry), 0, call, bytes32(0), salt);
        assertEq(uint8(registry.statusOf(NEW_ID)), uint8(ModelStatus.Active));

        // the former owner can no longer act directly
        vm.prank(governance);
        vm.expectRevert(_unauthorized(governance));
        registry.retireModel(NEW_ID);
    }
}
