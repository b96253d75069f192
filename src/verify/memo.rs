//! A memo of signatures that have already verified, shared by every
//! verification against one [`super::TrustStore`].
//!
//! Verifying a license QR code checks one signature of its own (the COSE
//! record) and, every time, the same six of the trust bundle: the seal
//! certificate by the issuing CA, the issuing CA by the root, and each CRL
//! by its issuer (twice: once to choose the authentic CRLs, once in
//! rustls-webpki's path validation). Those six never change while the bundle
//! is loaded, so their outcome is remembered: a verification is identified
//! by SHA-256 over its length-prefixed parts (what kind of check, algorithm,
//! public key, signed bytes, signature), and only successes are kept, so
//! finding one in the memo means exactly that this key verified this
//! signature over these bytes before. Dates, revocation and path rules are
//! still evaluated on every call; only the public-key arithmetic is skipped.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use ring::digest::{Context, SHA256};
use rustls_pki_types::{AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm};

/// Remembered successes before the memo starts afresh (32 bytes each).
const CAPACITY: usize = 1 << 16;

/// Fingerprints of verifications that succeeded. Clones share one memo.
#[derive(Clone, Default)]
pub struct SignatureMemo(Arc<Mutex<HashSet<[u8; 32]>>>);

impl std::fmt::Debug for SignatureMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SignatureMemo({} verified)", self.remembered())
    }
}

impl SignatureMemo {
    /// True if the verification identified by `parts` succeeded before, or
    /// if `verify` says it succeeds now (then it is remembered).
    pub(crate) fn verified(&self, parts: &[&[u8]], verify: impl FnOnce() -> bool) -> bool {
        let key = fingerprint(parts);
        if self.lock().contains(&key) {
            return true;
        }
        let ok = verify();
        if ok {
            let mut set = self.lock();
            if set.len() >= CAPACITY {
                set.clear();
            }
            set.insert(key);
        }
        ok
    }

    /// How many successful verifications are remembered.
    pub fn remembered(&self) -> usize {
        self.lock().len()
    }

    /// rustls-webpki's algorithms, each consulting this memo first: ECDSA
    /// P-256/P-384 with SHA-256/384, Ed25519, RSA PKCS#1 v1.5 (RFC 8017 §8.2)
    /// and RSASSA-PSS with an `rsaEncryption` key (RFC 4055 §3.1, §1.2), RSA
    /// moduli of 2048 to 8192 bits (the RSA ones need webpki's `alloc`
    /// feature, which `std` brings).
    pub(crate) fn webpki_algorithms(&self) -> Vec<MemoAlgorithm<'_>> {
        webpki::ALL_VERIFICATION_ALGS
            .iter()
            .map(|&inner| MemoAlgorithm { inner, memo: self })
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<[u8; 32]>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// SHA-256 over the parts, each preceded by its length, so that no two
/// different lists of parts are hashed as the same bytes.
fn fingerprint(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = Context::new(&SHA256);
    for part in parts {
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part);
    }
    let mut out = [0; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// A rustls-webpki signature algorithm that asks the memo before verifying.
#[derive(Debug)]
pub(crate) struct MemoAlgorithm<'a> {
    inner: &'static dyn SignatureVerificationAlgorithm,
    memo: &'a SignatureMemo,
}

impl SignatureVerificationAlgorithm for MemoAlgorithm<'_> {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        let (key_alg, sig_alg) = (
            self.inner.public_key_alg_id(),
            self.inner.signature_alg_id(),
        );
        let parts: [&[u8]; 6] = [
            b"webpki",
            key_alg.as_ref(),
            sig_alg.as_ref(),
            public_key,
            message,
            signature,
        ];
        let inner = self.inner;
        match self.memo.verified(&parts, || {
            inner
                .verify_signature(public_key, message, signature)
                .is_ok()
        }) {
            true => Ok(()),
            false => Err(InvalidSignature),
        }
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        self.inner.public_key_alg_id()
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        self.inner.signature_alg_id()
    }

    fn fips(&self) -> bool {
        self.inner.fips()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_successes_are_remembered_and_parts_are_not_confused() {
        let memo = SignatureMemo::default();
        assert!(!memo.verified(&[b"ab", b"c"], || false));
        assert!(
            !memo.verified(&[b"ab", b"c"], || false),
            "a failure is not kept"
        );
        assert!(memo.verified(&[b"ab", b"c"], || true));
        assert!(memo.verified(&[b"ab", b"c"], || panic!("not asked again")));
        // The same bytes split differently are another verification.
        assert!(!memo.verified(&[b"a", b"bc"], || false));
    }

    #[test]
    fn webpki_algorithms_verify_and_reject_real_signatures() {
        use ring::rand::SystemRandom;
        use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let signature = key.sign(&rng, b"signed").unwrap();
        let memo = SignatureMemo::default();
        let algorithms = memo.webpki_algorithms();
        let p256 = algorithms
            .iter()
            .find(|a| {
                a.inner.signature_alg_id() == webpki::ring::ECDSA_P256_SHA256.signature_alg_id()
            })
            .unwrap();
        let public = key.public_key().as_ref();
        for _ in 0..2 {
            assert!(
                p256.verify_signature(public, b"signed", signature.as_ref())
                    .is_ok()
            );
            assert!(
                p256.verify_signature(public, b"altered", signature.as_ref())
                    .is_err()
            );
        }
    }

    #[test]
    fn certificate_chains_may_be_signed_with_rsa() {
        use webpki::ring as alg;
        let memo = SignatureMemo::default();
        let ids: Vec<_> = memo
            .webpki_algorithms()
            .iter()
            .map(|a| (a.inner.public_key_alg_id(), a.inner.signature_alg_id()))
            .collect();
        let rsa: [&dyn SignatureVerificationAlgorithm; 6] = [
            alg::RSA_PKCS1_2048_8192_SHA256,
            alg::RSA_PKCS1_2048_8192_SHA384,
            alg::RSA_PKCS1_2048_8192_SHA512,
            alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
            alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
            alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
        ];
        for wanted in rsa {
            let id = (wanted.public_key_alg_id(), wanted.signature_alg_id());
            assert!(ids.contains(&id), "{wanted:?} is missing");
        }
    }
}
