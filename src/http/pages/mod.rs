//! The public web pages (HTML for people, no JavaScript, no credential):
//!
//! - `GET /v/{payload}` ([`license`]): the citizen page a phone camera opens
//!   from a license's QR code — genuine and valid, revoked, suspended,
//!   expired or not genuine, in Chinese or English (`?lang=en`).
//! - `GET /verify`, `POST /verify` ([`upload`]): upload a stamped PDF and read
//!   its validation report.
//!
//! Both call the one verification engine ([`crate::verify`]) with this
//! server's current trust data, as the CLI and the JSON API do.

pub mod html;
pub mod license;
pub mod license_view;
pub mod upload;
