//! Signatures as other signers make them, which govseal itself never writes:
//! RSA keys (RSASSA-PKCS1-v1_5 and RSASSA-PSS, RFC 8017 §8.2 / §8.1), plain
//! `rsaEncryption` as the `SignerInfo` signature algorithm (what OpenSSL and
//! pyHanko write in time-stamp tokens), and RFC 3161 tokens that name their
//! certificate with ESS signing-certificate v1 (RFC 2634 §5.4). The CMS is
//! built here from the RustCrypto types and signed with ring: every case is
//! real cryptography. [`super::rsa_pki`] issues the certificates.
//!
//! The RSA keys are fixtures (`tests/data/rsa-*.pk8.der`, made once by
//! `tests/data/make-rsa-keys.sh`) because neither ring nor rcgen generates
//! RSA keys.

use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::ObjectIdentifier;
use der::asn1::{GeneralizedTime, OctetString, SetOfVec, Uint};
use der::{Any, Decode, Encode};
use govseal::cms::{
    DigestAlgorithm, EssCertId, RsassaPssParams, SigningCertificate, SigningCertificateV2, oid,
};
use govseal::timestamp::{Accuracy, MessageImprint, TstInfo};
use rcgen::KeyPair;
use ring::rand::SystemRandom;
use ring::signature::{self, RsaKeyPair};
use spki::AlgorithmIdentifierOwned;
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;

/// How an RSA signature is made and named in the `SignerInfo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// PKCS#1 v1.5 named `sha256WithRSAEncryption` etc. (RFC 4055 §5).
    Pkcs1,
    /// PKCS#1 v1.5 named plain `rsaEncryption`; the hash is the
    /// `digestAlgorithm` (RFC 3370 §3.2).
    RsaEncryption,
    /// RSASSA-PSS, MGF1 with the same hash, salt as long as the hash
    /// (RFC 4055 §3.1 parameters).
    Pss,
}

/// The ESS attribute naming the signer's certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ess {
    /// signing-certificate-v2 (RFC 5035), SHA-256.
    V2,
    /// signing-certificate (RFC 2634 §5.4), SHA-1.
    V1,
}

/// An RSA key pair from a fixture.
pub struct RsaKey {
    /// PKCS#8 DER.
    pub pkcs8: Vec<u8>,
    pair: RsaKeyPair,
}

impl RsaKey {
    /// `tests/data/rsa-<bits>.pk8.der` (2048, 3072 or 4096).
    pub fn fixture(bits: usize) -> RsaKey {
        let path = format!(
            "{}/tests/data/rsa-{bits}.pk8.der",
            env!("CARGO_MANIFEST_DIR")
        );
        let pkcs8 = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let pair = RsaKeyPair::from_pkcs8(&pkcs8).expect("an RSA PKCS#8 key");
        assert_eq!(pair.public().modulus_len() * 8, bits, "{path}");
        RsaKey { pkcs8, pair }
    }

    /// Signs `message` with `scheme` and `hash`.
    pub fn sign(&self, scheme: Scheme, hash: DigestAlgorithm, message: &[u8]) -> Vec<u8> {
        use DigestAlgorithm::{Sha256, Sha384, Sha512};
        let padding: &'static dyn signature::RsaEncoding = match (scheme, hash) {
            (Scheme::Pss, Sha256) => &signature::RSA_PSS_SHA256,
            (Scheme::Pss, Sha384) => &signature::RSA_PSS_SHA384,
            (Scheme::Pss, Sha512) => &signature::RSA_PSS_SHA512,
            (_, Sha256) => &signature::RSA_PKCS1_SHA256,
            (_, Sha384) => &signature::RSA_PKCS1_SHA384,
            (_, Sha512) => &signature::RSA_PKCS1_SHA512,
        };
        let mut out = vec![0; self.pair.public().modulus_len()];
        self.pair
            .sign(padding, &SystemRandom::new(), message, &mut out)
            .expect("RSA signing");
        out
    }

    /// The key for rcgen, signing certificates and CRLs with PKCS#1 v1.5 and `hash`.
    pub fn rcgen(&self, hash: DigestAlgorithm) -> KeyPair {
        let algorithm = match hash {
            DigestAlgorithm::Sha256 => &rcgen::PKCS_RSA_SHA256,
            DigestAlgorithm::Sha384 => &rcgen::PKCS_RSA_SHA384,
            DigestAlgorithm::Sha512 => &rcgen::PKCS_RSA_SHA512,
        };
        KeyPair::from_pkcs8_der_and_sign_algo(&self.pkcs8.as_slice().into(), algorithm)
            .expect("rcgen RSA key")
    }

    /// A [`Signing`] by this key.
    pub fn signing<'a>(
        &'a self,
        scheme: Scheme,
        hash: DigestAlgorithm,
        certificate: &'a [u8],
    ) -> Signing<'a> {
        Signing {
            certificate,
            certificates: vec![certificate.to_vec()],
            digest: hash,
            algorithm: rsa_algorithm(scheme, hash),
            sign: Box::new(move |message| self.sign(scheme, hash, message)),
            ess: Some(Ess::V2),
            ess_names: None,
        }
    }
}

/// The `SignerInfo` signature algorithm for an RSA scheme.
pub fn rsa_algorithm(scheme: Scheme, hash: DigestAlgorithm) -> AlgorithmIdentifierOwned {
    let null = || Some(Any::null());
    match scheme {
        Scheme::RsaEncryption => AlgorithmIdentifierOwned {
            oid: oid::RSA_ENCRYPTION,
            parameters: null(),
        },
        Scheme::Pkcs1 => AlgorithmIdentifierOwned {
            oid: match hash {
                DigestAlgorithm::Sha256 => oid::SHA256_WITH_RSA,
                DigestAlgorithm::Sha384 => oid::SHA384_WITH_RSA,
                DigestAlgorithm::Sha512 => oid::SHA512_WITH_RSA,
            },
            parameters: null(),
        },
        Scheme::Pss => {
            let hash_id = AlgorithmIdentifierOwned {
                oid: hash.oid(),
                parameters: null(),
            };
            let params = RsassaPssParams {
                hash_algorithm: Some(hash_id.clone()),
                mask_gen_algorithm: Some(AlgorithmIdentifierOwned {
                    oid: oid::MGF1,
                    parameters: Some(Any::encode_from(&hash_id).unwrap()),
                }),
                salt_length: Some(hash.output_len() as u32),
                trailer_field: None,
            };
            AlgorithmIdentifierOwned {
                oid: oid::RSASSA_PSS,
                parameters: Some(Any::encode_from(&params).unwrap()),
            }
        }
    }
}

/// Signs bytes (the DER of the signed attributes) and returns the signature.
pub type SignFn<'a> = Box<dyn Fn(&[u8]) -> Vec<u8> + Send + Sync + 'a>;

/// Who signs a `SignedData`, and how.
pub struct Signing<'a> {
    /// The signer's certificate, DER.
    pub certificate: &'a [u8],
    /// The certificates field (the signer's own first).
    pub certificates: Vec<Vec<u8>>,
    /// The digest algorithm of the message digest.
    pub digest: DigestAlgorithm,
    /// The `SignerInfo` signature algorithm, as written.
    pub algorithm: AlgorithmIdentifierOwned,
    /// Signs the DER of the signed attributes.
    pub sign: SignFn<'a>,
    /// The ESS attribute, if any.
    pub ess: Option<Ess>,
    /// The certificate the ESS attribute names, if not the signer's (to
    /// test that a token naming another certificate is refused).
    pub ess_names: Option<Vec<u8>>,
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Attribute {
    Attribute {
        oid,
        values: SetOfVec::try_from(vec![value]).unwrap(),
    }
}

/// A DER `ContentInfo` holding a `SignedData` by `signing` over content of
/// `content_type` whose digest is `message_digest`, encapsulating `econtent`
/// if given (RFC 5652 §5).
pub fn signed_data(
    signing: &Signing<'_>,
    content_type: ObjectIdentifier,
    econtent: Option<&[u8]>,
    message_digest: &[u8],
) -> Vec<u8> {
    let certificate = Certificate::from_der(signing.certificate).unwrap();
    let named = signing.ess_names.as_deref().unwrap_or(signing.certificate);
    let mut attributes = vec![
        attribute(oid::CONTENT_TYPE, Any::encode_from(&content_type).unwrap()),
        attribute(
            oid::MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(message_digest).unwrap()).unwrap(),
        ),
    ];
    match signing.ess {
        Some(Ess::V2) => attributes.push(attribute(
            oid::SIGNING_CERTIFICATE_V2,
            Any::encode_from(
                &SigningCertificateV2::for_certificate(
                    named,
                    &Certificate::from_der(named).unwrap(),
                )
                .unwrap(),
            )
            .unwrap(),
        )),
        Some(Ess::V1) => {
            let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, named);
            let v1 = SigningCertificate {
                certs: vec![EssCertId {
                    cert_hash: OctetString::new(sha1.as_ref()).unwrap(),
                    issuer_serial: None,
                }],
                policies: None,
            };
            attributes.push(attribute(
                oid::SIGNING_CERTIFICATE,
                Any::encode_from(&v1).unwrap(),
            ));
        }
        None => {}
    }
    let signed_attrs = SetOfVec::try_from(attributes).unwrap();
    let signature = (signing.sign)(&signed_attrs.to_der().unwrap());
    let tbs = certificate.tbs_certificate();
    let digest_id = AlgorithmIdentifierOwned {
        oid: signing.digest.oid(),
        parameters: None,
    };
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        }),
        digest_alg: digest_id.clone(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: signing.algorithm.clone(),
        signature: OctetString::new(signature).unwrap(),
        unsigned_attrs: None,
    };
    let certificates = signing
        .certificates
        .iter()
        .map(|der| cms::cert::CertificateChoices::Certificate(Certificate::from_der(der).unwrap()))
        .collect::<Vec<_>>();
    let signed_data = SignedData {
        version: if econtent.is_some() {
            CmsVersion::V3
        } else {
            CmsVersion::V1
        },
        digest_algorithms: SetOfVec::try_from(vec![digest_id]).unwrap(),
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: content_type,
            econtent: econtent.map(|c| Any::encode_from(&OctetString::new(c).unwrap()).unwrap()),
        },
        certificates: Some(CertificateSet::try_from(certificates).unwrap()),
        crls: None,
        signer_infos: SignerInfos::try_from(vec![signer_info]).unwrap(),
    };
    ContentInfo {
        content_type: oid::SIGNED_DATA,
        content: Any::encode_from(&signed_data).unwrap(),
    }
    .to_der()
    .unwrap()
}

/// An RFC 3161 token (§2.4.2) by `signing` over the SHA-256 `imprint`,
/// made at `gen_time`.
pub fn token(signing: &Signing<'_>, imprint: &[u8], gen_time: OffsetDateTime) -> Vec<u8> {
    let serial: [u8; 8] = rand_bytes();
    let seconds = u64::try_from(gen_time.unix_timestamp()).unwrap();
    let tst_info = TstInfo {
        version: 1,
        policy: ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.3161"),
        message_imprint: MessageImprint {
            hash_algorithm: AlgorithmIdentifierOwned {
                oid: oid::SHA256,
                parameters: None,
            },
            hashed_message: OctetString::new(imprint).unwrap(),
        },
        serial_number: Uint::new(&[&[0x01], &serial[..]].concat()).unwrap().into(),
        gen_time: GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(seconds))
            .unwrap(),
        accuracy: Some(Accuracy {
            seconds: Some(1),
            millis: None,
            micros: None,
        }),
        ordering: false,
        nonce: None,
        tsa: None,
        extensions: None,
    }
    .to_der()
    .unwrap();
    signed_data(
        signing,
        oid::TST_INFO,
        Some(&tst_info),
        &signing.digest.digest(&tst_info),
    )
}

/// Random bytes.
pub fn rand_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0; N];
    ring::rand::SecureRandom::fill(&SystemRandom::new(), &mut out).unwrap();
    out
}

/// `der` with the last byte of `part` changed.
pub fn flip_last_of(der: &[u8], part: &[u8]) -> Vec<u8> {
    let mut out = der.to_vec();
    out[super::attacks::find(der, part) + part.len() - 1] ^= 1;
    out
}

/// Signature algorithm identifiers the verifier cannot check, what each is,
/// and the OID each refusal must name.
pub fn unsupported_algorithms() -> Vec<(&'static str, AlgorithmIdentifierOwned, &'static str)> {
    let id = |oid: &str, parameters: Option<Any>| AlgorithmIdentifierOwned {
        oid: oid.parse().unwrap(),
        parameters,
    };
    let empty_pss = Any::new(der::Tag::Sequence, Vec::<u8>::new()).unwrap();
    vec![
        (
            "a made-up algorithm",
            id("1.3.6.1.4.1.99999.42", None),
            "1.3.6.1.4.1.99999.42",
        ),
        (
            "sha1WithRSAEncryption",
            id("1.2.840.113549.1.1.5", Some(Any::null())),
            "1.2.840.113549.1.1.5",
        ),
        (
            "DSA with SHA-256",
            id("2.16.840.1.101.3.4.3.2", None),
            "2.16.840.1.101.3.4.3.2",
        ),
        (
            "RSASSA-PSS with the default (SHA-1) parameters",
            id("1.2.840.113549.1.1.10", Some(empty_pss)),
            "1.2.840.113549.1.1.10",
        ),
        (
            "ECDSA named for an RSA key",
            id("1.2.840.10045.4.3.2", None),
            "1.2.840.10045.4.3.2",
        ),
    ]
}
