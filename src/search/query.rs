//! Turning a search request into a tantivy query, and collecting results:
//! exact distances, the ranking blend, facets and the requested page.
//!
//! Ranking (sort=relevance) multiplies four factors, documented in
//! `docs/search.md`:
//! - text: BM25 over name (×3), categories/groups/organisation (×1.5) and
//!   description (×1), plus small constant bonuses for typo and prefix
//!   matches (a prefix that starts a word of the name counts twice); 1 when
//!   there are no keywords;
//! - place: for a location within the radius `1 / (1 + d / 2 km)`; for a
//!   service that only covers the searcher's area, a fixed factor by how
//!   specific that area is (council area or HSCP 0.45, health board 0.35,
//!   Scotland 0.25, UK 0.2); the better of the two; 1 without a point;
//! - freshness: `model::freshness::demotion` of the listing's state: 1
//!   fresh, 0.9 due for review, 0.6 overdue, 0.3 possibly closed, 0.2 closed
//!   (closed listings only appear with `include_closed`);
//! - ties are broken by id, so results are deterministic.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{BytesColumn, Cardinality, Column, StrColumn};
use tantivy::index::SegmentId;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, PhraseQuery, Query,
    TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader, Term};

use super::cells::{self, Bounds};
use super::schema::{self, hash, Fields, NO_TOP_CATEGORY};
use super::slots::{self, TimeFilter};
use super::summary::{self, FreshnessCutoffs};
use super::synonyms;
use super::term_bitset::TermBitsetQuery;
use crate::hours::HolidayCalendar;
use crate::model::enums::{AreaType, FreshnessState, ServiceStatus};
use crate::model::freshness::{demotion, ReviewPolicy};
use crate::model::opening::Hours;

/// Largest radius a search may ask for, in metres.
pub const MAX_RADIUS_M: f64 = 100_000.0;
pub const DEFAULT_RADIUS_M: f64 = 5_000.0;
/// Results beyond this many are not ranked (narrow the search instead).
pub const MAX_WINDOW: usize = 5_000;
/// Words of a query that are used; the rest are ignored.
const MAX_WORDS: usize = 12;
/// Names and categories that must use a word before its near-miss
/// spellings are no longer searched for (see `word_query`).
pub const COMMON_WORD_DOCS: u64 = 5;
/// Distance at which a local result's place factor halves.
const DISTANCE_HALF_M: f64 = 2_000.0;

/// Words that carry no meaning in a directory search; never required.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "or", "not", "the", "of", "for", "in", "on", "at", "to", "with", "near",
    "me", "my", "is", "are", "by", "from", "help", "service", "services",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocationScope {
    /// Services with a location within the radius.
    Local,
    /// Services with no location that cover the searcher's area.
    National,
    /// Either.
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Relevance,
    Distance,
    Name,
    RecentlyVerified,
}

/// A place to search around, with the coded areas it lies in.
#[derive(Debug, Clone)]
pub struct SearchPoint {
    pub latitude: f64,
    pub longitude: f64,
    /// Area codes containing the point and their types.
    pub areas: Vec<(String, AreaType)>,
}

/// A validated search.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub text: Option<String>,
    pub point: Option<SearchPoint>,
    pub radius_m: f64,
    /// Category slugs; a parent matches its descendants (indexed with ancestors).
    pub categories: Vec<String>,
    pub community_groups: Vec<String>,
    pub service_areas: Vec<String>,
    pub scope: LocationScope,
    pub statuses: Vec<ServiceStatus>,
    /// Keep overdue listings (demoted) rather than dropping them.
    pub include_stale: bool,
    /// Only these freshness states (empty: any).
    pub freshness: Vec<FreshnessState>,
    pub sort: SortOrder,
    pub offset: usize,
    pub limit: usize,
    pub now: DateTime<Utc>,
    pub review_days: i64,
    pub grace_days: i64,
    /// Attribute terms (`free`, `lang:pl`, `accessibility:hearing-loop`,
    /// `access:self_referral`, `delivery:phone`): every group must match,
    /// through any one of its terms.
    pub attributes: Vec<Vec<String>>,
    /// Ages of the people: the service's minimum-to-maximum range must
    /// overlap this one (a single age is `(a, a)`; a service without limits matches).
    pub ages: Option<(i64, i64)>,
    /// Only services changed after this instant.
    pub modified_after: Option<DateTime<Utc>>,
    pub time: Option<TimeFilter>,
    pub holidays: Arc<HolidayCalendar>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchReason {
    WithinRadius,
    CoversArea,
}

/// One ranked result, before its stored document is read.
#[derive(Debug, Clone)]
pub struct RankedHit {
    pub address: DocAddress,
    pub distance_m: Option<f64>,
    pub reason: Option<MatchReason>,
    pub covering_area: Option<String>,
    pub score: f32,
}

#[derive(Debug, Clone, Default)]
pub struct Ranked {
    pub hits: Vec<RankedHit>,
    pub total: usize,
    /// Hash of a top-level category slug → number of matching services.
    pub facets: HashMap<u64, usize>,
}

/// Builds the query: keywords must all match (each through its stem, a
/// synonym, a near-miss spelling or, for the last word, a prefix); filters
/// match without scoring.
pub fn build_query(
    req: &SearchRequest,
    f: &Fields,
    en: &mut TextAnalyzer,
    raw: &mut TextAnalyzer,
    common: &dyn Fn(&Term) -> bool,
) -> (Box<dyn Query>, bool) {
    let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let text = req
        .text
        .as_deref()
        .map(|t| text_query(t, f, en, raw, common))
        .unwrap_or(None);
    let has_text = text.is_some();
    if let Some(q) = text {
        must.push((Occur::Must, q));
    }
    let mut filters: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let terms = |field: Field, values: &[String]| -> Vec<Term> {
        values
            .iter()
            .map(|v| Term::from_field_text(field, v))
            .collect()
    };
    let any_of =
        |field: Field, values: &[String]| -> Box<dyn Query> { any_term(terms(field, values)) };
    // Nearly every service is active: excluding the rare other statuses is
    // far cheaper than intersecting with the postings of `active`.
    let excluded: Vec<String> = ServiceStatus::ALL
        .iter()
        .filter(|s| !req.statuses.contains(s))
        .map(|s| s.as_str().to_string())
        .collect();
    if req.statuses.contains(&ServiceStatus::Active) {
        if !excluded.is_empty() {
            filters.push((Occur::MustNot, any_of(f.status, &excluded)));
        }
    } else {
        let wanted: Vec<String> = req
            .statuses
            .iter()
            .map(|s| s.as_str().to_string())
            .collect();
        filters.push((Occur::Must, any_of(f.status, &wanted)));
    }
    if !req.categories.is_empty() {
        filters.push((Occur::Must, any_of(f.category, &req.categories)));
    }
    if !req.community_groups.is_empty() {
        filters.push((
            Occur::Must,
            any_of(f.community_group, &req.community_groups),
        ));
    }
    for group in &req.attributes {
        filters.push((Occur::Must, any_of(f.attr, group)));
    }
    if let Some(time) = &req.time {
        filters.push((Occur::Must, any_of(f.slot, &time.terms())));
    }
    if !req.service_areas.is_empty() {
        filters.push((Occur::Must, any_of(f.area, &req.service_areas)));
    }
    let local = || -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(f.kind, "local"),
            IndexRecordOption::Basic,
        ))
    };
    match (&req.point, req.scope) {
        (None, LocationScope::Local) => filters.push((Occur::Must, local())),
        (None, LocationScope::National) => {
            filters.push((Occur::Must, any_of(f.kind, &["area".to_string()])));
            filters.push((Occur::MustNot, local()));
        }
        (None, LocationScope::All) => {}
        (Some(p), scope) => {
            let cells: Vec<String> = cells::cells_covering(p.latitude, p.longitude, req.radius_m);
            let codes: Vec<String> = p.areas.iter().map(|(c, _)| c.clone()).collect();
            let near = terms(f.cell, &cells);
            let covers = terms(f.area, &codes);
            let place = match scope {
                LocationScope::Local => near,
                // Services with a location are dropped by the collector,
                // which has their points at hand anyway.
                LocationScope::National => covers,
                LocationScope::All => near.into_iter().chain(covers).collect(),
            };
            filters.push((Occur::Must, Box::new(TermBitsetQuery::new(place))));
        }
    }
    // A purely negative boolean query matches nothing: anchor it.
    if !filters.iter().any(|(occur, _)| *occur == Occur::Must) {
        filters.push((Occur::Must, Box::new(AllQuery)));
    }
    must.push((
        Occur::Must,
        Box::new(ConstScoreQuery::new(
            Box::new(BooleanQuery::new(filters)),
            0.0,
        )),
    ));
    (Box::new(BooleanQuery::new(must)), has_text)
}

/// A disjunction of term queries, for filters (rather than a TermSetQuery,
/// which builds an FST per query: more than the whole search costs here).
fn any_term(terms: Vec<Term>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(
        terms
            .into_iter()
            .map(|t| {
                let q: Box<dyn Query> = Box::new(TermQuery::new(t, IndexRecordOption::Basic));
                (Occur::Should, q)
            })
            .collect(),
    ))
}

fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

/// The keyword part. User text is only ever split into words: no query
/// syntax is parsed, so quotes, colons, brackets or AND cannot change it.
fn text_query(
    text: &str,
    f: &Fields,
    en: &mut TextAnalyzer,
    raw: &mut TextAnalyzer,
    common: &dyn Fn(&Term) -> bool,
) -> Option<Box<dyn Query>> {
    let words: Vec<String> = tokens(raw, text).into_iter().take(MAX_WORDS).collect();
    let trailing_space = text.ends_with(char::is_whitespace);
    let expansions = synonyms::expansions(&words);
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if let Some(e) = expansions.iter().find(|e| e.start == i) {
            let typing = i + e.len == words.len() && !trailing_space;
            // The words as typed keep their typo and prefix tolerance (a
            // phrase in names when several); every form of the group is
            // found through its concept term.
            let as_typed = match &words[i..i + e.len] {
                [one] => word_query(one, typing, f, en, common),
                many => phrase(many, &[(f.name, 3.0)], en, 1.0),
            };
            let concept = Term::from_field_text(f.concept, &synonyms::concept(e.group));
            let options: Vec<(Occur, Box<dyn Query>)> = vec![
                (Occur::Should, as_typed),
                (
                    Occur::Should,
                    boosted(
                        Box::new(TermQuery::new(concept, IndexRecordOption::WithFreqs)),
                        2.0,
                    ),
                ),
            ];
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(options))));
            i += e.len;
            continue;
        }
        let word = &words[i];
        let is_last = i + 1 == words.len();
        if STOP_WORDS.contains(&word.as_str()) && !(is_last && !trailing_space && words.len() == 1)
        {
            i += 1;
            continue;
        }
        clauses.push((
            Occur::Must,
            word_query(word, is_last && !trailing_space, f, en, common),
        ));
        i += 1;
    }
    if clauses.is_empty() {
        None
    } else {
        Some(Box::new(BooleanQuery::new(clauses)))
    }
}

fn boosted(q: Box<dyn Query>, boost: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(q, boost))
}

/// One word: its stem in each text field (BM25), a near-miss spelling and,
/// for the word being typed, a prefix (both constant-score and small, so an
/// exact match always ranks first).
fn word_query(
    word: &str,
    typing: bool,
    f: &Fields,
    en: &mut TextAnalyzer,
    common: &dyn Fn(&Term) -> bool,
) -> Box<dyn Query> {
    let mut options: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for stem in tokens(en, word) {
        for (field, boost) in [(f.name, 3.0), (f.topics, 1.5), (f.description, 1.0)] {
            let term = Term::from_field_text(field, &stem);
            options.push((
                Occur::Should,
                boosted(
                    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)),
                    boost,
                ),
            ));
        }
    }
    let chars = word.chars().count();
    let term = Term::from_field_text(f.raw, word);
    // A word that many names and categories already use is taken as
    // meant: its near misses ("walking" -> "talking") would only add
    // noise below the exact matches, and finding them walks the term
    // dictionary and marks a bitset over the whole index (a quarter of
    // the query mix's instructions at a million services).
    if chars >= 4 && !common(&term) {
        let distance = if chars >= 8 { 2 } else { 1 };
        options.push((
            Occur::Should,
            boosted(
                Box::new(FuzzyTermQuery::new(term.clone(), distance, true)),
                0.3,
            ),
        ));
    }
    if typing && chars >= 2 {
        options.push((
            Occur::Should,
            boosted(Box::new(FuzzyTermQuery::new_prefix(term, 0, true)), 0.3),
        ));
        // Again in the name alone: "wal" puts "Walking group" above a
        // service that is only in the Walking groups category.
        let in_name = Term::from_field_text(f.raw_name, word);
        options.push((
            Occur::Should,
            boosted(Box::new(FuzzyTermQuery::new_prefix(in_name, 0, true)), 0.3),
        ));
    }
    Box::new(BooleanQuery::new(options))
}

/// Words as a phrase (or a term when single) in each text field.
fn phrase(
    words: &[String],
    fields: &[(Field, f32)],
    en: &mut TextAnalyzer,
    boost: f32,
) -> Box<dyn Query> {
    let stems: Vec<String> = words.iter().flat_map(|w| tokens(en, w)).collect();
    let mut options: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for &(field, field_boost) in fields {
        let q: Box<dyn Query> = match stems.as_slice() {
            [] => continue,
            [one] => Box::new(TermQuery::new(
                Term::from_field_text(field, one),
                IndexRecordOption::WithFreqs,
            )),
            many => Box::new(PhraseQuery::new(
                many.iter()
                    .map(|s| Term::from_field_text(field, s))
                    .collect(),
            )),
        };
        options.push((Occur::Should, boosted(q, field_boost * boost)));
    }
    Box::new(BooleanQuery::new(options))
}

/// How much a service that only covers the searcher's area counts, by how
/// specific the area is.
pub fn area_factor(area_type: AreaType) -> f64 {
    match area_type {
        AreaType::CouncilArea | AreaType::Hscp => 0.45,
        AreaType::HealthBoard => 0.35,
        AreaType::Country => 0.25,
        AreaType::Uk => 0.2,
    }
}

pub fn distance_factor(distance_m: f64) -> f64 {
    1.0 / (1.0 + distance_m / DISTANCE_HALF_M)
}

/// Everything the per-segment collectors share.
struct Context {
    point: Option<(f64, f64)>,
    radius_m: f64,
    /// Latitude and longitude bounds of the radius circle: points outside
    /// them are rejected before an exact distance is computed.
    bounds: Option<Bounds>,
    /// The coded areas containing the point (a handful: a list beats a map).
    areas: Vec<SearchArea>,
    scope: LocationScope,
    sort: SortOrder,
    window: usize,
    freshness_at: FreshnessCutoffs,
    include_stale: bool,
    freshness: Vec<FreshnessState>,
    use_text_score: bool,
    ages: Option<(i64, i64)>,
    modified_after_micros: Option<i64>,
    time: Option<TimeFilter>,
    holidays: Arc<HolidayCalendar>,
    /// Hashes of the accessibility features asked for: distances are to
    /// the locations that have them all.
    features: Vec<u64>,
}

struct SearchArea {
    /// `schema::hash` of the code, as in the `area_hash` fast field.
    hash: u64,
    factor: f64,
    code: String,
}

pub struct SearchCollector {
    ctx: Arc<Context>,
    columns: Arc<ColumnCache>,
}

impl SearchCollector {
    pub fn new(req: &SearchRequest, use_text_score: bool, columns: Arc<ColumnCache>) -> Self {
        let areas = req
            .point
            .iter()
            .flat_map(|p| p.areas.iter())
            .map(|(code, t)| SearchArea {
                hash: hash(code),
                factor: area_factor(*t),
                code: code.clone(),
            })
            .collect();
        let point = req.point.as_ref().map(|p| (p.latitude, p.longitude));
        SearchCollector {
            ctx: Arc::new(Context {
                point,
                radius_m: req.radius_m,
                bounds: point.map(|origin| Bounds::around(origin, req.radius_m)),
                areas,
                scope: req.scope,
                sort: req.sort,
                window: (req.offset + req.limit).min(MAX_WINDOW),
                freshness_at: FreshnessCutoffs::new(
                    req.now,
                    ReviewPolicy {
                        review_days: req.review_days,
                        grace_days: req.grace_days,
                    },
                ),
                include_stale: req.include_stale,
                freshness: req.freshness.clone(),
                use_text_score,
                ages: req.ages,
                modified_after_micros: req.modified_after.map(|t| t.timestamp_micros()),
                time: req.time,
                holidays: req.holidays.clone(),
                features: req
                    .attributes
                    .iter()
                    .filter_map(|group| match group.as_slice() {
                        [one] => one.strip_prefix("accessibility:").map(hash),
                        _ => None,
                    })
                    .collect(),
            }),
            columns,
        }
    }
}

/// A single-valued u64 fast field. When every document has a value (the
/// usual case) it is read straight from the values, skipping the column
/// index; otherwise 0 stands for a missing value.
struct Single {
    column: Column<u64>,
    full: bool,
}

impl Single {
    fn new(column: Column<u64>) -> Self {
        let full = column.get_cardinality() == Cardinality::Full;
        Single { column, full }
    }

    /// The values of a block of documents, into `out`.
    fn read(&self, docs: &[DocId], out: &mut Vec<u64>) {
        out.clear();
        if self.full {
            out.resize(docs.len(), 0);
            self.column.values.get_vals(docs, out);
        } else {
            out.extend(docs.iter().map(|&doc| self.column.first(doc).unwrap_or(0)));
        }
    }
}

/// A candidate in the top-k heap: ordered so the worst is on top.
#[derive(Debug, Clone)]
pub struct Candidate {
    key: u64,
    id: u128,
    hit: RankedHit,
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Candidate {}
impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Candidate {
    /// Smaller key is better; ties go to the smaller id.
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key).then(self.id.cmp(&other.id))
    }
}

/// Best candidates (at most the window), how many matched, facet counts.
pub type Harvest = (Vec<Candidate>, usize, Vec<(u64, usize)>);

/// A segment's fast-field columns. Opening them reads their headers (and
/// for some codecs a table per block of documents), which costs more than
/// a narrow search: they are opened once per segment and shared.
pub struct SegmentColumns {
    summary: Single,
    point: Single,
    more_points: Column<u64>,
    point_features: Option<BytesColumn>,
    area_hash: Column<u64>,
    /// Term ordinals of the first top-level category (`None` when no
    /// document in the segment has one).
    top_category: Option<StrColumn>,
    top_full: bool,
    more_tops: Column<u64>,
    verified_at: Column<i64>,
    updated_at: Column<i64>,
    id_hi: Single,
    id_lo: Single,
    name_key: Column<u64>,
    hours_blob: Option<BytesColumn>,
}

impl SegmentColumns {
    fn open(reader: &SegmentReader) -> tantivy::Result<Self> {
        let ff = reader.fast_fields();
        let top_category = ff.str("top_category")?;
        Ok(SegmentColumns {
            summary: Single::new(ff.u64("summary")?),
            point: Single::new(ff.u64("point")?),
            more_points: ff.u64("more_points")?,
            point_features: ff.bytes("point_features")?,
            area_hash: ff.u64("area_hash")?,
            top_full: top_category
                .as_ref()
                .is_some_and(|c| c.ords().get_cardinality() == Cardinality::Full),
            top_category,
            more_tops: ff.u64("more_tops")?,
            verified_at: ff.i64("verified_at")?,
            updated_at: ff.i64("updated_at")?,
            id_hi: Single::new(ff.u64("id_hi")?),
            id_lo: Single::new(ff.u64("id_lo")?),
            name_key: ff.u64("name_key")?,
            hours_blob: ff.bytes("hours_blob")?,
        })
    }
}

/// Open columns by segment, for the segments being searched. Segments are
/// immutable (deletes do not touch fast fields), so an entry stays valid
/// until its segment is merged away; `retain` then drops it.
#[derive(Default)]
pub struct ColumnCache {
    segments: Mutex<HashMap<SegmentId, Arc<SegmentColumns>>>,
}

impl ColumnCache {
    fn columns(&self, reader: &SegmentReader) -> tantivy::Result<Arc<SegmentColumns>> {
        let id = reader.segment_id();
        if let Some(found) = self.lock().get(&id) {
            return Ok(found.clone());
        }
        // Opened outside the lock: two searches may both open a new
        // segment's columns once; either copy is right.
        let opened = Arc::new(SegmentColumns::open(reader)?);
        self.lock().insert(id, opened.clone());
        Ok(opened)
    }

    /// Forgets every segment but these (the ones now searched).
    pub fn retain(&self, live: &[SegmentId]) {
        self.lock().retain(|id, _| live.contains(id));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SegmentId, Arc<SegmentColumns>>> {
        // A panic while holding the lock leaves the map itself intact.
        self.segments.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Matches are handled in blocks of this many. Each column is read for a
/// whole block in one pass, so the memory reads overlap instead of each
/// waiting on the last: at a million services a broad search spent most of
/// its time waiting on column reads made one document at a time.
const BLOCK: usize = 64;

/// A match that passed every check, before its place in the ranking is known.
struct Match {
    doc: DocId,
    summary: u64,
    key: u64,
    distance_m: Option<f64>,
    reason: Option<MatchReason>,
    /// Index in `Context::areas` of the area it matched through.
    covering_area: Option<usize>,
    score: f32,
}

/// Space reused from block to block.
#[derive(Default)]
struct Scratch {
    summaries: Vec<u64>,
    points: Vec<u64>,
    matches: Vec<Match>,
    docs: Vec<DocId>,
    values: Vec<u64>,
    more_values: Vec<u64>,
}

pub struct SegmentSearch {
    ctx: Arc<Context>,
    segment: SegmentOrdinal,
    cols: Arc<SegmentColumns>,
    /// Matches per top-level category ordinal.
    top_counts: Vec<usize>,
    heap: BinaryHeap<Candidate>,
    total: usize,
    facets: Vec<(u64, usize)>,
    /// Whether the timetable with this `hours_blob` ordinal is open at
    /// the searched time (see `open`).
    exact_open: RefCell<HashMap<u64, bool>>,
    /// Scored matches arrive one at a time: they wait here for a block.
    pending_docs: Vec<DocId>,
    pending_scores: Vec<Score>,
    scratch: Scratch,
}

impl Collector for SearchCollector {
    type Fruit = Harvest;
    type Child = SegmentSearch;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentSearch> {
        let cols = self.columns.columns(reader)?;
        Ok(SegmentSearch {
            ctx: self.ctx.clone(),
            segment,
            top_counts: vec![0; cols.top_category.as_ref().map_or(0, |c| c.num_terms())],
            cols,
            heap: BinaryHeap::new(),
            total: 0,
            facets: Vec::new(),
            exact_open: RefCell::default(),
            pending_docs: Vec::with_capacity(BLOCK),
            pending_scores: Vec::with_capacity(BLOCK),
            scratch: Scratch::default(),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.ctx.use_text_score
    }

    fn merge_fruits(&self, fruits: Vec<Harvest>) -> tantivy::Result<Harvest> {
        let mut all = Vec::new();
        let mut total = 0;
        let mut facets: HashMap<u64, usize> = HashMap::new();
        for (candidates, count, seg_facets) in fruits {
            all.extend(candidates);
            total += count;
            for (k, v) in seg_facets {
                *facets.entry(k).or_default() += v;
            }
        }
        all.sort();
        all.truncate(self.ctx.window);
        Ok((all, total, facets.into_iter().collect()))
    }
}

impl SegmentSearch {
    fn eligible(&self, doc: DocId, summary: u64) -> bool {
        if let Some(after) = self.ctx.modified_after_micros {
            if self.cols.updated_at.first(doc).unwrap_or(0) <= after {
                return false;
            }
        }
        match self.ctx.ages {
            Some((youngest, oldest)) => summary::ages_overlap(summary, youngest, oldest),
            None => true,
        }
    }

    /// Candidates came from slot terms; most are exact already. Services
    /// flagged for it are checked against their full timetable, and on a
    /// public holiday those that close for holidays drop out.
    fn open(&self, doc: DocId, summary: u64) -> bool {
        let Some(time) = &self.ctx.time else {
            return true;
        };
        let flags = summary::hours_flags(summary);
        if flags & slots::NEEDS_EXACT != 0 {
            // Timetables are stored once per distinct value (services often
            // share one): each is parsed and checked once per search.
            let Some(ord) = self.hours_ord(doc) else {
                return false;
            };
            if let Some(&open) = self.exact_open.borrow().get(&ord) {
                return open;
            }
            let open = self
                .hours(ord)
                .is_some_and(|hours| time.exact(&hours, &self.ctx.holidays));
            self.exact_open.borrow_mut().insert(ord, open);
            return open;
        }
        !matches!(time, TimeFilter::At { holiday: true, .. })
            || flags & slots::CLOSED_ON_HOLIDAYS == 0
    }

    /// Metres to the nearest of the service's points (`first` is the value
    /// of its `point` column), if it has any. With `bounded`, points
    /// outside the search's bounds count as infinitely far (they cannot be
    /// within the radius) without computing a distance.
    fn nearest(
        &self,
        doc: DocId,
        summary: u64,
        first: u64,
        origin: (f64, f64),
        bounded: bool,
    ) -> Option<f64> {
        if first == 0 {
            return None;
        }
        let distance = |packed: u64| {
            let point = cells::unpack(packed);
            match &self.ctx.bounds {
                Some(b) if bounded && !b.contains(point) => f64::INFINITY,
                _ => cells::distance_m(origin, point),
            }
        };
        if !self.ctx.features.is_empty() && summary & summary::MIXED_ACCESS != 0 {
            // Only the locations with the features asked for count.
            let bytes = self.point_features(doc)?;
            return schema::points_with_features(&bytes, &self.ctx.features)
                .map(distance)
                .min_by(f64::total_cmp);
        }
        let mut nearest = distance(first);
        if summary & summary::MORE_POINTS != 0 {
            for packed in self.cols.more_points.values_for_doc(doc) {
                nearest = nearest.min(distance(packed));
            }
        }
        Some(nearest)
    }

    fn point_features(&self, doc: DocId) -> Option<Vec<u8>> {
        let column = self.cols.point_features.as_ref()?;
        let ord = column.term_ords(doc).next()?;
        let mut bytes = Vec::new();
        column.ord_to_bytes(ord, &mut bytes).ok()?;
        Some(bytes)
    }

    fn hours_ord(&self, doc: DocId) -> Option<u64> {
        self.cols.hours_blob.as_ref()?.term_ords(doc).next()
    }

    fn hours(&self, ord: u64) -> Option<Hours> {
        let column = self.cols.hours_blob.as_ref()?;
        let mut bytes = Vec::new();
        column.ord_to_bytes(ord, &mut bytes).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Hands the waiting scored matches over as a block.
    fn flush(&mut self) {
        if self.pending_docs.is_empty() {
            return;
        }
        let docs = std::mem::take(&mut self.pending_docs);
        let scores = std::mem::take(&mut self.pending_scores);
        self.handle_block(&docs, Some(&scores));
        self.pending_docs = docs;
        self.pending_docs.clear();
        self.pending_scores = scores;
        self.pending_scores.clear();
    }

    /// Checks, counts and ranks a block of matching documents (`scores`
    /// only when text is scored).
    fn handle_block(&mut self, docs: &[DocId], scores: Option<&[Score]>) {
        let ctx = self.ctx.clone();
        let mut s = std::mem::take(&mut self.scratch);
        self.cols.summary.read(docs, &mut s.summaries);
        if ctx.point.is_some() {
            self.cols.point.read(docs, &mut s.points);
        } else {
            s.points.clear();
        }
        s.matches.clear();
        for (i, &doc) in docs.iter().enumerate() {
            let score = scores.and_then(|s| s.get(i)).copied().unwrap_or(0.0);
            let first_point = s.points.get(i).copied().unwrap_or(0);
            if let Some(found) = self.assess(&ctx, doc, s.summaries[i], first_point, score) {
                s.matches.push(found);
            }
        }
        self.total += s.matches.len();
        self.count_facets(&s.matches, &mut s.docs, &mut s.values);
        self.rank(
            &ctx,
            &s.matches,
            &mut s.docs,
            &mut s.values,
            &mut s.more_values,
        );
        self.scratch = s;
    }

    /// Whether a document matches everything the query's terms could not
    /// decide (freshness, radius, area, ages, opening), and how it ranks.
    fn assess(
        &self,
        ctx: &Context,
        doc: DocId,
        summary: u64,
        first_point: u64,
        score: Score,
    ) -> Option<Match> {
        let freshness = ctx.freshness_at.state(summary);
        if !ctx.include_stale && freshness == FreshnessState::Overdue {
            return None;
        }
        if !ctx.freshness.is_empty() && !ctx.freshness.contains(&freshness) {
            return None;
        }
        let mut distance_m = None;
        let mut reason = None;
        let mut covering_area = None;
        let mut place = 1.0;
        if let Some(origin) = ctx.point {
            let nearest = self.nearest(doc, summary, first_point, origin, true);
            let within = nearest.is_some_and(|d| d <= ctx.radius_m);
            if !within && ctx.scope == LocationScope::Local {
                return None;
            }
            let best_area = match ctx.scope {
                LocationScope::Local => None,
                _ => best_area(ctx, &self.cols, doc, summary),
            };
            let matched = match ctx.scope {
                LocationScope::Local => within,
                LocationScope::National => best_area.is_some() && nearest.is_none(),
                LocationScope::All => within || best_area.is_some(),
            };
            if !matched {
                return None;
            }
            distance_m = if within {
                nearest
            } else {
                // Matched through an area: its real distance, for display.
                self.nearest(doc, summary, first_point, origin, false)
            };
            let local_factor = match distance_m {
                Some(d) if within => distance_factor(d),
                _ => 0.0,
            };
            let area = best_area.map_or(0.0, |a| ctx.areas[a].factor);
            if within && local_factor >= area {
                reason = Some(MatchReason::WithinRadius);
                place = local_factor;
            } else if let Some(best) = best_area {
                reason = Some(MatchReason::CoversArea);
                covering_area = Some(best);
                place = ctx.areas[best].factor;
            }
        }
        // After the place test, which rejects most candidates of a local
        // search; the opening-hours check can mean reading a timetable.
        if !self.eligible(doc, summary) || !self.open(doc, summary) {
            return None;
        }

        let text = if ctx.use_text_score {
            f64::from(score)
        } else {
            1.0
        };
        let final_score = text * place * demotion(freshness);
        let key = match ctx.sort {
            SortOrder::Relevance => u64::MAX - u64::from((final_score as f32).max(0.0).to_bits()),
            SortOrder::Distance => match (reason, distance_m) {
                (Some(MatchReason::WithinRadius), Some(d)) => (d * 10.0) as u64,
                // Area-only matches follow every local one, most specific area first.
                _ => (1u64 << 62) + ((1.0 - place) * 1_000.0) as u64,
            },
            SortOrder::Name => self.cols.name_key.first(doc).unwrap_or(0),
            SortOrder::RecentlyVerified => {
                u64::MAX - (self.cols.verified_at.first(doc).unwrap_or(0).max(0) as u64)
            }
        };
        Some(Match {
            doc,
            summary,
            key,
            distance_m,
            reason,
            covering_area,
            score: final_score as f32,
        })
    }

    /// Adds a block's matches to the top-level category counts.
    fn count_facets(&mut self, matches: &[Match], docs: &mut Vec<DocId>, ords: &mut Vec<u64>) {
        if let Some(tops) = &self.cols.top_category {
            docs.clear();
            docs.extend(matches.iter().map(|m| m.doc));
            let column = tops.ords();
            if self.cols.top_full {
                ords.clear();
                ords.resize(docs.len(), 0);
                column.values.get_vals(docs, ords);
            } else {
                ords.clear();
                ords.extend(docs.iter().filter_map(|&doc| column.first(doc)));
            }
            for &ord in ords.iter() {
                if let Some(count) = self.top_counts.get_mut(ord as usize) {
                    *count += 1;
                }
            }
        }
        for found in matches
            .iter()
            .filter(|m| m.summary & summary::MORE_TOPS != 0)
        {
            for more in self.cols.more_tops.values_for_doc(found.doc) {
                add_facet(&mut self.facets, more, 1);
            }
        }
    }

    /// Offers a block's matches to the top-k heap.
    fn rank(
        &mut self,
        ctx: &Context,
        matches: &[Match],
        docs: &mut Vec<DocId>,
        id_hi: &mut Vec<u64>,
        id_lo: &mut Vec<u64>,
    ) {
        if ctx.window == 0 {
            return;
        }
        // Most matches cannot enter a full heap: they are set aside on the
        // key alone, before their ids are read.
        let bar = match self.heap.peek() {
            Some(worst) if self.heap.len() >= ctx.window => Some(worst.key),
            _ => None,
        };
        let hopeful = |m: &&Match| bar.is_none_or(|worst| m.key <= worst);
        docs.clear();
        docs.extend(matches.iter().filter(hopeful).map(|m| m.doc));
        if docs.is_empty() {
            return;
        }
        self.cols.id_hi.read(docs, id_hi);
        self.cols.id_lo.read(docs, id_lo);
        for (i, found) in matches.iter().filter(hopeful).enumerate() {
            let id = (u128::from(id_hi[i]) << 64) | u128::from(id_lo[i]);
            let full = self.heap.len() >= ctx.window;
            if full
                && self
                    .heap
                    .peek()
                    .is_some_and(|worst| (found.key, id) >= (worst.key, worst.id))
            {
                continue;
            }
            if full {
                self.heap.pop();
            }
            self.heap.push(Candidate {
                key: found.key,
                id,
                hit: RankedHit {
                    address: DocAddress::new(self.segment, found.doc),
                    distance_m: found.distance_m,
                    reason: found.reason,
                    covering_area: found.covering_area.map(|a| ctx.areas[a].code.clone()),
                    score: found.score,
                },
            });
        }
    }
}

impl SegmentCollector for SegmentSearch {
    type Fruit = Harvest;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.pending_docs.push(doc);
        self.pending_scores.push(score);
        if self.pending_docs.len() >= BLOCK {
            self.flush();
        }
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        self.flush();
        for block in docs.chunks(BLOCK) {
            self.handle_block(block, None);
        }
    }

    fn harvest(mut self) -> Self::Fruit {
        self.flush();
        if let Some(tops) = &self.cols.top_category {
            let mut slug = String::new();
            for (ord, &count) in self.top_counts.iter().enumerate() {
                if count > 0
                    && tops.ord_to_str(ord as u64, &mut slug).unwrap_or(false)
                    && slug != NO_TOP_CATEGORY
                {
                    add_facet(&mut self.facets, hash(&slug), count);
                }
            }
        }
        (self.heap.into_vec(), self.total, self.facets)
    }
}

/// The most specific of the searcher's areas that the service covers, as
/// an index in `Context::areas`.
fn best_area(ctx: &Context, cols: &SegmentColumns, doc: DocId, summary: u64) -> Option<usize> {
    if summary & summary::HAS_AREAS == 0 {
        return None;
    }
    cols.area_hash
        .values_for_doc(doc)
        .filter_map(|h| ctx.areas.iter().position(|a| a.hash == h))
        .max_by(|&a, &b| ctx.areas[a].factor.total_cmp(&ctx.areas[b].factor))
}

/// A handful of top-level categories: a linear scan beats hashing.
fn add_facet(facets: &mut Vec<(u64, usize)>, top: u64, count: usize) {
    match facets.iter_mut().find(|(h, _)| *h == top) {
        Some((_, n)) => *n += count,
        None => facets.push((top, count)),
    }
}

/// Applies the page window to merged candidates.
pub fn page(fruit: Harvest, offset: usize, limit: usize) -> Ranked {
    let (candidates, total, facets) = fruit;
    Ranked {
        hits: candidates
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|c| c.hit)
            .collect(),
        total,
        facets: facets.into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_helpline_does_not_bury_the_group_round_the_corner() {
        // Equal text scores: a local group 1 km away beats a Scotland-wide service.
        assert!(distance_factor(1_000.0) > area_factor(AreaType::Country));
        // A council-wide service ranks like a local group about 2.4 km away.
        assert!(distance_factor(2_000.0) > area_factor(AreaType::CouncilArea));
        assert!(distance_factor(3_000.0) < area_factor(AreaType::CouncilArea));
        assert!(area_factor(AreaType::CouncilArea) > area_factor(AreaType::HealthBoard));
        assert!(area_factor(AreaType::HealthBoard) > area_factor(AreaType::Country));
        assert!(area_factor(AreaType::Country) > area_factor(AreaType::Uk));
    }
}
