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

use super::index::{search_threads, CachedTerm, CommitPayload, SearchIndex, TaxonomyCache};
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
                TaxonomyKind::Accessibility => {}
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
        let segments = self
            .search
            .index()
            .searchable_segment_metas()?
            .into_iter()
            .map(|meta| (meta.id(), meta.num_docs()))
            .collect();
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

/// Items (segments) with their sizes (documents) split into at most `n`
/// groups of about the same size: largest first, each to the group with
/// the fewest so far.
fn balanced_groups<T>(mut items: Vec<(T, u32)>, n: usize) -> Vec<Vec<T>> {
    items.sort_by_key(|(_, size)| std::cmp::Reverse(*size));
    let mut groups: Vec<(u64, Vec<T>)> = (0..n.max(1)).map(|_| (0, Vec::new())).collect();
    for (item, size) in items {
        if let Some(smallest) = groups.iter_mut().min_by_key(|(total, _)| *total) {
            smallest.0 += u64::from(size);
            smallest.1.push(item);
        }
    }
    groups
        .into_iter()
        .map(|(_, items)| items)
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
    use super::balanced_groups;

    #[test]
    fn segments_are_grouped_into_even_shares() {
        let groups = balanced_groups(vec![("a", 1), ("b", 5), ("c", 3), ("d", 4), ("e", 3)], 2);
        let sizes: Vec<u32> = groups
            .iter()
            .map(|g| {
                g.iter()
                    .map(|id| match *id {
                        "a" => 1,
                        "b" => 5,
                        "c" | "e" => 3,
                        _ => 4,
                    })
                    .sum()
            })
            .collect();
        assert_eq!(sizes, [8, 8]);
        assert_eq!(balanced_groups(vec![("a", 7)], 4), [["a"]]);
        assert!(balanced_groups(Vec::<(u8, u32)>::new(), 2).is_empty());
    }
}
