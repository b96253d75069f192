//! The `/Contents` reservation of PAdES signatures.

use der::oid::ObjectIdentifier;

use super::*;
use crate::cms::test_pki::TestPki;
use crate::document::{A4, DocumentBuilder};
use crate::keystore::KeyAlgorithm;
use crate::timestamp::TimeStampAuthority;

const POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.99999.1.3161");

/// A TSA that announces a bound its tokens do not keep.
struct Understating(TimeStampAuthority);

impl TimeStamper for Understating {
    fn timestamp(&self, sha256_digest: &[u8; 32]) -> Result<Vec<u8>, String> {
        TimeStamper::timestamp(&self.0, sha256_digest)
    }

    fn token_len_bound(&self) -> Option<usize> {
        Some(1)
    }
}

/// (bytes reserved for the CMS, bytes of CMS) of the only signature, after
/// checking that the CMS's message digest is the signed byte ranges'.
fn reserved(signed: &[u8]) -> (usize, usize) {
    let signature = &crate::pdf::signatures(signed).expect("signatures")[0];
    let [a, b, c, d] = signature.byte_range;
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    digest.update(&signed[a..a + b]);
    digest.update(&signed[c..c + d]);
    let cms = crate::cms::parse(&signature.contents).expect("CMS");
    assert_eq!(cms.message_digest, digest.finish().as_ref());
    assert!(cms.timestamp_token.is_some());
    ((c - b - 2) / 2, signature.contents.len())
}

#[test]
fn contents_reserves_about_what_the_signature_needs_and_falls_back_when_short() {
    let pki = TestPki::new(KeyAlgorithm::EcdsaP256);
    let tsa = TimeStampAuthority::new(
        pki.tsa.signer.clone(),
        pki.tsa.certificate.der.clone(),
        vec![pki.issuing.certificate.der.clone()],
        POLICY,
    )
    .expect("TSA");
    let mut document = DocumentBuilder::new().expect("font");
    document.add_page(A4);
    let pdf = document.finish().expect("pdf");
    let chain = vec![
        pki.issuing.certificate.der.clone(),
        pki.root.certificate.der.clone(),
    ];
    let identity = SigningIdentity {
        signer: &*pki.seal.signer,
        certificate: &pki.seal.certificate.der,
        chain: &chain,
    };
    let request = PadesRequest {
        level: Level::BT,
        field_name: "Test".into(),
        placement: None,
        reason: None,
        name: None,
        location: None,
        signing_time: OffsetDateTime::now_utc(),
    };
    let none = ValidationData::default();

    let snug = sign(&pdf, &request, &identity, Some(&tsa), &none).expect("signs");
    let (room, used) = reserved(&snug);
    assert!(used <= room && room < CADES_CAPACITY, "{used} in {room}");
    assert!(room - used <= CADES_OVERHEAD + 1024, "{used} in {room}");

    let fallback = sign(&pdf, &request, &identity, Some(&Understating(tsa)), &none)
        .expect("signs with the full reservation");
    let (room, used) = reserved(&fallback);
    assert_eq!(room, CADES_CAPACITY);
    assert!(used > 1024);
}
