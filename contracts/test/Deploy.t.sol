// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";

import {Deploy} from "../script/Deploy.s.sol";
import {InputMode, Model, ModelStatus} from "../src/interfaces/IModelRegistry.sol";
import {Attestation, IGuardErrors, SubmissionContext} from "../src/interfaces/IGuard.sol";
import {TargetKind} from "../src/interfaces/ICircuitBreaker.sol";
import {MockGeneratedVerifier} from "./mocks/MockGeneratedVerifier.sol";

contract DeployScriptTest is Test {
    Deploy internal script;
    address internal owner = makeAddr("owner");
    address internal attester;
    uint256 internal attesterKey;
    bytes internal constant PROOF = hex"000000000000000000000000000000000000000000000000000000000000beef";

    function setUp() public {
        script = new Deploy();
        (attester, attesterKey) = makeAddrAndKey("attester");
    }

    function _cfg(bytes memory code) internal view returns (Deploy.Config memory cfg) {
        cfg.owner = owner;
        cfg.verdictTtl = 1 days;
        cfg.tokenSupply = 1e24;
        cfg.verifierCreationCode = code;
        cfg.circuitDigest = keccak256("digest");
        cfg.modelId = 5;
        cfg.modelCommitment = 0x1234;
        cfg.batchSize = 4;
        cfg.scoreBits = 0;
        cfg.proofCount = 1;
        cfg.accumulatorLimbs = 0;
        cfg.proofLength = PROOF.length;
        cfg.inputPolicy.mode = InputMode.Attested;
        cfg.inputPolicy.threshold = 1;
        cfg.inputPolicy.members = new address[](1);
        cfg.inputPolicy.members[0] = attester;
        cfg.action = "breaker";
        cfg.maxAge = 1 hours;
        cfg.minFlagged = 1;
    }

    function test_deploy_withoutVerifier_wiresEverything() public {
        Deploy.Deployment memory d = script.deploy(_cfg(""), address(script));
        assertEq(address(d.guard.registry()), address(d.registry));
        assertEq(d.breaker.guard(), address(d.guard));
        assertEq(d.filter.guard(), address(d.guard));
        assertEq(d.filter.verdictTtl(), 1 days);
        assertTrue(d.vault.hasRole(d.vault.PAUSER_ROLE(), address(d.breaker)));
        assertTrue(d.vault.hasRole(d.vault.DEFAULT_ADMIN_ROLE(), owner));
        assertEq(address(d.token.filter()), address(d.filter));
        assertEq(d.token.balanceOf(owner), 1e24);
        assertEq(d.generatedVerifier, address(0));
        assertEq(uint8(d.registry.statusOf(5)), uint8(ModelStatus.None));
        // ownership is offered to the owner, who must accept
        assertEq(d.registry.pendingOwner(), owner);
        assertEq(d.breaker.pendingOwner(), owner);
        assertEq(d.filter.pendingOwner(), owner);
        vm.prank(owner);
        d.registry.acceptOwnership();
        assertEq(d.registry.owner(), owner);
    }

    function test_deploy_withVerifier_registersModelAndTrips() public {
        Deploy.Deployment memory d =
            script.deploy(_cfg(type(MockGeneratedVerifier).creationCode), address(script));
        Model memory m = d.registry.getModel(5);
        assertEq(uint8(m.status), uint8(ModelStatus.Active));
        assertEq(address(m.verifier), address(d.verifier));
        assertEq(d.verifier.generatedVerifier(), d.generatedVerifier);
        assertEq(d.verifier.instanceCount(), 6);
        assertEq(address(m.policy.action), address(d.breaker));
        assertEq(d.breaker.targetOf(5), address(d.vault));
        assertEq(uint8(d.breaker.kindOf(address(d.vault))), uint8(TargetKind.PausableRole));

        // one flagged sample crosses minFlagged = 1 and pauses the vault
        SubmissionContext memory c;
        c.nonce = 1;
        c.issuedAt = uint64(block.timestamp);
        uint256[] memory inst = new uint256[](6);
        inst[0] = 0x1234;
        inst[1] = 0x99;
        inst[2] = d.guard.computeContext(5, c);
        inst[3] = 4;
        inst[4] = 1; // flagged count
        inst[5] = 0x4; // decision word: sample 2
        MockGeneratedVerifier(d.generatedVerifier).expect(inst, PROOF);
        // the registered attester must vouch for the inputs
        Attestation[] memory none = new Attestation[](0);
        vm.expectRevert(abi.encodeWithSelector(IGuardErrors.UnattestedInputs.selector, 5, 0, 1));
        d.guard.submit(5, c, none, inst, PROOF);
        uint256[] memory commits = new uint256[](1);
        commits[0] = inst[1];
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(attesterKey, d.guard.attestationDigest(5, c, commits));
        Attestation[] memory a = new Attestation[](1);
        a[0] = Attestation(attester, abi.encodePacked(r, s, v));
        (uint256 flagged, uint256 samples) = d.guard.submit(5, c, a, inst, PROOF);
        assertEq(flagged, 1);
        assertEq(samples, 4);
        assertTrue(d.vault.paused());
    }

    function test_deploy_unknownAction_reverts() public {
        Deploy.Config memory cfg = _cfg(type(MockGeneratedVerifier).creationCode);
        cfg.action = "explode";
        vm.expectRevert(abi.encodeWithSelector(Deploy.UnknownAction.selector, "explode"));
        script.deploy(cfg, address(script));
    }

    function test_deploy_badCreationCode_reverts() public {
        vm.expectRevert(Deploy.VerifierDeploymentFailed.selector);
        script.deploy(_cfg(hex"60006000fd"), address(script)); // PUSH1 0 PUSH1 0 REVERT
    }

    function test_readCreationCode_fromForgeArtifact() public view {
        bytes memory code =
            script.readCreationCode("contracts/out/MockGeneratedVerifier.sol/MockGeneratedVerifier.json");
        assertGt(code.length, 0);
        assertEq(keccak256(code), keccak256(type(MockGeneratedVerifier).creationCode));
    }
}
