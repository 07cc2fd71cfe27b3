//! Shared application state handed to every handler.

use std::sync::Arc;

use actix_web::web;

use crate::api::error::ApiError;
use crate::clock::Clock;
use crate::db::changes::Stamp;
use crate::db::{DbConnection, Pool, RepoError};
use crate::geo::PostcodeIndex;
use crate::model::Actor;

#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub postcodes: Arc<PostcodeIndex>,
    pub clock: Arc<dyn Clock>,
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

    pub fn stamp(&self, actor: Actor) -> Stamp {
        Stamp {
            actor,
            at: self.clock.now(),
        }
    }
}
