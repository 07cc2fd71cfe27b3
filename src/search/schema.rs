//! The index schema, its analyzers, and how a service becomes a document.

use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STORED, STRING,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    TextAnalyzer, TokenStream,
};
use tantivy::{Index, TantivyDocument};

use super::{cells, slots, summary, synonyms};
use crate::model::enums::{LocationType, ServiceStatus};
use crate::model::freshness::Signals;
use crate::model::opening::Hours;
use crate::model::read::{Service, TermRef};

/// `top_category` of a service without categories (never a slug: slugs
/// do not start with a hyphen).
pub const NO_TOP_CATEGORY: &str = "-";

/// Bump when the schema or document building changes: the index is rebuilt.
pub const SCHEMA_VERSION: u32 = 11;

/// English: lower case, ASCII folding, Porter-style stemming.
pub const EN: &str = "signpost_en";
/// Same without stemming: for typo tolerance and typeahead prefixes.
pub const RAW: &str = "signpost_raw";

#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub id_hi: Field,
    pub id_lo: Field,
    pub name: Field,
    pub description: Field,
    pub topics: Field,
    pub raw: Field,
    /// The name alone, unstemmed: a word being typed that starts a word of
    /// the name ranks above one that only starts a category's word.
    pub raw_name: Field,
    pub category: Field,
    pub community_group: Field,
    pub area: Field,
    pub status: Field,
    pub kind: Field,
    pub cell: Field,
    /// The first located point (`cells::pack`; 0 when none).
    pub point: Field,
    /// Every further point, for services at several places.
    pub more_points: Field,
    /// Each point with its accessibility features (`point_features`), for
    /// services whose locations differ in them.
    pub point_features: Field,
    pub area_hash: Field,
    /// Slug of the first top-level category, as a dictionary-encoded
    /// column: a few bits per document where a hash took 64.
    pub top_category: Field,
    /// Hashes of further top-level categories.
    pub more_tops: Field,
    pub verified_at: Field,
    /// Last change (microseconds), for `modified_after`.
    pub updated_at: Field,
    /// Freshness, hours flags and ages packed into one value (`summary`).
    pub summary: Field,
    /// The listing's `FreshnessFacts` as JSON, for the `freshness` block of results.
    pub freshness: Field,
    pub name_key: Field,
    pub doc: Field,
    pub slot: Field,
    pub attr: Field,
    pub hours_blob: Field,
    pub hours: Field,
    pub concept: Field,
}

pub fn build_schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |analyzer: &str| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(analyzer)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
    };
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        id_hi: b.add_u64_field("id_hi", FAST),
        id_lo: b.add_u64_field("id_lo", FAST),
        name: b.add_text_field("name", text(EN)),
        description: b.add_text_field("description", text(EN)),
        topics: b.add_text_field("topics", text(EN)),
        raw: b.add_text_field("raw", text(RAW)),
        raw_name: b.add_text_field(
            "raw_name",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(RAW)
                    .set_index_option(IndexRecordOption::Basic),
            ),
        ),
        category: b.add_text_field("category", STRING),
        community_group: b.add_text_field("community_group", STRING),
        area: b.add_text_field("area", STRING),
        status: b.add_text_field("status", STRING),
        kind: b.add_text_field("kind", STRING),
        cell: b.add_text_field("cell", STRING),
        point: b.add_u64_field("point", FAST),
        more_points: b.add_u64_field("more_points", FAST),
        point_features: b.add_bytes_field("point_features", FAST),
        area_hash: b.add_u64_field("area_hash", FAST),
        top_category: b.add_text_field("top_category", FAST),
        more_tops: b.add_u64_field("more_tops", FAST),
        verified_at: b.add_i64_field("verified_at", FAST | INDEXED),
        updated_at: b.add_i64_field("updated_at", FAST),
        summary: b.add_u64_field("summary", FAST),
        freshness: b.add_text_field("freshness", STORED),
        name_key: b.add_u64_field("name_key", FAST),
        doc: b.add_text_field("doc", STORED),
        slot: b.add_text_field("slot", STRING),
        attr: b.add_text_field("attr", STRING),
        hours_blob: b.add_bytes_field("hours_blob", FAST),
        hours: b.add_text_field("hours", STORED),
        concept: b.add_text_field("concept", STRING),
    };
    (b.build(), fields)
}

/// The fields of an opened index, by name.
pub fn fields_of(schema: &Schema) -> tantivy::Result<Fields> {
    let f = |name: &str| schema.get_field(name);
    Ok(Fields {
        id: f("id")?,
        id_hi: f("id_hi")?,
        id_lo: f("id_lo")?,
        name: f("name")?,
        description: f("description")?,
        topics: f("topics")?,
        raw: f("raw")?,
        raw_name: f("raw_name")?,
        category: f("category")?,
        community_group: f("community_group")?,
        area: f("area")?,
        status: f("status")?,
        kind: f("kind")?,
        cell: f("cell")?,
        point: f("point")?,
        more_points: f("more_points")?,
        point_features: f("point_features")?,
        area_hash: f("area_hash")?,
        top_category: f("top_category")?,
        more_tops: f("more_tops")?,
        verified_at: f("verified_at")?,
        updated_at: f("updated_at")?,
        summary: f("summary")?,
        freshness: f("freshness")?,
        name_key: f("name_key")?,
        doc: f("doc")?,
        slot: f("slot")?,
        attr: f("attr")?,
        hours_blob: f("hours_blob")?,
        hours: f("hours")?,
        concept: f("concept")?,
    })
}

pub fn register_analyzers(index: &Index) {
    let en = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::English))
        .build();
    let raw = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build();
    index.tokenizers().register(EN, en);
    index.tokenizers().register(RAW, raw);
}

/// Stable 64-bit hash (FNV-1a) for codes and slugs kept in fast fields.
pub fn hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// First 8 bytes of the folded, lower-cased name as a big-endian number, so
/// numeric order is alphabetical order (ties fall back to id).
pub fn name_key(name: &str) -> u64 {
    let mut bytes = [0u8; 8];
    for (slot, b) in bytes.iter_mut().zip(fold(name).bytes()) {
        *slot = b;
    }
    u64::from_be_bytes(bytes)
}

/// What the index needs to know about the taxonomy beyond a service's own terms.
pub trait TermLookup {
    /// The term and its ancestors, nearest first.
    fn with_ancestors(&self, term: &TermRef) -> Vec<TermRef>;
}

/// Builds the document for a service. Freshness is not baked in: it is
/// computed at query time from `verified_at`, so ageing needs no reindex.
pub fn document(f: &Fields, service: &Service, terms: &dyn TermLookup) -> TantivyDocument {
    let mut d = TantivyDocument::default();
    let id = service.id;
    let (hi, lo) = id.as_u64_pair();
    d.add_text(f.id, id.to_string());
    d.add_u64(f.id_hi, hi);
    d.add_u64(f.id_lo, lo);
    d.add_text(f.name, &service.name);
    d.add_text(f.description, &service.description);
    d.add_text(f.raw, &service.name);
    d.add_text(f.raw_name, &service.name);
    d.add_text(f.topics, &service.organisation.name);

    // Each top-level category once, so a facet counts services, not the
    // categories a service has under it.
    let mut tops = Vec::new();
    for cat in &service.categories {
        let lineage = terms.with_ancestors(cat);
        for t in &lineage {
            d.add_text(f.category, &t.slug);
            d.add_text(f.topics, &t.name);
            d.add_text(f.raw, &t.name);
        }
        if let Some(top) = lineage.last() {
            if !tops.contains(&top.slug) {
                tops.push(top.slug.clone());
            }
        }
    }
    // Every document gets a value, so the column is read directly rather
    // than through an index of which documents have one.
    d.add_text(
        f.top_category,
        tops.first().map_or(NO_TOP_CATEGORY, String::as_str),
    );
    for top in tops.iter().skip(1) {
        d.add_u64(f.more_tops, hash(top));
    }
    for group in &service.community_groups {
        d.add_text(f.community_group, &group.slug);
        d.add_text(f.topics, &group.name);
    }
    for area in &service.service_areas {
        d.add_text(f.area, &area.code);
        d.add_u64(f.area_hash, hash(&area.code));
    }
    d.add_text(f.status, service.status.as_str());

    let mut points = Vec::new();
    for loc in service
        .locations
        .iter()
        .filter(|l| l.archived_at.is_none() && l.location_type == LocationType::Physical)
    {
        if let (Some(lat), Some(lon)) = (loc.latitude, loc.longitude) {
            points.push(cells::pack(lat, lon));
            for cell in cells::cells_for_point(lat, lon) {
                d.add_text(f.cell, cell);
            }
        }
    }
    d.add_u64(f.point, points.first().copied().unwrap_or(0));
    for &point in points.iter().skip(1) {
        d.add_u64(f.more_points, point);
    }
    if !points.is_empty() {
        d.add_text(f.kind, "local");
    }
    let mixed_access = add_point_features(f, service, &mut d);
    if !service.service_areas.is_empty() {
        d.add_text(f.kind, "area");
    }
    let hours_flags = add_hours_and_eligibility(f, service, &mut d);
    add_concepts(f, service, &mut d);
    d.add_i64(
        f.verified_at,
        service.last_verified_at.map(|t| t.timestamp()).unwrap_or(0),
    );
    let facts = service.freshness_facts();
    d.add_i64(f.updated_at, service.updated_at.timestamp_micros());
    d.add_u64(
        f.summary,
        summary::pack(&summary::Facts {
            last_verified_at: facts.last_verified_at,
            created_at: facts.created_at,
            fresh_bits: fresh_bits(&Signals::of(&facts)),
            hours_flags,
            minimum_age: service.eligibility.minimum_age,
            maximum_age: service.eligibility.maximum_age,
            more_points: points.len() > 1,
            more_tops: tops.len() > 1,
            has_areas: !service.service_areas.is_empty(),
            mixed_access,
        }),
    );
    d.add_text(
        f.freshness,
        serde_json::to_string(&facts).unwrap_or_default(),
    );
    d.add_u64(f.name_key, name_key(&service.name));
    d.add_text(f.doc, serde_json::to_string(service).unwrap_or_default());
    d
}

/// Where a service's locations differ in accessibility features, a search
/// for a feature must measure only to the locations that have it: each
/// located point is stored with the hashes of its features. Returns whether
/// they differ (the only case that needs the list).
fn add_point_features(f: &Fields, service: &Service, d: &mut TantivyDocument) -> bool {
    let live: Vec<_> = service
        .locations
        .iter()
        .filter(|l| l.archived_at.is_none())
        .collect();
    let feature_hashes = |l: &crate::model::read::Location| -> Vec<u64> {
        let mut hashes: Vec<u64> = l.accessibility.iter().map(|t| hash(&t.slug)).collect();
        hashes.sort_unstable();
        hashes
    };
    let first = live.first().map(|l| feature_hashes(l));
    if live.iter().all(|l| Some(feature_hashes(l)) == first) {
        return false;
    }
    let located = live
        .iter()
        .filter(|l| l.location_type == LocationType::Physical);
    let points = located.filter_map(|l| {
        let (lat, lon) = (l.latitude?, l.longitude?);
        Some((cells::pack(lat, lon), feature_hashes(l)))
    });
    d.add_bytes(f.point_features, &encode_point_features(points));
    true
}

/// `point_features` layout: for each point, its packed position, the
/// number of features and their hashes, as little-endian u64s.
pub fn encode_point_features(points: impl Iterator<Item = (u64, Vec<u64>)>) -> Vec<u8> {
    let mut bytes = Vec::new();
    for (point, features) in points {
        bytes.extend(point.to_le_bytes());
        bytes.extend((features.len() as u64).to_le_bytes());
        for feature in features {
            bytes.extend(feature.to_le_bytes());
        }
    }
    bytes
}

/// The points of a `point_features` value that have every one of
/// `wanted` (feature hashes).
pub fn points_with_features<'a>(
    bytes: &'a [u8],
    wanted: &'a [u64],
) -> impl Iterator<Item = u64> + 'a {
    let mut words = bytes
        .chunks_exact(8)
        .map(|w| u64::from_le_bytes(w.try_into().unwrap_or([0; 8])));
    std::iter::from_fn(move || loop {
        let point = words.next()?;
        let count = words.next()?;
        let features: Vec<u64> = words.by_ref().take(count as usize).collect();
        if wanted.iter().all(|w| features.contains(w)) {
            return Some(point);
        }
    })
}

/// Synonym concepts (see `synonyms`) found in the name, description,
/// organisation name, categories and community groups. The organisation
/// counts: "Shed sessions" by Craigpark Men's Shed is a men's shed.
fn add_concepts(f: &Fields, service: &Service, d: &mut TantivyDocument) {
    let mut text = vec![
        service.name.as_str(),
        service.description.as_str(),
        service.organisation.name.as_str(),
    ];
    text.extend(service.categories.iter().map(|c| c.name.as_str()));
    text.extend(service.community_groups.iter().map(|g| g.name.as_str()));
    let mut concepts: Vec<String> = text
        .iter()
        .flat_map(|t| synonyms::concepts_in(&synonyms::words(&fold(t))))
        .collect();
    concepts.sort();
    concepts.dedup();
    for c in concepts {
        d.add_text(f.concept, c);
    }
}

/// Lower case with accents removed, as the analyzers see text. The
/// analyzer is built once per thread: this runs several times per document.
fn fold(text: &str) -> String {
    thread_local! {
        static FOLDER: std::cell::RefCell<TextAnalyzer> = std::cell::RefCell::new(
            TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(LowerCaser)
                .filter(AsciiFoldingFilter)
                .build(),
        );
    }
    FOLDER.with(|analyzer| {
        let mut analyzer = analyzer.borrow_mut();
        let mut words = Vec::new();
        let mut stream = analyzer.token_stream(text);
        while let Some(token) = stream.next() {
            words.push(token.text.clone());
        }
        words.join(" ")
    })
}

/// Opening-hours slots and the attributes the search filters ask about
/// (free, language, accessibility, access, delivery). Returns the hours
/// flags (`slots::NEEDS_EXACT`, `slots::CLOSED_ON_HOLIDAYS`).
fn add_hours_and_eligibility(f: &Fields, service: &Service, d: &mut TantivyDocument) -> u64 {
    let hours = Hours::of(service);
    let (slots, flags) = slots::terms(&hours);
    for slot in slots {
        d.add_text(f.slot, slot);
    }
    if flags & slots::NEEDS_EXACT != 0 {
        // Without the notes, so services with the same timetable share a value.
        let timetable = Hours {
            notes: None,
            ..hours.clone()
        };
        let json = serde_json::to_string(&timetable).unwrap_or_default();
        d.add_bytes(f.hours_blob, json.as_bytes());
    }
    d.add_text(f.hours, serde_json::to_string(&hours).unwrap_or_default());
    if service.free == Some(true) {
        d.add_text(f.attr, "free");
    }
    for language in &service.languages {
        d.add_text(f.attr, format!("lang:{language}"));
    }
    if service.self_referral {
        d.add_text(f.attr, "access:self_referral");
    }
    if service.referral_required {
        d.add_text(f.attr, "access:referral");
    }
    for method in &service.delivery_methods {
        d.add_text(f.attr, format!("delivery:{}", method.as_str()));
    }
    let mut accessible = false;
    for location in service.locations.iter().filter(|l| l.archived_at.is_none()) {
        for feature in &location.accessibility {
            d.add_text(f.attr, format!("accessibility:{}", feature.slug));
            accessible = true;
        }
    }
    // For the Open Referral API's organization_id and taxonomy_id filters.
    d.add_text(f.attr, format!("org:{}", service.organisation.id));
    for (kind, present) in [
        ("category", !service.categories.is_empty()),
        ("community_group", !service.community_groups.is_empty()),
        ("accessibility", accessible),
    ] {
        if present {
            d.add_text(f.attr, format!("has:{kind}"));
        }
    }
    flags
}

/// Whether a service belongs in the index at all: archived ones do not.
pub fn indexable(service: &Service) -> bool {
    service.archived_at.is_none()
}

pub const FRESH_CLOSED: u64 = 1;
pub const FRESH_CLOSURE_FLAG: u64 = 2;
pub const FRESH_REVIEW_FLAG: u64 = 4;

pub fn fresh_bits(signals: &Signals) -> u64 {
    let mut bits = 0;
    if !signals.active {
        bits |= FRESH_CLOSED;
    }
    if signals.closure_flag {
        bits |= FRESH_CLOSURE_FLAG;
    }
    if signals.review_flag {
        bits |= FRESH_REVIEW_FLAG;
    }
    bits
}

/// Statuses shown when the caller does not ask for others.
pub const DEFAULT_STATUSES: [ServiceStatus; 1] = [ServiceStatus::Active];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_keys_sort_alphabetically_and_fold() {
        assert!(name_key("Apple") < name_key("banana"));
        assert!(name_key("Ábc") < name_key("abd"));
        assert_eq!(name_key("Café"), name_key("cafe"));
    }

    #[test]
    fn hash_is_stable() {
        assert_eq!(hash("S12000049"), hash("S12000049"));
        assert_ne!(hash("S12000049"), hash("S12000050"));
    }
}
