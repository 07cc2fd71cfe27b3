use std::sync::Arc;

use diesel::prelude::*;
use diesel::RunQueryDsl;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use signpost::auth::limits::RateSettings;
use signpost::clock::{Clock, SystemClock};
use signpost::config::Settings;
use signpost::db::{DbConnection, Pool};
use signpost::model::enums::Role;
use signpost::startup::{prepare, Application};

/// Environment variable naming a PostgreSQL server for the backend run.
pub const POSTGRES_ENV: &str = "SIGNPOST_TEST_POSTGRES_URL";

pub struct TestApp {
    pub address: String,
    /// An admin key created at start: requests go with it unless a test
    /// picks another caller (`anonymous()`, `with_token()`).
    pub admin_token: String,
    pub client: reqwest::Client,
    pub pool: Pool,
    handle: actix_web::dev::ServerHandle,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    storage: Option<Storage>,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `errors[].field` names of a problem response.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        self
    }

    /// Asserts a problem+json reply with this status naming this field.
    #[track_caller]
    pub fn expect_problem(self, status: u16, field: &str) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "body: {}",
            self.body
        );
        assert_eq!(self.body["status"], status);
        assert!(self.body["title"].is_string() && self.body["detail"].is_string());
        assert!(
            self.error_fields().iter().any(|f| f == field),
            "expected an error naming {field}; got {}",
            self.body
        );
        self
    }
}

/// Everything the apps in this test process log (at info and above), so
/// tests can check what is never logged.
static LOGS: std::sync::OnceLock<Arc<std::sync::Mutex<Vec<u8>>>> = std::sync::OnceLock::new();

struct LogSink(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogSink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() {
    LOGS.get_or_init(|| {
        let buffer = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = buffer.clone();
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
            .with_ansi(false)
            .with_writer(move || LogSink(sink.clone()))
            .try_init();
        buffer
    });
}

/// The log lines captured so far.
pub fn captured_logs() -> String {
    LOGS.get()
        .map(|b| String::from_utf8_lossy(&b.lock().unwrap_or_else(|e| e.into_inner())).into_owned())
        .unwrap_or_default()
}

/// Says once, past libtest's output capture, that the PostgreSQL run is skipped.
fn announce_sqlite_only() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "note: {POSTGRES_ENV} is not set: API tests run on SQLite only; the PostgreSQL run is SKIPPED \
             (set it, e.g. to postgres://postgres@127.0.0.1:5432/postgres, to run them on PostgreSQL)"
        );
    });
}

pub async fn spawn_app() -> TestApp {
    Storage::new().start(false).await
}

pub async fn spawn_demo_app() -> TestApp {
    Storage::new().start(true).await
}

/// Where a test app keeps its data: a temp dir (SQLite file and index) and,
/// for the PostgreSQL run, a database of its own. Survives restarts.
pub struct Storage {
    clock: Arc<dyn Clock>,
    rates: RateSettings,
    dir: tempfile::TempDir,
    database_url: String,
    postgres_db: Option<(String, String)>,
    search_parallel_from: Option<u64>,
}

impl Storage {
    pub fn new() -> Storage {
        let dir = tempfile::tempdir().expect("temp dir");
        let (database_url, postgres_db) = match std::env::var(POSTGRES_ENV) {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("signpost_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin =
                    diesel::PgConnection::establish(&admin_url).expect("connect to PostgreSQL");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .expect("create test database");
                let mut url = url::Url::parse(&admin_url).expect("postgres url");
                url.set_path(&name);
                (url.to_string(), Some((admin_url, name)))
            }
            _ => {
                announce_sqlite_only();
                (
                    dir.path().join("test.db").to_string_lossy().into_owned(),
                    None,
                )
            }
        };
        Storage {
            clock: Arc::new(SystemClock),
            rates: RateSettings {
                anonymous_per_minute: 100_000,
                client_per_minute: 100_000,
                key_per_minute: 100_000,
                submissions_per_hour: 100_000,
            },
            dir,
            database_url,
            postgres_db,
            search_parallel_from: None,
        }
    }

    /// Runs the app on this clock (tests that age records or refill rate limits).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Rate limits for the app (tests otherwise get limits they never reach).
    pub fn with_rates(mut self, rates: RateSettings) -> Self {
        self.rates = rates;
        self
    }

    /// Searches use the search threads from this many services (tests
    /// reach that path only with a low value).
    pub fn with_search_parallel_from(mut self, services: u64) -> Self {
        self.search_parallel_from = Some(services);
        self
    }

    pub fn index_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("index")
    }

    fn settings(&self) -> Settings {
        let defaults = Settings::new(self.dir.path().to_path_buf());
        Settings {
            search_parallel_from: self
                .search_parallel_from
                .unwrap_or(defaults.search_parallel_from),
            bind: "127.0.0.1:0".parse().expect("addr"),
            database_url: Some(self.database_url.clone()),
            db_pool_size: 4,
            index_interval_ms: 100,
            rate_anonymous_per_minute: self.rates.anonymous_per_minute,
            rate_client_per_minute: self.rates.client_per_minute,
            rate_key_per_minute: self.rates.key_per_minute,
            rate_submissions_per_hour: self.rates.submissions_per_hour,
            // Tests run the jobs themselves, against servers on loopback.
            link_check_hours: 0,
            sweep_secs: 0,
            webhook_secs: 0,
            allow_private_targets: true,
            link_check_host_delay_ms: 0,
            link_check_timeout_secs: 2,
            ..defaults
        }
    }

    /// A connection pool on this storage, for writes made while no app runs.
    pub fn pool(&self) -> Pool {
        signpost::db::connect(&self.settings().database(), 2).expect("pool")
    }

    pub async fn start(self, demo: bool) -> TestApp {
        capture_logs();
        let settings = self.settings();
        let (state, indexer) = {
            let settings = settings.clone();
            let clock = self.clock.clone();
            tokio::task::spawn_blocking(move || prepare(&settings, clock, demo))
                .await
                .expect("join")
                .expect("prepare app")
        };
        let pool = state.pool.clone();
        let admin_token = create_key(&pool, Role::Admin, &[]);
        let app = Application::build(&settings, state, indexer).expect("build app");
        let address = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        let server = tokio::spawn(app.run_until_stopped());
        TestApp {
            admin_token,
            address,
            // The server closes connections idle for 5 s (actix's default
            // keep-alive). A test that pauses longer (an import on
            // PostgreSQL in a debug build) could otherwise send its next
            // request on a connection the server is closing, and fail with
            // an incomplete message: idle connections are dropped sooner.
            client: reqwest::Client::builder()
                .pool_idle_timeout(std::time::Duration::from_secs(2))
                .build()
                .expect("test HTTP client"),
            pool,
            handle,
            server: Some(server),
            storage: Some(self),
        }
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        // FORCE ends connections a stopped server's pool may still hold.
        if let Some((admin_url, name)) = self.postgres_db.take() {
            if let Ok(mut admin) = diesel::PgConnection::establish(&admin_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

impl TestApp {
    /// Stops the server gracefully (the indexer makes its last commit) and
    /// hands back the storage for a restart.
    pub async fn stop(mut self) -> Storage {
        self.handle.stop(true).await;
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server stopped cleanly");
        }
        self.storage.take().expect("storage")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A request as the admin key.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        self.send_as(Some(&self.admin_token), method, path, body, headers)
            .await
    }

    /// A request as `token` (`None`: anonymous).
    pub async fn send_as(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = self.client.request(method, self.url(path));
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Requests without a key.
    pub fn anonymous(&self) -> As<'_> {
        As {
            app: self,
            token: None,
        }
    }

    /// Requests with this key.
    pub fn with_token(&self, token: &str) -> As<'_> {
        As {
            app: self,
            token: Some(token.to_string()),
        }
    }

    /// A new key with this role (and memberships), made directly in the database.
    pub fn key(&self, role: Role, organisations: &[&str]) -> String {
        create_key(&self.pool, role, organisations)
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(Method::POST, path, Some(body), &[]).await
    }

    /// PUT as admin with `If-Match` set to the record's current ETag, as a
    /// client that has just read it would (tests of `If-Match` itself use `send`).
    pub async fn put(&self, path: &str, body: &Value) -> Reply {
        self.admin().put(path, body).await
    }

    /// PATCH as admin with the current ETag (see `put`).
    pub async fn patch(&self, path: &str, body: &Value) -> Reply {
        self.admin().patch(path, body).await
    }

    /// DELETE as admin with the current ETag (see `put`).
    pub async fn delete(&self, path: &str) -> Reply {
        self.admin().delete(path).await
    }

    fn admin(&self) -> As<'_> {
        self.with_token(&self.admin_token.clone())
    }

    /// Raw request with full control of body bytes and content type.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Reply {
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(&self.admin_token)
            .body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn create_org(&self, name: &str) -> Value {
        self.post("/api/v1/organisations", &json!({"name": name}))
            .await
            .expect(201)
            .body["data"]
            .clone()
    }

    pub async fn create_location(&self, org_id: &str, postcode: &str) -> Value {
        self.post(
            "/api/v1/locations",
            &json!({"organisation_id": org_id, "name": format!("Hall at {postcode}"), "postcode": postcode}),
        )
        .await
        .expect(201)
        .body["data"]
        .clone()
    }

    pub async fn create_service(&self, body: &Value) -> Value {
        self.post("/api/v1/services", body).await.expect(201).body["data"].clone()
    }

    /// Runs SQL-level checks against the app's own database.
    pub fn conn(&self) -> diesel::r2d2::PooledConnection<signpost::db::DbManager> {
        self.pool.get().expect("db connection")
    }

    /// `(op)` of each change-log row for an entity, oldest first.
    pub fn change_ops(&self, entity_type: &str, id: &str) -> Vec<String> {
        use signpost::db::schema::change_log::dsl as cl;
        let mut conn = self.conn();
        cl::change_log
            .filter(cl::entity_type.eq(entity_type))
            .filter(cl::entity_id.eq(id))
            .order(cl::seq.asc())
            .select(cl::op)
            .load::<String>(&mut *conn as &mut DbConnection)
            .expect("change log")
    }

    /// Audit rows `(action, changes)` for an entity, oldest first.
    pub fn audit(&self, entity_type: &str, id: &str) -> Vec<(String, Value)> {
        use signpost::db::changes::{audit_for, EntityType};
        let entity = match entity_type {
            "organisation" => EntityType::Organisation,
            "service" => EntityType::Service,
            "location" => EntityType::Location,
            _ => EntityType::TaxonomyTerm,
        };
        let mut conn = self.conn();
        audit_for(&mut conn, entity, id)
            .expect("audit")
            .into_iter()
            .map(|a| {
                (
                    a.action,
                    serde_json::from_str(&a.changes).expect("audit json"),
                )
            })
            .collect()
    }
}

/// Requests as one caller. Writes to existing records carry the record's
/// current ETag in `If-Match`, as a client that has just read it would.
pub struct As<'a> {
    app: &'a TestApp,
    token: Option<String>,
}

impl As<'_> {
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        self.app
            .send_as(self.token.as_deref(), method, path, body, headers)
            .await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(Method::POST, path, Some(body), &[]).await
    }

    /// The ETag a fresh read of `path` returns (`"0"` when it cannot be read,
    /// so a write to a missing record still reaches its 404).
    async fn current_etag(&self, path: &str) -> String {
        let read = self.app.get(path).await;
        read.header("etag").unwrap_or("\"0\"").to_string()
    }

    pub async fn put(&self, path: &str, body: &Value) -> Reply {
        let etag = self.current_etag(path).await;
        self.send(Method::PUT, path, Some(body), &[("If-Match", &etag)])
            .await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Reply {
        let etag = self.current_etag(path).await;
        self.send(Method::PATCH, path, Some(body), &[("If-Match", &etag)])
            .await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        let etag = self.current_etag(path).await;
        self.send(Method::DELETE, path, None, &[("If-Match", &etag)])
            .await
    }
}

/// Creates a key directly in the database; returns its token.
pub fn create_key(pool: &Pool, role: Role, organisations: &[&str]) -> String {
    create_key_expiring(pool, role, organisations, None)
}

pub fn create_key_expiring(
    pool: &Pool,
    role: Role,
    organisations: &[&str],
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
) -> String {
    use signpost::db::changes::Stamp;
    use signpost::db::keys::{create, NewKey};
    let issued = signpost::auth::token::issue().expect("random");
    let mut conn = pool.get().expect("db connection");
    create(
        &mut conn,
        &Stamp {
            actor: signpost::model::Actor::system("test"),
            at: chrono::Utc::now(),
        },
        NewKey {
            name: format!("test {}", role.as_str()),
            role,
            organisation_ids: organisations
                .iter()
                .map(|o| uuid::Uuid::parse_str(o).expect("organisation id"))
                .collect(),
            expires_at,
        },
        &issued,
    )
    .expect("create key");
    issued.token
}

/// Polls a GET until `done` holds: the indexer commits in the background,
/// so a write shows in search within its interval, not at once.
pub async fn poll_until(app: &TestApp, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let reply = app.get(path).await.expect(200);
        if done(&reply.body) {
            return reply.body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{path} never satisfied the condition: {}",
            reply.body
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
