//! A small PKI made with rcgen, for verification tests that need
//! certificates govseal itself would never issue (a leaf that is a CA, a
//! leaf not yet valid, an intermediate that is not a CA, …), and PDFs signed
//! with it by govseal's own PAdES engine ([`govseal::pades::sign`]).

use govseal::keystore::{KeyAlgorithm, SignError, Signer};
use govseal::pades::{Level, PadesRequest, SigningIdentity, TimeStamper, ValidationData};
use govseal::verify::TrustStore;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DnType, IsCa, Issuer,
    KeyIdMethod, KeyPair, KeyUsagePurpose, SerialNumber,
};
use time::{Duration, OffsetDateTime};

/// An rcgen key pair behind govseal's [`Signer`] trait (P-256, DER signatures).
pub struct TestKey(pub KeyPair);

impl Signer for TestKey {
    fn algorithm(&self) -> KeyAlgorithm {
        KeyAlgorithm::EcdsaP256
    }

    fn public_key(&self) -> &[u8] {
        self.0.public_key_raw()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        rcgen::SigningKey::sign(&self.0, message).map_err(|e| SignError(e.to_string()))
    }

    fn sign_fixed(&self, _message: &[u8]) -> Result<Vec<u8>, SignError> {
        Err(SignError("PAdES signs with DER signatures only".into()))
    }
}

/// A root, an optional intermediate, a leaf with its key, and an empty CRL
/// from every CA.
pub struct TestPki {
    /// The root certificate, DER.
    pub root: Vec<u8>,
    /// The intermediate, if any, DER.
    pub intermediates: Vec<Vec<u8>>,
    /// One current, empty CRL per CA, DER.
    pub crls: Vec<Vec<u8>>,
    /// The signer's certificate, DER.
    pub leaf: Vec<u8>,
    /// The signer's key.
    pub key: TestKey,
}

/// A profile edit applied to the default parameters of a certificate.
pub type Edit<'a> = &'a dyn Fn(&mut CertificateParams);

fn base(name: &str, ca: bool) -> CertificateParams {
    let now = OffsetDateTime::now_utc();
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Test PKI");
    params.distinguished_name.push(DnType::CommonName, name);
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(30);
    params.key_identifier_method = KeyIdMethod::Sha256;
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

fn empty_crl(issuer: &Issuer<'_, &KeyPair>) -> Vec<u8> {
    let now = OffsetDateTime::now_utc();
    CertificateRevocationListParams {
        this_update: now - Duration::hours(1),
        next_update: now + Duration::days(7),
        crl_number: SerialNumber::from_slice(&[1]),
        issuing_distribution_point: None,
        revoked_certs: Vec::new(),
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(issuer)
    .unwrap()
    .der()
    .to_vec()
}

impl TestPki {
    /// Root → (intermediate →) leaf, each made from a sane profile that
    /// `leaf` and `intermediate` then edit.
    pub fn new(leaf: Edit<'_>, intermediate: Option<Edit<'_>>) -> TestPki {
        let root_key = KeyPair::generate().unwrap();
        let root_params = base("Test Root", true);
        let root = root_params.self_signed(&root_key).unwrap().der().to_vec();
        let root_issuer = Issuer::from_params(&root_params, &root_key);
        let mut crls = vec![empty_crl(&root_issuer)];
        let leaf_key = KeyPair::generate().unwrap();
        let mut leaf_params = base("Test Signer", false);
        leaf(&mut leaf_params);
        let (leaf_der, intermediates) = match intermediate {
            None => (
                leaf_params.signed_by(&leaf_key, &root_issuer).unwrap(),
                vec![],
            ),
            Some(edit) => {
                let key = KeyPair::generate().unwrap();
                let mut params = base("Test Intermediate", true);
                edit(&mut params);
                let cert = params.signed_by(&key, &root_issuer).unwrap();
                let issuer = Issuer::from_params(&params, &key);
                crls.push(empty_crl(&issuer));
                let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
                (leaf, vec![cert.der().to_vec()])
            }
        };
        TestPki {
            root,
            intermediates,
            crls,
            leaf: leaf_der.der().to_vec(),
            key: TestKey(leaf_key),
        }
    }

    /// Signs `pdf` with govseal's PAdES engine: B-T with a signature
    /// time-stamp from `tsa`, B-B without one.
    pub fn sign(&self, pdf: &[u8], tsa: Option<&dyn TimeStamper>) -> Vec<u8> {
        let request = PadesRequest {
            level: if tsa.is_some() { Level::BT } else { Level::BB },
            field_name: "TestSignature".into(),
            placement: None,
            reason: None,
            name: None,
            location: None,
            signing_time: OffsetDateTime::now_utc(),
        };
        let identity = SigningIdentity {
            signer: &self.key,
            certificate: &self.leaf,
            chain: &self.intermediates,
        };
        govseal::pades::sign(pdf, &request, &identity, tsa, &ValidationData::default())
            .expect("PAdES signing")
    }

    /// This PKI's root and CRLs added to `store` (e.g. govseal's bundle, for its TSA).
    pub fn trusted_with(&self, store: &TrustStore) -> TrustStore {
        let mut anchors = store.anchors().to_vec();
        anchors.push(self.root.clone());
        let mut crls = store.crls().to_vec();
        crls.extend(self.crls.iter().cloned());
        TrustStore::from_parts(anchors, store.intermediates().to_vec(), crls)
    }

    /// Writes a trust bundle directory with this PKI only: `root.pem`, the
    /// intermediates in `intermediate.pem`, the CRLs in `crl/`.
    pub fn write_bundle(&self, dir: &std::path::Path) {
        let pem = |der: &[u8]| pem::encode(&pem::Pem::new("CERTIFICATE", der.to_vec()));
        std::fs::create_dir_all(dir.join("crl")).unwrap();
        std::fs::write(dir.join("root.pem"), pem(&self.root)).unwrap();
        for (i, der) in self.intermediates.iter().enumerate() {
            std::fs::write(dir.join(format!("intermediate-{i}.pem")), pem(der)).unwrap();
        }
        for (i, der) in self.crls.iter().enumerate() {
            std::fs::write(dir.join(format!("crl/{i}.crl")), der).unwrap();
        }
    }
}
