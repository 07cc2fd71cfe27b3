//! Building and running the HTTP server. Tests use the same path with port 0.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::HttpMessage;
use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context;
use tracing_actix_web::{RequestId, TracingLogger};

use crate::api::{self, error::ApiError};
use crate::auth::limits::RateLimits;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{self, changes::Stamp};
use crate::geo::areas::AreaIndex;
use crate::geo::places::PlaceIndex;
use crate::geo::PostcodeIndex;
use crate::hours::HolidayCalendar;
use crate::jobs::{self, Jobs};
use crate::model::Actor;
use crate::search::indexer::{self, IndexerHandle};
use crate::search::{Indexer, SearchIndex};
use crate::state::{AppState, ReviewPolicy};

/// Connects, migrates, loads reference data (and the demo directory when
/// asked and the database is empty): everything a process needs before it
/// can answer requests.
pub fn prepare(
    settings: &Settings,
    clock: Arc<dyn Clock>,
    demo: bool,
) -> anyhow::Result<(AppState, Indexer)> {
    let url = settings.database();
    let pool = db::connect(&url, settings.db_pool_size)?;
    let applied = db::migrate(&pool)?;
    if applied > 0 {
        tracing::info!(applied, database = %url.redacted(), "applied migrations");
    }
    let postcodes = PostcodeIndex::shared()?;
    let mut conn = pool
        .get()
        .context("taking a connection to load reference data")?;
    reference_data(&mut conn, clock.now())?;
    if demo {
        match crate::demo::load_if_empty(&mut conn, &postcodes, clock.now())? {
            Some(counts) => tracing::info!(?counts, "loaded the demo directory"),
            None => tracing::info!("database already has data; demo not loaded"),
        }
    }
    drop(conn);

    let (mut search, last_seq) = SearchIndex::open_or_create(&settings.index_dir())?;
    search.set_parallel_from(settings.search_parallel_from);
    let search = Arc::new(search);
    let mut indexer = Indexer::start(search.clone(), pool.clone(), last_seq, None)?;
    let caught_up = indexer.catch_up()?;
    if caught_up > 0 {
        tracing::info!(
            services = caught_up,
            "search index caught up with the database"
        );
    }
    let reporter_salt = reporter_salt(&pool)?;
    let state = AppState {
        pool,
        places: PlaceIndex::shared()?,
        areas: AreaIndex::shared()?,
        postcodes,
        search,
        review: ReviewPolicy {
            review_days: settings.review_days,
            grace_days: settings.grace_days,
        },
        holidays: Arc::new(HolidayCalendar::new(
            settings.extra_holidays.iter().copied(),
        )),
        limits: Arc::new(RateLimits::new(settings.rate_settings(), clock.clone())),
        trust_forwarded_for: settings.trust_forwarded_for,
        freshness: settings.freshness(),
        reporter_salt,
        clock,
    };
    Ok((state, indexer))
}

/// The installation's salt for anonymous reporters' address hashes: made
/// once, kept in the database, so a repeat reporter is recognised across
/// restarts and processes.
fn reporter_salt(pool: &db::Pool) -> anyhow::Result<String> {
    let fresh =
        crate::encoding::random_hex(16).map_err(|e| anyhow::anyhow!("random source: {e}"))?;
    let mut conn = pool.get()?;
    Ok(db::secrets::get_or_create(
        &mut conn,
        "reporter_salt",
        || fresh,
    )?)
}

/// Loads the shipped service areas and taxonomy into a database that lacks
/// them (every command that writes listings needs them).
pub fn reference_data(
    conn: &mut db::DbConnection,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    db::areas::ensure_reference_data(conn)?;
    let stamp = Stamp {
        actor: Actor::system("setup"),
        at: now,
    };
    let terms = db::taxonomy::ensure_shipped(conn, &stamp)?;
    if terms > 0 {
        tracing::info!(terms, "loaded the shipped taxonomy");
    }
    Ok(())
}

pub struct Application {
    server: Server,
    port: u16,
    indexer: IndexerHandle,
    jobs: Jobs,
}

impl Application {
    /// Binds the listener (port 0 picks a free one) and builds the server.
    /// Must be called inside a Tokio runtime: it starts the indexer task.
    pub fn build(settings: &Settings, state: AppState, indexer: Indexer) -> anyhow::Result<Self> {
        let jobs = jobs::spawn(&state, settings)?;
        let listener = TcpListener::bind(settings.bind)
            .with_context(|| format!("binding {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let data = web::Data::new(state);
        let server = HttpServer::new(move || {
            // The last wrap runs first: logging, request id, CORS (answers
            // preflights before any key check), 405 bodies, HEAD as GET,
            // then authentication.
            App::new()
                .wrap(actix_web::middleware::from_fn(api::auth::authenticate))
                .wrap(actix_web::middleware::from_fn(api::methods::head_as_get))
                .wrap(actix_web::middleware::from_fn(
                    api::methods::method_not_allowed,
                ))
                .wrap(cors())
                .wrap(actix_web::middleware::from_fn(request_id_header))
                .wrap(TracingLogger::default())
                .app_data(data.clone())
                .configure(api::configure)
                .route("/", web::get().to(root))
                .default_service(web::to(not_found))
        })
        .shutdown_timeout(10)
        .listen(listener)?
        .run();
        let indexer = indexer::spawn(
            indexer,
            Duration::from_millis(settings.index_interval_ms.max(50)),
        );
        Ok(Application {
            server,
            port,
            indexer,
            jobs,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT/SIGTERM, then finishes in-flight requests and
    /// gives the indexer a last commit (background jobs stop first).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.jobs.shutdown().await;
        self.indexer.shutdown().await;
        served
    }

    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }
}

/// Any origin may call the API from a browser. Credentials are bearer keys
/// sent explicitly, never cookies, so a foreign page cannot write with a
/// user's ambient authority: writes happen only with a key.
fn cors() -> Cors {
    Cors::default()
        .allow_any_origin()
        .allowed_methods(["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::ACCEPT,
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            HeaderName::from_static("x-request-id"),
        ])
        .max_age(3600)
}

/// Echoes the request id (also in every log line) as `x-request-id`.
async fn request_id_header(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let id = req.extensions().get::<RequestId>().map(|r| r.to_string());
    let mut res = next.call(req).await?;
    if let Some(value) = id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(res)
}

async fn root() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({
        "name": "Signpost",
        "api": "/api/v1",
        "openapi": "/api/v1/openapi.json",
        "docs": "/docs",
    }))
}

async fn not_found(req: actix_web::HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!(
        "no such endpoint: {} {}",
        req.method(),
        req.path()
    )))
}
