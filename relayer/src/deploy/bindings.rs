//! ABI bindings (alloy `sol!`) of the contracts a deployment wires together: the registry, the
//! circuit breaker, the verdict filter and the two example protected contracts.

use alloy::sol;

sol! {
    #[sol(rpc)]
    interface IRegistry {
        struct ModelConfig { uint256 modelCommitment; bytes32 circuitDigest; address verifier; uint16 batchSize; bool hasScores; uint8 scoreScaleBits; }
        struct Policy { address action; uint32 maxAge; uint32 minFlagged; bool useScoreThreshold; int256 scoreThreshold; }
        function registerModel(uint256 modelId, ModelConfig calldata config, Policy calldata policy) external;
        function retireModel(uint256 modelId) external;
    }
    #[sol(rpc)]
    interface IBreaker {
        function setTarget(uint256 modelId, address target, uint8 kind) external;
        function tripCount() external view returns (uint256);
    }
    #[sol(rpc)]
    interface IVault {
        function paused() external view returns (bool);
        function deposit() external payable;
        function withdraw(address to, uint256 amount) external;
        error EnforcedPause();
    }
    #[sol(rpc)]
    interface IFilter {
        function isAllowed(address subject) external view returns (bool);
    }
    #[sol(rpc)]
    interface IToken {
        function transfer(address to, uint256 value) external returns (bool);
        function balanceOf(address account) external view returns (uint256);
        error SubjectNotAllowed(address subject);
    }
}

/// `TargetKind.PausableRole` of the circuit breaker: the breaker calls the target's `pause()`.
pub const TARGET_PAUSABLE_ROLE: u8 = 2;
