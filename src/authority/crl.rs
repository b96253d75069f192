//! Revocation and CRL publication (RFC 5280 §5): one CRL per CA, numbered,
//! re-signed on every revocation and before the previous one goes stale.

use std::str::FromStr;

use time::{Duration, OffsetDateTime};

use super::{Authority, AuthorityError, CertifiedKey};
use crate::pki::{self, RevocationReason, RevokedEntry};
use crate::store::{self, Connection, certificates::CrlRow};

/// How long a CRL is valid (nextUpdate − thisUpdate).
pub const CRL_VALIDITY: Duration = Duration::days(7);

/// The CAs that publish CRLs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaName {
    /// The root CA (covers the issuing CA).
    Root,
    /// The issuing CA (covers departments, seals, the TSA).
    IssuingCa,
}

impl CaName {
    /// Both CAs.
    pub const ALL: [CaName; 2] = [CaName::Root, CaName::IssuingCa];

    /// Name in URLs and file names.
    pub fn as_str(self) -> &'static str {
        match self {
            CaName::Root => "root",
            CaName::IssuingCa => "issuing-ca",
        }
    }
}

impl FromStr for CaName {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s.trim_end_matches(".crl") {
            "root" => Ok(CaName::Root),
            "issuing-ca" => Ok(CaName::IssuingCa),
            _ => Err(()),
        }
    }
}

/// Revocation reasons accepted by the API (RFC 5280 §5.3.1 names).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum RevocationReasonName {
    /// unspecified (0)
    Unspecified,
    /// keyCompromise (1)
    KeyCompromise,
    /// affiliationChanged (3)
    AffiliationChanged,
    /// superseded (4)
    Superseded,
    /// cessationOfOperation (5)
    CessationOfOperation,
    /// certificateHold (6)
    CertificateHold,
}

impl RevocationReasonName {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified",
            Self::KeyCompromise => "keyCompromise",
            Self::AffiliationChanged => "affiliationChanged",
            Self::Superseded => "superseded",
            Self::CessationOfOperation => "cessationOfOperation",
            Self::CertificateHold => "certificateHold",
        }
    }

    fn parse(s: &str) -> Option<RevocationReason> {
        Some(match s {
            "unspecified" => RevocationReason::Unspecified,
            "keyCompromise" => RevocationReason::KeyCompromise,
            "affiliationChanged" => RevocationReason::AffiliationChanged,
            "superseded" => RevocationReason::Superseded,
            "cessationOfOperation" => RevocationReason::CessationOfOperation,
            "certificateHold" => RevocationReason::CertificateHold,
            _ => return None,
        })
    }
}

impl Authority {
    fn ca(&self, ca: CaName) -> &CertifiedKey {
        match ca {
            CaName::Root => &self.root,
            CaName::IssuingCa => &self.issuing,
        }
    }

    /// Signs and stores a new CRL for `ca` listing every certificate it revoked.
    pub async fn publish_crl(
        &self,
        conn: &mut Connection,
        ca: CaName,
    ) -> Result<CrlRow, AuthorityError> {
        let issuer = self.ca(ca);
        let revoked = store::certificates::revoked_by_issuer(conn, &issuer.certificate.id)
            .await?
            .into_iter()
            .map(|c| RevokedEntry {
                serial_hex: c.serial_hex,
                revoked_at: OffsetDateTime::from_unix_timestamp(c.revoked_at.unwrap_or_default())
                    .unwrap_or(OffsetDateTime::UNIX_EPOCH),
                reason: c
                    .revocation_reason
                    .as_deref()
                    .and_then(RevocationReasonName::parse),
            })
            .collect::<Vec<_>>();
        let number = store::certificates::latest_crl(conn, ca.as_str())
            .await?
            .map_or(1, |c| c.number + 1);
        let now = OffsetDateTime::now_utc();
        let next = now + CRL_VALIDITY;
        let der = pki::sign_crl(
            &issuer.certificate.der,
            &*issuer.signer,
            number as u64,
            now,
            next,
            &revoked,
        )?;
        let row = CrlRow {
            number,
            der,
            this_update: now.unix_timestamp(),
            next_update: next.unix_timestamp(),
        };
        store::certificates::insert_crl(conn, ca.as_str(), &row).await?;
        let number = row.number.to_string();
        crate::transparency::record(
            conn,
            crate::transparency::Event {
                kind: crate::log::EntryKind::CrlIssued,
                subject_id: &format!("{} {number}", ca.as_str()),
                department_uscc: None,
                artefact: &row.der,
                actor: "authority",
                details: &[("ca", ca.as_str()), ("number", &number)],
                record: Some((&crate::transparency::records::CRLS, None)),
            },
        )
        .await?;
        Ok(row)
    }

    /// Revokes a certificate issued by the issuing CA and publishes the new CRL
    /// in the same transaction. Returns false if it was already revoked.
    pub async fn revoke(
        &self,
        conn: &mut Connection,
        certificate_id: &str,
        reason: RevocationReasonName,
    ) -> Result<bool, AuthorityError> {
        let revoked =
            store::certificates::revoke(conn, certificate_id, store::now_unix(), reason.as_str())
                .await?;
        if revoked {
            let cert = store::certificates::get(conn, certificate_id)
                .await?
                .ok_or_else(|| {
                    AuthorityError::Inconsistent(format!("certificate {certificate_id} vanished"))
                })?;
            crate::transparency::record(
                conn,
                crate::transparency::Event {
                    kind: crate::log::EntryKind::CertificateRevoked,
                    subject_id: &cert.serial_hex,
                    department_uscc: None,
                    artefact: &cert.der,
                    actor: "authority",
                    details: &[("reason", reason.as_str()), ("role", &cert.role)],
                    record: Some((&crate::transparency::records::CERTIFICATES, None)),
                },
            )
            .await?;
            self.publish_crl(conn, CaName::IssuingCa).await?;
        }
        Ok(revoked)
    }

    /// The current CRL of `ca`, re-signed first if none exists or it is past
    /// half its validity.
    pub async fn fresh_crl(
        &self,
        db: &store::Database,
        ca: CaName,
    ) -> Result<CrlRow, AuthorityError> {
        let mut conn = db.pool.acquire().await.map_err(store::StoreError::from)?;
        if let Some(crl) = store::certificates::latest_crl(&mut conn, ca.as_str()).await? {
            let half = (crl.next_update - crl.this_update) / 2;
            if store::now_unix() < crl.this_update + half {
                return Ok(crl);
            }
        }
        drop(conn);
        let mut tx = db.begin().await?;
        let crl = self.publish_crl(&mut tx, ca).await?;
        tx.commit().await.map_err(store::StoreError::from)?;
        Ok(crl)
    }

    /// A current CRL of `ca` for the validation data of a new signature
    /// (the `/DSS`): [`Authority::fresh_crl`], read from the database at most
    /// every [`RECENT_CRL_SECONDS`]. Not for publishing: the CRL endpoint and
    /// the trust bundle read [`Authority::fresh_crl`], which shows a
    /// revocation at once.
    pub async fn recent_crl(
        &self,
        db: &store::Database,
        ca: CaName,
    ) -> Result<CrlRow, AuthorityError> {
        if let Some(crl) = self.recent_crls.get(ca) {
            return Ok(crl);
        }
        let crl = self.fresh_crl(db, ca).await?;
        self.recent_crls.put(ca, &crl);
        Ok(crl)
    }
}

/// How long a CRL read by [`Authority::recent_crl`] is served from memory.
/// A newer CRL (a revocation, here or in another process sharing the
/// database) reaches the validation data of new signatures within this
/// time; the CRL served meanwhile is still a valid, authentic CRL, and the
/// signer's own seal and certificate are checked in the database every time.
pub const RECENT_CRL_SECONDS: u64 = 5;

/// The CRL of each CA as last read, with when (see [`RECENT_CRL_SECONDS`]).
#[derive(Clone, Debug, Default)]
pub struct RecentCrls(std::sync::Arc<std::sync::Mutex<Vec<(CaName, std::time::Instant, CrlRow)>>>);

impl RecentCrls {
    fn get(&self, ca: CaName) -> Option<CrlRow> {
        let recent = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (_, read, crl) = recent.iter().find(|(name, _, _)| *name == ca)?;
        let young = read.elapsed() < std::time::Duration::from_secs(RECENT_CRL_SECONDS);
        // Never past the point where fresh_crl would publish a new one.
        let half = (crl.next_update - crl.this_update) / 2;
        (young && store::now_unix() < crl.this_update + half).then(|| crl.clone())
    }

    fn put(&self, ca: CaName, crl: &CrlRow) {
        let mut recent = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        recent.retain(|(name, _, _)| *name != ca);
        recent.push((ca, std::time::Instant::now(), crl.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crl(number: i64, this_update: i64, next_update: i64) -> CrlRow {
        CrlRow {
            number,
            der: vec![0x30, 0],
            this_update,
            next_update,
        }
    }

    #[test]
    fn a_recent_crl_is_kept_per_ca_and_never_past_half_its_validity() {
        let recent = RecentCrls::default();
        let now = store::now_unix();
        assert!(recent.get(CaName::Root).is_none());
        recent.put(CaName::Root, &crl(1, now - 10, now + 3600));
        assert_eq!(recent.get(CaName::Root).unwrap().number, 1);
        assert!(recent.get(CaName::IssuingCa).is_none(), "per CA");
        recent.put(CaName::Root, &crl(2, now - 10, now + 3600));
        assert_eq!(recent.get(CaName::Root).unwrap().number, 2, "replaced");
        // Past half its validity, fresh_crl would publish a new one: not served.
        recent.put(CaName::IssuingCa, &crl(3, now - 3000, now + 1000));
        assert!(recent.get(CaName::IssuingCa).is_none());
    }
}
