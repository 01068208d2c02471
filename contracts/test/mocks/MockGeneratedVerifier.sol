// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title MockGeneratedVerifier
/// @notice Test stand-in for a generated halo2 verifier: its fallback takes the raw calldata
///         `instances ‖ proof`, returns empty when keccak256(calldata) equals the configured hash
///         (or when accept-all is on) and reverts with empty data otherwise, like the real one.
contract MockGeneratedVerifier {
    /// @notice keccak256 of the only calldata accepted.
    bytes32 public expectedHash;
    /// @notice Accept any calldata.
    bool public acceptAll;

    /// @notice Accept only calldata hashing to `hash`.
    /// @param hash keccak256 of the accepted calldata.
    function setExpectedHash(bytes32 hash) external {
        expectedHash = hash;
    }

    /// @notice Accept only `abi.encodePacked(instances, proof)`.
    /// @param instances The instances.
    /// @param proof The proof.
    function expect(uint256[] memory instances, bytes memory proof) external {
        expectedHash = keccak256(abi.encodePacked(instances, proof));
    }

    /// @notice Toggle accept-all.
    /// @param on True to accept everything.
    function setAcceptAll(bool on) external {
        acceptAll = on;
    }

    fallback() external {
        if (!acceptAll && keccak256(msg.data) != expectedHash) {
            assembly {
                revert(0, 0)
            }
        }
        assembly {
            return(0, 0)
        }
    }
}
