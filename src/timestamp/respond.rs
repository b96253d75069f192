//! Answering a `TimeStampReq` (RFC 3161 §2.4.1 → §2.4.2).

use der::asn1::Utf8StringRef;
use der::{Any, Decode, Encode};
use time::OffsetDateTime;

use super::asn1::{FailureInfo, PkiStatus, PkiStatusInfo, TimeStampReq, TimeStampResp};
use super::{TimeStampAuthority, TimestampError, check_imprint};

/// `TimeStampResp { status { rejection, failInfo systemFailure } }`, for when
/// even encoding a response fails.
pub(super) const SYSTEM_FAILURE_RESPONSE: [u8; 14] = [
    0x30, 0x0c, 0x30, 0x0a, 0x02, 0x01, 0x02, 0x03, 0x05, 0x06, 0x00, 0x00, 0x00, 0x40,
];

/// Why a request is refused, in the protocol's terms.
struct Rejection {
    fail_info: FailureInfo,
    text: &'static str,
}

fn reject(fail_info: FailureInfo, text: &'static str) -> Rejection {
    Rejection { fail_info, text }
}

impl TimeStampAuthority {
    /// Answers a DER `TimeStampReq` with a DER `TimeStampResp`, stamped now.
    ///
    /// Never fails: a malformed request is rejected with `badDataFormat`, an
    /// unsupported hash with `badAlg`, a wrong hash length with
    /// `badDataFormat`, another policy with `unacceptedPolicy`, any extension
    /// with `unacceptedExtension`, and an internal failure with `systemFailure`.
    pub fn respond(&self, request_der: &[u8]) -> Vec<u8> {
        self.respond_at(request_der, OffsetDateTime::now_utc())
    }

    /// [`Self::respond`] with a given time.
    pub fn respond_at(&self, request_der: &[u8], gen_time: OffsetDateTime) -> Vec<u8> {
        let result = self.grant(request_der, gen_time);
        let encoded = match &result {
            Ok(token) => Any::from_der(token).and_then(|token| {
                TimeStampResp {
                    status: PkiStatusInfo {
                        status: PkiStatus::Granted,
                        status_string: None,
                        fail_info: None,
                    },
                    time_stamp_token: Some(token),
                }
                .to_der()
            }),
            Err(rejection) => rejection_response(rejection),
        };
        encoded.unwrap_or_else(|_| SYSTEM_FAILURE_RESPONSE.to_vec())
    }

    fn grant(&self, request_der: &[u8], gen_time: OffsetDateTime) -> Result<Vec<u8>, Rejection> {
        let request = TimeStampReq::from_der(request_der).map_err(|_| {
            reject(
                FailureInfo::BadDataFormat,
                "request is not a DER TimeStampReq",
            )
        })?;
        if request.version != 1 {
            return Err(reject(FailureInfo::BadDataFormat, "version must be 1"));
        }
        if request.extensions.as_ref().is_some_and(|e| !e.is_empty()) {
            return Err(reject(
                FailureInfo::UnacceptedExtension,
                "no extensions are supported",
            ));
        }
        if request.req_policy.is_some_and(|p| p != self.policy) {
            return Err(reject(
                FailureInfo::UnacceptedPolicy,
                "policy not offered by this TSA",
            ));
        }
        check_imprint(&request.message_imprint).map_err(|e| match e {
            TimestampError::UnsupportedHash(_) => reject(
                FailureInfo::BadAlg,
                "hash must be SHA-256, SHA-384 or SHA-512",
            ),
            _ => reject(
                FailureInfo::BadDataFormat,
                "hash length does not match its algorithm",
            ),
        })?;
        self.token(
            request.message_imprint,
            request.nonce,
            request.cert_req,
            gen_time,
        )
        .map_err(|e| {
            tracing::error!(error = %e, "time-stamp token could not be made");
            reject(FailureInfo::SystemFailure, "internal error")
        })
    }
}

fn rejection_response(rejection: &Rejection) -> der::Result<Vec<u8>> {
    TimeStampResp {
        status: PkiStatusInfo {
            status: PkiStatus::Rejection,
            status_string: Some(vec![Utf8StringRef::new(rejection.text)?]),
            fail_info: Some(rejection.fail_info.to_bit_string()?),
        },
        time_stamp_token: None,
    }
    .to_der()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fallback_response_is_a_system_failure_rejection() {
        let response = TimeStampResp::from_der(&SYSTEM_FAILURE_RESPONSE).expect("decodes");
        assert_eq!(response.status.status, PkiStatus::Rejection);
        let bits = response.status.fail_info.expect("failInfo");
        assert_eq!(
            FailureInfo::from_bit_string(&bits),
            Some(FailureInfo::SystemFailure)
        );
        assert_eq!(
            FailureInfo::SystemFailure.to_bit_string().expect("bits"),
            bits,
            "same DER as the encoder"
        );
    }
}
