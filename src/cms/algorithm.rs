//! Which ring verification algorithm checks a `SignerInfo`'s signature
//! (RFC 5652 §5.6), chosen from its `signatureAlgorithm`, its
//! `digestAlgorithm` and the signer certificate's key.
//!
//! - ECDSA (RFC 5753 §2.1.1, RFC 5758 §3.2): `ecdsa-with-SHA256` or
//!   `-SHA384`; the curve comes from the key (RFC 5480 §2.1.1), not from the
//!   algorithm, so a P-256 key signing with SHA-384 verifies too.
//! - RSASSA-PKCS1-v1_5 (RFC 8017 §8.2): `sha256WithRSAEncryption`,
//!   `sha384…`, `sha512…` (RFC 4055 §5, RFC 5754 §3.2), or plain
//!   `rsaEncryption`, whose hash is then the `digestAlgorithm` (RFC 3370
//!   §3.2), as OpenSSL and pyHanko write in time-stamp tokens.
//! - RSASSA-PSS (RFC 8017 §8.1) as `id-RSASSA-PSS` with `RSASSA-PSS-params`
//!   (RFC 4055 §3.1): SHA-256, SHA-384 or SHA-512 with MGF1 over the same
//!   hash, trailer field 1 and the salt length the parameters state. ring
//!   verifies a salt as long as the hash (the profile RFC 4055 §3.3
//!   recommends); any other salt, such as the largest one OpenSSL and
//!   pyHanko use, goes to [`super::pss`]. Other parameters are refused.
//! - RSA moduli of 2048 to 8192 bits, and odd public exponents from 3 to
//!   2^33 - 1 (what ring accepts; RFC 8017 §3.1).
//!
//! Anything else is [`CmsError::UnsupportedAlgorithm`], naming the
//! algorithm: the verifier cannot judge such a signature, which is not the
//! same as finding it forged (ETSI EN 319 102-1 §5.2.7, Table 5
//! CRYPTO_CONSTRAINTS_FAILURE).

use const_oid::ObjectIdentifier;
use der::asn1::{Null, Uint};
use der::{Any, Decode, Sequence};
use ring::signature::{self, VerificationAlgorithm};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;

use super::pss::{self, RsaPublicKey as PssKey};
use super::{CmsError, DigestAlgorithm, oid};

/// `RSASSA-PSS-params` (RFC 4055 §3.1; the module uses EXPLICIT tags).
///
/// ```text
/// RSASSA-PSS-params  ::=  SEQUENCE  {
///     hashAlgorithm      [0] HashAlgorithm DEFAULT sha1Identifier,
///     maskGenAlgorithm   [1] MaskGenAlgorithm DEFAULT mgf1SHA1Identifier,
///     saltLength         [2] INTEGER DEFAULT 20,
///     trailerField       [3] INTEGER DEFAULT 1  }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct RsassaPssParams {
    /// The message hash; SHA-1 when absent.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub hash_algorithm: Option<AlgorithmIdentifierOwned>,
    /// The mask generation function; MGF1 with SHA-1 when absent.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub mask_gen_algorithm: Option<AlgorithmIdentifierOwned>,
    /// The salt length in octets; 20 when absent.
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    pub salt_length: Option<u32>,
    /// The trailer field; 1 (0xBC) when absent, the only value defined.
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    pub trailer_field: Option<u32>,
}

/// `RSAPublicKey` (RFC 8017 Appendix A.1.1).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(super) struct RsaPublicKey {
    pub(super) modulus: Uint,
    pub(super) public_exponent: Uint,
}

/// The signer's key as its certificate describes it (RFC 5280 §4.1.2.7).
enum Key {
    /// `rsaEncryption` (RFC 8017 Appendix A.1), or `id-RSASSA-PSS` (RFC 4055
    /// §1.2), which may only verify PSS signatures; the modulus length in
    /// bits, and the modulus and public exponent (big-endian, no leading
    /// zeros).
    Rsa {
        bits: usize,
        pss_only: bool,
        modulus: Vec<u8>,
        exponent: Vec<u8>,
    },
    /// `id-ecPublicKey` on a named curve (RFC 5480 §2.1.1).
    Ec(ObjectIdentifier),
}

/// How a signature is checked.
pub(crate) enum Verifier<'a> {
    /// A ring algorithm and the key bytes it takes: the `RSAPublicKey` DER
    /// for RSA, the uncompressed point for ECDSA.
    Ring {
        algorithm: &'static dyn VerificationAlgorithm,
        public_key: &'a [u8],
    },
    /// RSASSA-PSS with a salt ring does not verify (not the hash length):
    /// [`pss::verify`] with MGF1 over `hash` and trailer field 1.
    Pss {
        key: PssKey,
        hash: DigestAlgorithm,
        salt_len: usize,
    },
}

impl Verifier<'_> {
    /// Checks `signature` over `message`; [`CmsError::BadSignature`] if it
    /// does not verify.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), CmsError> {
        match self {
            Verifier::Ring {
                algorithm,
                public_key,
            } => signature::UnparsedPublicKey::new(*algorithm, public_key)
                .verify(message, signature)
                .map_err(|_| CmsError::BadSignature("the signature value does not verify")),
            Verifier::Pss {
                key,
                hash,
                salt_len,
            } => pss::verify(key, *hash, *salt_len, message, signature)
                .map_err(CmsError::BadSignature),
        }
    }
}

/// An RSA verification: ring's algorithm, or RSASSA-PSS with a salt of
/// another length than the hash (for [`pss::verify`]).
enum RsaChoice {
    Ring(&'static dyn VerificationAlgorithm),
    Pss(DigestAlgorithm, usize),
}

/// The name of `oid` for messages: its dotted form and, if known, its name.
pub(crate) fn describe(oid: &ObjectIdentifier) -> String {
    match const_oid::db::DB.by_oid(oid) {
        Some(name) => format!("{oid} ({name})"),
        None => oid.to_string(),
    }
}

fn unsupported(algorithm: ObjectIdentifier, why: impl Into<String>) -> CmsError {
    CmsError::UnsupportedAlgorithm {
        algorithm,
        why: why.into(),
    }
}

/// The verifier for a signature made with `signature_algorithm` (and its
/// DER `parameters`) over data hashed with `digest_algorithm`, by the key of
/// `certificate`.
pub(crate) fn verifier<'a>(
    signature_algorithm: ObjectIdentifier,
    parameters: Option<&Any>,
    digest_algorithm: ObjectIdentifier,
    certificate: &'a Certificate,
) -> Result<Verifier<'a>, CmsError> {
    let spki = certificate.tbs_certificate().subject_public_key_info();
    let public_key = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| unsupported(signature_algorithm, "the public key is not whole octets"))?;
    let key = key_of(signature_algorithm, &spki.algorithm, public_key)?;
    let algorithm = match key {
        Key::Ec(curve) => ecdsa(signature_algorithm, curve)?,
        Key::Rsa {
            bits,
            pss_only,
            modulus,
            exponent,
        } => {
            if !(2048..=8192).contains(&bits) {
                return Err(unsupported(
                    signature_algorithm,
                    format!("an RSA key of {bits} bits (2048 to 8192 are verified)"),
                ));
            }
            check_exponent(signature_algorithm, &exponent)?;
            match rsa(signature_algorithm, parameters, digest_algorithm, pss_only)? {
                RsaChoice::Ring(algorithm) => algorithm,
                RsaChoice::Pss(hash, salt_len) => {
                    return Ok(Verifier::Pss {
                        key: PssKey::new(&modulus, &exponent),
                        hash,
                        salt_len,
                    });
                }
            }
        }
    };
    Ok(Verifier::Ring {
        algorithm,
        public_key,
    })
}

/// The public exponent ring (and so this verifier) accepts: odd, from 3 to
/// 2^33 - 1 (RFC 8017 §3.1 asks for an odd `e` of at least 3). Refusing
/// others here keeps a key ring would reject from being taken for a forgery.
fn check_exponent(signature_algorithm: ObjectIdentifier, exponent: &[u8]) -> Result<(), CmsError> {
    let value = (exponent.len() <= 8).then(|| {
        exponent
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
    });
    match value {
        Some(e) if e >= 3 && e % 2 == 1 && e < 1 << 33 => Ok(()),
        _ => Err(unsupported(
            signature_algorithm,
            format!(
                "an RSA public exponent of 0x{} (odd, 3 to 2^33 - 1 are verified)",
                hex::encode(exponent)
            ),
        )),
    }
}

fn key_of(
    signature_algorithm: ObjectIdentifier,
    key_algorithm: &AlgorithmIdentifierOwned,
    public_key: &[u8],
) -> Result<Key, CmsError> {
    match key_algorithm.oid {
        oid::RSA_ENCRYPTION | oid::RSASSA_PSS => {
            let key = RsaPublicKey::from_der(public_key).map_err(|e| {
                unsupported(
                    signature_algorithm,
                    format!("the RSA key cannot be read: {e}"),
                )
            })?;
            let modulus = key.modulus.as_bytes();
            let bits = match modulus.first() {
                Some(first) => modulus.len() * 8 - first.leading_zeros() as usize,
                None => 0,
            };
            Ok(Key::Rsa {
                bits,
                pss_only: key_algorithm.oid == oid::RSASSA_PSS,
                modulus: modulus.to_vec(),
                exponent: key.public_exponent.as_bytes().to_vec(),
            })
        }
        oid::EC_PUBLIC_KEY => {
            let curve = key_algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
                .ok_or_else(|| {
                    unsupported(signature_algorithm, "an EC key without a named curve")
                })?;
            Ok(Key::Ec(curve))
        }
        other => Err(unsupported(
            signature_algorithm,
            format!("a key of type {}", describe(&other)),
        )),
    }
}

/// ECDSA on the key's curve with the algorithm's hash.
fn ecdsa(
    signature_algorithm: ObjectIdentifier,
    curve: ObjectIdentifier,
) -> Result<&'static dyn VerificationAlgorithm, CmsError> {
    Ok(match (curve, signature_algorithm) {
        (oid::SECP256R1, oid::ECDSA_WITH_SHA256) => &signature::ECDSA_P256_SHA256_ASN1,
        (oid::SECP256R1, oid::ECDSA_WITH_SHA384) => &signature::ECDSA_P256_SHA384_ASN1,
        (oid::SECP384R1, oid::ECDSA_WITH_SHA256) => &signature::ECDSA_P384_SHA256_ASN1,
        (oid::SECP384R1, oid::ECDSA_WITH_SHA384) => &signature::ECDSA_P384_SHA384_ASN1,
        (oid::SECP256R1 | oid::SECP384R1, _) => {
            return Err(unsupported(
                signature_algorithm,
                "not ecdsa-with-SHA256 or ecdsa-with-SHA384 for an EC key",
            ));
        }
        (curve, _) => {
            return Err(unsupported(
                signature_algorithm,
                format!("an EC key on curve {}", describe(&curve)),
            ));
        }
    })
}

/// RSASSA-PKCS1-v1_5 (RFC 8017 §8.2) or RSASSA-PSS (§8.1).
fn rsa(
    signature_algorithm: ObjectIdentifier,
    parameters: Option<&Any>,
    digest_algorithm: ObjectIdentifier,
    pss_only: bool,
) -> Result<RsaChoice, CmsError> {
    use DigestAlgorithm::{Sha256, Sha384, Sha512};
    let pkcs1_hash = match signature_algorithm {
        oid::RSASSA_PSS => {
            return pss_choice(signature_algorithm, parameters);
        }
        _ if pss_only => {
            return Err(unsupported(
                signature_algorithm,
                "an id-RSASSA-PSS key signs only with RSASSA-PSS (RFC 4055 §1.2)",
            ));
        }
        oid::SHA256_WITH_RSA => Sha256,
        oid::SHA384_WITH_RSA => Sha384,
        oid::SHA512_WITH_RSA => Sha512,
        // RFC 3370 §3.2: with rsaEncryption the hash is the digestAlgorithm.
        oid::RSA_ENCRYPTION => DigestAlgorithm::from_oid(&digest_algorithm).ok_or_else(|| {
            unsupported(
                signature_algorithm,
                format!("with digest algorithm {}", describe(&digest_algorithm)),
            )
        })?,
        _ => {
            return Err(unsupported(
                signature_algorithm,
                "not PKCS#1 v1.5 with SHA-2 or RSASSA-PSS for an RSA key",
            ));
        }
    };
    // RFC 4055 §5: the parameters are NULL; absent is seen in the wild.
    if parameters.is_some_and(|p| p.decode_as::<Null>().is_err()) {
        return Err(unsupported(
            signature_algorithm,
            "parameters other than NULL (RFC 4055 §5)",
        ));
    }
    Ok(RsaChoice::Ring(match pkcs1_hash {
        Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        Sha384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        Sha512 => &signature::RSA_PKCS1_2048_8192_SHA512,
    }))
}

/// How to verify RSASSA-PSS with these parameters: ring when the salt is as
/// long as the hash, else [`pss::verify`] with the salt length stated.
fn pss_choice(
    signature_algorithm: ObjectIdentifier,
    parameters: Option<&Any>,
) -> Result<RsaChoice, CmsError> {
    use DigestAlgorithm::{Sha256, Sha384, Sha512};
    let (hash, salt_len) = pss_params(signature_algorithm, parameters)?;
    if salt_len != hash.output_len() {
        return Ok(RsaChoice::Pss(hash, salt_len));
    }
    Ok(RsaChoice::Ring(match hash {
        Sha256 => &signature::RSA_PSS_2048_8192_SHA256,
        Sha384 => &signature::RSA_PSS_2048_8192_SHA384,
        Sha512 => &signature::RSA_PSS_2048_8192_SHA512,
    }))
}

/// The hash and salt length of RSASSA-PSS parameters this verifier checks
/// (RFC 4055 §3.1): SHA-2, MGF1 with the same hash, any salt length,
/// trailer field 1.
fn pss_params(
    signature_algorithm: ObjectIdentifier,
    parameters: Option<&Any>,
) -> Result<(DigestAlgorithm, usize), CmsError> {
    let refuse = |why: String| unsupported(signature_algorithm, format!("RSASSA-PSS {why}"));
    let parameters = parameters
        .ok_or_else(|| refuse("without parameters (SHA-1 by default, RFC 4055 §3.1)".into()))?;
    let params = parameters
        .decode_as::<RsassaPssParams>()
        .map_err(|e| refuse(format!("parameters cannot be read: {e}")))?;
    let hash = match &params.hash_algorithm {
        None => return Err(refuse("with SHA-1 (the default hash)".into())),
        Some(hash) => sha2(hash).ok_or_else(|| refuse(format!("with {}", describe(&hash.oid))))?,
    };
    let mgf_hash = match &params.mask_gen_algorithm {
        Some(mgf) if mgf.oid == oid::MGF1 => mgf
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<AlgorithmIdentifierOwned>().ok())
            .and_then(|h| sha2(&h)),
        _ => None,
    };
    if mgf_hash != Some(hash) {
        return Err(refuse(format!(
            "whose mask generation is not MGF1 with {hash:?}"
        )));
    }
    if params.trailer_field.unwrap_or(1) != 1 {
        return Err(refuse("with a trailer field other than 1".into()));
    }
    // Whether the salt fits the modulus is RFC 8017 §9.1.2 step 3: a
    // signature whose salt does not is invalid, not unsupported.
    let salt = params.salt_length.unwrap_or(20);
    let salt =
        usize::try_from(salt).map_err(|_| refuse(format!("with a salt of {salt} octets")))?;
    Ok((hash, salt))
}

/// A SHA-2 hash identifier, its parameters absent or NULL (RFC 4055 §2.1:
/// implementations must accept both).
fn sha2(identifier: &AlgorithmIdentifierOwned) -> Option<DigestAlgorithm> {
    let plain = identifier
        .parameters
        .as_ref()
        .is_none_or(|p| p.decode_as::<Null>().is_ok());
    DigestAlgorithm::from_oid(&identifier.oid).filter(|_| plain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Encode;

    fn hash_id(oid: ObjectIdentifier, null: bool) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid,
            parameters: null.then(Any::null),
        }
    }

    fn mgf1(hash: ObjectIdentifier) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid: oid::MGF1,
            parameters: Some(Any::encode_from(&hash_id(hash, false)).unwrap()),
        }
    }

    fn pss(params: &RsassaPssParams) -> Result<(DigestAlgorithm, usize), CmsError> {
        let any = Any::from_der(&params.to_der().unwrap()).unwrap();
        pss_params(oid::RSASSA_PSS, Some(&any))
    }

    /// What `rsa` chose, for comparing: ring's algorithm by its `Debug`, or
    /// the hash and salt length of the PSS path.
    fn chosen(choice: Result<RsaChoice, CmsError>) -> Result<String, CmsError> {
        choice.map(|c| match c {
            RsaChoice::Ring(a) => format!("{a:?}"),
            RsaChoice::Pss(hash, salt) => format!("PSS {hash:?} salt {salt}"),
        })
    }

    fn params(hash: ObjectIdentifier, mgf: ObjectIdentifier, salt: u32) -> RsassaPssParams {
        RsassaPssParams {
            hash_algorithm: Some(hash_id(hash, true)),
            mask_gen_algorithm: Some(mgf1(mgf)),
            salt_length: Some(salt),
            trailer_field: None,
        }
    }

    #[test]
    fn pss_parameters_with_any_salt_are_accepted() {
        assert_eq!(
            pss(&params(oid::SHA256, oid::SHA256, 32)).unwrap(),
            (DigestAlgorithm::Sha256, 32)
        );
        assert_eq!(
            pss(&params(oid::SHA384, oid::SHA384, 48)).unwrap(),
            (DigestAlgorithm::Sha384, 48)
        );
        let mut sha512 = params(oid::SHA512, oid::SHA512, 64);
        sha512.trailer_field = Some(1);
        sha512.hash_algorithm = Some(hash_id(oid::SHA512, false));
        assert_eq!(pss(&sha512).unwrap(), (DigestAlgorithm::Sha512, 64));
        // OpenSSL's and pyHanko's largest salt, none, and the default 20.
        assert_eq!(
            pss(&params(oid::SHA256, oid::SHA256, 222)).unwrap(),
            (DigestAlgorithm::Sha256, 222)
        );
        assert_eq!(
            pss(&params(oid::SHA512, oid::SHA512, 0)).unwrap(),
            (DigestAlgorithm::Sha512, 0)
        );
        let mut default_salt = params(oid::SHA256, oid::SHA256, 0);
        default_salt.salt_length = None;
        assert_eq!(pss(&default_salt).unwrap(), (DigestAlgorithm::Sha256, 20));
    }

    #[test]
    fn ring_verifies_the_hash_length_salt_and_the_pss_module_the_others() {
        let choose = |p: RsassaPssParams| {
            let any = Any::from_der(&p.to_der().unwrap()).unwrap();
            chosen(rsa(oid::RSASSA_PSS, Some(&any), oid::SHA256, true)).unwrap()
        };
        assert_eq!(
            choose(params(oid::SHA384, oid::SHA384, 48)),
            format!("{:?}", &signature::RSA_PSS_2048_8192_SHA384)
        );
        assert_eq!(
            choose(params(oid::SHA256, oid::SHA256, 222)),
            "PSS Sha256 salt 222"
        );
        assert_eq!(
            choose(params(oid::SHA512, oid::SHA512, 32)),
            "PSS Sha512 salt 32"
        );
    }

    #[test]
    fn public_exponents_ring_would_refuse_are_unsupported() {
        for e in [&[3u8][..], &[1, 0, 1], &[1, 0xff, 0xff, 0xff, 0xff]] {
            check_exponent(oid::RSASSA_PSS, e).unwrap();
        }
        for e in [&[][..], &[1], &[2], &[1, 0, 0], &[2, 0, 0, 0, 1], &[1; 9]] {
            let text = check_exponent(oid::RSASSA_PSS, e).unwrap_err().to_string();
            assert!(text.contains("public exponent"), "{text}");
        }
    }

    #[test]
    fn other_pss_parameters_are_refused_as_unsupported_naming_why() {
        let sha1 = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
        let cases = [
            (params(oid::SHA256, oid::SHA384, 32), "MGF1"),
            (params(oid::SHA512, oid::SHA256, 222), "MGF1"),
            (params(sha1, sha1, 20), "1.3.14.3.2.26"),
            (
                RsassaPssParams {
                    hash_algorithm: None,
                    mask_gen_algorithm: None,
                    salt_length: None,
                    trailer_field: None,
                },
                "SHA-1",
            ),
            (
                RsassaPssParams {
                    trailer_field: Some(2),
                    ..params(oid::SHA256, oid::SHA256, 32)
                },
                "trailer",
            ),
        ];
        for (params, why) in cases {
            match pss(&params) {
                Err(e @ CmsError::UnsupportedAlgorithm { .. }) => {
                    let text = e.to_string();
                    assert!(text.contains("1.2.840.113549.1.1.10"), "{text}");
                    assert!(text.contains(why), "{text} should say {why}");
                }
                other => panic!("{params:?}: {other:?}"),
            }
        }
        assert!(matches!(
            pss_params(oid::RSASSA_PSS, None),
            Err(CmsError::UnsupportedAlgorithm { .. })
        ));
    }

    #[test]
    fn rsa_encryption_takes_its_hash_from_the_digest_algorithm() {
        let pkcs1 = |sig, digest| chosen(rsa(sig, None, digest, false));
        assert_eq!(
            pkcs1(oid::RSA_ENCRYPTION, oid::SHA384).unwrap(),
            format!("{:?}", &signature::RSA_PKCS1_2048_8192_SHA384)
        );
        assert_eq!(
            pkcs1(oid::SHA512_WITH_RSA, oid::SHA256).unwrap(),
            format!("{:?}", &signature::RSA_PKCS1_2048_8192_SHA512)
        );
        let sha1 = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
        assert!(matches!(
            pkcs1(oid::RSA_ENCRYPTION, sha1),
            Err(CmsError::UnsupportedAlgorithm { .. })
        ));
        assert!(matches!(
            rsa(oid::SHA256_WITH_RSA, None, oid::SHA256, true),
            Err(CmsError::UnsupportedAlgorithm { .. })
        ));
    }
}
