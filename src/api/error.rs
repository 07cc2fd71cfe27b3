//! API errors as RFC 9457 `application/problem+json`. Bad input is always a
//! 4xx naming the field; only genuine faults are 5xx, and those never echo
//! internals to the client.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::limits::RetryAfter;
use crate::auth::policy::Denied;
use crate::db::RepoError;
use crate::model::{FieldError, Invalid};

/// RFC 9457 problem details, with the offending fields in `errors`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`about:blank` when the status says it all).
    #[serde(rename = "type")]
    #[schema(example = "https://signpost.example/problems/validation")]
    pub problem_type: String,
    #[schema(example = "Invalid request")]
    pub title: String,
    #[schema(example = 422)]
    pub status: u16,
    #[schema(example = "postcode: 'G99 9ZZ' was not found in the postcode data")]
    pub detail: String,
    /// Each offending field (JSON path) and what is wrong with it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For an unknown place: places that were perhaps meant.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suggestions: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    BadRequest {
        field: Option<String>,
        detail: String,
    },
    #[error("invalid request")]
    Invalid(Invalid),
    /// No usable credentials (401, with `WWW-Authenticate: Bearer`).
    #[error("{0}")]
    Unauthorized(String),
    /// Credentials that do not allow this (403).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PreconditionFailed(String),
    /// A write to an existing record without `If-Match` (428).
    #[error("{0}")]
    PreconditionRequired(String),
    #[error("too many requests: try again in {retry_after} s")]
    TooManyRequests { retry_after: u64 },
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A known path asked with a method it does not answer (405, with `Allow`).
    #[error("{method} is not allowed here; allowed: {}", allow.join(", "))]
    MethodNotAllowed { method: String, allow: Vec<String> },
    #[error("internal error: {0}")]
    Internal(String),
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A postcode or place that could not be placed: 422 when malformed,
    /// 404 when well formed but unknown; both name `postcode`.
    #[error("{detail}")]
    UnknownPlace {
        malformed: bool,
        detail: String,
        suggestions: Vec<String>,
    },
}

impl ApiError {
    pub fn bad_request(field: &str, detail: impl Into<String>) -> Self {
        ApiError::BadRequest {
            field: Some(field.to_string()),
            detail: detail.into(),
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::BadRequest { .. } => "Bad request",
            ApiError::Invalid(_) => "Invalid request",
            ApiError::Unauthorized(_) => "Unauthorized",
            ApiError::Forbidden(_) => "Forbidden",
            ApiError::NotFound(_) => "Not found",
            ApiError::Conflict(_) => "Conflict",
            ApiError::PreconditionFailed(_) => "Precondition failed",
            ApiError::PreconditionRequired(_) => "Precondition required",
            ApiError::TooManyRequests { .. } => "Too many requests",
            ApiError::PayloadTooLarge { .. } => "Payload too large",
            ApiError::UnsupportedMediaType(_) => "Unsupported media type",
            ApiError::MethodNotAllowed { .. } => "Method not allowed",
            ApiError::Internal(_) => "Internal server error",
            ApiError::Unavailable(_) => "Service unavailable",
            ApiError::UnknownPlace {
                malformed: true, ..
            } => "Not a postcode",
            ApiError::UnknownPlace { .. } => "Unknown postcode",
        }
    }

    fn slug(&self) -> &'static str {
        match self {
            ApiError::BadRequest { .. } => "bad-request",
            ApiError::Invalid(_) => "validation",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not-found",
            ApiError::Conflict(_) => "conflict",
            ApiError::PreconditionFailed(_) => "precondition-failed",
            ApiError::PreconditionRequired(_) => "precondition-required",
            ApiError::TooManyRequests { .. } => "too-many-requests",
            ApiError::PayloadTooLarge { .. } => "payload-too-large",
            ApiError::UnsupportedMediaType(_) => "unsupported-media-type",
            ApiError::MethodNotAllowed { .. } => "method-not-allowed",
            ApiError::Internal(_) => "internal",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::UnknownPlace { .. } => "unknown-place",
        }
    }

    pub fn to_problem(&self) -> Problem {
        let (detail, errors) = match self {
            ApiError::Invalid(invalid) => (invalid.summary(), invalid.0.clone()),
            ApiError::BadRequest {
                field: Some(field),
                detail,
            } => (
                format!("{field}: {detail}"),
                vec![FieldError {
                    field: field.clone(),
                    message: detail.clone(),
                }],
            ),
            ApiError::UnknownPlace { detail, .. } => (
                format!("postcode: {detail}"),
                vec![FieldError {
                    field: "postcode".into(),
                    message: detail.clone(),
                }],
            ),
            // Internal details go to the log, not to the client.
            ApiError::Internal(_) => (
                "Something went wrong on our side; it has been logged.".into(),
                vec![],
            ),
            other => (other.to_string(), vec![]),
        };
        Problem {
            problem_type: format!("https://signpost.example/problems/{}", self.slug()),
            title: self.title().into(),
            status: self.status_code().as_u16(),
            detail,
            errors,
            suggestions: match self {
                ApiError::UnknownPlace { suggestions, .. } => suggestions.clone(),
                _ => Vec::new(),
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::UnknownPlace {
                malformed: true, ..
            } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::UnknownPlace { .. } => StatusCode::NOT_FOUND,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(cause) | ApiError::Unavailable(cause) = self {
            tracing::error!(%cause, "request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        match self {
            ApiError::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"signpost\""));
            }
            ApiError::TooManyRequests { retry_after } => {
                response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            ApiError::MethodNotAllowed { allow, .. } => {
                response.insert_header((header::ALLOW, allow.join(", ")));
            }
            _ => {}
        }
        response.json(self.to_problem())
    }
}

impl From<Invalid> for ApiError {
    fn from(invalid: Invalid) -> Self {
        ApiError::Invalid(invalid)
    }
}

impl From<RepoError> for ApiError {
    fn from(err: RepoError) -> Self {
        match err {
            RepoError::NotFound { .. } => ApiError::NotFound(err.to_string()),
            RepoError::Invalid(invalid) => ApiError::Invalid(invalid),
            RepoError::Conflict(msg) => ApiError::Conflict(msg),
            RepoError::StaleVersion { .. } => ApiError::PreconditionFailed(err.to_string()),
            RepoError::Pool(e) => ApiError::Unavailable(e.to_string()),
            RepoError::Database(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                info,
            )) => ApiError::Conflict(format!(
                "a record with the same key already exists ({})",
                info.message()
            )),
            RepoError::Database(e) => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<Denied> for ApiError {
    fn from(denied: Denied) -> Self {
        match denied {
            Denied::Unauthenticated(msg) => ApiError::Unauthorized(msg),
            Denied::Forbidden(msg) => ApiError::Forbidden(msg),
        }
    }
}

impl From<RetryAfter> for ApiError {
    fn from(retry: RetryAfter) -> Self {
        ApiError::TooManyRequests {
            retry_after: retry.seconds(),
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(err: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(format!("blocking task failed: {err}"))
    }
}
