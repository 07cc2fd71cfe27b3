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

/// How many cells a covering spans across the circle's height. Finer cells
/// fit the circle more closely, so fewer candidates outside the radius are
/// read and rejected, but each cell is one more posting list to merge. At
/// four, a 5 km search reads about twice the circle's area (the whole
/// bounding box of level-4 cells it used before was about five times).
const CELLS_PER_DIAMETER: f64 = 4.0;

/// The cells that together cover a circle: those of the bounding box that
/// reach into the circle, at the smallest level with about
/// `CELLS_PER_DIAMETER` cells across it.
pub fn cells_covering(latitude: f64, longitude: f64, radius_m: f64) -> Vec<String> {
    let origin = (latitude, longitude);
    let bounds = Bounds::around(origin, radius_m);
    let (south, north) = bounds.latitude;
    let (west, east) = bounds.longitude.unwrap_or((-180.0, 180.0));
    let level = (0..LEVELS)
        .find(|l| size(*l) * CELLS_PER_DIAMETER >= north - south)
        .unwrap_or(LEVELS - 1);
    let side = size(level);
    // Nearest point of a cell to the origin by clamping; on a sphere it can
    // be a little nearer than that, which the margin more than covers.
    let reach = radius_m * 1.01 + 10.0;
    let mut cells = Vec::new();
    for x in index(west, 180.0, level)..=index(east, 180.0, level) {
        let (cell_west, cell_east) = (x as f64 * side - 180.0, (x + 1) as f64 * side - 180.0);
        for y in index(south, 90.0, level)..=index(north, 90.0, level) {
            let (cell_south, cell_north) = (y as f64 * side - 90.0, (y + 1) as f64 * side - 90.0);
            let nearest = (
                latitude.clamp(cell_south, cell_north),
                longitude.clamp(cell_west, cell_east),
            );
            if distance_m(origin, nearest) <= reach {
                cells.push(format!("{level}:{x}:{y}"));
            }
        }
    }
    cells
}

/// The latitude/longitude box around a circle (on a sphere, with a margin
/// for rounding): a cheap test that rejects most far points exactly.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub latitude: (f64, f64),
    /// `None` when the circle reaches a pole.
    pub longitude: Option<(f64, f64)>,
}

impl Bounds {
    pub fn around((latitude, longitude): (f64, f64), radius_m: f64) -> Self {
        // The mean radius geo's Haversine uses; a point within the circle is
        // at most radius/R radians of latitude away.
        const EARTH_RADIUS_M: f64 = 6_371_008.8;
        let angle = radius_m / EARTH_RADIUS_M * 1.001 + 1e-7;
        let dlat = angle.to_degrees();
        // Longitude span of a spherical cap: asin(sin(angle) / cos(latitude)),
        // unbounded when the cap reaches a pole.
        let ratio = angle.sin() / (latitude.abs() + dlat).min(90.0).to_radians().cos();
        let longitude = (ratio < 1.0).then(|| {
            let dlon = ratio.asin().to_degrees();
            (longitude - dlon, longitude + dlon)
        });
        Bounds {
            latitude: (latitude - dlat, latitude + dlat),
            longitude,
        }
    }

    pub fn contains(&self, (latitude, longitude): (f64, f64)) -> bool {
        latitude >= self.latitude.0
            && latitude <= self.latitude.1
            && self
                .longitude
                .is_none_or(|(west, east)| longitude >= west && longitude <= east)
    }
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

    /// Points along a bearing (radians) from `origin`, by a parameter in
    /// degrees of latitude.
    fn along(origin: (f64, f64), bearing: f64) -> impl Fn(f64) -> (f64, f64) {
        move |d: f64| {
            (
                origin.0 + d * bearing.cos(),
                origin.1 + d * bearing.sin() / origin.0.to_radians().cos(),
            )
        }
    }

    /// The parameter of `along` at which the point is `radius` metres away
    /// by haversine (from just inside), by bisection.
    fn bisect_radius(origin: (f64, f64), radius: f64, bearing: f64) -> f64 {
        let at = along(origin, bearing);
        let (mut lo, mut hi) = (0.0, 5.0);
        for _ in 0..60 {
            let mid = (lo + hi) / 2.0;
            if distance_m(origin, at(mid)) < radius {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo
    }

    #[test]
    fn covering_cells_contain_every_point_in_the_circle() {
        for (origin, radius) in [
            ((55.865242, -4.232246), 100.0),
            ((55.865242, -4.232246), 1_000.0),
            ((55.865242, -4.232246), 5_000.0),
            ((55.865242, -4.232246), 25_000.0),
            ((55.865242, -4.232246), 100_000.0),
            ((60.15, -1.15), 5_000.0),
            ((60.15, -1.15), 100_000.0),
        ] {
            let cover = cells_covering(origin.0, origin.1, radius);
            assert!(cover.len() <= 40, "{radius} m needs {} cells", cover.len());
            for step in 0..360 {
                let bearing = f64::from(step).to_radians();
                let edge = bisect_radius(origin, radius, bearing);
                let at = along(origin, bearing);
                // The rim, and points inside along the same bearing.
                for fraction in [1.0, 0.9, 0.6, 0.3, 0.0] {
                    let (lat, lon) = at(edge * fraction);
                    let mine = cells_for_point(lat, lon);
                    assert!(
                        mine.iter().any(|c| cover.contains(c)),
                        "point at {lat},{lon} not covered for {radius} m"
                    );
                }
            }
        }
    }

    #[test]
    fn covering_cells_leave_out_the_corners() {
        // A 5 km circle in Glasgow: the cells used cover at most about
        // three times its area (the whole bounding box would be more).
        let (lat, lon) = (55.865242, -4.232246);
        let cover = cells_covering(lat, lon, 5_000.0);
        let level: u32 = cover[0].split(':').next().unwrap().parse().unwrap();
        let side_m = size(level) * 111_195.0;
        let area = cover.len() as f64 * side_m * side_m * lat.to_radians().cos();
        let circle = std::f64::consts::PI * 5_000.0 * 5_000.0;
        assert!(area < 3.0 * circle, "{} cells, {area} m²", cover.len());
    }

    #[test]
    fn bounds_hold_every_point_within_the_radius() {
        // Points on circles just inside each radius, all round, at Scottish
        // and far-north latitudes: all inside the box; just outside the box
        // is always beyond the radius.
        for (origin, radius) in [
            ((55.85, -4.25), 5_000.0),
            ((55.85, -4.25), 100_000.0),
            ((60.15, -1.15), 50_000.0),
            ((0.0, 0.0), 1_000.0),
        ] {
            let bounds = Bounds::around(origin, radius);
            for step in 0..360 {
                let bearing = f64::from(step).to_radians();
                let edge = bisect_radius(origin, radius, bearing);
                let at = along(origin, bearing);
                assert!(bounds.contains(at(edge)), "{origin:?} {radius} {step}");
            }
            let outside_lat = (bounds.latitude.1 + 1e-6, origin.1);
            assert!(distance_m(origin, outside_lat) > radius);
            if let Some((_, east)) = bounds.longitude {
                assert!(distance_m(origin, (origin.0, east + 1e-6)) > radius);
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
