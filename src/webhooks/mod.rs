//! Signed webhooks to community organisations when one of their listings is
//! flagged or due for review.
//!
//! - [`sign`]: `Signpost-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`,
//!   and [`sign::verify`], which is how a receiver checks it.
//! - [`event`]: the JSON envelope, [`Event`].
//! - [`deliver`]: one POST, classified as delivered / retryable / final.
//! - [`retry`]: when to try again; the app's outbox stores that time and a
//!   background job calls [`deliver::attempt`] for due rows. Nothing here
//!   sleeps.
//!
//! Receiver-facing documentation: `docs/webhooks.md`.

pub mod deliver;
pub mod event;
pub mod retry;
pub mod sign;

#[cfg(test)]
mod test_server;

pub use deliver::{attempt, client, Attempt, AttemptOutcome};
pub use event::{Event, SERVICE_DUE_FOR_REVIEW, SERVICE_FLAGGED};
pub use retry::RetryPolicy;
