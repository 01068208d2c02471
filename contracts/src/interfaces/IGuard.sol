// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IModelRegistry, Policy} from "./IModelRegistry.sol";

/// @notice What a submission binds its proof to (besides the chain and the Guard).
/// @param nonce Single-use per model.
/// @param issuedAt Unix seconds; the submission is stale after issuedAt + policy.maxAge.
/// @param subjects Optional: one account per real sample, in sample order (empty: none).
struct SubmissionContext {
    uint64 nonce;
    uint64 issuedAt;
    address[] subjects;
}

/// @notice One attester's EIP-712 signature over a submission's `InputAttestation`.
/// @dev The signer is given (not recovered) so that ERC-1271 contracts (a Safe, a multisig) can
///      attest; an EOA's signature must be 65 bytes with a low s. Attestations are sorted by
///      strictly ascending signer.
/// @param signer The attester.
/// @param signature Its signature over {IGuard.attestationDigest}.
struct Attestation {
    address signer;
    bytes signature;
}

/// @notice The decoded outputs of a verified submission, handed to the policy's action.
/// @dev Nothing per sample is copied out of the proof beyond one bit: `flaggedBits` is compacted
///      over the real samples (the real samples of segment 0, its first sampleCount, then those of
///      segment 1, and so on), 256 to a word: real sample i is bit i % 256 of word i / 256 (read it
///      with {FlaggedBits.isFlagged}); `subjects[i]` (when given) belongs to real sample i. Scores
///      stay packed in the proof's instances; the Guard reads them in place for `maxScore`.
/// @param modelId The model.
/// @param nonce The submission nonce.
/// @param issuedAt The submission's issue time.
/// @param sampleCount Total real samples over all segments.
/// @param flaggedCount Number of flagged real samples.
/// @param flaggedBits Decision bit per real sample (1 = flagged / anomalous), 256 to a word.
/// @param maxScore Highest real-sample score, fixed point (type(int256).min without scores).
/// @param scoreScaleBits Fractional bits of the scores.
/// @param subjects The submission's subjects (empty or one per real sample).
/// @param inputCommitments The input commitment of every segment.
/// @param policy The model's policy at verification time.
struct VerifiedResult {
    uint256 modelId;
    uint64 nonce;
    uint64 issuedAt;
    uint256 sampleCount;
    uint256 flaggedCount;
    uint256[] flaggedBits;
    int256 maxScore;
    uint8 scoreScaleBits;
    address[] subjects;
    uint256[] inputCommitments;
    Policy policy;
}

/// @title FlaggedBits
/// @notice Reads the compacted decision bits of a {VerifiedResult}.
library FlaggedBits {
    /// @notice Whether real sample `i` of a verified result is flagged.
    /// @param bits The result's `flaggedBits`.
    /// @param i Real-sample index (0 ..< sampleCount).
    /// @return True when flagged.
    function isFlagged(uint256[] calldata bits, uint256 i) internal pure returns (bool) {
        return (bits[i >> 8] >> (i & 255)) & 1 == 1;
    }
}

/// @title IGuardErrors
interface IGuardErrors {
    /// @notice The model id is not registered.
    error UnknownModel(uint256 modelId);
    /// @notice The model is retired.
    error ModelIsRetired(uint256 modelId);
    /// @notice The instance array does not have the verifier's length.
    error InstanceCountMismatch(uint256 expected, uint256 got);
    /// @notice A segment's model commitment differs from the registered one.
    error ModelCommitmentMismatch(uint256 segment, uint256 expected, uint256 got);
    /// @notice A segment's context differs from the one recomputed for this chain, Guard and context.
    error ContextMismatch(uint256 segment, uint256 expected, uint256 got);
    /// @notice The nonce was already used for this model.
    error NonceAlreadyUsed(uint256 modelId, uint64 nonce);
    /// @notice The submission is older than the policy's maxAge.
    error StaleSubmission(uint64 issuedAt, uint32 maxAge, uint256 blockTimestamp);
    /// @notice The submission is issued in the future.
    error IssuedInFuture(uint64 issuedAt, uint256 blockTimestamp);
    /// @notice A segment's sample count is 0 or above the batch size.
    error InvalidSampleCount(uint256 segment, uint256 sampleCount, uint256 batchSize);
    /// @notice A segment's decision word is >= 2^248.
    error DecisionWordOutOfRange(uint256 segment, uint256 wordIndex, uint256 word);
    /// @notice The subject list is neither empty nor one per real sample.
    error SubjectsLengthMismatch(uint256 expected, uint256 got);
    /// @notice Fewer valid attestations than the model's threshold.
    error UnattestedInputs(uint256 modelId, uint256 got, uint256 needed);
    /// @notice An attestation's signer is not a registered attester of the model.
    error UnknownAttester(uint256 modelId, address attester);
    /// @notice The same attester signed twice.
    error DuplicateAttester(address attester);
    /// @notice Attestations are not sorted by ascending signer.
    error AttestersNotSorted(address previous, address next);
    /// @notice An attester's signature does not verify (wrong message, wrong key, high s, ERC-1271 no).
    error InvalidAttestation(address attester);
    /// @notice The model only accepts submissions from allowlisted submitters.
    error SubmitterNotAllowed(uint256 modelId, address submitter);
}

/// @title IGuardEvents
interface IGuardEvents {
    /// @notice A submission was verified and its nonce consumed.
    /// @param modelId The model.
    /// @param nonce The consumed nonce.
    /// @param inputCommitments The input commitment of every segment (one in direct mode).
    /// @param flaggedCount Flagged real samples.
    /// @param sampleCount Real samples.
    event Verified(
        uint256 indexed modelId,
        uint64 indexed nonce,
        uint256[] inputCommitments,
        uint256 flaggedCount,
        uint256 sampleCount
    );
}

/// @title IGuard
/// @notice Verifies proofs of model outputs for registered models and hands the results to the
///         model's policy action. The proof vouches for the computation; the model's input policy
///         says who vouches for the data (attesters, allowlisted submitters, or nobody when Open).
interface IGuard is IGuardErrors, IGuardEvents {
    /// @notice Verifies a submission and acts on it.
    /// @param modelId The registered model.
    /// @param ctx The submission context the proof's context instance commits to.
    /// @param attestations Attester signatures (sorted by signer) when the model's inputs are Attested.
    /// @param instances All public instances (accumulator limbs, then the app segments).
    /// @param proof The proof bytes.
    /// @return flaggedCount Flagged real samples.
    /// @return sampleCount Real samples.
    function submit(
        uint256 modelId,
        SubmissionContext calldata ctx,
        Attestation[] calldata attestations,
        uint256[] calldata instances,
        bytes calldata proof
    ) external returns (uint256 flaggedCount, uint256 sampleCount);

    /// @notice The EIP-712 digest attesters sign: `InputAttestation(uint256 modelId,uint64 nonce,
    ///         uint64 issuedAt,address[] subjects,uint256[] inputCommitments)` in the domain
    ///         (name "zkguard", version "1", this chain, this Guard).
    /// @param modelId The model.
    /// @param ctx The submission context (nonce, issue time, subjects).
    /// @param inputCommitments Every app segment's input commitment, in segment order.
    /// @return The digest.
    function attestationDigest(
        uint256 modelId,
        SubmissionContext calldata ctx,
        uint256[] calldata inputCommitments
    ) external view returns (bytes32);

    /// @notice Whether a nonce was consumed for a model.
    /// @param modelId The model.
    /// @param nonce The nonce.
    /// @return True when used.
    function isNonceUsed(uint256 modelId, uint64 nonce) external view returns (bool);

    /// @notice The context instance a proof for this Guard on this chain must carry.
    /// @param modelId The model.
    /// @param ctx The submission context.
    /// @return The context field element.
    function computeContext(uint256 modelId, SubmissionContext calldata ctx) external view returns (uint256);

    /// @notice The registry the Guard reads models from.
    /// @return The registry.
    function registry() external view returns (IModelRegistry);
}
