// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

import {IVerdictFilter} from "../interfaces/IVerdictFilter.sol";

/// @title FilteredToken
/// @notice Example ERC20 that refuses transfers from or to subjects the zkguard VerdictFilter does
///         not allow (an unexpired flagged verdict). Minting and burning check the non-zero side.
contract FilteredToken is ERC20 {
    /// @notice The verdict filter consulted on every transfer.
    IVerdictFilter public immutable filter;

    /// @notice The subject is flagged by the filter.
    /// @param subject The refused sender or recipient.
    error SubjectNotAllowed(address subject);
    /// @notice The filter address holds no code.
    error FilterHasNoCode(address filter);

    /// @notice Creates the token and mints `initialSupply` to `holder`.
    /// @param filter_ The verdict filter.
    /// @param holder Receives the initial supply.
    /// @param initialSupply Initial supply (18 decimals).
    constructor(IVerdictFilter filter_, address holder, uint256 initialSupply)
        ERC20("zkGuard Filtered Token", "ZKGF")
    {
        if (address(filter_).code.length == 0) revert FilterHasNoCode(address(filter_));
        filter = filter_;
        _mint(holder, initialSupply);
    }

    /// @dev Refuses any balance change touching a subject the filter does not allow.
    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && !filter.isAllowed(from)) revert SubjectNotAllowed(from);
        if (to != address(0) && !filter.isAllowed(to)) revert SubjectNotAllowed(to);
        super._update(from, to, value);
    }
}
