//! Input provenance on a real anvil in both modes, with the committed real proofs
//! (`contracts/fixtures/{direct,batch}.json`: a direct app proof and an aggregation of two). The
//! fixtures' context names chain 31337 and a Guard at 0x…a1, so the deployed Guard's code is
//! placed there (`anvil_setCode`; its immutables, the registry among them, come along). The model
//! is registered `Attested` by one data provider. A proof of someone holding the model, which
//! every verifier accepts, is refused without the provider's attestation (`UnattestedInputs`) and
//! with a non-attester's (`UnknownAttester`); with the provider's it is verified and acted on.
//! Rust's attestation digest equals the Guard's on chain. Anvil's dev keys are PUBLIC.

use std::path::Path;

use alloy::primitives::{Bytes, FixedBytes, U256};
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;
use zkguard_contracts::attestation::{Attestation, InputAttestation};
use zkguard_contracts::deploy::{deploy_stack, register_model, ContractArtifacts};
use zkguard_contracts::registration::{
    Action, CircuitIdentity, InputPolicyArgs, ModelRegistration, PolicyArgs, VerifierCode,
};
use zkguard_contracts::revert::decode_revert;
use zkguard_contracts::rpc::Guard;
use zkguard_prover::pipeline::fixture::Fixture;
use zkguard_test_utils::{repo_root, TestCtx};

fn fixture(name: &str) -> Fixture {
    Fixture::read(&repo_root().join(Path::new("contracts/fixtures")).join(name)).expect("committed fixture")
}

/// The revert reason of a failed contract call.
fn reason(err: alloy::contract::Error) -> String {
    match err.as_revert_data() {
        Some(data) => decode_revert(&data),
        None => format!("no revert data: {err}"),
    }
}

async fn check_mode(name: &str) -> anyhow::Result<u64> {
    let f = fixture(name);
    let ctx = TestCtx::start()?;
    let owner = ctx.address(0);
    let provider_key: PrivateKeySigner = ctx.anvil.keys()[3].clone().into(); // the data provider
    let artifacts = ContractArtifacts::new(repo_root().join("contracts/out"));
    let stack = deploy_stack(&ctx.owner, owner, &artifacts, 86_400, U256::from(1u64)).await?;
    let instances: Vec<U256> = f.instances.iter().map(|h| h.parse()).collect::<Result<_, _>>()?;
    let proof = f.proof_bytes().expect("proof bytes");
    let app_instances = (instances.len() - f.accumulator_limbs) / f.proof_count;
    let registration = ModelRegistration {
        model_id: U256::from(f.model_id),
        verifier: VerifierCode::Unrolled { creation: f.verifier_code().expect("verifier bytecode") },
        identity: CircuitIdentity {
            digest: f.circuit_digest.parse::<FixedBytes<32>>()?,
            commitment: f.model_commitment.parse()?,
            proof_count: f.proof_count,
            accumulator_limbs: f.accumulator_limbs,
            app_instances,
            score_bits: u8::try_from(f.score_bits)?,
        },
        batch_size: u16::try_from(f.batch_size)?,
        proof_length: proof.len(),
        score_scale_bits: u8::try_from(f.score_scale_bits)?,
        // no action: the Guard runs at the fixture's address, where no action knows it
        policy: PolicyArgs {
            action: Action::None,
            max_age: u32::MAX,
            min_flagged: 1,
            score_threshold: None,
            window: None,
        },
        inputs: InputPolicyArgs::Attested { threshold: 1, attesters: vec![provider_key.address()] },
    };
    register_model(&ctx.owner, &stack, &artifacts, &registration).await?;
    // The Guard's runtime code at the address the proof's context names.
    let code = ctx.owner.get_code_at(stack.guard).await?;
    let _: () = ctx.owner.raw_request("anvil_setCode".into(), (f.guard, code)).await?;
    assert_eq!((f.chain_id, ctx.owner.get_chain_id().await?), (31337, 31337));

    let guard = Guard::new(f.guard, &ctx.stranger);
    let sctx = Guard::SubmissionContext { nonce: f.nonce, issuedAt: f.issued_at, subjects: f.subjects.clone() };
    let commitments: Vec<U256> = (0..f.proof_count)
        .map(|k| {
            instances
                [f.accumulator_limbs + k * app_instances + zkguard_prover::circuit::instances::INPUT_COMMITMENT_INDEX]
        })
        .collect();
    let message =
        InputAttestation::new(U256::from(f.model_id), f.nonce, f.issued_at, f.subjects.clone(), commitments.clone());
    let digest = message.digest(f.chain_id, f.guard);
    let on_chain = guard.attestationDigest(U256::from(f.model_id), sctx.clone(), commitments.clone()).call().await?;
    assert_eq!(digest, on_chain, "{name}: Rust's attestation digest differs from the Guard's");
    let submit = |attestations: Vec<Attestation>| {
        guard.submit(
            U256::from(f.model_id),
            sctx.clone(),
            attestations.into_iter().map(|a| Guard::Attestation { signer: a.signer, signature: a.signature }).collect(),
            instances.clone(),
            Bytes::from(proof.clone()),
        )
    };

    // The real proof alone: refused, nothing verified.
    let refused = reason(submit(vec![]).call().await.unwrap_err());
    assert!(refused.starts_with("UnattestedInputs"), "{name}: {refused}");
    // Signed by someone who holds the model but is no attester: refused.
    let forger = PrivateKeySigner::random();
    let refused = reason(submit(vec![Attestation::sign(&forger, digest)?]).call().await.unwrap_err());
    assert!(refused.starts_with("UnknownAttester"), "{name}: {refused}");
    assert!(refused.to_lowercase().contains(&forger.address().to_string().to_lowercase()), "{name}: {refused}");
    // The provider's signature over another nonce: refused.
    let other =
        InputAttestation::new(U256::from(f.model_id), f.nonce + 1, f.issued_at, f.subjects.clone(), commitments);
    let wrong = Attestation::sign(&provider_key, other.digest(f.chain_id, f.guard))?;
    let refused = reason(submit(vec![wrong]).call().await.unwrap_err());
    assert!(refused.starts_with("InvalidAttestation"), "{name}: {refused}");
    assert!(!guard.isNonceUsed(U256::from(f.model_id), f.nonce).call().await?);

    // Attested by the provider: verified in a mined transaction.
    let receipt = submit(vec![Attestation::sign(&provider_key, digest)?]).send().await?.get_receipt().await?;
    assert!(receipt.status(), "{name}: the attested submission reverted");
    assert!(guard.isNonceUsed(U256::from(f.model_id), f.nonce).call().await?);
    let events = receipt.inner.logs().iter().filter(|l| l.address() == f.guard).count();
    assert_eq!(events, 1, "{name}: one Verified event");
    Ok(receipt.gas_used)
}

#[tokio::test]
async fn attested_inputs_are_required_in_both_modes() -> anyhow::Result<()> {
    let direct = check_mode("direct.json").await?;
    let batch = check_mode("batch.json").await?;
    println!("attested Guard.submit tx gas on anvil (real verifier, no action): direct {direct}, batch {batch}");
    Ok(())
}
