use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

async fn org_with_locations(app: &TestApp) -> (String, String, String) {
    let org = app.create_org("East End Larder").await;
    let org_id = org["id"].as_str().unwrap().to_string();
    let a = app.create_location(&org_id, "G31 2ER").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = app.create_location(&org_id, "G40 1AA").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    (org_id, a, b)
}

fn full_service(org_id: &str, loc_a: &str, loc_b: &str) -> Value {
    json!({
        "organisation_id": org_id,
        "name": "Saturday community pantry",
        "description": "Low-cost shopping: £3.50 for a bag of groceries worth £15.",
        "url": "https://www.larder.example/pantry",
        "email": "pantry@larder.example",
        "phones": [{"number": "0141 496 0100", "description": "Saturdays only"}],
        "delivery_methods": ["in_person", "phone"],
        "self_referral": true,
        "referral_required": false,
        "free": false,
        "fees_text": "£3.50 membership per visit",
        "languages": ["en", "PL"],
        "categories": ["community-pantries", "food"],
        "community_groups": ["people-on-low-incomes"],
        "eligibility": {"minimum_age": 16, "maximum_age": null, "description": "Anyone in the G31 and G40 areas"},
        "service_areas": ["s12000049"],
        "location_ids": [loc_a, loc_b],
        "schedules": [
            {"freq": "weekly", "byday": ["SA"], "opens_at": "10:00", "closes_at": "13:00"},
            {"freq": "monthly", "byday": ["-1FR"], "opens_at": "17:00", "closes_at": "19:00", "location_id": loc_b, "description": "Last Friday evening"}
        ],
        "closed_on_public_holidays": true,
        "hours_notes": "Closed over Christmas"
    })
}

#[tokio::test]
async fn a_service_is_created_and_read_back_with_everything_nested() {
    let app = spawn_app().await;
    let (org_id, a, b) = org_with_locations(&app).await;
    let created = app
        .post("/api/v1/services", &full_service(&org_id, &a, &b))
        .await
        .expect(201);
    let s = &created.body["data"];
    let id = s["id"].as_str().unwrap();
    let read = app.get(&format!("/api/v1/services/{id}")).await.expect(200);
    let without_opening = |v: &Value| {
        let mut v = v.clone();
        v.as_object_mut().unwrap().remove("opening");
        v
    };
    assert_eq!(
        without_opening(&read.body["data"]),
        without_opening(s),
        "reads back what was written"
    );
    assert!(read.body["data"]["opening"]["summary"]
        .as_str()
        .unwrap()
        .contains("Sat 10:00–13:00"));

    assert_eq!(s["organisation"]["name"], "East End Larder");
    assert_eq!(s["status"], "active");
    assert_eq!(s["languages"], json!(["en", "pl"]));
    assert_eq!(s["delivery_methods"], json!(["in_person", "phone"]));
    let cats: Vec<&str> = s["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["slug"].as_str().unwrap())
        .collect();
    assert_eq!(cats.len(), 2);
    assert!(cats.contains(&"community-pantries") && cats.contains(&"food"));
    assert_eq!(s["community_groups"][0]["slug"], "people-on-low-incomes");
    assert_eq!(
        s["service_areas"],
        json!([{"code": "S12000049", "area_type": "council_area", "name": "Glasgow City"}])
    );
    assert_eq!(s["eligibility"]["minimum_age"], 16);
    assert_eq!(s["locations"].as_array().unwrap().len(), 2);
    assert!(s["locations"][0]["latitude"].is_f64());
    assert_eq!(s["schedules"][1]["byday"], json!(["-1FR"]));
    assert_eq!(s["schedules"][1]["location_id"], json!(b));
    assert_eq!(s["phones"][0]["number"], "0141 496 0100");
    assert_eq!(
        s["last_verified_at"],
        json!(null),
        "creating is not verifying"
    );
    assert_eq!(app.change_ops("service", id), ["create"]);
    let audit = app.audit("service", id);
    assert_eq!(audit[0].0, "create");
    assert_eq!(audit[0].1["name"]["after"], "Saturday community pantry");
}

#[tokio::test]
async fn patch_changes_only_what_it_names_and_verification_is_explicit() {
    let app = spawn_app().await;
    let (org_id, a, b) = org_with_locations(&app).await;
    let s = app.create_service(&full_service(&org_id, &a, &b)).await;
    let path = format!("/api/v1/services/{}", s["id"].as_str().unwrap());

    let patched = app
        .patch(&path, &json!({"name": "Saturday pantry", "email": null}))
        .await
        .expect(200);
    let p = &patched.body["data"];
    assert_eq!(p["name"], "Saturday pantry");
    assert_eq!(p["email"], json!(null));
    assert_eq!(
        p["schedules"].as_array().unwrap().len(),
        2,
        "untouched children stay"
    );
    assert_eq!(p["locations"].as_array().unwrap().len(), 2);
    assert_eq!(p["version"], 2);
    assert_eq!(
        p["last_verified_at"],
        json!(null),
        "an ordinary edit is not a verification"
    );

    let verified = app
        .patch(&path, &json!({"verified": true}))
        .await
        .expect(200);
    assert!(verified.body["data"]["last_verified_at"].is_string());
    assert!(verified.body["data"]["verified_by"]
        .as_str()
        .is_some_and(|v| v.starts_with("key:")));

    let audit = app.audit("service", s["id"].as_str().unwrap());
    assert_eq!(
        audit[1].1["name"],
        json!({"before": "Saturday community pantry", "after": "Saturday pantry"})
    );
    assert_eq!(audit[1].1["email"]["after"], json!(null));
    assert!(
        audit[1].1.get("schedules").is_none(),
        "unchanged fields are not in the audit row"
    );
    assert!(audit[2].1["last_verified_at"]["after"].is_string());

    // PUT replaces everything: children not sent are removed.
    let put = app
        .put(&path, &json!({"organisation_id": org_id, "name": "Pantry"}))
        .await
        .expect(200);
    assert_eq!(put.body["data"]["schedules"], json!([]));
    assert_eq!(put.body["data"]["locations"], json!([]));
    assert_eq!(put.body["data"]["categories"], json!([]));
    assert!(
        put.body["data"]["last_verified_at"].is_string(),
        "verification survives edits"
    );
}

#[tokio::test]
async fn references_are_checked_and_each_bad_one_named() {
    let app = spawn_app().await;
    let (org_id, a, _) = org_with_locations(&app).await;
    let other_org = app.create_org("Other").await;
    let foreign = app
        .create_location(other_org["id"].as_str().unwrap(), "EH1 1YZ")
        .await;
    let reply = app
        .post(
            "/api/v1/services",
            &json!({
                "organisation_id": org_id,
                "name": "Bad refs",
                "categories": ["food", "no-such-category"],
                "community_groups": ["martians"],
                "service_areas": ["S12000049", "X99999999"],
                "location_ids": [a, foreign["id"], uuid::Uuid::new_v4()],
                "replaced_by": uuid::Uuid::new_v4(),
                "status": "defunct",
                "status_reason": "Funding ended"
            }),
        )
        .await
        .expect(422);
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "categories[1]",
            "community_groups[0]",
            "location_ids[1]",
            "location_ids[2]",
            "replaced_by",
            "service_areas[1]"
        ]
    );
    app.post(
        "/api/v1/services",
        &json!({"organisation_id": uuid::Uuid::new_v4(), "name": "Orphan"}),
    )
    .await
    .expect_problem(422, "organisation_id");
}

#[tokio::test]
async fn field_rules_are_enforced() {
    let app = spawn_app().await;
    let (org_id, _, _) = org_with_locations(&app).await;
    let cases = [
        (json!({"status": "closed"}), "status"),
        (json!({"status": "temporarily_closed"}), "status_reason"),
        (json!({"reopens_on": "2027-01-01"}), "reopens_on"),
        (
            json!({"reopens_on": "2027-02-30", "status": "temporarily_closed", "status_reason": "Refurb"}),
            "reopens_on",
        ),
        (
            json!({"eligibility": {"minimum_age": -1}}),
            "eligibility.minimum_age",
        ),
        (
            json!({"eligibility": {"minimum_age": 70, "maximum_age": 60}}),
            "eligibility.maximum_age",
        ),
        (
            json!({"eligibility": {"minimum_age": 200}}),
            "eligibility.minimum_age",
        ),
        (
            json!({"delivery_methods": ["carrier_pigeon"]}),
            "delivery_methods[0]",
        ),
        (json!({"languages": ["english"]}), "languages[0]"),
        (json!({"url": "not a url"}), "url"),
        (json!({"email": "a@b"}), "email"),
        (json!({"phones": [{"number": "abc"}]}), "phones[0].number"),
        (
            json!({"schedules": [{"freq": "daily", "byday": ["MO"], "opens_at": "09:00", "closes_at": "10:00"}]}),
            "schedules[0].freq",
        ),
        (
            json!({"schedules": [{"freq": "weekly", "byday": ["XX"], "opens_at": "09:00", "closes_at": "10:00"}]}),
            "schedules[0].byday[0]",
        ),
        (
            json!({"schedules": [{"freq": "weekly", "byday": [], "opens_at": "09:00", "closes_at": "10:00"}]}),
            "schedules[0].byday",
        ),
        (
            json!({"schedules": [{"freq": "weekly", "byday": ["MO"], "opens_at": "25:00", "closes_at": "26:00"}]}),
            "schedules[0].opens_at",
        ),
        (
            json!({"schedules": [{"freq": "weekly", "byday": ["MO"], "opens_at": "17:00", "closes_at": "09:00"}]}),
            "schedules[0].closes_at",
        ),
        (
            json!({"schedules": [{"freq": "weekly", "byday": ["MO"], "opens_at": "09:00", "closes_at": "10:00", "valid_from": "2026-06-01", "valid_to": "2026-05-01"}]}),
            "schedules[0].valid_to",
        ),
        (
            json!({"schedules": [{"freq": "weekly", "byday": ["MO"], "opens_at": "09:00", "closes_at": "10:00", "location_id": uuid::Uuid::new_v4()}]}),
            "schedules[0].location_id",
        ),
        (json!({"name": "x".repeat(201)}), "name"),
        (json!({"description": "x".repeat(10_001)}), "description"),
        (json!({"categories": ["Not A Slug"]}), "categories[0]"),
        (json!({"colour": "blue"}), "colour"),
    ];
    for (patch, field) in cases {
        let mut body = json!({"organisation_id": org_id, "name": "Rules"});
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        app.post("/api/v1/services", &body)
            .await
            .expect_problem(422, field);
    }
}

#[tokio::test]
async fn deleting_archives_and_lists_filter() {
    let app = spawn_app().await;
    let (org_id, _, _) = org_with_locations(&app).await;
    let keep = app
        .create_service(&json!({"organisation_id": org_id, "name": "Keep"}))
        .await;
    let closed = app
        .create_service(&json!({"organisation_id": org_id, "name": "Closed for refurb", "status": "temporarily_closed", "status_reason": "Hall refurbishment", "reopens_on": "2027-03-01"}))
        .await;
    let gone = app
        .create_service(&json!({"organisation_id": org_id, "name": "Gone"}))
        .await;
    let gone_id = gone["id"].as_str().unwrap();
    app.delete(&format!("/api/v1/services/{gone_id}"))
        .await
        .expect(200);
    // Deleting twice is harmless.
    app.delete(&format!("/api/v1/services/{gone_id}"))
        .await
        .expect(200);
    let still = app
        .get(&format!("/api/v1/services/{gone_id}"))
        .await
        .expect(200);
    assert!(
        still.body["data"]["archived_at"].is_string(),
        "soft delete keeps the record readable"
    );
    assert_eq!(app.change_ops("service", gone_id), ["create", "archive"]);

    let list = app.get("/api/v1/services").await.expect(200);
    let names: Vec<&str> = list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Keep", "Closed for refurb"]);
    let with_archived = app
        .get("/api/v1/services?include_archived=true")
        .await
        .expect(200);
    assert_eq!(with_archived.body["pagination"]["total_items"], 3);
    let temp = app
        .get("/api/v1/services?status=temporarily_closed")
        .await
        .expect(200);
    assert_eq!(temp.body["data"][0]["id"], closed["id"]);
    assert_eq!(temp.body["data"][0]["reopens_on"], "2027-03-01");
    let by_org = app
        .get(&format!(
            "/api/v1/services?organisation_id={org_id}&sort=name"
        ))
        .await
        .expect(200);
    assert_eq!(by_org.body["data"][0]["name"], "Closed for refurb");
    let _ = keep;
    app.get("/api/v1/services?status=open")
        .await
        .expect_problem(400, "status");
}

#[tokio::test]
async fn modified_after_returns_only_later_changes() {
    let app = spawn_app().await;
    let (org_id, _, _) = org_with_locations(&app).await;
    let first = app
        .create_service(&json!({"organisation_id": org_id, "name": "First"}))
        .await;
    let cut = first["updated_at"].as_str().unwrap().to_string();
    let second = app
        .create_service(&json!({"organisation_id": org_id, "name": "Second"}))
        .await;
    let reply = app
        .get(&format!(
            "/api/v1/services?modified_after={}",
            urlencode(&cut)
        ))
        .await
        .expect(200);
    let ids: Vec<&Value> = reply.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["id"])
        .collect();
    assert_eq!(ids, [&second["id"]]);
    app.get("/api/v1/services?modified_after=yesterday")
        .await
        .expect_problem(400, "modified_after");
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
