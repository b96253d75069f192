//! The installation's commitment key (个人信息承诺密钥): a random 256-bit
//! HMAC-SHA-256 secret (RFC 2104) sealed under the master key like every
//! private key. Log entries commit to personal data (names, ID numbers,
//! free-text reasons) only as HMACs under it, so the public log reveals
//! nothing personal (PIPL) while the audit, holding the database and this
//! key, can still check every value.

use ring::aead::{Aad, NONCE_LEN, Nonce};
use ring::hmac;
use ring::rand::SecureRandom;
use zeroize::Zeroizing;

use super::software::{KeyStore, KeyStoreError};

/// Associated data binding the sealed secret to its purpose.
const AAD: &[u8] = b"govseal-secret-v1|log-commitment-hmac-sha256";
const NAME: &str = "log commitment key";

/// An opened commitment key; its bytes never leave it.
pub struct CommitmentKey(hmac::Key);

impl std::fmt::Debug for CommitmentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CommitmentKey(..)")
    }
}

impl CommitmentKey {
    /// HMAC-SHA-256 of `data` under this key.
    pub fn commit(&self, data: &[u8]) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(hmac::sign(&self.0, data).as_ref());
        out
    }
}

impl KeyStore {
    /// A new random commitment secret, sealed for storage (`nonce ‖ AES-256-GCM ‖ tag`).
    pub fn new_commitment_secret(&self) -> Result<Vec<u8>, KeyStoreError> {
        let mut secret = Zeroizing::new(vec![0u8; 32]);
        let mut nonce = [0u8; NONCE_LEN];
        self.rng()
            .fill(&mut secret)
            .and_then(|()| self.rng().fill(&mut nonce))
            .map_err(|_| KeyStoreError::Generation)?;
        let mut buffer = secret.to_vec();
        self.master_key()
            .aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(AAD),
                &mut buffer,
            )
            .map_err(|_| KeyStoreError::Generation)?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&buffer);
        Ok(sealed)
    }

    /// Opens a sealed commitment secret.
    pub fn open_commitment_key(&self, sealed: &[u8]) -> Result<CommitmentKey, KeyStoreError> {
        if sealed.len() < NONCE_LEN {
            return Err(KeyStoreError::Corrupt(NAME.into()));
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| KeyStoreError::Corrupt(NAME.into()))?;
        let mut buffer = Zeroizing::new(ciphertext.to_vec());
        let plain = self
            .master_key()
            .aead
            .open_in_place(nonce, Aad::from(AAD), &mut buffer)
            .map_err(|_| KeyStoreError::WrongMasterKey(NAME.into()))?;
        if plain.len() != 32 {
            return Err(KeyStoreError::Corrupt(NAME.into()));
        }
        Ok(CommitmentKey(hmac::Key::new(hmac::HMAC_SHA256, plain)))
    }
}

#[cfg(test)]
mod tests {
    use crate::keystore::{KeyStore, MasterKey};

    #[test]
    fn a_sealed_secret_reopens_to_the_same_key_and_only_under_its_master_key() {
        let store = KeyStore::new(MasterKey::from_text(&"11".repeat(32)).unwrap());
        let sealed = store.new_commitment_secret().unwrap();
        let a = store.open_commitment_key(&sealed).unwrap();
        let b = store.open_commitment_key(&sealed).unwrap();
        assert_eq!(a.commit(b"Li Lei"), b.commit(b"Li Lei"));
        assert_ne!(a.commit(b"Li Lei"), a.commit(b"Han Meimei"));
        let other = store.new_commitment_secret().unwrap();
        let c = store.open_commitment_key(&other).unwrap();
        assert_ne!(a.commit(b"Li Lei"), c.commit(b"Li Lei"), "per installation");
        let stranger = KeyStore::new(MasterKey::from_text(&"22".repeat(32)).unwrap());
        assert!(stranger.open_commitment_key(&sealed).is_err());
    }
}
