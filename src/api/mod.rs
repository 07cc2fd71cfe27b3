//! HTTP API under `/api/v1`, and ALISS v4 compatibility under `/api/v4`.
//! Handlers are thin: parse, call a repository, map errors.

pub mod aliss;
pub mod areas;
pub mod audit;
pub mod auth;
pub mod claims;
pub mod docs;
pub mod envelope;
pub mod error;
pub mod extract;
pub mod freshness;
pub mod keys;
pub mod locations;
pub mod methods;
pub mod openapi;
pub mod openreferral;
pub mod organisations;
pub mod records;
pub mod search;
pub mod services;
pub mod suggestions;
pub mod taxonomy;
pub mod transfer;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use serde::Serialize;
use serde_json::Value;

use envelope::Item;
use error::ApiError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::QueryConfig::default().error_handler(extract::query_error_handler))
        .service(
            web::scope("/api/v1")
                // Before services::routes, so /services/search is not read as an id.
                .configure(search::routes)
                .configure(freshness::routes)
                .configure(claims::routes)
                .configure(organisations::routes)
                .configure(services::routes)
                .configure(locations::routes)
                .configure(taxonomy::routes)
                .configure(areas::routes)
                .configure(keys::routes)
                .configure(suggestions::routes)
                .configure(audit::routes)
                .configure(transfer::routes)
                .route("/openapi.json", web::get().to(openapi::serve)),
        )
        .service(web::scope("/api/v4").configure(aliss::routes))
        .configure(openreferral::routes)
        .configure(docs::routes);
}

/// A single-record response with its `ETag` (and `Location` for a create).
pub fn item_response<T: Serialize>(
    status: StatusCode,
    data: T,
    version: i64,
    location: Option<String>,
) -> HttpResponse {
    let mut builder = HttpResponse::build(status);
    builder.insert_header((header::ETAG, extract::etag(version)));
    if let Some(location) = location {
        builder.insert_header((header::LOCATION, location));
    }
    builder.json(Item::new(data))
}

/// RFC 7396 JSON merge patch: `null` removes a field (clearing it, or
/// restoring its default), objects merge,
/// anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(changes) => {
            if !target.is_object() {
                *target = Value::Object(Default::default());
            }
            if let Value::Object(fields) = target {
                for (key, value) in changes {
                    if value.is_null() {
                        fields.remove(key);
                    } else {
                        merge_patch(fields.entry(key.clone()).or_insert(Value::Null), value);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// Checks a PATCH body is a JSON object.
pub fn patch_object(patch: &Value) -> Result<(), ApiError> {
    if patch.is_object() {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "body",
            "a PATCH body must be a JSON object (RFC 7396 merge patch)",
        ))
    }
}

/// A body `id` must agree with the path.
pub fn check_body_id(path: uuid::Uuid, body: Option<uuid::Uuid>) -> Result<(), ApiError> {
    match body {
        Some(id) if id != path => Err(ApiError::Invalid(crate::model::Invalid::one(
            "id",
            "must match the id in the path",
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}, "keep": 1});
        merge_patch(&mut doc, &json!({"a": "z", "c": {"f": null}, "new": [1]}));
        assert_eq!(
            doc,
            json!({"a": "z", "c": {"d": "e"}, "keep": 1, "new": [1]})
        );
    }
}
