//! Service areas: reference data (council areas, HSCPs, health boards,
//! Scotland, UK) loaded from `fixtures/service_areas.csv`.

use diesel::prelude::*;
use serde::Deserialize;

use super::rows::AreaRow;
use super::schema::service_areas;
use super::{DbConnection, RepoResult};
use crate::model::enums::AreaType;
use crate::model::read::ServiceArea;

static AREAS_CSV: &str = include_str!("../../fixtures/service_areas.csv");

#[derive(Deserialize)]
struct AreaCsv {
    code: String,
    area_type: String,
    name: String,
}

pub fn to_read(row: AreaRow) -> ServiceArea {
    ServiceArea {
        area_type: AreaType::parse(&row.area_type).unwrap_or(AreaType::CouncilArea),
        code: row.code,
        name: row.name,
    }
}

/// Inserts any shipped area that is missing (run at start-up; idempotent).
pub fn ensure_reference_data(conn: &mut DbConnection) -> anyhow::Result<usize> {
    let existing: Vec<String> = service_areas::table
        .select(service_areas::code)
        .load(conn)?;
    let mut added = 0;
    for row in csv::Reader::from_reader(AREAS_CSV.as_bytes()).deserialize::<AreaCsv>() {
        let row = row?;
        if existing.contains(&row.code) {
            continue;
        }
        AreaType::parse(&row.area_type).map_err(anyhow::Error::msg)?;
        diesel::insert_into(service_areas::table)
            .values(AreaRow {
                code: row.code,
                area_type: row.area_type,
                name: row.name,
            })
            .execute(conn)?;
        added += 1;
    }
    Ok(added)
}

/// Every area, most specific type first, then by name.
pub fn list(conn: &mut DbConnection, area_type: Option<AreaType>) -> RepoResult<Vec<ServiceArea>> {
    let mut q = service_areas::table.into_boxed();
    if let Some(t) = area_type {
        q = q.filter(service_areas::area_type.eq(t.as_str()));
    }
    let mut areas: Vec<ServiceArea> = q
        .select(AreaRow::as_select())
        .load(conn)?
        .into_iter()
        .map(to_read)
        .collect();
    areas.sort_by(|a, b| {
        let rank = |t: AreaType| AreaType::ALL.iter().position(|x| *x == t);
        rank(a.area_type)
            .cmp(&rank(b.area_type))
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(areas)
}

/// The areas among `codes` that exist.
pub fn find(conn: &mut DbConnection, codes: &[String]) -> RepoResult<Vec<ServiceArea>> {
    Ok(service_areas::table
        .filter(service_areas::code.eq_any(codes))
        .select(AreaRow::as_select())
        .load(conn)?
        .into_iter()
        .map(to_read)
        .collect())
}
