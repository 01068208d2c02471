// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";

import {Guard} from "../src/Guard.sol";
import {ModelRegistry} from "../src/ModelRegistry.sol";
import {ZkGuardVerifier} from "../src/ZkGuardVerifier.sol";
import {InstanceLayout} from "../src/InstanceLayout.sol";
import {IGuardAction} from "../src/interfaces/IGuardAction.sol";
import {IZkGuardVerifierErrors} from "../src/interfaces/IZkGuardVerifier.sol";
import {ModelConfig, Policy} from "../src/interfaces/IModelRegistry.sol";
import {SubmissionContext} from "../src/interfaces/IGuard.sol";

/// @notice End to end with a REAL generated verifier and a real proof written by the Rust prover to
///         `contracts/fixtures/<name>.json`. Skipped until the fixture exists. Proposed format (keys
///         read one by one, so their order does not matter; big numbers as decimal or 0x strings):
///           verifierBytecode  0x creation code of the generated verifier
///           circuitDigest     bytes32
///           batchSize, hasScores, scoreScaleBits, proofCount, accumulatorLimbs
///           modelId, modelCommitment
///           chainId, guard    the chain id and Guard address the context was computed for
///           nonce, issuedAt, subjects (address[])
///           instances         uint256[] (all of them, limbs first), proof (0x bytes)
///           flaggedCount, sampleCount   the expected decoded totals
contract FixtureE2ETest is Test {
    function _load(string memory name) internal returns (string memory json) {
        string memory path = string.concat(vm.projectRoot(), "/contracts/fixtures/", name, ".json");
        if (!vm.exists(path)) {
            vm.skip(true, string.concat("no fixture ", name, ".json yet"));
            return "";
        }
        json = vm.readFile(path);
    }

    function _deployVerifier(string memory j) internal returns (ZkGuardVerifier) {
        bytes memory code = vm.parseJsonBytes(j, ".verifierBytecode");
        address generated;
        assembly {
            generated := create(0, add(code, 0x20), mload(code))
        }
        assertTrue(generated != address(0), "generated verifier did not deploy");
        return new ZkGuardVerifier(
            generated,
            vm.parseJsonBytes32(j, ".circuitDigest"),
            InstanceLayout.appInstanceCount(
                vm.parseJsonUint(j, ".batchSize"), vm.parseJsonBool(j, ".hasScores")
            ),
            vm.parseJsonUint(j, ".proofCount"),
            vm.parseJsonUint(j, ".accumulatorLimbs")
        );
    }

    function _deployGuard(string memory j, ZkGuardVerifier verifier) internal returns (Guard) {
        ModelRegistry registry = new ModelRegistry(address(this));
        registry.registerModel(
            vm.parseJsonUint(j, ".modelId"),
            ModelConfig(
                vm.parseJsonUint(j, ".modelCommitment"),
                verifier.circuitDigest(),
                verifier,
                uint16(vm.parseJsonUint(j, ".batchSize")),
                vm.parseJsonBool(j, ".hasScores"),
                uint8(vm.parseJsonUint(j, ".scoreScaleBits"))
            ),
            Policy(IGuardAction(address(0)), 1 hours, 1, false, 0)
        );
        // The proof's context names a chain and a Guard address: put the Guard there.
        vm.chainId(vm.parseJsonUint(j, ".chainId"));
        address guardAddr = vm.parseJsonAddress(j, ".guard");
        deployCodeTo("Guard.sol:Guard", abi.encode(registry), guardAddr);
        return Guard(guardAddr);
    }

    function _run(string memory name) internal {
        string memory j = _load(name);
        if (bytes(j).length == 0) return;
        ZkGuardVerifier verifier = _deployVerifier(j);
        Guard guard = _deployGuard(j, verifier);

        SubmissionContext memory c;
        c.nonce = uint64(vm.parseJsonUint(j, ".nonce"));
        c.issuedAt = uint64(vm.parseJsonUint(j, ".issuedAt"));
        c.subjects = vm.parseJsonAddressArray(j, ".subjects");
        vm.warp(c.issuedAt);

        uint256[] memory instances = vm.parseJsonUintArray(j, ".instances");
        bytes memory proof = vm.parseJsonBytes(j, ".proof");

        // the real verifier accepts the real proof ...
        verifier.verify(instances, proof);
        (uint256 flagged, uint256 samples) =
            guard.submit(vm.parseJsonUint(j, ".modelId"), c, instances, proof);
        assertEq(flagged, vm.parseJsonUint(j, ".flaggedCount"));
        assertEq(samples, vm.parseJsonUint(j, ".sampleCount"));

        // ... and rejects a tampered one (last proof byte flipped).
        proof[proof.length - 1] = bytes1(uint8(proof[proof.length - 1]) ^ 1);
        vm.expectRevert(IZkGuardVerifierErrors.ProofRejected.selector);
        verifier.verify(instances, proof);
    }

    function test_fixture_direct() public {
        _run("direct");
    }

    function test_fixture_batch() public {
        _run("batch");
    }
}
