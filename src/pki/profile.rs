//! What each kind of certificate govseal issues looks like.

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, DnValue, IsCa,
    KeyUsagePurpose,
};

/// The role a certificate plays; it decides key usages and constraints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertificateRole {
    /// The installation's self-signed root CA.
    Root,
    /// The CA under the root that issues every end-entity certificate.
    IssuingCa,
    /// The time-stamping authority (RFC 3161 §2.3: EKU timeStamping only, critical).
    TimeStamping,
    /// A department's organisation certificate.
    Department,
    /// An electronic seal's certificate (电子印章证书).
    Seal,
}

impl CertificateRole {
    /// The stable name used in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            CertificateRole::Root => "root",
            CertificateRole::IssuingCa => "issuing-ca",
            CertificateRole::TimeStamping => "tsa",
            CertificateRole::Department => "department",
            CertificateRole::Seal => "seal",
        }
    }

    /// Whether the certificate is a CA.
    pub fn is_ca(self) -> bool {
        matches!(self, CertificateRole::Root | CertificateRole::IssuingCa)
    }
}

/// The subject of a certificate.
#[derive(Clone, Debug, Default)]
pub struct Subject {
    /// commonName (a department's or seal's name, in Chinese).
    pub common_name: String,
    /// organizationName.
    pub organization: Option<String>,
    /// organizationalUnitName.
    pub organizational_unit: Option<String>,
    /// The USCC, written as organizationIdentifier `NTRCN-<USCC>`.
    pub uscc: Option<String>,
    /// serialNumber attribute (e.g. a seal code).
    pub serial_number: Option<String>,
}

/// id-at-organizationIdentifier (X.520, 2.5.4.97).
const ORGANIZATION_IDENTIFIER: [u64; 4] = [2, 5, 4, 97];
/// id-kp-timeStamping (RFC 5280 §4.2.1.12): `SEQUENCE { 1.3.6.1.5.5.7.3.8 }`.
const EKU_TIME_STAMPING_DER: [u8; 12] = [
    0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08,
];
/// id-ce-extKeyUsage.
const EXT_KEY_USAGE: [u64; 4] = [2, 5, 29, 37];

fn printable(s: &str) -> DnValue {
    match rcgen::string::PrintableString::try_from(s) {
        Ok(p) => DnValue::PrintableString(p),
        Err(_) => DnValue::Utf8String(s.to_string()),
    }
}

impl Subject {
    pub(super) fn distinguished_name(&self) -> DistinguishedName {
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, printable("CN"));
        if let Some(o) = &self.organization {
            dn.push(DnType::OrganizationName, DnValue::Utf8String(o.clone()));
        }
        if let Some(ou) = &self.organizational_unit {
            dn.push(
                DnType::OrganizationalUnitName,
                DnValue::Utf8String(ou.clone()),
            );
        }
        if let Some(uscc) = &self.uscc {
            dn.push(
                DnType::CustomDnType(ORGANIZATION_IDENTIFIER.to_vec()),
                DnValue::Utf8String(format!("NTRCN-{uscc}")),
            );
        }
        if let Some(sn) = &self.serial_number {
            dn.push(DnType::CustomDnType(vec![2, 5, 4, 5]), printable(sn));
        }
        dn.push(
            DnType::CommonName,
            DnValue::Utf8String(self.common_name.clone()),
        );
        dn
    }
}

/// Applies the role's constraints and key usages to `params`.
pub(super) fn apply_role(params: &mut CertificateParams, role: CertificateRole) {
    params.use_authority_key_identifier_extension = role != CertificateRole::Root;
    match role {
        CertificateRole::Root => {
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        }
        CertificateRole::IssuingCa => {
            params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
            params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        }
        CertificateRole::TimeStamping => {
            params.is_ca = IsCa::ExplicitNoCa;
            params.key_usages = vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::ContentCommitment,
            ];
            // rcgen writes extKeyUsage non-critical; RFC 3161 §2.3 requires it critical.
            let mut eku =
                CustomExtension::from_oid_content(&EXT_KEY_USAGE, EKU_TIME_STAMPING_DER.to_vec());
            eku.set_criticality(true);
            params.custom_extensions.push(eku);
        }
        CertificateRole::Department | CertificateRole::Seal => {
            params.is_ca = IsCa::ExplicitNoCa;
            // contentCommitment (nonRepudiation): seals and organisation certificates
            // sign documents; pyHanko requires it of document signers.
            params.key_usages = vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::ContentCommitment,
            ];
        }
    }
}
