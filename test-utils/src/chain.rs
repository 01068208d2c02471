//! A real anvil with zkguard's contracts and the logistic model registered, plus the model's
//! circuit (keys, verifier) for a batch size, prepared once per test process. Both modes deploy on
//! the shared verifier (the default of `zkguard deploy`): direct mode the app circuits' verifier
//! and the model's key, batch mode the aggregation circuits' verifier and the aggregation
//! circuit's key, behind `ZkGuardKeyedVerifier`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use alloy::network::EthereumWallet;
use alloy::node_bindings::AnvilInstance;
use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::Filter;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolEvent;
use zkguard_contracts::deploy::{anvil, deploy_stack, register_model, ContractArtifacts, Stack};
use zkguard_contracts::registration::{Action, InputPolicyArgs, PolicyArgs};
use zkguard_contracts::rpc::{Guard, ModelRegistry, ProtectedVault};
use zkguard_prover::circuit::AppShape;
use zkguard_prover::keys::{load_params, AppKeys, SrsSource};
use zkguard_prover::pipeline::deploy::{prepare, DeployableCircuit, DeployableRequest, VerifierKind};
use zkguard_prover::quant::QuantizedModel;

use crate::{cache_dir, data_path, model_path, repo_root};

/// The served model id.
pub const MODEL_ID: u64 = 1;

/// The logistic model's circuit at one batch size (direct mode) or its aggregation of N proofs
/// (batch mode): everything a deployment needs (`zkguard_prover::pipeline::deploy`).
pub type Circuit = DeployableCircuit;

type CircuitKey = (usize, Option<usize>);

fn circuits() -> &'static Mutex<HashMap<CircuitKey, Arc<Circuit>>> {
    static CIRCUITS: std::sync::OnceLock<Mutex<HashMap<CircuitKey, Arc<Circuit>>>> = std::sync::OnceLock::new();
    CIRCUITS.get_or_init(Mutex::default)
}

/// Loads the model and prepares keys and verifier for `batch_size` in direct mode (cached on disk
/// and in memory; serialised so parallel tests do not generate the same keys twice).
pub fn circuit(batch_size: usize) -> Arc<Circuit> {
    circuit_in_mode(batch_size, None)
}

/// [`circuit`], or in batch mode (`aggregate = Some(N)`) the aggregation verifier of N proofs of
/// the app circuit at the default aggregation degree. The aggregation keys are generated (minutes,
/// gigabytes) only when the verifier is not cached yet; the relayer loads them from the shared
/// key cache.
pub fn circuit_in_mode(batch_size: usize, aggregate: Option<usize>) -> Arc<Circuit> {
    let mut map = circuits().lock().unwrap_or_else(|p| p.into_inner());
    if let Some(c) = map.get(&(batch_size, aggregate)) {
        return c.clone();
    }
    let model = zkguard_prover::load::load_quantized(&model_path(), Some(&data_path())).expect("model");
    let circuit = Arc::new(
        prepare(&DeployableRequest {
            model,
            batch_size,
            visibility: zkguard_prover::circuit::Visibility::Committed,
            aggregate,
            // both modes on the shared verifier (the keyed wrapper), as `zkguard deploy` by default
            verifier: VerifierKind::default(),
            max_columns: zkguard_prover::circuit::config::DEFAULT_MAX_ADVICE_COLUMNS,
            srs: SrsSource::InsecureDev,
            cache_dir: cache_dir(),
            solc: repo_root().join("scripts/solc"),
            generated_dir: None,
            command: "relayer tests".into(),
        })
        .expect("circuit"),
    );
    map.insert((batch_size, aggregate), circuit.clone());
    circuit
}

/// The first `n` rows of the breast-cancer data.
pub fn rows(n: usize) -> Vec<Vec<f64>> {
    let model = zkguard_prover::model::load_model(&model_path()).unwrap();
    let data = zkguard_prover::data::load_csv(&data_path(), &model.features).unwrap();
    data.rows.into_iter().cycle().take(n).collect()
}

/// A row the model flags and one it does not.
pub fn flagged_and_clean(model: &QuantizedModel) -> (Vec<f64>, Vec<f64>) {
    let all = rows(60);
    let decide = |r: &Vec<f64>| model.infer(&model.quantize_input(r).unwrap()).unwrap().decision;
    let flagged = all.iter().find(|r| decide(r)).unwrap().clone();
    let clean = all.iter().find(|r| !decide(r)).unwrap().clone();
    (flagged, clean)
}

/// A deployed zkguard on a fresh anvil.
pub struct Deployment {
    /// The anvil (killed on drop).
    pub anvil: AnvilInstance,
    /// Owner provider (anvil account 0, PUBLIC dev key).
    pub owner: DynProvider,
    /// Contracts.
    pub registry: Address,
    /// The Guard.
    pub guard: Address,
    /// The breaker (policy action).
    pub breaker: Address,
    /// The protected vault.
    pub vault: Address,
    /// The relayer's signer key (anvil account 1, PUBLIC dev key, local anvil only).
    pub relayer_key: String,
    /// Its address.
    pub relayer_address: Address,
    /// The circuit.
    pub circuit: Arc<Circuit>,
}

/// The native anvil binary (`$ZKGUARD_ANVIL` or the one `scripts/setup` installed).
pub fn anvil_path() -> PathBuf {
    anvil::anvil_binary(&repo_root())
}

impl Deployment {
    /// Starts anvil and deploys everything for `batch_size` in direct mode.
    pub async fn start(batch_size: usize) -> Self {
        Self::start_in_mode(batch_size, None).await
    }

    /// Starts anvil and deploys everything for `batch_size`, in batch mode with the shared
    /// aggregation verifier and the key of the aggregation of N proofs when `aggregate = Some(N)`
    /// (registered with proofCount N and 12 accumulator limbs).
    pub async fn start_in_mode(batch_size: usize, aggregate: Option<usize>) -> Self {
        Self::start_with_inputs(batch_size, aggregate, |relayer| InputPolicyArgs::Submitters {
            submitters: vec![relayer],
        })
        .await
    }

    /// [`Deployment::start_in_mode`] with the model's input policy made by `inputs` from the
    /// relayer's address (the default above: the relayer is the only allowed submitter).
    pub async fn start_with_inputs(
        batch_size: usize,
        aggregate: Option<usize>,
        inputs: impl FnOnce(Address) -> InputPolicyArgs,
    ) -> Self {
        let circuit = tokio::task::spawn_blocking(move || circuit_in_mode(batch_size, aggregate)).await.unwrap();
        let anvil = anvil::spawn(&anvil_path()).expect("anvil");
        let signer: PrivateKeySigner = anvil.keys()[0].clone().into();
        let owner_addr = signer.address();
        let owner =
            ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(anvil.endpoint_url()).erased();
        let artifacts = ContractArtifacts::new(repo_root().join("contracts/out"));
        let stack = deploy_stack(&owner, owner_addr, &artifacts, 86_400, U256::from(1_000_000u64)).await.unwrap();
        let policy =
            PolicyArgs { action: Action::Breaker, max_age: 3600, min_flagged: 1, score_threshold: None, window: None };
        let relayer_key = alloy::hex::encode(anvil.keys()[1].to_bytes());
        let relayer_address = anvil.addresses()[1];
        let registration = circuit.registration(U256::from(MODEL_ID), policy, inputs(relayer_address)).unwrap();
        register_model(&owner, &stack, &artifacts, &registration).await.unwrap();
        let Stack { registry, guard, breaker, vault, .. } = stack;
        Self { anvil, owner, registry, guard, breaker, vault, relayer_key, relayer_address, circuit }
    }

    /// `Verified` events of the model: (nonce, sampleCount), in chain order.
    pub async fn verified(&self) -> Vec<(u64, u64)> {
        let filter = Filter::new().address(self.guard).event_signature(Guard::Verified::SIGNATURE_HASH).from_block(0);
        let logs = self.owner.get_logs(&filter).await.unwrap();
        logs.iter()
            .map(|l| {
                let e = Guard::Verified::decode_log(&l.inner).unwrap();
                (e.nonce, e.sampleCount.to::<u64>())
            })
            .collect()
    }

    /// Whether the vault is paused.
    pub async fn vault_paused(&self) -> bool {
        ProtectedVault::new(self.vault, &self.owner).paused().call().await.unwrap()
    }

    /// Retires the model (every later submission reverts with `ModelIsRetired`).
    pub async fn retire(&self) {
        let r = ModelRegistry::new(self.registry, &self.owner)
            .retireModel(U256::from(MODEL_ID))
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(r.status());
    }

    /// Switches anvil's automine on or off (off: blocks only on [`Deployment::mine`]).
    pub async fn set_automine(&self, on: bool) {
        let _: () = self.owner.raw_request("evm_setAutomine".into(), (on,)).await.unwrap();
    }

    /// Mines one block.
    pub async fn mine(&self) {
        let _: String = self.owner.raw_request("evm_mine".into(), ()).await.unwrap();
    }

    /// The relayer account's mined transaction count.
    pub async fn relayer_tx_count(&self) -> u64 {
        self.owner.get_transaction_count(self.relayer_address).await.unwrap()
    }

    /// The relayer account's transaction count including its transactions in the mempool.
    pub async fn relayer_pending_tx_count(&self) -> u64 {
        self.owner.get_transaction_count(self.relayer_address).pending().await.unwrap()
    }

    /// Sends `retireModel` as the owner with a priority fee of `priority_fee` wei (max fee twice
    /// that), without waiting for a block (with automine off it sits in the mempool, ordered by
    /// fee); returns its hash.
    pub async fn send_retire_with_priority_fee(&self, priority_fee: u128) -> alloy::primitives::B256 {
        let pending = ModelRegistry::new(self.registry, &self.owner)
            .retireModel(U256::from(MODEL_ID))
            .max_priority_fee_per_gas(priority_fee)
            .max_fee_per_gas(2 * priority_fee)
            .gas(200_000)
            .send()
            .await
            .unwrap();
        *pending.tx_hash()
    }

    /// A mined transaction's (status, block number, index in the block), `None` while pending.
    pub async fn receipt_of(&self, hash: alloy::primitives::B256) -> Option<(bool, u64, u64)> {
        let r = self.owner.get_transaction_receipt(hash).await.unwrap()?;
        Some((r.status(), r.block_number.unwrap_or_default(), r.transaction_index.unwrap_or_default()))
    }

    /// The deployed (direct-mode) circuit's keys and KZG parameters from the test key cache, for
    /// proving as a client would (blocking: loads the proving key).
    pub fn app_keys(
        &self,
    ) -> (
        AppKeys,
        halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG<halo2_base::halo2_proofs::halo2curves::bn256::Bn256>,
    ) {
        let shape = AppShape::new(self.circuit.model.shape(), self.circuit.batch_size);
        let config =
            AppKeys::choose_config(&shape, zkguard_prover::circuit::config::DEFAULT_MAX_ADVICE_COLUMNS).unwrap();
        let srs = SrsSource::InsecureDev;
        let params = load_params(&srs, config.k(), &cache_dir()).expect("params");
        let keys = AppKeys::load_or_generate(config, &params, &srs, &cache_dir()).expect("keys");
        (keys, params)
    }
}
