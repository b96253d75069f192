//! All integration tests in one binary: one link of the whole stack instead
//! of one per file (CI disk and build time). Each module is one area;
//! run one with `cargo test --test integration <module>::`.

mod common;

mod browser;
mod cli;
mod documents;
mod foundation;
mod fuzz_seeds;
mod hardening;
mod library;
mod license_import;
mod license_trust;
mod license_verify;
mod license_versions;
mod licenses;
mod lifecycle_races;
mod log_audit;
mod logged;
mod openapi;
mod pdf_engine;
mod photo;
mod pki_interop;
mod seals;
mod stamping;
mod store_batch;
mod transparency;
mod tsa;
mod verify;
mod verify_cases;
mod verify_changes;
mod verify_general;
mod verify_rsa;
mod verify_rsa_interop;
mod verify_rsa_pdf;
mod witness;
