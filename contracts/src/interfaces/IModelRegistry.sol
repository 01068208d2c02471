// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IZkGuardVerifier} from "./IZkGuardVerifier.sol";
import {IGuardAction} from "./IGuardAction.sol";

/// @notice Lifecycle of a registered model.
/// @dev None: never registered. Active: usable and changeable. Frozen: usable, no longer changeable
///      (it can still be retired). Retired: refused by the Guard, final.
enum ModelStatus {
    None,
    Active,
    Frozen,
    Retired
}

/// @notice What the Guard does with a model's verified results, and when they are too old.
/// @param action Hook called with every verified result (address(0): verify and emit only).
/// @param maxAge A submission is stale when block.timestamp > issuedAt + maxAge (seconds, > 0).
/// @param minFlagged Trip threshold on the number of flagged samples (0 disables this rule).
/// @param useScoreThreshold Whether the score rule applies (requires a model with scores).
/// @param scoreThreshold Trip when any real sample's score >= this (same fixed point as the scores).
struct Policy {
    IGuardAction action;
    uint32 maxAge;
    uint32 minFlagged;
    bool useScoreThreshold;
    int256 scoreThreshold;
}

/// @notice Who vouches for the inputs behind a submission's input commitments.
/// @dev The zero value is `Attested`, so an unset policy is never `Open`.
///      Attested: at least `threshold` distinct registered attesters (EOAs or ERC-1271 contracts,
///      e.g. a Safe) sign an EIP-712 `InputAttestation` over the chain, the Guard, the model, the
///      nonce, the issue time, the subjects and every segment's input commitment.
///      Submitters: only allowlisted `msg.sender`s may submit; the submitter is trusted for the data.
///      Open: anyone may submit any inputs the model accepts. Only for models whose action cannot
///      pause anything (e.g. a public scoring feed); the registry refuses it for a pausing action.
enum InputMode {
    Attested,
    Submitters,
    Open
}

/// @notice A model's input policy as set by the registry owner.
/// @param mode Attested, Submitters or Open.
/// @param threshold Attested: distinct attester signatures required (1..members.length); else 0.
/// @param members Attested: the attesters; Submitters: the allowed submitters; Open: empty.
struct InputPolicy {
    InputMode mode;
    uint8 threshold;
    address[] members;
}

/// @notice The parameters an owner registers a model with.
/// @param modelCommitment Poseidon commitment of the quantized model (< R, non-zero).
/// @param circuitDigest Digest of the circuit the verifier checks: the app circuit's in direct mode,
///        the aggregation circuit's in batch mode (a verifier with accumulator limbs, which checks
///        N app proofs at once); the verifier must report the same.
/// @param verifier The verifier wrapper (direct or aggregated).
/// @param batchSize Samples per app proof (> 0).
/// @param scoreBits Width of one packed score (InstanceLayout.MIN_SCORE_BITS..=MAX_SCORE_BITS), or 0
///        when the app proof exposes no scores.
/// @param scoreScaleBits Fractional bits of the fixed-point scores.
struct ModelConfig {
    uint256 modelCommitment;
    bytes32 circuitDigest;
    IZkGuardVerifier verifier;
    uint16 batchSize;
    uint8 scoreBits;
    uint8 scoreScaleBits;
}

/// @notice A registry entry. `proofCount` and `accumulatorLimbs` are cached from the (immutable)
///         verifier wrapper when it is set, so the Guard needs no extra calls to slice instances.
struct Model {
    uint256 modelCommitment;
    bytes32 circuitDigest;
    IZkGuardVerifier verifier;
    uint16 batchSize;
    uint16 proofCount;
    uint16 accumulatorLimbs;
    uint8 scoreBits;
    uint8 scoreScaleBits;
    ModelStatus status;
    InputMode inputMode;
    uint8 attestThreshold;
    Policy policy;
}

/// @title IModelRegistryErrors
interface IModelRegistryErrors {
    /// @notice The model id is already taken.
    error ModelAlreadyRegistered(uint256 modelId);
    /// @notice The model id was never registered.
    error UnknownModel(uint256 modelId);
    /// @notice The model is frozen and cannot be changed.
    error ModelIsFrozen(uint256 modelId);
    /// @notice The model is retired (final).
    error ModelIsRetired(uint256 modelId);
    /// @notice The commitment is zero or not a field element.
    error InvalidModelCommitment(uint256 modelCommitment);
    /// @notice The batch size is zero.
    error InvalidBatchSize(uint16 batchSize);
    /// @notice The score width is neither 0 (no scores) nor in MIN_SCORE_BITS..=MAX_SCORE_BITS.
    error InvalidScoreBits(uint8 scoreBits);
    /// @notice The verifier address holds no code.
    error VerifierHasNoCode(address verifier);
    /// @notice The verifier reports another circuit digest.
    error CircuitDigestMismatch(bytes32 expected, bytes32 actual);
    /// @notice The verifier's app instance count does not match the model's layout.
    error VerifierLayoutMismatch(uint256 expectedAppInstanceCount, uint256 verifierAppInstanceCount);
    /// @notice The verifier's proof count or limb count is zero/out of range or inconsistent.
    error UnsupportedVerifierShape(uint256 proofCount, uint256 accumulatorLimbs, uint256 instanceCount);
    /// @notice maxAge is zero.
    error InvalidMaxAge(uint32 maxAge);
    /// @notice The policy uses a score threshold but the model exposes no scores.
    error ScoreThresholdWithoutScores(uint256 modelId);
    /// @notice The action address holds no code.
    error ActionHasNoCode(address action);
    /// @notice The input policy's threshold or member count does not fit its mode.
    error InvalidInputPolicy(uint256 modelId, InputMode mode, uint256 threshold, uint256 memberCount);
    /// @notice An input policy member is the zero address or listed twice.
    error InvalidInputMember(uint256 modelId, address member);
    /// @notice `Open` inputs were asked for a model whose action can pause a target.
    error OpenInputsForPausingAction(uint256 modelId, address action);
}

/// @title IModelRegistryEvents
interface IModelRegistryEvents {
    /// @notice A model was registered (status Active).
    event ModelRegistered(
        uint256 indexed modelId,
        uint256 modelCommitment,
        bytes32 circuitDigest,
        address verifier,
        uint16 batchSize,
        uint8 scoreBits,
        uint8 scoreScaleBits
    );
    /// @notice A model's policy was set (at registration or later).
    event PolicyUpdated(uint256 indexed modelId, Policy policy);
    /// @notice A model's input policy was set (at registration or later); `members` replace the old ones.
    event InputPolicyUpdated(uint256 indexed modelId, InputMode mode, uint8 threshold, address[] members);
    /// @notice A model's verifier was replaced by one for the same circuit digest.
    event VerifierUpdated(uint256 indexed modelId, address oldVerifier, address newVerifier);
    /// @notice A model was frozen.
    event ModelFrozen(uint256 indexed modelId);
    /// @notice A model was retired.
    event ModelRetired(uint256 indexed modelId);
}

/// @title IModelRegistry
/// @notice Model id => commitment, verifier, policy and status; changed by its owner only.
interface IModelRegistry is IModelRegistryErrors, IModelRegistryEvents {
    /// @notice Registers a new model as Active.
    /// @param modelId The id to register (must be unused).
    /// @param config The model's commitment, circuit digest, verifier and layout.
    /// @param policy The model's policy.
    /// @param inputPolicy Who vouches for the inputs (never `Open` for an action that can pause).
    function registerModel(
        uint256 modelId,
        ModelConfig calldata config,
        Policy calldata policy,
        InputPolicy calldata inputPolicy
    ) external;

    /// @notice Replaces the policy of an Active model.
    /// @param modelId The model.
    /// @param policy The new policy.
    function updatePolicy(uint256 modelId, Policy calldata policy) external;

    /// @notice Replaces the input policy (mode, threshold and every member) of an Active model.
    /// @param modelId The model.
    /// @param inputPolicy The new input policy.
    function updateInputPolicy(uint256 modelId, InputPolicy calldata inputPolicy) external;

    /// @notice Whether `account` is a member (attester or submitter) of a model's input policy.
    /// @param modelId The model.
    /// @param account The account.
    /// @return True when it is a current member.
    function isInputMember(uint256 modelId, address account) external view returns (bool);

    /// @notice The current members of a model's input policy.
    /// @param modelId The model.
    /// @return The attesters (Attested) or submitters (Submitters); empty for Open.
    function inputMembers(uint256 modelId) external view returns (address[] memory);

    /// @notice Replaces the verifier of an Active model by one for the same circuit digest and layout.
    /// @param modelId The model.
    /// @param verifier The new verifier wrapper.
    function updateVerifier(uint256 modelId, IZkGuardVerifier verifier) external;

    /// @notice Freezes an Active model: it stays usable but can no longer be changed (only retired).
    /// @param modelId The model.
    function freezeModel(uint256 modelId) external;

    /// @notice Retires an Active or Frozen model for good: the Guard refuses it from now on.
    /// @param modelId The model.
    function retireModel(uint256 modelId) external;

    /// @notice The registry entry of a model (status None when unknown).
    /// @param modelId The model.
    /// @return The entry.
    function getModel(uint256 modelId) external view returns (Model memory);

    /// @notice The status of a model.
    /// @param modelId The model.
    /// @return The status (None when unknown).
    function statusOf(uint256 modelId) external view returns (ModelStatus);
}
