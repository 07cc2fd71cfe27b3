//! The indexer: the one task per process that writes the search index. It
//! tails the change log from the sequence stored with the last commit,
//! reindexes the services each change touches, and commits in batches (at
//! most once per interval, never per request).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::ProgressBar;
use tantivy::indexer::{LogMergePolicy, NoMergePolicy};
use tantivy::{IndexWriter, TantivyDocument, Term};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::index::{
    search_threads, CachedTerm, CommitPayload, SearchIndex, SegmentSize, TaxonomyCache,
};
use super::schema::{self, SCHEMA_VERSION};
use crate::db::{changes, services, taxonomy, DbConnection, Pool};
use crate::model::enums::TaxonomyKind;

/// Indexing memory budget: enough for large batches, well inside the server's budget.
const WRITER_MEMORY: usize = 100_000_000;
const CHANGE_BATCH: i64 = 5_000;
const LOAD_BATCH: usize = 500;
/// Services a rebuild thread loads and indexes at a time.
const REBUILD_CHUNK: usize = 1_000;
/// Rebuild threads at most (besides tantivy's own indexing threads).
const MAX_REBUILD_WORKERS: usize = 4;

pub struct Indexer {
    search: Arc<SearchIndex>,
    writer: IndexWriter<TantivyDocument>,
    pool: Pool,
    seq: i64,
}

impl Indexer {
    /// Takes the index's single writer. With `last_seq` `None` (a new or
    /// rebuilt index) everything is indexed from the database first.
    pub fn start(
        search: Arc<SearchIndex>,
        pool: Pool,
        last_seq: Option<i64>,
        progress: Option<&ProgressBar>,
    ) -> anyhow::Result<Indexer> {
        let writer = search.index().writer(WRITER_MEMORY).context(
            "taking the index writer (is another Signpost process using this data directory?)",
        )?;
        let mut indexer = Indexer {
            search,
            writer,
            pool,
            seq: last_seq.unwrap_or(0),
        };
        indexer.refresh_taxonomy()?;
        if last_seq.is_none() {
            let n = indexer.rebuild(progress)?;
            tracing::info!(services = n, "built the search index from the database");
        }
        Ok(indexer)
    }

    pub fn seq(&self) -> i64 {
        self.seq
    }

    fn conn(&self) -> anyhow::Result<diesel::r2d2::PooledConnection<crate::db::DbManager>> {
        self.pool
            .get()
            .context("taking a database connection for indexing")
    }

    fn refresh_taxonomy(&mut self) -> anyhow::Result<()> {
        let mut conn = self.conn()?;
        let mut cache = TaxonomyCache::default();
        for t in taxonomy::all_live(&mut conn)? {
            match t.taxonomy {
                TaxonomyKind::Category => {
                    cache.category_slugs.insert(t.slug.clone(), t.id);
                }
                TaxonomyKind::CommunityGroup => {
                    cache.group_slugs.insert(t.slug.clone(), t.id);
                }
                TaxonomyKind::Accessibility => {
                    cache.accessibility_slugs.insert(t.slug.clone(), t.id);
                }
            }
            cache.terms.insert(
                t.id,
                CachedTerm {
                    term: crate::model::read::TermRef {
                        id: t.id,
                        slug: t.slug,
                        name: t.name,
                    },
                    parent_id: t.parent_id,
                },
            );
        }
        cache.index_top_level();
        self.search.set_taxonomy(cache);
        Ok(())
    }

    /// Replaces the whole index with what the database holds now. Several
    /// threads load services and build their documents (one thread doing
    /// both left tantivy's indexing threads waiting); each takes the next
    /// thousand in postcode order, so neighbours stay close in the index.
    pub fn rebuild(&mut self, progress: Option<&ProgressBar>) -> anyhow::Result<usize> {
        let (seq, ids) = {
            let mut conn = self.conn()?;
            let seq = changes::latest_seq(&mut conn)?;
            (seq, services::live_ids_by_place(&mut conn)?)
        };
        if let Some(bar) = progress {
            bar.set_length(ids.len() as u64);
        }
        self.writer.delete_all_documents()?;
        // Background merges would race the merges at the end (and redo
        // work they make pointless): none until then.
        self.writer.set_merge_policy(Box::new(NoMergePolicy));
        let started = Instant::now();
        let chunks: Vec<&[String]> = ids.chunks(REBUILD_CHUNK).collect();
        let next = AtomicUsize::new(0);
        let count = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(self.pool.max_size() as usize)
            .clamp(1, MAX_REBUILD_WORKERS);
        let (writer, pool, search) = (&self.writer, &self.pool, &self.search);
        let work = || -> anyhow::Result<()> {
            let taxonomy = search.taxonomy();
            let fields = search.fields();
            let mut conn = pool
                .get()
                .context("taking a database connection for reindexing")?;
            while let Some(chunk) = chunks.get(next.fetch_add(1, Ordering::Relaxed)) {
                if failed.load(Ordering::Relaxed) {
                    break;
                }
                for service in services::load(&mut conn, chunk)? {
                    writer.add_document(schema::document(&fields, &service, taxonomy.as_ref()))?;
                    count.fetch_add(1, Ordering::Relaxed);
                }
                if let Some(bar) = progress {
                    bar.inc(chunk.len() as u64);
                }
            }
            Ok(())
        };
        std::thread::scope(|scope| -> anyhow::Result<()> {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| {
                        let result = work();
                        if result.is_err() {
                            failed.store(true, Ordering::Relaxed);
                        }
                        result
                    })
                })
                .collect();
            for handle in handles {
                handle
                    .join()
                    .map_err(|_| anyhow::anyhow!("a reindexing thread panicked"))??;
            }
            Ok(())
        })?;
        self.seq = seq;
        self.commit()?;
        let indexed = started.elapsed();
        let merged = self.merge_all();
        self.writer
            .set_merge_policy(Box::new(LogMergePolicy::default()));
        merged?;
        let count = count.into_inner();
        tracing::info!(
            services = count,
            threads = workers,
            indexed_secs = indexed.as_secs_f64(),
            merged_secs = (started.elapsed() - indexed).as_secs_f64(),
            "rebuilt the search index"
        );
        Ok(count)
    }

    /// Applies every pending change and commits once. Returns how many
    /// services were reindexed.
    pub fn catch_up(&mut self) -> anyhow::Result<usize> {
        let mut conn = self.conn()?;
        let start = self.seq;
        let mut touched = 0;
        loop {
            let batch = changes::changes_after(&mut conn, self.seq, CHANGE_BATCH)?;
            let Some(last) = batch.last() else { break };
            let last_seq = last.seq;
            let mut ids = BTreeSet::new();
            let mut taxonomy_changed = Vec::new();
            for change in &batch {
                match change.entity_type.as_str() {
                    "service" => {
                        ids.insert(change.entity_id.clone());
                    }
                    "organisation" => ids.extend(services::ids_for_organisation(
                        &mut conn,
                        &change.entity_id,
                    )?),
                    "location" => {
                        ids.extend(services::ids_at_location(&mut conn, &change.entity_id)?)
                    }
                    "taxonomy_term" => taxonomy_changed.push(change.entity_id.clone()),
                    _ => {}
                }
            }
            if !taxonomy_changed.is_empty() {
                self.refresh_taxonomy()?;
                let cache = self.search.taxonomy();
                let mut affected: Vec<String> = Vec::new();
                for id in &taxonomy_changed {
                    if let Ok(uuid) = Uuid::parse_str(id) {
                        affected.extend(cache.with_descendants(uuid).iter().map(Uuid::to_string));
                    }
                }
                ids.extend(services::ids_with_terms(&mut conn, &affected)?);
            }
            touched += self.reindex(&mut conn, ids.into_iter().collect())?;
            self.seq = last_seq;
        }
        if self.seq != start {
            self.commit()?;
        }
        Ok(touched)
    }

    fn reindex(&mut self, conn: &mut DbConnection, ids: Vec<String>) -> anyhow::Result<usize> {
        let fields = self.search.fields();
        let taxonomy = self.search.taxonomy();
        for chunk in ids.chunks(LOAD_BATCH) {
            for id in chunk {
                self.writer
                    .delete_term(Term::from_field_text(fields.id, id));
            }
            for service in services::load(conn, chunk)? {
                if schema::indexable(&service) {
                    self.writer.add_document(schema::document(
                        &fields,
                        &service,
                        taxonomy.as_ref(),
                    ))?;
                }
            }
        }
        Ok(ids.len())
    }

    /// After a full build, merges the segments into one per search thread
    /// (`index::search_threads`): every search pays a cost per segment and a
    /// fresh build leaves many, while one per thread lets a search use every
    /// core. The merges run side by side.
    fn merge_all(&mut self) -> anyhow::Result<()> {
        let segments = self.search.segment_sizes()?;
        let merges: Vec<_> = balanced_groups(segments, search_threads())
            .into_iter()
            .filter(|group| group.len() > 1)
            .map(|group| self.writer.merge(&group))
            .collect();
        if merges.is_empty() {
            return Ok(());
        }
        for merge in merges {
            merge.wait().context("merging index segments")?;
        }
        self.search.reload()
    }

    fn commit(&mut self) -> anyhow::Result<()> {
        let payload = serde_json::to_string(&CommitPayload {
            schema: SCHEMA_VERSION,
            seq: self.seq,
        })?;
        let mut prepared = self
            .writer
            .prepare_commit()
            .context("preparing an index commit")?;
        prepared.set_payload(&payload);
        prepared.commit().context("committing the index")?;
        self.search.reload()
    }
}

/// Segments split into at most `n` groups, each to be merged into one,
/// of about the same number of services and of area-covering services.
/// Services with no location come last in a rebuild, so they fill a few
/// segments of their own; balanced by size alone, those could all fall to
/// one group, leaving a national search (which reads little else) on one
/// thread. So those segments are dealt out first, most such services
/// first, each to the group with the fewest so far; then the rest, largest
/// first, each to the group with the fewest services.
fn balanced_groups<T>(mut segments: Vec<SegmentSize<T>>, n: usize) -> Vec<Vec<T>> {
    // Area-covering segments first (most such services first), then the
    // rest by size.
    segments.sort_by_key(|s| std::cmp::Reverse((s.covering, s.docs)));
    // Per group: services, area-covering services, segments.
    let mut groups: Vec<(u32, u32, Vec<T>)> = (0..n.max(1)).map(|_| (0, 0, Vec::new())).collect();
    for segment in segments {
        let fewest = if segment.covering > 0 {
            groups.iter_mut().min_by_key(|g| (g.1, g.0))
        } else {
            groups.iter_mut().min_by_key(|g| (g.0, g.1))
        };
        if let Some(group) = fewest {
            group.0 += segment.docs;
            group.1 += segment.covering;
            group.2.push(segment.id);
        }
    }
    groups
        .into_iter()
        .map(|(_, _, items)| items)
        .filter(|items| !items.is_empty())
        .collect()
}

/// The running indexer task.
pub struct IndexerHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// Runs the indexer every `interval` until shut down.
pub fn spawn(indexer: Indexer, interval: Duration) -> IndexerHandle {
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        let mut indexer = Some(indexer);
        loop {
            let stopping = tokio::select! {
                _ = tokio::time::sleep(interval) => false,
                _ = stopped.changed() => true,
            };
            let Some(mut current) = indexer.take() else {
                break;
            };
            let result = tokio::task::spawn_blocking(move || {
                let r = current.catch_up();
                (current, r)
            })
            .await;
            match result {
                Ok((back, outcome)) => {
                    if let Err(e) = outcome {
                        tracing::error!(error = %format!("{e:#}"), "indexing failed; will retry");
                    }
                    indexer = Some(back);
                }
                Err(e) => {
                    tracing::error!(error = %e, "indexer task panicked; search stops updating");
                    break;
                }
            }
            if stopping {
                tracing::info!("indexer stopped after a final commit");
                break;
            }
        }
    });
    IndexerHandle { stop, task }
}

impl IndexerHandle {
    /// Applies what is pending, commits, and stops.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

#[cfg(test)]
mod tests {
    use super::{balanced_groups, SegmentSize};

    fn segment(id: &'static str, docs: u32, covering: u32) -> SegmentSize<&'static str> {
        SegmentSize { id, docs, covering }
    }

    /// Each group's services and area-covering services.
    fn totals(groups: &[Vec<&str>], segments: &[SegmentSize<&str>]) -> Vec<(u32, u32)> {
        groups
            .iter()
            .map(|group| {
                group
                    .iter()
                    .map(|id| segments.iter().find(|s| s.id == *id).unwrap())
                    .fold((0, 0), |(d, c), s| (d + s.docs, c + s.covering))
            })
            .collect()
    }

    #[test]
    fn segments_are_grouped_into_even_shares() {
        let segments = vec![
            segment("a", 1, 0),
            segment("b", 5, 0),
            segment("c", 3, 0),
            segment("d", 4, 0),
            segment("e", 3, 0),
        ];
        let groups = balanced_groups(segments.clone(), 2);
        assert_eq!(totals(&groups, &segments), [(8, 0), (8, 0)]);
        assert_eq!(balanced_groups(vec![segment("a", 7, 0)], 4), [["a"]]);
        assert!(balanced_groups(Vec::<SegmentSize<u8>>::new(), 2).is_empty());
    }

    /// The segments of area-covering services (a rebuild's last) are split
    /// between the groups, where size alone put them together: the
    /// segments of a million-service rebuild.
    #[test]
    fn area_services_are_shared_between_the_groups() {
        let ids = [
            "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n",
        ];
        let docs = [
            77_969, 74_697, 74_615, 73_269, 73_131, 73_033, 72_962, 71_627, 71_221, 69_616, 69_261,
            68_016, 67_761, 62_822,
        ];
        let segments: Vec<_> = ids
            .iter()
            .zip(docs)
            .map(|(id, docs)| match *id {
                "a" => segment(id, docs, 49_456),
                "n" => segment(id, docs, 50_880),
                _ => segment(id, docs, 0),
            })
            .collect();
        let groups = balanced_groups(segments.clone(), 2);
        let totals = totals(&groups, &segments);
        assert_eq!(
            totals.iter().map(|t| t.1).collect::<Vec<_>>(),
            [50_880, 49_456],
            "{groups:?}"
        );
        assert!(totals[0].0.abs_diff(totals[1].0) < 62_822, "{totals:?}");
    }
}
