// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IHalo2SharedVerifier
/// @notice The ABI of a generated shared halo2 verifier: one contract per proof system (one
///         constraint-system configuration), reading the circuit's verifying key from the code of a
///         separate verifying-key contract, and evaluating the instances in a loop (its size does
///         not grow with the instance count).
interface IHalo2SharedVerifier {
    /// @notice Verifies `proof` against `instances` with the verifying key held by `vk`'s code.
    /// @dev Reverts or returns false when the proof does not verify.
    /// @param vk The verifying-key contract.
    /// @param proof The proof bytes.
    /// @param instances The public instances.
    /// @return True when the proof verifies.
    function verifyProof(address vk, bytes calldata proof, uint256[] calldata instances)
        external
        returns (bool);
}
