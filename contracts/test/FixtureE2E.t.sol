// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";

import {Guard} from "../src/Guard.sol";
import {CircuitBreaker} from "../src/CircuitBreaker.sol";
import {ModelRegistry} from "../src/ModelRegistry.sol";
import {ZkGuardVerifier} from "../src/ZkGuardVerifier.sol";
import {InstanceLayout} from "../src/InstanceLayout.sol";
import {IGuardAction} from "../src/interfaces/IGuardAction.sol";
import {IZkGuardVerifierErrors} from "../src/interfaces/IZkGuardVerifier.sol";
import {IGuardErrors} from "../src/interfaces/IGuard.sol";
import {TargetKind} from "../src/interfaces/ICircuitBreaker.sol";
import {MockBreakerTarget} from "./mocks/MockBreakerTarget.sol";
import {AttestationDigest} from "./utils/AttestationDigest.sol";
import {ModelConfig, Policy} from "../src/interfaces/IModelRegistry.sol";
import {Attestation, SubmissionContext} from "../src/interfaces/IGuard.sol";
import {InputMode, InputPolicy} from "../src/interfaces/IModelRegistry.sol";

/// @notice End to end with a REAL generated verifier and a real proof written by the Rust prover to
///         `contracts/fixtures/<name>.json`. Skipped until the fixture exists. Proposed format (keys
///         read one by one, so their order does not matter; big numbers as decimal or 0x strings):
///           verifierBytecode  0x creation code of the generated verifier
///           circuitDigest     bytes32
///           batchSize, scoreBits, scoreScaleBits, proofCount, accumulatorLimbs
///           modelId, modelCommitment
///           chainId, guard    the chain id and Guard address the context was computed for
///           nonce, issuedAt, subjects (address[])
///           instances         uint256[] (all of them, limbs first), proof (0x bytes)
///           flaggedCount, sampleCount   the expected decoded totals
///         The Rust prover writes them (prover/src/pipeline/fixture.rs documents every key); the policy
///         here trips a circuit breaker on one flagged sample, so a valid proof must pause the
///         protected target and a tampered one must not.
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
                vm.parseJsonUint(j, ".batchSize"), vm.parseJsonUint(j, ".scoreBits")
            ),
            vm.parseJsonUint(j, ".proofCount"),
            vm.parseJsonUint(j, ".accumulatorLimbs"),
            vm.parseJsonBytes(j, ".proof").length
        );
    }

    address internal attester;
    uint256 internal attesterKey;
    uint256 internal proofCount;
    uint256 internal appCount;
    uint256 internal limbs;

    /// @dev The data provider is the model's only attester (threshold 1).
    function _inputs() internal returns (InputPolicy memory p) {
        (attester, attesterKey) = makeAddrAndKey("fixture-attester");
        p.mode = InputMode.Attested;
        p.threshold = 1;
        p.members = new address[](1);
        p.members[0] = attester;
    }

    /// @dev A signature by `key` over the submission's attestation digest.
    function _attestBy(address signer, uint256 key, SubmissionContext memory c, uint256[] memory instances)
        internal
        view
        returns (Attestation[] memory a)
    {
        uint256[] memory commits = new uint256[](proofCount);
        for (uint256 k = 0; k < proofCount; ++k) {
            commits[k] = instances[limbs + k * appCount + InstanceLayout.INPUT_COMMITMENT_OFFSET];
        }
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(key, AttestationDigest.digest(address(guard), modelId, c, commits));
        a = new Attestation[](1);
        a[0] = Attestation(signer, abi.encodePacked(r, s, v));
    }

    function _attest(uint256, SubmissionContext memory c, uint256[] memory instances)
        internal
        view
        returns (Attestation[] memory)
    {
        return _attestBy(attester, attesterKey, c, instances);
    }

    ZkGuardVerifier internal verifier;
    Guard internal guard;
    CircuitBreaker internal breaker;
    MockBreakerTarget internal target;
    uint256 internal modelId;

    function _deployGuard(string memory j) internal {
        ModelRegistry registry = new ModelRegistry(address(this));
        // The proof's context names a chain and a Guard address: put the Guard there.
        vm.chainId(vm.parseJsonUint(j, ".chainId"));
        address guardAddr = vm.parseJsonAddress(j, ".guard");
        deployCodeTo("Guard.sol:Guard", abi.encode(registry), guardAddr);
        guard = Guard(guardAddr);
        breaker = new CircuitBreaker(guardAddr, address(this));
        target = new MockBreakerTarget(address(breaker));
        modelId = vm.parseJsonUint(j, ".modelId");
        breaker.setTarget(modelId, address(target), TargetKind.Hook);
        proofCount = verifier.proofCount();
        appCount = verifier.appInstanceCount();
        limbs = verifier.accumulatorLimbs();
        registry.registerModel(
            modelId,
            ModelConfig(
                vm.parseJsonUint(j, ".modelCommitment"),
                verifier.circuitDigest(),
                verifier,
                uint16(vm.parseJsonUint(j, ".batchSize")),
                uint8(vm.parseJsonUint(j, ".scoreBits")),
                uint8(vm.parseJsonUint(j, ".scoreScaleBits"))
            ),
            Policy(breaker, 1 hours, 1, false, 0),
            _inputs()
        );
    }

    function _context(string memory j) internal returns (SubmissionContext memory c) {
        c.nonce = uint64(vm.parseJsonUint(j, ".nonce"));
        c.issuedAt = uint64(vm.parseJsonUint(j, ".issuedAt"));
        c.subjects = vm.parseJsonAddressArray(j, ".subjects");
        vm.warp(c.issuedAt);
        assertEq(guard.computeContext(modelId, c), vm.parseJsonUint(j, ".context"), "context");
    }

    /// @dev A tampered proof (last byte flipped) is rejected by the real verifier, through the
    ///      Guard too, and trips nothing. A failing generated verifier burns the gas it is given, so
    ///      these calls get a bounded amount (plenty for a valid verification).
    function _rejectTampered(SubmissionContext memory c, uint256[] memory instances, bytes memory proof)
        internal
    {
        bytes memory tampered = bytes.concat(proof);
        tampered[tampered.length - 1] = bytes1(uint8(tampered[tampered.length - 1]) ^ 1);
        vm.expectRevert(IZkGuardVerifierErrors.ProofRejected.selector);
        verifier.verify{gas: 5_000_000}(instances, tampered);
        Attestation[] memory attested = _attest(modelId, c, instances);
        vm.expectRevert(IZkGuardVerifierErrors.ProofRejected.selector);
        guard.submit{gas: 10_000_000}(modelId, c, attested, instances, tampered);
        assertFalse(target.paused(), "a tampered proof must not pause the target");
        assertFalse(guard.isNonceUsed(modelId, c.nonce));
    }

    /// @dev The generated verifier reduces instances mod R; the wrapper refuses a non-canonical one.
    function _rejectNonCanonical(uint256[] memory instances, bytes memory proof) internal {
        uint256 last = instances.length - 1;
        uint256[] memory nonCanonical = new uint256[](instances.length);
        for (uint256 i = 0; i < instances.length; ++i) {
            nonCanonical[i] = instances[i];
        }
        nonCanonical[last] = instances[last] + InstanceLayout.FIELD_MODULUS;
        vm.expectRevert(
            abi.encodeWithSelector(
                IZkGuardVerifierErrors.InstanceOutOfField.selector, last, nonCanonical[last]
            )
        );
        verifier.verify(nonCanonical, proof);
    }

    /// @dev The wrapper refuses a proof with bytes appended or cut (the generated verifier alone
    ///      ignores trailing calldata), through the Guard too.
    function _rejectWrongLength(SubmissionContext memory c, uint256[] memory instances, bytes memory proof)
        internal
    {
        bytes memory padded = bytes.concat(proof, new bytes(40));
        vm.expectRevert(
            abi.encodeWithSelector(
                IZkGuardVerifierErrors.ProofLengthMismatch.selector, proof.length, padded.length
            )
        );
        verifier.verify(instances, padded);
        vm.expectRevert(
            abi.encodeWithSelector(
                IZkGuardVerifierErrors.ProofLengthMismatch.selector, proof.length, padded.length
            )
        );
        guard.submit(modelId, c, _attest(modelId, c, instances), instances, padded);
        bytes memory truncated = new bytes(proof.length - 32);
        for (uint256 i = 0; i < truncated.length; ++i) {
            truncated[i] = proof[i];
        }
        vm.expectRevert(
            abi.encodeWithSelector(
                IZkGuardVerifierErrors.ProofLengthMismatch.selector, proof.length, truncated.length
            )
        );
        verifier.verify(instances, truncated);
    }

    /// @dev A real proof over inputs no attester vouched for is refused before it is verified:
    ///      without attestations, and signed by someone who holds the model but is no attester.
    function _rejectUnattested(SubmissionContext memory c, uint256[] memory instances, bytes memory proof)
        internal
    {
        vm.expectRevert(abi.encodeWithSelector(IGuardErrors.UnattestedInputs.selector, modelId, 0, 1));
        guard.submit(modelId, c, new Attestation[](0), instances, proof);
        (address forger, uint256 forgerKey) = makeAddrAndKey("model-holder");
        vm.expectRevert(abi.encodeWithSelector(IGuardErrors.UnknownAttester.selector, modelId, forger));
        guard.submit(modelId, c, _attestBy(forger, forgerKey, c, instances), instances, proof);
        assertFalse(target.paused(), "unattested inputs must not pause the target");
    }

    function _run(string memory name) internal {
        string memory j = _load(name);
        if (bytes(j).length == 0) return;
        verifier = _deployVerifier(j);
        _deployGuard(j);
        assertGt(
            vm.parseJsonUint(j, ".flaggedCount"), 0, "the fixture must flag a sample to trip the breaker"
        );
        SubmissionContext memory c = _context(j);
        uint256[] memory instances = vm.parseJsonUintArray(j, ".instances");
        bytes memory proof = vm.parseJsonBytes(j, ".proof");

        _rejectTampered(c, instances, proof);
        _rejectNonCanonical(instances, proof);
        _rejectWrongLength(c, instances, proof);
        _rejectUnattested(c, instances, proof);

        // The real verifier accepts the real proof, the Guard decodes it and the breaker trips ...
        verifier.verify(instances, proof);
        (uint256 flagged, uint256 samples) =
            guard.submit(modelId, c, _attest(modelId, c, instances), instances, proof);
        assertEq(flagged, vm.parseJsonUint(j, ".flaggedCount"));
        assertEq(samples, vm.parseJsonUint(j, ".sampleCount"));
        assertTrue(target.paused(), "a verified anomaly must pause the target");
        assertEq(breaker.tripCount(), 1);

        // ... once: the nonce is spent.
        vm.expectRevert(abi.encodeWithSelector(IGuardErrors.NonceAlreadyUsed.selector, modelId, c.nonce));
        guard.submit(modelId, c, _attest(modelId, c, instances), instances, proof);
    }

    function test_fixture_direct() public {
        _run("direct");
    }

    function test_fixture_batch() public {
        _run("batch");
    }
}
