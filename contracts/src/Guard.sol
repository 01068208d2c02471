// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

import {Attestation, IGuard, SubmissionContext, VerifiedResult} from "./interfaces/IGuard.sol";
import {IModelRegistry, InputMode, Model, ModelStatus} from "./interfaces/IModelRegistry.sol";
import {InstanceLayout} from "./InstanceLayout.sol";

/// @title Guard
/// @notice Verifies proofs of ML model outputs for registered models, decodes the outputs and hands
///         them to the model's policy action (circuit breaker, verdict filter, ...).
/// @dev Checks, in order: the model is Active or Frozen; the instance count matches the model's
///      verifier; the nonce is unused and the submission neither stale nor from the future; every
///      app segment carries the registered model commitment, the context recomputed for this chain,
///      this Guard and `ctx`, a sample count in 1..=batchSize and decision words < 2^248; the
///      subjects (if any) are one per real sample; the model's input policy holds (threshold
///      attester signatures over every segment's input commitment, or an allowlisted submitter).
///      Then it consumes the nonce, calls the verifier, emits {Verified} and calls the action.
///      The proof vouches for the model's computation; the attesters vouch for the data.
contract Guard is IGuard, ReentrancyGuardTransient, EIP712 {
    /// @notice The registry models are read from.
    IModelRegistry public immutable registry;

    /// @notice EIP-712 type of what attesters sign.
    bytes32 public constant INPUT_ATTESTATION_TYPEHASH = keccak256(
        "InputAttestation(uint256 modelId,uint64 nonce,uint64 issuedAt,address[] subjects,uint256[] inputCommitments)"
    );

    mapping(uint256 modelId => mapping(uint64 nonce => bool)) private _nonceUsed;

    /// @notice The registry address holds no code.
    error RegistryHasNoCode(address registry);

    /// @notice Creates a Guard reading models from `registry_`.
    /// @param registry_ The model registry.
    constructor(IModelRegistry registry_) EIP712("zkguard", "1") {
        if (address(registry_).code.length == 0) revert RegistryHasNoCode(address(registry_));
        registry = registry_;
    }

    /// @inheritdoc IGuard
    function submit(
        uint256 modelId,
        SubmissionContext calldata ctx,
        Attestation[] calldata attestations,
        uint256[] calldata instances,
        bytes calldata proof
    ) external nonReentrant returns (uint256 flaggedCount, uint256 sampleCount) {
        Model memory m = _usableModel(modelId, ctx, instances.length);
        VerifiedResult memory result = _checkSegments(modelId, ctx, m, instances);
        sampleCount = result.sampleCount;
        _checkInputPolicy(modelId, m, ctx, result.inputCommitments, attestations);

        // Effects before interactions: the nonce is consumed before the verifier and the action run.
        _nonceUsed[modelId][ctx.nonce] = true;

        m.verifier.verify(instances, proof);

        _decode(result, m, instances);
        flaggedCount = result.flaggedCount;
        emit Verified(modelId, ctx.nonce, result.inputCommitments, flaggedCount, sampleCount);

        if (address(m.policy.action) != address(0)) m.policy.action.onVerified(result);
    }

    /// @dev The registry entry of a model a submission may use: registered, not retired, the
    ///      instance count of its verifier, an unused nonce, an issue time neither future nor stale.
    function _usableModel(uint256 modelId, SubmissionContext calldata ctx, uint256 instanceCount)
        private
        view
        returns (Model memory m)
    {
        m = registry.getModel(modelId);
        if (m.status == ModelStatus.None) revert UnknownModel(modelId);
        if (m.status == ModelStatus.Retired) revert ModelIsRetired(modelId);
        uint256 expected = uint256(m.accumulatorLimbs) + uint256(m.proofCount)
            * InstanceLayout.appInstanceCount(m.batchSize, m.scoreBits);
        if (instanceCount != expected) revert InstanceCountMismatch(expected, instanceCount);
        if (_nonceUsed[modelId][ctx.nonce]) revert NonceAlreadyUsed(modelId, ctx.nonce);
        if (ctx.issuedAt > block.timestamp) revert IssuedInFuture(ctx.issuedAt, block.timestamp);
        if (block.timestamp - ctx.issuedAt > m.policy.maxAge) {
            revert StaleSubmission(ctx.issuedAt, m.policy.maxAge, block.timestamp);
        }
    }

    /// @inheritdoc IGuard
    function isNonceUsed(uint256 modelId, uint64 nonce) external view returns (bool) {
        return _nonceUsed[modelId][nonce];
    }

    /// @inheritdoc IGuard
    function computeContext(uint256 modelId, SubmissionContext calldata ctx) external view returns (uint256) {
        return _context(modelId, ctx);
    }

    /// @inheritdoc IGuard
    function attestationDigest(
        uint256 modelId,
        SubmissionContext calldata ctx,
        uint256[] calldata inputCommitments
    ) external view returns (bytes32) {
        return _attestationDigest(modelId, ctx, inputCommitments);
    }

    /// @dev The EIP-712 digest of the `InputAttestation` for this chain and this Guard.
    function _attestationDigest(
        uint256 modelId,
        SubmissionContext calldata ctx,
        uint256[] memory inputCommitments
    ) private view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    INPUT_ATTESTATION_TYPEHASH,
                    modelId,
                    ctx.nonce,
                    ctx.issuedAt,
                    keccak256(abi.encodePacked(ctx.subjects)),
                    keccak256(abi.encodePacked(inputCommitments))
                )
            )
        );
    }

    /// @dev Enforces the model's input policy: Attested needs `attestThreshold` valid signatures
    ///      of distinct registered attesters (sorted by signer; every one given must be valid),
    ///      Submitters an allowlisted `msg.sender`, Open nothing.
    function _checkInputPolicy(
        uint256 modelId,
        Model memory m,
        SubmissionContext calldata ctx,
        uint256[] memory inputCommitments,
        Attestation[] calldata attestations
    ) private view {
        if (m.inputMode == InputMode.Open) return;
        if (m.inputMode == InputMode.Submitters) {
            if (!registry.isInputMember(modelId, msg.sender)) {
                revert SubmitterNotAllowed(modelId, msg.sender);
            }
            return;
        }
        if (attestations.length < m.attestThreshold) {
            revert UnattestedInputs(modelId, attestations.length, m.attestThreshold);
        }
        bytes32 digest = _attestationDigest(modelId, ctx, inputCommitments);
        address previous = address(0);
        for (uint256 i = 0; i < attestations.length; ++i) {
            address signer = attestations[i].signer;
            if (signer == previous) revert DuplicateAttester(signer);
            if (signer < previous) revert AttestersNotSorted(previous, signer);
            previous = signer;
            if (!registry.isInputMember(modelId, signer)) revert UnknownAttester(modelId, signer);
            if (!SignatureChecker.isValidSignatureNow(signer, digest, attestations[i].signature)) {
                revert InvalidAttestation(signer);
            }
        }
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

    /// @dev Checks every segment's header and decision words and the subjects' count; returns the
    ///      result's header (model, context, sample count, every segment's input commitment).
    function _checkSegments(
        uint256 modelId,
        SubmissionContext calldata ctx,
        Model memory m,
        uint256[] calldata instances
    ) private view returns (VerifiedResult memory r) {
        uint256 context = _context(modelId, ctx);
        uint256 appCount = InstanceLayout.appInstanceCount(m.batchSize, m.scoreBits);
        uint256 words = InstanceLayout.decisionWordCount(m.batchSize);
        uint256 total = 0;
        r.inputCommitments = new uint256[](m.proofCount);
        for (uint256 k = 0; k < m.proofCount; ++k) {
            uint256 base = m.accumulatorLimbs + k * appCount;
            r.inputCommitments[k] = instances[base + InstanceLayout.INPUT_COMMITMENT_OFFSET];
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
        if (ctx.subjects.length != 0 && ctx.subjects.length != total) {
            revert SubjectsLengthMismatch(total, ctx.subjects.length);
        }
        r.modelId = modelId;
        r.nonce = ctx.nonce;
        r.issuedAt = ctx.issuedAt;
        r.sampleCount = total;
        r.subjects = ctx.subjects;
    }

    /// @dev Completes `r` after verification without copying per-sample values: the segments'
    ///      decision words are concatenated over their real samples into `r.flaggedBits` (O(words):
    ///      a mask, a shift and an OR per decision word), and, when the policy uses scores, the
    ///      maximum real-sample score is read in place from the packed score words.
    function _decode(VerifiedResult memory r, Model memory m, uint256[] calldata instances) private pure {
        r.scoreScaleBits = m.scoreScaleBits;
        r.policy = m.policy;
        r.maxScore = type(int256).min;
        bool readScores = m.scoreBits != 0 && m.policy.useScoreThreshold;
        uint256 appCount = InstanceLayout.appInstanceCount(m.batchSize, m.scoreBits);
        r.flaggedBits = new uint256[]((r.sampleCount + 255) >> 8);
        uint256 pos = 0;
        for (uint256 k = 0; k < m.proofCount; ++k) {
            uint256 base = m.accumulatorLimbs + k * appCount;
            uint256 samples = instances[base + InstanceLayout.SAMPLE_COUNT_OFFSET];
            // Proven: the sum of the segment's decision bits (<= samples), read, not recounted.
            r.flaggedCount += instances[base + InstanceLayout.FLAGGED_COUNT_OFFSET];
            _appendBits(r.flaggedBits, pos, instances[base + InstanceLayout.DECISIONS_OFFSET:], samples);
            if (readScores) {
                int256 best = _maxScore(
                    instances, base + InstanceLayout.scoresOffset(m.batchSize), samples, m.scoreBits
                );
                if (best > r.maxScore) r.maxScore = best;
            }
            pos += samples;
        }
    }

    /// @dev ORs the first `samples` decision bits of `words` (248 to a word) into `bits` (256 to a
    ///      word) from bit `pos` on. Bits past `samples` are proven 0; they are masked anyway, so a
    ///      segment can never set another segment's bits.
    function _appendBits(uint256[] memory bits, uint256 pos, uint256[] calldata words, uint256 samples)
        private
        pure
    {
        for (uint256 w = 0; w * InstanceLayout.DECISION_BITS_PER_WORD < samples; ++w) {
            uint256 word = words[w];
            uint256 left = samples - w * InstanceLayout.DECISION_BITS_PER_WORD;
            if (left < InstanceLayout.DECISION_BITS_PER_WORD) word &= (uint256(1) << left) - 1;
            if (word == 0) continue;
            uint256 at = pos + w * InstanceLayout.DECISION_BITS_PER_WORD;
            uint256 shift = at & 255;
            bits[at >> 8] |= word << shift;
            // The high bits spill into the next output word (set bits are real samples, so that
            // word exists whenever they are non-zero; `x >> 256` is 0).
            uint256 spill = word >> (256 - shift);
            if (spill != 0) bits[(at >> 8) + 1] |= spill;
        }
    }

    /// @dev The highest of the first `samples` scores packed from `instances[start]` on, read a
    ///      word at a time. Offset binary keeps the order, so slots compare as unsigned integers
    ///      and the offset is subtracted once.
    function _maxScore(uint256[] calldata instances, uint256 start, uint256 samples, uint256 scoreBits)
        private
        pure
        returns (int256)
    {
        uint256 per = InstanceLayout.scoresPerWord(scoreBits);
        uint256 mask = (uint256(1) << scoreBits) - 1;
        uint256 best = 0;
        uint256 done = 0;
        for (uint256 w = start; done < samples; ++w) {
            uint256 word = instances[w];
            uint256 n = samples - done < per ? samples - done : per;
            unchecked {
                // n * scoreBits <= 248: no slot is read past the word.
                for (uint256 j = 0; j < n; ++j) {
                    uint256 slot = word & mask;
                    if (slot > best) best = slot;
                    word >>= scoreBits;
                }
                done += n;
            }
        }
        return int256(best) - int256(uint256(1) << (scoreBits - 1));
    }
}
