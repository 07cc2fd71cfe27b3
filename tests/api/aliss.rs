//! ALISS API v4 compatibility (`/api/v4`): the ALISS envelope and shapes
//! over the same index and database as v1. Geometry as in `search.rs`:
//! G31 2ER is at (55.865242, -4.232246).

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::helpers::{spawn_app, Reply, TestApp};

const ORIGIN: (f64, f64) = (55.865242, -4.232246);
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A point `metres` due north of G31 2ER.
fn north(metres: f64) -> (f64, f64) {
    (ORIGIN.0 + (metres / EARTH_RADIUS_M).to_degrees(), ORIGIN.1)
}

async fn org(app: &TestApp, name: &str) -> String {
    app.create_org(name).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A service of `org` at `points`, with extra fields merged in.
async fn service(
    app: &TestApp,
    org: &str,
    name: &str,
    points: &[(f64, f64)],
    extra: Value,
) -> String {
    let mut location_ids = Vec::new();
    for (i, p) in points.iter().enumerate() {
        let location = app
            .post(
                "/api/v1/locations",
                &json!({"organisation_id": org, "name": format!("{name} venue {i}"), "latitude": p.0, "longitude": p.1}),
            )
            .await
            .expect(201);
        location_ids.push(location.body["data"]["id"].clone());
    }
    let mut body = json!({"organisation_id": org, "name": name, "location_ids": location_ids, "verified": true});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.create_service(&body).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Polls `GET /api/v4/services/?{query}` until `done` holds (the indexer
/// commits in the background).
async fn aliss_until(app: &TestApp, query: &str, done: impl Fn(&Value) -> bool) -> Value {
    crate::helpers::poll_until(app, &format!("/api/v4/services/?{query}"), done).await
}

fn field(body: &Value, key: &str) -> Vec<Value> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s[key].clone())
        .collect()
}

fn names(body: &Value) -> Vec<String> {
    let mut found: Vec<String> = field(body, "name")
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect();
    found.sort();
    found
}

#[tokio::test]
async fn envelope_and_paging_walk_every_page_once() {
    let app = spawn_app().await;
    let org = org(&app, "Paging Trust").await;
    for i in 0..23 {
        service(&app, &org, &format!("Paging pantry {i:02}"), &[], json!({})).await;
    }
    let first = aliss_until(&app, "q=pantry&page_size=5", |b| b["count"] == 23).await;

    let meta = &first["meta"];
    assert_eq!(meta["api_version"], "v4");
    assert_eq!(meta["source"], "signpost");
    assert_eq!(meta["licence"], "Open Government Licence v3.0");
    assert!(!meta["attribution"].as_array().unwrap().is_empty());
    assert_eq!(first["previous"], Value::Null);
    assert!(first["next"]
        .as_str()
        .unwrap()
        .starts_with("/api/v4/services/?"));
    assert!(first.get("pagination").is_none() && first.get("links").is_none());

    // Forwards along `next`: every service once, five to a page.
    let mut pages = vec![first.clone()];
    while let Some(next) = pages.last().unwrap()["next"].as_str() {
        let page = app.get(next).await.expect(200).body;
        assert_eq!(page["count"], 23);
        pages.push(page);
    }
    assert_eq!(pages.len(), 5);
    let sizes: Vec<usize> = pages
        .iter()
        .map(|p| p["data"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [5, 5, 5, 5, 3]);
    let forward: Vec<Value> = pages.iter().flat_map(|p| field(p, "id")).collect();
    let unique: HashSet<String> = forward.iter().map(|v| v.to_string()).collect();
    assert_eq!(unique.len(), 23, "no duplicates and no gaps");

    // Backwards along `previous` from the last page: the same pages.
    let mut backward = vec![pages.last().unwrap().clone()];
    while let Some(previous) = backward.last().unwrap()["previous"].as_str() {
        backward.push(app.get(previous).await.expect(200).body);
    }
    backward.reverse();
    let back_ids: Vec<Value> = backward.iter().flat_map(|p| field(p, "id")).collect();
    assert_eq!(back_ids, forward);

    // Defaults, limits, the bare path and a page past the end.
    let default = app.get("/api/v4/services/?q=pantry").await.expect(200);
    assert_eq!(
        default.body["data"].as_array().unwrap().len(),
        10,
        "page_size defaults to 10"
    );
    let bare = app
        .get("/api/v4/services?q=pantry&page_size=100")
        .await
        .expect(200);
    assert_eq!(bare.body["data"].as_array().unwrap().len(), 23);
    assert_eq!(bare.body["next"], Value::Null);
    let past = app
        .get("/api/v4/services/?q=pantry&page=9")
        .await
        .expect(200);
    assert_eq!(past.body["data"], json!([]));
    assert_eq!(past.body["next"], Value::Null);
    assert!(past.body["previous"].as_str().unwrap().contains("page=3"));
}

#[tokio::test]
async fn postcode_radius_location_type_and_category_search_like_v1() {
    let app = spawn_app().await;
    let org = org(&app, "Fixture Trust").await;
    let same = json!({"description": "Hot lunches.", "categories": ["community-meals"]});
    service(
        &app,
        &org,
        "Far lunch club",
        &[north(4_000.0)],
        same.clone(),
    )
    .await;
    service(
        &app,
        &org,
        "Corner lunch club",
        &[north(300.0)],
        same.clone(),
    )
    .await;
    service(
        &app,
        &org,
        "Outside lunch club",
        &[north(6_000.0)],
        same.clone(),
    )
    .await;
    service(
        &app,
        &org,
        "Middle lunch club",
        &[north(1_000.0)],
        json!({"description": "Hot lunches.", "categories": ["food-banks"]}),
    )
    .await;
    service(
        &app,
        &org,
        "Glasgow lunch club line",
        &[],
        json!({"description": "Hot lunches.", "service_areas": ["S12000049"]}),
    )
    .await;
    service(
        &app,
        &org,
        "Edinburgh lunch club line",
        &[],
        json!({"description": "Hot lunches.", "service_areas": ["S12000036"]}),
    )
    .await;
    service(
        &app,
        &org,
        "Tenancy lunch club",
        &[north(200.0)],
        json!({"description": "Hot lunches.", "categories": ["tenancy-support"]}),
    )
    .await;

    let query = "q=lunch+club&postcode=G31+2ER&radius=5000";
    let body = aliss_until(&app, query, |b| b["count"] == 5).await;
    assert_eq!(
        names(&body),
        [
            "Corner lunch club",
            "Far lunch club",
            "Glasgow lunch club line",
            "Middle lunch club",
            "Tenancy lunch club"
        ],
        "6 km is outside 5 km; Edinburgh does not cover G31"
    );
    // Ranked exactly as v1 search ranks the same question, with its distances.
    let v1 = app
        .get(&format!("/api/v1/services/search?{query}&per_page=10"))
        .await
        .expect(200)
        .body;
    let v1_ids: Vec<Value> = v1["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["service"]["id"].clone())
        .collect();
    let v1_distances: Vec<Value> = v1["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["distance_m"].clone())
        .collect();
    assert_eq!(field(&body, "id"), v1_ids);
    assert_eq!(field(&body, "distance_m"), v1_distances);
    let local: Vec<u64> = field(&body, "distance_m")
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    assert_eq!(local, [200, 300, 1_000, 4_000], "nearest first");
    let national = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Glasgow lunch club line")
        .unwrap();
    assert_eq!(national["distance_m"], Value::Null);

    let wider = app
        .get("/api/v4/services/?q=lunch+club&postcode=G31+2ER&radius=7000")
        .await
        .expect(200);
    assert!(names(&wider.body).contains(&"Outside lunch club".to_string()));
    let locals = app
        .get(&format!("/api/v4/services/?{query}&location_type=local"))
        .await
        .expect(200);
    assert_eq!(
        names(&locals.body),
        [
            "Corner lunch club",
            "Far lunch club",
            "Middle lunch club",
            "Tenancy lunch club"
        ]
    );
    let nationals = app
        .get(&format!("/api/v4/services/?{query}&location_type=national"))
        .await
        .expect(200);
    assert_eq!(names(&nationals.body), ["Glasgow lunch club line"]);
    let all = app
        .get(&format!("/api/v4/services/?{query}&location_type=all"))
        .await
        .expect(200);
    assert_eq!(all.body["count"], 5);
    let sector = app
        .get("/api/v4/services/?q=lunch+club&postcode=g31+2&location_type=local")
        .await
        .expect(200);
    assert_eq!(sector.body["count"], 4, "a sector is a place too");

    // A parent category matches its descendants.
    let food = app
        .get(&format!("/api/v4/services/?{query}&category=food"))
        .await
        .expect(200);
    assert_eq!(
        names(&food.body),
        ["Corner lunch club", "Far lunch club", "Middle lunch club"]
    );
    let banks = app
        .get(&format!("/api/v4/services/?{query}&category=food-banks"))
        .await
        .expect(200);
    assert_eq!(names(&banks.body), ["Middle lunch club"]);
    let housing = app
        .get(&format!("/api/v4/services/?{query}&category=housing"))
        .await
        .expect(200);
    assert_eq!(names(&housing.body), ["Tenancy lunch club"]);

    // Without a place there are no distances.
    let anywhere = app
        .get("/api/v4/services/?q=lunch+club&page_size=20")
        .await
        .expect(200);
    assert_eq!(anywhere.body["count"], 7);
    assert!(field(&anywhere.body, "distance_m")
        .iter()
        .all(Value::is_null));
}

#[tokio::test]
async fn services_and_organisations_by_id() {
    let app = spawn_app().await;
    let org = app
        .post(
            "/api/v1/organisations",
            &json!({"name": "Duke Street Trust", "description": "Community hub.", "website": "https://duke.example/", "phone": "0141 496 0100", "email": "hello@duke.example"}),
        )
        .await
        .expect(201)
        .body["data"]
        .clone();
    let org_id = org["id"].as_str().unwrap().to_string();
    let location = app
        .post(
            "/api/v1/locations",
            &json!({"organisation_id": org_id, "name": "Duke Street hall", "address_1": "12 Duke Street", "address_2": "", "town": "Glasgow", "postcode": "G31 2ER"}),
        )
        .await
        .expect(201)
        .body["data"]
        .clone();
    let id = app
        .create_service(&json!({
            "organisation_id": org_id,
            "name": "Zebra crossing lunch club",
            "description": "Hot lunches on Tuesdays.",
            "url": "https://lunch.example/",
            "email": "lunch@duke.example",
            "phones": [{"number": "0141 496 0000"}, {"number": "0141 496 0001", "description": "Text"}],
            "categories": ["community-meals", "food-banks"],
            "service_areas": ["S12000049"],
            "location_ids": [location["id"]],
        }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let other = service(&app, &org_id, "Apple lunch club", &[], json!({})).await;
    let archived = service(&app, &org_id, "Mango lunch club", &[], json!({})).await;
    app.delete(&format!("/api/v1/services/{archived}"))
        .await
        .expect(200);

    let v1 = app
        .get(&format!("/api/v1/services/{id}"))
        .await
        .expect(200)
        .body["data"]
        .clone();
    let reply = app
        .get(&format!("/api/v4/services/{id}/"))
        .await
        .expect(200);
    assert_eq!(reply.body["meta"]["api_version"], "v4");
    let s = &reply.body["data"];
    assert_eq!(s["id"], id);
    assert_eq!(s["name"], "Zebra crossing lunch club");
    assert_eq!(s["description"], "Hot lunches on Tuesdays.");
    assert_eq!(s["url"], v1["url"]);
    assert_eq!(s["email"], "lunch@duke.example");
    assert_eq!(
        s["phone"], v1["phones"][0]["number"],
        "the first phone number"
    );
    let mut slugs: Vec<&str> = s["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["slug"].as_str().unwrap())
        .collect();
    slugs.sort();
    assert_eq!(slugs, ["community-meals", "food-banks"]);
    assert!(s["categories"][0]["name"].is_string());
    assert_eq!(
        s["service_areas"],
        json!([{"code": "S12000049", "name": "Glasgow City", "type": "council_area"}])
    );
    assert_eq!(
        s["organisation"],
        json!({"id": org_id, "name": "Duke Street Trust", "url": org["website"]})
    );
    let place = &s["locations"][0];
    assert_eq!(place["id"], location["id"]);
    assert_eq!(place["name"], "Duke Street hall");
    assert_eq!(
        place["formatted_address"],
        "12 Duke Street, Glasgow, G31 2ER"
    );
    assert!(place["latitude"].is_f64() && place["longitude"].is_f64());
    assert_eq!(s["last_updated"], v1["updated_at"]);
    assert_eq!(s["distance_m"], Value::Null);

    // The bare path, and search giving the same record as the database.
    assert_eq!(
        app.get(&format!("/api/v4/services/{id}"))
            .await
            .expect(200)
            .body,
        reply.body
    );
    let found = aliss_until(&app, "q=zebra", |b| b["count"] == 1).await;
    assert_eq!(found["data"][0], *s);

    let o = app
        .get(&format!("/api/v4/organisations/{org_id}/"))
        .await
        .expect(200)
        .body;
    assert_eq!(o["meta"]["source"], "signpost");
    let o = &o["data"];
    assert_eq!(o["id"], org_id);
    assert_eq!(o["name"], "Duke Street Trust");
    assert_eq!(o["description"], "Community hub.");
    assert_eq!(o["url"], org["website"]);
    assert_eq!(o["phone"], org["phone"]);
    assert_eq!(o["email"], "hello@duke.example");
    assert_eq!(o["last_updated"], org["updated_at"]);
    assert_eq!(
        o["services"],
        json!([{"id": other, "name": "Apple lunch club"}, {"id": id, "name": "Zebra crossing lunch club"}]),
        "live services by name; the archived one is left out"
    );
    app.get(&format!("/api/v4/organisations/{org_id}"))
        .await
        .expect(200);

    // Archived, unknown and malformed ids.
    not_found(app.get(&format!("/api/v4/services/{archived}/")).await);
    let unknown = uuid::Uuid::new_v4();
    not_found(app.get(&format!("/api/v4/services/{unknown}/")).await);
    not_found(app.get(&format!("/api/v4/organisations/{unknown}/")).await);
    app.get("/api/v4/services/not-a-uuid/")
        .await
        .expect_problem(400, "id");
    app.get("/api/v4/organisations/42/")
        .await
        .expect_problem(400, "id");
    let gone = app.create_org("Gone Trust").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.delete(&format!("/api/v1/organisations/{gone}"))
        .await
        .expect(200);
    not_found(app.get(&format!("/api/v4/organisations/{gone}/")).await);
}

/// A 404 problem+json.
#[track_caller]
fn not_found(reply: Reply) {
    let reply = reply.expect(404);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(reply.body["status"], 404);
}

#[tokio::test]
async fn categories_and_service_areas() {
    let app = spawn_app().await;
    let reply = app.get("/api/v4/categories/").await.expect(200);
    assert_eq!(reply.body["meta"]["api_version"], "v4");
    let tree = reply.body["data"].as_array().unwrap();
    let food = tree
        .iter()
        .find(|c| c["slug"] == "food")
        .expect("food is a top-level category");
    assert!(food["name"].is_string());
    assert!(food["sub_categories"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["slug"] == "food-banks" && c["sub_categories"].is_array()));
    let mut all = HashSet::new();
    let mut stack: Vec<&Value> = tree.iter().collect();
    while let Some(node) = stack.pop() {
        assert!(
            all.insert(node["slug"].as_str().unwrap().to_string()),
            "each category once"
        );
        stack.extend(node["sub_categories"].as_array().unwrap());
    }
    assert!(
        !all.contains("older-people"),
        "community groups are not categories"
    );
    assert!(
        !tree.iter().any(|c| c["slug"] == "food-banks"),
        "children are nested"
    );
    let names: Vec<&str> = tree.iter().map(|c| c["name"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "by name");
    app.get("/api/v4/categories").await.expect(200);

    let areas = app.get("/api/v4/service-areas/").await.expect(200);
    let areas = areas.body["data"].as_array().unwrap();
    let count = |t: &str| areas.iter().filter(|a| a["type"] == t).count();
    assert_eq!(count("council_area"), 32);
    assert_eq!(count("health_board"), 14);
    assert!(areas
        .contains(&json!({"code": "S12000049", "name": "Glasgow City", "type": "council_area"})));
    assert_eq!(areas[0]["type"], "council_area", "most specific first");
    app.get("/api/v4/service-areas").await.expect(200);
}

#[tokio::test]
async fn bad_search_parameters_are_problems_like_v1() {
    let app = spawn_app().await;
    for (query, field) in [
        ("catgory=food", "catgory"),
        ("per_page=5", "per_page"),
        ("lat=55&lon=-4", "lat"),
        ("radius=0&postcode=G31", "radius"),
        ("radius=100001&postcode=G31", "radius"),
        ("radius=far", "radius"),
        ("location_type=space", "location_type"),
        ("category=no-such-category", "category"),
        ("category=Bad%20Slug", "category"),
        ("page=0", "page"),
        ("page_size=0", "page_size"),
        ("page_size=101", "page_size"),
        ("page=1000&page_size=100", "page"),
        ("q=a&q=b", "q"),
    ] {
        app.get(&format!("/api/v4/services/?{query}"))
            .await
            .expect_problem(400, field);
    }
    app.get(&format!("/api/v4/services/?q={}", "x".repeat(201)))
        .await
        .expect_problem(400, "q");
    let unknown = app
        .get("/api/v4/services/?postcode=ZZ9+9ZZ")
        .await
        .expect_problem(404, "postcode");
    assert!(unknown.body["detail"].as_str().unwrap().contains("ZZ9 9ZZ"));
    let malformed = app
        .get("/api/v4/services/?postcode=G31+2E1X")
        .await
        .expect_problem(422, "postcode");
    assert!(!malformed.body["suggestions"].as_array().unwrap().is_empty());
}
