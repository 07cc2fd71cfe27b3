//! Turning what a searcher typed into a point: a full postcode, a sector
//! (`G31 2`) or a district (`G31`), in any case and spacing. A full postcode
//! missing from the data (newer than August 2020) falls back to its sector,
//! then its district.

use serde::Serialize;
use utoipa::ToSchema;

use super::postcodes::{is_outward_code, Postcode, PostcodeIndex, PostcodePlace};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    Postcode,
    Sector,
    District,
    Coordinates,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Located {
    pub latitude: f64,
    pub longitude: f64,
    /// How precisely the input was placed.
    pub resolved_as: Resolution,
    /// The postcode, sector or district used, normalised.
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocateError {
    /// Not shaped like a postcode, sector or district.
    Malformed,
    /// Well formed, but not in the data.
    NotFound(String),
}

pub fn locate_postcode(index: &PostcodeIndex, input: &str) -> Result<Located, LocateError> {
    // "G31-2ER": a hyphen is a common stand-in for the space.
    let spaced = input.replace('-', " ");
    let trimmed = spaced.trim();
    let compact: String = trimmed
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    if compact.is_empty() || compact.len() > 8 || !compact.is_ascii() {
        return Err(LocateError::Malformed);
    }
    let at = |place: &PostcodePlace, resolved_as, label: &str| Located {
        latitude: place.latitude,
        longitude: place.longitude,
        resolved_as,
        label: Some(label.to_string()),
    };
    if let Ok(postcode) = Postcode::parse(trimmed) {
        if let Some(place) = index.lookup(&postcode) {
            return Ok(at(&place, Resolution::Postcode, postcode.as_str()));
        }
        if let Some(place) = index.sector(postcode.sector()) {
            return Ok(at(place, Resolution::Sector, postcode.sector()));
        }
        if let Some(place) = index.district(postcode.outward()) {
            return Ok(at(place, Resolution::District, postcode.outward()));
        }
        return Err(LocateError::NotFound(postcode.as_str().to_string()));
    }
    // A sector: outward code, then the inward digit ("G31 2", "g312").
    let (outward, sector_digit) = match trimmed.split_whitespace().collect::<Vec<_>>().as_slice() {
        [out, digit] => (out.to_ascii_uppercase(), Some(digit.to_string())),
        [_] if is_outward_code(&compact) => (compact.clone(), None),
        [_] if compact.len() >= 3 && compact.ends_with(|c: char| c.is_ascii_digit()) => {
            let (out, digit) = compact.split_at(compact.len() - 1);
            (out.to_string(), Some(digit.to_string()))
        }
        _ => return Err(LocateError::Malformed),
    };
    if !is_outward_code(&outward) {
        return Err(LocateError::Malformed);
    }
    match sector_digit {
        Some(digit) if digit.len() == 1 && digit.chars().all(|c| c.is_ascii_digit()) => {
            let sector = format!("{outward} {digit}");
            if let Some(place) = index.sector(&sector) {
                return Ok(at(place, Resolution::Sector, &sector));
            }
            index
                .district(&outward)
                .map(|place| at(place, Resolution::District, &outward))
                .ok_or(LocateError::NotFound(sector))
        }
        Some(_) => Err(LocateError::Malformed),
        None => index
            .district(&outward)
            .map(|place| at(place, Resolution::District, &outward))
            .ok_or(LocateError::NotFound(outward)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> std::sync::Arc<PostcodeIndex> {
        PostcodeIndex::shared().unwrap()
    }

    #[test]
    fn full_sector_and_district_in_any_spacing() {
        let idx = index();
        let full = locate_postcode(&idx, " g31 2er").unwrap();
        assert_eq!(
            (full.resolved_as, full.label.as_deref()),
            (Resolution::Postcode, Some("G31 2ER"))
        );
        for input in ["G31 2", "g31 2", "G312"] {
            let s = locate_postcode(&idx, input).unwrap();
            assert_eq!(
                (s.resolved_as, s.label.as_deref()),
                (Resolution::Sector, Some("G31 2")),
                "{input}"
            );
        }
        for input in ["G31", "g31", " G31 "] {
            assert_eq!(
                locate_postcode(&idx, input).unwrap().resolved_as,
                Resolution::District,
                "{input}"
            );
        }
        // Outside Scotland: district centroids from the UK outcode list.
        assert_eq!(
            locate_postcode(&idx, "SW1A").unwrap().resolved_as,
            Resolution::District
        );
    }

    #[test]
    fn newer_postcodes_fall_back_to_sector_then_district() {
        let idx = index();
        // Valid shape, not in the 2020 data, but its sector is.
        let s = locate_postcode(&idx, "G31 2ZZ").unwrap();
        assert_eq!(s.resolved_as, Resolution::Sector);
    }

    #[test]
    fn malformed_and_unknown_are_told_apart() {
        let idx = index();
        for bad in ["", "hello world", "12345", "G31 2E1X", "💥", "G31 22"] {
            assert_eq!(
                locate_postcode(&idx, bad),
                Err(LocateError::Malformed),
                "{bad}"
            );
        }
        assert!(matches!(
            locate_postcode(&idx, "ZZ9 9ZZ"),
            Err(LocateError::NotFound(_))
        ));
        assert!(matches!(
            locate_postcode(&idx, "ZZ99"),
            Err(LocateError::NotFound(_))
        ));
    }
}
