//! A small HTTP server on 127.0.0.1 for the link checker, webhooks and
//! federation pulls to talk to: each path answers a scripted sequence of
//! statuses (the last one repeats), optionally with `Retry-After`, and every
//! request is recorded.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

#[derive(Default)]
struct Script {
    answers: HashMap<String, VecDeque<u16>>,
    /// `Retry-After` seconds sent with a path's non-2xx answers.
    retry_after: HashMap<String, u64>,
    requests: Vec<Recorded>,
}

pub struct Stub {
    pub base: String,
    script: Arc<Mutex<Script>>,
    handle: actix_web::dev::ServerHandle,
}

impl Stub {
    pub async fn start() -> Stub {
        let script = Arc::new(Mutex::new(Script::default()));
        let shared = web::Data::new(script.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind stub");
        let port = listener.local_addr().expect("addr").port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .default_service(web::to(answer))
        })
        .workers(1)
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Stub {
            base: format!("http://127.0.0.1:{port}"),
            script,
            handle,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `path` answers these statuses in turn; the last repeats.
    pub fn answer(&self, path: &str, statuses: &[u16]) {
        self.script
            .lock()
            .unwrap()
            .answers
            .insert(path.to_string(), statuses.iter().copied().collect());
    }

    /// `path`'s failures carry `Retry-After: seconds`.
    pub fn retry_after(&self, path: &str, seconds: u64) {
        self.script
            .lock()
            .unwrap()
            .retry_after
            .insert(path.to_string(), seconds);
    }

    pub fn requests(&self, path: &str) -> Vec<Recorded> {
        self.script
            .lock()
            .unwrap()
            .requests
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

async fn answer(
    req: HttpRequest,
    body: web::Bytes,
    script: web::Data<Arc<Mutex<Script>>>,
) -> HttpResponse {
    let mut script = script.lock().unwrap();
    let path = req.path().to_string();
    script.requests.push(Recorded {
        method: req.method().to_string(),
        path: path.clone(),
        headers: req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body: body.to_vec(),
    });
    let status = match script.answers.get_mut(&path) {
        Some(queue) if queue.len() > 1 => queue.pop_front().unwrap_or(404),
        Some(queue) => queue.front().copied().unwrap_or(404),
        None => 404,
    };
    let status = actix_web::http::StatusCode::from_u16(status).unwrap();
    let mut response = HttpResponse::build(status);
    if let Some(seconds) = script
        .retry_after
        .get(&path)
        .filter(|_| !status.is_success())
    {
        response.insert_header(("Retry-After", seconds.to_string()));
    }
    response.finish()
}
