//! Stamping cost per PAdES level, against drawing the seal alone as the baseline
//! measured in the same run: `cargo bench --bench stamping`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use govseal::keystore::{KeyAlgorithm, KeyStore, MasterKey, Signer};
use govseal::pades::{self, Level, PadesRequest, Placement, SigningIdentity, ValidationData};
use govseal::pki::{self, CertificateRole, Subject};
use govseal::seal::SealAppearance;
use govseal::timestamp::TimeStampAuthority;
use time::{Duration, OffsetDateTime};

fn plain_pdf() -> Vec<u8> {
    use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};
    let mut pdf = Pdf::new();
    let (catalog, pages, page, font, content) = (
        Ref::new(1),
        Ref::new(2),
        Ref::new(3),
        Ref::new(4),
        Ref::new(5),
    );
    pdf.catalog(catalog).pages(pages);
    pdf.pages(pages).kids([page]).count(1);
    let mut p = pdf.page(page);
    p.media_box(Rect::new(0.0, 0.0, 595.0, 842.0))
        .parent(pages)
        .contents(content);
    p.resources().fonts().pair(Name(b"F1"), font);
    p.finish();
    pdf.type1_font(font).base_font(Name(b"Helvetica"));
    let mut c = Content::new();
    c.begin_text()
        .set_font(Name(b"F1"), 14.0)
        .next_line(72.0, 760.0)
        .show(Str(b"Approval"))
        .end_text();
    pdf.stream(content, &c.finish());
    pdf.finish()
}

struct Setup {
    seal: Arc<dyn Signer>,
    seal_cert: Vec<u8>,
    chain: Vec<Vec<u8>>,
    tsa: TimeStampAuthority,
    validation: ValidationData,
}

fn setup() -> Setup {
    let keys = KeyStore::new(MasterKey::from_text(&"11".repeat(32)).unwrap());
    let now = OffsetDateTime::now_utc();
    let subject = |cn: &str| Subject {
        common_name: cn.into(),
        ..Subject::default()
    };
    let (_, root_key) = keys.generate("root", KeyAlgorithm::EcdsaP256).unwrap();
    let root = pki::self_signed_root(
        &*root_key,
        &subject("Bench Root"),
        now,
        Duration::days(3650),
    )
    .unwrap();
    let (_, ca_key) = keys.generate("ca", KeyAlgorithm::EcdsaP256).unwrap();
    let ca = pki::issue_certificate(
        &root.der,
        &*root_key,
        &*ca_key,
        CertificateRole::IssuingCa,
        &subject("Bench CA"),
        now,
        Duration::days(3000),
        None,
    )
    .unwrap();
    let (_, tsa_key) = keys.generate("tsa", KeyAlgorithm::EcdsaP256).unwrap();
    let tsa_cert = pki::issue_certificate(
        &ca.der,
        &*ca_key,
        &*tsa_key,
        CertificateRole::TimeStamping,
        &subject("Bench TSA"),
        now,
        Duration::days(1000),
        None,
    )
    .unwrap();
    let (_, seal) = keys.generate("seal", KeyAlgorithm::EcdsaP256).unwrap();
    let seal_cert = pki::issue_certificate(
        &ca.der,
        &*ca_key,
        &*seal,
        CertificateRole::Seal,
        &subject("福州市行政审批局行政审批专用章"),
        now,
        Duration::days(1000),
        None,
    )
    .unwrap();
    let tsa = TimeStampAuthority::new(
        tsa_key,
        tsa_cert.der.clone(),
        vec![ca.der.clone(), root.der.clone()],
        "1.2.156.3005.2.9.1".parse().unwrap(),
    )
    .unwrap();
    let validation = ValidationData {
        certificates: vec![
            seal_cert.der.clone(),
            ca.der.clone(),
            root.der.clone(),
            tsa_cert.der,
        ],
        crls: vec![],
    };
    Setup {
        seal,
        seal_cert: seal_cert.der,
        chain: vec![ca.der, root.der],
        tsa,
        validation,
    }
}

fn bench(c: &mut Criterion) {
    let s = setup();
    let input = plain_pdf();
    let look = SealAppearance {
        department_name: "福州市行政审批局".into(),
        seal_name: "行政审批专用章".into(),
        seal_code: Some("3501000000001".into()),
        diameter_mm: 42.0,
    };
    let appearance = look.to_pdf().unwrap();
    let mut group = c.benchmark_group("stamp");
    group.sample_size(30);
    group.bench_function("baseline: draw the seal appearance", |b| {
        b.iter(|| black_box(look.to_pdf().unwrap()))
    });
    for level in [Level::BB, Level::BT, Level::BLT, Level::BLTA] {
        group.bench_function(format!("sign one page at {level}"), |b| {
            b.iter(|| {
                let request = PadesRequest {
                    level,
                    field_name: "Seal-bench".into(),
                    placement: Some(Placement {
                        page: 1,
                        rect: [400.0, 100.0, 519.0, 219.0],
                        appearance: appearance.clone(),
                    }),
                    reason: None,
                    name: None,
                    location: None,
                    signing_time: OffsetDateTime::now_utc(),
                };
                let identity = SigningIdentity {
                    signer: &*s.seal,
                    certificate: &s.seal_cert,
                    chain: &s.chain,
                };
                black_box(
                    pades::sign(&input, &request, &identity, Some(&s.tsa), &s.validation).unwrap(),
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
