//! An RSA PKI made with rcgen from the key fixtures (root, signer, TSA and
//! CRL), an RSA time-stamping authority for govseal's PAdES engine, and PDFs
//! signed with the CMS of [`super::foreign_cms`].

use govseal::cms::{DigestAlgorithm, oid};
use govseal::pades::TimeStamper;
use govseal::pdf::{SignatureKind, SignatureRequest};
use govseal::verify::TrustStore;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CustomExtension, DnType,
    IsCa, Issuer, KeyIdMethod, KeyUsagePurpose, SerialNumber,
};
use time::{Duration, OffsetDateTime};

use super::foreign_cms::{Ess, RsaKey, Scheme, Signing, rand_bytes, signed_data, token};

/// A time-stamping authority with an RSA key, as a [`TimeStamper`] for
/// govseal's PAdES engine: signature and document time-stamps.
pub struct RsaTsa(pub Signing<'static>);

impl TimeStamper for RsaTsa {
    fn timestamp(&self, sha256_digest: &[u8; 32]) -> Result<Vec<u8>, String> {
        // One second back: the verifier's "now" may fall in the same second.
        let gen_time = OffsetDateTime::now_utc() - Duration::seconds(1);
        Ok(token(&self.0, sha256_digest, gen_time))
    }
}

/// An RSA PKI: a root (RSA-4096, certificates signed with SHA-384), a signer
/// (RSA-2048) and a TSA (RSA-3072, critical EKU id-kp-timeStamping alone,
/// RFC 3161 §2.3), and the root's empty CRL.
pub struct RsaPki {
    /// The root, DER.
    pub root: Vec<u8>,
    /// The root's CRL, DER.
    pub crl: Vec<u8>,
    /// The signer's certificate, DER (leaked: lives as long as the test).
    pub signer: &'static [u8],
    /// The signer's key.
    pub signer_key: &'static RsaKey,
    /// The TSA certificate, DER.
    pub tsa: &'static [u8],
    /// The TSA's key.
    pub tsa_key: &'static RsaKey,
}

fn params(name: &str, ca: bool) -> CertificateParams {
    let now = OffsetDateTime::now_utc();
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Foreign RSA PKI");
    params.distinguished_name.push(DnType::CommonName, name);
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(30);
    params.serial_number = Some(SerialNumber::from_slice(&rand_bytes::<12>()));
    params.key_identifier_method = KeyIdMethod::Sha256;
    params.use_authority_key_identifier_extension = !ca;
    if ca {
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    } else {
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::ContentCommitment,
        ];
    }
    params
}

/// A certificate for `key` alone, self-signed with SHA-256 (for checks of the
/// signature only, not of a chain).
pub fn self_signed(key: &RsaKey, name: &str) -> Vec<u8> {
    params(name, false)
        .self_signed(&key.rcgen(DigestAlgorithm::Sha256))
        .unwrap()
        .der()
        .to_vec()
}

impl RsaPki {
    /// Root → signer, root → TSA.
    pub fn new() -> RsaPki {
        let root_key = RsaKey::fixture(4096).rcgen(DigestAlgorithm::Sha384);
        let root_params = params("Foreign RSA Root", true);
        let root = root_params.self_signed(&root_key).unwrap().der().to_vec();
        let issuer = Issuer::from_params(&root_params, &root_key);
        let now = OffsetDateTime::now_utc();
        let crl = CertificateRevocationListParams {
            this_update: now - Duration::hours(1),
            next_update: now + Duration::days(7),
            crl_number: SerialNumber::from_slice(&[1]),
            issuing_distribution_point: None,
            revoked_certs: Vec::new(),
            key_identifier_method: KeyIdMethod::Sha256,
        }
        .signed_by(&issuer)
        .unwrap()
        .der()
        .to_vec();

        let signer_key: &'static RsaKey = Box::leak(Box::new(RsaKey::fixture(2048)));
        let signer = params("Foreign RSA Signer", false)
            .signed_by(&signer_key.rcgen(DigestAlgorithm::Sha256), &issuer)
            .unwrap()
            .der()
            .to_vec();

        let tsa_key: &'static RsaKey = Box::leak(Box::new(RsaKey::fixture(3072)));
        let mut tsa_params = params("Foreign RSA TSA", false);
        // extKeyUsage critical, id-kp-timeStamping only (RFC 3161 §2.3).
        let mut eku = CustomExtension::from_oid_content(
            &[2, 5, 29, 37],
            vec![
                0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08,
            ],
        );
        eku.set_criticality(true);
        tsa_params.custom_extensions.push(eku);
        let tsa = tsa_params
            .signed_by(&tsa_key.rcgen(DigestAlgorithm::Sha256), &issuer)
            .unwrap()
            .der()
            .to_vec();

        RsaPki {
            root,
            crl,
            signer: Vec::leak(signer),
            signer_key,
            tsa: Vec::leak(tsa),
            tsa_key,
        }
    }

    /// A trust store with this root and its CRL, plus `also`'s anchors and CRLs.
    pub fn trust_store(&self, also: Option<(&[u8], &[Vec<u8>])>) -> TrustStore {
        let mut anchors = vec![self.root.clone()];
        let mut crls = vec![self.crl.clone()];
        if let Some((root, their_crls)) = also {
            anchors.push(root.to_vec());
            crls.extend(their_crls.iter().cloned());
        }
        TrustStore::from_parts(anchors, Vec::new(), crls)
    }

    /// The signer signing with `scheme` and `hash`, carrying its chain.
    pub fn signing(&self, scheme: Scheme, hash: DigestAlgorithm) -> Signing<'static> {
        let mut signing = self.signer_key.signing(scheme, hash, self.signer);
        signing.certificates.push(self.root.clone());
        signing
    }

    /// The TSA signing with `scheme` over SHA-256, naming itself with `ess`.
    pub fn tsa(&self, scheme: Scheme, ess: Ess) -> RsaTsa {
        let mut signing = self
            .tsa_key
            .signing(scheme, DigestAlgorithm::Sha256, self.tsa);
        signing.certificates.push(self.root.clone());
        signing.ess = Some(ess);
        RsaTsa(signing)
    }
}

/// `pdf` signed by `signing` as a PAdES signature (`/ETSI.CAdES.detached`),
/// with a signature time-stamp from `tsa` if given.
pub fn sign_pdf(pdf: &[u8], signing: &Signing<'_>, tsa: Option<&dyn TimeStamper>) -> Vec<u8> {
    let prepared = govseal::pdf::prepare(
        pdf,
        &SignatureRequest::invisible(
            "ForeignSignature",
            SignatureKind::Cades,
            OffsetDateTime::now_utc(),
            24 * 1024,
        ),
    )
    .unwrap();
    let digest = signing.digest.digest(&prepared.signed_data());
    let mut cms = signed_data(signing, oid::DATA, None, &digest);
    if let Some(tsa) = tsa {
        let value = govseal::cms::signature_value(&cms).unwrap();
        let imprint: [u8; 32] = ring::digest::digest(&ring::digest::SHA256, &value)
            .as_ref()
            .try_into()
            .unwrap();
        let token = tsa.timestamp(&imprint).unwrap();
        cms = govseal::cms::add_signature_timestamp(&cms, &token).unwrap();
    }
    prepared.finish(&cms).unwrap()
}
