//! The contracts' bindings with alloy providers (`Guard::new(address, provider).submit(...)`),
//! generated from the same `contracts/abi/*.json` as [`crate::abi`], plus the example targets.

#![allow(missing_docs)]

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    Guard,
    "abi/Guard.json"
);
alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    ModelRegistry,
    "abi/ModelRegistry.json"
);
alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    CircuitBreaker,
    "abi/CircuitBreaker.json"
);
alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    VerdictFilter,
    "abi/VerdictFilter.json"
);
alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    ZkGuardVerifier,
    "abi/ZkGuardVerifier.json"
);
alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    ZkGuardKeyedVerifier,
    "abi/ZkGuardKeyedVerifier.json"
);
alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    ProtectedVault,
    "abi/ProtectedVault.json"
);
alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    FilteredToken,
    "abi/FilteredToken.json"
);
