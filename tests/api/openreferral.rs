//! The Open Referral HSDS 3.0 read API (issue 7): every endpoint's output
//! for the whole demo directory validates against the HSDS schemas.

use std::collections::{BTreeSet, HashMap};

use serde_json::{json, Value};

use crate::helpers::{spawn_demo_app, TestApp};

/// The HSDS schemas with their file references inlined (cycles cut off
/// after a few levels, where anything is accepted).
struct Schemas(HashMap<String, Value>);

impl Schemas {
    fn load() -> Schemas {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hsds/schema");
        let mut files = HashMap::new();
        for entry in std::fs::read_dir(dir).expect("schema dir") {
            let path = entry.expect("entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let value: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            files.insert(name, value);
        }
        Schemas(files)
    }

    fn inline(&self, value: &Value, depth: usize) -> Value {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    if depth > 6 {
                        return json!({});
                    }
                    let file = self
                        .0
                        .get(target)
                        .unwrap_or_else(|| panic!("missing schema {target}"));
                    return self.inline(file, depth + 1);
                }
                Value::Object(
                    map.iter()
                        .map(|(k, v)| (k.clone(), self.inline(v, depth)))
                        .collect(),
                )
            }
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.inline(v, depth)).collect())
            }
            other => other.clone(),
        }
    }

    fn validator(&self, file: &str) -> jsonschema::Validator {
        let schema = self.inline(&self.0[file], 0);
        jsonschema::validator_for(&schema).expect("schema compiles")
    }
}

#[track_caller]
fn valid(validator: &jsonschema::Validator, what: &str, instance: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .take(5)
        .collect();
    assert!(
        errors.is_empty(),
        "{what} is not valid HSDS: {errors:?}\n{instance}"
    );
}

/// Every item of a paged list, checking the envelope on the way.
async fn walk(app: &TestApp, path: &str) -> Vec<Value> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut page = 1;
    let mut all = Vec::new();
    loop {
        let reply = app
            .get(&format!("{path}{sep}page={page}&per_page=25"))
            .await
            .expect(200);
        assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
        let body = reply.body;
        assert_eq!(body["page_number"], page);
        assert_eq!(body["first_page"], page == 1);
        let contents = body["contents"].as_array().unwrap().clone();
        assert_eq!(body["size"], contents.len());
        assert_eq!(body["empty"], contents.is_empty());
        all.extend(contents);
        if body["last_page"] == true {
            assert_eq!(body["total_items"], all.len(), "{path}: paging had gaps");
            break;
        }
        page += 1;
    }
    let ids: BTreeSet<String> = all
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), all.len(), "{path}: paging repeated an item");
    all
}

#[tokio::test]
async fn every_endpoint_serves_valid_hsds_for_the_whole_demo_directory() {
    let app = spawn_demo_app().await;
    let schemas = Schemas::load();
    let service = schemas.validator("service.json");
    let organization = schemas.validator("organization.json");
    let service_at_location = schemas.validator("service_at_location.json");
    let taxonomy = schemas.validator("taxonomy.json");
    let term = schemas.validator("taxonomy_term.json");

    let root = app.get("/openreferral/").await.expect(200);
    assert_eq!(root.body["version"], "3.0");
    assert!(root.body["openapi_url"]
        .as_str()
        .unwrap()
        .ends_with("/openreferral/openapi.json"));
    let spec = app.get("/openreferral/openapi.json").await.expect(200);
    assert!(spec.body["paths"]["/services"].is_object());

    let listed = walk(&app, "/openreferral/services").await;
    assert_eq!(listed.len(), 262);
    for s in &listed {
        valid(&service, "a listed service", s);
        assert!(
            s["phones"].as_array().is_none_or(|p| p.is_empty()),
            "lists are not nested"
        );
    }
    let full = walk(&app, "/openreferral/services?full_service=true").await;
    assert_eq!(full.len(), 262);
    for s in &full {
        valid(&service, "a full service", s);
    }
    assert!(full
        .iter()
        .any(|s| !s["service_at_locations"].as_array().unwrap().is_empty()));
    assert!(full
        .iter()
        .any(|s| !s["schedules"].as_array().unwrap().is_empty()));
    // The validators do refuse what is not HSDS.
    let mut broken = full[0].clone();
    broken["status"] = json!("temporarily_closed");
    assert!(
        !service.is_valid(&broken),
        "HSDS spells it 'temporarily closed'"
    );
    broken.as_object_mut().unwrap().remove("name");
    assert!(!service.is_valid(&broken));
    for s in full.iter().take(40) {
        let one = app
            .get(&format!(
                "/openreferral/services/{}",
                s["id"].as_str().unwrap()
            ))
            .await
            .expect(200);
        valid(&service, "a service by id", &one.body);
        assert_eq!(&one.body, s, "by id equals the full list entry");
    }

    let orgs = walk(&app, "/openreferral/organizations").await;
    assert_eq!(orgs.len(), 78);
    for o in &orgs {
        valid(&organization, "an organization", o);
    }
    for o in orgs.iter().take(20) {
        let one = app
            .get(&format!(
                "/openreferral/organizations/{}",
                o["id"].as_str().unwrap()
            ))
            .await
            .expect(200);
        valid(&organization, "a full organization", &one.body);
        for s in one.body["services"].as_array().unwrap() {
            valid(&service, "a service of an organization", s);
        }
    }

    let taxonomies = walk(&app, "/openreferral/taxonomies").await;
    for t in &taxonomies {
        valid(&taxonomy, "a taxonomy", t);
        app.get(&format!(
            "/openreferral/taxonomies/{}",
            t["id"].as_str().unwrap()
        ))
        .await
        .expect(200);
    }
    let terms = walk(&app, "/openreferral/taxonomy_terms").await;
    for t in &terms {
        valid(&term, "a taxonomy term", t);
    }
    let top = walk(&app, "/openreferral/taxonomy_terms?top_only=true").await;
    assert!(!top.is_empty() && top.iter().all(|t| t["parent_id"].is_null()));
    let parent = top
        .iter()
        .find(|t| terms.iter().any(|c| c["parent_id"] == t["id"]))
        .unwrap();
    let children = walk(
        &app,
        &format!(
            "/openreferral/taxonomy_terms?parent_id={}",
            parent["id"].as_str().unwrap()
        ),
    )
    .await;
    assert!(!children.is_empty() && children.iter().all(|c| c["parent_id"] == parent["id"]));

    let sals = walk(&app, "/openreferral/service_at_locations?full=true").await;
    assert!(!sals.is_empty());
    for sal in &sals {
        valid(&service_at_location, "a service_at_location", sal);
    }
    let one = app
        .get(&format!(
            "/openreferral/service_at_locations/{}",
            sals[0]["id"].as_str().unwrap()
        ))
        .await
        .expect(200);
    valid(
        &service_at_location,
        "a service_at_location by id",
        &one.body,
    );
    let near = walk(
        &app,
        "/openreferral/service_at_locations?postcode=G31%202ER&proximity=2000",
    )
    .await;
    assert!(!near.is_empty() && near.len() < sals.len());
    for sal in &near {
        valid(&service_at_location, "a nearby service_at_location", sal);
    }
}

#[tokio::test]
async fn filters_combine_and_modified_after_returns_exactly_the_changes() {
    let app = spawn_demo_app().await;
    let terms = app
        .get("/openreferral/taxonomy_terms?search=food&per_page=100")
        .await
        .expect(200);
    let food = terms.body["contents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["taxonomy"] == "category")
        .expect("a food category")
        .clone();
    let by_term = walk(
        &app,
        &format!(
            "/openreferral/services?taxonomy_term_id={}&full_service=true",
            food["id"].as_str().unwrap()
        ),
    )
    .await;
    assert!(!by_term.is_empty());
    for s in &by_term {
        let codes: Vec<&str> = s["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a["taxonomy_term"]["code"].as_str())
            .collect();
        assert!(!codes.is_empty(), "{}", s["name"]);
    }
    let org = by_term[0]["organization_id"].as_str().unwrap();
    let both = walk(
        &app,
        &format!(
            "/openreferral/services?taxonomy_term_id={}&organization_id={org}",
            food["id"].as_str().unwrap()
        ),
    )
    .await;
    assert!(!both.is_empty() && both.len() <= by_term.len());
    assert!(both.iter().all(|s| s["organization_id"] == org));

    let for_kids = walk(
        &app,
        "/openreferral/services?minimum_age=5&maximum_age=10&full_service=true",
    )
    .await;
    for s in &for_kids {
        let (min, max) = (
            s["minimum_age"].as_i64().unwrap_or(0),
            s["maximum_age"].as_i64().unwrap_or(1000),
        );
        assert!(
            min <= 10 && max >= 5,
            "{} ({min}-{max}) is not for 5-10 year olds",
            s["name"]
        );
    }
    let saturday = walk(
        &app,
        "/openreferral/services?day=SA&start_time=10:00&end_time=12:00&full_service=true",
    )
    .await;
    assert!(!saturday.is_empty());
    for s in &saturday {
        let on_saturday = s["schedules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|sc| sc["byday"].as_str().unwrap_or("").contains("SA"));
        assert!(
            on_saturday
                || s["attributes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|a| a["taxonomy_term"]["code"] == "open_24_hours"),
            "{}",
            s["name"]
        );
    }

    // modified_after: exactly the services written after the instant.
    let instant = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let some = walk(&app, "/openreferral/services").await;
    let changed: Vec<String> = some
        .iter()
        .take(3)
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    for id in &changed {
        app.patch(
            &format!("/api/v1/services/{id}"),
            &json!({"description": "Updated for the sync test"}),
        )
        .await
        .expect(200);
    }
    let since = walk(
        &app,
        &format!(
            "/openreferral/services?modified_after={}",
            instant.to_rfc3339().replace('+', "%2B")
        ),
    )
    .await;
    let mut got: Vec<String> = since
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    got.sort();
    let mut want = changed.clone();
    want.sort();
    assert_eq!(got, want);

    let ndjson = app
        .get("/openreferral/services?format=ndjson&per_page=5")
        .await
        .expect(200);
    let text = ndjson.body.as_str().unwrap().to_string();
    assert_eq!(text.lines().count(), 5);
    for line in text.lines() {
        serde_json::from_str::<Value>(line).expect("one JSON object per line");
    }

    app.get("/openreferral/services?colour=red")
        .await
        .expect_problem(400, "colour");
    app.get("/openreferral/services?taxonomy_term_id=nope")
        .await
        .expect_problem(400, "taxonomy_term_id");
    app.get("/openreferral/services?day=XX")
        .await
        .expect_problem(400, "day");
    app.get("/openreferral/services?format=xml")
        .await
        .expect_problem(400, "format");
    app.get("/openreferral/services/7d444840-9dc0-11d1-b245-5ffdce74fad2")
        .await
        .expect(404);
    app.get("/openreferral/services/not-a-uuid")
        .await
        .expect(400);
    app.get("/openreferral/service_at_locations?postcode=NOPE")
        .await
        .expect(422);
}
