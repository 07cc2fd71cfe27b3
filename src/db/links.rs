//! Link check history: one row per check of a URL, kept so the broken-link
//! rule can look at consecutive results over time.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::rows::{naive, utc};
use super::schema::{link_checks, organisations, services};
use super::{DbConnection, RepoResult};
use crate::links::{CheckResult, Outcome};
use crate::model::enums::ServiceStatus;

/// How many recent checks of a URL the broken-link rule looks at.
const HISTORY_WINDOW: i64 = 50;

pub fn record(conn: &mut DbConnection, result: &CheckResult) -> RepoResult<()> {
    diesel::insert_into(link_checks::table)
        .values((
            link_checks::url.eq(&result.url),
            link_checks::checked_at.eq(naive(result.checked_at)),
            link_checks::outcome.eq(result.outcome.as_str()),
            link_checks::http_status.eq(result.http_status.map(i32::from)),
            link_checks::final_url.eq(&result.final_url),
            link_checks::detail.eq(&result.detail),
            link_checks::elapsed_ms.eq(i64::try_from(result.elapsed_ms).unwrap_or(i64::MAX)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Recent results for a URL, oldest first.
pub fn history(conn: &mut DbConnection, url: &str) -> RepoResult<Vec<(DateTime<Utc>, Outcome)>> {
    let mut rows: Vec<(chrono::NaiveDateTime, String)> = link_checks::table
        .filter(link_checks::url.eq(url))
        .order((link_checks::checked_at.desc(), link_checks::id.desc()))
        .limit(HISTORY_WINDOW)
        .select((link_checks::checked_at, link_checks::outcome))
        .load(conn)?;
    rows.reverse();
    Ok(rows
        .into_iter()
        .map(|(at, outcome)| (utc(at), outcome.parse().unwrap_or(Outcome::OtherError)))
        .collect())
}

/// When each of these URLs was last checked.
pub fn last_checked(
    conn: &mut DbConnection,
    urls: &[String],
) -> RepoResult<HashMap<String, DateTime<Utc>>> {
    if urls.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(String, Option<chrono::NaiveDateTime>)> = link_checks::table
        .filter(link_checks::url.eq_any(urls))
        .group_by(link_checks::url)
        .select((link_checks::url, diesel::dsl::max(link_checks::checked_at)))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(url, at)| at.map(|at| (url, utc(at))))
        .collect())
}

/// Every website the checker should visit, with the live services that
/// send people to it (a service without its own website uses its
/// organisation's). Defunct and archived services are left alone.
pub fn targets(conn: &mut DbConnection) -> RepoResult<Vec<(String, Vec<Uuid>)>> {
    let rows: Vec<(String, Option<String>, Option<String>)> = services::table
        .inner_join(organisations::table)
        .filter(services::archived_at.is_null())
        .filter(services::status.ne(ServiceStatus::Defunct.as_str()))
        .order(services::id.asc())
        .select((services::id, services::url, organisations::website))
        .load(conn)?;
    let mut by_url: HashMap<String, Vec<Uuid>> = HashMap::new();
    for (id, url, website) in rows {
        if let (Some(url), Ok(id)) = (url.or(website), Uuid::parse_str(&id)) {
            by_url.entry(url).or_default().push(id);
        }
    }
    let mut targets: Vec<_> = by_url.into_iter().collect();
    targets.sort();
    Ok(targets)
}

/// When the newest check was made (none yet: `None`).
pub fn last_run(conn: &mut DbConnection) -> RepoResult<Option<DateTime<Utc>>> {
    Ok(link_checks::table
        .select(diesel::dsl::max(link_checks::checked_at))
        .first::<Option<chrono::NaiveDateTime>>(conn)?
        .map(utc))
}
