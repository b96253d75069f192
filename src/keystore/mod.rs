//! The key store (密钥库): the only place private key bytes exist in clear.
//!
//! Keys are generated here, sealed with AES-256-GCM under the installation's
//! master key for storage (see `master_key`), and opened into [`Signer`]
//! objects that sign without ever handing out the key. Everything else in
//! govseal sees a `dyn Signer`; a PKCS#11/HSM signer can stand behind the same
//! trait later without touching callers.

mod commitment;
mod master_key;
mod signer;
mod software;

pub use commitment::CommitmentKey;
pub use master_key::{MasterKey, MasterKeyError, MasterKeySource};
pub use signer::{KeyAlgorithm, RcgenSigner, SignError, Signer};
pub use software::{KeyStore, KeyStoreError, SealedKey};
