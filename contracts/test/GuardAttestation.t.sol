// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ZkGuardBase} from "./utils/ZkGuardBase.sol";
import {AttestationDigest} from "./utils/AttestationDigest.sol";
import {Guard} from "../src/Guard.sol";
import {Attestation, IGuard, IGuardErrors, SubmissionContext} from "../src/interfaces/IGuard.sol";
import {InputMode, InputPolicy, ModelConfig, Policy} from "../src/interfaces/IModelRegistry.sol";
import {IGuardAction} from "../src/interfaces/IGuardAction.sol";
import {TargetKind} from "../src/interfaces/ICircuitBreaker.sol";
import {MockERC1271} from "./mocks/MockERC1271.sol";

/// @notice Input provenance: a proof vouches for the computation, the model's input policy for the
///         data. Every policy accepted and refused, with the real Guard and a mock verifier.
contract GuardAttestationTest is ZkGuardBase {
    uint256 internal constant SECP256K1_N =
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    uint256 internal constant MODEL_2OF3 = 50;
    uint256 internal constant MODEL_SUBMITTERS = 51;
    uint256 internal constant MODEL_OPEN = 52;
    uint256 internal constant MODEL_SAFE = 53;

    address[3] internal att;
    uint256[3] internal key;
    MockERC1271 internal safe;

    function setUp() public override {
        super.setUp();
        // three attesters, sorted by address so tests can pick ordered subsets
        for (uint256 i = 0; i < 3; ++i) {
            (att[i], key[i]) = makeAddrAndKey(string.concat("att", vm.toString(i)));
        }
        for (uint256 i = 0; i < 3; ++i) {
            for (uint256 j = i + 1; j < 3; ++j) {
                if (att[j] < att[i]) {
                    (att[i], att[j]) = (att[j], att[i]);
                    (key[i], key[j]) = (key[j], key[i]);
                }
            }
        }
        safe = new MockERC1271();
        vm.startPrank(governance);
        registry.registerModel(
            MODEL_2OF3, _cfg(), _policy(breaker), _attested(2, _list3(att[0], att[1], att[2]))
        );
        registry.registerModel(
            MODEL_SUBMITTERS, _cfg(), _policy(breaker), _members(InputMode.Submitters, relayer)
        );
        registry.registerModel(MODEL_OPEN, _cfg(), _policy(IGuardAction(address(0))), _open());
        registry.registerModel(MODEL_SAFE, _cfg(), _policy(breaker), _attested(1, _list1(address(safe))));
        breaker.setTarget(MODEL_2OF3, address(hookTarget), TargetKind.Hook);
        breaker.setTarget(MODEL_SUBMITTERS, address(hookTarget), TargetKind.Hook);
        breaker.setTarget(MODEL_SAFE, address(hookTarget), TargetKind.Hook);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------------------------------------
    // builders
    // ---------------------------------------------------------------------------------------------

    function _cfg() internal view returns (ModelConfig memory) {
        return ModelConfig(COMMIT_DIRECT, DIGEST_DIRECT, directVerifier, DIRECT_BATCH, SCORE_BITS, SCALE_BITS);
    }

    function _policy(IGuardAction action) internal pure returns (Policy memory) {
        return Policy(action, MAX_AGE, 1, false, 0);
    }

    function _list1(address a) internal pure returns (address[] memory l) {
        l = new address[](1);
        l[0] = a;
    }

    function _list3(address a, address b, address c) internal pure returns (address[] memory l) {
        l = new address[](3);
        (l[0], l[1], l[2]) = (a, b, c);
    }

    function _attested(uint8 threshold, address[] memory members)
        internal
        pure
        returns (InputPolicy memory p)
    {
        p = InputPolicy(InputMode.Attested, threshold, members);
    }

    function _members(InputMode mode, address member) internal pure returns (InputPolicy memory p) {
        p = InputPolicy(mode, 0, _list1(member));
    }

    function _open() internal pure returns (InputPolicy memory p) {
        p = InputPolicy(InputMode.Open, 0, new address[](0));
    }

    /// @dev A flagged direct submission for `modelId` (trips a minFlagged=1 breaker).
    function _flaggedSubmission(uint256 modelId, uint64 nonce)
        internal
        view
        returns (SubmissionContext memory c, uint256[] memory inst)
    {
        c = _ctx(nonce);
        inst = _direct(modelId, c, _bools(true, false, false, false), _ints(0, 0, 0, 0));
    }

    function _sig(uint256 signerKey, uint256 modelId, SubmissionContext memory c, uint256[] memory inst)
        internal
        view
        returns (bytes memory)
    {
        return _sign(IGuard(address(guard)), signerKey, modelId, c, _inputCommitments(modelId, inst));
    }

    function _one(address signer, bytes memory sig) internal pure returns (Attestation[] memory a) {
        a = new Attestation[](1);
        a[0] = Attestation(signer, sig);
    }

    function _two(address s0, bytes memory g0, address s1, bytes memory g1)
        internal
        pure
        returns (Attestation[] memory a)
    {
        a = new Attestation[](2);
        a[0] = Attestation(s0, g0);
        a[1] = Attestation(s1, g1);
    }

    function _expectRefused(
        uint256 modelId,
        SubmissionContext memory c,
        Attestation[] memory a,
        uint256[] memory inst,
        bytes memory err
    ) internal {
        gen.expect(inst, proof);
        vm.expectRevert(err);
        vm.prank(relayer);
        guard.submit(modelId, c, a, inst, proof);
        assertFalse(guard.isNonceUsed(modelId, c.nonce), "a refused submission must not consume its nonce");
        assertFalse(hookTarget.paused(), "a refused submission must not pause");
    }

    function _accept(
        uint256 modelId,
        SubmissionContext memory c,
        Attestation[] memory a,
        uint256[] memory inst
    ) internal {
        gen.expect(inst, proof);
        vm.prank(relayer);
        guard.submit(modelId, c, a, inst, proof);
        assertTrue(guard.isNonceUsed(modelId, c.nonce));
    }

    // ---------------------------------------------------------------------------------------------
    // the digest
    // ---------------------------------------------------------------------------------------------

    /// @dev The Guard's digest equals the one written out independently (EIP-712 by hand).
    function test_attestationDigest_matchesIndependentEip712() public view {
        (SubmissionContext memory c, uint256[] memory inst) = _flaggedSubmission(MODEL_2OF3, 3);
        c.subjects = _addrs(alice, bob, carol, dave);
        uint256[] memory commits = _inputCommitments(MODEL_2OF3, inst);
        assertEq(
            guard.attestationDigest(MODEL_2OF3, c, commits),
            AttestationDigest.digest(address(guard), MODEL_2OF3, c, commits)
        );
    }

    /// @dev Known-answer vector shared with the Rust attester (`digest_known_answer` in
    ///      contracts/rust/attestation.rs): the Guard's own digest on chain 31337 at 0x…a1.
    function test_attestationDigest_knownAnswer() public {
        vm.chainId(31337);
        address at = address(0xa1);
        deployCodeTo("Guard.sol:Guard", abi.encode(registry), at);
        SubmissionContext memory c;
        c.nonce = 7;
        c.issuedAt = 1_700_000_000;
        c.subjects = new address[](1);
        c.subjects[0] = at;
        uint256[] memory commits = new uint256[](2);
        (commits[0], commits[1]) = (0x1234, 0x5678);
        assertEq(
            Guard(at).attestationDigest(1, c, commits),
            0xc10ff5dbe146d5cda25f4bedd1b60eaea9b63c32dbcce32a5426ae8fb1c9b8aa
        );
    }

    // ---------------------------------------------------------------------------------------------
    // Attested: accepted
    // ---------------------------------------------------------------------------------------------

    function test_attested_thresholdMet_accepted() public {
        (SubmissionContext memory c, uint256[] memory inst) = _flaggedSubmission(MODEL_2OF3, 1);
        _accept(
            MODEL_2OF3,
            c,
            _two(att[0], _sig(key[0], MODEL_2OF3, c, inst), att[2], _sig(key[2], MODEL_2OF3, c, inst)),
            inst
        );
        assertTrue(hookTarget.paused());
    }

    function test_attested_erc1271AttesterSaysYes_accepted() public {
        (SubmissionContext memory c, uint256[] memory inst) = _flaggedSubmission(MODEL_SAFE, 1);
        safe.approve(guard.attestationDigest(MODEL_SAFE, c, _inputCommitments(MODEL_SAFE, inst)));
        _accept(MODEL_SAFE, c, _one(address(safe), hex"01"), inst);
        assertTrue(hookTarget.paused());
    }

    // ---------------------------------------------------------------------------------------------
    // Attested: refused
    // ---------------------------------------------------------------------------------------------

    function test_attested_noSignature_refused() public {
        (SubmissionContext memory c, uint256[] memory inst) = _flaggedSubmission(MODEL_2OF3, 1);
        _expectRefused(
            MODEL_2OF3,
            c,
            new Attestation[](0),
            inst,
            abi.encodeWithSelector(IGuardErrors.UnattestedInputs.selector, MODEL_2OF3, 0, 2)
        );
    }

    function test_attested_belowThreshold_refused() public {
        (SubmissionContext memory c, uint256[] memory inst) = _flaggedSubmission(MODEL_2OF3, 1);
        _expectRefused(
            MODEL_2OF3,
            c,
            _one(att[1], _sig(key[1], MODEL_2OF3, c, inst)),
            inst,
            abi.encodeWithSelector(IGuardErrors.UnattestedInputs.selector, MODEL_2OF3, 1, 2)
        );
    }

    function test_attested_nonAttester_refused() public {
        (SubmissionContext memory c, uint256[] memory inst) = _flaggedSubmission(MODEL_2OF3, 1);
        (address mallory, uint256 malloryKey) = makeAddrAndKey("mallory");
        Attestation[] memory a = mallory < att[0]
            ? _two(mallory, _sig(malloryKey, MODEL_2OF3, c, inst), att[0], _sig(key[0], MODEL_2OF3, c, inst))
            : _two(att[0], _sig(key[0], MODEL_2OF3, c, inst), mallory, _sig(malloryKey, MODEL_2OF3, c, inst));
        _expectRefused(
            MODEL_2OF3,
            c,
            a,
            inst,
            abi.encodeWithSelector(IGuardErrors.UnknownAttester.selector, MODEL_2OF3, mallory)
        );
    }

    function test_attested_sameAttesterTwice_refused() public {
        (SubmissionContext memory c, uint256[] memory inst) = _flaggedSubmission(MODEL_2OF3, 1);
        bytes memory s = _sig(key[0], MODEL_2OF3, c, inst);
        _expectRefused(
            MODEL_2OF3,
            c,
            _two(att[0], s, att[0], s),
            inst,
            abi.encodeWithSelector(IGuardErrors.DuplicateAttester.selector, att[0])
        );
    }

    function test_attested_unsorted_refused() public {
        (SubmissionContext memory c, uint256[] memory inst) = _flaggedSubmission(MODEL_2OF3, 1);
        _expectRefused(
            MODEL_2OF3,
            c,
            _two(att[1], _sig(key[1], MODEL_2OF3, c, inst), att[0], _sig(key[0], MODEL_2OF3, c, inst)),
            inst,
            abi.encodeWithSelector(IGuardErrors.AttestersNotSorted.selector, att[1], att[0])
        );
    }

    /// @dev A signature is bound to everything the typed message names: each of these was signed
    ///      over one changed field and is refused for the real submission.
    function test_attested_signatureOverOtherMessage_refused() public {
        (SubmissionContext memory c, uint256[] memory inst) = _flaggedSubmission(MODEL_2OF3, 1);
        bytes memory good = _sig(key[1], MODEL_2OF3, c, inst);
        uint256[] memory commits = _inputCommitments(MODEL_2OF3, inst);

        // another nonce
        SubmissionContext memory other = _ctx(2);
        _refuseSecond(c, inst, good, _sign(IGuard(address(guard)), key[0], MODEL_2OF3, other, commits));
        // another issue time
        other = _ctx(1);
        other.issuedAt = c.issuedAt - 1;
        _refuseSecond(c, inst, good, _sign(IGuard(address(guard)), key[0], MODEL_2OF3, other, commits));
        // other subjects
        other = _ctxWith(1, _addrs(alice, bob, carol, dave));
        _refuseSecond(c, inst, good, _sign(IGuard(address(guard)), key[0], MODEL_2OF3, other, commits));
        // another input commitment
        uint256[] memory otherCommits = new uint256[](1);
        otherCommits[0] = commits[0] + 1;
        _refuseSecond(c, inst, good, _sign(IGuard(address(guard)), key[0], MODEL_2OF3, c, otherCommits));
        // another model id
        _refuseSecond(c, inst, good, _sign(IGuard(address(guard)), key[0], MODEL_DIRECT, c, commits));
        // another Guard
        Guard otherGuard = new Guard(registry);
        _refuseSecond(c, inst, good, _sign(IGuard(address(otherGuard)), key[0], MODEL_2OF3, c, commits));
        // another chain
        uint256 chain = block.chainid;
        vm.chainId(chain + 1);
        bytes memory otherChain = _sign(IGuard(address(guard)), key[0], MODEL_2OF3, c, commits);
        vm.chainId(chain);
        _refuseSecond(c, inst, good, otherChain);
    }

    /// @dev att[0]'s signature `bad` beside att[1]'s good one is refused as an invalid attestation.
    function _refuseSecond(
        SubmissionContext memory c,
        uint256[] memory inst,
        bytes memory good,
        bytes memory bad
    ) internal {
        _expectRefused(
            MODEL_2OF3,
            c,
            _two(att[0], bad, att[1], good),
            inst,
            abi.encodeWithSelector(IGuardErrors.InvalidAttestation.selector, att[0])
        );
    }

    /// @dev The malleable twin (s' = n - s, v flipped) of a valid signature is refused.
    function test_attested_highS_refused() public {
        (SubmissionContext memory c, uint256[] memory inst) = _flaggedSubmission(MODEL_2OF3, 1);
        bytes32 digest = guard.attestationDigest(MODEL_2OF3, c, _inputCommitments(MODEL_2OF3, inst));
        bytes memory high = _malleableTwin(key[0], digest);
        _expectRefused(
            MODEL_2OF3,
            c,
            _two(att[0], high, att[1], _sig(key[1], MODEL_2OF3, c, inst)),
            inst,
            abi.encodeWithSelector(IGuardErrors.InvalidAttestation.selector, att[0])
        );
    }

    /// @dev (r, n - s, flipped v): recovers the same signer, but with s in the upper half.
    function _malleableTwin(uint256 signerKey, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(signerKey, digest);
        uint8 twinV = v == 27 ? 28 : 27;
        bytes32 twinS = bytes32(SECP256K1_N - uint256(s));
        require(ecrecover(digest, twinV, r, twinS) == vm.addr(signerKey), "twin must recover the signer");
        return abi.encodePacked(r, twinS, twinV);
    }

    function test_attested_erc1271AttesterSaysNo_refused() public {
        (SubmissionContext memory c, uint256[] memory inst) = _flaggedSubmission(MODEL_SAFE, 1);
        _expectRefused(
            MODEL_SAFE,
            c,
            _one(address(safe), hex"01"),
            inst,
            abi.encodeWithSelector(IGuardErrors.InvalidAttestation.selector, address(safe))
        );
    }

    /// @dev An attester removed by governance no longer counts.
    function test_attested_removedAttester_refused() public {
        (SubmissionContext memory c, uint256[] memory inst) = _flaggedSubmission(MODEL_2OF3, 1);
        vm.prank(governance);
        registry.updateInputPolicy(MODEL_2OF3, _attested(2, _list3(att[0], att[1], alice)));
        _expectRefused(
            MODEL_2OF3,
            c,
            _two(att[0], _sig(key[0], MODEL_2OF3, c, inst), att[2], _sig(key[2], MODEL_2OF3, c, inst)),
            inst,
            abi.encodeWithSelector(IGuardErrors.UnknownAttester.selector, MODEL_2OF3, att[2])
        );
    }

    // ---------------------------------------------------------------------------------------------
    // Submitters and Open
    // ---------------------------------------------------------------------------------------------

    function test_submitters_allowlisted_accepted_withoutAttestation() public {
        (SubmissionContext memory c, uint256[] memory inst) = _flaggedSubmission(MODEL_SUBMITTERS, 1);
        _accept(MODEL_SUBMITTERS, c, new Attestation[](0), inst);
        assertTrue(hookTarget.paused());
    }

    function test_submitters_stranger_refused() public {
        (SubmissionContext memory c, uint256[] memory inst) = _flaggedSubmission(MODEL_SUBMITTERS, 1);
        gen.expect(inst, proof);
        vm.expectRevert(
            abi.encodeWithSelector(IGuardErrors.SubmitterNotAllowed.selector, MODEL_SUBMITTERS, bob)
        );
        vm.prank(bob);
        guard.submit(MODEL_SUBMITTERS, c, new Attestation[](0), inst, proof);
    }

    function test_open_anyone_accepted() public {
        (SubmissionContext memory c, uint256[] memory inst) = _flaggedSubmission(MODEL_OPEN, 1);
        gen.expect(inst, proof);
        vm.prank(bob);
        guard.submit(MODEL_OPEN, c, new Attestation[](0), inst, proof);
        assertTrue(guard.isNonceUsed(MODEL_OPEN, 1));
    }

    // ---------------------------------------------------------------------------------------------
    // fuzz
    // ---------------------------------------------------------------------------------------------

    /// @dev Random signers (never registered) over random messages never pass, with or without one
    ///      real attester beside them: the threshold of 2 registered attesters is never reached.
    function testFuzz_randomSigners_neverPass(uint256 seed, uint8 count, bool withOneReal) public {
        count = uint8(bound(count, 0, 4));
        (SubmissionContext memory c, uint256[] memory inst) = _flaggedSubmission(MODEL_2OF3, 1);
        bytes32 digest = guard.attestationDigest(MODEL_2OF3, c, _inputCommitments(MODEL_2OF3, inst));
        Attestation[] memory a = _randomAttestations(seed, count, digest, withOneReal);
        if (withOneReal) a[count] = Attestation(att[0], _sig(key[0], MODEL_2OF3, c, inst));
        _sortBySigner(a);
        gen.expect(inst, proof);
        vm.prank(relayer);
        (bool ok,) = address(guard).call(abi.encodeCall(IGuard.submit, (MODEL_2OF3, c, a, inst, proof)));
        assertFalse(ok, "random signers passed the attestation policy");
        assertFalse(guard.isNonceUsed(MODEL_2OF3, 1));
        assertFalse(hookTarget.paused());
    }

    /// @dev `count` random keys, each signing either the real digest or a random message.
    function _randomAttestations(uint256 seed, uint256 count, bytes32 digest, bool spare)
        internal
        pure
        returns (Attestation[] memory a)
    {
        a = new Attestation[](count + (spare ? 1 : 0));
        for (uint256 i = 0; i < count; ++i) {
            uint256 k = bound(uint256(keccak256(abi.encode(seed, i))), 1, SECP256K1_N - 1);
            bytes32 message = i % 2 == 0 ? keccak256(abi.encode(seed, "message", i)) : digest;
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(k, message);
            a[i] = Attestation(vm.addr(k), abi.encodePacked(r, s, v));
        }
    }

    /// @dev Sorts by signer: the Guard refuses unsorted lists, so this gives random signers their best chance.
    function _sortBySigner(Attestation[] memory a) internal pure {
        for (uint256 i = 0; i < a.length; ++i) {
            for (uint256 j = i + 1; j < a.length; ++j) {
                if (a[j].signer < a[i].signer) (a[i], a[j]) = (a[j], a[i]);
            }
        }
    }
}
