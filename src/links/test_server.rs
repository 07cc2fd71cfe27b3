//! A tiny HTTP/1.1 server on 127.0.0.1 for the checker's tests: plain tokio
//! TCP, keep-alive, fixed routes, and counters for what it saw.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use url::Url;

/// How long `/hold` keeps a request in flight.
pub(super) const HOLD: Duration = Duration::from_millis(50);

pub(super) struct TestServer {
    pub port: u16,
    pub stats: Arc<Stats>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Request {
    pub method: String,
    /// The Host header without the port.
    pub host: String,
    pub path: String,
}

#[derive(Default)]
pub(super) struct Stats {
    pub connections: AtomicUsize,
    requests: Mutex<Vec<Request>>,
    in_flight: Mutex<InFlight>,
}

#[derive(Default)]
struct InFlight {
    total: usize,
    max_total: usize,
    per_host: HashMap<String, usize>,
    max_per_host: HashMap<String, usize>,
}

impl Stats {
    fn enter(&self, request: &Request) {
        self.requests.lock().unwrap().push(request.clone());
        let mut f = self.in_flight.lock().unwrap();
        f.total += 1;
        f.max_total = f.max_total.max(f.total);
        let now = f.per_host.entry(request.host.clone()).or_default();
        *now += 1;
        let now = *now;
        let max = f.max_per_host.entry(request.host.clone()).or_default();
        *max = (*max).max(now);
    }

    fn leave(&self, request: &Request) {
        let mut f = self.in_flight.lock().unwrap();
        f.total -= 1;
        if let Some(now) = f.per_host.get_mut(&request.host) {
            *now -= 1;
        }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    pub fn max_in_flight_total(&self) -> usize {
        self.in_flight.lock().unwrap().max_total
    }

    pub fn max_in_flight(&self, host: &str) -> usize {
        let f = self.in_flight.lock().unwrap();
        f.max_per_host.get(host).copied().unwrap_or(0)
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl TestServer {
    pub async fn start() -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let stats = Arc::new(Stats::default());
        let server_stats = Arc::clone(&stats);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                server_stats.connections.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(stream, port, Arc::clone(&server_stats)));
            }
        });
        TestServer { port, stats }
    }

    /// `http://{host}:{port}{path}`.
    pub fn url(&self, host: &str, path: &str) -> Url {
        Url::parse(&format!("http://{host}:{}{path}", self.port)).unwrap()
    }
}

struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: b"hello".to_vec(),
        }
    }

    fn redirect(status: u16, location: String) -> Reply {
        Reply {
            headers: vec![("Location", location)],
            ..Reply::status(status)
        }
    }

    fn to_bytes(&self, head_only: bool) -> Vec<u8> {
        let mut out = format!(
            "HTTP/1.1 {} Status\r\nContent-Length: {}\r\n",
            self.status,
            self.body.len()
        );
        for (name, value) in &self.headers {
            out += &format!("{name}: {value}\r\n");
        }
        out += "\r\n";
        let mut bytes = out.into_bytes();
        if !head_only {
            bytes.extend_from_slice(&self.body);
        }
        bytes
    }
}

async fn route(request: &Request, port: u16) -> Reply {
    let head = request.method == "HEAD";
    let path = request.path.split('?').next().unwrap_or_default();
    match path {
        "/" | "/ok" => Reply::status(200),
        "/moved" => Reply::redirect(301, format!("http://other.test:{port}/")),
        "/same" => Reply::redirect(302, "/hop".to_string()),
        "/hop" => Reply::redirect(301, format!("http://www.site-a.test:{port}/ok")),
        "/no-location" => Reply::status(302),
        "/loop" => Reply::redirect(302, "/loop".to_string()),
        "/400" => Reply::status(400),
        "/403" => Reply::status(403),
        "/404" => Reply::status(404),
        "/410" => Reply::status(410),
        "/500" => Reply::status(500),
        "/slow" => std::future::pending().await,
        "/hold" => {
            tokio::time::sleep(HOLD).await;
            Reply::status(200)
        }
        "/head-405" if head => Reply::status(405),
        // A 1 MiB page: the checker must not read it all.
        "/head-405" => Reply {
            body: vec![b'x'; 1 << 20],
            ..Reply::status(200)
        },
        "/head-404" if head => Reply::status(404),
        "/head-404" => Reply::status(200),
        _ => match path
            .strip_prefix("/chain/")
            .and_then(|n| n.parse::<u32>().ok())
        {
            Some(0) => Reply::status(200),
            Some(n) => Reply::redirect(302, format!("/chain/{}", n - 1)),
            None => Reply::status(404),
        },
    }
}

async fn serve(stream: TcpStream, port: u16, stats: Arc<Stats>) {
    let mut buffer = Vec::new();
    while let Some(head) = read_head(&stream, &mut buffer).await {
        let request = parse(&head);
        stats.enter(&request);
        let reply = route(&request, port).await;
        stats.leave(&request);
        let bytes = reply.to_bytes(request.method == "HEAD");
        if write_all(&stream, &bytes).await.is_err() {
            return;
        }
    }
}

/// Reads one request head (the checker never sends a body).
async fn read_head(stream: &TcpStream, buffer: &mut Vec<u8>) -> Option<String> {
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head: Vec<u8> = buffer.drain(..end + 4).collect();
            return Some(String::from_utf8_lossy(&head).into_owned());
        }
        let mut chunk = [0u8; 4096];
        let n = read_some(stream, &mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}

fn parse(head: &str) -> Request {
    let mut lines = head.lines();
    let mut first = lines.next().unwrap_or_default().split_whitespace();
    let method = first.next().unwrap_or_default().to_string();
    let path = first.next().unwrap_or_default().to_string();
    let host = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("host"))
        .map(|(_, value)| value.trim())
        .unwrap_or_default();
    let host = host.split(':').next().unwrap_or_default().to_string();
    Request { method, host, path }
}

// tokio's io-util feature (AsyncReadExt/AsyncWriteExt) is not enabled in the
// main crate, so the server uses the readiness API directly.

async fn read_some(stream: &TcpStream, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        stream.readable().await?;
        match stream.try_read(buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            other => return other,
        }
    }
}

async fn write_all(stream: &TcpStream, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        stream.writable().await?;
        match stream.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
