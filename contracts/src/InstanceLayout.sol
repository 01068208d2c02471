// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title InstanceLayout
/// @notice The public-instance layout shared by the zkguard circuits and the Solidity decoder.
/// @dev This file is the Solidity half of the contract between prover and chain. The Rust prover
///      owns the other half; a Rust drift test parses the `uint256 internal constant` lines below,
///      so keep each constant a plain decimal literal on its own line.
///
///      One app proof exposes, in order:
///        0. modelCommitment   (opaque, compared with the registry)
///        1. inputCommitment   (opaque, emitted)
///        2. context           (see {contextHash})
///        3. sampleCount       (1..=batchSize)
///        4. flaggedCount      (flagged real samples, proven as the sum of the decision bits)
///        5. decision words    (W = ceil(batchSize / 248) words, bit i % 248 of word i / 248, LSB first)
///        6. score words       (only when the model exposes scores, i.e. scoreBits != 0:
///                              S = ceil(batchSize / P) words, P = 248 / scoreBits slots a word;
///                              sample i is slot i % P of word i / P at bit (i % P) * scoreBits,
///                              offset binary: score + 2^(scoreBits - 1), range-checked in circuit)
///      An aggregated proof prefixes ACCUMULATOR_LIMBS opaque limbs and then carries N such segments.
library InstanceLayout {
    /// @notice The BN254 scalar field modulus R; every public instance is < R.
    uint256 internal constant FIELD_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @notice (R - 1) / 2: the largest field element that decodes to a non-negative value.
    uint256 internal constant MAX_POSITIVE =
        10944121435919637611123202872628637544274182200208017171849102093287904247808;
    /// @notice Decision bits packed in one field element.
    uint256 internal constant DECISION_BITS_PER_WORD = 248;
    /// @notice Exclusive upper bound of a decision word: 2^248.
    uint256 internal constant DECISION_WORD_BOUND =
        452312848583266388373324160190187140051835877600158453279131187530910662656;
    /// @notice Number of accumulator limbs in front of the app segments in an aggregated proof.
    uint256 internal constant ACCUMULATOR_LIMBS = 12;
    /// @notice Offset of the model commitment inside an app segment.
    uint256 internal constant MODEL_COMMITMENT_OFFSET = 0;
    /// @notice Offset of the input commitment inside an app segment.
    uint256 internal constant INPUT_COMMITMENT_OFFSET = 1;
    /// @notice Offset of the context inside an app segment.
    uint256 internal constant CONTEXT_OFFSET = 2;
    /// @notice Offset of the sample count inside an app segment.
    uint256 internal constant SAMPLE_COUNT_OFFSET = 3;
    /// @notice Offset of the flagged count inside an app segment.
    uint256 internal constant FLAGGED_COUNT_OFFSET = 4;
    /// @notice Offset of the first decision word inside an app segment.
    uint256 internal constant DECISIONS_OFFSET = 5;
    /// @notice Instances in an app segment before the decision words (= DECISIONS_OFFSET).
    uint256 internal constant HEADER_INSTANCES = 5;
    /// @notice Bits of a score word that hold score slots.
    uint256 internal constant SCORE_WORD_BITS = 248;
    /// @notice Smallest score width (bits) a model may register.
    uint256 internal constant MIN_SCORE_BITS = 2;
    /// @notice Largest score width (bits) a model may register.
    uint256 internal constant MAX_SCORE_BITS = 120;

    /// @notice An instance is not a BN254 scalar field element.
    /// @param value The offending value (>= FIELD_MODULUS).
    error NotAFieldElement(uint256 value);
    /// @notice A signed value does not fit the field encoding (|v| > (R - 1) / 2).
    /// @param value The offending value.
    error SignedValueOutOfRange(int256 value);

    /// @notice Number of decision words for a batch size: ceil(batchSize / 248).
    /// @param batchSize Samples per app proof.
    /// @return The number of decision words W.
    function decisionWordCount(uint256 batchSize) internal pure returns (uint256) {
        return (batchSize + DECISION_BITS_PER_WORD - 1) / DECISION_BITS_PER_WORD;
    }

    /// @notice Score slots per score word: 248 / scoreBits (0 without scores).
    /// @param scoreBits Width of one packed score (0: no scores).
    /// @return The slots per word P.
    function scoresPerWord(uint256 scoreBits) internal pure returns (uint256) {
        return scoreBits == 0 ? 0 : SCORE_WORD_BITS / scoreBits;
    }

    /// @notice Number of score words: ceil(batchSize / P), 0 without scores.
    /// @param batchSize Samples per app proof.
    /// @param scoreBits Width of one packed score (0: no scores).
    /// @return The number of score words S.
    function scoreWordCount(uint256 batchSize, uint256 scoreBits) internal pure returns (uint256) {
        uint256 per = scoresPerWord(scoreBits);
        return per == 0 ? 0 : (batchSize + per - 1) / per;
    }

    /// @notice Number of public instances of one app proof: 5 + W + S.
    /// @param batchSize Samples per app proof.
    /// @param scoreBits Width of one packed score (0: the model exposes no scores).
    /// @return The app instance count.
    function appInstanceCount(uint256 batchSize, uint256 scoreBits) internal pure returns (uint256) {
        return HEADER_INSTANCES + decisionWordCount(batchSize) + scoreWordCount(batchSize, scoreBits);
    }

    /// @notice Offset of the first score word inside an app segment.
    /// @param batchSize Samples per app proof.
    /// @return The offset 5 + W.
    function scoresOffset(uint256 batchSize) internal pure returns (uint256) {
        return HEADER_INSTANCES + decisionWordCount(batchSize);
    }

    /// @notice Decision bit of sample `i` of a segment, given its decision words.
    /// @param words The W decision words of one segment.
    /// @param i Sample index inside the segment.
    /// @return True when sample `i` is flagged.
    function decisionBit(uint256[] memory words, uint256 i) internal pure returns (bool) {
        return (words[i / DECISION_BITS_PER_WORD] >> (i % DECISION_BITS_PER_WORD)) & 1 == 1;
    }

    /// @notice The score of sample `i`, read in place from packed score words.
    /// @param words Calldata holding the score words (e.g. a proof's instances).
    /// @param start Index of the segment's first score word in `words`.
    /// @param i Sample index inside the segment.
    /// @param scoreBits Width of one packed score (MIN_SCORE_BITS..=MAX_SCORE_BITS).
    /// @return The signed fixed-point score.
    function scoreAt(uint256[] calldata words, uint256 start, uint256 i, uint256 scoreBits)
        internal
        pure
        returns (int256)
    {
        uint256 per = SCORE_WORD_BITS / scoreBits;
        uint256 slot = (words[start + i / per] >> ((i % per) * scoreBits)) & ((1 << scoreBits) - 1);
        return int256(slot) - int256(1 << (scoreBits - 1));
    }

    /// @notice Decodes a field-encoded signed value: x <= (R-1)/2 is x, otherwise -(R - x).
    /// @dev Reverts with {NotAFieldElement} when x >= R.
    /// @param x The field element.
    /// @return The signed value.
    function decodeSigned(uint256 x) internal pure returns (int256) {
        if (x >= FIELD_MODULUS) revert NotAFieldElement(x);
        if (x <= MAX_POSITIVE) return int256(x);
        return -int256(FIELD_MODULUS - x);
    }

    /// @notice Encodes a signed value in the field: v >= 0 is v, v < 0 is R - |v|.
    /// @dev Reverts with {SignedValueOutOfRange} when |v| > (R-1)/2.
    /// @param v The signed value.
    /// @return The field element.
    function encodeSigned(int256 v) internal pure returns (uint256) {
        if (v >= 0) {
            if (uint256(v) > MAX_POSITIVE) revert SignedValueOutOfRange(v);
            return uint256(v);
        }
        // -(type(int256).min) overflows, but it is far below -(R-1)/2 and is caught first.
        if (v < -int256(MAX_POSITIVE)) revert SignedValueOutOfRange(v);
        return FIELD_MODULUS - uint256(-v);
    }

    /// @notice keccak256 of the packed subject list, as bound into the context.
    /// @dev `abi.encodePacked(address[])` pads every address to 32 bytes (left-padded with zeros),
    ///      so this is keccak256 of the concatenated 32-byte words; keccak256("") for no subjects.
    /// @param subjects The subjects, one per real sample, or empty.
    /// @return The digest.
    function subjectsDigest(address[] memory subjects) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(subjects));
    }

    /// @notice The context instance a proof must carry:
    ///         uint256(keccak256(abi.encode(chainId, guard, modelId, nonce, issuedAt, subjectsHash))) % R.
    /// @param chainId The chain id (block.chainid).
    /// @param guard The Guard contract that accepts the proof.
    /// @param modelId The registry model id.
    /// @param nonce The submission nonce (per model, single use).
    /// @param issuedAt The submission's issue time (unix seconds).
    /// @param subjectsHash {subjectsDigest} of the subject list.
    /// @return The context field element.
    function contextHash(
        uint256 chainId,
        address guard,
        uint256 modelId,
        uint64 nonce,
        uint64 issuedAt,
        bytes32 subjectsHash
    ) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(chainId, guard, modelId, nonce, issuedAt, subjectsHash)))
            % FIELD_MODULUS;
    }
}
