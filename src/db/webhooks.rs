//! Owners' webhooks: one URL and secret per organisation, and an outbox of
//! deliveries with every attempt recorded. Events are queued in the same
//! transaction as what caused them; a background job sends them.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::changes::{audit, EntityType, Stamp};
use super::paging::{Page, PageRequest};
use super::rows::{naive, utc};
use super::schema::{webhook_attempts, webhook_deliveries, webhooks};
use super::{organisations, write_transaction, DbConnection, RepoError, RepoResult};

/// A registration as shown to its owners (the secret only when it is set).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Webhook {
    pub organisation_id: Uuid,
    pub url: String,
    /// The signing secret: returned only when the webhook is registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Registers (or replaces) an organisation's webhook with a new secret.
pub fn register(
    conn: &mut DbConnection,
    stamp: &Stamp,
    organisation_id: Uuid,
    url: &str,
    secret: &str,
) -> RepoResult<Webhook> {
    write_transaction(conn, |c| {
        if !organisations::exists(c, organisation_id)? {
            return Err(RepoError::not_found("organisation", organisation_id));
        }
        let org = organisation_id.to_string();
        let before = get(c, organisation_id)?;
        diesel::delete(webhooks::table.find(&org)).execute(c)?;
        let created_at = before.as_ref().map_or(stamp.at, |b| b.created_at);
        diesel::insert_into(webhooks::table)
            .values((
                webhooks::organisation_id.eq(&org),
                webhooks::url.eq(url),
                webhooks::secret.eq(secret),
                webhooks::created_at.eq(naive(created_at)),
                webhooks::updated_at.eq(naive(stamp.at)),
            ))
            .execute(c)?;
        let after = serde_json::json!({ "webhook_url": url, "secret": "(new)" });
        let before_audit = before
            .as_ref()
            .map(|b| serde_json::json!({ "webhook_url": b.url, "secret": "(old)" }));
        audit(
            c,
            stamp,
            EntityType::Organisation,
            &org,
            "webhook_registered",
            before_audit.as_ref(),
            &after,
        )?;
        Ok(Webhook {
            organisation_id,
            url: url.to_string(),
            secret: Some(secret.to_string()),
            created_at,
            updated_at: stamp.at,
        })
    })
}

pub fn get(conn: &mut DbConnection, organisation_id: Uuid) -> RepoResult<Option<Webhook>> {
    let row: Option<(String, NaiveDateTime, NaiveDateTime)> = webhooks::table
        .find(organisation_id.to_string())
        .select((webhooks::url, webhooks::created_at, webhooks::updated_at))
        .first(conn)
        .optional()?;
    Ok(row.map(|(url, created, updated)| Webhook {
        organisation_id,
        url,
        secret: None,
        created_at: utc(created),
        updated_at: utc(updated),
    }))
}

pub fn remove(conn: &mut DbConnection, stamp: &Stamp, organisation_id: Uuid) -> RepoResult<()> {
    write_transaction(conn, |c| {
        let before = get(c, organisation_id)?
            .ok_or_else(|| RepoError::not_found("webhook", organisation_id))?;
        diesel::delete(webhooks::table.find(organisation_id.to_string())).execute(c)?;
        audit(
            c,
            stamp,
            EntityType::Organisation,
            &organisation_id.to_string(),
            "webhook_removed",
            Some(&serde_json::json!({ "webhook_url": before.url })),
            &serde_json::json!({ "webhook_url": null }),
        )?;
        Ok(())
    })
}

/// Queues an event for the organisation's webhook, if it has one. The
/// payload is the event as sent: `{id, kind, occurred_at, organisation_id, data}`.
pub fn enqueue_in(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    organisation_id: &str,
    kind: &str,
    data: Value,
) -> RepoResult<()> {
    let registered: i64 = webhooks::table
        .filter(webhooks::organisation_id.eq(organisation_id))
        .count()
        .get_result(c)?;
    if registered == 0 {
        return Ok(());
    }
    let id = Uuid::new_v4();
    let payload = serde_json::json!({
        "id": id,
        "kind": kind,
        "occurred_at": now,
        "organisation_id": organisation_id,
        "data": data,
    });
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::id.eq(id.to_string()),
            webhook_deliveries::organisation_id.eq(organisation_id),
            webhook_deliveries::event_kind.eq(kind),
            webhook_deliveries::payload.eq(payload.to_string()),
            webhook_deliveries::status.eq("pending"),
            webhook_deliveries::attempts.eq(0),
            webhook_deliveries::next_attempt_at.eq(Some(naive(now))),
            webhook_deliveries::created_at.eq(naive(now)),
        ))
        .execute(c)?;
    Ok(())
}

/// A delivery whose next attempt is due, with where to send it.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: Uuid,
    pub url: String,
    pub secret: String,
    pub payload: String,
    pub attempts: i32,
}

pub fn due(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> RepoResult<Vec<DueDelivery>> {
    let rows: Vec<(String, String, String, String, i32)> = webhook_deliveries::table
        .inner_join(
            webhooks::table.on(webhooks::organisation_id.eq(webhook_deliveries::organisation_id)),
        )
        .filter(webhook_deliveries::status.eq("pending"))
        .filter(webhook_deliveries::next_attempt_at.le(naive(now)))
        .order((
            webhook_deliveries::next_attempt_at.asc(),
            webhook_deliveries::id.asc(),
        ))
        .limit(limit)
        .select((
            webhook_deliveries::id,
            webhooks::url,
            webhooks::secret,
            webhook_deliveries::payload,
            webhook_deliveries::attempts,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, url, secret, payload, attempts)| DueDelivery {
            id: Uuid::parse_str(&id).unwrap_or_default(),
            url,
            secret,
            payload,
            attempts,
        })
        .collect())
}

/// One attempt's result, as recorded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttemptRecord {
    pub at: DateTime<Utc>,
    pub http_status: Option<i32>,
    /// `delivered`, `retry` or `failed`.
    pub outcome: String,
    pub detail: String,
    pub elapsed_ms: i64,
}

/// Records an attempt; `next_attempt_at` is when to try again (`None`:
/// delivered, or given up).
pub fn record_attempt(
    conn: &mut DbConnection,
    delivery_id: Uuid,
    attempt: &AttemptRecord,
    delivered: bool,
    next_attempt_at: Option<DateTime<Utc>>,
) -> RepoResult<()> {
    let id = delivery_id.to_string();
    conn.transaction(|c| {
        diesel::insert_into(webhook_attempts::table)
            .values((
                webhook_attempts::delivery_id.eq(&id),
                webhook_attempts::at.eq(naive(attempt.at)),
                webhook_attempts::http_status.eq(attempt.http_status),
                webhook_attempts::outcome.eq(&attempt.outcome),
                webhook_attempts::detail.eq(&attempt.detail),
                webhook_attempts::elapsed_ms.eq(attempt.elapsed_ms),
            ))
            .execute(c)?;
        let status = match (delivered, next_attempt_at) {
            (true, _) => "delivered",
            (false, Some(_)) => "pending",
            (false, None) => "failed",
        };
        diesel::update(webhook_deliveries::table.find(&id))
            .set((
                webhook_deliveries::status.eq(status),
                webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
                webhook_deliveries::next_attempt_at.eq(next_attempt_at.map(naive)),
                webhook_deliveries::last_http_status.eq(attempt.http_status),
                webhook_deliveries::last_detail.eq(&attempt.detail),
                webhook_deliveries::delivered_at.eq(delivered.then(|| naive(attempt.at))),
            ))
            .execute(c)?;
        Ok(())
    })
}

/// A delivery and its attempts, for the owners.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Delivery {
    pub id: Uuid,
    pub event_kind: String,
    #[schema(value_type = Object)]
    pub payload: Value,
    /// `pending`, `delivered` or `failed` (gave up).
    pub status: String,
    pub attempts: Vec<AttemptRecord>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

type DeliveryRow = (
    String,
    String,
    String,
    String,
    Option<NaiveDateTime>,
    NaiveDateTime,
    Option<NaiveDateTime>,
);

/// An organisation's deliveries, newest first.
pub fn deliveries(
    conn: &mut DbConnection,
    organisation_id: Uuid,
    page: PageRequest,
) -> RepoResult<Page<Delivery>> {
    let org = organisation_id.to_string();
    let total: i64 = webhook_deliveries::table
        .filter(webhook_deliveries::organisation_id.eq(&org))
        .count()
        .get_result(conn)?;
    let rows: Vec<DeliveryRow> = webhook_deliveries::table
        .filter(webhook_deliveries::organisation_id.eq(&org))
        .order((
            webhook_deliveries::created_at.desc(),
            webhook_deliveries::id.asc(),
        ))
        .limit(page.per_page)
        .offset(page.offset())
        .select((
            webhook_deliveries::id,
            webhook_deliveries::event_kind,
            webhook_deliveries::payload,
            webhook_deliveries::status,
            webhook_deliveries::next_attempt_at,
            webhook_deliveries::created_at,
            webhook_deliveries::delivered_at,
        ))
        .load(conn)?;
    let mut items = Vec::with_capacity(rows.len());
    for (id, event_kind, payload, status, next, created, delivered) in rows {
        let attempts = webhook_attempts::table
            .filter(webhook_attempts::delivery_id.eq(&id))
            .order(webhook_attempts::id.asc())
            .select((
                webhook_attempts::at,
                webhook_attempts::http_status,
                webhook_attempts::outcome,
                webhook_attempts::detail,
                webhook_attempts::elapsed_ms,
            ))
            .load::<(NaiveDateTime, Option<i32>, String, String, i64)>(conn)?
            .into_iter()
            .map(
                |(at, http_status, outcome, detail, elapsed_ms)| AttemptRecord {
                    at: utc(at),
                    http_status,
                    outcome,
                    detail,
                    elapsed_ms,
                },
            )
            .collect();
        items.push(Delivery {
            id: Uuid::parse_str(&id).unwrap_or_default(),
            event_kind,
            payload: serde_json::from_str(&payload).unwrap_or(Value::Null),
            status,
            attempts,
            next_attempt_at: next.map(utc),
            created_at: utc(created),
            delivered_at: delivered.map(utc),
        });
    }
    Ok(Page {
        items,
        total,
        request: page,
    })
}
