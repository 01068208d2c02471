// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IGuard, SubmissionContext, VerifiedResult} from "./interfaces/IGuard.sol";
import {IModelRegistry, Model, ModelStatus} from "./interfaces/IModelRegistry.sol";
import {InstanceLayout} from "./InstanceLayout.sol";

/// @title Guard
/// @notice Verifies proofs of ML model outputs for registered models, decodes the outputs and hands
///         them to the model's policy action (circuit breaker, verdict filter, ...).
/// @dev Checks, in order: the model is Active or Frozen; the instance count matches the model's
///      verifier; the nonce is unused and the submission neither stale nor from the future; every
///      app segment carries the registered model commitment, the context recomputed for this chain,
///      this Guard and `ctx`, a sample count in 1..=batchSize and decision words < 2^248; the
///      subjects (if any) are one per real sample. Then it consumes the nonce, calls the verifier,
///      emits {Verified} and calls the action. Anyone may submit: the proof is the authority.
contract Guard is IGuard, ReentrancyGuardTransient {
    /// @notice The registry models are read from.
    IModelRegistry public immutable registry;

    mapping(uint256 modelId => mapping(uint64 nonce => bool)) private _nonceUsed;

    /// @notice The registry address holds no code.
    error RegistryHasNoCode(address registry);

    /// @notice Creates a Guard reading models from `registry_`.
    /// @param registry_ The model registry.
    constructor(IModelRegistry registry_) {
        if (address(registry_).code.length == 0) revert RegistryHasNoCode(address(registry_));
        registry = registry_;
    }

    /// @inheritdoc IGuard
    function submit(
        uint256 modelId,
        SubmissionContext calldata ctx,
        uint256[] calldata instances,
        bytes calldata proof
    ) external nonReentrant returns (uint256 flaggedCount, uint256 sampleCount) {
        Model memory m = registry.getModel(modelId);
        if (m.status == ModelStatus.None) revert UnknownModel(modelId);
        if (m.status == ModelStatus.Retired) revert ModelIsRetired(modelId);

        uint256 appCount = InstanceLayout.appInstanceCount(m.batchSize, m.hasScores);
        {
            uint256 expected = uint256(m.accumulatorLimbs) + uint256(m.proofCount) * appCount;
            if (instances.length != expected) revert InstanceCountMismatch(expected, instances.length);
        }

        if (_nonceUsed[modelId][ctx.nonce]) revert NonceAlreadyUsed(modelId, ctx.nonce);
        if (ctx.issuedAt > block.timestamp) revert IssuedInFuture(ctx.issuedAt, block.timestamp);
        if (block.timestamp - ctx.issuedAt > m.policy.maxAge) {
            revert StaleSubmission(ctx.issuedAt, m.policy.maxAge, block.timestamp);
        }

        sampleCount = _checkSegments(m, appCount, _context(modelId, ctx), instances);
        if (ctx.subjects.length != 0 && ctx.subjects.length != sampleCount) {
            revert SubjectsLengthMismatch(sampleCount, ctx.subjects.length);
        }

        // Effects before interactions: the nonce is consumed before the verifier and the action run.
        _nonceUsed[modelId][ctx.nonce] = true;

        m.verifier.verify(instances, proof);

        VerifiedResult memory result = _decode(modelId, ctx, m, appCount, sampleCount, instances);
        flaggedCount = result.flaggedCount;
        emit Verified(modelId, ctx.nonce, result.inputCommitments, flaggedCount, sampleCount);

        if (address(m.policy.action) != address(0)) m.policy.action.onVerified(result);
    }

    /// @inheritdoc IGuard
    function isNonceUsed(uint256 modelId, uint64 nonce) external view returns (bool) {
        return _nonceUsed[modelId][nonce];
    }

    /// @inheritdoc IGuard
    function computeContext(uint256 modelId, SubmissionContext calldata ctx) external view returns (uint256) {
        return _context(modelId, ctx);
    }

    /// @dev The context for this chain and this Guard (see InstanceLayout.contextHash).
    function _context(uint256 modelId, SubmissionContext calldata ctx) private view returns (uint256) {
        return InstanceLayout.contextHash(
            block.chainid,
            address(this),
            modelId,
            ctx.nonce,
            ctx.issuedAt,
            keccak256(abi.encodePacked(ctx.subjects))
        );
    }

    /// @dev Checks every segment's header and decision words; returns the total real samples.
    function _checkSegments(Model memory m, uint256 appCount, uint256 context, uint256[] calldata instances)
        private
        pure
        returns (uint256 total)
    {
        uint256 words = InstanceLayout.decisionWordCount(m.batchSize);
        for (uint256 k = 0; k < m.proofCount; ++k) {
            uint256 base = m.accumulatorLimbs + k * appCount;
            uint256 got = instances[base + InstanceLayout.MODEL_COMMITMENT_OFFSET];
            if (got != m.modelCommitment) revert ModelCommitmentMismatch(k, m.modelCommitment, got);
            got = instances[base + InstanceLayout.CONTEXT_OFFSET];
            if (got != context) revert ContextMismatch(k, context, got);
            got = instances[base + InstanceLayout.SAMPLE_COUNT_OFFSET];
            if (got == 0 || got > m.batchSize) revert InvalidSampleCount(k, got, m.batchSize);
            total += got;
            for (uint256 w = 0; w < words; ++w) {
                uint256 word = instances[base + InstanceLayout.DECISIONS_OFFSET + w];
                if (word >= InstanceLayout.DECISION_WORD_BOUND) revert DecisionWordOutOfRange(k, w, word);
            }
        }
    }

    /// @dev Decodes the verified outputs of all segments, compacted over the real samples.
    function _decode(
        uint256 modelId,
        SubmissionContext calldata ctx,
        Model memory m,
        uint256 appCount,
        uint256 sampleCount,
        uint256[] calldata instances
    ) private pure returns (VerifiedResult memory r) {
        r.modelId = modelId;
        r.nonce = ctx.nonce;
        r.issuedAt = ctx.issuedAt;
        r.sampleCount = sampleCount;
        r.flagged = new bool[](sampleCount);
        r.scores = new int256[](m.hasScores ? sampleCount : 0);
        r.scoreScaleBits = m.scoreScaleBits;
        r.subjects = ctx.subjects;
        r.inputCommitments = new uint256[](m.proofCount);
        r.policy = m.policy;

        uint256 scoresOffset = InstanceLayout.scoresOffset(m.batchSize);
        uint256 out = 0;
        uint256 flaggedCount = 0;
        for (uint256 k = 0; k < m.proofCount; ++k) {
            uint256 base = m.accumulatorLimbs + k * appCount;
            r.inputCommitments[k] = instances[base + InstanceLayout.INPUT_COMMITMENT_OFFSET];
            uint256 samples = instances[base + InstanceLayout.SAMPLE_COUNT_OFFSET];
            for (uint256 j = 0; j < samples; ++j) {
                uint256 word = instances[
                    base + InstanceLayout.DECISIONS_OFFSET + j / InstanceLayout.DECISION_BITS_PER_WORD
                ];
                if ((word >> (j % InstanceLayout.DECISION_BITS_PER_WORD)) & 1 == 1) {
                    r.flagged[out] = true;
                    ++flaggedCount;
                }
                if (m.hasScores) {
                    r.scores[out] = InstanceLayout.decodeSigned(instances[base + scoresOffset + j]);
                }
                ++out;
            }
        }
        r.flaggedCount = flaggedCount;
    }
}
