// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";

import {ZkGuardKeyedVerifier} from "../src/ZkGuardKeyedVerifier.sol";
import {IZkGuardVerifierErrors} from "../src/interfaces/IZkGuardVerifier.sol";
import {MockSharedVerifier, MockVerifyingKey, OtherMockVerifyingKey} from "./mocks/MockSharedVerifier.sol";

/// @notice The keyed wrapper's own logic (key pinning, layout checks, how it reads the shared
///         verifier's answer) against a mock shared verifier; the real generated shared verifier is
///         tested with real proofs in the halo2-solidity crate.
contract ZkGuardKeyedVerifierTest is Test {
    uint256 internal constant R =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    bytes32 internal constant DIGEST = keccak256("digest");
    MockSharedVerifier internal shared;
    address internal vk;
    ZkGuardKeyedVerifier internal direct;

    function setUp() public {
        shared = new MockSharedVerifier();
        vk = address(new MockVerifyingKey());
        direct = new ZkGuardKeyedVerifier(address(shared), vk, vk.codehash, DIGEST, 6, 1, 0, 96);
    }

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
        assertEq(direct.sharedVerifier(), address(shared));
        assertEq(direct.verifyingKey(), vk);
        assertEq(direct.verifyingKeyHash(), vk.codehash);
        assertEq(direct.circuitDigest(), DIGEST);
        assertEq(direct.instanceCount(), 6);
        assertEq(direct.proofLength(), 96);
    }

    function test_verify_accepts() public {
        uint256[] memory inst = _instances(6);
        shared.expect(vk, _proof("p"), inst);
        direct.verify(inst, _proof("p"));
    }

    function test_verify_aggregatedLayout() public {
        ZkGuardKeyedVerifier agg =
            new ZkGuardKeyedVerifier(address(shared), vk, vk.codehash, DIGEST, 6, 3, 12, 96);
        uint256[] memory inst = _instances(30);
        shared.expect(vk, _proof("agg"), inst);
        agg.verify(inst, _proof("agg"));
    }

    function test_constructor_keyOfAnotherHash_reverts() public {
        address other = address(new OtherMockVerifyingKey());
        vm.expectRevert(
            abi.encodeWithSelector(
                ZkGuardKeyedVerifier.VerifyingKeyHashMismatch.selector, vk.codehash, other.codehash
            )
        );
        new ZkGuardKeyedVerifier(address(shared), other, vk.codehash, DIGEST, 6, 1, 0, 96);
    }

    function test_constructor_noCode_reverts() public {
        address eoa = makeAddr("eoa");
        vm.expectRevert(abi.encodeWithSelector(IZkGuardVerifierErrors.VerifierHasNoCode.selector, eoa));
        new ZkGuardKeyedVerifier(eoa, vk, vk.codehash, DIGEST, 6, 1, 0, 96);
        vm.expectRevert(abi.encodeWithSelector(IZkGuardVerifierErrors.VerifierHasNoCode.selector, eoa));
        new ZkGuardKeyedVerifier(address(shared), eoa, bytes32(0), DIGEST, 6, 1, 0, 96);
    }

    function test_constructor_badLayout_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IZkGuardVerifierErrors.InvalidVerifierLayout.selector, 5, 1));
        new ZkGuardKeyedVerifier(address(shared), vk, vk.codehash, DIGEST, 5, 1, 0, 96);
        vm.expectRevert(abi.encodeWithSelector(IZkGuardVerifierErrors.InvalidProofLength.selector, 95));
        new ZkGuardKeyedVerifier(address(shared), vk, vk.codehash, DIGEST, 6, 1, 0, 95);
    }

    function test_verify_anotherKeysProof_rejected() public {
        // the shared verifier is asked with this wrapper's key, never the caller's choice
        address other = address(new OtherMockVerifyingKey());
        uint256[] memory inst = _instances(6);
        shared.expect(other, _proof("p"), inst);
        vm.expectRevert(IZkGuardVerifierErrors.ProofRejected.selector);
        direct.verify(inst, _proof("p"));
    }

    function test_verify_verifierAnswers_onlyTrueAccepts() public {
        uint256[] memory inst = _instances(6);
        shared.expect(vk, _proof("p"), inst);
        MockSharedVerifier.Answer[4] memory refusals = [
            MockSharedVerifier.Answer.False,
            MockSharedVerifier.Answer.Revert,
            MockSharedVerifier.Answer.Empty,
            MockSharedVerifier.Answer.Two
        ];
        for (uint256 i = 0; i < refusals.length; ++i) {
            shared.setAnswer(refusals[i]);
            vm.expectRevert(IZkGuardVerifierErrors.ProofRejected.selector);
            direct.verify(inst, _proof("p"));
        }
    }

    function test_verify_layoutChecksBeforeTheVerifier() public {
        uint256[] memory inst = _instances(6);
        shared.expect(vk, _proof("p"), inst);
        vm.expectRevert(abi.encodeWithSelector(IZkGuardVerifierErrors.InstanceCountMismatch.selector, 6, 7));
        direct.verify(_instances(7), _proof("p"));
        vm.expectRevert(abi.encodeWithSelector(IZkGuardVerifierErrors.ProofLengthMismatch.selector, 96, 97));
        direct.verify(inst, bytes.concat(_proof("p"), hex"00"));
        vm.expectRevert(abi.encodeWithSelector(IZkGuardVerifierErrors.ProofLengthMismatch.selector, 96, 64));
        direct.verify(inst, abi.encodePacked(keccak256("a"), keccak256("b")));
        inst[2] = R;
        vm.expectRevert(abi.encodeWithSelector(IZkGuardVerifierErrors.InstanceOutOfField.selector, 2, R));
        direct.verify(inst, _proof("p"));
    }

    function testFuzz_verify_anyMutationRejected(uint256 index, uint256 value, bytes32 word) public {
        uint256[] memory inst = _instances(6);
        bytes memory proof = _proof("p");
        shared.expect(vk, proof, inst);
        index = bound(index, 0, 5);
        value = bound(value, 0, R - 1);
        vm.assume(value != inst[index]);
        uint256[] memory changed = _instances(6);
        changed[index] = value;
        vm.expectRevert(IZkGuardVerifierErrors.ProofRejected.selector);
        direct.verify(changed, proof);
        bytes memory other =
            abi.encodePacked(word, keccak256(abi.encode("p", 1)), keccak256(abi.encode("p", 2)));
        vm.assume(keccak256(other) != keccak256(proof));
        vm.expectRevert(IZkGuardVerifierErrors.ProofRejected.selector);
        direct.verify(inst, other);
    }
}
