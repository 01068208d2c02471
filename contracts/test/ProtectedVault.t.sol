// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {ProtectedVault} from "../src/examples/ProtectedVault.sol";

contract RejectsEth {}

contract ProtectedVaultTest is Test {
    address internal governance = makeAddr("governance");
    address internal pauser = makeAddr("pauser");
    address internal alice = makeAddr("alice");
    ProtectedVault internal vault;

    function setUp() public {
        vault = new ProtectedVault(governance, pauser);
        vm.deal(alice, 10 ether);
        vm.prank(alice);
        vault.deposit{value: 4 ether}();
    }

    function test_constructor_roles() public {
        assertTrue(vault.hasRole(vault.DEFAULT_ADMIN_ROLE(), governance));
        assertTrue(vault.hasRole(vault.PAUSER_ROLE(), pauser));
        assertFalse(vault.hasRole(vault.PAUSER_ROLE(), governance));
        vm.expectRevert(abi.encodeWithSelector(ProtectedVault.InvalidGovernance.selector, address(0)));
        new ProtectedVault(address(0), pauser);
    }

    function test_deposit_andEvent() public {
        vm.expectEmit(true, false, false, true, address(vault));
        emit ProtectedVault.Deposited(alice, 1 ether);
        vm.prank(alice);
        vault.deposit{value: 1 ether}();
        assertEq(vault.balanceOf(alice), 5 ether);
        assertEq(address(vault).balance, 5 ether);
    }

    function test_deposit_zero_reverts() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ProtectedVault.InvalidAmount.selector, 0));
        vault.deposit();
    }

    function test_withdraw() public {
        address payable to = payable(makeAddr("to"));
        vm.expectEmit(true, true, false, true, address(vault));
        emit ProtectedVault.Withdrawn(alice, to, 1 ether);
        vm.prank(alice);
        vault.withdraw(to, 1 ether);
        assertEq(to.balance, 1 ether);
        assertEq(vault.balanceOf(alice), 3 ether);
    }

    function test_withdraw_invalid_reverts() public {
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(ProtectedVault.InvalidAmount.selector, 0));
        vault.withdraw(payable(alice), 0);
        vm.expectRevert(abi.encodeWithSelector(ProtectedVault.InvalidAmount.selector, 1));
        vault.withdraw(payable(address(0)), 1);
        vm.expectRevert(
            abi.encodeWithSelector(ProtectedVault.InsufficientBalance.selector, alice, 4 ether, 5 ether)
        );
        vault.withdraw(payable(alice), 5 ether);
        address sink = address(new RejectsEth());
        vm.expectRevert(abi.encodeWithSelector(ProtectedVault.TransferFailed.selector, sink, 1 ether));
        vault.withdraw(payable(sink), 1 ether);
        vm.stopPrank();
    }

    function test_pause_onlyPauser_unpause_onlyGovernance() public {
        bytes32 pauserRole = vault.PAUSER_ROLE();
        bytes32 adminRole = vault.DEFAULT_ADMIN_ROLE();
        vm.prank(governance);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, governance, pauserRole
            )
        );
        vault.pause();

        vm.prank(pauser);
        vault.pause();
        assertTrue(vault.paused());

        vm.prank(alice);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vault.withdraw(payable(alice), 1 ether);
        // deposits still work while paused
        vm.prank(alice);
        vault.deposit{value: 1 ether}();

        vm.prank(pauser);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, pauser, adminRole
            )
        );
        vault.unpause();

        vm.prank(governance);
        vault.unpause();
        vm.prank(alice);
        vault.withdraw(payable(alice), 1 ether);

        vm.prank(governance);
        vm.expectRevert(Pausable.ExpectedPause.selector);
        vault.unpause();
    }
}
