//! Federation pull: page through another directory's Open Referral API
//! (`<base>/services?full_service=true`) and import what it serves. Each
//! record's writes are attributed to `system:federation:<base>` in the
//! audit log, which is where its source is recorded.

use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::import::{Importer, Report};
use crate::db::DbConnection;

/// What to pull, and how patiently.
#[derive(Debug, Clone)]
pub struct Pull {
    /// The other directory's Open Referral base, e.g. `https://example.org/openreferral`.
    pub base: Url,
    /// Only services changed after this (for incremental pulls).
    pub modified_after: Option<DateTime<Utc>>,
    /// Stop after this many pages, whatever the other side says.
    pub max_pages: u32,
    pub per_page: u32,
    /// Extra tries for a page that fails with a timeout, a refused
    /// connection, 429 or a 5xx.
    pub retries: u32,
    /// Wait before the first retry; doubled for each further one.
    pub backoff: Duration,
}

#[derive(Deserialize)]
struct HsdsPage {
    #[serde(default)]
    contents: Vec<Value>,
    #[serde(default)]
    last_page: Option<bool>,
    #[serde(default)]
    total_pages: Option<i64>,
}

/// The address of page `page`.
fn page_url(pull: &Pull, page: u32) -> Url {
    let mut url = pull.base.clone();
    let path = format!("{}/services", url.path().trim_end_matches('/'));
    url.set_path(&path);
    {
        let mut query = url.query_pairs_mut();
        query.clear();
        query.append_pair("full_service", "true");
        query.append_pair("page", &page.to_string());
        query.append_pair("per_page", &pull.per_page.to_string());
        if let Some(after) = pull.modified_after {
            query.append_pair("modified_after", &after.to_rfc3339());
        }
    }
    url
}

/// The longest `Retry-After` a pull waits out; asked for longer, it stops
/// (run it again later) rather than sit idle.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// How long to wait before retrying: our backoff, or longer if the server
/// asked; `Err` when it asked for more than `MAX_RETRY_AFTER`.
fn retry_wait(backoff: Duration, asked: Option<Duration>) -> Result<Duration, Duration> {
    match asked {
        Some(asked) if asked > MAX_RETRY_AFTER => Err(asked),
        Some(asked) => Ok(backoff.max(asked)),
        None => Ok(backoff),
    }
}

async fn fetch(client: &reqwest::Client, url: &Url, pull: &Pull) -> Result<HsdsPage, String> {
    let mut wait = pull.backoff;
    let mut attempt = 0;
    loop {
        let (reason, retry, asked) = match client.get(url.clone()).send().await {
            Ok(res) if res.status().is_success() => {
                return res
                    .json::<HsdsPage>()
                    .await
                    .map_err(|e| format!("{url}: not an HSDS page: {e}"))
            }
            Ok(res) => {
                let status = res.status();
                let retry = status.is_server_error() || status.as_u16() == 429;
                let asked = crate::http_retry::retry_after(res.headers(), SystemTime::now());
                (format!("{url}: HTTP {status}"), retry, asked)
            }
            Err(e) => (
                format!("{url}: {e}"),
                e.is_timeout() || e.is_connect(),
                None,
            ),
        };
        if !retry || attempt >= pull.retries {
            return Err(reason);
        }
        let pause = retry_wait(wait, asked).map_err(|asked| {
            format!(
                "{reason}; the server asked to wait {} s (Retry-After), longer than a pull waits",
                asked.as_secs()
            )
        })?;
        tracing::info!(%reason, attempt, wait_ms = pause.as_millis() as u64, "retrying a federation page");
        tokio::time::sleep(pause).await;
        wait *= 2;
        attempt += 1;
    }
}

/// Pulls every page (up to the cap) and imports its services.
pub async fn pull_into(
    conn: &mut DbConnection,
    importer: &Importer<'_>,
    client: &reqwest::Client,
    pull: &Pull,
) -> Report {
    let mut report = Report {
        dry_run: importer.dry_run,
        ..Report::default()
    };
    let mut position = 0;
    for page in 1..=pull.max_pages.max(1) {
        let url = page_url(pull, page);
        let fetched = match fetch(client, &url, pull).await {
            Ok(fetched) => fetched,
            Err(reason) => {
                report.count(
                    position + 1,
                    None,
                    Err(format!("{reason}; the pull stopped here")),
                );
                break;
            }
        };
        let empty = fetched.contents.is_empty();
        for record in fetched.contents {
            position += 1;
            let id = record
                .get("id")
                .and_then(Value::as_str)
                .map(crate::model::values::clip);
            let result = importer.import(conn, record);
            report.note(position, &id, importer);
            report.count(position, id, result);
        }
        let last = fetched.last_page.unwrap_or(false)
            || fetched.total_pages.is_some_and(|t| i64::from(page) >= t);
        if last || empty {
            break;
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_urls_carry_the_paging_and_sync_parameters() {
        let pull = Pull {
            base: Url::parse("https://example.org/openreferral/").unwrap(),
            modified_after: Some("2026-11-01T00:00:00Z".parse().unwrap()),
            max_pages: 10,
            per_page: 50,
            retries: 2,
            backoff: Duration::from_millis(1),
        };
        assert_eq!(
            page_url(&pull, 3).as_str(),
            "https://example.org/openreferral/services?full_service=true&page=3&per_page=50&modified_after=2026-11-01T00%3A00%3A00%2B00%3A00"
        );
    }

    #[test]
    fn a_retry_waits_at_least_as_long_as_the_server_asked() {
        let backoff = Duration::from_secs(2);
        assert_eq!(retry_wait(backoff, None), Ok(backoff));
        assert_eq!(
            retry_wait(backoff, Some(Duration::from_secs(1))),
            Ok(backoff)
        );
        assert_eq!(
            retry_wait(backoff, Some(Duration::from_secs(30))),
            Ok(Duration::from_secs(30))
        );
        assert_eq!(
            retry_wait(backoff, Some(Duration::from_secs(3_600))),
            Err(Duration::from_secs(3_600)),
            "an hour is longer than a pull sits idle"
        );
    }
}
