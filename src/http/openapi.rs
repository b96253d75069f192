//! The OpenAPI 3.1 document of the whole API (`GET /openapi.json`).
//!
//! Each handler documents its own responses; `Conventions` then adds, to
//! every operation, the answers the shared layers give whatever the handler
//! (so they cannot be forgotten on one route):
//!
//! - 429 `rate_limited` and 503 `busy`, both with `Retry-After`: the
//!   admission layer ([`super::limits`]) answers them to anonymous requests
//!   before any handler runs;
//! - 401 and 403 on operations that need a token;
//! - 400 `invalid_path` / `invalid_parameter` where the path or the query
//!   has parameters (an extractor rejection, see [`super::error`]);
//! - 400, 413, 415 and 422 where a JSON body is read, and 413 and 415 where
//!   any other body is;
//! - a description on every response (OpenAPI requires one).
//!
//! The HTML pages (`/v/{payload}`, `/verify`) answer all of these as HTML.

use utoipa::OpenApi;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{Content, Ref, RefOr};

use super::error::ErrorBody;
use super::{
    departments, library, license_versions, licenses, log, metrics, pages, seals, stamp, trust,
    tsa, verify,
};

/// The bytes of a file (a PDF, a COSE record, a DER CRL or time-stamp, a
/// PNG): `type: string, format: binary`.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct Binary(#[allow(dead_code)] Vec<u8>);

#[derive(OpenApi)]
#[openapi(
    info(title = "govseal", description = "Unified electronic seal and e-license signing service (统一电子印章 / 电子证照). \
        Errors are `{ \"error\": { \"code\", \"message\" } }`. Authenticate with `Authorization: Bearer <token>`: \
        the admin token, or a department API client's token. \
        Requests without a valid token are rate-limited per client address (429 `rate_limited` with `Retry-After`, \
        in seconds) and share bounded anonymous budgets (503 `busy` with `Retry-After`); both are decided before \
        the request body is read. Requests with a valid token have a budget of their own."),
    paths(
        departments::create, departments::list, departments::get, departments::revoke_certificate,
        departments::renew_certificate, departments::create_client, departments::list_clients,
        departments::revoke_client, seals::create, seals::get, seals::suspend, seals::reinstate,
        seals::revoke, seals::appearance, trust::bundle, trust::crl, trust::health, tsa::tsa, stamp::stamp, stamp::notice,
        licenses::create_type, licenses::issue, licenses::list, licenses::get, licenses::record, licenses::pdf,
        licenses::qr_png_image, licenses::qr_svg_image, licenses::suspend, licenses::reinstate, licenses::revoke,
        license_versions::renew, license_versions::amend,
        licenses::status_snapshot, verify::verify, log::checkpoint, log::entries, log::inclusion, log::consistency,
        metrics::metrics, pages::license::show, pages::upload::form_page, pages::upload::submit,
        library::create_item, library::list_items, library::get_item, library::add_use,
        library::create_consent, library::revoke_consent, library::use_licenses, library::list_uses,
        library::get_use, library::use_pdf,
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth, &Conventions),
    tags((name = "departments"), (name = "clients"), (name = "seals"), (name = "stamping"), (name = "licenses"),
        (name = "trust"), (name = "log"), (name = "library", description = "the license library: service items, use lists, consent codes, uses"), (name = "operations"), (name = "pages", description = "HTML pages for people"))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Adds the answers of the shared layers to every operation (see the module
/// documentation).
struct Conventions;

/// What kind of body an operation reads.
#[derive(PartialEq)]
enum Body {
    None,
    Json,
    Other,
}

impl utoipa::Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let page = path == "/verify" || path.starts_with("/v/");
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                conventions(operation, page);
            }
        }
    }
}

fn conventions(operation: &mut Operation, page: bool) {
    let has_param = |location: ParameterIn| {
        operation.parameters.iter().flatten().any(|p| match p {
            RefOr::T(p) => p.parameter_in == location,
            RefOr::Ref(_) => false,
        })
    };
    let path_params = has_param(ParameterIn::Path);
    let query_params = has_param(ParameterIn::Query);
    let body = match &operation.request_body {
        None => Body::None,
        Some(RefOr::T(b)) if b.content.contains_key("application/json") => Body::Json,
        Some(_) => Body::Other,
    };
    let needs_token = operation.security.as_ref().is_some_and(|alternatives| {
        !alternatives.is_empty()
            && alternatives.iter().all(|a| {
                serde_json::to_value(a).is_ok_and(|v| v.as_object().is_some_and(|o| !o.is_empty()))
            })
    });
    let mut add = |status: u16, description: &str, retry_after: bool| {
        let responses = &mut operation.responses.responses;
        responses
            .entry(status.to_string())
            .or_insert_with(|| error_response(description, page, retry_after).into());
    };
    if path_params {
        add(
            400,
            "a path parameter does not decode (`invalid_path`)",
            false,
        );
    }
    if query_params {
        add(
            400,
            "a query parameter is missing, repeated or of the wrong type (`invalid_parameter`)",
            false,
        );
    }
    match body {
        Body::Json => {
            add(400, "malformed JSON (`malformed_json`)", false);
            add(413, "the body is too large (`payload_too_large`)", false);
            add(
                415,
                "the body is not `application/json` (`unsupported_media_type`)",
                false,
            );
            add(
                422,
                "the JSON does not match the expected shape or a field is invalid (`invalid_field`)",
                false,
            );
        }
        Body::Other => {
            add(413, "the body is too large (`payload_too_large`)", false);
            add(
                415,
                "the body's Content-Type is not one this operation reads (`unsupported_media_type`)",
                false,
            );
        }
        Body::None => {}
    }
    if needs_token {
        add(
            401,
            "no token, or an unknown or revoked one (`unauthorized`, with `WWW-Authenticate: Bearer`)",
            false,
        );
        add(
            403,
            "the token does not allow this: the admin's only, another department's, or a missing scope (`forbidden`)",
            false,
        );
    }
    add(
        429,
        "too many requests without a valid token from this address (`rate_limited`); retry after `Retry-After` seconds",
        true,
    );
    add(
        503,
        "too many requests of this kind at once (`busy`); retry after `Retry-After` seconds",
        true,
    );
    for (status, response) in operation.responses.responses.iter_mut() {
        if let RefOr::T(response) = response
            && response.description.is_empty()
        {
            response.description = status
                .parse::<u16>()
                .ok()
                .and_then(|s| axum::http::StatusCode::from_u16(s).ok())
                .and_then(|s| s.canonical_reason())
                .unwrap_or("response")
                .to_string();
        }
    }
}

/// An error answer: the JSON envelope, or an HTML page for the pages.
fn error_response(description: &str, page: bool, retry_after: bool) -> Response {
    let mut builder = ResponseBuilder::new().description(description);
    builder = if page {
        builder.content("text/html", Content::new(Some(html())))
    } else {
        builder.content(
            "application/json",
            Content::new(Some(Ref::from_schema_name("ErrorBody"))),
        )
    };
    if retry_after {
        builder = builder.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(
                    utoipa::openapi::ObjectBuilder::new()
                        .schema_type(utoipa::openapi::schema::Type::Integer)
                        .minimum(Some(0_u64)),
                ))
                .description(Some("seconds to wait before trying again"))
                .build(),
        );
    }
    builder.build()
}

/// `type: string`, the schema of an HTML page.
fn html() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .build()
}

/// The OpenAPI document of the whole API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// What openapi-spec-validator and client generators insist on, checked
    /// without them: unique operation ids, a description on every response.
    #[test]
    fn every_operation_has_a_unique_id_and_described_responses() {
        let doc = serde_json::to_value(super::openapi()).unwrap();
        let mut ids = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap_or_else(|| {
                    panic!("{method} {path} has no operationId");
                });
                assert!(ids.insert(id.to_string()), "operationId {id} twice");
                for (status, response) in op["responses"].as_object().unwrap() {
                    assert!(
                        response["description"]
                            .as_str()
                            .is_some_and(|d| !d.is_empty()),
                        "{method} {path} {status} has no description"
                    );
                }
            }
        }
        // Files are strings of bytes, not arrays of integers.
        fn no_integer_arrays(value: &serde_json::Value, at: &str) {
            match value {
                serde_json::Value::Object(map) => {
                    if let Some(content) = map.get("content").and_then(|c| c.as_object()) {
                        for (media, body) in
                            content.iter().filter(|(m, _)| *m != "application/json")
                        {
                            assert_ne!(
                                body["schema"]["type"], "array",
                                "{at}: {media} is typed as an array"
                            );
                        }
                    }
                    for (key, v) in map {
                        no_integer_arrays(v, &format!("{at}/{key}"));
                    }
                }
                serde_json::Value::Array(items) => {
                    items.iter().for_each(|v| no_integer_arrays(v, at));
                }
                _ => {}
            }
        }
        no_integer_arrays(&doc["paths"], "");
    }
}
