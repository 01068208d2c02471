//! The relayer's integration tests use the shared test support crate (`zkguard-test-utils`:
//! anvil, the deployed stack, the relayer process harness, the proxy); `mod support;` keeps
//! their imports short.

pub use zkguard_test_utils::*;
