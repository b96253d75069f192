//! The canonical encoding of a transparency log entry (日志条目): the bytes
//! whose RFC 9162 §2.1.1 leaf hash `SHA-256(0x00 ‖ entry)` goes into the tree.
//!
//! One entry has exactly one encoding, so anyone holding the event's facts can
//! rebuild the bytes and check the leaf. Version 1 is a fixed-order,
//! length-prefixed binary format; integers are big-endian, strings are
//! `u32 length ‖ UTF-8 bytes`:
//!
//! | field            | encoding                                                  |
//! |------------------|-----------------------------------------------------------|
//! | version          | `u8` = `0x01`                                             |
//! | kind             | `u8`, see [`EntryKind::code`]                             |
//! | time             | `i64`, Unix seconds (two's complement)                    |
//! | artefact_sha256  | 32 bytes                                                  |
//! | subject_id       | string                                                    |
//! | department_id    | `u8` 0 (absent) or 1 followed by a string                 |
//! | actor            | string                                                    |
//! | details          | `u32` count, then per pair key string ‖ value string, keys in strictly increasing byte order |
//!
//! Version 2 (issue 16) is version 1 with the version byte `0x02` and, after
//! the details, the [`Record`] the entry commits to: the business row as it
//! stands after the action (see [`super::record`] for its encoding). Entries
//! without a record are written as version 1, so entries written before
//! version 2 existed keep their bytes and leaf hashes.
//!
//! [`LogEntry::decode`] accepts only this canonical form: unknown versions or
//! kinds, unsorted or repeated keys, invalid UTF-8, short input and trailing
//! bytes are errors.

use std::collections::BTreeMap;

use super::merkle::{Hash, leaf_hash};
use super::record::Record;

/// The encoding version of an entry without a record.
pub const ENTRY_VERSION: u8 = 1;
/// The encoding version of an entry that commits to its record.
pub const RECORD_ENTRY_VERSION: u8 = 2;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntryKind {
    /// A certificate was issued (the artefact is its DER).
    CertificateIssued,
    /// A certificate was revoked.
    CertificateRevoked,
    /// A seal (电子印章) was registered.
    SealCreated,
    /// A seal's status, validity or appearance changed.
    SealChanged,
    /// A document was stamped (the artefact is the stamped PDF).
    Stamp,
    /// A license (电子证照) was issued (the artefact is its COSE record).
    LicenseIssued,
    /// A license was suspended, reinstated, revoked or expired.
    LicenseStatusChanged,
    /// A department was registered.
    DepartmentCreated,
    /// A department's row changed (a renewed organisation certificate).
    DepartmentChanged,
    /// An API client was created, with its scopes.
    ClientCreated,
    /// An API client was revoked.
    ClientRevoked,
    /// A license type (证照类型) was defined.
    LicenseTypeCreated,
    /// A department was made an issuer of a license type.
    LicenseTypeIssuerAdded,
    /// A certificate revocation list was issued (the artefact is its DER).
    CrlIssued,
    /// A service item (事项) was published.
    ServiceItemCreated,
    /// A department was made a handler of a service item.
    ServiceItemDepartmentAdded,
    /// A use list (用证清单) entry was added or replaced by a new version.
    UseListChanged,
    /// A holder's consent code (用证码) was created.
    ConsentCreated,
    /// A consent code was used or revoked.
    ConsentChanged,
    /// The license library released licenses for a use, or refused one.
    LicenseUsed,
}

impl EntryKind {
    /// Every kind, in code order.
    pub const ALL: [EntryKind; 20] = [
        EntryKind::CertificateIssued,
        EntryKind::CertificateRevoked,
        EntryKind::SealCreated,
        EntryKind::SealChanged,
        EntryKind::Stamp,
        EntryKind::LicenseIssued,
        EntryKind::LicenseStatusChanged,
        EntryKind::DepartmentCreated,
        EntryKind::DepartmentChanged,
        EntryKind::ClientCreated,
        EntryKind::ClientRevoked,
        EntryKind::LicenseTypeCreated,
        EntryKind::LicenseTypeIssuerAdded,
        EntryKind::CrlIssued,
        EntryKind::ServiceItemCreated,
        EntryKind::ServiceItemDepartmentAdded,
        EntryKind::UseListChanged,
        EntryKind::ConsentCreated,
        EntryKind::ConsentChanged,
        EntryKind::LicenseUsed,
    ];

    /// The kind's byte in the encoding; codes are never reused.
    pub fn code(self) -> u8 {
        match self {
            EntryKind::CertificateIssued => 1,
            EntryKind::CertificateRevoked => 2,
            EntryKind::SealCreated => 3,
            EntryKind::SealChanged => 4,
            EntryKind::Stamp => 5,
            EntryKind::LicenseIssued => 6,
            EntryKind::LicenseStatusChanged => 7,
            EntryKind::DepartmentCreated => 8,
            EntryKind::DepartmentChanged => 9,
            EntryKind::ClientCreated => 10,
            EntryKind::ClientRevoked => 11,
            EntryKind::LicenseTypeCreated => 12,
            EntryKind::LicenseTypeIssuerAdded => 13,
            EntryKind::CrlIssued => 14,
            EntryKind::ServiceItemCreated => 15,
            EntryKind::ServiceItemDepartmentAdded => 16,
            EntryKind::UseListChanged => 17,
            EntryKind::ConsentCreated => 18,
            EntryKind::ConsentChanged => 19,
            EntryKind::LicenseUsed => 20,
        }
    }

    /// The kind with this code.
    pub fn from_code(code: u8) -> Option<Self> {
        EntryKind::ALL.into_iter().find(|kind| kind.code() == code)
    }

    /// A stable lower-case name for storage and display.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::CertificateIssued => "certificate-issued",
            EntryKind::CertificateRevoked => "certificate-revoked",
            EntryKind::SealCreated => "seal-created",
            EntryKind::SealChanged => "seal-changed",
            EntryKind::Stamp => "stamp",
            EntryKind::LicenseIssued => "license-issued",
            EntryKind::LicenseStatusChanged => "license-status-changed",
            EntryKind::DepartmentCreated => "department-created",
            EntryKind::DepartmentChanged => "department-changed",
            EntryKind::ClientCreated => "client-created",
            EntryKind::ClientRevoked => "client-revoked",
            EntryKind::LicenseTypeCreated => "license-type-created",
            EntryKind::LicenseTypeIssuerAdded => "license-type-issuer-added",
            EntryKind::CrlIssued => "crl-issued",
            EntryKind::ServiceItemCreated => "service-item-created",
            EntryKind::ServiceItemDepartmentAdded => "service-item-department-added",
            EntryKind::UseListChanged => "use-list-changed",
            EntryKind::ConsentCreated => "consent-created",
            EntryKind::ConsentChanged => "consent-changed",
            EntryKind::LicenseUsed => "license-used",
        }
    }
}

/// An entry cannot be encoded, or bytes are not a canonical entry.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// The version byte is not one this code reads.
    #[error("unsupported log entry version {0}")]
    UnsupportedVersion(u8),
    /// The kind byte names no known kind.
    #[error("unknown log entry kind {0}")]
    UnknownKind(u8),
    /// The input ends inside a field.
    #[error("the log entry is truncated")]
    Truncated,
    /// Bytes follow the last field.
    #[error("the log entry has trailing bytes")]
    TrailingBytes,
    /// A string field is not UTF-8.
    #[error("the log entry's {0} is not UTF-8")]
    InvalidUtf8(&'static str),
    /// The department presence byte is neither 0 nor 1.
    #[error("invalid department presence flag {0}")]
    InvalidPresenceFlag(u8),
    /// Detail keys are not in strictly increasing order.
    #[error("log entry details are not sorted by key or repeat a key")]
    UnsortedDetails,
    /// A field is longer than a `u32` length prefix allows.
    #[error("the log entry's {0} is too long to encode")]
    FieldTooLong(&'static str),
    /// A record column's value tag is unknown.
    #[error("unknown record value tag {0}")]
    UnknownValueTag(u8),
    /// Record columns are not in strictly increasing order.
    #[error("record columns are not sorted by name or repeat a name")]
    UnsortedColumns,
}

/// One event of the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// What happened.
    pub kind: EntryKind,
    /// The certificate serial, seal code, license identifier or document ID concerned.
    pub subject_id: String,
    /// The department (its USCC) on whose behalf, if any.
    pub department_id: Option<String>,
    /// SHA-256 of the artefact: the PDF, the COSE record or the certificate DER.
    pub artefact_sha256: Hash,
    /// When, in Unix seconds.
    pub time: i64,
    /// Who pressed the button (an API client or operator).
    pub actor: String,
    /// Further facts, such as a revocation reason.
    pub details: BTreeMap<String, String>,
    /// The business row after the action (version 2), if committed to.
    pub record: Option<Record>,
}

impl LogEntry {
    /// The canonical bytes of this entry.
    pub fn encode(&self) -> Result<Vec<u8>, EntryError> {
        let version = match self.record {
            None => ENTRY_VERSION,
            Some(_) => RECORD_ENTRY_VERSION,
        };
        let mut out = vec![version, self.kind.code()];
        out.extend_from_slice(&self.time.to_be_bytes());
        out.extend_from_slice(&self.artefact_sha256);
        put_string(&mut out, &self.subject_id, "subject ID")?;
        match &self.department_id {
            None => out.push(0),
            Some(department) => {
                out.push(1);
                put_string(&mut out, department, "department ID")?;
            }
        }
        put_string(&mut out, &self.actor, "actor")?;
        put_length(&mut out, self.details.len(), "details")?;
        for (key, value) in &self.details {
            put_string(&mut out, key, "detail key")?;
            put_string(&mut out, value, "detail value")?;
        }
        if let Some(record) = &self.record {
            record.encode_into(&mut out)?;
        }
        Ok(out)
    }

    /// The leaf hash of this entry's canonical bytes.
    pub fn leaf_hash(&self) -> Result<Hash, EntryError> {
        Ok(leaf_hash(&self.encode()?))
    }

    /// Parses canonical entry bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, EntryError> {
        let mut input = Reader(bytes);
        let version = input.byte()?;
        if version != ENTRY_VERSION && version != RECORD_ENTRY_VERSION {
            return Err(EntryError::UnsupportedVersion(version));
        }
        let code = input.byte()?;
        let kind = EntryKind::from_code(code).ok_or(EntryError::UnknownKind(code))?;
        let time = i64::from_be_bytes(input.array()?);
        let artefact_sha256 = input.array()?;
        let subject_id = input.string("subject ID")?;
        let department_id = match input.byte()? {
            0 => None,
            1 => Some(input.string("department ID")?),
            flag => return Err(EntryError::InvalidPresenceFlag(flag)),
        };
        let actor = input.string("actor")?;
        let mut details = BTreeMap::new();
        for _ in 0..input.u32()? {
            let key = input.string("detail key")?;
            let value = input.string("detail value")?;
            if details
                .last_key_value()
                .is_some_and(|(last, _)| *last >= key)
            {
                return Err(EntryError::UnsortedDetails);
            }
            details.insert(key, value);
        }
        let record = match version {
            RECORD_ENTRY_VERSION => Some(Record::decode_from(&mut input)?),
            _ => None,
        };
        if !input.0.is_empty() {
            return Err(EntryError::TrailingBytes);
        }
        Ok(LogEntry {
            kind,
            subject_id,
            department_id,
            artefact_sha256,
            time,
            actor,
            details,
            record,
        })
    }
}

pub(super) fn put_length(
    out: &mut Vec<u8>,
    length: usize,
    field: &'static str,
) -> Result<(), EntryError> {
    let length = u32::try_from(length).map_err(|_| EntryError::FieldTooLong(field))?;
    out.extend_from_slice(&length.to_be_bytes());
    Ok(())
}

pub(super) fn put_string(
    out: &mut Vec<u8>,
    text: &str,
    field: &'static str,
) -> Result<(), EntryError> {
    put_length(out, text.len(), field)?;
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

/// The unread rest of the input.
pub(super) struct Reader<'a>(pub(super) &'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], EntryError> {
        if self.0.len() < n {
            return Err(EntryError::Truncated);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    pub(super) fn array<const N: usize>(&mut self) -> Result<[u8; N], EntryError> {
        self.take(N)?.try_into().map_err(|_| EntryError::Truncated)
    }

    pub(super) fn byte(&mut self) -> Result<u8, EntryError> {
        Ok(u8::from_be_bytes(self.array()?))
    }

    pub(super) fn u32(&mut self) -> Result<u32, EntryError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(super) fn string(&mut self, field: &'static str) -> Result<String, EntryError> {
        let length = usize::try_from(self.u32()?).map_err(|_| EntryError::Truncated)?;
        let bytes = self.take(length)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| EntryError::InvalidUtf8(field))
    }
}
