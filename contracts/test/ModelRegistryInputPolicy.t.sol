// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

import {ZkGuardBase} from "./utils/ZkGuardBase.sol";
import {
    IModelRegistryErrors,
    IModelRegistryEvents,
    InputMode,
    InputPolicy,
    Model,
    ModelConfig,
    Policy
} from "../src/interfaces/IModelRegistry.sol";
import {IGuardAction} from "../src/interfaces/IGuardAction.sol";
import {RevertingAction} from "./mocks/MockActions.sol";

/// @notice The registry's input policies: owner-only changes with events, shapes that fit their
///         mode, members replaced as a whole, and never `Open` for an action that can pause.
contract ModelRegistryInputPolicyTest is ZkGuardBase {
    uint256 internal constant NEW_ID = 90;

    function _cfg() internal view returns (ModelConfig memory) {
        return ModelConfig(COMMIT_DIRECT, DIGEST_DIRECT, directVerifier, DIRECT_BATCH, SCORE_BITS, SCALE_BITS);
    }

    function _policy(IGuardAction action) internal pure returns (Policy memory) {
        return Policy(action, MAX_AGE, 1, false, 0);
    }

    function _pol(InputMode mode, uint8 threshold, address a, address b)
        internal
        pure
        returns (InputPolicy memory p)
    {
        uint256 n = (a == address(0) ? 0 : 1) + (b == address(0) ? 0 : 1);
        p = InputPolicy(mode, threshold, new address[](n));
        if (n > 0) p.members[0] = a;
        if (n > 1) p.members[1] = b;
    }

    function _register(IGuardAction action, InputPolicy memory p) internal {
        vm.prank(governance);
        registry.registerModel(NEW_ID, _cfg(), _policy(action), p);
    }

    function test_register_emitsInputPolicyAndStoresIt() public {
        InputPolicy memory p = _pol(InputMode.Attested, 2, alice, bob);
        vm.expectEmit(true, false, false, true, address(registry));
        emit IModelRegistryEvents.InputPolicyUpdated(NEW_ID, InputMode.Attested, 2, p.members);
        _register(breaker, p);
        Model memory m = registry.getModel(NEW_ID);
        assertEq(uint8(m.inputMode), uint8(InputMode.Attested));
        assertEq(m.attestThreshold, 2);
        assertTrue(registry.isInputMember(NEW_ID, alice));
        assertTrue(registry.isInputMember(NEW_ID, bob));
        assertFalse(registry.isInputMember(NEW_ID, carol));
        assertEq(registry.inputMembers(NEW_ID).length, 2);
    }

    function test_update_replacesEveryMember() public {
        _register(breaker, _pol(InputMode.Attested, 1, alice, bob));
        InputPolicy memory p = _pol(InputMode.Submitters, 0, carol, address(0));
        vm.expectEmit(true, false, false, true, address(registry));
        emit IModelRegistryEvents.InputPolicyUpdated(NEW_ID, InputMode.Submitters, 0, p.members);
        vm.prank(governance);
        registry.updateInputPolicy(NEW_ID, p);
        assertFalse(registry.isInputMember(NEW_ID, alice));
        assertFalse(registry.isInputMember(NEW_ID, bob));
        assertTrue(registry.isInputMember(NEW_ID, carol));
        assertEq(uint8(registry.getModel(NEW_ID).inputMode), uint8(InputMode.Submitters));
        // members of one model are not members of another
        assertFalse(registry.isInputMember(MODEL_DIRECT, carol));
    }

    function test_update_onlyOwner() public {
        _register(breaker, _pol(InputMode.Attested, 1, alice, address(0)));
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, bob));
        vm.prank(bob);
        registry.updateInputPolicy(NEW_ID, _pol(InputMode.Attested, 1, bob, address(0)));
        assertFalse(registry.isInputMember(NEW_ID, bob));
    }

    function test_update_frozenModel_refused() public {
        _register(breaker, _pol(InputMode.Attested, 1, alice, address(0)));
        vm.startPrank(governance);
        registry.freezeModel(NEW_ID);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistryErrors.ModelIsFrozen.selector, NEW_ID));
        registry.updateInputPolicy(NEW_ID, _pol(InputMode.Attested, 1, bob, address(0)));
        vm.stopPrank();
    }

    function test_open_refusedForBreaker() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelRegistryErrors.OpenInputsForPausingAction.selector, NEW_ID, address(breaker)
            )
        );
        _register(breaker, _pol(InputMode.Open, 0, address(0), address(0)));
    }

    /// @dev An action that does not answer `canPause` is treated as one that can.
    function test_open_refusedForActionThatDoesNotSay() public {
        RevertingAction silent = new RevertingAction();
        vm.etch(address(silent), hex"60006000fd"); // always reverts, also on canPause()
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelRegistryErrors.OpenInputsForPausingAction.selector, NEW_ID, address(silent)
            )
        );
        _register(IGuardAction(address(silent)), _pol(InputMode.Open, 0, address(0), address(0)));
    }

    function test_open_acceptedForFilterAndNoAction() public {
        _register(filter, _pol(InputMode.Open, 0, address(0), address(0)));
        assertEq(uint8(registry.getModel(NEW_ID).inputMode), uint8(InputMode.Open));
        vm.prank(governance);
        registry.registerModel(
            NEW_ID + 1,
            _cfg(),
            _policy(IGuardAction(address(0))),
            _pol(InputMode.Open, 0, address(0), address(0))
        );
    }

    /// @dev An Open model cannot be given a pausing action later, nor a pausing model made Open.
    function test_open_cannotBeSwitchedToBreakerLater() public {
        _register(IGuardAction(address(0)), _pol(InputMode.Open, 0, address(0), address(0)));
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelRegistryErrors.OpenInputsForPausingAction.selector, NEW_ID, address(breaker)
            )
        );
        vm.prank(governance);
        registry.updatePolicy(NEW_ID, _policy(breaker));

        vm.expectRevert(
            abi.encodeWithSelector(
                IModelRegistryErrors.OpenInputsForPausingAction.selector, MODEL_DIRECT, address(breaker)
            )
        );
        vm.prank(governance);
        registry.updateInputPolicy(MODEL_DIRECT, _pol(InputMode.Open, 0, address(0), address(0)));
    }

    function test_shapes_refused() public {
        _refuseShape(_pol(InputMode.Attested, 0, alice, address(0)), InputMode.Attested, 0, 1);
        _refuseShape(_pol(InputMode.Attested, 2, alice, address(0)), InputMode.Attested, 2, 1);
        _refuseShape(_pol(InputMode.Attested, 1, address(0), address(0)), InputMode.Attested, 1, 0);
        _refuseShape(_pol(InputMode.Submitters, 0, address(0), address(0)), InputMode.Submitters, 0, 0);
        _refuseShape(_pol(InputMode.Submitters, 1, alice, address(0)), InputMode.Submitters, 1, 1);
        _refuseShape(_pol(InputMode.Open, 0, alice, address(0)), InputMode.Open, 0, 1);
    }

    function _refuseShape(InputPolicy memory p, InputMode mode, uint256 threshold, uint256 n) internal {
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelRegistryErrors.InvalidInputPolicy.selector, NEW_ID, mode, threshold, n
            )
        );
        _register(IGuardAction(address(0)), p);
    }

    function test_members_zeroOrDuplicate_refused() public {
        InputPolicy memory p = _pol(InputMode.Attested, 1, alice, alice);
        vm.expectRevert(
            abi.encodeWithSelector(IModelRegistryErrors.InvalidInputMember.selector, NEW_ID, alice)
        );
        _register(breaker, p);
        p = _pol(InputMode.Attested, 1, alice, bob);
        p.members[1] = address(0);
        vm.expectRevert(
            abi.encodeWithSelector(IModelRegistryErrors.InvalidInputMember.selector, NEW_ID, address(0))
        );
        _register(breaker, p);
    }
}
