// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @title ProtectedVault
/// @notice Example DAO treasury/vault protected by a zkguard CircuitBreaker: members deposit and
///         withdraw ETH; the breaker (PAUSER_ROLE) pauses it when a verified anomaly crosses the
///         policy; only governance (DEFAULT_ADMIN_ROLE) unpauses it. Withdrawals revert while paused.
contract ProtectedVault is AccessControl, Pausable, ReentrancyGuard {
    /// @notice Role allowed to pause (granted to the CircuitBreaker).
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @notice ETH balance of each depositor.
    mapping(address account => uint256) public balanceOf;

    /// @notice ETH was deposited.
    event Deposited(address indexed account, uint256 amount);
    /// @notice ETH was withdrawn.
    event Withdrawn(address indexed account, address indexed to, uint256 amount);

    /// @notice A zero amount or zero recipient.
    error InvalidAmount(uint256 amount);
    /// @notice The account's balance is too small.
    error InsufficientBalance(address account, uint256 balance, uint256 requested);
    /// @notice The ETH transfer to the recipient failed.
    error TransferFailed(address to, uint256 amount);
    /// @notice A zero address was given for governance.
    error InvalidGovernance(address governance);

    /// @notice Creates the vault.
    /// @param governance Holds DEFAULT_ADMIN_ROLE (unpause, role management), e.g. a timelock.
    /// @param breaker Granted PAUSER_ROLE (address(0): none yet; governance can grant it later).
    constructor(address governance, address breaker) {
        if (governance == address(0)) revert InvalidGovernance(governance);
        _grantRole(DEFAULT_ADMIN_ROLE, governance);
        if (breaker != address(0)) _grantRole(PAUSER_ROLE, breaker);
    }

    /// @notice Deposits the sent ETH for the caller (also while paused: it only adds funds).
    function deposit() external payable {
        if (msg.value == 0) revert InvalidAmount(0);
        balanceOf[msg.sender] += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice Withdraws `amount` of the caller's ETH to `to`; reverts while paused.
    /// @param to The recipient.
    /// @param amount The amount in wei (> 0).
    function withdraw(address payable to, uint256 amount) external whenNotPaused nonReentrant {
        if (amount == 0 || to == address(0)) revert InvalidAmount(amount);
        uint256 balance = balanceOf[msg.sender];
        if (balance < amount) revert InsufficientBalance(msg.sender, balance, amount);
        balanceOf[msg.sender] = balance - amount;
        emit Withdrawn(msg.sender, to, amount);
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed(to, amount);
    }

    /// @notice Pauses the vault (PAUSER_ROLE, i.e. the circuit breaker).
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Unpauses the vault (governance only).
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }
}
