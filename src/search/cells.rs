//! Geographic grid cells for candidate generation. Tantivy has no geo type,
//! and a range query over latitude/longitude fast fields is slow at a million
//! documents, so each location is indexed as one term per grid level and a
//! radius search asks for the few cells its bounding box touches. Exact
//! distances are then computed on the packed points (see `pack`).

/// Cell height/width in degrees at level 0 (about 550 m north–south).
const BASE_DEGREES: f64 = 0.005;
/// Levels 0..=LEVELS-1; each doubles the cell size (level 8 ≈ 142 km).
pub const LEVELS: u32 = 9;

fn size(level: u32) -> f64 {
    BASE_DEGREES * f64::from(1u32 << level)
}

fn index(value: f64, offset: f64, level: u32) -> i64 {
    ((value + offset) / size(level)).floor() as i64
}

/// The cell term of a point at a level, e.g. `3:4515:2917`.
pub fn cell(latitude: f64, longitude: f64, level: u32) -> String {
    format!(
        "{level}:{}:{}",
        index(longitude, 180.0, level),
        index(latitude, 90.0, level)
    )
}

/// Every level's cell for a point (what a location indexes).
pub fn cells_for_point(latitude: f64, longitude: f64) -> Vec<String> {
    (0..LEVELS)
        .map(|level| cell(latitude, longitude, level))
        .collect()
}

/// The cells that together cover a circle: at the smallest level whose cells
/// are at least as tall as the radius, so a handful of terms suffice.
pub fn cells_covering(latitude: f64, longitude: f64, radius_m: f64) -> Vec<String> {
    let dlat = radius_m / 111_320.0;
    let cos = latitude.to_radians().cos().abs().max(0.01);
    let dlon = radius_m / (111_320.0 * cos);
    let level = (0..LEVELS).find(|l| size(*l) >= dlat).unwrap_or(LEVELS - 1);
    let (x0, x1) = (
        index(longitude - dlon, 180.0, level),
        index(longitude + dlon, 180.0, level),
    );
    let (y0, y1) = (
        index(latitude - dlat, 90.0, level),
        index(latitude + dlat, 90.0, level),
    );
    let mut cells = Vec::new();
    for x in x0..=x1 {
        for y in y0..=y1 {
            cells.push(format!("{level}:{x}:{y}"));
        }
    }
    cells
}

/// Packs a point into one u64 (each coordinate to 1e-7 degrees, about 1 cm),
/// so a service's several locations fit one multi-valued fast field.
pub fn pack(latitude: f64, longitude: f64) -> u64 {
    let lat = ((latitude + 90.0) * 1e7).round() as u64;
    let lon = ((longitude + 180.0) * 1e7).round() as u64;
    (lat << 32) | (lon & 0xFFFF_FFFF)
}

pub fn unpack(packed: u64) -> (f64, f64) {
    let lat = (packed >> 32) as f64 / 1e7 - 90.0;
    let lon = (packed & 0xFFFF_FFFF) as f64 / 1e7 - 180.0;
    (lat, lon)
}

/// Great-circle distance in metres.
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    use geo::{Distance, Haversine, Point};
    Haversine.distance(Point::new(a.1, a.0), Point::new(b.1, b.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_round_trips_to_a_centimetre() {
        for (lat, lon) in [
            (55.865242, -4.232246),
            (-89.9, 179.9),
            (0.0, 0.0),
            (60.15, -1.14),
        ] {
            let (a, b) = unpack(pack(lat, lon));
            assert!(
                (a - lat).abs() < 1e-7 && (b - lon).abs() < 1e-7,
                "{lat},{lon} -> {a},{b}"
            );
        }
    }

    #[test]
    fn covering_cells_contain_every_point_in_the_circle() {
        let centre = (55.865242, -4.232246);
        for radius in [100.0, 1_000.0, 5_000.0, 25_000.0, 100_000.0] {
            let cover = cells_covering(centre.0, centre.1, radius);
            assert!(cover.len() <= 20, "{radius} m needs {} cells", cover.len());
            for step in 0..72 {
                let bearing = f64::from(step) * 5.0_f64.to_radians();
                let lat = centre.0 + (radius * 0.999 * bearing.cos()) / 111_320.0;
                let lon = centre.1
                    + (radius * 0.999 * bearing.sin()) / (111_320.0 * centre.0.to_radians().cos());
                let mine = cells_for_point(lat, lon);
                assert!(
                    mine.iter().any(|c| cover.contains(c)),
                    "point at {lat},{lon} not covered for {radius} m"
                );
            }
        }
    }

    #[test]
    fn haversine_matches_a_known_distance() {
        // Glasgow Royal Infirmary to Edinburgh Waverley: about 66 km.
        let d = distance_m((55.865242, -4.232246), (55.952, -3.189));
        assert!((65_000.0..67_000.0).contains(&d), "{d}");
    }
}
