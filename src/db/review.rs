//! What needs a person's attention: the review queue, and the sweeps that
//! reopen temporarily closed services, flag ended programmes and send
//! review notices.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::dsl::{count, count_star, max, sql};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Timestamp};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::paging::{Page, PageRequest};
use super::rows::{naive, utc};
use super::schema::{
    locations, organisations, schedules, service_at_locations, service_flags,
    service_service_areas, services, webhooks,
};
use super::{flags, DbConnection, RepoResult};
use crate::model::enums::{FlagKind, FreshnessState, ServiceStatus};
use crate::model::freshness::{assess, severity, Flag, FreshnessFacts, ReviewPolicy};

/// Which entries of the queue to show.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// Only these organisations (an organisation key sees only its own).
    pub organisations: Option<Vec<Uuid>>,
    /// Only services covering or located in this area (council area, health board…).
    pub area: Option<String>,
    pub kind: Option<QueueKind>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueKind {
    Flag(FlagKind),
    DueForReview,
    Overdue,
}

impl QueueKind {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "due_for_review" => Ok(QueueKind::DueForReview),
            "overdue" => Ok(QueueKind::Overdue),
            other => FlagKind::parse(other).map(QueueKind::Flag).map_err(|_| {
                "must be link_broken, possibly_closed, ended, reopened, due_for_review or overdue"
                    .to_string()
            }),
        }
    }
}

/// One listing needing attention.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueueEntry {
    pub service_id: Uuid,
    pub name: String,
    pub organisation_id: Uuid,
    pub organisation_name: String,
    pub state: FreshnessState,
    /// Open flags, most serious first, with their evidence.
    pub flags: Vec<Flag>,
    pub last_verified_at: Option<DateTime<Utc>>,
    pub review_due_at: DateTime<Utc>,
}

type Boxed<'a> = services::BoxedQuery<'a, crate::db::MultiBackend>;

fn scoped<'a>(filter: &QueueFilter) -> Boxed<'a> {
    let mut q = services::table
        .filter(services::archived_at.is_null())
        .into_boxed();
    if let Some(orgs) = &filter.organisations {
        q = q.filter(
            services::organisation_id.eq_any(orgs.iter().map(Uuid::to_string).collect::<Vec<_>>()),
        );
    }
    if let Some(area) = &filter.area {
        let covering = service_service_areas::table
            .filter(service_service_areas::area_code.eq(area.clone()))
            .select(service_service_areas::service_id);
        let located = service_at_locations::table
            .inner_join(locations::table)
            .filter(
                locations::council_area_code
                    .eq(area.clone())
                    .or(locations::health_board_code.eq(area.clone())),
            )
            .select(service_at_locations::service_id);
        q = q.filter(
            services::id
                .eq_any(covering)
                .or(services::id.eq_any(located)),
        );
    }
    q
}

type ServiceBits = (
    String,
    String,
    String,
    String,
    Option<chrono::NaiveDateTime>,
    chrono::NaiveDateTime,
);

fn load_bits(q: Boxed<'_>, conn: &mut DbConnection) -> RepoResult<Vec<ServiceBits>> {
    Ok(q.inner_join(organisations::table)
        .select((
            services::id,
            services::name,
            services::organisation_id,
            organisations::name,
            services::last_verified_at,
            services::created_at,
        ))
        .load(conn)?)
}

fn entry(
    bits: ServiceBits,
    flags: Vec<Flag>,
    now: DateTime<Utc>,
    policy: ReviewPolicy,
) -> QueueEntry {
    let (id, name, org_id, org_name, verified, created) = bits;
    let freshness = assess(
        &FreshnessFacts {
            status: ServiceStatus::Active,
            last_verified_at: verified.map(utc),
            created_at: utc(created),
            flags,
            last_checked_at: None,
        },
        now,
        policy,
    );
    QueueEntry {
        service_id: Uuid::parse_str(&id).unwrap_or_default(),
        name,
        organisation_id: Uuid::parse_str(&org_id).unwrap_or_default(),
        organisation_name: org_name,
        state: freshness.state,
        flags: freshness.flags,
        last_verified_at: freshness.last_verified_at,
        review_due_at: freshness.review_due_at,
    }
}

/// The review queue: flagged listings by their most serious flag (then the
/// oldest flag first), then listings past review, oldest verification
/// first (so overdue before due).
pub fn queue(
    conn: &mut DbConnection,
    filter: &QueueFilter,
    now: DateTime<Utc>,
    policy: ReviewPolicy,
    page: PageRequest,
) -> RepoResult<Page<QueueEntry>> {
    // Flagged: few enough to rank in memory.
    let flagged_ids: Vec<String> = match filter.kind {
        Some(QueueKind::DueForReview) | Some(QueueKind::Overdue) => Vec::new(),
        kind => {
            let mut q = service_flags::table
                .filter(service_flags::resolved_at.is_null())
                .select(service_flags::service_id)
                .distinct()
                .into_boxed();
            if let Some(QueueKind::Flag(k)) = kind {
                q = q.filter(service_flags::kind.eq(k.as_str()));
            }
            q.load(conn)?
        }
    };
    let mut open = flags::open_for(conn, &flagged_ids)?;
    let mut flagged: Vec<QueueEntry> = Vec::new();
    for chunk in flagged_ids.chunks(500) {
        let bits = load_bits(
            scoped(filter).filter(services::id.eq_any(chunk.to_vec())),
            conn,
        )?;
        for b in bits {
            let f = open.remove(&b.0).unwrap_or_default();
            flagged.push(entry(b, f, now, policy));
        }
    }
    let rank = |e: &QueueEntry| {
        let top = e.flags.first();
        (
            std::cmp::Reverse(top.map_or(0, |f| severity(f.kind))),
            top.map(|f| f.raised_at),
            e.service_id,
        )
    };
    flagged.sort_by_key(rank);

    // Past review, not flagged: paged in the database.
    let due_cutoff = now - Duration::days(policy.review_days);
    let overdue_cutoff = now - Duration::days(policy.review_days + policy.grace_days);
    let base = "COALESCE(services.last_verified_at, services.created_at)";
    let stale = |filter: &QueueFilter| {
        let mut q = scoped(filter)
            .filter(services::status.eq(ServiceStatus::Active.as_str()))
            .filter(diesel::dsl::not(
                services::id.eq_any(
                    service_flags::table
                        .filter(service_flags::resolved_at.is_null())
                        .select(service_flags::service_id),
                ),
            ));
        q = match filter.kind {
            Some(QueueKind::Flag(_)) => q.filter(sql::<Bool>("1 = 0")),
            Some(QueueKind::Overdue) => q.filter(
                sql::<Bool>(base)
                    .sql(" < ")
                    .bind::<Timestamp, _>(naive(overdue_cutoff)),
            ),
            _ => q.filter(
                services::last_verified_at
                    .is_null()
                    .or(services::last_verified_at.lt(naive(due_cutoff))),
            ),
        };
        q
    };
    let stale_total: i64 = stale(filter).count().get_result(conn)?;
    let total = flagged.len() as i64 + stale_total;
    let offset = page.offset();
    let mut items: Vec<QueueEntry> = flagged
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(page.per_page).unwrap_or(0))
        .collect();
    let wanted = page.per_page - items.len() as i64;
    if wanted > 0 {
        let flagged_len = total - stale_total;
        let stale_offset = (offset - flagged_len).max(0);
        let q = stale(filter)
            .order((sql::<Timestamp>(base).asc(), services::id.asc()))
            .limit(wanted)
            .offset(stale_offset);
        for b in load_bits(q, conn)? {
            items.push(entry(b, Vec::new(), now, policy));
        }
    }
    Ok(Page {
        items,
        total,
        request: page,
    })
}

/// Temporarily closed services whose reopening date has come.
pub fn due_to_reopen(conn: &mut DbConnection, today: NaiveDate) -> RepoResult<Vec<Uuid>> {
    let ids: Vec<String> = services::table
        .filter(services::archived_at.is_null())
        .filter(services::status.eq(ServiceStatus::TemporarilyClosed.as_str()))
        .filter(services::reopens_on.le(today))
        .order(services::id.asc())
        .select(services::id)
        .load(conn)?;
    Ok(ids.iter().filter_map(|i| Uuid::parse_str(i).ok()).collect())
}

/// Active services with schedules, every one of which ended before `today`.
pub fn ended_programmes(conn: &mut DbConnection, today: NaiveDate) -> RepoResult<Vec<Uuid>> {
    let ids: Vec<String> = schedules::table
        .inner_join(services::table)
        .filter(services::archived_at.is_null())
        .filter(services::status.eq(ServiceStatus::Active.as_str()))
        .group_by(schedules::service_id)
        .having(
            count(schedules::valid_to)
                .eq(count_star())
                .and(max(schedules::valid_to).lt(today)),
        )
        .select(schedules::service_id)
        .load(conn)?;
    let mut ids: Vec<Uuid> = ids.iter().filter_map(|i| Uuid::parse_str(i).ok()).collect();
    ids.sort();
    Ok(ids)
}

/// Services with an open flag of this kind.
pub fn flagged_with(conn: &mut DbConnection, kind: FlagKind) -> RepoResult<Vec<Uuid>> {
    let ids: Vec<String> = service_flags::table
        .filter(service_flags::resolved_at.is_null())
        .filter(service_flags::kind.eq(kind.as_str()))
        .select(service_flags::service_id)
        .load(conn)?;
    Ok(ids.iter().filter_map(|i| Uuid::parse_str(i).ok()).collect())
}

/// A listing whose owners should hear it is due for review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewNotice {
    pub service_id: Uuid,
    pub organisation_id: String,
    pub last_verified_at: Option<DateTime<Utc>>,
}

/// Active services past review whose owners have a webhook and have not
/// been told yet in this review cycle.
pub fn review_notices_due(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    policy: ReviewPolicy,
) -> RepoResult<Vec<ReviewNotice>> {
    let due_cutoff = naive(now - Duration::days(policy.review_days));
    let rows: Vec<(String, String, Option<chrono::NaiveDateTime>)> = services::table
        .inner_join(webhooks::table.on(webhooks::organisation_id.eq(services::organisation_id)))
        .filter(services::archived_at.is_null())
        .filter(services::status.eq(ServiceStatus::Active.as_str()))
        .filter(
            services::last_verified_at
                .is_null()
                .or(services::last_verified_at.lt(due_cutoff)),
        )
        .filter(
            services::review_notified_at
                .is_null()
                .or(services::last_verified_at
                    .is_not_null()
                    .and(services::review_notified_at.lt(services::last_verified_at))),
        )
        .order(services::id.asc())
        .select((
            services::id,
            services::organisation_id,
            services::last_verified_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, organisation_id, verified)| {
            Uuid::parse_str(&id).ok().map(|service_id| ReviewNotice {
                service_id,
                organisation_id,
                last_verified_at: verified.map(utc),
            })
        })
        .collect())
}

pub fn mark_notified(
    conn: &mut DbConnection,
    service_id: Uuid,
    at: DateTime<Utc>,
) -> RepoResult<()> {
    diesel::update(services::table.find(service_id.to_string()))
        .set(services::review_notified_at.eq(naive(at)))
        .execute(conn)?;
    Ok(())
}
