//! Shared application state handed to every handler.

use std::sync::Arc;

use actix_web::web;

use crate::api::error::ApiError;
use crate::auth::limits::RateLimits;
use crate::clock::Clock;
use crate::config::FreshnessSettings;
use crate::db::changes::Stamp;
use crate::db::{DbConnection, Pool, RepoError};
use crate::geo::areas::AreaIndex;
use crate::geo::places::PlaceIndex;
use crate::geo::PostcodeIndex;
use crate::hours::HolidayCalendar;
pub use crate::model::freshness::ReviewPolicy;
use crate::model::Actor;
use crate::search::SearchIndex;

#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub postcodes: Arc<PostcodeIndex>,
    pub areas: Arc<AreaIndex>,
    pub places: Arc<PlaceIndex>,
    pub search: Arc<SearchIndex>,
    pub clock: Arc<dyn Clock>,
    pub review: ReviewPolicy,
    /// Scottish public holidays plus any configured extra dates.
    pub holidays: Arc<HolidayCalendar>,
    pub limits: Arc<RateLimits>,
    pub freshness: FreshnessSettings,
    /// Mixed into the hash that identifies anonymous reporters, so the
    /// stored hash cannot be reversed by trying every address.
    pub reporter_salt: String,
    /// Take the client address from `X-Forwarded-For` (behind a trusted proxy).
    pub trust_forwarded_for: bool,
}

impl AppState {
    /// Runs database work on the blocking thread pool, taking the connection
    /// inside the closure so the async executor never waits on the database.
    pub async fn db<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, RepoError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        let result = web::block(move || {
            let mut conn = pool.get()?;
            work(&mut conn)
        })
        .await?;
        result.map_err(ApiError::from)
    }

    /// Runs CPU-bound search work on the blocking pool.
    pub async fn search<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&SearchIndex) -> anyhow::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let search = self.search.clone();
        web::block(move || work(&search))
            .await?
            .map_err(|e| ApiError::Internal(format!("{e:#}")))
    }

    pub fn stamp(&self, actor: Actor) -> Stamp {
        Stamp {
            actor,
            at: self.clock.now(),
        }
    }
}
