//! The first end-to-end test on a real anvil: deploy the ModelRegistry that forge built, and
//! check two-step ownership and that an unauthorised caller is refused.

use alloy::primitives::{Address, FixedBytes, U256};
use alloy::sol_types::{SolCall, SolValue};
use zkguard_contracts::rpc::ModelRegistry;
use zkguard_test_utils::TestCtx;

#[tokio::test]
async fn registry_ownership_on_anvil() -> anyhow::Result<()> {
    let ctx = TestCtx::start()?;
    let owner = ctx.address(0);
    let newcomer = ctx.address(1);
    let registry = ctx.deploy("ModelRegistry.sol", "ModelRegistry", owner.abi_encode()).await?;

    let as_owner = ModelRegistry::new(registry, &ctx.owner);
    let as_stranger = ModelRegistry::new(registry, &ctx.stranger);
    assert_eq!(as_owner.owner().call().await?, owner);

    // A stranger cannot change the registry: the call reverts with OwnableUnauthorizedAccount.
    let err = as_stranger.freezeModel(U256::from(1)).call().await.unwrap_err();
    let decoded = err.as_decoded_error::<ModelRegistry::OwnableUnauthorizedAccount>();
    assert_eq!(decoded.map(|e| e.account), Some(newcomer), "unexpected error: {err}");

    // The owner reaches the model checks instead (unknown model).
    let err = as_owner.freezeModel(U256::from(1)).call().await.unwrap_err();
    assert!(err.as_decoded_error::<ModelRegistry::UnknownModel>().is_some(), "unexpected error: {err}");

    // Two-step transfer: nothing changes until the new owner accepts.
    as_owner.transferOwnership(newcomer).send().await?.get_receipt().await?;
    assert_eq!(as_owner.owner().call().await?, owner);
    assert_eq!(as_owner.pendingOwner().call().await?, newcomer);
    as_stranger.acceptOwnership().send().await?.get_receipt().await?;
    assert_eq!(as_owner.owner().call().await?, newcomer);
    assert_eq!(as_owner.pendingOwner().call().await?, Address::ZERO);

    // Selector sanity: the generated binding matches the deployed ABI.
    assert_eq!(ModelRegistry::ownerCall::SELECTOR, FixedBytes::<4>::from([0x8d, 0xa5, 0xcb, 0x5b]));
    Ok(())
}
