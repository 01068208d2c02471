// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";

import {
    IModelRegistry,
    InputMode,
    InputPolicy,
    Model,
    ModelConfig,
    ModelStatus,
    Policy
} from "./interfaces/IModelRegistry.sol";
import {IGuardAction} from "./interfaces/IGuardAction.sol";
import {IZkGuardVerifier} from "./interfaces/IZkGuardVerifier.sol";
import {InstanceLayout} from "./InstanceLayout.sol";

/// @title ModelRegistry
/// @notice Model id => commitment, circuit digest, verifier, layout, policy, input policy and status.
/// @dev Every change is a plain `onlyOwner` call, so the owner can be a TimelockController or a
///      governor. Ownership moves in two steps (Ownable2Step).
contract ModelRegistry is IModelRegistry, Ownable2Step {
    mapping(uint256 modelId => Model) private _models;
    /// @dev Input policy members: an account is a member when its epoch is the model's current one,
    ///      so replacing the members needs no per-member deletes.
    mapping(uint256 modelId => uint256) private _inputEpoch;
    mapping(uint256 modelId => mapping(address account => uint256 epoch)) private _memberEpoch;
    mapping(uint256 modelId => address[]) private _members;

    /// @notice Creates an empty registry.
    /// @param initialOwner The owner (governance, e.g. a TimelockController).
    constructor(address initialOwner) Ownable(initialOwner) {}

    /// @inheritdoc IModelRegistry
    function registerModel(
        uint256 modelId,
        ModelConfig calldata config,
        Policy calldata policy,
        InputPolicy calldata inputPolicy
    ) external onlyOwner {
        Model storage m = _models[modelId];
        if (m.status != ModelStatus.None) revert ModelAlreadyRegistered(modelId);
        if (config.modelCommitment == 0 || config.modelCommitment >= InstanceLayout.FIELD_MODULUS) {
            revert InvalidModelCommitment(config.modelCommitment);
        }
        if (config.batchSize == 0) revert InvalidBatchSize(config.batchSize);
        uint8 scoreBits = config.scoreBits;
        if (
            scoreBits != 0
                && (scoreBits < InstanceLayout.MIN_SCORE_BITS || scoreBits > InstanceLayout.MAX_SCORE_BITS)
        ) revert InvalidScoreBits(scoreBits);
        _checkPolicy(modelId, scoreBits != 0, policy);
        (uint16 proofCount, uint16 limbs) =
            _checkVerifier(config.verifier, config.circuitDigest, config.batchSize, scoreBits);

        m.modelCommitment = config.modelCommitment;
        m.circuitDigest = config.circuitDigest;
        m.verifier = config.verifier;
        m.batchSize = config.batchSize;
        m.proofCount = proofCount;
        m.accumulatorLimbs = limbs;
        m.scoreBits = scoreBits;
        m.scoreScaleBits = config.scoreScaleBits;
        m.status = ModelStatus.Active;
        m.policy = policy;

        emit ModelRegistered(
            modelId,
            config.modelCommitment,
            config.circuitDigest,
            address(config.verifier),
            config.batchSize,
            scoreBits,
            config.scoreScaleBits
        );
        emit PolicyUpdated(modelId, policy);
        _setInputPolicy(modelId, m, inputPolicy);
    }

    /// @inheritdoc IModelRegistry
    function updatePolicy(uint256 modelId, Policy calldata policy) external onlyOwner {
        Model storage m = _activeModel(modelId);
        _checkPolicy(modelId, m.scoreBits != 0, policy);
        if (m.inputMode == InputMode.Open) _refuseOpenForPausing(modelId, address(policy.action));
        m.policy = policy;
        emit PolicyUpdated(modelId, policy);
    }

    /// @inheritdoc IModelRegistry
    function updateInputPolicy(uint256 modelId, InputPolicy calldata inputPolicy) external onlyOwner {
        _setInputPolicy(modelId, _activeModel(modelId), inputPolicy);
    }

    /// @inheritdoc IModelRegistry
    function isInputMember(uint256 modelId, address account) external view returns (bool) {
        uint256 epoch = _inputEpoch[modelId];
        return epoch != 0 && _memberEpoch[modelId][account] == epoch;
    }

    /// @inheritdoc IModelRegistry
    function inputMembers(uint256 modelId) external view returns (address[] memory) {
        return _members[modelId];
    }

    /// @inheritdoc IModelRegistry
    function updateVerifier(uint256 modelId, IZkGuardVerifier verifier) external onlyOwner {
        Model storage m = _activeModel(modelId);
        (uint16 proofCount, uint16 limbs) =
            _checkVerifier(verifier, m.circuitDigest, m.batchSize, m.scoreBits);
        address old = address(m.verifier);
        m.verifier = verifier;
        m.proofCount = proofCount;
        m.accumulatorLimbs = limbs;
        emit VerifierUpdated(modelId, old, address(verifier));
    }

    /// @inheritdoc IModelRegistry
    function freezeModel(uint256 modelId) external onlyOwner {
        _activeModel(modelId).status = ModelStatus.Frozen;
        emit ModelFrozen(modelId);
    }

    /// @inheritdoc IModelRegistry
    function retireModel(uint256 modelId) external onlyOwner {
        Model storage m = _models[modelId];
        if (m.status == ModelStatus.None) revert UnknownModel(modelId);
        if (m.status == ModelStatus.Retired) revert ModelIsRetired(modelId);
        m.status = ModelStatus.Retired;
        emit ModelRetired(modelId);
    }

    /// @inheritdoc IModelRegistry
    function getModel(uint256 modelId) external view returns (Model memory) {
        return _models[modelId];
    }

    /// @inheritdoc IModelRegistry
    function statusOf(uint256 modelId) external view returns (ModelStatus) {
        return _models[modelId].status;
    }

    /// @dev The entry of a model that may still change (Active), or the matching revert.
    function _activeModel(uint256 modelId) private view returns (Model storage m) {
        m = _models[modelId];
        ModelStatus status = m.status;
        if (status == ModelStatus.None) revert UnknownModel(modelId);
        if (status == ModelStatus.Frozen) revert ModelIsFrozen(modelId);
        if (status == ModelStatus.Retired) revert ModelIsRetired(modelId);
    }

    /// @dev Validates and stores an input policy, replacing every member, and emits the event.
    function _setInputPolicy(uint256 modelId, Model storage m, InputPolicy calldata p) private {
        uint256 n = p.members.length;
        bool fits = p.mode == InputMode.Attested
            ? (p.threshold != 0 && p.threshold <= n)
            : (p.threshold == 0 && (p.mode == InputMode.Submitters ? n != 0 : n == 0));
        if (!fits) revert InvalidInputPolicy(modelId, p.mode, p.threshold, n);
        if (p.mode == InputMode.Open) _refuseOpenForPausing(modelId, address(m.policy.action));

        uint256 epoch = ++_inputEpoch[modelId];
        delete _members[modelId];
        for (uint256 i = 0; i < n; ++i) {
            address member = p.members[i];
            if (member == address(0) || _memberEpoch[modelId][member] == epoch) {
                revert InvalidInputMember(modelId, member);
            }
            _memberEpoch[modelId][member] = epoch;
            _members[modelId].push(member);
        }
        m.inputMode = p.mode;
        m.attestThreshold = p.threshold;
        emit InputPolicyUpdated(modelId, p.mode, p.threshold, p.members);
    }

    /// @dev Reverts when `action` can pause a target (or does not say): such a model needs attested
    ///      or allowlisted inputs, or anyone could pause the target with invented rows.
    function _refuseOpenForPausing(uint256 modelId, address action) private view {
        if (action == address(0)) return;
        try IGuardAction(action).canPause() returns (bool pauses) {
            if (!pauses) return;
        } catch {}
        revert OpenInputsForPausingAction(modelId, action);
    }

    /// @dev Validates a policy for a model with or without scores.
    function _checkPolicy(uint256 modelId, bool hasScores, Policy calldata policy) private view {
        if (policy.maxAge == 0) revert InvalidMaxAge(policy.maxAge);
        if (policy.useScoreThreshold && !hasScores) revert ScoreThresholdWithoutScores(modelId);
        address action = address(policy.action);
        if (action != address(0) && action.code.length == 0) revert ActionHasNoCode(action);
    }

    /// @dev Checks that a verifier wrapper matches the circuit digest and the model's layout, and
    ///      returns its proof and limb counts for caching.
    function _checkVerifier(
        IZkGuardVerifier verifier,
        bytes32 circuitDigest,
        uint16 batchSize,
        uint8 scoreBits
    ) private view returns (uint16 proofCount, uint16 limbs) {
        if (address(verifier).code.length == 0) revert VerifierHasNoCode(address(verifier));
        bytes32 actual = verifier.circuitDigest();
        if (actual != circuitDigest) revert CircuitDigestMismatch(circuitDigest, actual);
        uint256 expectedApp = InstanceLayout.appInstanceCount(batchSize, scoreBits);
        uint256 app = verifier.appInstanceCount();
        if (app != expectedApp) revert VerifierLayoutMismatch(expectedApp, app);
        uint256 proofs = verifier.proofCount();
        uint256 accLimbs = verifier.accumulatorLimbs();
        uint256 total = verifier.instanceCount();
        if (
            proofs == 0 || proofs > type(uint16).max || accLimbs > type(uint16).max
                || total != accLimbs + proofs * app
        ) revert UnsupportedVerifierShape(proofs, accLimbs, total);
        proofCount = uint16(proofs);
        limbs = uint16(accLimbs);
    }
}
