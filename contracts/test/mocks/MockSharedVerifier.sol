// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title MockSharedVerifier
/// @notice Test stand-in for a generated shared halo2 verifier: `verifyProof(vk, proof, instances)`
///         accepts only the one (vk, proof, instances) it was told to expect, and can be switched to
///         answer in the ways a broken or hostile verifier might (false, a revert, a short or
///         non-boolean return).
contract MockSharedVerifier {
    /// @notice How the mock answers an expected call.
    enum Answer {
        True,
        False,
        Revert,
        Empty,
        Two
    }

    /// @notice keccak256(abi.encode(vk, proof, instances)) of the only accepted call.
    bytes32 public expectedHash;
    /// @notice The answer given to the expected call.
    Answer public answer;

    /// @notice Accept only this call.
    /// @param vk The key address.
    /// @param proof The proof.
    /// @param instances The instances.
    function expect(address vk, bytes memory proof, uint256[] memory instances) external {
        expectedHash = keccak256(abi.encode(vk, proof, instances));
    }

    /// @notice Set the answer to the expected call.
    /// @param a The answer.
    function setAnswer(Answer a) external {
        answer = a;
    }

    /// @notice The shared verifier's entry point.
    /// @param vk The key address.
    /// @param proof The proof.
    /// @param instances The instances.
    /// @return True when (vk, proof, instances) is the expected call.
    function verifyProof(address vk, bytes calldata proof, uint256[] calldata instances)
        external
        view
        returns (bool)
    {
        if (keccak256(abi.encode(vk, proof, instances)) != expectedHash) return false;
        Answer a = answer;
        if (a == Answer.False) return false;
        if (a == Answer.Revert) revert("rejected");
        if (a == Answer.Empty) {
            assembly {
                return(0, 0)
            }
        }
        if (a == Answer.Two) {
            assembly {
                mstore(0, 2)
                return(0, 32)
            }
        }
        return true;
    }
}

/// @title MockVerifyingKey
/// @notice A contract whose code stands in for a verifying key (its code hash is what is pinned).
contract MockVerifyingKey {
    /// @notice Distinguishes two keys' code.
    uint256 public constant SALT = 1;
}

/// @title OtherMockVerifyingKey
/// @notice A second key with different code (another circuit's key).
contract OtherMockVerifyingKey {
    /// @notice Distinguishes two keys' code.
    uint256 public constant SALT = 2;
}
