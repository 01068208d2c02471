//! Shared test support: real app proofs of the demo model and their rendered, compiled pairs.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, Fr};
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;
use zkguard_prover::circuit::poseidon::PoseidonBackend;
use zkguard_prover::circuit::{AppCircuitConfig, AppShape, AppWitness};
use zkguard_prover::demo;
use zkguard_prover::evm::shared_verifier::{app_pair, AppPair};
use zkguard_prover::keys::{load_params, AppKeys, SrsSource};
use zkguard_prover::prove::{prove, AppProof, Transcript};

pub const COMMAND: &str = "cargo test -p zkguard-prover --test shared_verifier";

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the crate sits in the workspace").to_path_buf()
}

/// Keys and parameters are cached here across test runs (shared with the prover's tests).
pub fn cache_dir() -> PathBuf {
    root().join("target/zkguard-test-cache")
}

pub struct Circuit {
    pub keys: AppKeys,
    pub proof: AppProof,
    pub pair: AppPair,
    pub params: ParamsKZG<Bn256>,
}

pub fn circuit(n_features: usize, batch: usize, samples: usize, poseidon: PoseidonBackend) -> Circuit {
    let srs = SrsSource::InsecureDev;
    let shape = AppShape::new(demo::demo_shape(n_features), batch);
    let config = AppCircuitConfig::choose_with(&shape, 1, poseidon).unwrap();
    let params = load_params(&srs, config.k(), &cache_dir()).unwrap();
    let keys = AppKeys::load_or_generate(config, &params, &srs, &cache_dir()).unwrap();
    let witness = AppWitness::new(
        demo::demo_model(n_features),
        demo::demo_rows(n_features, samples, 0),
        batch,
        Fr::from(0x5a17u64),
        demo::demo_context(samples).context(),
    )
    .unwrap();
    let proof = prove(&params, &keys, &witness, Transcript::Evm).unwrap();
    let pair = app_pair(&keys, &params, &srs, COMMAND, &root().join("scripts/solc")).unwrap();
    Circuit { keys, proof, pair, params }
}
