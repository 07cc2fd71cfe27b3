//! Checking many URLs politely.
//!
//! URLs are grouped into one queue per host (in input order). A fixed pool
//! of `concurrency` workers takes whole host queues from a shared line: a
//! worker takes the host at the front, waits until that host may be
//! contacted again, checks its next URL, and puts the host back at the end
//! of the line with a new "not before" time of now + `per_host_delay`.
//! A host is held by at most one worker at a time, so there is never more
//! than one request in flight per host, and there are never more than
//! `concurrency` checks in flight overall. Because the delay is the same for
//! every host, the line stays sorted by "not before" time, so the front is
//! always the host that may go soonest.
//!
//! "Host" means the URL's host name, ignoring the port. The delay is
//! between checks: the requests inside one check (HEAD then GET, redirect
//! hops) follow each other without a pause.
//!
//! Identical URLs (after URL parsing, which normalises case, default ports,
//! etc.) are checked once; every input position gets a copy of the result,
//! and `progress` is called once per input position.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::Utc;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use url::Url;

use super::{CheckResult, LinkChecker, Outcome};

/// The URLs still to check on one host.
struct HostQueue {
    /// (index into the unique URLs, URL), in input order.
    urls: VecDeque<(usize, Url)>,
    /// The host may not be contacted before this.
    not_before: Instant,
}

/// The line of hosts waiting for a worker.
struct Line {
    hosts: Mutex<VecDeque<HostQueue>>,
}

impl Line {
    fn lock(&self) -> MutexGuard<'_, VecDeque<HostQueue>> {
        // Nothing panics while holding the lock, but if something did the
        // queue itself would still be consistent.
        self.hosts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn take(&self) -> Option<HostQueue> {
        self.lock().pop_front()
    }

    fn put_back(&self, mut host: HostQueue, delay: std::time::Duration) {
        let mut hosts = self.lock();
        // Taken under the lock so the line stays sorted by `not_before`.
        host.not_before = Instant::now() + delay;
        hosts.push_back(host);
    }
}

impl LinkChecker {
    /// Checks `urls` and returns one result per input URL, in input order.
    /// `progress` is called as each result arrives (in completion order).
    ///
    /// Must run inside a tokio runtime: the workers are spawned tasks (and
    /// are cancelled if the returned future is dropped).
    pub async fn check_all<F>(&self, urls: Vec<Url>, progress: F) -> Vec<CheckResult>
    where
        F: Fn(&CheckResult) + Send + Sync,
    {
        // Deduplicate: `positions[u]` lists the input positions of unique URL `u`.
        let mut unique_index: HashMap<String, usize> = HashMap::new();
        let mut positions: Vec<Vec<usize>> = Vec::new();
        let mut unique: Vec<Url> = Vec::new();
        for (position, url) in urls.iter().enumerate() {
            let u = *unique_index
                .entry(url.as_str().to_string())
                .or_insert_with(|| {
                    unique.push(url.clone());
                    positions.push(Vec::new());
                    unique.len() - 1
                });
            positions[u].push(position);
        }

        // Group by host, hosts in order of first appearance.
        let start = Instant::now();
        let mut host_index: HashMap<String, usize> = HashMap::new();
        let mut hosts: VecDeque<HostQueue> = VecDeque::new();
        for (u, url) in unique.into_iter().enumerate() {
            let key = url.host_str().unwrap_or_default().to_ascii_lowercase();
            let h = *host_index.entry(key).or_insert_with(|| {
                hosts.push_back(HostQueue {
                    urls: VecDeque::new(),
                    not_before: start,
                });
                hosts.len() - 1
            });
            hosts[h].urls.push_back((u, url));
        }

        let workers = self.config().concurrency.min(hosts.len());
        let line = Arc::new(Line {
            hosts: Mutex::new(hosts),
        });
        let (sender, mut receiver) = mpsc::channel::<(usize, CheckResult)>(workers.max(1) * 2);
        let mut tasks = JoinSet::new();
        for _ in 0..workers {
            tasks.spawn(work(self.clone(), Arc::clone(&line), sender.clone()));
        }
        // Only the workers hold senders now, so the loop below ends when
        // the last worker does.
        drop(sender);

        let mut results: Vec<Option<CheckResult>> = vec![None; urls.len()];
        while let Some((u, result)) = receiver.recv().await {
            for &position in &positions[u] {
                progress(&result);
                results[position] = Some(result.clone());
            }
        }
        while let Some(joined) = tasks.join_next().await {
            if let Err(err) = joined {
                tracing::error!(error = %err, "link check worker failed");
            }
        }

        results
            .into_iter()
            .zip(urls)
            .map(|(result, url)| result.unwrap_or_else(|| not_checked(&url)))
            .collect()
    }
}

/// One worker: takes hosts from the line until it is empty.
///
/// A worker that finds the line empty stops. That is safe: every host
/// still holding URLs is then held by a running worker, which puts it back
/// and takes from the line again before it stops.
async fn work(checker: LinkChecker, line: Arc<Line>, results: mpsc::Sender<(usize, CheckResult)>) {
    let delay = checker.config().per_host_delay;
    while let Some(mut host) = line.take() {
        tokio::time::sleep_until(host.not_before).await;
        let Some((u, url)) = host.urls.pop_front() else {
            continue;
        };
        let result = checker.check_one(&url).await;
        if results.send((u, result)).await.is_err() {
            // The caller has gone; nobody wants the rest.
            return;
        }
        if !host.urls.is_empty() {
            line.put_back(host, delay);
        }
    }
}

/// The result for a URL whose worker died before checking it.
fn not_checked(url: &Url) -> CheckResult {
    CheckResult {
        url: url.to_string(),
        outcome: Outcome::OtherError,
        http_status: None,
        final_url: None,
        detail: "internal error: the check did not run".to_string(),
        checked_at: Utc::now(),
        elapsed_ms: 0,
    }
}
