//! The submission signer: a private key from an environment variable, or an encrypted JSON
//! keystore whose password is in an environment variable. Neither the key nor the password is
//! ever logged (`PrivateKeySigner`'s `Debug` prints only the address).

use alloy::signers::local::PrivateKeySigner;

use crate::config::ChainConfig;
use crate::secret::Secret;

/// Why the signer could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    /// Neither source is configured.
    #[error("no signer: set {0} to a hex private key, or chain.keystore and its password variable")]
    Missing(String),
    /// The key does not parse (the value is not shown).
    #[error("{0} does not hold a valid hex private key")]
    BadKey(String),
    /// The keystore cannot be decrypted.
    #[error("keystore {path}: {message}")]
    Keystore {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
}

/// Loads the signer described by `chain`.
pub fn load_signer(chain: &ChainConfig) -> Result<PrivateKeySigner, SignerError> {
    if let Some(path) = &chain.keystore {
        let password = Secret::new(std::env::var(&chain.keystore_password_env).unwrap_or_default());
        return PrivateKeySigner::decrypt_keystore(path, password.expose())
            .map_err(|e| SignerError::Keystore { path: path.display().to_string(), message: e.to_string() });
    }
    let key = Secret::new(
        std::env::var(&chain.signer_key_env).map_err(|_| SignerError::Missing(chain.signer_key_env.clone()))?,
    );
    key.expose().trim().parse::<PrivateKeySigner>().map_err(|_| SignerError::BadKey(chain.signer_key_env.clone()))
}
