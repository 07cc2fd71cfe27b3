//! UK postcodes: the `Postcode` newtype and a lookup table built from the
//! Code-Point Open extract shipped in `fixtures/postcodes/` (embedded in the
//! binary so a fresh clone works offline and no search calls the network).

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, OnceLock};

use anyhow::Context;
use serde::Deserialize;

use crate::model::values::clip;

static FULL_POSTCODES_GZ: &[u8] =
    include_bytes!("../../fixtures/postcodes/scotland_postcodes_codepoint_2020-08.csv.gz");
static SECTORS_CSV: &[u8] =
    include_bytes!("../../fixtures/postcodes/scotland_postcode_sectors.csv");
static DISTRICTS_CSV: &[u8] =
    include_bytes!("../../fixtures/postcodes/scotland_postcode_districts.csv");
static UK_OUTCODES_CSV: &[u8] = include_bytes!("../../fixtures/postcodes/uk_outcodes_gibbs.csv");

/// A full UK postcode, normalised to upper case with one space: `G31 2ER`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Postcode(String);

impl Postcode {
    /// Accepts any case and spacing (`g312er`, ` G31  2ER `).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let compact: String = raw
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        let invalid = || {
            format!(
                "'{}' is not a valid UK postcode (e.g. G31 2ER)",
                clip(raw.trim())
            )
        };
        if !(5..=7).contains(&compact.len()) || !compact.is_ascii() {
            return Err(invalid());
        }
        let (outward, inward) = compact.split_at(compact.len() - 3);
        if !is_outward_code(outward) || !is_inward_code(inward) {
            return Err(invalid());
        }
        Ok(Postcode(format!("{outward} {inward}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The outward code (district), e.g. `G31`.
    pub fn outward(&self) -> &str {
        self.0.split(' ').next().unwrap_or(&self.0)
    }

    /// The sector, e.g. `G31 2`.
    pub fn sector(&self) -> &str {
        &self.0[..self.0.len() - 2]
    }
}

/// Outward code shapes: A9, A99, AA9, AA99, A9A, AA9A.
pub fn is_outward_code(s: &str) -> bool {
    let b = s.as_bytes();
    let alpha = |i: usize| b.get(i).is_some_and(u8::is_ascii_uppercase);
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let alnum = |i: usize| alpha(i) || digit(i);
    match b.len() {
        2 => alpha(0) && digit(1),
        3 => alpha(0) && ((digit(1) && alnum(2)) || (alpha(1) && digit(2))),
        4 => alpha(0) && alpha(1) && digit(2) && alnum(3),
        _ => false,
    }
}

fn is_inward_code(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 3 && b[0].is_ascii_digit() && b[1].is_ascii_uppercase() && b[2].is_ascii_uppercase()
}

/// Where a postcode is, and the coded areas it falls in (when known).
#[derive(Debug, Clone, PartialEq)]
pub struct PostcodePlace {
    pub latitude: f64,
    pub longitude: f64,
    pub council_area_code: Option<String>,
    pub health_board_code: Option<String>,
}

/// One full postcode as stored, borrowed from a [`PostcodeIndex`].
pub(crate) struct FullPostcode<'a> {
    /// Without the space: `G312ER`.
    pub compact: &'a str,
    pub latitude: f64,
    pub longitude: f64,
    pub council_area_code: &'a str,
    /// Electoral ward name, e.g. `Oban South and the Isles` (empty when none).
    pub ward: &'a str,
}

#[derive(Debug, Clone, Copy)]
struct FullRecord {
    latitude: f64,
    longitude: f64,
    council: u16,
    health_board: u16,
    ward: u16,
}

/// In-memory postcode table: full postcodes, sectors and districts for
/// Scotland, and UK outcode centroids for districts elsewhere.
pub struct PostcodeIndex {
    full: HashMap<String, FullRecord>,
    sectors: HashMap<String, PostcodePlace>,
    districts: HashMap<String, PostcodePlace>,
    codes: Vec<String>,
    wards: Vec<String>,
}

#[derive(Deserialize)]
struct FullRow {
    postcode: String,
    // A few postcodes have no grid reference (positional quality 90).
    latitude: Option<f64>,
    longitude: Option<f64>,
    council_area_code: String,
    health_board_code: String,
    ward_name: String,
}

#[derive(Deserialize)]
struct CentroidRow {
    #[serde(alias = "sector", alias = "outcode", alias = "postcode")]
    code: String,
    latitude: f64,
    longitude: f64,
    #[serde(default)]
    council_area_code: Option<String>,
}

impl PostcodeIndex {
    /// Builds the table from the embedded data (about 160,000 postcodes).
    pub fn load_embedded() -> anyhow::Result<Self> {
        let mut gz = flate2::read::GzDecoder::new(FULL_POSTCODES_GZ);
        let mut text = Vec::new();
        gz.read_to_end(&mut text)
            .context("decompressing the postcode file")?;

        let mut codes: Vec<String> = Vec::new();
        let mut intern = |code: &str| -> u16 {
            match codes.iter().position(|c| c == code) {
                Some(i) => i as u16,
                None => {
                    codes.push(code.to_string());
                    (codes.len() - 1) as u16
                }
            }
        };
        // Names of places inside towns and cities (Gorbals, Oban North and
        // Lorn), for the place typeahead; a few hundred, so a map.
        let mut wards: Vec<String> = Vec::new();
        let mut ward_ids: HashMap<String, u16> = HashMap::new();
        let mut full = HashMap::with_capacity(160_000);
        for row in csv::Reader::from_reader(text.as_slice()).deserialize::<FullRow>() {
            let row = row.context("reading the postcode file")?;
            let (Some(latitude), Some(longitude)) = (row.latitude, row.longitude) else {
                continue;
            };
            full.insert(
                compact(&row.postcode),
                FullRecord {
                    latitude,
                    longitude,
                    council: intern(&row.council_area_code),
                    health_board: intern(&row.health_board_code),
                    ward: *ward_ids.entry(row.ward_name.clone()).or_insert_with(|| {
                        wards.push(row.ward_name.clone());
                        (wards.len() - 1) as u16
                    }),
                },
            );
        }

        let mut districts = read_centroids(UK_OUTCODES_CSV).context("reading UK outcodes")?;
        // Scottish district centroids are newer and carry council codes: they win.
        districts.extend(read_centroids(DISTRICTS_CSV).context("reading districts")?);
        let sectors = read_centroids(SECTORS_CSV).context("reading sectors")?;
        Ok(PostcodeIndex {
            full,
            sectors,
            districts,
            codes,
            wards,
        })
    }

    /// Exact lookup of a full postcode.
    pub fn lookup(&self, postcode: &Postcode) -> Option<PostcodePlace> {
        // A few postcodes (offshore, new) have coordinates but no area codes:
        // those are absent, not blank (a blank code is no known area).
        let code = |i: u16| Some(self.codes[i as usize].clone()).filter(|c| !c.is_empty());
        self.full
            .get(&compact(postcode.as_str()))
            .map(|r| PostcodePlace {
                latitude: r.latitude,
                longitude: r.longitude,
                council_area_code: code(r.council),
                health_board_code: code(r.health_board),
            })
    }

    /// Centroid of a sector such as `G31 2`.
    pub fn sector(&self, sector: &str) -> Option<&PostcodePlace> {
        self.sectors.get(sector)
    }

    /// Centroid of a district (outward code) such as `G31`, anywhere in the UK.
    pub fn district(&self, outward: &str) -> Option<&PostcodePlace> {
        self.districts.get(outward)
    }

    /// Every full postcode, in no particular order (for building other indexes).
    pub(crate) fn full_postcodes(&self) -> impl Iterator<Item = FullPostcode<'_>> {
        self.full.iter().map(|(compact, r)| FullPostcode {
            compact,
            latitude: r.latitude,
            longitude: r.longitude,
            council_area_code: &self.codes[r.council as usize],
            ward: &self.wards[r.ward as usize],
        })
    }

    /// Every sector centroid, keyed like `G31 2`, in no particular order.
    pub(crate) fn all_sectors(&self) -> impl Iterator<Item = (&str, &PostcodePlace)> {
        self.sectors.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Every district centroid, keyed like `G31`, in no particular order.
    pub(crate) fn all_districts(&self) -> impl Iterator<Item = (&str, &PostcodePlace)> {
        self.districts.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The embedded table, built once per process and shared.
    pub fn shared() -> anyhow::Result<Arc<PostcodeIndex>> {
        static SHARED: OnceLock<Result<Arc<PostcodeIndex>, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| {
                PostcodeIndex::load_embedded()
                    .map(Arc::new)
                    .map_err(|e| format!("{e:#}"))
            })
            .clone()
            .map_err(anyhow::Error::msg)
    }

    pub fn len(&self) -> usize {
        self.full.len()
    }

    pub fn is_empty(&self) -> bool {
        self.full.is_empty()
    }
}

fn compact(postcode: &str) -> String {
    postcode.chars().filter(|c| !c.is_whitespace()).collect()
}

fn read_centroids(csv_bytes: &[u8]) -> anyhow::Result<HashMap<String, PostcodePlace>> {
    let mut out = HashMap::new();
    for row in csv::Reader::from_reader(csv_bytes).deserialize::<CentroidRow>() {
        let row = row?;
        out.insert(
            row.code.trim().to_ascii_uppercase(),
            PostcodePlace {
                latitude: row.latitude,
                longitude: row.longitude,
                council_area_code: row.council_area_code.filter(|c| !c.is_empty()),
                health_board_code: None,
            },
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_spacing() {
        for raw in ["G31 2ER", "g312er", "  g31   2Er ", "G3 12ER"] {
            assert_eq!(Postcode::parse(raw).unwrap().as_str(), "G31 2ER", "{raw}");
        }
        assert_eq!(Postcode::parse("EH1 1YZ").unwrap().sector(), "EH1 1");
        assert_eq!(Postcode::parse("SW1A 1AA").unwrap().outward(), "SW1A");
    }

    #[test]
    fn rejects_malformed() {
        for raw in [
            "", "G31", "G31 2", "123 456", "GGGG 2ER", "G31 2E1", "G31-2ER", "Ġ31 2ER",
        ] {
            assert!(Postcode::parse(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn looks_up_the_check_value() {
        let index = PostcodeIndex::load_embedded().unwrap();
        assert!(index.len() > 150_000);
        let place = index.lookup(&Postcode::parse("G31 2ER").unwrap()).unwrap();
        assert!((place.latitude - 55.865242).abs() < 1e-6);
        assert!((place.longitude - -4.232246).abs() < 1e-6);
        assert_eq!(place.council_area_code.as_deref(), Some("S12000049"));
        assert_eq!(place.health_board_code.as_deref(), Some("S08000031"));
        assert!(index.sector("G31 2").is_some());
        assert!(index.district("G31").is_some());
        assert!(index.district("SW1A").is_some());
        assert!(index.lookup(&Postcode::parse("ZZ9 9ZZ").unwrap()).is_none());
        // On the map, but in no council area in the data.
        let place = index.lookup(&Postcode::parse("PA15 1AP").unwrap()).unwrap();
        assert_eq!(place.council_area_code, None);
        assert_eq!(place.health_board_code, None);
    }
}
