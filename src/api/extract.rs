//! Request parsing shared by the handlers: JSON bodies with a size limit and
//! field-naming errors, path ids, `If-Match`, and the query helpers.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::error::ApiError;
use crate::db::paging::PageRequest;
use crate::model::FieldError;

/// Largest accepted request body. Listings are small; imports have their own path.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// A JSON request body, deserialised with errors that name the offending
/// field: malformed JSON is a 400, a wrong type or unknown field a 422.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let declared_length = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            let essence = content_type
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_string();
            if essence != "application/json" && !essence.ends_with("+json") {
                return Err(ApiError::UnsupportedMediaType(format!(
                    "send the body as application/json (got '{}')",
                    if essence.is_empty() {
                        "no content type"
                    } else {
                        essence.as_str()
                    }
                )));
            }
            if declared_length.is_some_and(|n| n > MAX_BODY_BYTES) {
                return Err(ApiError::PayloadTooLarge {
                    limit: MAX_BODY_BYTES,
                });
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| {
                    ApiError::bad_request("body", format!("could not read the body: {e}"))
                })?;
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(ApiError::PayloadTooLarge {
                        limit: MAX_BODY_BYTES,
                    });
                }
                body.extend_from_slice(&chunk);
            }
            parse_json(&body).map(JsonBody)
        })
    }
}

/// An optional JSON body: no body at all (no content type, no length)
/// reads as `T::default()`; anything else is parsed like `JsonBody`.
pub struct OptionalJsonBody<T>(pub T);

impl<T: DeserializeOwned + Default + 'static> FromRequest for OptionalJsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let headers = req.headers();
        let empty = !headers.contains_key(header::CONTENT_TYPE)
            && headers
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .is_none_or(|v| v.trim() == "0");
        if empty {
            return Box::pin(async { Ok(OptionalJsonBody(T::default())) });
        }
        let body = JsonBody::<T>::from_request(req, payload);
        Box::pin(async move { body.await.map(|b| OptionalJsonBody(b.0)) })
    }
}

/// Deserialises JSON, naming the failing path.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => data_error(&path, &inner.to_string()),
            _ => ApiError::bad_request("body", format!("malformed JSON: {inner}")),
        }
    })
}

/// Same as [`parse_json`] for an already-parsed value (used by PATCH).
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        data_error(&path, &err.into_inner().to_string())
    })
}

/// A 422 naming the field: serde reports a missing field at its parent's
/// path, so the field's own name is appended.
fn data_error(path: &str, message: &str) -> ApiError {
    let message = explain_chrono(path, strip_position(message));
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    let field = match (path, missing) {
        (".", Some(name)) => name.to_string(),
        (parent, Some(name)) => format!("{parent}.{name}"),
        (".", None) => "body".to_string(),
        (path, None) => path.to_string(),
    };
    ApiError::Invalid(crate::model::Invalid(vec![FieldError { field, message }]))
}

/// chrono's parse errors ("input is out of range") do not say what was
/// expected: dates are YYYY-MM-DD, instants RFC 3339.
fn explain_chrono(path: &str, message: String) -> String {
    const CHRONO: [&str; 6] = [
        "input is out of range",
        "input contains invalid characters",
        "premature end of input",
        "trailing input",
        "input is not enough for unique date and time",
        "no possible date and time matching input",
    ];
    if !CHRONO.contains(&message.as_str()) {
        return message;
    }
    let field = path.rsplit('.').next().unwrap_or(path);
    if field.ends_with("_on") || field == "valid_from" || field == "valid_to" {
        format!("must be a real date as YYYY-MM-DD, e.g. 2026-12-25 ({message})")
    } else {
        format!("must be a date and time as RFC 3339, e.g. 2026-12-25T09:00:00Z ({message})")
    }
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Parses an id from the path.
pub fn path_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| {
        ApiError::bad_request(
            "id",
            format!("'{}' is not a valid UUID", crate::model::values::clip(raw)),
        )
    })
}

/// The version named by `If-Match` (`"3"` or `W/"3"`), which every write to an existing record needs: 428 without it.
pub fn if_match(req: &HttpRequest) -> Result<i64, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Err(ApiError::PreconditionRequired(
            "this write needs an If-Match header with the ETag of the version you are changing \
             (read the record first; its ETag is in the response)"
                .into(),
        ));
    };
    let text = value.to_str().unwrap_or("").trim();
    if text == "*" {
        return Err(ApiError::PreconditionRequired(
            "If-Match: * is not accepted: name the version you are changing (its ETag), \
             so a concurrent change is never overwritten"
                .into(),
        ));
    }
    text.trim_start_matches("W/")
        .trim_matches('"')
        .parse::<i64>()
        .map_err(|_| {
            ApiError::bad_request(
                "If-Match",
                format!(
                    "'{}' is not an ETag this API issued (e.g. \"3\")",
                    crate::model::values::clip(text)
                ),
            )
        })
}

/// The `ETag` for a version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// Parses `page`/`per_page` from the query string.
pub fn page_request(page: Option<&str>, per_page: Option<&str>) -> Result<PageRequest, ApiError> {
    let page = int_param("page", page, 1, 1, PageRequest::MAX_PAGE)?;
    let per_page = int_param(
        "per_page",
        per_page,
        PageRequest::DEFAULT_PER_PAGE,
        1,
        PageRequest::MAX_PER_PAGE,
    )?;
    Ok(PageRequest { page, per_page })
}

pub fn int_param(
    name: &str,
    raw: Option<&str>,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, ApiError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(text) => match text.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_request(
                name,
                format!("must be a whole number from {min} to {max}"),
            )),
        },
    }
}

pub fn bool_param(name: &str, raw: Option<&str>) -> Result<bool, ApiError> {
    match raw.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(_) => Err(ApiError::bad_request(name, "must be true or false")),
    }
}

pub fn datetime_param(name: &str, raw: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| {
                ApiError::bad_request(
                    name,
                    "must be an RFC 3339 date-time, e.g. 2026-11-01T00:00:00Z",
                )
            }),
    }
}

pub fn uuid_param(name: &str, raw: Option<&str>) -> Result<Option<Uuid>, ApiError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(text) => Uuid::parse_str(text).map(Some).map_err(|_| {
            ApiError::bad_request(
                name,
                format!("'{}' is not a valid UUID", crate::model::values::clip(text)),
            )
        }),
    }
}

/// Parses an optional enum-valued query parameter.
pub fn enum_param<T>(
    name: &str,
    raw: Option<&str>,
    parse: fn(&str) -> Result<T, String>,
) -> Result<Option<T>, ApiError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(text) => parse(text)
            .map(Some)
            .map_err(|e| ApiError::bad_request(name, e)),
    }
}

/// Query-string errors from actix's own extractor, as problem+json.
pub fn query_error_handler(
    err: actix_web::error::QueryPayloadError,
    _req: &HttpRequest,
) -> actix_web::Error {
    let message = match &err {
        actix_web::error::QueryPayloadError::Deserialize(inner) => inner.to_string(),
        other => other.to_string(),
    };
    // serde names the parameter in backquotes: "unknown field `bogus`,
    // expected one of …", "duplicate field `page`".
    let named = ["unknown field `", "duplicate field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next());
    match named {
        Some(field) if message.starts_with("unknown") => ApiError::bad_request(
            &crate::model::values::clip(field),
            format!("unknown parameter ({message})"),
        ),
        Some(field) => ApiError::bad_request(field, "may be given only once"),
        None => ApiError::bad_request(
            "query",
            format!("could not read the query string: {message}"),
        ),
    }
    .into()
}

/// One `application/x-www-form-urlencoded` component; on invalid UTF-8,
/// the lossy decoding (for naming it).
fn decode_component(raw: &str) -> Result<String, String> {
    let spaced = raw.replace('+', " ");
    let bytes: Vec<u8> = percent_encoding::percent_decode_str(&spaced).collect();
    String::from_utf8(bytes).map_err(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Raw query pairs, supporting repeated keys and comma lists.
pub struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    pub fn parse(query: &str, known: &[&str]) -> Result<QueryParams, ApiError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for piece in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = piece.split_once('=').unwrap_or((piece, ""));
            let key = decode_component(key).map_err(|key| {
                ApiError::bad_request(&crate::model::values::clip(&key), "is not valid UTF-8")
            })?;
            let value = decode_component(value)
                .map_err(|_| ApiError::bad_request(&key, "is not valid UTF-8 text"))?;
            pairs.push((key, value));
        }
        if let Some((key, _)) = pairs.iter().find(|(k, _)| !known.contains(&k.as_str())) {
            return Err(ApiError::bad_request(
                &crate::model::values::clip(key),
                format!(
                    "unknown parameter; known parameters are {}",
                    known.join(", ")
                ),
            ));
        }
        Ok(QueryParams(pairs))
    }

    pub fn one(&self, key: &str) -> Result<Option<&str>, ApiError> {
        let mut values = self
            .0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(ApiError::bad_request(key, "may be given only once"));
        }
        Ok(first.map(str::trim).filter(|v| !v.is_empty()))
    }

    pub fn list(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| v.split(','))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect()
    }
}
