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

    /// Services from which a search runs its index's segments side by side
    /// on one thread per core (smaller indexes: on one thread, which is
    /// quicker than waking the others).
    #[arg(long, env = "SIGNPOST_SEARCH_PARALLEL_FROM", default_value_t = crate::search::index::PARALLEL_FROM_DOCS)]
    pub search_parallel_from: u64,

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

    /// Hours between background link checks of every website (0: never;
    /// `signpost check-links` runs one by hand).
    #[arg(long, env = "SIGNPOST_LINK_CHECK_HOURS", default_value_t = 24)]
    pub link_check_hours: u64,

    /// Link checks in flight at once (never more than one per host).
    #[arg(long, env = "SIGNPOST_LINK_CHECK_CONCURRENCY", default_value_t = 8)]
    pub link_check_concurrency: usize,

    /// Pause between two requests to the same host, in milliseconds.
    #[arg(
        long,
        env = "SIGNPOST_LINK_CHECK_HOST_DELAY_MS",
        default_value_t = 1000
    )]
    pub link_check_host_delay_ms: u64,

    /// Time limit for one link check request, in seconds.
    #[arg(long, env = "SIGNPOST_LINK_CHECK_TIMEOUT_SECS", default_value_t = 10)]
    pub link_check_timeout_secs: u64,

    /// Consecutive failed checks before a website is flagged broken…
    #[arg(long, env = "SIGNPOST_LINK_BROKEN_FAILURES", default_value_t = 3)]
    pub link_broken_failures: usize,

    /// …spread over at least this many days.
    #[arg(long, env = "SIGNPOST_LINK_BROKEN_DAYS", default_value_t = 7)]
    pub link_broken_days: i64,

    /// Independent "no longer exists" reports that flag a listing possibly closed.
    #[arg(long, env = "SIGNPOST_REPORTS_TO_FLAG", default_value_t = 2)]
    pub reports_to_flag: usize,

    /// Seconds between freshness sweeps (reopening, ended programmes, review notices; 0: never).
    #[arg(long, env = "SIGNPOST_SWEEP_SECS", default_value_t = 300)]
    pub sweep_secs: u64,

    /// Seconds between webhook delivery rounds (0: never).
    #[arg(long, env = "SIGNPOST_WEBHOOK_SECS", default_value_t = 10)]
    pub webhook_secs: u64,

    /// Let link checks and webhooks reach private, loopback and link-local
    /// addresses (for tests and closed networks only).
    #[arg(long, env = "SIGNPOST_ALLOW_PRIVATE_TARGETS", default_value_t = false)]
    pub allow_private_targets: bool,

    /// Trust `X-Forwarded-For`/`Forwarded` for the client address (only
    /// behind a reverse proxy that sets it).
    #[arg(long, env = "SIGNPOST_TRUST_FORWARDED_FOR", default_value_t = false)]
    pub trust_forwarded_for: bool,
}

/// The freshness rules handlers and jobs share.
#[derive(Debug, Clone)]
pub struct FreshnessSettings {
    pub broken: crate::links::BrokenRule,
    pub reports_to_flag: usize,
    pub allow_private_targets: bool,
}

impl Settings {
    /// The defaults (as `serve` has them with no flags or environment), with
    /// this data directory: for tests and the benchmark.
    pub fn new(data_dir: PathBuf) -> Settings {
        Settings {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: None,
            data_dir,
            db_pool_size: 8,
            index_interval_ms: 500,
            search_parallel_from: crate::search::index::PARALLEL_FROM_DOCS,
            review_days: 365,
            grace_days: 61,
            extra_holidays: Vec::new(),
            rate_anonymous_per_minute: 60,
            rate_client_per_minute: 6000,
            rate_key_per_minute: 600,
            rate_submissions_per_hour: 20,
            link_check_hours: 24,
            link_check_concurrency: 8,
            link_check_host_delay_ms: 1000,
            link_check_timeout_secs: 10,
            link_broken_failures: 3,
            link_broken_days: 7,
            reports_to_flag: 2,
            sweep_secs: 300,
            webhook_secs: 10,
            allow_private_targets: false,
            trust_forwarded_for: false,
        }
    }

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

    pub fn link_check_config(&self) -> crate::links::LinkCheckConfig {
        crate::links::LinkCheckConfig {
            user_agent: format!(
                "Signpost-LinkChecker/{} (community directory; checks listed websites still work)",
                env!("CARGO_PKG_VERSION")
            ),
            timeout: std::time::Duration::from_secs(self.link_check_timeout_secs.max(1)),
            concurrency: self.link_check_concurrency.max(1),
            per_host_delay: std::time::Duration::from_millis(self.link_check_host_delay_ms),
            max_redirects: 5,
            allow_private: self.allow_private_targets,
        }
    }

    pub fn freshness(&self) -> FreshnessSettings {
        FreshnessSettings {
            broken: crate::links::BrokenRule {
                consecutive_failures: self.link_broken_failures.max(1),
                min_span: chrono::Duration::days(self.link_broken_days.max(0)),
            },
            reports_to_flag: self.reports_to_flag.max(1),
            allow_private_targets: self.allow_private_targets,
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{FromArgMatches, Parser};

    #[derive(Parser)]
    struct Only {
        #[command(flatten)]
        settings: Settings,
    }

    #[test]
    fn new_matches_the_command_line_defaults() {
        if std::env::vars()
            .any(|(k, _)| k.starts_with("SIGNPOST_") && k != "SIGNPOST_TEST_POSTGRES_URL")
        {
            eprintln!("SIGNPOST_* variables are set; skipping the defaults comparison");
            return;
        }
        let matches = <Only as clap::CommandFactory>::command().get_matches_from([
            "signpost",
            "--data-dir",
            "d",
        ]);
        let parsed = Only::from_arg_matches(&matches).expect("parses").settings;
        let mut expected = Settings::new(PathBuf::from("d"));
        // DATABASE_URL may be set in a developer's shell; it is not a default.
        expected.database_url = parsed.database_url.clone();
        assert_eq!(format!("{parsed:?}"), format!("{expected:?}"));
    }
}
