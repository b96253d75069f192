//! The signed forms of one license version, as issuance and the making of a
//! new version (renewal 换发/延续, amendment 变更) both produce them: the
//! record (COSE_Sign1, RFC 9052 §4.2, see [`super::record`]) and the
//! certificate PDF with the QR code of that record and the seal, PAdES B-LT
//! signed (ETSI EN 319 142-1 §6) — and the seal that may sign them.
//!
//! Nothing here writes to the database: the caller stores the forms with the
//! row in its own transaction.

use std::sync::Arc;

use time::OffsetDateTime;

use super::certificate_pdf::{CertificateError, LicenseCertificate};
use super::claims::LicenseClaims;
use super::issue::LicenseContext;
use super::qr::qr_url;
use super::record::sign_record;
use super::types::LicenseTypeDefinition;
use crate::keystore::Signer;
use crate::outcome::ActionError;
use crate::pades::{self, Level, PadesRequest, Placement, SigningIdentity, ValidationData};
use crate::seal::appearance::SealAppearance;
use crate::seal::registry::ACTIVE;
use crate::seal::stamping::{DEFAULT_SIZE_MM, SealKey, ca_chain, open_seal_key, validation_data};
use crate::store::departments::DepartmentRow;
use crate::store::seals::{SealRow, SealWithOwner};

/// A seal that may sign now, with its key opened and what its PAdES
/// signature embeds (appearance, chain, DSS validation data).
pub(crate) struct SigningSeal {
    /// The seal.
    pub seal: SealRow,
    /// Its department (the license's issuer).
    pub department: DepartmentRow,
    certificate_der: Vec<u8>,
    signer: Arc<dyn Signer>,
    appearance: Vec<u8>,
    validation: ValidationData,
    chain: Vec<Vec<u8>>,
}

/// Checks that a seal (loaded with [`crate::store::seals::get_with_owner`])
/// can sign at `now` — active, inside its validity window, its certificate
/// unrevoked (409 otherwise) — and opens its key.
pub(crate) async fn signing_seal(
    ctx: &LicenseContext<'_>,
    owned: SealWithOwner,
    now: OffsetDateTime,
) -> Result<SigningSeal, ActionError> {
    let seal = &owned.seal;
    if seal.status != ACTIVE {
        return Err(ActionError::Conflict {
            code: "seal_not_active",
            message: format!("the seal is {}", seal.status),
        });
    }
    if now.unix_timestamp() < seal.valid_from || now.unix_timestamp() >= seal.valid_until {
        return Err(ActionError::Conflict {
            code: "seal_not_valid_now",
            message: "the seal is outside its validity window".into(),
        });
    }
    let SealKey {
        seal,
        department,
        certificate,
        signer,
    } = open_seal_key(ctx.db, ctx.keys, owned).await?;
    let appearance = SealAppearance {
        department_name: department.name.clone(),
        seal_name: seal.name.clone(),
        seal_code: Some(seal.code.clone()),
        diameter_mm: DEFAULT_SIZE_MM,
    }
    .to_pdf()
    .map_err(|e| ActionError::invalid("seal_id", format!("the seal cannot be drawn: {e}")))?;
    let validation = validation_data(ctx.authority, ctx.db, &certificate.der).await?;
    Ok(SigningSeal {
        seal,
        department,
        certificate_der: certificate.der,
        signer,
        appearance,
        validation,
        chain: ca_chain(ctx.authority),
    })
}

/// The two signed forms of a license version.
pub(crate) struct Forms {
    /// The tagged COSE_Sign1 record.
    pub record: Vec<u8>,
    /// The PAdES B-LT certificate PDF.
    pub pdf: Vec<u8>,
}

/// Signs the record of `claims`, renders the certificate PDF with its QR
/// code and `rows`, and seals it; `reason` is the PDF signature's `/Reason`.
pub(crate) async fn sign_forms(
    ctx: &LicenseContext<'_>,
    seal: &SigningSeal,
    definition: &LicenseTypeDefinition,
    claims: &LicenseClaims,
    rows: Vec<(String, Option<String>, String)>,
    reason: &'static str,
) -> Result<Forms, ActionError> {
    let public_url = ctx.public_url.to_string();
    let tsa = ctx.tsa.clone();
    let signer = seal.signer.clone();
    let cert_der = seal.certificate_der.clone();
    let chain = seal.chain.clone();
    let appearance = seal.appearance.clone();
    let validation = seal.validation.clone();
    let field_name = format!("License-{}", seal.seal.code);
    let signer_name = format!("{}{}", seal.department.name, seal.seal.name);
    let (definition, claims) = (definition.clone(), claims.clone());
    // Rendering and signing are CPU-bound: one pool thread per core.
    crate::cpu::run(move || -> Result<Forms, ActionError> {
        let record = sign_record(&claims, &*signer, &cert_der).map_err(ActionError::internal)?;
        let qr_text = qr_url(&public_url, &record);
        let rendered = LicenseCertificate {
            title_zh: &definition.name_zh,
            title_en: Some(&definition.name_en),
            license_id: claims.license_id.as_str(),
            rows: rows
                .iter()
                .map(|(zh, en, v)| (zh.as_str(), en.as_deref(), v.clone()))
                .collect(),
            issuer_name: &claims.issuer_name,
            issued_at: claims.issued_at,
            qr_text: &qr_text,
        }
        .render()
        .map_err(|e| match e {
            CertificateError::UnsupportedCharacter { field, character } => ActionError::invalid(
                &field,
                format!("the character {character:?} cannot be printed"),
            ),
            CertificateError::TooLong => ActionError::invalid("fields", CertificateError::TooLong),
            CertificateError::Qr(e) => {
                ActionError::invalid("fields", format!("the QR summary is too large: {e}"))
            }
            other => ActionError::internal(other),
        })?;
        let half = DEFAULT_SIZE_MM * 72.0 / 25.4 / 2.0;
        let anchor = rendered.seal_anchor;
        let request = PadesRequest {
            level: Level::BLT,
            field_name,
            placement: Some(Placement {
                page: anchor.page,
                rect: [
                    anchor.x - half,
                    anchor.y - half,
                    anchor.x + half,
                    anchor.y + half,
                ],
                appearance,
            }),
            reason: Some(reason.into()),
            name: Some(signer_name),
            location: None,
            signing_time: claims.issued_at,
        };
        let identity = SigningIdentity {
            signer: &*signer,
            certificate: &cert_der,
            chain: &chain,
        };
        let pdf = pades::sign(&rendered.pdf, &request, &identity, Some(&*tsa), &validation)
            .map_err(ActionError::internal)?;
        Ok(Forms { record, pdf })
    })
    .await
    .map_err(ActionError::internal)?
}

/// The rows printed on the certificate: holder, then the type's fields, then validity.
pub(crate) fn certificate_rows(
    definition: &LicenseTypeDefinition,
    claims: &LicenseClaims,
    holder_id: &str,
    values: &[(String, String)],
) -> Vec<(String, Option<String>, String)> {
    let mut rows = vec![
        (
            "持证主体".to_string(),
            Some("Holder".to_string()),
            claims.holder_name.clone(),
        ),
        (
            "证件号码".to_string(),
            Some("Holder ID".to_string()),
            holder_id.to_string(),
        ),
    ];
    for (key, value) in values {
        if let Some(f) = definition.fields.iter().find(|f| &f.key == key) {
            rows.push((f.label_zh.clone(), Some(f.label_en.clone()), value.clone()));
        }
    }
    let date = |t: OffsetDateTime| {
        let d = t.to_offset(time::macros::offset!(+8)).date();
        format!("{}年{}月{}日", d.year(), u8::from(d.month()), d.day())
    };
    let validity = match (claims.valid_from, claims.expires_at) {
        (Some(from), Some(until)) => format!("{}至{}", date(from), date(until)),
        (Some(from), None) => format!("{}至长期", date(from)),
        _ => "长期".into(),
    };
    rows.push(("有效期限".into(), Some("Validity".into()), validity));
    rows
}
