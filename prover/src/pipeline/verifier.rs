//! Which Solidity verifier a circuit gets: its directory name, its one-line description, the
//! [`VerifierSpec`] written into its header, and its generation. An app circuit's verifier checks
//! one EVM-transcript proof (direct mode); an aggregation circuit's checks N app proofs at once
//! (batch mode), with the 12 accumulator limbs in front of the instances.

use std::path::Path;

use halo2_base::halo2_proofs::halo2curves::bn256::Bn256;
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;

use super::PipelineError;
use crate::aggregate::AggregationKeys;
use crate::circuit::instances::ACCUMULATOR_LIMBS;
use crate::circuit::AppShape;
use crate::evm::codegen::{generate_verifier, GeneratedVerifier, VerifierSpec};
use crate::keys::{AppKeys, SrsSource};
use crate::quant::Family;

/// A one-line description of an app circuit.
pub fn describe_app(shape: &AppShape, k: u32, advice_columns: usize) -> String {
    let m = &shape.model;
    let family = match m.family {
        Family::Linear => "linear".to_string(),
        Family::MlpAutoencoder => format!("MLP autoencoder {:?}", m.layers.iter().map(|l| l.0).collect::<Vec<_>>()),
        Family::TreeEnsemble => {
            let trees = m.tree_shape();
            format!("tree ensemble of {} trees of depth {}", trees.n_trees, trees.depth)
        }
    };
    format!(
        "app circuit: {family}, {} features{}, batch {}, fixed point {}/{} bits, k = {k}, {advice_columns} advice columns",
        m.n_features,
        if m.standardize { " (standardized)" } else { "" },
        shape.batch_size,
        m.fixed.scale_bits,
        m.fixed.value_bits,
    )
}

/// The default directory name of an app circuit's verifier: `app-<first 12 digest digits>`.
pub fn default_app_name(keys: &AppKeys) -> String {
    format!("app-{}", &keys.digest[..12.min(keys.digest.len())])
}

/// The spec of the direct-mode verifier of `keys`' circuit.
pub fn app_verifier_spec(keys: &AppKeys, srs: &SrsSource, name: String, command: String) -> VerifierSpec {
    let config = &keys.config;
    VerifierSpec {
        name,
        circuit_digest: keys.digest.clone(),
        description: describe_app(&config.shape, config.k(), config.params.num_advice_per_phase.iter().sum()),
        num_instance: config.shape.layout().len(),
        accumulator_limbs: 0,
        command,
        srs: srs.id(),
        insecure_srs: srs.is_insecure(),
    }
}

/// Generates and compiles the direct-mode verifier of `keys`' circuit.
pub fn app_verifier(
    params: &ParamsKZG<Bn256>,
    keys: &AppKeys,
    spec: VerifierSpec,
    solc: &Path,
) -> Result<GeneratedVerifier, PipelineError> {
    Ok(generate_verifier(params, keys.vk(), spec, solc)?)
}

/// The default directory name of an aggregation verifier: `batch<N>-<first 12 digest digits>`.
pub fn default_batch_name(keys: &AggregationKeys) -> String {
    format!("batch{}-{}", keys.config.shape.proofs, &keys.digest[..12.min(keys.digest.len())])
}

/// The spec of the verifier of `keys`' aggregation circuit.
pub fn aggregation_verifier_spec(
    keys: &AggregationKeys,
    app_keys: &AppKeys,
    srs: &SrsSource,
    name: String,
    command: String,
) -> VerifierSpec {
    let p = &keys.config.params;
    let app = &app_keys.config;
    VerifierSpec {
        name,
        circuit_digest: keys.digest.clone(),
        description: format!(
            "aggregation (SHPLONK, k = {}, {} advice + {} lookup columns) of {} proofs of the {} [{}]",
            p.degree,
            p.num_advice,
            p.num_lookup_advice,
            keys.config.shape.proofs,
            describe_app(&app.shape, app.k(), app.params.num_advice_per_phase.iter().sum()),
            app_keys.digest
        ),
        num_instance: keys.config.shape.num_instance(),
        accumulator_limbs: ACCUMULATOR_LIMBS,
        command,
        srs: srs.id(),
        insecure_srs: srs.is_insecure(),
    }
}

/// Generates and compiles the verifier of `keys`' aggregation circuit.
pub fn aggregation_verifier(
    params: &ParamsKZG<Bn256>,
    keys: &AggregationKeys,
    spec: VerifierSpec,
    solc: &Path,
) -> Result<GeneratedVerifier, PipelineError> {
    Ok(generate_verifier(params, keys.vk(), spec, solc)?)
}
