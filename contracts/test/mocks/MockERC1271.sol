// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";

/// @title MockERC1271
/// @notice A contract attester (as a Safe would be) that approves exactly the digests its owner
///         approved, or nothing when `approveAll` is false and none was approved.
contract MockERC1271 is IERC1271 {
    mapping(bytes32 digest => bool) public approved;

    /// @notice Approves a digest (as a multisig's owners would).
    function approve(bytes32 digest) external {
        approved[digest] = true;
    }

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 digest, bytes memory) external view returns (bytes4) {
        return approved[digest] ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }
}
