//! A real anvil with zkguard's contracts and the logistic model registered, plus the model's
//! circuit (keys, verifier) for a batch size, prepared once per test process.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::primitives::{Address, Bytes, FixedBytes, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{Filter, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol;
use alloy::sol_types::{SolEvent, SolValue};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use zkguard_prover::aggregate::batch::{aggregation_verifier, aggregation_verifier_spec};
use zkguard_prover::aggregate::config::default_k;
use zkguard_prover::aggregate::{AggregationKeys, AggregationShape};
use zkguard_prover::circuit::{AppShape, AppWitness};
use zkguard_prover::evm::codegen::GeneratedVerifier;
use zkguard_prover::evm::direct::{app_verifier, app_verifier_spec};
use zkguard_prover::keys::{load_params, AppKeys, SrsSource};
use zkguard_prover::quant::QuantizedModel;

use super::{cache_dir, data_path, model_path, repo_root};

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
    }
    #[sol(rpc)]
    interface IVault {
        function paused() external view returns (bool);
    }
    interface IGuardEvents {
        event Verified(uint256 indexed modelId, uint64 indexed nonce, uint256[] inputCommitments, uint256 flaggedCount, uint256 sampleCount);
    }
}

/// The served model id.
pub const MODEL_ID: u64 = 1;

/// The logistic model's circuit at one batch size (direct mode) or its aggregation of N proofs
/// (batch mode): everything a deployment needs.
pub struct Circuit {
    /// Batch size.
    pub batch_size: usize,
    /// Batch mode: app proofs per aggregation (N); `None`: direct mode.
    pub aggregate: Option<usize>,
    /// The quantized model.
    pub model: QuantizedModel,
    /// Model commitment.
    pub commitment: U256,
    /// Circuit digest (the aggregation digest in batch mode).
    pub digest: FixedBytes<32>,
    /// Public instances per proof.
    pub app_instances: usize,
    /// Verifier creation code.
    pub verifier: Vec<u8>,
}

impl Circuit {
    /// Proofs per verified proof (1 in direct mode).
    pub fn proof_count(&self) -> usize {
        self.aggregate.unwrap_or(1)
    }

    /// Accumulator limbs in front of the app instances (12 in batch mode).
    pub fn accumulator_limbs(&self) -> usize {
        if self.aggregate.is_some() {
            zkguard_prover::circuit::instances::ACCUMULATOR_LIMBS
        } else {
            0
        }
    }
}

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
    let model = zkguard_relayer::model::load_quantized(&model_path(), Some(&data_path())).expect("model");
    let shape = AppShape { model: model.shape(), batch_size };
    let config = AppKeys::choose_config(&shape, zkguard_prover::circuit::config::DEFAULT_MAX_ADVICE_COLUMNS).unwrap();
    let srs = SrsSource::InsecureDev;
    let params = load_params(&srs, config.k(), &cache_dir()).expect("params");
    let keys = AppKeys::load_or_generate(config, &params, &srs, &cache_dir()).expect("keys");
    let row = model.quantize_input(&rows(1)[0]).unwrap();
    let expected = AppWitness::new(model.clone(), vec![row], batch_size, Fr::zero(), Fr::zero())
        .unwrap()
        .expected_instances()
        .unwrap();
    let commitment = zkguard_prover::evm::context::fr_to_u256(&expected.model_commitment);
    let (digest, verifier) = match aggregate {
        None => {
            let code_path: PathBuf = cache_dir().join("relayer-verifiers").join(format!("{}.hex", keys.digest));
            let verifier = cached_verifier(&code_path, || {
                let spec =
                    app_verifier_spec(&keys, &srs, format!("relayer-test-b{batch_size}"), "relayer tests".into());
                app_verifier(&params, &keys, spec, &repo_root().join("scripts/solc")).expect("verifier")
            });
            (keys.digest.clone(), verifier)
        }
        Some(proofs) => {
            let agg_shape = AggregationShape::new(&keys.digest, shape.layout().len(), proofs, default_k(proofs));
            let digest = agg_shape.digest();
            let code_path: PathBuf = cache_dir().join("relayer-verifiers").join(format!("{digest}.hex"));
            let verifier = cached_verifier(&code_path, || {
                let agg_params = load_params(&srs, agg_shape.k, &cache_dir()).expect("aggregation params");
                let agg_keys = AggregationKeys::load_or_generate(
                    agg_shape.clone(),
                    &keys,
                    &params,
                    &agg_params,
                    &srs,
                    &cache_dir(),
                )
                .expect("aggregation keys");
                let spec = aggregation_verifier_spec(
                    &agg_keys,
                    &keys,
                    &srs,
                    format!("relayer-test-b{batch_size}-n{proofs}"),
                    "relayer tests".into(),
                );
                aggregation_verifier(&agg_params, &agg_keys, spec, &repo_root().join("scripts/solc"))
                    .expect("aggregation verifier")
            });
            (digest, verifier)
        }
    };
    let circuit = Arc::new(Circuit {
        batch_size,
        aggregate,
        app_instances: shape.layout().len(),
        commitment,
        digest: format!("0x{digest}").parse().unwrap(),
        model,
        verifier,
    });
    map.insert((batch_size, aggregate), circuit.clone());
    circuit
}

/// The verifier's creation code from `path`, or generated and written there.
fn cached_verifier(path: &std::path::Path, generate: impl FnOnce() -> GeneratedVerifier) -> Vec<u8> {
    match std::fs::read_to_string(path) {
        Ok(hex) => alloy::hex::decode(hex.trim()).unwrap(),
        Err(_) => {
            let generated = generate();
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, alloy::hex::encode(&generated.compiled.creation)).unwrap();
            generated.compiled.creation
        }
    }
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

fn artifact(file: &str, name: &str) -> Vec<u8> {
    let path = repo_root().join("contracts/out").join(file).join(format!("{name}.json"));
    let json: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&path).unwrap_or_else(|_| panic!("{} missing: run forge build", path.display())),
    )
    .unwrap();
    alloy::hex::decode(json["bytecode"]["object"].as_str().unwrap()).unwrap()
}

async fn deploy(p: &DynProvider, mut code: Vec<u8>, args: Vec<u8>) -> Address {
    code.extend(args);
    let tx = TransactionRequest::default().with_deploy_code(Bytes::from(code));
    let receipt = p.send_transaction(tx).await.unwrap().get_receipt().await.unwrap();
    assert!(receipt.status(), "deployment reverted");
    receipt.contract_address.unwrap()
}

/// The native anvil binary.
pub fn anvil_path() -> PathBuf {
    std::env::var_os("ZKGUARD_ANVIL")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"))
}

impl Deployment {
    /// Starts anvil and deploys everything for `batch_size` in direct mode.
    pub async fn start(batch_size: usize) -> Self {
        Self::start_in_mode(batch_size, None).await
    }

    /// Starts anvil and deploys everything for `batch_size`, in batch mode with the aggregation
    /// verifier of N proofs when `aggregate = Some(N)` (registered with proofCount N and 12
    /// accumulator limbs).
    pub async fn start_in_mode(batch_size: usize, aggregate: Option<usize>) -> Self {
        let circuit = tokio::task::spawn_blocking(move || circuit_in_mode(batch_size, aggregate)).await.unwrap();
        let anvil = Anvil::new().path(anvil_path()).try_spawn().expect("anvil");
        let signer: PrivateKeySigner = anvil.keys()[0].clone().into();
        let owner_addr = signer.address();
        let owner =
            ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(anvil.endpoint_url()).erased();
        let registry = deploy(&owner, artifact("ModelRegistry.sol", "ModelRegistry"), owner_addr.abi_encode()).await;
        let guard = deploy(&owner, artifact("Guard.sol", "Guard"), registry.abi_encode()).await;
        let breaker =
            deploy(&owner, artifact("CircuitBreaker.sol", "CircuitBreaker"), (guard, owner_addr).abi_encode_params())
                .await;
        let vault =
            deploy(&owner, artifact("ProtectedVault.sol", "ProtectedVault"), (owner_addr, breaker).abi_encode_params())
                .await;
        let raw = deploy(&owner, circuit.verifier.clone(), vec![]).await;
        let wrapper_args = (
            raw,
            circuit.digest,
            U256::from(circuit.app_instances),
            U256::from(circuit.proof_count()),
            U256::from(circuit.accumulator_limbs()),
        )
            .abi_encode_params();
        let wrapper = deploy(&owner, artifact("ZkGuardVerifier.sol", "ZkGuardVerifier"), wrapper_args).await;
        let reg = IRegistry::new(registry, &owner);
        let config = IRegistry::ModelConfig {
            modelCommitment: circuit.commitment,
            circuitDigest: circuit.digest,
            verifier: wrapper,
            batchSize: batch_size as u16,
            hasScores: true,
            scoreScaleBits: circuit.model.fixed.scale_bits as u8,
        };
        let policy = IRegistry::Policy {
            action: breaker,
            maxAge: 3600,
            minFlagged: 1,
            useScoreThreshold: false,
            scoreThreshold: alloy::primitives::I256::ZERO,
        };
        let r =
            reg.registerModel(U256::from(MODEL_ID), config, policy).send().await.unwrap().get_receipt().await.unwrap();
        assert!(r.status(), "registerModel reverted");
        let r = IBreaker::new(breaker, &owner)
            .setTarget(U256::from(MODEL_ID), vault, 2)
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(r.status(), "setTarget reverted");
        let relayer_key = alloy::hex::encode(anvil.keys()[1].to_bytes());
        let relayer_address = anvil.addresses()[1];
        Self { anvil, owner, registry, guard, breaker, vault, relayer_key, relayer_address, circuit }
    }

    /// `Verified` events of the model: (nonce, sampleCount), in chain order.
    pub async fn verified(&self) -> Vec<(u64, u64)> {
        let filter =
            Filter::new().address(self.guard).event_signature(IGuardEvents::Verified::SIGNATURE_HASH).from_block(0);
        let logs = self.owner.get_logs(&filter).await.unwrap();
        logs.iter()
            .map(|l| {
                let e = IGuardEvents::Verified::decode_log(&l.inner).unwrap();
                (e.nonce, e.sampleCount.to::<u64>())
            })
            .collect()
    }

    /// Whether the vault is paused.
    pub async fn vault_paused(&self) -> bool {
        IVault::new(self.vault, &self.owner).paused().call().await.unwrap()
    }

    /// Retires the model (every later submission reverts with `ModelIsRetired`).
    pub async fn retire(&self) {
        let r = IRegistry::new(self.registry, &self.owner)
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
}
