//! Parameters and keys: the KZG reference string ([`srs`]) and proving/verifying keys cached on
//! disk under a digest of the circuit ([`cache`]), so keygen runs once per circuit shape, and the
//! standalone verifying-key artifact a verifier needs without the proving key ([`vk_file`]).

pub mod cache;
pub mod srs;
pub mod vk_file;

pub use cache::{circuit_digest, AppKeys, KeyError};
pub use srs::{load_params, SrsChoiceError, SrsError, SrsSource};
pub use vk_file::{LoadedVk, VkFile, VkFileError};
