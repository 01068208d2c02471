//! The app circuit as a halo2 [`Circuit`]: halo2-base's builder (flex gate, range lookups,
//! instances) plus, with [`PoseidonBackend::Gate`], the Poseidon gate ([`super::poseidon`]) in
//! columns of its own. With [`PoseidonBackend::FlexGate`] the constraint system is exactly
//! halo2-base's (same keys as a bare `BaseCircuitBuilder`).
//!
//! Synthesis lays out halo2-base's region first, then the Poseidon region from row 0 of the
//! gate's columns (halo2-axiom's layouter places every region at absolute rows), copy
//! constraining each hashed word and digest to the halo2-base cell it was requested with.

use halo2_base::gates::circuit::builder::BaseCircuitBuilder;
use halo2_base::gates::circuit::{BaseCircuitParams, BaseConfig};
use halo2_base::halo2_proofs::circuit::{Layouter, SimpleFloorPlanner};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::plonk::{Circuit, ConstraintSystem, Error, Selector};
use snark_verifier_sdk::CircuitExt;

use serde::{Deserialize, Serialize};

use super::poseidon::{PoseidonBackend, PoseidonConfig, PoseidonRequests};
use super::tree_lookup::{TreeLookupConfig, TreeLookups, TreeSelection};

/// The app circuit: halo2-base's builder and the Poseidon hashes it requested.
#[derive(Debug)]
pub struct AppCircuit {
    /// The flex-gate part (cells, lookups, instances).
    pub base: BaseCircuitBuilder<Fr>,
    /// The hashes, laid out by the Poseidon gate.
    pub poseidon: PoseidonRequests,
    /// How a committed tree ensemble selects its nodes.
    pub tree_selection: TreeSelection,
    /// The tree lookup's rows (with [`TreeSelection::Lookup`]).
    pub tree_lookups: TreeLookups,
}

/// The halo2 configuration: halo2-base's and the Poseidon gate's.
#[derive(Clone, Debug)]
pub struct AppConfig {
    /// halo2-base's columns.
    pub base: BaseConfig<Fr>,
    /// The Poseidon gate's columns (with [`PoseidonBackend::Gate`]).
    pub poseidon: Option<PoseidonConfig>,
    /// The tree lookup's columns (with [`TreeSelection::Lookup`]).
    pub tree_lookup: Option<TreeLookupConfig>,
}

/// The parameters the constraint system is built from.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AppCircuitParams {
    /// halo2-base's.
    pub base: BaseCircuitParams,
    /// How commitments are hashed.
    pub poseidon: PoseidonBackend,
    /// How a committed tree ensemble selects its nodes (absent: multiplexers).
    #[serde(default, skip_serializing_if = "TreeSelection::is_multiplexer")]
    pub tree_selection: TreeSelection,
}

impl AppCircuit {
    /// Rows the circuit needs besides halo2-base's (the Poseidon region).
    pub fn poseidon_rows(&self) -> usize {
        self.poseidon.rows()
    }

    /// The public instances (one column).
    pub fn instance_values(&self) -> Vec<Vec<Fr>> {
        self.base.assigned_instances.iter().map(|col| col.iter().map(|a| *a.value()).collect()).collect()
    }
}

impl Circuit<Fr> for AppCircuit {
    type Config = AppConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = AppCircuitParams;

    fn params(&self) -> Self::Params {
        AppCircuitParams {
            base: self.base.params(),
            poseidon: self.poseidon.backend(),
            tree_selection: self.tree_selection,
        }
    }

    fn without_witnesses(&self) -> Self {
        // halo2-base's builder has no witness-free form (halo2-axiom's keygen never asks for
        // one): the same circuit, its threads copied.
        Self {
            base: self.base.deep_clone(),
            poseidon: self.poseidon.clone(),
            tree_selection: self.tree_selection,
            tree_lookups: self.tree_lookups.clone(),
        }
    }

    fn configure_with_params(meta: &mut ConstraintSystem<Fr>, params: Self::Params) -> Self::Config {
        // The Poseidon gate first: halo2-base computes its usable rows from the finished
        // constraint system's blinding rows.
        let poseidon = (params.poseidon == PoseidonBackend::Gate).then(|| PoseidonConfig::configure(meta));
        let tree_lookup = match params.tree_selection {
            TreeSelection::Multiplexer => None,
            TreeSelection::Lookup { sets } => Some(TreeLookupConfig::configure(meta, sets)),
        };
        let base = BaseConfig::configure(meta, params.base);
        AppConfig { base, poseidon, tree_lookup }
    }

    fn configure(_: &mut ConstraintSystem<Fr>) -> Self::Config {
        unreachable!("the app circuit is configured with its parameters")
    }

    fn synthesize(&self, config: Self::Config, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        let usable_rows = config.base.gate().max_rows;
        if self.poseidon.rows() > usable_rows {
            tracing::error!(rows = self.poseidon.rows(), usable_rows, "the Poseidon region does not fit the circuit");
            return Err(Error::NotEnoughRowsAvailable { current_k: self.base.config_params.k as u32 });
        }
        let sets = match self.tree_selection {
            TreeSelection::Lookup { sets } => sets,
            TreeSelection::Multiplexer => 0,
        };
        if self.tree_lookups.rows(sets) > usable_rows {
            tracing::error!(
                rows = self.tree_lookups.rows(sets),
                usable_rows,
                "the tree lookup does not fit the circuit"
            );
            return Err(Error::NotEnoughRowsAvailable { current_k: self.base.config_params.k as u32 });
        }
        Circuit::synthesize(&self.base, config.base.clone(), layouter.namespace(|| "halo2-base"))?;
        let witness_only = self.base.witness_gen_only();
        let copies = self.base.core().copy_manager.clone();
        if let Some(poseidon) = &config.poseidon {
            layouter.assign_region(
                || "poseidon",
                |mut region| {
                    let guard = copies.lock().expect("copy manager lock");
                    let copies = (!witness_only).then_some(&*guard);
                    self.poseidon.assign(poseidon, &mut region, copies).map_err(|e| {
                        tracing::error!("{e}");
                        Error::Synthesis
                    })
                },
            )?;
        }
        if let Some(tree_lookup) = &config.tree_lookup {
            let layout = |e: super::tree_lookup::TreeLookupLayoutError| {
                tracing::error!("{e}");
                Error::Synthesis
            };
            layouter.assign_region(
                || "tree lookup table",
                |mut region| {
                    let guard = copies.lock().expect("copy manager lock");
                    let copies = (!witness_only).then_some(&*guard);
                    self.tree_lookups.assign_table(tree_lookup, &mut region, copies).map_err(layout)
                },
            )?;
            layouter.assign_region(
                || "tree lookups",
                |mut region| {
                    let guard = copies.lock().expect("copy manager lock");
                    let copies = (!witness_only).then_some(&*guard);
                    self.tree_lookups.assign_lookups(tree_lookup, &mut region, copies).map_err(layout)
                },
            )?;
        }
        Ok(())
    }
}

impl CircuitExt<Fr> for AppCircuit {
    fn num_instance(&self) -> Vec<usize> {
        <BaseCircuitBuilder<Fr> as CircuitExt<Fr>>::num_instance(&self.base)
    }

    fn instances(&self) -> Vec<Vec<Fr>> {
        self.instance_values()
    }

    fn selectors(config: &Self::Config) -> Vec<Selector> {
        let mut selectors = <BaseCircuitBuilder<Fr> as CircuitExt<Fr>>::selectors(&config.base);
        selectors.extend(config.poseidon.iter().flat_map(PoseidonConfig::selectors));
        selectors
    }
}
