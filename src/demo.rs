//! The demo directory (`fixtures/demo/directory.json`): invented Scottish
//! organisations and services, loaded into an empty database by
//! `serve --demo`. Loaded through the ordinary repositories, so it is
//! validated, audited and change-logged like any other write.

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::db::changes::Stamp;
use crate::db::{locations, organisations, services, DbConnection};
use crate::geo::PostcodeIndex;
use crate::model::location::LocationInput;
use crate::model::organisation::OrganisationInput;
use crate::model::service::ServiceInput;
use crate::model::Actor;

static DIRECTORY_JSON: &str = include_str!("../fixtures/demo/directory.json");

#[derive(Deserialize)]
struct Directory {
    organisations: Vec<DemoOrganisation>,
}

/// Each organisation in the fixture carries its locations and services;
/// those are the API bodies without `organisation_id`, which the nesting gives.
#[derive(Deserialize)]
struct DemoOrganisation {
    locations: Vec<JsonObject>,
    services: Vec<DemoService>,
    #[serde(flatten)]
    organisation: JsonObject,
}

#[derive(Deserialize)]
struct DemoService {
    /// When the listing was last checked (the demo spans fresh and stale).
    last_verified_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    service: JsonObject,
}

type JsonObject = serde_json::Map<String, serde_json::Value>;

/// Turns a fixture object into an API input type, adding `organisation_id`.
fn input<T: serde::de::DeserializeOwned>(
    mut fields: JsonObject,
    org_id: Option<uuid::Uuid>,
) -> anyhow::Result<T> {
    let name = fields
        .get("name")
        .and_then(|n| n.as_str())
        .unwrap_or("?")
        .to_string();
    if let Some(org) = org_id {
        fields.insert(
            "organisation_id".into(),
            serde_json::Value::String(org.to_string()),
        );
    }
    serde_json::from_value(serde_json::Value::Object(fields))
        .with_context(|| format!("reading demo record '{name}'"))
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DemoCounts {
    pub organisations: usize,
    pub locations: usize,
    pub services: usize,
}

/// Loads the demo directory unless the database already holds organisations.
pub fn load_if_empty(
    conn: &mut DbConnection,
    postcodes: &PostcodeIndex,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<DemoCounts>> {
    let filter = organisations::OrganisationFilter::default();
    let existing = organisations::list(
        conn,
        &filter,
        crate::db::paging::PageRequest {
            page: 1,
            per_page: 1,
        },
    )?;
    if existing.total > 0 {
        return Ok(None);
    }
    load(conn, postcodes, now).map(Some)
}

fn load(
    conn: &mut DbConnection,
    postcodes: &PostcodeIndex,
    now: DateTime<Utc>,
) -> anyhow::Result<DemoCounts> {
    let directory: Directory =
        serde_json::from_str(DIRECTORY_JSON).context("reading fixtures/demo/directory.json")?;
    let stamp = Stamp {
        actor: Actor::system("demo"),
        at: now,
    };
    let mut counts = DemoCounts::default();
    for demo in directory.organisations {
        let org: OrganisationInput = input(demo.organisation, None)?;
        let org_id = org.id.context("every demo organisation needs an id")?;
        let draft = org
            .validate()
            .map_err(|e| anyhow::anyhow!("demo organisation {org_id}: {e:?}"))?;
        organisations::create(conn, &stamp, Some(org_id), draft)?;
        counts.organisations += 1;

        for fields in demo.locations {
            let location: LocationInput = input(fields, Some(org_id))?;
            let id = location.id;
            let draft = location
                .validate(postcodes)
                .map_err(|e| anyhow::anyhow!("demo location {id:?}: {e:?}"))?;
            locations::create(conn, &stamp, id, draft)?;
            counts.locations += 1;
        }

        for demo_service in demo.services {
            let service: ServiceInput = input(demo_service.service, Some(org_id))?;
            let (id, name) = (service.id, service.name.clone());
            let draft = service
                .validate()
                .map_err(|e| anyhow::anyhow!("demo service {name}: {e:?}"))?;
            if let Err(e) = services::create(
                conn,
                &stamp,
                id,
                draft,
                demo_service
                    .last_verified_at
                    .map(|at| services::Assurance { at, by: None }),
            ) {
                bail!("demo service {name}: {e:?}");
            }
            counts.services += 1;
        }
    }
    Ok(counts)
}
