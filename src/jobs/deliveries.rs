//! Sends queued webhook events whose time has come, records every attempt,
//! and schedules retries with backoff (so retries survive a restart).

use std::sync::Arc;

use crate::clock::Clock;
use crate::db::webhooks::{self, AttemptRecord};
use crate::db::Pool;
use crate::links::check_target;
use crate::webhooks::{attempt, AttemptOutcome, Event, RetryPolicy};

/// Deliveries attempted per round.
const BATCH: i64 = 100;

/// Attempts every due delivery once; returns how many were attempted.
pub async fn deliver_due(
    pool: &Pool,
    clock: &Arc<dyn Clock>,
    client: &reqwest::Client,
    policy: &RetryPolicy,
    allow_private: bool,
) -> anyhow::Result<usize> {
    let now = clock.now();
    let due = {
        let pool = pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            webhooks::due(&mut conn, now, BATCH)
        })
        .await??
    };
    let count = due.len();
    for delivery in due {
        let started = clock.now();
        let (record, delivered, retryable, asked) = match (
            serde_json::from_str::<Event>(&delivery.payload),
            url::Url::parse(&delivery.url),
        ) {
            (Ok(event), Ok(url)) => match check_target(&url, allow_private) {
                Ok(()) => {
                    let a =
                        attempt(client, &url, delivery.secret.as_bytes(), &event, started).await;
                    let delivered = a.outcome == AttemptOutcome::Delivered;
                    let retryable = a.outcome.is_retryable();
                    let outcome = if delivered {
                        "delivered"
                    } else if retryable {
                        "retry"
                    } else {
                        "failed"
                    };
                    (
                        AttemptRecord {
                            at: started,
                            http_status: a.http_status.map(i32::from),
                            outcome: outcome.into(),
                            detail: a.detail,
                            elapsed_ms: i64::try_from(a.elapsed_ms).unwrap_or(i64::MAX),
                        },
                        delivered,
                        retryable,
                        a.retry_after_secs.map(std::time::Duration::from_secs),
                    )
                }
                Err(why) => (
                    refused(started, &format!("webhook URL refused: {why}")),
                    false,
                    false,
                    None,
                ),
            },
            _ => (
                refused(started, "the queued event or its URL could not be read"),
                false,
                false,
                None,
            ),
        };
        let attempts_so_far = u32::try_from(delivery.attempts)
            .unwrap_or(u32::MAX)
            .saturating_add(1);
        let next = if retryable {
            policy.next_attempt_honouring(attempts_so_far, started, asked)
        } else {
            None
        };
        if !delivered {
            tracing::info!(delivery = %delivery.id, detail = %record.detail, retry_at = ?next, "webhook not delivered");
        }
        let pool = pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            webhooks::record_attempt(&mut conn, delivery.id, &record, delivered, next)
        })
        .await??;
    }
    Ok(count)
}

fn refused(at: chrono::DateTime<chrono::Utc>, detail: &str) -> AttemptRecord {
    AttemptRecord {
        at,
        http_status: None,
        outcome: "failed".into(),
        detail: detail.into(),
        elapsed_ms: 0,
    }
}
