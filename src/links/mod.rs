//! Website link checker.
//!
//! Checks that a listing's website still answers, without fetching pages:
//! HEAD first, GET only when HEAD looks unsupported, redirects followed by
//! hand so every hop goes through the address policy and the off-site test.
//!
//! * [`LinkChecker::check_one`] checks one URL.
//! * [`LinkChecker::check_all`] checks many URLs politely: bounded overall
//!   concurrency, at most one request at a time per host, a pause between
//!   requests to the same host.
//! * [`evaluate`] turns a URL's check history into a "link broken" flag.
//!
//! Files: `policy.rs` (which addresses may be contacted, resolvers),
//! `classify.rs` (status codes, errors, "same site"), `checker.rs` (one URL),
//! `batch.rs` (many URLs), `flag.rs` (the broken flag).

mod batch;
mod checker;
mod classify;
mod flag;
mod policy;

#[cfg(test)]
mod test_server;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use checker::LinkChecker;
pub use flag::{evaluate, Broken, BrokenRule};
pub use policy::{check_target, guarded_resolver, is_public_ip, PolicyResolver, SystemResolver};

/// User-Agent sent when the app does not set its own.
pub const DEFAULT_USER_AGENT: &str = "Signpost-LinkChecker/0.1 (community directory link check)";

/// The result of checking one URL.
///
/// Only [`Outcome::Ok`] is a success; every other outcome counts as a failed
/// check for the broken flag (see [`Outcome::is_failure`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// 2xx, or 401/403/429: the server answered for this page (see `classify.rs`).
    Ok,
    /// The name did not resolve.
    DnsFailure,
    /// Nothing listening on the port.
    ConnectionRefused,
    /// TLS handshake failed, or https is not supported by this build.
    TlsError,
    /// No answer within the configured timeout.
    Timeout,
    #[serde(rename = "not_found_404")]
    NotFound404,
    #[serde(rename = "gone_410")]
    Gone410,
    #[serde(rename = "server_error_5xx")]
    ServerError5xx,
    /// A 4xx other than 401, 403, 404, 410 and 429.
    #[serde(rename = "client_error_4xx")]
    ClientError4xx,
    /// A redirect left the site (see `classify::same_site`).
    RedirectedOffSite,
    /// The address is private, local or otherwise not public, and
    /// `allow_private` is off. No connection was made.
    BlockedByPolicy,
    /// Anything else: unsupported scheme, too many redirects, a broken
    /// connection, an unusual status code.
    OtherError,
}

impl Outcome {
    /// Every outcome, in declaration order.
    pub const ALL: [Outcome; 12] = [
        Outcome::Ok,
        Outcome::DnsFailure,
        Outcome::ConnectionRefused,
        Outcome::TlsError,
        Outcome::Timeout,
        Outcome::NotFound404,
        Outcome::Gone410,
        Outcome::ServerError5xx,
        Outcome::ClientError4xx,
        Outcome::RedirectedOffSite,
        Outcome::BlockedByPolicy,
        Outcome::OtherError,
    ];

    /// The stable name, the same as the serde name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::DnsFailure => "dns_failure",
            Outcome::ConnectionRefused => "connection_refused",
            Outcome::TlsError => "tls_error",
            Outcome::Timeout => "timeout",
            Outcome::NotFound404 => "not_found_404",
            Outcome::Gone410 => "gone_410",
            Outcome::ServerError5xx => "server_error_5xx",
            Outcome::ClientError4xx => "client_error_4xx",
            Outcome::RedirectedOffSite => "redirected_off_site",
            Outcome::BlockedByPolicy => "blocked_by_policy",
            Outcome::OtherError => "other_error",
        }
    }

    /// True for everything but [`Outcome::Ok`].
    pub fn is_failure(self) -> bool {
        self != Outcome::Ok
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not one of the [`Outcome`] names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown link check outcome {0:?}")]
pub struct UnknownOutcome(pub String);

impl FromStr for Outcome {
    type Err = UnknownOutcome;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Outcome::ALL
            .into_iter()
            .find(|outcome| outcome.as_str() == s)
            .ok_or_else(|| UnknownOutcome(s.to_string()))
    }
}

/// What one check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The URL as given.
    pub url: String,
    pub outcome: Outcome,
    /// Status of the last response received, if any.
    pub http_status: Option<u16>,
    /// Set only when the check met a redirect: the last URL requested, or,
    /// when it stopped at a redirect (off-site, too many), that redirect's
    /// target, which was not requested.
    pub final_url: Option<String>,
    /// A short message for people, e.g. "HTTP 404 Not Found".
    pub detail: String,
    /// When the check finished.
    pub checked_at: DateTime<Utc>,
    pub elapsed_ms: u64,
}

/// Settings for a [`LinkChecker`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkCheckConfig {
    pub user_agent: String,
    /// Limit for each request (connect, headers and the little body read).
    /// HEAD, the GET fallback and each redirect hop get their own limit.
    pub timeout: Duration,
    /// Most requests in flight at once in `check_all`. Must be at least 1.
    pub concurrency: usize,
    /// Pause between two checks of URLs on the same host in `check_all`.
    pub per_host_delay: Duration,
    /// Most redirects followed; one more is `other_error`.
    pub max_redirects: usize,
    /// Allow loopback, private, link-local, CGNAT, ULA and other non-public
    /// addresses. Off in production; tests against 127.0.0.1 turn it on.
    pub allow_private: bool,
}

impl Default for LinkCheckConfig {
    fn default() -> Self {
        LinkCheckConfig {
            user_agent: DEFAULT_USER_AGENT.to_string(),
            timeout: Duration::from_secs(10),
            concurrency: 8,
            per_host_delay: Duration::from_secs(1),
            max_redirects: 5,
            allow_private: false,
        }
    }
}

/// Why a [`LinkChecker`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum LinkCheckError {
    #[error("invalid link check settings: {0}")]
    InvalidConfig(&'static str),
    #[error("could not build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}
