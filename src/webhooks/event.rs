//! The JSON body of every webhook.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A listing was flagged (e.g. "website broken").
pub const SERVICE_FLAGGED: &str = "service.flagged";
/// A listing is due for its periodic review.
pub const SERVICE_DUE_FOR_REVIEW: &str = "service.due_for_review";

/// `id` doubles as the `Signpost-Delivery` header and stays the same across
/// retries, so receivers can drop duplicates by it.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Event {
    pub id: Uuid,
    /// e.g. [`SERVICE_FLAGGED`], [`SERVICE_DUE_FOR_REVIEW`].
    pub kind: String,
    pub occurred_at: DateTime<Utc>,
    pub organisation_id: Uuid,
    pub data: serde_json::Value,
}

impl Event {
    /// A new event with a fresh random id.
    pub fn new(
        kind: impl Into<String>,
        organisation_id: Uuid,
        occurred_at: DateTime<Utc>,
        data: serde_json::Value,
    ) -> Self {
        Self {
            id: Uuid::new_v4(),
            kind: kind.into(),
            occurred_at,
            organisation_id,
            data,
        }
    }
}
