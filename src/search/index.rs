//! The search index on disk: opening (or rebuilding when missing, corrupt or
//! of an older schema), the shared reader, and running searches.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tantivy::collector::Collector;
use tantivy::directory::MmapDirectory;
use tantivy::index::SegmentId;
use tantivy::query::{
    BooleanQuery, BoostQuery, EnableScoring, FuzzyTermQuery, Occur, Query, TermQuery,
};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{Executor, Index, IndexReader, IndexSettings, ReloadPolicy, TantivyDocument, Term};
use uuid::Uuid;

use super::query::{self, ColumnCache, MatchReason, Ranked, SearchRequest};
use super::schema::{self, hash, Fields, TermLookup, SCHEMA_VERSION};
use crate::model::freshness::{assess, Freshness, FreshnessFacts, ReviewPolicy};
use crate::model::opening::{Hours, Opening};
use crate::model::read::TermRef;

/// What a commit records alongside the index: how far into the change log
/// it is, and which schema built it.
#[derive(Debug, Serialize, Deserialize)]
pub struct CommitPayload {
    pub schema: u32,
    pub seq: i64,
}

/// The category tree as the index needs it: ancestors for indexing,
/// top-level terms for facets, known slugs for validating filters.
#[derive(Debug, Default, Clone)]
pub struct TaxonomyCache {
    pub terms: HashMap<Uuid, CachedTerm>,
    pub category_slugs: HashMap<String, Uuid>,
    pub group_slugs: HashMap<String, Uuid>,
    pub accessibility_slugs: HashMap<String, Uuid>,
    top_level: HashMap<u64, TermRef>,
}

#[derive(Debug, Clone)]
pub struct CachedTerm {
    pub term: TermRef,
    pub parent_id: Option<Uuid>,
}

impl TaxonomyCache {
    /// Top-level category by the hash stored in the `top_category` fast
    /// field; computed once when the cache is built, read on every search.
    pub fn top_level_by_hash(&self) -> &HashMap<u64, TermRef> {
        &self.top_level
    }

    /// Fills `top_level` from the terms (call after loading them).
    pub fn index_top_level(&mut self) {
        self.top_level = self
            .category_slugs
            .values()
            .filter_map(|id| self.terms.get(id))
            .filter(|t| t.parent_id.is_none())
            .map(|t| (hash(&t.term.slug), t.term.clone()))
            .collect();
    }

    /// A term and all its descendants.
    pub fn with_descendants(&self, id: Uuid) -> Vec<Uuid> {
        let mut out = vec![id];
        let mut i = 0;
        while i < out.len() {
            let current = out[i];
            out.extend(
                self.terms
                    .iter()
                    .filter(|(_, t)| t.parent_id == Some(current))
                    .map(|(id, _)| *id),
            );
            i += 1;
        }
        out
    }
}

impl TermLookup for TaxonomyCache {
    fn with_ancestors(&self, term: &TermRef) -> Vec<TermRef> {
        let mut out = vec![term.clone()];
        let mut cursor = self.terms.get(&term.id).and_then(|t| t.parent_id);
        while let Some(id) = cursor {
            match self.terms.get(&id) {
                Some(parent) if out.len() < 32 => {
                    out.push(parent.term.clone());
                    cursor = parent.parent_id;
                }
                _ => break,
            }
        }
        out
    }
}

/// One search result: the stored service document plus how it matched.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchHit {
    /// The service, as `GET /api/v1/services/{id}` returns it.
    #[schema(value_type = crate::model::read::Service)]
    pub service: Box<RawValue>,
    /// Metres to the service's nearest location, when a point was given and it has one.
    pub distance_m: Option<u32>,
    /// Why it matched the place searched: `within_radius` or `covers_area`.
    #[schema(value_type = Option<String>, example = "within_radius")]
    pub matched_because: Option<&'static str>,
    /// The area code through which a `covers_area` match was made.
    pub covering_area: Option<String>,
    /// The blended ranking score (higher is better).
    pub score: f32,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FacetCount {
    pub slug: String,
    pub name: String,
    pub count: usize,
}

pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    pub total: usize,
    pub categories: Vec<FacetCount>,
}

/// Adds the computed `opening` and `freshness` blocks to a stored service
/// document. The stored JSON is always an object serialised without them,
/// so they go before its closing brace (no parse and re-serialise per hit).
fn with_computed(stored: &str, opening: Option<&Opening>, freshness: Option<&Freshness>) -> String {
    let Some(body) = stored.strip_suffix('}').filter(|b| b.len() > 1) else {
        return stored.to_string();
    };
    let mut json = body.to_string();
    if let Some(block) = opening.and_then(|o| serde_json::to_string(o).ok()) {
        json.push_str(",\"opening\":");
        json.push_str(&block);
    }
    if let Some(block) = freshness.and_then(|f| serde_json::to_string(f).ok()) {
        json.push_str(",\"freshness\":");
        json.push_str(&block);
    }
    json.push('}');
    json
}

/// Most threads a single search uses.
const MAX_SEARCH_THREADS: usize = 4;

/// Indexes smaller than this are searched on the calling thread (the
/// default of `--search-parallel-from`). Waking the search threads costs
/// about 0.2 ms a search on this project's 2-core benchmark machine: at
/// 10,000 services that doubled the median (0.24 to 0.43 ms), while at a
/// million, where a search takes about 2 ms, splitting it saves more.
pub const PARALLEL_FROM_DOCS: u64 = 250_000;

/// Threads a large index's searches run on, one segment per thread at a
/// time (a full rebuild leaves one segment per search thread): one per core.
/// Searches of a smaller index run on the calling thread (`PARALLEL_FROM_DOCS`).
pub fn search_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, MAX_SEARCH_THREADS)
}

/// A segment's size, as `SearchIndex::segment_sizes` counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentSize<Id = SegmentId> {
    pub id: Id,
    pub docs: u32,
    /// Services covering a service area.
    pub covering: u32,
}

pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    dir: PathBuf,
    taxonomy: RwLock<Arc<TaxonomyCache>>,
    columns: Arc<ColumnCache>,
    /// Services from which searches use the search threads.
    parallel_from: u64,
}

impl SearchIndex {
    /// Opens the index in `dir`. Returns the change-log sequence it has
    /// applied, or `None` when it was (re)created empty and needs a full
    /// build: missing, unreadable or built by another schema version.
    pub fn open_or_create(dir: &Path) -> anyhow::Result<(SearchIndex, Option<i64>)> {
        match Self::open_existing(dir) {
            Ok(Some((index, seq))) => return Ok((index, Some(seq))),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), dir = %dir.display(), "search index unusable; rebuilding it")
            }
        }
        if dir.exists() {
            std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
        }
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let (schema, _) = schema::build_schema();
        // Small doc-store blocks: each result reads one block, so smaller
        // blocks mean less to decompress per search for a little more disk.
        let settings = IndexSettings {
            docstore_blocksize: 4_096,
            ..IndexSettings::default()
        };
        let index = Index::builder()
            .schema(schema)
            .settings(settings)
            .create_in_dir(dir)
            .context("creating the search index")?;
        Ok((Self::wrap(index, dir)?, None))
    }

    fn open_existing(dir: &Path) -> anyhow::Result<Option<(SearchIndex, i64)>> {
        if !dir.join("meta.json").exists() {
            return Ok(None);
        }
        let directory = MmapDirectory::open(dir).context("opening the index directory")?;
        let index = Index::open(directory).context("opening the search index")?;
        let payload: Option<CommitPayload> = index
            .load_metas()?
            .payload
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok());
        let (expected_schema, _) = schema::build_schema();
        match payload {
            Some(p) if p.schema == SCHEMA_VERSION && index.schema() == expected_schema => {
                let wrapped = Self::wrap(index, dir)?;
                // Read every segment once so a damaged file is found now, not mid-request.
                let searcher = wrapped.reader.searcher();
                for segment in searcher.segment_readers() {
                    segment
                        .fast_fields()
                        .u64("id_hi")
                        .context("checking the index")?;
                }
                Ok(Some((wrapped, p.seq)))
            }
            _ => Ok(None),
        }
    }

    fn wrap(mut index: Index, dir: &Path) -> anyhow::Result<SearchIndex> {
        schema::register_analyzers(&index);
        let threads = search_threads();
        if threads > 1 {
            index
                .set_multithread_executor(threads)
                .context("starting the search threads")?;
        }
        let fields = schema::fields_of(&index.schema())?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .context("opening an index reader")?;
        Ok(SearchIndex {
            index,
            reader,
            fields,
            dir: dir.to_path_buf(),
            taxonomy: RwLock::new(Arc::new(TaxonomyCache::default())),
            columns: Arc::default(),
            parallel_from: PARALLEL_FROM_DOCS,
        })
    }

    /// Searches of an index with at least this many services run on the
    /// search threads (see `PARALLEL_FROM_DOCS`).
    pub fn set_parallel_from(&mut self, services: u64) {
        self.parallel_from = services;
    }

    pub fn index(&self) -> &Index {
        &self.index
    }

    pub fn fields(&self) -> Fields {
        self.fields
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Makes the latest commit visible to searches.
    pub fn reload(&self) -> anyhow::Result<()> {
        self.reader.reload().context("reloading the index reader")?;
        let live: Vec<_> = self
            .reader
            .searcher()
            .segment_readers()
            .iter()
            .map(|r| r.segment_id())
            .collect();
        self.columns.retain(&live);
        Ok(())
    }

    pub fn taxonomy(&self) -> Arc<TaxonomyCache> {
        self.taxonomy.read().map(|t| t.clone()).unwrap_or_default()
    }

    pub fn set_taxonomy(&self, cache: TaxonomyCache) {
        if let Ok(mut slot) = self.taxonomy.write() {
            *slot = Arc::new(cache);
        }
    }

    /// Number of services in the index.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Each searchable segment's services, and how many of them cover a
    /// service area (the documents a national search reads).
    pub fn segment_sizes(&self) -> anyhow::Result<Vec<SegmentSize>> {
        let area = Term::from_field_text(self.fields.kind, "area");
        self.reader
            .searcher()
            .segment_readers()
            .iter()
            .map(|reader| {
                let covering = reader
                    .inverted_index(self.fields.kind)?
                    .doc_freq(&area)
                    .context("counting a segment's area services")?;
                Ok(SegmentSize {
                    id: reader.segment_id(),
                    docs: reader.num_docs(),
                    covering,
                })
            })
            .collect()
    }

    fn analyzer(&self, name: &str) -> anyhow::Result<tantivy::tokenizer::TextAnalyzer> {
        self.index
            .tokenizers()
            .get(name)
            .with_context(|| format!("analyzer {name} is not registered"))
    }

    pub fn search(&self, req: &SearchRequest) -> anyhow::Result<SearchResults> {
        let mut en = self.analyzer(schema::EN)?;
        let mut raw = self.analyzer(schema::RAW)?;
        let searcher = self.reader.searcher();
        let common = |term: &Term| {
            searcher
                .doc_freq(term)
                .is_ok_and(|n| n >= query::COMMON_WORD_DOCS)
        };
        let (query, has_text) = query::build_query(req, &self.fields, &mut en, &mut raw, &common);
        let collector = query::SearchCollector::new(req, has_text, self.columns.clone());
        let on_this_thread = Executor::single_thread();
        let executor = if searcher.num_docs() >= self.parallel_from {
            searcher.index().search_executor()
        } else {
            &on_this_thread
        };
        let scoring = if collector.requires_scoring() {
            EnableScoring::enabled_from_searcher(&searcher)
        } else {
            EnableScoring::disabled_from_searcher(&searcher)
        };
        let fruit = searcher
            .search_with_executor(&query, &collector, executor, scoring)
            .context("running the search")?;
        let ranked: Ranked = query::page(fruit, req.offset, req.limit);

        let mut hits = Vec::with_capacity(ranked.hits.len());
        for hit in ranked.hits {
            let doc: TantivyDocument = searcher
                .doc(hit.address)
                .context("reading a stored result")?;
            let stored = doc
                .get_first(self.fields.doc)
                .and_then(|v| v.as_str())
                .unwrap_or("null");
            let opening = doc
                .get_first(self.fields.hours)
                .and_then(|v| v.as_str())
                .and_then(|h| serde_json::from_str::<Hours>(h).ok())
                .map(|h| h.opening(req.now, &req.holidays));
            let freshness = doc
                .get_first(self.fields.freshness)
                .and_then(|v| v.as_str())
                .and_then(|f| serde_json::from_str::<FreshnessFacts>(f).ok())
                .map(|facts| {
                    let policy = ReviewPolicy {
                        review_days: req.review_days,
                        grace_days: req.grace_days,
                    };
                    assess(&facts, req.now, policy)
                });
            let json = with_computed(stored, opening.as_ref(), freshness.as_ref());
            hits.push(SearchHit {
                service: RawValue::from_string(json).context("stored document is not JSON")?,
                distance_m: hit.distance_m.map(|d| d.round() as u32),
                matched_because: hit.reason.map(|r| match r {
                    MatchReason::WithinRadius => "within_radius",
                    MatchReason::CoversArea => "covers_area",
                }),
                covering_area: hit.covering_area,
                score: hit.score,
            });
        }

        let taxonomy = self.taxonomy();
        let tops = taxonomy.top_level_by_hash();
        let mut categories: Vec<FacetCount> = ranked
            .facets
            .iter()
            .filter_map(|(h, count)| {
                tops.get(h).map(|t| FacetCount {
                    slug: t.slug.clone(),
                    name: t.name.clone(),
                    count: *count,
                })
            })
            .collect();
        categories.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.slug.cmp(&b.slug)));
        Ok(SearchResults {
            hits,
            total: ranked.total,
            categories,
        })
    }

    /// Service names for typeahead: every typed word must start a word of
    /// the name (or a near miss of a whole word), best BM25 first.
    pub fn suggest_names(&self, text: &str, limit: usize) -> anyhow::Result<Vec<String>> {
        let mut raw = self.analyzer(schema::RAW)?;
        let mut words = Vec::new();
        let mut stream = raw.token_stream(text);
        while stream.advance() {
            words.push(stream.token().text.clone());
        }
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let f = self.fields;
        let clauses: Vec<(Occur, Box<dyn Query>)> = words
            .iter()
            .take(8)
            .map(|w| {
                let term = Term::from_field_text(f.raw, w);
                let options: Vec<(Occur, Box<dyn Query>)> = vec![
                    (
                        Occur::Should,
                        Box::new(BoostQuery::new(
                            Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs)),
                            2.0,
                        )),
                    ),
                    (
                        Occur::Should,
                        Box::new(FuzzyTermQuery::new_prefix(term.clone(), 0, true)),
                    ),
                    (
                        Occur::Should,
                        Box::new(BoostQuery::new(
                            Box::new(FuzzyTermQuery::new(term, 1, true)),
                            0.5,
                        )),
                    ),
                ];
                (
                    Occur::Must,
                    Box::new(BooleanQuery::new(options)) as Box<dyn Query>,
                )
            })
            .collect();
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let top = searcher.search(
            &query,
            &tantivy::collector::TopDocs::with_limit(limit * 5).order_by_score(),
        )?;
        let mut names: Vec<String> = Vec::new();
        for (_, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            let json = doc
                .get_first(f.doc)
                .and_then(|v| v.as_str())
                .unwrap_or("{}");
            let name = serde_json::from_str::<serde_json::Value>(json)
                .ok()
                .and_then(|v| v["name"].as_str().map(str::to_string));
            if let Some(name) = name {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        // The index matches words in names and in category names alike:
        // names that themselves start with, or have words starting with,
        // what was typed come first (stable, so score order holds within).
        let typed = text.trim().to_lowercase();
        names.sort_by_key(|name| {
            let lower = name.to_lowercase();
            let name_words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric()).collect();
            if lower.starts_with(&typed) {
                0
            } else if words
                .iter()
                .all(|w| name_words.iter().any(|n| n.starts_with(w.as_str())))
            {
                1
            } else {
                2
            }
        });
        names.truncate(limit);
        Ok(names)
    }
}
