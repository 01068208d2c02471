//! Why a shared verifier or verifying key could not be rendered.

/// Why rendering failed.
#[derive(Debug, thiserror::Error)]
pub enum SharedVerifierError {
    /// The KZG parameters are not those of the verifying key's k.
    #[error("the KZG parameters are for k = {params_k}, the verifying key for k = {vk_k}")]
    ParamsMismatch {
        /// k of the parameters.
        params_k: u32,
        /// k of the verifying key.
        vk_k: u32,
    },
    /// The constraint system has a feature this verifier does not implement.
    #[error("unsupported constraint system: {0}")]
    Unsupported(&'static str),
    /// More public instances than the circuit has usable rows.
    #[error("{num_instances} public instances do not fit the {usable_rows} usable rows of a k = {k} circuit")]
    TooManyInstances {
        /// Instances asked for.
        num_instances: usize,
        /// Rows the instance column can use.
        usable_rows: usize,
        /// k of the circuit.
        k: u32,
    },
    /// An accumulator encoding that does not fit the circuit or cannot encode a G1 point.
    #[error("invalid accumulator encoding {encoding:?}: {reason}")]
    Accumulator {
        /// The encoding.
        encoding: crate::accumulator::AccumulatorEncoding,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A template failed to render.
    #[error("cannot render {template}: {source}")]
    Render {
        /// Which template.
        template: &'static str,
        /// askama's error.
        #[source]
        source: askama::Error,
    },
}
