// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IZkGuardVerifierErrors
/// @notice Errors of the verifier wrapper, in their own interface so tests and bindings can use them.
interface IZkGuardVerifierErrors {
    /// @notice The generated verifier address holds no code.
    /// @param verifier The address given.
    error VerifierHasNoCode(address verifier);
    /// @notice The wrapper's layout parameters are unusable (zero proofs or too few app instances).
    /// @param appInstanceCount Instances per app proof given.
    /// @param proofCount App proofs per verified proof given.
    error InvalidVerifierLayout(uint256 appInstanceCount, uint256 proofCount);
    /// @notice The instance array has the wrong length.
    /// @param expected accumulatorLimbs + proofCount * appInstanceCount.
    /// @param got The length given.
    error InstanceCountMismatch(uint256 expected, uint256 got);
    /// @notice An instance is not a BN254 scalar field element.
    /// @param index Its position in the instance array.
    /// @param value Its value (>= R).
    error InstanceOutOfField(uint256 index, uint256 value);
    /// @notice The generated verifier rejected the proof.
    error ProofRejected();
    /// @notice The proof length given to the constructor is zero or not a multiple of 32.
    /// @param proofLength The length given.
    error InvalidProofLength(uint256 proofLength);
    /// @notice The proof is not exactly the circuit's proof length (padded or truncated).
    /// @param expected The circuit's proof length.
    /// @param got The length given.
    error ProofLengthMismatch(uint256 expected, uint256 got);
}

/// @title IZkGuardVerifier
/// @notice The hand-written wrapper ABI around a generated (never hand-edited) halo2 verifier.
interface IZkGuardVerifier is IZkGuardVerifierErrors {
    /// @notice Verifies a proof against its public instances; reverts when it does not verify.
    /// @param instances The public instances: accumulator limbs, then the app segments.
    /// @param proof The proof bytes, as produced by the prover.
    function verify(uint256[] calldata instances, bytes calldata proof) external view;

    /// @notice Digest of the circuit (shape and keys) the generated verifier was produced for.
    /// @return The circuit digest.
    function circuitDigest() external view returns (bytes32);

    /// @notice The exact proof length (bytes) of the circuit; any other length is refused.
    /// @return The proof length.
    function proofLength() external view returns (uint256);

    /// @notice Total number of public instances: accumulatorLimbs + proofCount * appInstanceCount.
    /// @return The instance count.
    function instanceCount() external view returns (uint256);

    /// @notice Number of public instances of one app proof.
    /// @return The app instance count.
    function appInstanceCount() external view returns (uint256);

    /// @notice Number of app proofs covered by one verified proof (1 in direct mode).
    /// @return The proof count.
    function proofCount() external view returns (uint256);

    /// @notice Number of accumulator limbs in front of the app instances (0 in direct mode, 12 aggregated).
    /// @return The limb count.
    function accumulatorLimbs() external view returns (uint256);
}
