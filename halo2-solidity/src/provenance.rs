//! The headers of generated files: the command that produced them and what they are for.
//!
//! The verifier's header names only the proof system, so that every circuit of one proof system
//! renders the byte-identical verifier; the key's header names its circuit.

/// Where a pair of generated sources comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provenance {
    /// The exact command that produced the files.
    pub command: String,
    /// One line naming the proof system (e.g. "app circuits, flex-gate Poseidon, 1 advice column").
    pub proof_system: String,
    /// One line naming the circuit of the key (e.g. its digest and shape).
    pub circuit: String,
    /// Identity of the KZG parameters.
    pub srs: String,
    /// Whether those parameters are the insecure development setup.
    pub insecure_srs: bool,
}

impl Provenance {
    fn warning(&self) -> &'static str {
        if self.insecure_srs {
            "\n// WARNING: INSECURE DEVELOPMENT SRS (publicly known secret): anyone can forge proofs for this key."
        } else {
            ""
        }
    }

    /// The verifier's header (the same for every circuit of the proof system).
    pub(crate) fn verifier_header(&self) -> String {
        format!(
            "// GENERATED FILE: never edit by hand. Regenerate with:\n\
             //   {command}\n\
             // Shared halo2 verifier (SHPLONK over KZG/BN254, keccak transcript) of one proof system:\n\
             //   {system}\n\
             // Produced by zkguard-halo2-solidity {version}. Compile with the optimizer off. The verifying\n\
             // key is the code of the `vk` contract passed to verifyProof: callers must pin it.",
            command = self.command,
            system = self.proof_system,
            version = env!("CARGO_PKG_VERSION"),
        )
    }

    /// The key contract's header.
    pub(crate) fn vk_header(&self, k: u32, num_instances: usize) -> String {
        format!(
            "// GENERATED FILE: never edit by hand. Regenerate with:\n\
             //   {command}\n\
             // Verifying key of {circuit} (k = {k}, {num_instances} public instances).\n\
             // Proof system: {system}. KZG parameters: {srs}.{warning}\n\
             // Produced by zkguard-halo2-solidity {version}; read by the shared Halo2Verifier.",
            command = self.command,
            circuit = self.circuit,
            system = self.proof_system,
            srs = self.srs,
            warning = self.warning(),
            version = env!("CARGO_PKG_VERSION"),
        )
    }
}
