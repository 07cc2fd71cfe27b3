//! The relational store: one diesel `MultiConnection` over SQLite (embedded
//! default) and PostgreSQL, a connection pool, embedded migrations, and one
//! repository module per aggregate.

pub mod areas;
pub mod bulk;
pub mod changes;
pub mod claims;
pub mod flags;
mod import_tuning;
pub mod keys;
pub mod links;
pub mod locations;
pub mod organisations;
pub mod paging;
pub mod reports;
pub mod review;
pub mod rows;
pub mod schema;
pub mod secrets;
pub mod services;
pub mod suggestions;
pub mod taxonomy;
pub mod webhooks;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::model::Invalid;

pub use import_tuning::ImportTuning;

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

pub type Pool = r2d2::Pool<DbManager>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Which database a `DATABASE_URL` names. `postgres://…` or `postgresql://…`
/// selects PostgreSQL; anything else is a SQLite file path (an optional
/// `sqlite://` prefix is removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    Postgres(String),
    Sqlite(PathBuf),
}

impl DbUrl {
    pub fn parse(raw: &str) -> Self {
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            DbUrl::Postgres(raw.to_string())
        } else {
            let path = raw
                .strip_prefix("sqlite://")
                .or_else(|| raw.strip_prefix("sqlite:"))
                .unwrap_or(raw);
            DbUrl::Sqlite(PathBuf::from(path))
        }
    }

    /// The URL with any password hidden, for logs.
    pub fn redacted(&self) -> String {
        match self {
            DbUrl::Sqlite(path) => format!("sqlite:{}", path.display()),
            DbUrl::Postgres(url) => match url::Url::parse(url) {
                Ok(mut parsed) if parsed.password().is_some() => {
                    let _ = parsed.set_password(Some("***"));
                    parsed.to_string()
                }
                _ => url.clone(),
            },
        }
    }
}

/// Opens connections of the kind the URL names (never guessing, unlike
/// `MultiConnection::establish`, which would fall back to a SQLite file named
/// like the URL), with SQLite tuned for a concurrent web server.
#[derive(Debug, Clone)]
pub struct DbManager {
    url: DbUrl,
}

impl ManageConnection for DbManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DbUrl::Postgres(url) => diesel::PgConnection::establish(url)
                .map(DbConnection::Postgres)
                .map_err(r2d2::Error::ConnectionError),
            DbUrl::Sqlite(path) => sqlite_connection(path).map(DbConnection::Sqlite),
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

/// A connection to a SQLite file, set up as every one Signpost opens.
fn sqlite_connection(path: &std::path::Path) -> Result<diesel::SqliteConnection, r2d2::Error> {
    let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy())
        .map_err(r2d2::Error::ConnectionError)?;
    conn.batch_execute(
        "PRAGMA busy_timeout = 10000;
         PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;",
    )
    .map_err(r2d2::Error::QueryError)?;
    Ok(conn)
}

/// Builds the pool, creating the SQLite file's directory if needed.
pub fn connect(url: &DbUrl, max_size: u32) -> anyhow::Result<Pool> {
    if let DbUrl::Sqlite(path) = url {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating database directory {}", dir.display()))?;
        }
    }
    r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(10))
        .build(DbManager { url: url.clone() })
        .with_context(|| format!("connecting to {}", url.redacted()))
}

/// Applies pending migrations for the backend in use; returns how many ran.
pub fn migrate(pool: &Pool) -> anyhow::Result<usize> {
    let mut conn = pool.get().context("taking a connection to migrate")?;
    let applied = match &mut *conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        DbConnection::Postgres(c) => c
            .run_pending_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.len()),
    }
    .map_err(|e| anyhow::anyhow!("running migrations: {e}"))?;
    Ok(applied)
}

/// Why a repository call did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("{entity} {id} was not found")]
    NotFound { entity: &'static str, id: String },
    #[error("invalid references")]
    Invalid(Invalid),
    #[error("{0}")]
    Conflict(String),
    #[error("the {entity} has changed since version {expected}; it is now version {current}")]
    StaleVersion {
        entity: &'static str,
        expected: i64,
        current: i64,
    },
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("no database connection available: {0}")]
    Pool(#[from] r2d2::PoolError),
}

impl RepoError {
    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        RepoError::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        RepoError::Invalid(Invalid::one(field, message))
    }
}

pub type RepoResult<T> = Result<T, RepoError>;

/// Runs `f` in a write transaction. Its first statement bumps the single-row
/// `write_serial` table, which takes the write lock up front on both
/// backends: SQLite never has to upgrade a read transaction (which fails
/// with SQLITE_BUSY instead of waiting), and on PostgreSQL writers commit in
/// the order they take `change_log` sequence numbers, so a reader tailing
/// the log by sequence never skips a row that commits late.
pub fn write_transaction<T, F>(conn: &mut DbConnection, f: F) -> RepoResult<T>
where
    F: FnOnce(&mut DbConnection) -> RepoResult<T>,
{
    conn.transaction(|c| {
        diesel::sql_query("UPDATE write_serial SET n = n + 1").execute(c)?;
        f(c)
    })
}

/// How many write transactions have begun (`write_serial`). Read inside a
/// write transaction, it is that transaction's own number: the next one is
/// one more unless another writer came in between.
pub fn write_serial(conn: &mut DbConnection) -> RepoResult<i64> {
    #[derive(QueryableByName)]
    struct Serial {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let serial: Serial =
        diesel::sql_query("SELECT n FROM write_serial WHERE id = 1").get_result(conn)?;
    Ok(serial.n)
}

/// Inserts a slice of rows into `table` with multi-row INSERTs of 64, 16, 4
/// and 1 rows: 500 rows take a dozen statements instead of 500, and the
/// fixed sizes keep the statements few and in diesel's prepared statement
/// cache. (The MultiConnection cannot build multi-row INSERTs, hence the
/// match on the backend.) Returns early with `?` on an error.
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let conn: &mut $crate::db::DbConnection = $conn;
        let rest: &[_] = $rows;
        $crate::db::insert_rows!(@each conn, $table, rest, 64);
        $crate::db::insert_rows!(@each conn, $table, rest, 16);
        $crate::db::insert_rows!(@each conn, $table, rest, 4);
        $crate::db::insert_rows!(@each conn, $table, rest, 1);
        debug_assert!(rest.is_empty());
    }};
    (@each $conn:ident, $table:expr, $rest:ident, $n:literal) => {
        let (chunks, tail) = $rest.as_chunks::<$n>();
        for chunk in chunks {
            let insert = diesel::insert_into($table).values(chunk);
            match &mut *$conn {
                $crate::db::DbConnection::Sqlite(c) => diesel::RunQueryDsl::execute(insert, c)?,
                $crate::db::DbConnection::Postgres(c) => diesel::RunQueryDsl::execute(insert, c)?,
            };
        }
        let $rest = tail;
    };
}
pub(crate) use insert_rows;

/// Optimistic concurrency: a write that names a version must name the current one.
pub fn check_version(entity: &'static str, current: i64, expected: Option<i64>) -> RepoResult<()> {
    match expected {
        Some(v) if v != current => Err(RepoError::StaleVersion {
            entity,
            expected: v,
            current,
        }),
        _ => Ok(()),
    }
}
