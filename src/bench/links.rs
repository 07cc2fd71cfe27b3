//! `signpost bench-links`: the link checker against a local server, to
//! measure its rate and show it holds sockets and memory steady at scale.
//! Invented host names (`h<n>.bench`) all resolve to 127.0.0.1, so the
//! per-host politeness rule spreads the work as it would across real sites.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

use crate::links::{LinkCheckConfig, LinkChecker, Outcome};

struct Loopback;

impl Resolve for Loopback {
    fn resolve(&self, _name: Name) -> Resolving {
        Box::pin(async {
            let addrs: Addrs = Box::new(std::iter::once(SocketAddr::new(
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                0,
            )));
            Ok(addrs)
        })
    }
}

pub struct LinkBenchOptions {
    pub urls: usize,
    pub hosts: usize,
    pub concurrency: usize,
    pub host_delay_ms: u64,
}

pub async fn run(options: LinkBenchOptions) -> anyhow::Result<()> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    let server = HttpServer::new(|| App::new().default_service(web::to(HttpResponse::Ok)))
        .on_connect(move |_, _| {
            counted.fetch_add(1, Ordering::Relaxed);
        })
        .listen(listener)?
        .run();
    let handle = server.handle();
    tokio::spawn(server);

    let checker = LinkChecker::with_resolver(
        LinkCheckConfig {
            allow_private: true,
            concurrency: options.concurrency,
            per_host_delay: Duration::from_millis(options.host_delay_ms),
            ..LinkCheckConfig::default()
        },
        Arc::new(Loopback),
    )?;
    let urls: Vec<Url> = (0..options.urls)
        .map(|i| {
            Url::parse(&format!(
                "http://h{}.bench:{port}/page/{i}",
                i % options.hosts.max(1)
            ))
        })
        .collect::<Result<_, _>>()?;
    let started = Instant::now();
    let results = checker.check_all(urls, |_| {}).await;
    let seconds = started.elapsed().as_secs_f64();
    let ok = results.iter().filter(|r| r.outcome == Outcome::Ok).count();
    handle.stop(true).await;
    let mut failures: std::collections::BTreeMap<String, usize> = Default::default();
    for r in results.iter().filter(|r| r.outcome != Outcome::Ok) {
        *failures
            .entry(format!("{}: {}", r.outcome.as_str(), r.detail))
            .or_default() += 1;
    }
    println!(
        "link checker: {} URLs on {} hosts, concurrency {}, host delay {} ms",
        options.urls, options.hosts, options.concurrency, options.host_delay_ms
    );
    println!(
        "  {ok} ok in {seconds:.2} s = {:.0} URLs/s; {} TCP connections opened; peak resident memory {:.0} MB",
        options.urls as f64 / seconds,
        connections.load(Ordering::Relaxed),
        super::peak_rss_mb()
    );
    for (what, n) in failures {
        println!("  {n} × {what}");
    }
    Ok(())
}
