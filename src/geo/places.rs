//! Typeahead for places (`GET /api/v1/places?q=`): full and partial
//! postcodes, towns and council areas, each with a position to search around.
//!
//! Everything is held in vectors sorted by their search key, so a suggestion
//! is a few binary searches for a prefix rather than a scan of 158,000
//! postcodes.
//!
//! Town names come from the UK outcode list, which names one town per
//! outcode: it has no town for some Scottish outcodes (Perth, Stirling,
//! Dumfries, Falkirk among them) and names no neighbourhoods inside Glasgow.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use anyhow::Context;
use serde::Deserialize;

use super::postcodes::{is_outward_code, PostcodeIndex};

static UK_OUTCODES_CSV: &[u8] = include_bytes!("../../fixtures/postcodes/uk_outcodes_gibbs.csv");
static SERVICE_AREAS_CSV: &[u8] = include_bytes!("../../fixtures/service_areas.csv");

/// Longest input worth matching once spaces and punctuation are dropped: no
/// place name is longer, so anything beyond it cannot match.
const MAX_KEY_CHARS: usize = 64;

/// A suggested place and where to centre a search on it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Place {
    /// As it should be shown: `G31 2ER`, `G31 2`, `G31`, `Kirkintilloch`,
    /// `City of Edinburgh`.
    pub label: String,
    pub kind: PlaceKind,
    /// The postcode's position, or the centroid of a sector, district, town
    /// or council area (WGS84).
    pub latitude: f64,
    pub longitude: f64,
}

/// What a suggested place is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlaceKind {
    Postcode,
    Sector,
    District,
    Town,
    /// An electoral ward: the only names the data has for parts of towns
    /// and cities (Calton, Shettleston) and for some towns (Oban, Perth).
    Ward,
    CouncilArea,
}

/// A postcode, sector or district, labelled as written: `G31 2ER`, `G31 2`, `G31`.
struct Coded {
    label: Box<str>,
    latitude: f64,
    longitude: f64,
}

/// A town or council area.
struct Named {
    label: String,
    kind: PlaceKind,
    latitude: f64,
    longitude: f64,
    in_scotland: bool,
    /// How many postcode districts it spans: a rough measure of size, used
    /// to put Glasgow before Glassford.
    districts: usize,
}

/// A name from one of its words onwards, in search form (`cityofedinburgh`,
/// `ofedinburgh`, `edinburgh`), so input matches the start of any word.
struct NameKey {
    key: String,
    named: usize,
    first_word: bool,
}

/// Everything `suggest` searches, built once from the shipped data.
pub struct PlaceIndex {
    postcodes: Vec<Coded>,
    sectors: Vec<Coded>,
    districts: Vec<Coded>,
    names: Vec<Named>,
    name_keys: Vec<NameKey>,
}

impl PlaceIndex {
    pub fn build(postcodes: &PostcodeIndex) -> anyhow::Result<PlaceIndex> {
        let full = postcodes
            .full_postcodes()
            .map(|p| Coded {
                label: with_space(p.compact).into(),
                latitude: p.latitude,
                longitude: p.longitude,
            })
            .collect();
        let mut names = towns().context("reading towns from the UK outcodes")?;
        names.extend(council_areas(postcodes).context("reading council areas")?);
        names.extend(wards(postcodes));
        let name_keys = name_keys(&names);
        Ok(PlaceIndex {
            postcodes: sorted(full),
            sectors: sorted(coded(postcodes.all_sectors())),
            districts: sorted(coded(postcodes.all_districts())),
            names,
            name_keys,
        })
    }

    /// Built once per process from the shared postcode table.
    pub fn shared() -> anyhow::Result<Arc<PlaceIndex>> {
        static SHARED: OnceLock<Result<Arc<PlaceIndex>, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| {
                PostcodeIndex::shared()
                    .and_then(|postcodes| PlaceIndex::build(&postcodes))
                    .map(Arc::new)
                    .map_err(|e| format!("{e:#}"))
            })
            .clone()
            .map_err(anyhow::Error::msg)
    }

    /// Up to `limit` places matching partial input, best first. Case- and
    /// space-insensitive; "g31" → district G31 first, then its sectors
    /// "G31 1".."G31 5"; "g31 2e" → full postcodes starting "G31 2E";
    /// "corstorph" or "Edinb" → towns/council areas whose name starts with
    /// (or has a word starting with) the input. Empty or junk input → empty
    /// vec. Never panics on any input.
    pub fn suggest(&self, input: &str, limit: usize) -> Vec<Place> {
        let Some(query) = Query::parse(input) else {
            return Vec::new();
        };
        let mut out = Results {
            places: Vec::new(),
            limit,
        };
        // A digit means a postcode; letters alone are more likely a name
        // ("ab" → Aberdeen before the AB districts).
        if query.has_digit {
            self.postcode_matches(&query, &mut out);
            self.name_matches(&query.name, &mut out);
        } else {
            self.name_matches(&query.name, &mut out);
            self.postcode_matches(&query, &mut out);
        }
        out.places
    }

    /// `key` is compact upper case (`G312E`). Read first as (the start of)
    /// an outward code, then as an outward code plus the start of an inward
    /// code, trying each split: without spaces `G311` could be `G31 1` or
    /// `G3 11`, and only the shape of the inward code tells them apart. A
    /// space the user typed (`EH1 1`) puts that reading first.
    fn postcode_matches(&self, query: &Query, out: &mut Results) {
        let Some(key) = query.postcode.as_deref().filter(|_| out.remaining() > 0) else {
            return;
        };
        if let Some(split) = query.typed_split {
            self.split_matches(key, split, out);
        }
        let districts = prefix_range(&self.districts, key);
        if let Some(exact) = districts.iter().find(|d| &*d.label == key) {
            out.push(exact.place(PlaceKind::District));
            for sector in prefix_range(&self.sectors, &format!("{key} ")) {
                out.push(sector.place(PlaceKind::Sector));
            }
        }
        let mut longer: Vec<&Coded> = districts.iter().filter(|d| &*d.label != key).collect();
        longer.sort_by(|a, b| district_order(&a.label).cmp(&district_order(&b.label)));
        for district in longer.into_iter().take(out.remaining()) {
            out.push(district.place(PlaceKind::District));
        }
        // Outward codes are 2 to 4 characters and the inward part must not be empty.
        for split in 2..key.len().min(5) {
            if Some(split) != query.typed_split {
                self.split_matches(key, split, out);
            }
        }
    }

    /// The sector and full postcodes for `key` read as an outward code of
    /// `split` characters followed by the start of an inward code.
    fn split_matches(&self, key: &str, split: usize, out: &mut Results) {
        let Some((outward, inward)) = key.split_at_checked(split) else {
            return;
        };
        if !is_outward_code(outward) || !is_inward_prefix(inward) {
            return;
        }
        let prefix = format!("{outward} {inward}");
        if inward.len() == 1 {
            let sector = prefix_range(&self.sectors, &prefix)
                .iter()
                .find(|s| *s.label == prefix);
            if let Some(sector) = sector {
                out.push(sector.place(PlaceKind::Sector));
            }
        }
        for postcode in prefix_range(&self.postcodes, &prefix)
            .iter()
            .take(out.remaining())
        {
            out.push(postcode.place(PlaceKind::Postcode));
        }
    }

    /// Names starting with the input come before names with a later word
    /// starting with it; then Scottish places first, then larger ones.
    fn name_matches(&self, key: &str, out: &mut Results) {
        if key.is_empty() || out.remaining() == 0 {
            return;
        }
        let start = self.name_keys.partition_point(|k| k.key.as_str() < key);
        let matches = self.name_keys[start..]
            .iter()
            .take_while(|k| k.key.starts_with(key));
        let mut hits: Vec<(u8, &Named, usize)> = matches
            .map(|k| {
                let tier = match (k.first_word, k.key == key) {
                    (true, true) => 0,
                    (true, false) => 1,
                    (false, _) => 2,
                };
                (tier, &self.names[k.named], k.named)
            })
            .collect();
        // A Scottish directory: Wick in Caithness before Wick in Gloucestershire.
        hits.sort_by(|(tier_a, a, _), (tier_b, b, _)| {
            b.in_scotland
                .cmp(&a.in_scotland)
                .then(tier_a.cmp(tier_b))
                .then(b.districts.cmp(&a.districts))
                .then(a.label.cmp(&b.label))
        });
        // A name can match through more than one of its words; keep the best.
        let mut seen = HashSet::new();
        for (_, named, index) in hits {
            if out.remaining() == 0 {
                break;
            }
            if seen.insert(index) {
                out.push(Place {
                    label: named.label.clone(),
                    kind: named.kind,
                    latitude: named.latitude,
                    longitude: named.longitude,
                });
            }
        }
    }
}

/// The input in the two forms matched against.
struct Query {
    /// Letters and digits only, lower case: for names.
    name: String,
    /// Without spaces, upper case, when it could be (part of) a postcode.
    postcode: Option<String>,
    /// Length of the first word when more follow: where a typed space split
    /// the postcode (3 for `G31 2E`).
    typed_split: Option<usize>,
    has_digit: bool,
}

impl Query {
    /// None when there is nothing to match: empty, punctuation only, or too
    /// long to be any place.
    fn parse(input: &str) -> Option<Query> {
        let mut name = String::new();
        let mut name_chars = 0;
        let mut postcode = String::new();
        let mut postcode_shaped = true;
        for c in input.chars() {
            if c.is_alphanumeric() {
                name.extend(c.to_lowercase());
                name_chars += 1;
            }
            if c.is_whitespace() {
                continue;
            }
            if c.is_ascii_alphanumeric() {
                postcode.push(c.to_ascii_uppercase());
            } else {
                postcode_shaped = false;
            }
            // Stop early: nothing this long can match.
            if name_chars > MAX_KEY_CHARS || postcode.len() > MAX_KEY_CHARS {
                return None;
            }
        }
        if name.is_empty() {
            return None;
        }
        let has_digit = postcode.bytes().any(|b| b.is_ascii_digit());
        postcode_shaped = postcode_shaped
            && (1..=7).contains(&postcode.len())
            && postcode.starts_with(|c: char| c.is_ascii_alphabetic());
        let mut words = input.split_whitespace();
        let typed_split = words
            .next()
            .filter(|_| words.next().is_some())
            .map(str::len);
        Some(Query {
            name,
            postcode: postcode_shaped.then_some(postcode),
            typed_split,
            has_digit,
        })
    }
}

/// Suggestions so far, never more than `limit`.
struct Results {
    places: Vec<Place>,
    limit: usize,
}

impl Results {
    fn remaining(&self) -> usize {
        self.limit.saturating_sub(self.places.len())
    }

    fn push(&mut self, place: Place) {
        if self.remaining() > 0 {
            self.places.push(place);
        }
    }
}

impl Coded {
    fn place(&self, kind: PlaceKind) -> Place {
        Place {
            label: self.label.to_string(),
            kind,
            latitude: self.latitude,
            longitude: self.longitude,
        }
    }
}

/// The run of `items` (sorted by label) whose label starts with `prefix`.
fn prefix_range<'a>(items: &'a [Coded], prefix: &str) -> &'a [Coded] {
    let start = items.partition_point(|c| &*c.label < prefix);
    let len = items[start..].partition_point(|c| c.label.starts_with(prefix));
    &items[start..start + len]
}

fn sorted(mut items: Vec<Coded>) -> Vec<Coded> {
    items.sort_by(|a, b| a.label.cmp(&b.label));
    items
}

fn coded<'a>(entries: impl Iterator<Item = (&'a str, &'a super::PostcodePlace)>) -> Vec<Coded> {
    entries
        .map(|(label, place)| Coded {
            label: label.into(),
            latitude: place.latitude,
            longitude: place.longitude,
        })
        .collect()
}

/// `G312ER` → `G31 2ER` (the inward code is always three characters).
fn with_space(compact: &str) -> String {
    match compact.len().checked_sub(3) {
        Some(split) if compact.is_char_boundary(split) => {
            format!("{} {}", &compact[..split], &compact[split..])
        }
        _ => compact.to_string(),
    }
}

/// The start of an inward code: a digit, then up to two letters.
fn is_inward_prefix(s: &str) -> bool {
    let b = s.as_bytes();
    (1..=3).contains(&b.len()) && b[0].is_ascii_digit() && b[1..].iter().all(u8::is_ascii_uppercase)
}

/// Sorts districts as people read them: G2 before G11, SW1A after SW1.
fn district_order(label: &str) -> (&str, u32, &str) {
    let letters = label.bytes().take_while(u8::is_ascii_alphabetic).count();
    let (area, rest) = label.split_at(letters);
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (number, suffix) = rest.split_at(digits);
    (area, number.parse().unwrap_or(0), suffix)
}

/// Lower case letters and digits only: the form names are matched in.
fn search_form(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn name_keys(names: &[Named]) -> Vec<NameKey> {
    let mut keys = Vec::new();
    for (named, place) in names.iter().enumerate() {
        let mut previous_alphanumeric = false;
        let mut first_word = true;
        for (i, c) in place.label.char_indices() {
            let alphanumeric = c.is_alphanumeric();
            if alphanumeric && !previous_alphanumeric {
                keys.push(NameKey {
                    key: search_form(&place.label[i..]),
                    named,
                    first_word,
                });
                first_word = false;
            }
            previous_alphanumeric = alphanumeric;
        }
    }
    keys.sort_by(|a, b| a.key.cmp(&b.key));
    keys
}

#[derive(Deserialize)]
struct OutcodeRow {
    latitude: Option<f64>,
    longitude: Option<f64>,
    town: String,
    region: String,
    country_string: String,
}

/// Running mean of positions.
#[derive(Default)]
struct Centroid {
    latitude: f64,
    longitude: f64,
    count: usize,
}

impl Centroid {
    fn add(&mut self, latitude: f64, longitude: f64) {
        self.latitude += latitude;
        self.longitude += longitude;
        self.count += 1;
    }

    fn mean(&self) -> (f64, f64) {
        let n = self.count.max(1) as f64;
        (self.latitude / n, self.longitude / n)
    }
}

/// Towns from the UK outcode list, one per (town, region), placed at the
/// mean of their outcodes' centroids. A name found in several regions
/// (Alford, Newport) is labelled with its region.
fn towns() -> anyhow::Result<Vec<Named>> {
    let mut groups: BTreeMap<(String, String), (Centroid, bool)> = BTreeMap::new();
    for row in csv::Reader::from_reader(UK_OUTCODES_CSV).deserialize::<OutcodeRow>() {
        let row = row?;
        let town = row.town.trim();
        let (Some(latitude), Some(longitude)) = (row.latitude, row.longitude) else {
            continue;
        };
        if town.is_empty() {
            continue;
        }
        let in_scotland = row.country_string == "Scotland";
        let (centroid, _) = groups
            .entry((town.to_string(), row.region.trim().to_string()))
            .or_insert_with(|| (Centroid::default(), in_scotland));
        centroid.add(latitude, longitude);
    }
    let mut regions_per_town: HashMap<&str, usize> = HashMap::new();
    for (town, _) in groups.keys() {
        *regions_per_town.entry(town).or_default() += 1;
    }
    let towns = groups
        .iter()
        .map(|((town, region), (centroid, in_scotland))| {
            let label = if regions_per_town.get(town.as_str()).copied().unwrap_or(0) > 1 {
                format!("{town}, {region}")
            } else {
                town.clone()
            };
            let (latitude, longitude) = centroid.mean();
            Named {
                label,
                kind: PlaceKind::Town,
                latitude,
                longitude,
                in_scotland: *in_scotland,
                districts: centroid.count,
            }
        })
        .collect();
    Ok(towns)
}

#[derive(Deserialize)]
struct AreaRow {
    code: String,
    area_type: String,
    name: String,
}

/// Council areas named in `service_areas.csv`, placed at the mean of their
/// postcodes.
fn council_areas(postcodes: &PostcodeIndex) -> anyhow::Result<Vec<Named>> {
    let mut centroids: HashMap<&str, (Centroid, HashSet<&str>)> = HashMap::new();
    for postcode in postcodes.full_postcodes() {
        let (centroid, districts) = centroids.entry(postcode.council_area_code).or_default();
        centroid.add(postcode.latitude, postcode.longitude);
        let outward = postcode.compact.len().saturating_sub(3);
        districts.insert(postcode.compact.get(..outward).unwrap_or_default());
    }
    let mut councils = Vec::new();
    for row in csv::Reader::from_reader(SERVICE_AREAS_CSV).deserialize::<AreaRow>() {
        let row = row?;
        if row.area_type != "council_area" {
            continue;
        }
        // A council with no postcodes has nowhere to centre a search.
        let Some((centroid, districts)) = centroids.get(row.code.as_str()) else {
            continue;
        };
        let (latitude, longitude) = centroid.mean();
        councils.push(Named {
            label: row.name,
            kind: PlaceKind::CouncilArea,
            latitude,
            longitude,
            in_scotland: true,
            districts: districts.len(),
        });
    }
    Ok(councils)
}

/// Electoral wards, placed at the mean of their postcodes ("Oban South
/// and the Isles Ward" is labelled without "Ward").
fn wards(postcodes: &PostcodeIndex) -> Vec<Named> {
    let mut centroids: BTreeMap<&str, (Centroid, HashSet<&str>)> = BTreeMap::new();
    for postcode in postcodes.full_postcodes().filter(|p| !p.ward.is_empty()) {
        let (centroid, districts) = centroids.entry(postcode.ward).or_default();
        centroid.add(postcode.latitude, postcode.longitude);
        let outward = postcode.compact.len().saturating_sub(3);
        districts.insert(postcode.compact.get(..outward).unwrap_or_default());
    }
    centroids
        .into_iter()
        .map(|(name, (centroid, districts))| {
            let (latitude, longitude) = centroid.mean();
            Named {
                label: name.trim_end_matches(" Ward").trim().to_string(),
                kind: PlaceKind::Ward,
                latitude,
                longitude,
                in_scotland: true,
                districts: districts.len(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> Arc<PlaceIndex> {
        PlaceIndex::shared().unwrap()
    }

    fn labels(places: &[Place]) -> Vec<&str> {
        places.iter().map(|p| p.label.as_str()).collect()
    }

    #[test]
    fn district_then_its_sectors() {
        let places = index().suggest("g31", 10);
        assert_eq!(
            labels(&places)[..6],
            ["G31", "G31 1", "G31 2", "G31 3", "G31 4", "G31 5"]
        );
        assert_eq!(places[0].kind, PlaceKind::District);
        assert!(places[1..6].iter().all(|p| p.kind == PlaceKind::Sector));
        assert!((places[0].latitude - 55.86).abs() < 0.05, "{:?}", places[0]);
    }

    #[test]
    fn partial_postcodes_are_case_and_space_insensitive() {
        let index = index();
        let places = index.suggest("g31 2e", 100);
        assert_eq!(
            labels(&places),
            ["G31 2EG", "G31 2EH", "G31 2ER", "G31 2ES", "G31 2ET"]
        );
        assert!(places.iter().all(|p| p.kind == PlaceKind::Postcode));
        for same in ["G312E", " g 3 1 2 e ", "G31  2e"] {
            assert_eq!(index.suggest(same, 100), places, "{same}");
        }
        let exact = index.suggest("g312er", 10);
        assert_eq!(labels(&exact), ["G31 2ER"]);
        assert!((exact[0].latitude - 55.865242).abs() < 1e-6);
    }

    #[test]
    fn sector_then_its_postcodes() {
        let places = index().suggest("EH1 1", 5);
        assert_eq!(places[0].label, "EH1 1");
        assert_eq!(places[0].kind, PlaceKind::Sector);
        assert!(places[1..]
            .iter()
            .all(|p| p.kind == PlaceKind::Postcode && p.label.starts_with("EH1 1")));
    }

    #[test]
    fn districts_in_reading_order() {
        // Letters only: names come first, so ask for a prefix no name has.
        let places = index().suggest("EH", 5);
        assert_eq!(labels(&places), ["EH1", "EH2", "EH3", "EH4", "EH5"]);
        // Districts outside Scotland come from the UK outcode list.
        assert_eq!(labels(&index().suggest("sw1a", 1)), ["SW1A"]);
    }

    #[test]
    fn names_by_prefix_or_word() {
        let index = index();
        let edinburgh = index.suggest("Edinb", 10);
        assert!(
            edinburgh
                .iter()
                .any(|p| p.label == "City of Edinburgh" && p.kind == PlaceKind::CouncilArea),
            "{edinburgh:?}"
        );
        let place = &edinburgh[0];
        assert!((place.latitude - 55.93).abs() < 0.1 && (place.longitude + 3.25).abs() < 0.2);

        // The ward named first after it, then the town that names it later.
        let corstorphine = index.suggest("corstorph", 10);
        assert_eq!(
            labels(&corstorphine),
            [
                "Corstorphine/Murrayfield",
                "Murrayfield, Corstorphine and Gogar"
            ]
        );
        assert_eq!(corstorphine[0].kind, PlaceKind::Ward);
        assert_eq!(corstorphine[1].kind, PlaceKind::Town);

        let glasgow = index.suggest("GLAS", 3);
        assert!(labels(&glasgow).contains(&"Glasgow"), "{glasgow:?}");
        assert!(labels(&glasgow).contains(&"Glasgow City"), "{glasgow:?}");
        assert_eq!(index.suggest("fife", 1)[0].kind, PlaceKind::CouncilArea);
        assert_eq!(
            labels(&index.suggest("na h-eil", 5)),
            ["Na h-Eileanan Siar"]
        );
    }

    #[test]
    fn name_starts_rank_before_word_starts() {
        let places = index().suggest("ayr", 10);
        assert_eq!(places[0].label, "Ayr", "{places:?}");
        let first_word_match = |p: &Place| p.label.to_lowercase().starts_with("ayr");
        let later = places.iter().position(|p| !first_word_match(p)).unwrap();
        assert!(
            places[later..].iter().all(|p| !first_word_match(p)),
            "{places:?}"
        );
        assert!(labels(&places).contains(&"South Ayrshire"), "{places:?}");
    }

    #[test]
    fn a_typed_space_says_where_the_outward_code_ends() {
        let index = index();
        let spaced = index.suggest("EH1 1", 5);
        assert_eq!(spaced[0].label, "EH1 1");
        assert_eq!(spaced[0].kind, PlaceKind::Sector);
        // Without the space, the district EH11 comes first.
        assert_eq!(index.suggest("EH11", 5)[0].label, "EH11");
    }

    #[test]
    fn towns_in_several_regions_say_which_and_scotland_comes_first() {
        let places = index().suggest("alford", 5);
        assert_eq!(
            labels(&places),
            [
                "Alford, Aberdeenshire",
                "Huntly, Strathbogie and Howe of Alford",
                "Alford, Lincolnshire"
            ]
        );
    }

    #[test]
    fn wards_name_places_the_outcode_list_does_not() {
        let index = index();
        let wick = index.suggest("wick", 5);
        assert_eq!(wick[0].label, "Wick and East Caithness", "{wick:?}");
        assert_eq!(wick[0].kind, PlaceKind::Ward);
        assert!(wick[0].latitude > 58.0, "in Caithness: {wick:?}");
        assert!(labels(&index.suggest("oban", 5)).contains(&"Oban South and the Isles"));
        assert!(labels(&index.suggest("calton", 5)).contains(&"Calton"));
    }

    #[test]
    fn limit_is_respected() {
        let index = index();
        assert!(index.suggest("g31", 0).is_empty());
        assert_eq!(index.suggest("g", 7).len(), 7);
        assert!(index.suggest("g31 2", usize::MAX).len() > 100);
    }

    #[test]
    fn junk_and_hostile_input_is_empty_or_harmless() {
        let index = index();
        let long_letters = "a".repeat(10_000);
        let long_postcode = "G31 2ER ".repeat(1_250);
        let long_junk = "💥é\u{0}'%;".repeat(2_000);
        let hostile = [
            "",
            "   ",
            "!!!",
            "'; DROP TABLE places; --",
            "%",
            "💥",
            "\u{0}",
            "\u{202e}g31",
            "İ",
            "ǅ",
            "ß",
            "g31 2er 💥",
            "zz",
            "Q1",
            "G31 2ER X",
            long_letters.as_str(),
            long_postcode.as_str(),
            long_junk.as_str(),
        ];
        for input in hostile {
            let places = index.suggest(input, 10);
            assert!(places.len() <= 10);
        }
        for empty in ["", "   ", "!!!", "%", "💥", "\u{0}", "zz", "Q1"] {
            assert!(index.suggest(empty, 10).is_empty(), "{empty:?}");
        }
        assert!(index.suggest(&long_letters, 10).is_empty());
        assert!(index.suggest(&long_postcode, 10).is_empty());
    }
}
