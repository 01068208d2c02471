// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";

import {ZkGuardVerifier} from "../src/ZkGuardVerifier.sol";
import {IZkGuardVerifierErrors} from "../src/interfaces/IZkGuardVerifier.sol";
import {MockGeneratedVerifier} from "./mocks/MockGeneratedVerifier.sol";

contract ZkGuardVerifierTest is Test {
    uint256 internal constant R =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    bytes32 internal constant DIGEST = keccak256("digest");
    MockGeneratedVerifier internal gen;
    ZkGuardVerifier internal direct;
    ZkGuardVerifier internal agg;

    function setUp() public {
        gen = new MockGeneratedVerifier();
        direct = new ZkGuardVerifier(address(gen), DIGEST, 6, 1, 0, 96);
        agg = new ZkGuardVerifier(address(gen), DIGEST, 6, 3, 12, 96);
    }

    /// @dev A 96-byte stand-in proof (the wrappers here expect exactly 96 bytes).
    function _proof(string memory seed) internal pure returns (bytes memory) {
        return abi.encodePacked(
            keccak256(bytes(seed)), keccak256(abi.encode(seed, 1)), keccak256(abi.encode(seed, 2))
        );
    }

    function _instances(uint256 n) internal pure returns (uint256[] memory a) {
        a = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            a[i] = uint256(keccak256(abi.encode(i))) % R;
        }
    }

    function test_getters() public view {
        assertEq(direct.generatedVerifier(), address(gen));
        assertEq(direct.circuitDigest(), DIGEST);
        assertEq(direct.instanceCount(), 6);
        assertEq(direct.appInstanceCount(), 6);
        assertEq(direct.proofCount(), 1);
        assertEq(direct.accumulatorLimbs(), 0);
        assertEq(agg.instanceCount(), 12 + 3 * 6);
        assertEq(agg.proofCount(), 3);
        assertEq(agg.accumulatorLimbs(), 12);
    }

    function test_constructor_noCode_reverts() public {
        address eoa = makeAddr("eoa");
        vm.expectRevert(abi.encodeWithSelector(IZkGuardVerifierErrors.VerifierHasNoCode.selector, eoa));
        new ZkGuardVerifier(eoa, DIGEST, 6, 1, 0, 96);
    }

    function test_constructor_zeroProofs_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IZkGuardVerifierErrors.InvalidVerifierLayout.selector, 6, 0));
        new ZkGuardVerifier(address(gen), DIGEST, 6, 0, 0, 96);
    }

    function test_constructor_headerOnly_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IZkGuardVerifierErrors.InvalidVerifierLayout.selector, 5, 1));
        new ZkGuardVerifier(address(gen), DIGEST, 5, 1, 0, 96);
    }

    function test_verify_passesExactCalldata() public {
        uint256[] memory inst = _instances(6);
        bytes memory proof = _proof("exact");
        // independent construction of `instances (32-byte BE each) ‖ proof`
        bytes memory raw;
        for (uint256 i = 0; i < inst.length; ++i) {
            raw = bytes.concat(raw, bytes32(inst[i]));
        }
        raw = bytes.concat(raw, proof);
        assertEq(raw.length, 6 * 32 + 96);
        gen.setExpectedHash(keccak256(raw));
        direct.verify(inst, proof);
    }

    function test_verify_aggregated() public {
        uint256[] memory inst = _instances(30);
        gen.expect(inst, _proof("agg"));
        agg.verify(inst, _proof("agg"));
    }

    function test_verify_acceptsRMinusOne() public {
        uint256[] memory inst = _instances(6);
        inst[4] = R - 1;
        gen.expect(inst, _proof("0"));
        direct.verify(inst, _proof("0"));
    }

    function test_verify_wrongCount_reverts() public {
        uint256[] memory inst = _instances(7);
        gen.setAcceptAll(true);
        vm.expectRevert(abi.encodeWithSelector(IZkGuardVerifierErrors.InstanceCountMismatch.selector, 6, 7));
        direct.verify(inst, _proof("0"));
        vm.expectRevert(abi.encodeWithSelector(IZkGuardVerifierErrors.InstanceCountMismatch.selector, 30, 7));
        agg.verify(inst, _proof("0"));
    }

    function test_verify_instanceNotInField_reverts() public {
        uint256[] memory inst = _instances(6);
        inst[3] = R;
        gen.setAcceptAll(true);
        vm.expectRevert(abi.encodeWithSelector(IZkGuardVerifierErrors.InstanceOutOfField.selector, 3, R));
        direct.verify(inst, _proof("0"));
    }

    function test_verify_rejected_reverts() public {
        uint256[] memory inst = _instances(6);
        gen.expect(inst, _proof("0"));
        vm.expectRevert(IZkGuardVerifierErrors.ProofRejected.selector);
        direct.verify(inst, _proof("1"));
    }

    function testFuzz_verify_anyMutationRejected(uint256 index, uint256 value, bytes calldata otherProof)
        public
    {
        uint256[] memory inst = _instances(6);
        bytes memory proof = _proof("c0ffee");
        gen.expect(inst, proof);
        index = bound(index, 0, 5);
        value = bound(value, 0, R - 1);
        vm.assume(value != inst[index]);
        uint256[] memory mutated = _instances(6);
        mutated[index] = value;
        vm.expectRevert(IZkGuardVerifierErrors.ProofRejected.selector);
        direct.verify(mutated, proof);
        if (keccak256(otherProof) != keccak256(proof)) {
            if (otherProof.length == proof.length) {
                vm.expectRevert(IZkGuardVerifierErrors.ProofRejected.selector);
            } else {
                vm.expectRevert(
                    abi.encodeWithSelector(
                        IZkGuardVerifierErrors.ProofLengthMismatch.selector, proof.length, otherProof.length
                    )
                );
            }
            direct.verify(inst, otherProof);
        }
    }

    function test_proofLength_getter() public view {
        assertEq(direct.proofLength(), 96);
        assertEq(agg.proofLength(), 96);
    }

    function test_constructor_badProofLength_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IZkGuardVerifierErrors.InvalidProofLength.selector, 0));
        new ZkGuardVerifier(address(gen), DIGEST, 6, 1, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(IZkGuardVerifierErrors.InvalidProofLength.selector, 100));
        new ZkGuardVerifier(address(gen), DIGEST, 6, 1, 0, 100);
    }

    /// @dev The generated verifier ignores calldata past the proof; the wrapper does not: a valid
    ///      proof with junk appended, or cut short, is refused before the verifier runs.
    function test_verify_paddedOrTruncatedProof_reverts() public {
        uint256[] memory inst = _instances(6);
        bytes memory proof = _proof("valid");
        gen.setAcceptAll(true);
        direct.verify(inst, proof);
        bytes memory padded = bytes.concat(proof, new bytes(40));
        vm.expectRevert(
            abi.encodeWithSelector(IZkGuardVerifierErrors.ProofLengthMismatch.selector, 96, padded.length)
        );
        direct.verify(inst, padded);
        vm.expectRevert(abi.encodeWithSelector(IZkGuardVerifierErrors.ProofLengthMismatch.selector, 96, 64));
        direct.verify(inst, bytes.concat(bytes32(proof.length), bytes32(0)));
    }
}
