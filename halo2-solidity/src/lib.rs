//! A shared Solidity verifier for halo2 proofs: one verifier contract per **proof system**, one
//! small verifying-key contract per circuit.
//!
//! snark-verifier's `EvmLoader` (what zkguard-prover's `evm::codegen` uses) unrolls everything,
//! the key included, into one contract that grows by about 170 bytes per public instance. This
//! crate instead renders (after PSE's halo2-solidity-verifier, commit f0626be, MIT: see
//! `NOTICE`) two sources with [`render`]:
//!
//! - `Halo2Verifier.sol`: gates, permutation and lookup arguments, the SHPLONK opening and the
//!   pairing, with **loops** over the instances, so its bytecode does not depend on the instance
//!   count. Its code depends only on the constraint system's shape (which defines the proof
//!   system: columns and phases, gates, lookups, permutation columns, queries, degree); `k`, the
//!   instance count, the fixed and permutation commitments, the transcript's initial state and
//!   the SRS points are read from the key at run time. Every circuit of one proof system renders
//!   the same verifier source (byte-identical with the same header) and
//!   [`Rendered::proof_system_digest`].
//! - `Halo2VerifyingKey.sol`: a contract whose runtime code is the key's words. The verifier
//!   reads it with `extcodecopy`; a registry pins its address and code hash.
//!
//! The verifier checks proofs of halo2-axiom's `ProverSHPLONK` with snark-verifier's
//! `EvmTranscript` (keccak), i.e. the proofs zkguard-prover's `prove` makes with
//! `Transcript::Evm`: the same proofs the unrolled verifiers accept. It is called as
//! `verifyProof(address vk, bytes proof, uint256[] instances)` (see [`calldata`]) and returns
//! true or reverts; it refuses instances `>= r`, any non-canonical ABI encoding, calldata that
//! is longer or shorter than the canonical one, and a `vk` whose code is not exactly a key of
//! its proof system's size.
//!
//! Aggregation circuits (snark-verifier's, whose first public instances are the limbs of a KZG
//! accumulator) render with [`render_with_accumulator`]: the [`AccumulatorEncoding`] is a
//! constant of the verifier's code (part of its proof system) and a word of the key; the
//! verifier refuses a key whose encoding is not its own, so an aggregation key is refused by an
//! app verifier and an app key by an aggregation verifier.
//!
//! Modules: [`generator`] (rendering), [`accumulator`], [`calldata`], [`provenance`] (file headers), [`error`];
//! private ports of PSE's code: `meta` (constraint system and memory map), `evaluator` (quotient
//! numerator), `pcs` (SHPLONK), `template`. This crate depends on halo2 only: compiling, files,
//! revm and zkguard's app circuits are `zkguard_prover::evm::shared_verifier`'s.

pub mod accumulator;
pub mod calldata;
pub mod error;
mod evaluator;
pub mod generator;
mod meta;
mod pcs;
pub mod provenance;
mod template;

pub use accumulator::AccumulatorEncoding;
pub use calldata::encode_verify_proof;
pub use error::SharedVerifierError;
pub use generator::{render, render_with_accumulator, Rendered};
pub use provenance::Provenance;
