//! Checking one URL: HEAD (GET if HEAD looks unsupported), redirects
//! followed by hand so each hop gets the policy and off-site checks.

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use reqwest::dns::Resolve;
use reqwest::{header, Response, StatusCode};
use url::Url;

use super::classify::{classify_error, classify_status, head_unsupported, same_site, Classified};
use super::policy::{is_public_ip, literal_ip, PolicyResolver, SystemResolver};
use super::{CheckResult, LinkCheckConfig, LinkCheckError, Outcome};

/// At most this much of a GET body is read. A small body read to its end
/// lets the connection go back to the pool; a bigger one is dropped unread,
/// which closes the connection rather than downloading the page.
const BODY_READ_LIMIT: usize = 16 * 1024;

/// Checks links. Cheap to clone: clones share one HTTP client and its
/// connection pool.
#[derive(Clone)]
pub struct LinkChecker {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    config: LinkCheckConfig,
}

/// Where a check ended up.
struct Verdict {
    classified: Classified,
    http_status: Option<u16>,
    final_url: Option<Url>,
}

/// What one hop's response said, once its body is dealt with.
struct Fetched {
    status: StatusCode,
    location: Option<Url>,
    /// Set when HEAD was replaced by GET: HEAD's status.
    head_status: Option<StatusCode>,
}

impl LinkChecker {
    /// A checker that resolves names with the operating system's resolver.
    pub fn new(config: LinkCheckConfig) -> Result<Self, LinkCheckError> {
        Self::with_resolver(config, Arc::new(SystemResolver))
    }

    /// A checker that resolves names with `resolver` (tests map invented
    /// names to 127.0.0.1 with it). The address policy applies to whatever
    /// it returns.
    pub fn with_resolver(
        config: LinkCheckConfig,
        resolver: Arc<dyn Resolve>,
    ) -> Result<Self, LinkCheckError> {
        if config.concurrency == 0 {
            return Err(LinkCheckError::InvalidConfig(
                "concurrency must be at least 1",
            ));
        }
        if config.timeout.is_zero() {
            return Err(LinkCheckError::InvalidConfig(
                "timeout must be more than zero",
            ));
        }
        let resolver = PolicyResolver::new(resolver, config.allow_private);
        let client = reqwest::Client::builder()
            .user_agent(config.user_agent.as_str())
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            // A proxy from the environment would resolve and connect on our
            // behalf, past the address policy.
            .no_proxy()
            .dns_resolver(Arc::new(resolver))
            // No idle connections: most listed sites are visited once or
            // twice a run, at least `per_host_delay` apart, so keeping
            // connections open would hold a socket per host — thousands over
            // a run (the benchmark ran out of file descriptors). Open sockets
            // now stay near `concurrency`.
            .pool_max_idle_per_host(0)
            .build()?;
        Ok(LinkChecker {
            inner: Arc::new(Inner { client, config }),
        })
    }

    pub fn config(&self) -> &LinkCheckConfig {
        &self.inner.config
    }

    /// Checks one URL. Never fails: every problem is an [`Outcome`].
    pub async fn check_one(&self, url: &Url) -> CheckResult {
        let started = Instant::now();
        let verdict = self.run_check(url).await;
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        tracing::debug!(
            url = %url,
            outcome = %verdict.classified.outcome,
            detail = %verdict.classified.detail,
            elapsed_ms,
            "link checked"
        );
        CheckResult {
            url: url.to_string(),
            outcome: verdict.classified.outcome,
            http_status: verdict.http_status,
            final_url: verdict.final_url.map(String::from),
            detail: verdict.classified.detail,
            checked_at: Utc::now(),
            elapsed_ms,
        }
    }

    async fn run_check(&self, url: &Url) -> Verdict {
        let max_redirects = self.inner.config.max_redirects;
        let mut current = url.clone();
        let mut redirects = 0;
        loop {
            let final_url = (redirects > 0).then(|| current.clone());
            if let Some(refusal) = self.refuse(&current) {
                return Verdict {
                    classified: refusal,
                    http_status: None,
                    final_url,
                };
            }
            let fetched = match self.fetch(&current).await {
                Ok(fetched) => fetched,
                Err(err) => {
                    return Verdict {
                        classified: classify_error(&err, &current, self.inner.config.timeout),
                        http_status: None,
                        final_url,
                    }
                }
            };
            let http_status = Some(fetched.status.as_u16());

            if !fetched.status.is_redirection() {
                let mut classified = classify_status(fetched.status);
                if let Some(head) = fetched.head_status {
                    classified.detail += &format!(" (by GET; HEAD gave {})", head.as_u16());
                }
                return Verdict {
                    classified,
                    http_status,
                    final_url,
                };
            }

            let Some(next) = fetched.location else {
                return Verdict {
                    classified: Classified::new(
                        Outcome::OtherError,
                        format!("HTTP {} without a usable Location header", fetched.status),
                    ),
                    http_status,
                    final_url,
                };
            };
            redirects += 1;
            if redirects > max_redirects {
                return Verdict {
                    classified: Classified::new(
                        Outcome::OtherError,
                        format!("too many redirects (more than {max_redirects})"),
                    ),
                    http_status,
                    final_url: Some(next),
                };
            }
            // Compared with the URL as given, not the previous hop, so a
            // chain cannot wander away one subdomain at a time.
            if !same_site(url, &next) {
                return Verdict {
                    classified: Classified::new(
                        Outcome::RedirectedOffSite,
                        format!("redirects to {}", next.host_str().unwrap_or("another site")),
                    ),
                    http_status,
                    final_url: Some(next),
                };
            }
            current = next;
        }
    }

    /// Reasons not to send any request to `url`.
    fn refuse(&self, url: &Url) -> Option<Classified> {
        let scheme = url.scheme();
        if scheme != "http" && scheme != "https" {
            return Some(Classified::new(
                Outcome::OtherError,
                format!("unsupported URL scheme {scheme:?} (only http and https are checked)"),
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Some(Classified::new(Outcome::OtherError, "URL has no host"));
        }
        // Names are checked by the resolver; literals never reach it.
        if let Some(ip) = literal_ip(url) {
            if !self.inner.config.allow_private && !is_public_ip(ip) {
                return Some(Classified::new(
                    Outcome::BlockedByPolicy,
                    format!("{ip} is not a public address; not contacted"),
                ));
            }
        }
        None
    }

    /// One hop: HEAD, or GET when HEAD looks unsupported.
    async fn fetch(&self, url: &Url) -> Result<Fetched, reqwest::Error> {
        let client = &self.inner.client;
        let head = client.head(url.clone()).send().await?;
        if !head_unsupported(head.status()) {
            return Ok(Fetched {
                status: head.status(),
                location: location(&head, url),
                head_status: None,
            });
        }
        let head_status = head.status();
        drop(head);

        let mut get = client.get(url.clone()).send().await?;
        let fetched = Fetched {
            status: get.status(),
            location: location(&get, url),
            head_status: Some(head_status),
        };
        read_a_little(&mut get).await;
        Ok(fetched)
    }
}

/// The redirect target, resolved against the URL that was requested.
fn location(response: &Response, base: &Url) -> Option<Url> {
    let value = response.headers().get(header::LOCATION)?.to_str().ok()?;
    base.join(value).ok()
}

/// Reads up to [`BODY_READ_LIMIT`] bytes of the body and discards them.
/// Errors are ignored: the status is all the check needs.
async fn read_a_little(response: &mut Response) {
    let mut read = 0;
    while read < BODY_READ_LIMIT {
        match response.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            Ok(None) | Err(_) => return,
        }
    }
}
