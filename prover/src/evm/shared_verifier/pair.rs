//! zkguard's app circuits on the shared verifier: which proof system an app circuit belongs to,
//! and its rendered and compiled verifier + key pair.
//!
//! An app circuit's constraint system is fixed by its halo2-base column layout (advice columns
//! per phase, fixed columns, lookup advice columns per phase, whether the range lookup exists,
//! instance columns), its Poseidon backend and, for a committed tree ensemble evaluated by
//! lookups, the number of looked-up column sets; keygen does not compress selectors
//! (halo2-axiom's `keygen_vk` turns each selector into its own fixed column), so the gates do
//! not depend on which rows a model uses. `k`, `lookup_bits` (the table's contents), the model
//! and the batch are in the key only.

use std::path::Path;

use crate::circuit::poseidon::PoseidonBackend;
use crate::circuit::tree_lookup::TreeSelection;
use crate::circuit::AppCircuitConfig;
use crate::keys::{AppKeys, SrsSource};
use crate::pipeline::verifier::describe_app;
use halo2_base::halo2_proofs::halo2curves::bn256::Bn256;
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;

use zkguard_halo2_solidity::{render, Provenance, Rendered};

use super::compile::{compile_pair, CompiledPair};
use super::SharedPairError;

/// The parameters that define an app circuit's proof system, as one line (equal lines, equal
/// verifiers).
pub fn proof_system_of(config: &AppCircuitConfig) -> String {
    let p = &config.params;
    let poseidon = match config.poseidon {
        PoseidonBackend::FlexGate => "flex-gate Poseidon",
        PoseidonBackend::Gate => "Poseidon gate",
    };
    // Earlier circuits' lines (and so their verifiers' headers) are unchanged.
    let tree_lookup = match config.tree_selection {
        TreeSelection::Multiplexer => String::new(),
        TreeSelection::Lookup { sets } => format!(", tree lookup with {sets} looked-up set(s)"),
    };
    format!(
        "zkguard app circuits, halo2-base advice per phase {:?}, {} fixed, lookup advice per phase {:?}, range lookup {}, \
         {} instance column(s), {poseidon}{tree_lookup}",
        p.num_advice_per_phase,
        p.num_fixed,
        p.num_lookup_advice_per_phase,
        if p.lookup_bits.is_some() { "on" } else { "off" },
        p.num_instance_columns,
    )
}

/// The headers of an app circuit's pair.
pub fn app_provenance(keys: &AppKeys, srs: &SrsSource, command: &str) -> Provenance {
    let config = &keys.config;
    Provenance {
        command: command.to_string(),
        proof_system: proof_system_of(config),
        circuit: format!(
            "circuit {}: {}",
            keys.digest,
            describe_app(&config.shape, config.k(), config.params.num_advice_per_phase.iter().sum())
        ),
        srs: srs.id(),
        insecure_srs: srs.is_insecure(),
    }
}

/// An app circuit's (or, from [`super::aggregation_pair`], an aggregation circuit's) verifier
/// and key, rendered and compiled.
#[derive(Clone, Debug)]
pub struct AppPair {
    /// The sources.
    pub rendered: Rendered,
    /// Their bytecode.
    pub compiled: CompiledPair,
}

/// Renders and compiles the pair of `keys`' circuit (`params` for its k).
pub fn app_pair(
    keys: &AppKeys,
    params: &ParamsKZG<Bn256>,
    srs: &SrsSource,
    command: &str,
    solc: &Path,
) -> Result<AppPair, SharedPairError> {
    let num_instances = keys.config.shape.layout().len();
    let rendered = render(keys.vk(), params, num_instances, &app_provenance(keys, srs, command))?;
    let compiled = compile_pair(solc, &rendered)?;
    Ok(AppPair { rendered, compiled })
}
