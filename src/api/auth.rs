//! Every request passes through here first: `Authorization: Bearer <key>`
//! is checked (401 for a malformed, unknown, revoked or expired key), the
//! caller's rate limit is applied (429 with `Retry-After`), and the caller
//! is left in the request for handlers to take as a `Caller` argument.
//! Tokens are never logged; only a key's public prefix is.

use std::future::{ready, Ready};
use std::net::IpAddr;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, ResponseError};

use super::error::ApiError;
use crate::auth::limits::Bucket;
use crate::auth::{token, Caller};
use crate::db::keys::{self, KeyCheck};
use crate::state::AppState;

pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let outcome = match identify(&state, req.request()).await {
        Ok(caller) => state
            .limits
            .check(&caller, Bucket::Requests)
            .map(|()| caller)
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            next.call(req)
                .await
                .map(ServiceResponse::map_into_left_body)
        }
        Err(e) => {
            tracing::info!(status = %e.status_code(), reason = %e, "request refused");
            let response = e.error_response();
            Ok(req.into_response(response).map_into_right_body())
        }
    }
}

/// The client's address: the peer, or with `trust_forwarded_for` (behind a
/// reverse proxy) the first `X-Forwarded-For` / `Forwarded` address.
pub fn client_ip(state: &AppState, req: &HttpRequest) -> Option<IpAddr> {
    if state.trust_forwarded_for {
        if let Some(ip) = req.connection_info().realip_remote_addr().and_then(|a| {
            a.parse::<std::net::SocketAddr>()
                .map(|s| s.ip())
                .ok()
                .or_else(|| a.parse().ok())
        }) {
            return Some(ip);
        }
    }
    req.peer_addr().map(|a| a.ip())
}

async fn identify(state: &AppState, req: &HttpRequest) -> Result<Caller, ApiError> {
    let ip = client_ip(state, req);
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(Caller::Anonymous { ip });
    };
    let unauthorized = |why: &str| ApiError::Unauthorized(why.to_string());
    let text = value
        .to_str()
        .map_err(|_| unauthorized("the Authorization header is not readable text"))?;
    let (scheme, credentials) = text.trim().split_once(' ').unwrap_or((text.trim(), ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(unauthorized(
            "use `Authorization: Bearer <key>` with a Signpost API key",
        ));
    }
    let presented = token::parse(credentials.trim())
        .ok_or_else(|| unauthorized("that is not a Signpost API key (they look like sp_…_…)"))?;
    let now = state.clock.now();
    match state
        .db(move |c| keys::authenticate(c, &presented, now))
        .await?
    {
        KeyCheck::Valid(holder) => Ok(Caller::Key(holder)),
        KeyCheck::Unknown => Err(unauthorized("unknown API key")),
        KeyCheck::Revoked => Err(unauthorized("this API key has been revoked")),
        KeyCheck::Expired => Err(unauthorized("this API key has expired")),
    }
}

/// Handlers take the caller the middleware identified.
impl FromRequest for Caller {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = req.extensions().get::<Caller>().cloned();
        ready(Ok(caller.unwrap_or(Caller::Anonymous {
            ip: req.peer_addr().map(|a| a.ip()),
        })))
    }
}

/// Declares an extractor for callers that pass a policy check. Taken before
/// the body, it makes an unauthorised request fail with 401/403 before the
/// body is even read.
macro_rules! guarded_caller {
    ($(#[$meta:meta])* $name:ident, $check:path) => {
        $(#[$meta])*
        pub struct $name(pub Caller);

        impl FromRequest for $name {
            type Error = ApiError;
            type Future = Ready<Result<Self, Self::Error>>;

            fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
                let caller = match Caller::from_request(req, payload).into_inner() {
                    Ok(caller) => caller,
                    Err(_) => Caller::Anonymous { ip: None },
                };
                ready(match $check(&caller) {
                    Ok(_) => Ok($name(caller)),
                    Err(denied) => Err(ApiError::from(denied)),
                })
            }
        }
    };
}

guarded_caller!(
    /// A caller whose key may write (not anonymous, not a read-only client).
    Writer,
    crate::auth::policy::writer
);
guarded_caller!(
    /// An editor or admin.
    Staff,
    crate::auth::policy::staff
);
guarded_caller!(
    /// An admin.
    Admin,
    crate::auth::policy::admin
);
