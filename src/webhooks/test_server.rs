//! A tiny HTTP/1.1 receiver on 127.0.0.1 for tests. Uses only tokio's `net`
//! feature (readable/try_read, writable/try_write), not `io-util`, to match
//! the main crate. One request per connection: every answer says
//! `Connection: close`.

use std::io::ErrorKind;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use url::Url;

#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Stops serving when dropped.
pub struct Receiver {
    /// `http://127.0.0.1:<port>/hook`
    pub url: Url,
    log: Arc<Mutex<Vec<Request>>>,
    task: JoinHandle<()>,
}

impl Receiver {
    /// Answers each request with `respond(&request)`: a status line such as
    /// "204 No Content", optionally followed by "\r\n"-separated headers.
    pub async fn spawn<F>(mut respond: F) -> Receiver
    where
        F: FnMut(&Request) -> String + Send + 'static,
    {
        let (listener, url) = bind().await;
        let log = Arc::new(Mutex::new(Vec::new()));
        let task_log = Arc::clone(&log);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let Ok(Some(request)) = read_request(&stream).await else {
                    continue;
                };
                let head = respond(&request);
                task_log.lock().expect("log").push(request);
                let response =
                    format!("HTTP/1.1 {head}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                let _ = write_all(&stream, response.as_bytes()).await;
            }
        });
        Receiver { url, log, task }
    }

    /// Accepts connections and never answers.
    pub async fn spawn_silent() -> Receiver {
        let (listener, url) = bind().await;
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        Receiver {
            url,
            log: Arc::default(),
            task,
        }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().expect("log").clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn bind() -> (TcpListener, Url) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let url = Url::parse(&format!("http://{addr}/hook")).expect("url");
    (listener, url)
}

async fn read_request(stream: &TcpStream) -> std::io::Result<Option<Request>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(request) = parse(&buf) {
            return Ok(Some(request));
        }
        stream.readable().await?;
        match stream.try_read(&mut chunk) {
            Ok(0) => return Ok(None),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
}

/// A complete request (head plus Content-Length bytes of body), or None
/// while more bytes are needed.
fn parse(buf: &[u8]) -> Option<Request> {
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..head_end]).ok()?;
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_string();
    let path = request_line.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let body_start = head_end + 4;
    let body = buf.get(body_start..body_start + length)?.to_vec();
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

async fn write_all(stream: &TcpStream, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        stream.writable().await?;
        match stream.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
