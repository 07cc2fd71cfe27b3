//! HTTP method handling shared by every route: HEAD is answered as GET
//! (without the body), and a known path asked with a method it does not
//! answer gets a problem+json 405 with one `Allow` header.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::ResponseError;

use super::error::ApiError;

/// Routes are declared for GET; HEAD must give the same status and headers.
/// The server drops the body of a HEAD response itself (it knows the
/// method from the request line), so only routing needs to see GET.
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}

/// Replaces actix's empty 405 (whose `Allow` may repeat a method once per
/// route) with a problem+json body and a single, sorted `Allow`.
pub async fn method_not_allowed(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let method = req.method().to_string();
    let res = next.call(req).await?;
    if res.status() != StatusCode::METHOD_NOT_ALLOWED {
        return Ok(res.map_into_left_body());
    }
    let mut allow: Vec<String> = res
        .headers()
        .get_all(header::ALLOW)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|m| m.trim().to_ascii_uppercase())
        .filter(|m| !m.is_empty())
        .collect();
    if allow.iter().any(|m| m == "GET") {
        allow.push("HEAD".into());
    }
    allow.sort();
    allow.dedup();
    let (req, _) = res.into_parts();
    let response = ApiError::MethodNotAllowed { method, allow }.error_response();
    Ok(ServiceResponse::new(req, response).map_into_right_body())
}
