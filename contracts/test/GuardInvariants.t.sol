// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {StdInvariant} from "forge-std/StdInvariant.sol";
import {Test} from "forge-std/Test.sol";

import {ZkGuardBase} from "./utils/ZkGuardBase.sol";
import {SubmissionContext} from "../src/interfaces/IGuard.sol";
import {ModelConfig, Policy} from "../src/interfaces/IModelRegistry.sol";
import {IGuardAction} from "../src/interfaces/IGuardAction.sol";
import {TargetKind} from "../src/interfaces/ICircuitBreaker.sol";

/// @notice Drives the deployed system with valid and invalid actions and tracks what must hold.
contract GuardHandler is ZkGuardBase {
    uint256 internal constant MODEL_PLAIN = 30;
    uint64 internal constant NONCES = 6;

    // ghost state
    mapping(uint256 modelId => mapping(uint64 nonce => uint256)) public acceptedCount;
    bool public vaultShouldBePaused;
    bool public hookShouldBePaused;
    uint256 public accepted;
    uint256 public unauthorizedSuccesses;

    struct Sent {
        uint256 modelId;
        SubmissionContext ctx;
        uint256[] instances;
    }

    Sent[] internal _sent;

    function setUpHandler() external {
        setUp();
        vm.prank(governance);
        registry.registerModel(
            MODEL_PLAIN,
            ModelConfig(COMMIT_DIRECT, DIGEST_DIRECT, directVerifier, DIRECT_BATCH, SCORE_BITS, SCALE_BITS),
            Policy(IGuardAction(address(0)), MAX_AGE, 1, false, 0),
            _inputs()
        );
    }

    function _try(uint256 modelId, SubmissionContext memory c, uint256[] memory inst)
        internal
        returns (bool ok)
    {
        gen.expect(inst, proof);
        try guard.submit(modelId, c, _attest(modelId, c, inst), inst, proof) {
            ok = true;
            ++accepted;
            ++acceptedCount[modelId][c.nonce];
            _sent.push();
            Sent storage s = _sent[_sent.length - 1];
            s.modelId = modelId;
            s.ctx = c;
            s.instances = inst;
        } catch {}
    }

    function _modelFor(uint256 seed) internal pure returns (uint256) {
        uint256 m = seed % 3;
        return m == 0 ? MODEL_PLAIN : (m == 1 ? MODEL_DIRECT : MODEL_HOOK);
    }

    /// @notice Submits a fresh proof for a model with a nonce from a small set (so nonces collide).
    function submit(uint256 modelSeed, uint64 nonce, uint8 flags, bool highScore) external {
        uint256 modelId = _modelFor(modelSeed);
        SubmissionContext memory c = _ctx(nonce % NONCES);
        int256 s = highScore ? SCORE_THRESHOLD : int256(0);
        uint256[] memory inst = _direct(
            modelId,
            c,
            _bools(flags & 1 != 0, flags & 2 != 0, flags & 4 != 0, flags & 8 != 0),
            _ints(s, 0, 0, 0)
        );
        if (_try(modelId, c, inst)) {
            uint256 flagged = (flags & 1) + ((flags >> 1) & 1) + ((flags >> 2) & 1) + ((flags >> 3) & 1);
            if (modelId == MODEL_DIRECT && (flagged >= MIN_FLAGGED || highScore)) vaultShouldBePaused = true;
            if (modelId == MODEL_HOOK && flagged >= 1) hookShouldBePaused = true;
        }
    }

    /// @notice Replays an accepted submission verbatim.
    function replay(uint256 index) external {
        if (_sent.length == 0) return;
        Sent memory s = _sent[index % _sent.length];
        _try(s.modelId, s.ctx, s.instances);
    }

    /// @notice Lets time pass (submissions stay fresh: issuedAt is taken at submit time).
    function warp(uint32 dt) external {
        vm.warp(block.timestamp + (dt % 2 days));
    }

    /// @notice Anyone but governance tries every way to unpause (or pause) the protected targets.
    function attackerUnpause(address who) external {
        if (who == governance || who == address(breaker)) return;
        vm.startPrank(who);
        try vault.unpause() {
            ++unauthorizedSuccesses;
        } catch {}
        try breaker.unpauseTarget(address(hookTarget)) {
            ++unauthorizedSuccesses;
        } catch {}
        try hookTarget.zkGuardUnpause() {
            ++unauthorizedSuccesses;
        } catch {}
        try vault.pause() {
            if (who != address(breaker)) ++unauthorizedSuccesses;
        } catch {}
        try breaker.setTarget(MODEL_DIRECT, address(0), TargetKind.None) {
            ++unauthorizedSuccesses;
        } catch {}
        try vault.grantRole(vault.DEFAULT_ADMIN_ROLE(), who) {
            ++unauthorizedSuccesses;
        } catch {}
        vm.stopPrank();
    }

    /// @notice Governance unpauses the vault (directly) or the hook target (through the breaker).
    function governanceUnpause(bool hook) external {
        vm.startPrank(governance);
        if (hook) {
            breaker.unpauseTarget(address(hookTarget));
            hookShouldBePaused = false;
        } else if (vault.paused()) {
            vault.unpause();
            vaultShouldBePaused = false;
        }
        vm.stopPrank();
    }

    function sentCount() external view returns (uint256) {
        return _sent.length;
    }

    function nonceUsed(uint256 modelId, uint64 nonce) external view returns (bool) {
        return guard.isNonceUsed(modelId, nonce);
    }

    function vaultPaused() external view returns (bool) {
        return vault.paused();
    }

    function hookPaused() external view returns (bool) {
        return hookTarget.paused();
    }
}

contract GuardInvariantTest is StdInvariant, Test {
    GuardHandler internal handler;

    function setUp() public {
        handler = new GuardHandler();
        handler.setUpHandler();
        bytes4[] memory selectors = new bytes4[](5);
        selectors[0] = GuardHandler.submit.selector;
        selectors[1] = GuardHandler.replay.selector;
        selectors[2] = GuardHandler.warp.selector;
        selectors[3] = GuardHandler.attackerUnpause.selector;
        selectors[4] = GuardHandler.governanceUnpause.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    /// @notice A nonce is never accepted twice for a model, and used nonces are exactly the accepted ones.
    function invariant_nonceNeverAcceptedTwice() public view {
        uint256[3] memory models = [uint256(30), 1, 3];
        for (uint256 m = 0; m < 3; ++m) {
            for (uint64 n = 0; n < 6; ++n) {
                uint256 count = handler.acceptedCount(models[m], n);
                assertLe(count, 1, "nonce accepted twice");
                assertEq(handler.nonceUsed(models[m], n), count == 1, "nonce state drift");
            }
        }
        assertEq(handler.accepted(), handler.sentCount());
    }

    /// @notice A paused target becomes unpaused only through governance, and nobody else pauses it.
    function invariant_pausedTargetsOnlyUnpausedByGovernance() public view {
        assertEq(handler.vaultPaused(), handler.vaultShouldBePaused(), "vault pause state");
        assertEq(handler.hookPaused(), handler.hookShouldBePaused(), "hook pause state");
        assertEq(handler.unauthorizedSuccesses(), 0, "unauthorised call succeeded");
    }
}
