//! The software key store: ring key pairs, sealed at rest under the master key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ring::aead::{Aad, NONCE_LEN, Nonce};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P256_SHA256_FIXED_SIGNING,
    ECDSA_P384_SHA384_ASN1_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair,
    KeyPair,
};
use zeroize::Zeroizing;

use super::master_key::MasterKey;
use super::signer::{KeyAlgorithm, SignError, Signer};

/// A private key as it is stored: public half in clear, private half sealed.
#[derive(Clone, Debug)]
pub struct SealedKey {
    /// The key's identifier (also bound into the ciphertext as associated data).
    pub id: String,
    /// Its algorithm.
    pub algorithm: KeyAlgorithm,
    /// The raw public key (see [`Signer::public_key`]).
    pub public_key: Vec<u8>,
    /// `nonce ‖ AES-256-GCM(PKCS#8) ‖ tag`.
    pub sealed_private_key: Vec<u8>,
}

/// Why the key store could not generate or open a key.
#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    /// The master key does not open this key: wrong `GOVSEAL_MASTER_KEY`, or the stored key was altered.
    #[error(
        "key {0} cannot be opened with this master key (wrong GOVSEAL_MASTER_KEY, or the stored key was altered)"
    )]
    WrongMasterKey(String),
    /// The opened key does not match its stored public key or algorithm.
    #[error("key {0} is corrupt")]
    Corrupt(String),
    /// The system random generator failed.
    #[error("key generation failed")]
    Generation,
}

/// Generates, seals and opens private keys.
pub struct KeyStore {
    master: MasterKey,
    rng: SystemRandom,
    /// Keys opened before, by id: a key id always names the same key, so a
    /// signer once opened need not be read and decrypted again. Whether the
    /// key may still sign (its seal, its certificate) is for the caller to
    /// check every time.
    opened: Mutex<HashMap<String, Arc<dyn Signer>>>,
    /// The installation's commitment key, once opened ([`KeyStore::install_commitment_key`]).
    commitment: std::sync::OnceLock<Arc<super::CommitmentKey>>,
}

/// Opened keys kept before the cache starts afresh.
const OPENED_CAPACITY: usize = 4096;

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore")
            .field("master", &self.master)
            .field("opened", &self.opened_keys().len())
            .finish_non_exhaustive()
    }
}

fn aad(id: &str, algorithm: KeyAlgorithm) -> Vec<u8> {
    format!("govseal-key-v1|{id}|{}", algorithm.as_str()).into_bytes()
}

impl KeyStore {
    /// A key store sealing under `master`.
    pub fn new(master: MasterKey) -> Self {
        KeyStore {
            master,
            rng: SystemRandom::new(),
            opened: Mutex::default(),
            commitment: std::sync::OnceLock::new(),
        }
    }

    pub(super) fn rng(&self) -> &SystemRandom {
        &self.rng
    }

    /// Keeps the installation's opened commitment key for the log's writers
    /// (the first one installed stays).
    pub fn install_commitment_key(&self, key: super::CommitmentKey) -> Arc<super::CommitmentKey> {
        self.commitment.get_or_init(|| Arc::new(key)).clone()
    }

    /// The commitment key, if [`KeyStore::install_commitment_key`] ran.
    pub fn commitment_key(&self) -> Option<Arc<super::CommitmentKey>> {
        self.commitment.get().cloned()
    }

    /// The master key's provenance (for start-up warnings).
    pub fn master_key(&self) -> &MasterKey {
        &self.master
    }

    /// Generates a new key named `id`, returning its sealed form and a signer.
    pub fn generate(
        &self,
        id: &str,
        algorithm: KeyAlgorithm,
    ) -> Result<(SealedKey, Arc<dyn Signer>), KeyStoreError> {
        let pkcs8 = Zeroizing::new(
            match algorithm {
                KeyAlgorithm::EcdsaP256 => {
                    EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &self.rng)
                }
                KeyAlgorithm::EcdsaP384 => {
                    EcdsaKeyPair::generate_pkcs8(&ECDSA_P384_SHA384_ASN1_SIGNING, &self.rng)
                }
                KeyAlgorithm::Ed25519 => Ed25519KeyPair::generate_pkcs8(&self.rng),
            }
            .map_err(|_| KeyStoreError::Generation)?
            .as_ref()
            .to_vec(),
        );
        let signer = SoftwareSigner::from_pkcs8(algorithm, &pkcs8, &self.rng)
            .ok_or(KeyStoreError::Generation)?;
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| KeyStoreError::Generation)?;
        let mut buffer = pkcs8.to_vec();
        self.master
            .aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(id, algorithm)),
                &mut buffer,
            )
            .map_err(|_| KeyStoreError::Generation)?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&buffer);
        let key = SealedKey {
            id: id.to_string(),
            algorithm,
            public_key: signer.public_key().to_vec(),
            sealed_private_key: sealed,
        };
        Ok((key, Arc::new(signer)))
    }

    /// Opens a stored key into a signer.
    pub fn open(&self, key: &SealedKey) -> Result<Arc<dyn Signer>, KeyStoreError> {
        if key.sealed_private_key.len() < NONCE_LEN {
            return Err(KeyStoreError::Corrupt(key.id.clone()));
        }
        let (nonce, ciphertext) = key.sealed_private_key.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| KeyStoreError::Corrupt(key.id.clone()))?;
        let mut buffer = Zeroizing::new(ciphertext.to_vec());
        let plain = self
            .master
            .aead
            .open_in_place(nonce, Aad::from(aad(&key.id, key.algorithm)), &mut buffer)
            .map_err(|_| KeyStoreError::WrongMasterKey(key.id.clone()))?;
        let signer = SoftwareSigner::from_pkcs8(key.algorithm, plain, &self.rng)
            .ok_or_else(|| KeyStoreError::Corrupt(key.id.clone()))?;
        if signer.public_key() != key.public_key.as_slice() {
            return Err(KeyStoreError::Corrupt(key.id.clone()));
        }
        let signer: Arc<dyn Signer> = Arc::new(signer);
        let mut opened = self.opened_keys();
        if opened.len() >= OPENED_CAPACITY {
            opened.clear();
        }
        opened.insert(key.id.clone(), signer.clone());
        Ok(signer)
    }

    /// The signer of key `id` if [`KeyStore::open`] opened it before.
    pub fn opened(&self, id: &str) -> Option<Arc<dyn Signer>> {
        self.opened_keys().get(id).cloned()
    }

    fn opened_keys(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<dyn Signer>>> {
        self.opened
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One ECDSA key loaded twice: ring fixes the signature encoding per key object.
struct EcdsaPair {
    algorithm: KeyAlgorithm,
    asn1: EcdsaKeyPair,
    fixed: EcdsaKeyPair,
    rng: SystemRandom,
}

/// A signer holding ring key pairs in memory.
enum SoftwareSigner {
    Ecdsa(Box<EcdsaPair>),
    Ed25519(Ed25519KeyPair),
}

impl SoftwareSigner {
    fn from_pkcs8(algorithm: KeyAlgorithm, pkcs8: &[u8], rng: &SystemRandom) -> Option<Self> {
        let ecdsa = |asn1_alg, fixed_alg| -> Option<Self> {
            Some(SoftwareSigner::Ecdsa(Box::new(EcdsaPair {
                algorithm,
                asn1: EcdsaKeyPair::from_pkcs8(asn1_alg, pkcs8, rng).ok()?,
                fixed: EcdsaKeyPair::from_pkcs8(fixed_alg, pkcs8, rng).ok()?,
                rng: rng.clone(),
            })))
        };
        match algorithm {
            KeyAlgorithm::EcdsaP256 => ecdsa(
                &ECDSA_P256_SHA256_ASN1_SIGNING,
                &ECDSA_P256_SHA256_FIXED_SIGNING,
            ),
            KeyAlgorithm::EcdsaP384 => ecdsa(
                &ECDSA_P384_SHA384_ASN1_SIGNING,
                &ECDSA_P384_SHA384_FIXED_SIGNING,
            ),
            KeyAlgorithm::Ed25519 => Ed25519KeyPair::from_pkcs8(pkcs8)
                .ok()
                .map(SoftwareSigner::Ed25519),
        }
    }
}

impl Signer for SoftwareSigner {
    fn algorithm(&self) -> KeyAlgorithm {
        match self {
            SoftwareSigner::Ecdsa(pair) => pair.algorithm,
            SoftwareSigner::Ed25519(_) => KeyAlgorithm::Ed25519,
        }
    }

    fn public_key(&self) -> &[u8] {
        match self {
            SoftwareSigner::Ecdsa(pair) => pair.asn1.public_key().as_ref(),
            SoftwareSigner::Ed25519(k) => k.public_key().as_ref(),
        }
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        match self {
            SoftwareSigner::Ecdsa(pair) => pair
                .asn1
                .sign(&pair.rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| SignError("ECDSA signing failed".into())),
            SoftwareSigner::Ed25519(k) => Ok(k.sign(message).as_ref().to_vec()),
        }
    }

    fn sign_fixed(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        match self {
            SoftwareSigner::Ecdsa(pair) => pair
                .fixed
                .sign(&pair.rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| SignError("ECDSA signing failed".into())),
            SoftwareSigner::Ed25519(k) => Ok(k.sign(message).as_ref().to_vec()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};

    fn store() -> KeyStore {
        KeyStore::new(MasterKey::from_text(&"11".repeat(32)).unwrap())
    }

    #[test]
    fn sealed_key_reopens_and_signs_verifiably() {
        let ks = store();
        let (sealed, signer) = ks.generate("k1", KeyAlgorithm::EcdsaP256).unwrap();
        let reopened = ks.open(&sealed).unwrap();
        assert_eq!(reopened.public_key(), signer.public_key());
        let sig = reopened.sign(b"hello").unwrap();
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &sealed.public_key)
            .verify(b"hello", &sig)
            .unwrap();
        let fixed = reopened.sign_fixed(b"hello").unwrap();
        assert_eq!(fixed.len(), 64);
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &sealed.public_key)
            .verify(b"hello", &fixed)
            .unwrap();
    }

    #[test]
    fn an_opened_key_is_kept_by_id_and_a_failed_open_keeps_nothing() {
        let ks = store();
        let (sealed, signer) = ks.generate("k1", KeyAlgorithm::EcdsaP256).unwrap();
        assert!(ks.opened("k1").is_none(), "generating is not opening");
        ks.open(&sealed).unwrap();
        assert_eq!(ks.opened("k1").unwrap().public_key(), signer.public_key());
        assert!(ks.opened("k2").is_none());
        let mut renamed = sealed.clone();
        renamed.id = "k2".into();
        assert!(ks.open(&renamed).is_err());
        assert!(ks.opened("k2").is_none());
    }

    #[test]
    fn wrong_master_key_or_renamed_key_does_not_open() {
        let (sealed, _) = store().generate("k1", KeyAlgorithm::EcdsaP256).unwrap();
        let other = KeyStore::new(MasterKey::from_text(&"22".repeat(32)).unwrap());
        assert!(matches!(
            other.open(&sealed),
            Err(KeyStoreError::WrongMasterKey(_))
        ));
        let mut renamed = sealed.clone();
        renamed.id = "k2".into();
        assert!(matches!(
            store().open(&renamed),
            Err(KeyStoreError::WrongMasterKey(_))
        ));
    }

    #[test]
    fn sealed_bytes_do_not_contain_the_private_key() {
        // The PKCS#8 prefix of an EC key must not appear in what is stored.
        let (sealed, _) = store().generate("k1", KeyAlgorithm::EcdsaP256).unwrap();
        let prefix = [0x30u8, 0x81, 0x87, 0x02, 0x01, 0x00];
        assert!(
            !sealed
                .sealed_private_key
                .windows(prefix.len())
                .any(|w| w == prefix)
        );
    }
}
