//! The freshness sweep, run on a timer: services whose temporary closure
//! is over reopen themselves (flagged for review); programmes whose every
//! schedule has ended are flagged *ended* (and cleared when that stops
//! being true); owners with a webhook hear when a listing falls due for review.

use chrono::{DateTime, Utc};
use chrono_tz::Europe::London;

use crate::db::changes::Stamp;
use crate::db::{flags, review, services, webhooks, write_transaction, DbConnection, RepoResult};
use crate::model::enums::{FlagKind, ServiceStatus};
use crate::model::freshness::ReviewPolicy;
use crate::model::Actor;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepRun {
    pub reopened: usize,
    pub ended: usize,
    pub no_longer_ended: usize,
    pub review_notices: usize,
}

pub fn sweep(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    policy: ReviewPolicy,
) -> RepoResult<SweepRun> {
    let today = now.with_timezone(&London).date_naive();
    let stamp = |process: &str| Stamp {
        actor: Actor::system(process),
        at: now,
    };
    let mut run = SweepRun::default();

    for id in review::due_to_reopen(conn, today)? {
        let stamp = stamp("reopening");
        write_transaction(conn, |c| {
            let current = services::get(c, id)?;
            let reopens_on = current.reopens_on;
            let mut input = current.to_input();
            input.status = Some(ServiceStatus::Active);
            input.status_reason = None;
            input.reopens_on = None;
            let draft = input.validate().map_err(crate::db::RepoError::Invalid)?;
            services::update(c, &stamp, id, Some(current.version), draft)?;
            let evidence = match reopens_on {
                Some(d) => format!("was temporarily closed until {d}; reopened itself on {today}"),
                None => format!("reopened itself on {today}"),
            };
            flags::raise_in(
                c,
                &stamp,
                id,
                FlagKind::Reopened,
                "Reopened after a temporary closure: check it is running as listed",
                &evidence,
            )
        })?;
        run.reopened += 1;
    }

    let ended = review::ended_programmes(conn, today)?;
    for id in &ended {
        let raised = flags::raise(
            conn,
            &stamp("schedules"),
            *id,
            FlagKind::Ended,
            "Its programme seems to have ended",
            &format!("every schedule had ended by {today}"),
        )?;
        run.ended += usize::from(raised.is_some());
    }
    for id in review::flagged_with(conn, FlagKind::Ended)? {
        if ended.binary_search(&id).is_err() {
            flags::resolve_kind(
                conn,
                &stamp("schedules"),
                id,
                FlagKind::Ended,
                "it has schedules that have not ended",
            )?;
            run.no_longer_ended += 1;
        }
    }

    for notice in review::review_notices_due(conn, now, policy)? {
        let (id, last_verified_at) = (notice.service_id, notice.last_verified_at);
        write_transaction(conn, |c| {
            webhooks::enqueue_in(
                c,
                now,
                &notice.organisation_id,
                crate::webhooks::SERVICE_DUE_FOR_REVIEW,
                serde_json::json!({
                    "service_id": id,
                    "last_verified_at": last_verified_at,
                    "review_days": policy.review_days,
                }),
            )?;
            review::mark_notified(c, id, now)
        })?;
        run.review_notices += 1;
    }
    Ok(run)
}
