//! End-to-end tests against `test_server` on 127.0.0.1. Names are mapped by
//! `TestResolver`; no real DNS query is made (except `localhost`, which the
//! system resolver answers from /etc/hosts).

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

use super::test_server::{TestServer, HOLD};
use super::{CheckResult, LinkCheckConfig, LinkCheckError, LinkChecker, Outcome};

/// Maps invented names to addresses; any other name fails like DNS would.
struct TestResolver {
    names: HashMap<String, IpAddr>,
}

impl Resolve for TestResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let found = self.names.get(name.as_str()).copied();
        Box::pin(async move {
            match found {
                Some(ip) => {
                    let addrs: Addrs = Box::new(std::iter::once(SocketAddr::new(ip, 0)));
                    Ok(addrs)
                }
                None => Err(io::Error::new(io::ErrorKind::NotFound, "no such host").into()),
            }
        })
    }
}

fn resolver() -> Arc<dyn Resolve> {
    let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut names: HashMap<String, IpAddr> = [
        "site-a.test",
        "www.site-a.test",
        "other.test",
        "host-b.test",
    ]
    .into_iter()
    .map(|name| (name.to_string(), loopback))
    .collect();
    for i in 0..20 {
        names.insert(format!("h{i}.test"), loopback);
    }
    // Never contacted: the policy refuses it before any connection.
    names.insert(
        "private.test".to_string(),
        IpAddr::V4(Ipv4Addr::new(192, 168, 0, 1)),
    );
    Arc::new(TestResolver { names })
}

/// Settings for talking to the local server.
fn config() -> LinkCheckConfig {
    LinkCheckConfig {
        timeout: Duration::from_secs(5),
        concurrency: 4,
        per_host_delay: Duration::ZERO,
        allow_private: true,
        ..LinkCheckConfig::default()
    }
}

fn checker(config: LinkCheckConfig) -> LinkChecker {
    LinkChecker::with_resolver(config, resolver()).unwrap()
}

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

#[tokio::test]
async fn ok() {
    let server = TestServer::start().await;
    let result = checker(config())
        .check_one(&server.url("site-a.test", "/ok"))
        .await;
    assert_eq!(result.outcome, Outcome::Ok, "{result:?}");
    assert_eq!(result.http_status, Some(200));
    assert_eq!(result.final_url, None);
    assert_eq!(result.url, server.url("site-a.test", "/ok").as_str());
    let requests = server.stats.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "HEAD");
    assert!(result.elapsed_ms < 5_000);
}

#[tokio::test]
async fn redirect_to_another_domain_is_off_site() {
    let server = TestServer::start().await;
    let result = checker(config())
        .check_one(&server.url("site-a.test", "/moved"))
        .await;
    assert_eq!(result.outcome, Outcome::RedirectedOffSite, "{result:?}");
    assert_eq!(result.http_status, Some(301));
    assert_eq!(
        result.final_url.as_deref(),
        Some(server.url("other.test", "/").as_str())
    );
    assert_eq!(result.detail, "redirects to other.test");
    // The other site is not fetched.
    assert!(server
        .stats
        .requests()
        .iter()
        .all(|r| r.host == "site-a.test"));
}

#[tokio::test]
async fn redirects_within_the_site_are_followed() {
    let server = TestServer::start().await;
    // /same -> /hop -> www.site-a.test/ok
    let result = checker(config())
        .check_one(&server.url("site-a.test", "/same"))
        .await;
    assert_eq!(result.outcome, Outcome::Ok, "{result:?}");
    assert_eq!(result.http_status, Some(200));
    assert_eq!(
        result.final_url.as_deref(),
        Some(server.url("www.site-a.test", "/ok").as_str())
    );
}

#[tokio::test]
async fn status_codes() {
    let server = TestServer::start().await;
    let checker = checker(config());
    let cases = [
        ("/404", Outcome::NotFound404, 404),
        ("/410", Outcome::Gone410, 410),
        ("/500", Outcome::ServerError5xx, 500),
        ("/400", Outcome::ClientError4xx, 400),
        ("/403", Outcome::Ok, 403),
    ];
    for (path, outcome, status) in cases {
        let result = checker.check_one(&server.url("site-a.test", path)).await;
        assert_eq!(result.outcome, outcome, "{path}: {result:?}");
        assert_eq!(result.http_status, Some(status), "{path}");
    }
    // 410 is believed from HEAD; 404 is confirmed with GET.
    let methods = |path: &str| -> Vec<String> {
        let requests = server.stats.requests();
        requests
            .into_iter()
            .filter(|r| r.path == path)
            .map(|r| r.method)
            .collect()
    };
    assert_eq!(methods("/410"), ["HEAD"]);
    assert_eq!(methods("/404"), ["HEAD", "GET"]);
}

#[tokio::test]
async fn slow_server_times_out() {
    let server = TestServer::start().await;
    let config = LinkCheckConfig {
        timeout: Duration::from_millis(200),
        ..config()
    };
    let started = Instant::now();
    let result = checker(config)
        .check_one(&server.url("site-a.test", "/slow"))
        .await;
    assert_eq!(result.outcome, Outcome::Timeout, "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn closed_port_is_connection_refused() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let target = url(&format!("http://site-a.test:{port}/"));
    let result = checker(config()).check_one(&target).await;
    assert_eq!(result.outcome, Outcome::ConnectionRefused, "{result:?}");
    assert_eq!(result.http_status, None);
}

#[tokio::test]
async fn unknown_name_is_dns_failure() {
    let server = TestServer::start().await;
    let result = checker(config())
        .check_one(&server.url("unknown.test", "/"))
        .await;
    assert_eq!(result.outcome, Outcome::DnsFailure, "{result:?}");
    assert!(result.detail.contains("unknown.test"), "{}", result.detail);
}

#[tokio::test]
async fn non_public_addresses_are_not_contacted() {
    let server = TestServer::start().await;
    let strict = checker(LinkCheckConfig {
        allow_private: false,
        ..config()
    });
    let targets = [
        url("http://10.1.2.3/"),
        url("http://[fd00::1]/"),
        url(&format!("http://127.0.0.1:{}/ok", server.port)),
        server.url("private.test", "/"),  // resolves to 192.168.0.1
        server.url("site-a.test", "/ok"), // resolves to 127.0.0.1
    ];
    for target in targets {
        let result = strict.check_one(&target).await;
        assert_eq!(
            result.outcome,
            Outcome::BlockedByPolicy,
            "{target}: {result:?}"
        );
        assert_eq!(result.http_status, None);
    }
    assert_eq!(server.stats.connections(), 0);
}

#[tokio::test]
async fn head_not_allowed_falls_back_to_get() {
    let server = TestServer::start().await;
    let checker = checker(config());
    let result = checker
        .check_one(&server.url("site-a.test", "/head-405"))
        .await;
    assert_eq!(result.outcome, Outcome::Ok, "{result:?}");
    assert_eq!(result.http_status, Some(200));
    assert_eq!(result.detail, "HTTP 200 OK (by GET; HEAD gave 405)");

    let result = checker
        .check_one(&server.url("site-a.test", "/head-404"))
        .await;
    assert_eq!(result.outcome, Outcome::Ok, "{result:?}");

    let methods: Vec<String> = server
        .stats
        .requests()
        .into_iter()
        .map(|r| r.method)
        .collect();
    assert_eq!(methods, ["HEAD", "GET", "HEAD", "GET"]);
}

#[tokio::test]
async fn redirect_limit() {
    let server = TestServer::start().await;
    let checker = checker(config());

    let five = checker
        .check_one(&server.url("site-a.test", "/chain/5"))
        .await;
    assert_eq!(five.outcome, Outcome::Ok, "{five:?}");
    assert_eq!(
        five.final_url.as_deref(),
        Some(server.url("site-a.test", "/chain/0").as_str())
    );

    for path in ["/chain/6", "/loop"] {
        let result = checker.check_one(&server.url("site-a.test", path)).await;
        assert_eq!(result.outcome, Outcome::OtherError, "{path}: {result:?}");
        assert_eq!(result.detail, "too many redirects (more than 5)");
    }

    let result = checker
        .check_one(&server.url("site-a.test", "/no-location"))
        .await;
    assert_eq!(result.outcome, Outcome::OtherError, "{result:?}");
    assert_eq!(result.http_status, Some(302));
}

#[tokio::test]
async fn only_http_and_https() {
    let checker = checker(config());
    for target in [
        "ftp://site-a.test/file",
        "mailto:info@site-a.test",
        "file:///etc/hosts",
    ] {
        let result = checker.check_one(&url(target)).await;
        assert_eq!(result.outcome, Outcome::OtherError, "{target}: {result:?}");
    }
}

#[tokio::test]
async fn a_failed_tls_handshake_is_tls_error() {
    // A server that answers a TLS client hello with plain HTTP.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.writable().await;
            let _ = stream.try_write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let target = url(&format!("https://site-a.test:{port}/"));
    let result = checker(config()).check_one(&target).await;
    assert_eq!(result.outcome, Outcome::TlsError, "{result:?}");
}

#[tokio::test]
async fn one_request_at_a_time_per_host() {
    let server = TestServer::start().await;
    let mut urls = Vec::new();
    for n in 1..=3 {
        urls.push(server.url("site-a.test", &format!("/hold?n={n}")));
        urls.push(server.url("host-b.test", &format!("/hold?n={n}")));
    }
    let started = Instant::now();
    let results = checker(config()).check_all(urls.clone(), |_| {}).await;
    let elapsed = started.elapsed();

    assert!(
        results.iter().all(|r| r.outcome == Outcome::Ok),
        "{results:?}"
    );
    let returned: Vec<&str> = results.iter().map(|r| r.url.as_str()).collect();
    let given: Vec<&str> = urls.iter().map(Url::as_str).collect();
    assert_eq!(returned, given);

    let stats = &server.stats;
    assert_eq!(stats.max_in_flight("site-a.test"), 1);
    assert_eq!(stats.max_in_flight("host-b.test"), 1);
    assert_eq!(
        stats.max_in_flight_total(),
        2,
        "different hosts should overlap"
    );
    // Three held requests per host, one after another.
    assert!(elapsed >= HOLD * 3);

    // Input order within each host.
    for host in ["site-a.test", "host-b.test"] {
        let paths: Vec<String> = stats
            .requests()
            .into_iter()
            .filter(|r| r.host == host)
            .map(|r| r.path)
            .collect();
        assert_eq!(paths, ["/hold?n=1", "/hold?n=2", "/hold?n=3"]);
    }
}

#[tokio::test]
async fn per_host_delay_is_kept() {
    let server = TestServer::start().await;
    let delay = Duration::from_millis(50);
    let config = LinkCheckConfig {
        per_host_delay: delay,
        ..config()
    };
    let urls = (0..3)
        .map(|n| server.url("site-a.test", &format!("/ok?n={n}")))
        .collect();
    let started = Instant::now();
    let results = checker(config).check_all(urls, |_| {}).await;
    assert!(results.iter().all(|r| r.outcome == Outcome::Ok));
    assert!(started.elapsed() >= delay * 2);
}

#[tokio::test]
async fn duplicates_are_checked_once() {
    let server = TestServer::start().await;
    let same = server.url("site-a.test", "/ok");
    let urls = vec![
        same.clone(),
        server.url("site-a.test", "/404"),
        same.clone(),
        same,
    ];
    let calls = AtomicUsize::new(0);
    let results = checker(config())
        .check_all(urls, |_| {
            calls.fetch_add(1, Ordering::SeqCst);
        })
        .await;

    let outcomes: Vec<Outcome> = results.iter().map(|r| r.outcome).collect();
    assert_eq!(
        outcomes,
        [Outcome::Ok, Outcome::NotFound404, Outcome::Ok, Outcome::Ok]
    );
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    let ok_requests = server
        .stats
        .requests()
        .iter()
        .filter(|r| r.path == "/ok")
        .count();
    assert_eq!(ok_requests, 1);
}

#[tokio::test]
async fn empty_input() {
    let results = checker(config()).check_all(Vec::new(), |_| {}).await;
    assert!(results.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_urls_over_twenty_hosts() {
    let server = TestServer::start().await;
    let urls: Vec<Url> = (0..2000)
        .map(|i| server.url(&format!("h{}.test", i % 20), &format!("/ok?n={i}")))
        .collect();
    let config = LinkCheckConfig {
        concurrency: 16,
        ..config()
    };
    let done = AtomicUsize::new(0);
    let started = Instant::now();
    let results: Vec<CheckResult> = checker(config)
        .check_all(urls, |_| {
            done.fetch_add(1, Ordering::Relaxed);
        })
        .await;
    let elapsed = started.elapsed();

    assert_eq!(results.len(), 2000);
    let failed: Vec<&CheckResult> = results
        .iter()
        .filter(|r| r.outcome != Outcome::Ok)
        .collect();
    assert!(
        failed.is_empty(),
        "{} failed, first: {:?}",
        failed.len(),
        failed.first()
    );
    assert_eq!(done.load(Ordering::Relaxed), 2000);
    // Sockets are not kept idle per host, so at most `concurrency` requests
    // (and their connections) are open at once however many hosts there are.
    let connections = server.stats.connections();
    let in_flight = server.stats.max_in_flight_total();
    assert!(in_flight <= 16, "{in_flight} requests in flight at once");
    println!(
        "checked 2000 URLs over 20 hosts in {elapsed:?} ({:.0} URLs/s, {connections} connections)",
        2000.0 / elapsed.as_secs_f64()
    );
}

#[tokio::test]
async fn system_resolver_applies_the_policy() {
    let server = TestServer::start().await;
    let target = server.url("localhost", "/ok");

    let strict = LinkChecker::new(LinkCheckConfig {
        allow_private: false,
        ..config()
    })
    .unwrap();
    let result = strict.check_one(&target).await;
    assert_eq!(result.outcome, Outcome::BlockedByPolicy, "{result:?}");
    assert_eq!(server.stats.connections(), 0);

    let relaxed = LinkChecker::new(config()).unwrap();
    let result = relaxed.check_one(&target).await;
    assert_eq!(result.outcome, Outcome::Ok, "{result:?}");
}

#[test]
fn invalid_settings_are_refused() {
    let zero = LinkCheckConfig {
        concurrency: 0,
        ..LinkCheckConfig::default()
    };
    assert!(matches!(
        LinkChecker::new(zero),
        Err(LinkCheckError::InvalidConfig(_))
    ));
}

#[test]
fn outcome_names() {
    for outcome in Outcome::ALL {
        let json = serde_json::to_string(&outcome).unwrap();
        assert_eq!(json, format!("\"{}\"", outcome.as_str()));
        assert_eq!(outcome.as_str().parse::<Outcome>(), Ok(outcome));
        assert_eq!(outcome.is_failure(), outcome != Outcome::Ok);
    }
    assert_eq!(Outcome::NotFound404.as_str(), "not_found_404");
    assert!("nonsense".parse::<Outcome>().is_err());
}
