//! One delivery attempt: POST the signed event, classify what happened.
//!
//! Classification (what the outbox job does next):
//! - 2xx: delivered.
//! - 408, 429, 5xx, timeouts and network errors: retryable; the receiver
//!   or the network may recover.
//! - other 4xx (400, 401, 404, 410, ...): not retryable. The receiver
//!   understood the request and refused it; sending the same bytes again
//!   won't change its answer, and retrying a gone endpoint for hours only
//!   hides the problem from the organisation.
//! - 3xx: not retryable and not followed. Following would resend a signed
//!   body to a URL nobody registered; the organisation should register the
//!   final URL instead.

use std::error::Error as _;
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, Utc};
use reqwest::{header, redirect, Client, StatusCode};
use serde::{Deserialize, Serialize};
use url::Url;

use super::event::Event;
use super::sign;

pub const EVENT_HEADER: &str = "Signpost-Event";
pub const DELIVERY_HEADER: &str = "Signpost-Delivery";
pub const SIGNATURE_HEADER: &str = "Signpost-Signature";

/// The HTTP client for deliveries: never follows redirects, and `timeout`
/// bounds the whole request (connect, send, response headers).
pub fn client(
    user_agent: &str,
    timeout: Duration,
    resolver: std::sync::Arc<crate::links::PolicyResolver>,
) -> reqwest::Result<Client> {
    Client::builder()
        .user_agent(user_agent)
        .timeout(timeout)
        // The link checker's address policy: no private addresses unless allowed.
        .dns_resolver(resolver)
        .no_proxy()
        .redirect(redirect::Policy::none())
        .build()
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum AttemptOutcome {
    Delivered,
    Failed { retryable: bool },
}

impl AttemptOutcome {
    pub fn is_retryable(&self) -> bool {
        matches!(self, AttemptOutcome::Failed { retryable: true })
    }
}

/// One row of a delivery's history.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Attempt {
    pub at: DateTime<Utc>,
    pub outcome: AttemptOutcome,
    pub http_status: Option<u16>,
    /// Short and safe to show the organisation: "HTTP 500 Internal Server
    /// Error", "timed out", "connection refused". The response body is never
    /// read or stored.
    pub detail: String,
    pub elapsed_ms: u64,
    /// How long the receiver asked us to wait (`Retry-After` on a 429 or 503).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

/// POSTs `event` to `url`, signed with `secret` at time `now`. Never fails:
/// every problem becomes an [`Attempt`] for the outbox to record.
pub async fn attempt(
    client: &Client,
    url: &Url,
    secret: &[u8],
    event: &Event,
    now: DateTime<Utc>,
) -> Attempt {
    let started = Instant::now();
    let (outcome, http_status, detail, retry_after) = match serde_json::to_vec(event) {
        Ok(body) => send(client, url, secret, event, now, body).await,
        Err(e) => (
            AttemptOutcome::Failed { retryable: false },
            None,
            format!("could not encode event: {e}"),
            None,
        ),
    };
    let attempt = Attempt {
        at: now,
        outcome,
        http_status,
        detail,
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        retry_after_secs: retry_after.map(|d| d.as_secs()),
    };
    // Host only: webhook URLs often carry a token in the path or query.
    tracing::info!(
        event_id = %event.id,
        kind = %event.kind,
        host = url.host_str().unwrap_or(""),
        outcome = ?attempt.outcome,
        detail = %attempt.detail,
        elapsed_ms = attempt.elapsed_ms,
        "webhook attempt"
    );
    attempt
}

async fn send(
    client: &Client,
    url: &Url,
    secret: &[u8],
    event: &Event,
    now: DateTime<Utc>,
    body: Vec<u8>,
) -> (AttemptOutcome, Option<u16>, String, Option<Duration>) {
    let signature = sign::signature_header(secret, now.timestamp(), &body);
    let result = client
        .post(url.clone())
        .header(header::CONTENT_TYPE, "application/json")
        .header(EVENT_HEADER, event.kind.as_str())
        .header(DELIVERY_HEADER, event.id.to_string())
        .header(SIGNATURE_HEADER, signature)
        .body(body)
        .send()
        .await;
    match result {
        Ok(response) => {
            let status = response.status();
            let (outcome, detail) = classify_status(status);
            let asked = crate::http_retry::retry_after(response.headers(), SystemTime::now());
            (outcome, Some(status.as_u16()), detail, asked)
        }
        Err(e) => {
            let (outcome, detail) = classify_error(&e);
            (outcome, None, detail, None)
        }
    }
}

/// See the module docs for why each class is (not) retried.
pub fn classify_status(status: StatusCode) -> (AttemptOutcome, String) {
    let http = match status.canonical_reason() {
        Some(reason) => format!("HTTP {} {reason}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    };
    if status.is_success() {
        (AttemptOutcome::Delivered, http)
    } else if status.is_redirection() {
        (
            AttemptOutcome::Failed { retryable: false },
            format!("{http}: redirects are not followed; register the final URL"),
        )
    } else if status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
    {
        (AttemptOutcome::Failed { retryable: true }, http)
    } else {
        (AttemptOutcome::Failed { retryable: false }, http)
    }
}

fn classify_error(e: &reqwest::Error) -> (AttemptOutcome, String) {
    let retry = AttemptOutcome::Failed { retryable: true };
    if e.is_timeout() {
        return (retry, "timed out".to_string());
    }
    if e.is_builder() {
        // A bad scheme or header value: the same request will fail again.
        return (
            AttemptOutcome::Failed { retryable: false },
            format!("invalid request: {}", root_cause(e)),
        );
    }
    if io_error_kind(e) == Some(std::io::ErrorKind::ConnectionRefused) {
        return (retry, "connection refused".to_string());
    }
    if e.is_connect() {
        return (retry, format!("could not connect: {}", root_cause(e)));
    }
    (retry, format!("request failed: {}", root_cause(e)))
}

fn io_error_kind(e: &reqwest::Error) -> Option<std::io::ErrorKind> {
    let mut source = e.source();
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        source = err.source();
    }
    None
}

/// The innermost error's message: reqwest's outer ones are generic
/// ("error sending request for url (...)") and repeat the URL.
fn root_cause(e: &reqwest::Error) -> String {
    let mut last: &dyn std::error::Error = e;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

#[cfg(test)]
mod tests {

    use chrono::TimeZone;
    use serde_json::json;
    use uuid::Uuid;

    use super::super::event::SERVICE_FLAGGED;
    use super::super::test_server::{Receiver, Request};
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const UA: &str = "Signpost-Webhooks/test";

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0)
            .single()
            .expect("valid")
    }

    fn event() -> Event {
        Event::new(
            SERVICE_FLAGGED,
            Uuid::new_v4(),
            t0(),
            json!({"service_id": "b1f0", "reason": "website broken"}),
        )
    }

    fn test_client() -> Client {
        client(
            UA,
            Duration::from_secs(5),
            crate::links::guarded_resolver(true),
        )
        .expect("client")
    }

    /// A receiver that answers each request with the next status line,
    /// repeating the last one.
    async fn scripted(statuses: &'static [&'static str]) -> Receiver {
        let mut served = 0;
        Receiver::spawn(move |_: &Request| {
            let status = statuses[served.min(statuses.len() - 1)];
            served += 1;
            status.to_string()
        })
        .await
    }

    fn failed(retryable: bool) -> AttemptOutcome {
        AttemptOutcome::Failed { retryable }
    }

    #[test]
    fn status_classes() {
        for code in [200, 201, 202, 204] {
            let status = StatusCode::from_u16(code).expect("status");
            assert_eq!(classify_status(status).0, AttemptOutcome::Delivered);
        }
        for code in [408, 429, 500, 502, 503, 504, 599] {
            let status = StatusCode::from_u16(code).expect("status");
            assert_eq!(classify_status(status).0, failed(true), "{code}");
        }
        for code in [301, 302, 307, 308, 400, 401, 403, 404, 410, 422] {
            let status = StatusCode::from_u16(code).expect("status");
            assert_eq!(classify_status(status).0, failed(false), "{code}");
        }
        assert_eq!(
            classify_status(StatusCode::INTERNAL_SERVER_ERROR).1,
            "HTTP 500 Internal Server Error"
        );
        assert_eq!(
            classify_status(StatusCode::from_u16(599).expect("status")).1,
            "HTTP 599"
        );
    }

    #[tokio::test]
    async fn a_verifying_receiver_accepts_the_delivery() {
        let event = event();
        let expected_id = event.id.to_string();
        let now = t0();
        let receiver = Receiver::spawn(move |request: &Request| {
            let signature = request.header("signpost-signature").unwrap_or_default();
            let verified = sign::verify(SECRET, signature, &request.body, now.timestamp(), 300);
            let headers_ok = request.method == "POST"
                && request.header("content-type") == Some("application/json")
                && request.header("user-agent") == Some(UA)
                && request.header("signpost-event") == Some(SERVICE_FLAGGED)
                && request.header("signpost-delivery") == Some(expected_id.as_str());
            if verified.is_ok() && headers_ok {
                "204 No Content".to_string()
            } else {
                "401 Unauthorized".to_string()
            }
        })
        .await;

        let attempt = attempt(&test_client(), &receiver.url, SECRET, &event, now).await;
        assert_eq!(attempt.outcome, AttemptOutcome::Delivered, "{attempt:?}");
        assert_eq!(attempt.http_status, Some(204));
        assert_eq!(attempt.detail, "HTTP 204 No Content");
        assert_eq!(attempt.at, now);

        let requests = receiver.requests();
        assert_eq!(requests.len(), 1);
        let received: Event = serde_json::from_slice(&requests[0].body).expect("event JSON");
        assert_eq!(received.id, event.id);
        assert_eq!(received.data, event.data);
        assert_eq!(
            requests[0].header("signpost-signature"),
            Some(sign::signature_header(SECRET, now.timestamp(), &requests[0].body).as_str())
        );
    }

    #[tokio::test]
    async fn a_500_is_retried_from_the_outbox_and_then_delivered() {
        let receiver = scripted(&["500 Internal Server Error", "200 OK"]).await;
        let client = test_client();
        let event = event();
        let policy = crate::webhooks::RetryPolicy::default();

        let first = attempt(&client, &receiver.url, SECRET, &event, t0()).await;
        assert_eq!(first.outcome, failed(true));
        assert_eq!(first.http_status, Some(500));
        assert_eq!(first.detail, "HTTP 500 Internal Server Error");

        let due = policy.next_attempt_at(1, first.at).expect("retry due");
        assert_eq!(due, t0() + chrono::Duration::seconds(30));
        let second = attempt(&client, &receiver.url, SECRET, &event, due).await;
        assert_eq!(second.outcome, AttemptOutcome::Delivered);
        assert_eq!(second.http_status, Some(200));

        // Same delivery id both times; each signed at its own attempt time.
        let requests = receiver.requests();
        assert_eq!(requests.len(), 2);
        let delivery = event.id.to_string();
        for (request, at) in requests.iter().zip([t0(), due]) {
            assert_eq!(request.header("signpost-delivery"), Some(delivery.as_str()));
            let header = request.header("signpost-signature").unwrap_or_default();
            assert_eq!(
                sign::verify(SECRET, header, &request.body, at.timestamp(), 0),
                Ok(())
            );
        }
    }

    #[tokio::test]
    async fn a_404_is_not_retried() {
        let receiver = scripted(&["404 Not Found"]).await;
        let attempt = attempt(&test_client(), &receiver.url, SECRET, &event(), t0()).await;
        assert_eq!(attempt.outcome, failed(false));
        assert_eq!(attempt.http_status, Some(404));
        assert_eq!(attempt.detail, "HTTP 404 Not Found");
    }

    #[tokio::test]
    async fn a_redirect_is_neither_followed_nor_retried() {
        let receiver = Receiver::spawn(|request: &Request| {
            if request.path == "/hook" {
                "302 Found\r\nLocation: /elsewhere".to_string()
            } else {
                "200 OK".to_string()
            }
        })
        .await;
        let attempt = attempt(&test_client(), &receiver.url, SECRET, &event(), t0()).await;
        assert_eq!(attempt.outcome, failed(false));
        assert_eq!(attempt.http_status, Some(302));
        assert_eq!(
            attempt.detail,
            "HTTP 302 Found: redirects are not followed; register the final URL"
        );
        let paths: Vec<String> = receiver.requests().into_iter().map(|r| r.path).collect();
        assert_eq!(paths, vec!["/hook".to_string()]);
    }

    #[tokio::test]
    async fn connection_refused_is_retryable() {
        // Bind, note the port, close it: nothing listens there now.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("bind")
            .port();
        let url = Url::parse(&format!("http://127.0.0.1:{port}/hook")).expect("url");
        let attempt = attempt(&test_client(), &url, SECRET, &event(), t0()).await;
        assert_eq!(attempt.outcome, failed(true));
        assert_eq!(attempt.http_status, None);
        assert_eq!(attempt.detail, "connection refused");
    }

    #[tokio::test]
    async fn a_silent_receiver_times_out_and_is_retryable() {
        let receiver = Receiver::spawn_silent().await;
        let client = client(
            UA,
            Duration::from_millis(200),
            crate::links::guarded_resolver(true),
        )
        .expect("client");
        let attempt = attempt(&client, &receiver.url, SECRET, &event(), t0()).await;
        assert_eq!(attempt.outcome, failed(true));
        assert_eq!(attempt.http_status, None);
        assert_eq!(attempt.detail, "timed out");
        assert!((150..5_000).contains(&attempt.elapsed_ms), "{attempt:?}");
    }

    #[tokio::test]
    async fn an_unsupported_scheme_is_not_retried() {
        let url = Url::parse("ftp://127.0.0.1/hook").expect("url");
        let attempt = attempt(&test_client(), &url, SECRET, &event(), t0()).await;
        assert_eq!(attempt.outcome, failed(false));
        assert!(attempt.detail.starts_with("invalid request"), "{attempt:?}");
    }
}
