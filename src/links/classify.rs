//! Turning status codes and reqwest errors into outcomes, and the
//! "same site" rule for redirects.

use std::error::Error;
use std::io;
use std::time::Duration;

use reqwest::StatusCode;
use url::Url;

use super::policy::ResolveError;
use super::Outcome;

/// An outcome with its short human message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Classified {
    pub outcome: Outcome,
    pub detail: String,
}

impl Classified {
    pub(super) fn new(outcome: Outcome, detail: impl Into<String>) -> Self {
        Classified {
            outcome,
            detail: detail.into(),
        }
    }
}

/// Classifies the status of the last (non-redirect) response.
///
/// 401, 403 and 429 count as `ok`: the server is there and answered for
/// this URL, it just won't serve the checker (login wall, bot protection,
/// rate limit). Flagging those would mark many working sites as broken.
/// `http_status` still records the real code.
pub(super) fn classify_status(status: StatusCode) -> Classified {
    let code = status.as_u16();
    let detail = format!("HTTP {status}");
    match code {
        200..=299 => Classified::new(Outcome::Ok, detail),
        401 | 403 | 429 => Classified::new(
            Outcome::Ok,
            format!("{detail} (the site answered but refused the checker; counted as working)"),
        ),
        404 => Classified::new(Outcome::NotFound404, detail),
        410 => Classified::new(Outcome::Gone410, detail),
        400..=499 => Classified::new(Outcome::ClientError4xx, detail),
        500..=599 => Classified::new(Outcome::ServerError5xx, detail),
        _ => Classified::new(Outcome::OtherError, format!("unexpected {detail}")),
    }
}

/// Whether a HEAD response should be confirmed with GET.
///
/// Any 4xx or 5xx except 410 and 429: 405 and 501 mean "no HEAD" by the
/// spec, but in practice servers also answer HEAD with 400, 403, 404 or 500
/// while GET works. A failure is only reported after GET agrees, which costs
/// one extra request per failing link. 410 is explicit enough; after a 429
/// another request would be rude.
pub(super) fn head_unsupported(status: StatusCode) -> bool {
    let code = status.as_u16();
    code >= 400 && code != 410 && code != 429
}

/// Classifies a failed request by walking the error's source chain.
/// `timeout` is only used in the message.
pub(super) fn classify_error(err: &reqwest::Error, url: &Url, timeout: Duration) -> Classified {
    let mut chain: Vec<&(dyn Error + 'static)> = Vec::new();
    let mut next: Option<&(dyn Error + 'static)> = Some(err);
    while let Some(e) = next {
        chain.push(e);
        // io::Error's `source` skips the error it wraps; look inside it too.
        next = match e.downcast_ref::<io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn Error + 'static)),
            None => e.source(),
        };
    }

    for e in &chain {
        if let Some(resolve) = e.downcast_ref::<ResolveError>() {
            let outcome = match resolve {
                ResolveError::NotFound { .. } => Outcome::DnsFailure,
                ResolveError::Blocked { .. } => Outcome::BlockedByPolicy,
            };
            return Classified::new(outcome, resolve.to_string());
        }
    }
    if err.is_timeout() {
        let detail = format!("no answer within {} ms", timeout.as_millis());
        return Classified::new(Outcome::Timeout, detail);
    }
    let refused = chain.iter().any(|e| {
        e.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::ConnectionRefused)
    });
    if refused {
        return Classified::new(Outcome::ConnectionRefused, "connection refused");
    }

    // Skip the top error: its text is "error sending request for url (...)".
    let causes: Vec<String> = chain.iter().skip(1).map(|e| e.to_string()).collect();
    let text = if causes.is_empty() {
        err.to_string()
    } else {
        causes.join(": ")
    };
    if let Some(tls) = chain.iter().find_map(|e| e.downcast_ref::<rustls::Error>()) {
        return Classified::new(Outcome::TlsError, shorten(&format!("TLS error: {tls}")));
    }
    if url.scheme() == "https" {
        let lower = text.to_ascii_lowercase();
        // TLS backends' error types are not visible here; match their text.
        if ["tls", "ssl", "certificate", "handshake"]
            .iter()
            .any(|word| lower.contains(word))
        {
            return Classified::new(Outcome::TlsError, shorten(&format!("TLS error: {text}")));
        }
    }
    Classified::new(Outcome::OtherError, shorten(&text))
}

/// Cuts a message to a length that fits a table cell.
fn shorten(text: &str) -> String {
    const MAX_CHARS: usize = 200;
    if text.chars().count() <= MAX_CHARS {
        return text.to_string();
    }
    let mut short: String = text.chars().take(MAX_CHARS).collect();
    short.push('…');
    short
}

/// The "site" of a host: lowercased, trailing dot and one leading `www.`
/// removed.
fn site_of(host: &str) -> String {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    match host.strip_prefix("www.") {
        Some(rest) => rest.to_string(),
        None => host,
    }
}

/// Whether a redirect from `origin` to `target` stays on the same site.
///
/// Same site: the sites are equal (`example.org` ↔ `www.example.org`), or the
/// target is a subdomain of the origin's site (`charity.org.uk` →
/// `shop.charity.org.uk`). Scheme and port don't matter, so http → https is
/// fine. Going up to a parent domain is off-site: on shared platforms
/// (`name.wordpress.com` → `wordpress.com`) that is how a removed site looks.
/// No public-suffix list: this is deliberately simple.
pub(super) fn same_site(origin: &Url, target: &Url) -> bool {
    let (Some(origin), Some(target)) = (origin.host_str(), target.host_str()) else {
        return false;
    };
    let origin = site_of(origin);
    let target = site_of(target);
    target == origin || target.ends_with(&format!(".{origin}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes() {
        let cases = [
            (200, Outcome::Ok),
            (204, Outcome::Ok),
            (401, Outcome::Ok),
            (403, Outcome::Ok),
            (429, Outcome::Ok),
            (400, Outcome::ClientError4xx),
            (405, Outcome::ClientError4xx),
            (451, Outcome::ClientError4xx),
            (404, Outcome::NotFound404),
            (410, Outcome::Gone410),
            (500, Outcome::ServerError5xx),
            (503, Outcome::ServerError5xx),
            (101, Outcome::OtherError),
            (304, Outcome::OtherError),
        ];
        for (code, expected) in cases {
            let status = StatusCode::from_u16(code).unwrap();
            assert_eq!(classify_status(status).outcome, expected, "status {code}");
        }
    }

    #[test]
    fn head_fallback_rule() {
        let retry = |code| head_unsupported(StatusCode::from_u16(code).unwrap());
        for code in [400, 403, 404, 405, 500, 501] {
            assert!(retry(code), "{code} should be retried with GET");
        }
        for code in [200, 301, 410, 429] {
            assert!(!retry(code), "{code} should not be retried with GET");
        }
    }

    #[test]
    fn sites() {
        let same = |a: &str, b: &str| same_site(&Url::parse(a).unwrap(), &Url::parse(b).unwrap());
        assert!(same("http://example.org/", "https://example.org/new"));
        assert!(same("http://example.org/", "https://www.example.org/"));
        assert!(same("http://www.example.org/", "http://EXAMPLE.org./"));
        assert!(same("http://example.org:8080/", "http://example.org/"));
        assert!(same(
            "http://charity.org.uk/",
            "http://shop.charity.org.uk/"
        ));
        assert!(same(
            "http://www.charity.org.uk/",
            "http://shop.charity.org.uk/"
        ));
        assert!(!same("http://example.org/", "http://other.org/"));
        assert!(!same("http://example.org/", "http://notexample.org/"));
        assert!(!same(
            "http://name.wordpress.com/",
            "https://wordpress.com/"
        ));
        assert!(!same(
            "http://example.org/",
            "http://example.org.evil.test/"
        ));
    }

    #[test]
    fn long_details_are_cut() {
        assert_eq!(shorten("short"), "short");
        assert_eq!(shorten(&"x".repeat(500)).chars().count(), 201);
    }
}
