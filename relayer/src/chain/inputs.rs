//! A served model's input policy: read from the registry at start-up (`getModel`'s mode and
//! threshold, `inputMembers`), and checked against where the relayer's attestations come from, so
//! that a relayer that cannot satisfy the policy refuses to start instead of failing every batch.

use std::collections::BTreeSet;

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use zkguard_contracts::abi::{Guard, InputMode, ModelRegistry};

use crate::config::AttestationSource;

/// A model's input policy as registered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisteredInputs {
    /// The mode.
    pub mode: InputMode,
    /// Attester signatures required (Attested).
    pub threshold: usize,
    /// Attesters (Attested) or submitters (Submitters).
    pub members: BTreeSet<Address>,
}

/// Why the relayer cannot serve a model under its registered input policy.
#[derive(Debug, thiserror::Error)]
pub enum InputPolicyError {
    /// The registry could not be read (or answered something that does not decode).
    #[error("model {model_id}: reading its input policy: {what}: {source}")]
    Rpc {
        /// Model id.
        model_id: String,
        /// Which step failed.
        what: &'static str,
        /// The transport, decoding or parsing error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The configuration does not fit the registered policy.
    #[error("model {model_id}: {message}")]
    Unsatisfiable {
        /// Model id.
        model_id: String,
        /// What does not fit, and what to change.
        message: String,
    },
}

/// Reads a model's input policy through the Guard's registry.
pub async fn read(
    provider: &DynProvider,
    guard: Address,
    model_id: &str,
) -> Result<RegisteredInputs, InputPolicyError> {
    let rpc = |what: &'static str| {
        move |e: Box<dyn std::error::Error + Send + Sync>| InputPolicyError::Rpc {
            model_id: model_id.to_string(),
            what,
            source: e,
        }
    };
    let id: U256 = model_id
        .parse()
        .map_err(|e: alloy::primitives::ruint::ParseError| rpc("the id is not a decimal uint256")(e.into()))?;
    let call = |to: Address, input: Vec<u8>| {
        let tx = TransactionRequest::default().with_to(to).with_input(input);
        async move { provider.call(tx).await }
    };
    let out = call(guard, Guard::registryCall {}.abi_encode()).await.map_err(|e| rpc("Guard.registry()")(e.into()))?;
    let registry =
        Guard::registryCall::abi_decode_returns(&out).map_err(|e| rpc("decoding Guard.registry()")(e.into()))?;
    let out = call(registry, ModelRegistry::getModelCall { modelId: id }.abi_encode())
        .await
        .map_err(|e| rpc("ModelRegistry.getModel")(e.into()))?;
    let m = ModelRegistry::getModelCall::abi_decode_returns(&out)
        .map_err(|e| rpc("decoding ModelRegistry.getModel")(e.into()))?;
    let mode = InputMode::from_abi(m.inputMode)
        .ok_or_else(|| rpc("the registry's input mode")(format!("unknown input mode {}", m.inputMode).into()))?;
    let out = call(registry, ModelRegistry::inputMembersCall { modelId: id }.abi_encode())
        .await
        .map_err(|e| rpc("ModelRegistry.inputMembers")(e.into()))?;
    let members = ModelRegistry::inputMembersCall::abi_decode_returns(&out)
        .map_err(|e| rpc("decoding ModelRegistry.inputMembers")(e.into()))?;
    Ok(RegisteredInputs { mode, threshold: usize::from(m.attestThreshold), members: members.into_iter().collect() })
}

/// Whether the relayer, configured with `source` (and submitting as `signer`, attesting as
/// `attester` when it has a key), can satisfy the registered policy.
pub fn check_satisfiable(
    model_id: &str,
    registered: &RegisteredInputs,
    source: Option<AttestationSource>,
    signer: Address,
    attester: Option<Address>,
) -> Result<(), InputPolicyError> {
    let fail = |message: String| Err(InputPolicyError::Unsatisfiable { model_id: model_id.to_string(), message });
    match (registered.mode, source) {
        (InputMode::Attested, None) => fail(format!(
            "the registry requires {} attester signature(s) per submission (attesters {:?}); set `attestation = \
             \"client\"` (requests carry the data provider's signatures) or `attestation = \"relayer\"` (with an \
             attester key) in the model's config",
            registered.threshold, registered.members
        )),
        (InputMode::Attested, Some(AttestationSource::Client)) => Ok(()),
        (InputMode::Attested, Some(AttestationSource::Relayer)) => {
            let Some(attester) = attester else {
                return fail(
                    "`attestation = \"relayer\"` needs the relayer's attester key (chain.attester_key_env)".into(),
                );
            };
            if !registered.members.contains(&attester) {
                return fail(format!("the relayer's attester {attester} is not a registered attester of the model"));
            }
            if registered.threshold != 1 {
                return fail(format!(
                    "the registry requires {} attester signatures; the relayer alone gives one (use `attestation = \
                     \"client\"`)",
                    registered.threshold
                ));
            }
            Ok(())
        }
        (InputMode::Submitters, None) if registered.members.contains(&signer) => Ok(()),
        (InputMode::Submitters, None) => fail(format!(
            "only allowlisted submitters may submit, and the relayer's account {signer} is not one of {:?}",
            registered.members
        )),
        (InputMode::Open, None) => Ok(()),
        (mode, Some(source)) => fail(format!(
            "`attestation = {:?}` is configured but the registered input policy is {mode:?}, which takes no \
             attestations; remove it",
            source
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attested(threshold: usize, members: &[Address]) -> RegisteredInputs {
        RegisteredInputs { mode: InputMode::Attested, threshold, members: members.iter().copied().collect() }
    }

    #[test]
    fn every_unsatisfiable_combination_is_named() {
        let (a, b, signer) = (Address::repeat_byte(1), Address::repeat_byte(2), Address::repeat_byte(9));
        let ok = |r: &RegisteredInputs, s, att| check_satisfiable("1", r, s, signer, att).is_ok();
        let err = |r: &RegisteredInputs, s, att| check_satisfiable("1", r, s, signer, att).unwrap_err().to_string();
        assert!(ok(&attested(2, &[a, b]), Some(AttestationSource::Client), None));
        assert!(err(&attested(2, &[a, b]), None, None).contains("requires 2 attester signature(s)"));
        assert!(ok(&attested(1, &[a]), Some(AttestationSource::Relayer), Some(a)));
        assert!(
            err(&attested(1, &[a]), Some(AttestationSource::Relayer), Some(b)).contains("is not a registered attester")
        );
        assert!(err(&attested(2, &[a, b]), Some(AttestationSource::Relayer), Some(a)).contains("requires 2"));
        assert!(err(&attested(1, &[a]), Some(AttestationSource::Relayer), None).contains("attester key"));
        let submitters = RegisteredInputs { mode: InputMode::Submitters, threshold: 0, members: [signer].into() };
        assert!(ok(&submitters, None, None));
        let others = RegisteredInputs { members: [a].into(), ..submitters.clone() };
        assert!(err(&others, None, None).contains("is not one of"));
        assert!(err(&submitters, Some(AttestationSource::Client), None).contains("remove it"));
        let open = RegisteredInputs { mode: InputMode::Open, threshold: 0, members: BTreeSet::new() };
        assert!(ok(&open, None, None));
    }

    /// A node that does not answer: the error names the model and the step, and keeps the
    /// transport error as its source (nothing flattened to a string).
    #[tokio::test]
    async fn an_unreachable_node_is_an_rpc_error_with_its_source() {
        use alloy::providers::{Provider, ProviderBuilder};
        // a loopback port nothing listens on: bind, read the port, close
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let url = format!("http://127.0.0.1:{port}").parse().unwrap();
        let provider = ProviderBuilder::new().disable_recommended_fillers().connect_http(url).erased();
        let err = read(&provider, Address::repeat_byte(0xa1), "7").await.unwrap_err();
        match &err {
            InputPolicyError::Rpc { model_id, what, .. } => {
                assert_eq!((model_id.as_str(), *what), ("7", "Guard.registry()"))
            }
            other => panic!("not an RPC error: {other}"),
        }
        assert!(std::error::Error::source(&err).is_some(), "{err}");
        assert!(err.to_string().starts_with("model 7: reading its input policy: Guard.registry(): "), "{err}");
        let bad_id = read(&provider, Address::repeat_byte(0xa1), "seven").await.unwrap_err();
        assert!(bad_id.to_string().contains("the id is not a decimal uint256"), "{bad_id}");
    }
}
