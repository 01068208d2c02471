// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";

import {Guard} from "../../src/Guard.sol";
import {ModelRegistry} from "../../src/ModelRegistry.sol";
import {CircuitBreaker} from "../../src/CircuitBreaker.sol";
import {VerdictFilter} from "../../src/VerdictFilter.sol";
import {ZkGuardVerifier} from "../../src/ZkGuardVerifier.sol";
import {InstanceLayout} from "../../src/InstanceLayout.sol";
import {ProtectedVault} from "../../src/examples/ProtectedVault.sol";
import {FilteredToken} from "../../src/examples/FilteredToken.sol";
import {Attestation, IGuard, SubmissionContext} from "../../src/interfaces/IGuard.sol";
import {IGuardAction} from "../../src/interfaces/IGuardAction.sol";
import {IZkGuardVerifier} from "../../src/interfaces/IZkGuardVerifier.sol";
import {InputMode, InputPolicy, ModelConfig, Policy} from "../../src/interfaces/IModelRegistry.sol";
import {TargetKind} from "../../src/interfaces/ICircuitBreaker.sol";
import {MockGeneratedVerifier} from "../mocks/MockGeneratedVerifier.sol";
import {MockBreakerTarget} from "../mocks/MockBreakerTarget.sol";
import {AttestationDigest} from "./AttestationDigest.sol";

/// @notice One app segment to encode (decisions and scores for the first `sampleCount` samples;
///         padding decisions are 0 and padding scores are 0 unless `padScores` is set).
struct Segment {
    uint256 inputCommitment;
    uint256 sampleCount;
    bool[] flagged;
    int256[] scores;
}

/// @notice Shared deployment and instance builders for the zkguard tests.
abstract contract ZkGuardBase is Test {
    uint256 internal constant R = InstanceLayout.FIELD_MODULUS;
    uint64 internal constant T0 = 1_700_000_000;

    // Direct mode, 4 samples with scores (8 fractional bits), breaker on the vault.
    uint256 internal constant MODEL_DIRECT = 1;
    uint256 internal constant COMMIT_DIRECT = 0x1111;
    uint16 internal constant DIRECT_BATCH = 4;
    uint8 internal constant SCALE_BITS = 8;
    /// @dev Width of a packed test score: 6 scores to a word, |score| < 2^39.
    uint8 internal constant SCORE_BITS = 40;
    uint32 internal constant MIN_FLAGGED = 2;
    int256 internal constant SCORE_THRESHOLD = 3 << 8; // 3.0
    // Batch mode, 2 aggregated proofs of 250 samples (2 decision words), no scores, filter.
    uint256 internal constant MODEL_BATCH = 2;
    uint256 internal constant COMMIT_BATCH = 0x2222;
    uint16 internal constant BATCH_BATCH = 250;
    uint16 internal constant BATCH_PROOFS = 2;
    // Direct mode, 4 samples with scores, breaker on a hook target, minFlagged 1.
    uint256 internal constant MODEL_HOOK = 3;
    uint256 internal constant COMMIT_HOOK = 0x3333;

    uint32 internal constant MAX_AGE = 1 hours;
    uint64 internal constant TTL = 1 days;
    bytes32 internal constant DIGEST_DIRECT = keccak256("zkguard/circuit/direct");
    bytes32 internal constant DIGEST_BATCH = keccak256("zkguard/circuit/batch");

    address internal governance = makeAddr("governance");
    address internal relayer = makeAddr("relayer");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");
    address internal dave = makeAddr("dave");
    /// @dev The data provider registered as every model's attester (threshold 1).
    address internal attester;
    uint256 internal attesterKey;
    /// @dev The mock proofs are 3 words.
    uint256 internal constant PROOF_LEN = 96;

    MockGeneratedVerifier internal gen;
    ZkGuardVerifier internal directVerifier;
    ZkGuardVerifier internal batchVerifier;
    ModelRegistry internal registry;
    Guard internal guard;
    CircuitBreaker internal breaker;
    VerdictFilter internal filter;
    ProtectedVault internal vault;
    FilteredToken internal token;
    MockBreakerTarget internal hookTarget;

    bytes internal proof;

    function setUp() public virtual {
        vm.warp(T0);
        (attester, attesterKey) = makeAddrAndKey("attester");
        _markBatch(MODEL_BATCH);
        gen = new MockGeneratedVerifier();
        directVerifier = new ZkGuardVerifier(
            address(gen),
            DIGEST_DIRECT,
            InstanceLayout.appInstanceCount(DIRECT_BATCH, SCORE_BITS),
            1,
            0,
            PROOF_LEN
        );
        batchVerifier = new ZkGuardVerifier(
            address(gen),
            DIGEST_BATCH,
            InstanceLayout.appInstanceCount(BATCH_BATCH, 0),
            BATCH_PROOFS,
            InstanceLayout.ACCUMULATOR_LIMBS,
            PROOF_LEN
        );
        registry = new ModelRegistry(governance);
        guard = new Guard(registry);
        breaker = new CircuitBreaker(address(guard), governance);
        filter = new VerdictFilter(address(guard), governance, TTL);
        vault = new ProtectedVault(governance, address(breaker));
        token = new FilteredToken(filter, alice, 1_000 ether);
        hookTarget = new MockBreakerTarget(address(breaker));

        vm.startPrank(governance);
        registry.registerModel(
            MODEL_DIRECT,
            ModelConfig(COMMIT_DIRECT, DIGEST_DIRECT, directVerifier, DIRECT_BATCH, SCORE_BITS, SCALE_BITS),
            Policy(breaker, MAX_AGE, MIN_FLAGGED, true, SCORE_THRESHOLD),
            _inputs()
        );
        registry.registerModel(
            MODEL_BATCH,
            ModelConfig(COMMIT_BATCH, DIGEST_BATCH, batchVerifier, BATCH_BATCH, 0, 0),
            Policy(filter, MAX_AGE, 0, false, 0),
            _inputs()
        );
        registry.registerModel(
            MODEL_HOOK,
            ModelConfig(COMMIT_HOOK, DIGEST_DIRECT, directVerifier, DIRECT_BATCH, SCORE_BITS, SCALE_BITS),
            Policy(breaker, MAX_AGE, 1, false, 0),
            _inputs()
        );
        breaker.setTarget(MODEL_DIRECT, address(vault), TargetKind.PausableRole);
        breaker.setTarget(MODEL_HOOK, address(hookTarget), TargetKind.Hook);
        vm.stopPrank();

        proof = abi.encodePacked(keccak256("proof-part-1"), keccak256("proof-part-2"), keccak256("proof-3"));
    }

    // ---------------------------------------------------------------------------------------------
    // Builders
    // ---------------------------------------------------------------------------------------------

    /// @dev The input policy every test model is registered with: `attester` alone, threshold 1.
    function _inputs() internal view returns (InputPolicy memory p) {
        p.mode = InputMode.Attested;
        p.threshold = 1;
        p.members = new address[](1);
        p.members[0] = attester;
    }

    /// @dev The instance layout of test models that are not direct (proofs, limbs, app instances);
    ///      every other test model is direct. Kept here so that building an attestation makes no
    ///      external call (which `vm.expectRevert` would take for the call under test).
    struct TestLayout {
        uint256 proofs;
        uint256 limbs;
        uint256 app;
    }

    mapping(uint256 modelId => TestLayout) internal aggregatedLayout;

    /// @dev Marks a model as registered with the batch layout (2 aggregated proofs of BATCH_BATCH).
    function _markBatch(uint256 modelId) internal {
        _markAggregated(modelId, BATCH_PROOFS, InstanceLayout.appInstanceCount(BATCH_BATCH, 0));
    }

    function _markAggregated(uint256 modelId, uint256 proofs, uint256 app) internal {
        aggregatedLayout[modelId] = TestLayout(proofs, InstanceLayout.ACCUMULATOR_LIMBS, app);
    }

    /// @dev Every segment's input commitment of an instance array (0 where it is too short).
    function _inputCommitments(uint256 modelId, uint256[] memory instances)
        internal
        view
        returns (uint256[] memory out)
    {
        TestLayout memory l = aggregatedLayout[modelId];
        if (l.proofs == 0) l = TestLayout(1, 0, 0);
        out = new uint256[](l.proofs);
        for (uint256 k = 0; k < l.proofs; ++k) {
            uint256 at = l.limbs + k * l.app + InstanceLayout.INPUT_COMMITMENT_OFFSET;
            out[k] = at < instances.length ? instances[at] : 0;
        }
    }

    /// @dev One signature by `key` over the submission's attestation digest for guard `g`.
    function _sign(
        IGuard g,
        uint256 key,
        uint256 modelId,
        SubmissionContext memory c,
        uint256[] memory commits
    ) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(key, AttestationDigest.digest(address(g), modelId, c, commits));
        return abi.encodePacked(r, s, v);
    }

    /// @dev The registered attester's attestation of a submission to `guard`.
    function _attest(uint256 modelId, SubmissionContext memory c, uint256[] memory instances)
        internal
        view
        returns (Attestation[] memory a)
    {
        return _attestFor(IGuard(address(guard)), modelId, c, instances);
    }

    /// @dev The registered attester's attestation of a submission to guard `g`.
    function _attestFor(IGuard g, uint256 modelId, SubmissionContext memory c, uint256[] memory instances)
        internal
        view
        returns (Attestation[] memory a)
    {
        a = new Attestation[](1);
        a[0] = Attestation(attester, _sign(g, attesterKey, modelId, c, _inputCommitments(modelId, instances)));
    }

    function _ctx(uint64 nonce) internal view returns (SubmissionContext memory c) {
        c.nonce = nonce;
        c.issuedAt = uint64(block.timestamp);
        c.subjects = new address[](0);
    }

    function _ctxWith(uint64 nonce, address[] memory subjects)
        internal
        view
        returns (SubmissionContext memory c)
    {
        c = _ctx(nonce);
        c.subjects = subjects;
    }

    /// @dev The context as the prover computes it, for `guard` on the current chain.
    function _contextFor(address guardAddr, uint256 chainId, uint256 modelId, SubmissionContext memory c)
        internal
        pure
        returns (uint256)
    {
        return uint256(
            keccak256(
            abi.encode(
            chainId, guardAddr, modelId, c.nonce, c.issuedAt, keccak256(abi.encodePacked(c.subjects))
        )
        )
        ) % R;
    }

    function _segment(uint256 inputCommitment, bool[] memory flagged, int256[] memory scores)
        internal
        pure
        returns (Segment memory s)
    {
        s.inputCommitment = inputCommitment;
        s.sampleCount = flagged.length;
        s.flagged = flagged;
        s.scores = scores;
    }

    /// @dev Encodes one app segment for a model layout (`scoreBits` 0: no scores), as the circuit
    ///      does: flagged count, decision words, offset-binary scores packed 248 / scoreBits a word,
    ///      padding samples scored 0.
    function _encodeSegment(
        uint256 commitment,
        uint256 context,
        uint16 batchSize,
        uint8 scoreBits,
        Segment memory s
    ) internal pure returns (uint256[] memory out) {
        out = new uint256[](InstanceLayout.appInstanceCount(batchSize, scoreBits));
        out[0] = commitment;
        out[1] = s.inputCommitment;
        out[2] = context;
        out[3] = s.sampleCount;
        uint256 d = InstanceLayout.DECISIONS_OFFSET;
        for (uint256 i = 0; i < s.flagged.length; ++i) {
            if (s.flagged[i]) {
                out[d + i / 248] |= uint256(1) << (i % 248);
                ++out[InstanceLayout.FLAGGED_COUNT_OFFSET];
            }
        }
        if (scoreBits != 0) {
            uint256 per = InstanceLayout.scoresPerWord(scoreBits);
            uint256 start = InstanceLayout.scoresOffset(batchSize);
            for (uint256 i = 0; i < batchSize; ++i) {
                int256 v = i < s.scores.length ? s.scores[i] : int256(0);
                uint256 slot = uint256(v + int256(1 << (scoreBits - 1)));
                require(slot < (1 << scoreBits), "test: score does not fit");
                out[start + i / per] |= slot << ((i % per) * scoreBits);
            }
        }
    }

    /// @dev Full instance array for a registered model (limbs, then the segments).
    function _instances(uint256 modelId, SubmissionContext memory c, Segment[] memory segs)
        internal
        view
        returns (uint256[] memory all)
    {
        return _instancesFor(address(guard), block.chainid, modelId, c, segs);
    }

    function _instancesFor(
        address guardAddr,
        uint256 chainId,
        uint256 modelId,
        SubmissionContext memory c,
        Segment[] memory segs
    ) internal view returns (uint256[] memory all) {
        (uint256 commitment, uint16 batchSize, uint8 scoreBits, uint256 proofs, uint256 limbs) =
            _layout(modelId);
        require(segs.length == proofs, "test: segment count");
        uint256 context = _contextFor(guardAddr, chainId, modelId, c);
        uint256 app = InstanceLayout.appInstanceCount(batchSize, scoreBits);
        all = new uint256[](limbs + proofs * app);
        for (uint256 i = 0; i < limbs; ++i) {
            all[i] = uint256(keccak256(abi.encode("limb", i))) % R;
        }
        for (uint256 k = 0; k < proofs; ++k) {
            uint256[] memory seg = _encodeSegment(commitment, context, batchSize, scoreBits, segs[k]);
            for (uint256 i = 0; i < app; ++i) {
                all[limbs + k * app + i] = seg[i];
            }
        }
    }

    function _layout(uint256 modelId)
        internal
        view
        returns (uint256 commitment, uint16 batchSize, uint8 scoreBits, uint256 proofs, uint256 limbs)
    {
        commitment = registry.getModel(modelId).modelCommitment;
        batchSize = registry.getModel(modelId).batchSize;
        scoreBits = registry.getModel(modelId).scoreBits;
        proofs = registry.getModel(modelId).proofCount;
        limbs = registry.getModel(modelId).accumulatorLimbs;
    }

    /// @dev A direct-mode submission for a 4-sample model: decisions and scores given per sample.
    function _direct(
        uint256 modelId,
        SubmissionContext memory c,
        bool[] memory flagged,
        int256[] memory scores
    ) internal view returns (uint256[] memory) {
        Segment[] memory segs = new Segment[](1);
        segs[0] = _segment(uint256(keccak256(abi.encode("input", c.nonce))) % R, flagged, scores);
        return _instances(modelId, c, segs);
    }

    /// @dev A MODEL_BATCH submission: `n0` and `n1` real samples, flagged where `flagEvery` divides i.
    function _batch(SubmissionContext memory c, uint256 n0, uint256 n1, uint256 flagEvery)
        internal
        view
        returns (uint256[] memory)
    {
        return _batchFor(MODEL_BATCH, c, n0, n1, flagEvery);
    }

    function _batchFor(uint256 modelId, SubmissionContext memory c, uint256 n0, uint256 n1, uint256 flagEvery)
        internal
        view
        returns (uint256[] memory)
    {
        Segment[] memory segs = new Segment[](2);
        segs[0] = _segment(0xa0, _flags(n0, flagEvery), new int256[](0));
        segs[1] = _segment(0xa1, _flags(n1, flagEvery), new int256[](0));
        return _instances(modelId, c, segs);
    }

    function _flags(uint256 n, uint256 every) internal pure returns (bool[] memory f) {
        f = new bool[](n);
        if (every == 0) return f;
        for (uint256 i = 0; i < n; ++i) {
            f[i] = i % every == 0;
        }
    }

    /// @dev Bit `i` of a result's compacted `flaggedBits`.
    function _flagged(uint256[] memory bits, uint256 i) internal pure returns (bool) {
        return (bits[i / 256] >> (i % 256)) & 1 == 1;
    }

    function _bools(bool a, bool b, bool c, bool d) internal pure returns (bool[] memory f) {
        f = new bool[](4);
        (f[0], f[1], f[2], f[3]) = (a, b, c, d);
    }

    function _ints(int256 a, int256 b, int256 c, int256 d) internal pure returns (int256[] memory s) {
        s = new int256[](4);
        (s[0], s[1], s[2], s[3]) = (a, b, c, d);
    }

    function _addrs(address a, address b, address c, address d) internal pure returns (address[] memory s) {
        s = new address[](4);
        (s[0], s[1], s[2], s[3]) = (a, b, c, d);
    }

    /// @dev Makes the mock generated verifier accept exactly these instances and `proof`, then submits.
    function _submit(uint256 modelId, SubmissionContext memory c, uint256[] memory instances)
        internal
        returns (uint256 flaggedCount, uint256 sampleCount)
    {
        gen.expect(instances, proof);
        vm.prank(relayer);
        return guard.submit(modelId, c, _attest(modelId, c, instances), instances, proof);
    }
}
