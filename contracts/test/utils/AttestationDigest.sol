// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {SubmissionContext} from "../../src/interfaces/IGuard.sol";

/// @title AttestationDigest
/// @notice The EIP-712 digest of an `InputAttestation`, written out here independently of the Guard
///         (whose {IGuard.attestationDigest} the tests compare with it) and without external calls,
///         so a test can sign right before `vm.expectRevert`.
library AttestationDigest {
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant TYPEHASH = keccak256(
        "InputAttestation(uint256 modelId,uint64 nonce,uint64 issuedAt,address[] subjects,uint256[] inputCommitments)"
    );

    /// @notice The digest attesters sign for a submission to `guard` on the current chain.
    function digest(address guard, uint256 modelId, SubmissionContext memory c, uint256[] memory commits)
        internal
        view
        returns (bytes32)
    {
        bytes32 domain = keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256("zkguard"), keccak256("1"), block.chainid, guard)
        );
        bytes32 structHash = keccak256(
            abi.encode(
                TYPEHASH,
                modelId,
                c.nonce,
                c.issuedAt,
                keccak256(abi.encodePacked(c.subjects)),
                keccak256(abi.encodePacked(commits))
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }
}
