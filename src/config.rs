//! Settings for the server and CLI, from flags or environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use crate::auth::limits::RateSettings;
use crate::db::DbUrl;

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "SIGNPOST_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Database: `postgres://user@host/db` for PostgreSQL, otherwise a SQLite
    /// file path. Default: `<data-dir>/signpost.db`.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    /// Directory for the SQLite file and the search index.
    #[arg(long, env = "SIGNPOST_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Database connections to keep in the pool.
    #[arg(long, env = "SIGNPOST_DB_POOL_SIZE", default_value_t = 8)]
    pub db_pool_size: u32,

    /// How often the indexer applies changes to the search index, in milliseconds.
    #[arg(long, env = "SIGNPOST_INDEX_INTERVAL_MS", default_value_t = 500)]
    pub index_interval_ms: u64,

    /// Days after its last verification that a listing is due for review.
    #[arg(long, env = "SIGNPOST_REVIEW_DAYS", default_value_t = 365)]
    pub review_days: i64,

    /// Further days after which a listing due for review is overdue (and demoted).
    #[arg(long, env = "SIGNPOST_GRACE_DAYS", default_value_t = 61)]
    pub grace_days: i64,

    /// Extra one-off public holidays (YYYY-MM-DD, comma-separated), e.g. a
    /// royal occasion, on top of the computed Scottish ones.
    #[arg(long, env = "SIGNPOST_EXTRA_HOLIDAYS", value_delimiter = ',')]
    pub extra_holidays: Vec<chrono::NaiveDate>,

    /// Requests a minute per IP address without a key.
    #[arg(long, env = "SIGNPOST_RATE_ANONYMOUS_PER_MINUTE", default_value_t = 60)]
    pub rate_anonymous_per_minute: u32,

    /// Requests a minute per `client` key (machine clients syncing or searching).
    #[arg(long, env = "SIGNPOST_RATE_CLIENT_PER_MINUTE", default_value_t = 6000)]
    pub rate_client_per_minute: u32,

    /// Requests a minute per `organisation`, `editor` or `admin` key.
    #[arg(long, env = "SIGNPOST_RATE_KEY_PER_MINUTE", default_value_t = 600)]
    pub rate_key_per_minute: u32,

    /// Problem reports, claims and suggestions an hour per IP (or key).
    #[arg(long, env = "SIGNPOST_RATE_SUBMISSIONS_PER_HOUR", default_value_t = 20)]
    pub rate_submissions_per_hour: u32,

    /// Trust `X-Forwarded-For`/`Forwarded` for the client address (only
    /// behind a reverse proxy that sets it).
    #[arg(long, env = "SIGNPOST_TRUST_FORWARDED_FOR", default_value_t = false)]
    pub trust_forwarded_for: bool,
}

impl Settings {
    /// The SQLite file path (empty for PostgreSQL).
    pub fn database_path(&self) -> String {
        match self.database() {
            DbUrl::Sqlite(path) => path.to_string_lossy().into_owned(),
            DbUrl::Postgres(_) => String::new(),
        }
    }

    pub fn rate_settings(&self) -> RateSettings {
        RateSettings {
            anonymous_per_minute: self.rate_anonymous_per_minute,
            client_per_minute: self.rate_client_per_minute,
            key_per_minute: self.rate_key_per_minute,
            submissions_per_hour: self.rate_submissions_per_hour,
        }
    }

    pub fn index_dir(&self) -> PathBuf {
        self.data_dir.join("index")
    }

    pub fn database(&self) -> DbUrl {
        match &self.database_url {
            Some(url) if !url.trim().is_empty() => DbUrl::parse(url.trim()),
            _ => DbUrl::Sqlite(self.data_dir.join("signpost.db")),
        }
    }
}
