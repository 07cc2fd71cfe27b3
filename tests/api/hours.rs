//! Opening hours, eligibility and access: computed in responses and
//! filtered through the real index.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

async fn fixture(app: &TestApp) -> String {
    let org = app.create_org("Hours Trust").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let hall = app
        .post(
            "/api/v1/locations",
            &json!({"organisation_id": org, "name": "Hall", "postcode": "G31 2ER", "accessibility": ["hearing-loop"]}),
        )
        .await
        .expect(201)
        .body["data"]["id"]
        .clone();
    let weekdays = json!([{"freq": "weekly", "byday": ["MO", "TU", "WE", "TH", "FR"], "opens_at": "09:00", "closes_at": "17:00"}]);
    let services = [
        json!({"name": "A weekday club", "schedules": weekdays, "closed_on_public_holidays": true,
               "eligibility": {"minimum_age": 60}, "free": true, "languages": ["en", "gd"],
               "delivery_methods": ["in_person"], "self_referral": true, "location_ids": [hall]}),
        json!({"name": "B saturday youth", "schedules": [{"freq": "weekly", "byday": ["SA"], "opens_at": "10:00", "closes_at": "12:00"}],
               "eligibility": {"maximum_age": 25}, "free": false, "fees_text": "£2", "languages": ["pl"],
               "delivery_methods": ["phone"], "referral_required": true, "service_areas": ["S92000003"]}),
        json!({"name": "C night shelter", "schedules": [{"freq": "weekly", "byday": ["FR"], "opens_at": "22:00", "closes_at": "02:00", "overnight": true}],
               "location_ids": [hall]}),
        json!({"name": "D odd hours advice", "schedules": [{"freq": "weekly", "byday": ["MO", "TU", "WE", "TH", "FR"], "opens_at": "09:10", "closes_at": "16:50"}],
               "exceptions": [{"starts_on": "2026-12-24", "description": "Christmas Eve"}], "location_ids": [hall]}),
        json!({"name": "E helpline", "open_24_hours": true, "service_areas": ["S92000003"]}),
        json!({"name": "F appointments", "by_appointment": true, "location_ids": [hall]}),
    ];
    for mut body in services {
        body["organisation_id"] = json!(org);
        app.create_service(&body).await;
    }
    org
}

async fn wait_indexed(app: &TestApp, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = app
            .get("/api/v1/services/search?per_page=1")
            .await
            .expect(200);
        if r.body["pagination"]["total_items"] == n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "index never reached {n}: {}",
            r.body
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn names(app: &TestApp, query: &str) -> Vec<String> {
    let r = app
        .get(&format!(
            "/api/v1/services/search?per_page=100&sort=name&{query}"
        ))
        .await
        .expect(200);
    r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["service"]["name"].as_str().unwrap()[..1].to_string())
        .collect()
}

#[tokio::test]
async fn opening_is_computed_in_every_service_response() {
    let app = spawn_app().await;
    fixture(&app).await;
    let list = app
        .get("/api/v1/services?sort=name&at=2026-11-23T10:00:00Z")
        .await
        .expect(200);
    let a = &list.body["data"][0];
    assert_eq!(a["name"], "A weekday club");
    assert_eq!(a["opening"]["open_now"], true);
    assert_eq!(a["opening"]["closes_at"], "2026-11-23T17:00:00Z");
    assert_eq!(a["opening"]["as_of"], "2026-11-23T10:00:00Z");
    let summary = a["opening"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("Mon–Fri 09:00–17:00") && summary.contains("public holidays"),
        "{summary}"
    );

    let id = a["id"].as_str().unwrap();
    // St Andrew's Day 2026 is a Monday: closed, next open Tuesday 09:00.
    let holiday = app
        .get(&format!("/api/v1/services/{id}?at=2026-11-30T10:00:00Z"))
        .await
        .expect(200);
    assert_eq!(holiday.body["data"]["opening"]["open_now"], false);
    assert_eq!(
        holiday.body["data"]["opening"]["next_open"],
        "2026-12-01T09:00:00Z"
    );
    // In summer, 09:30 BST is 08:30 UTC.
    let summer = app
        .get(&format!("/api/v1/services/{id}?at=2026-07-06T08:30:00Z"))
        .await
        .expect(200);
    assert_eq!(summer.body["data"]["opening"]["open_now"], true);
    assert_eq!(
        summer.body["data"]["opening"]["closes_at"],
        "2026-07-06T16:00:00Z"
    );
    app.get(&format!("/api/v1/services/{id}?at=tomorrow"))
        .await
        .expect_problem(400, "at");

    wait_indexed(&app, 6).await;
    let hit = app
        .get("/api/v1/services/search?q=weekday+club&at=2026-11-23T10:00:00Z")
        .await
        .expect(200);
    assert_eq!(
        hit.body["data"][0]["service"]["opening"]["open_now"], true,
        "search hits carry opening too"
    );
}

#[tokio::test]
async fn time_filters_are_exact_across_holidays_overnight_and_exceptions() {
    let app = spawn_app().await;
    fixture(&app).await;
    wait_indexed(&app, 6).await;
    let cases = [
        ("open_at=2026-11-23T10:00:00Z", vec!["A", "D", "E"]),
        ("open_at=2026-11-30T10:00:00Z", vec!["D", "E"]),
        ("open_at=2026-11-28T00:30:00Z", vec!["C", "E"]),
        ("open_at=2026-12-24T10:00:00Z", vec!["A", "E"]),
        ("open_at=2026-11-23T09:05:00Z", vec!["A", "E"]),
        ("open_at=2026-07-06T08:30:00Z", vec!["A", "D", "E"]),
        ("day=SA&start_time=09:00&end_time=11:00", vec!["B", "E"]),
        ("day=SA&start_time=13:00&end_time=15:00", vec!["E"]),
        ("day=sa", vec!["B", "C", "E"]),
    ];
    for (query, expected) in cases {
        assert_eq!(names(&app, query).await, expected, "{query}");
    }
    let now = names(&app, "open_now=true").await;
    assert!(
        now.contains(&"E".to_string()) && !now.contains(&"F".to_string()),
        "{now:?}"
    );
}

#[tokio::test]
async fn eligibility_and_access_filters_combine_with_everything_else() {
    let app = spawn_app().await;
    fixture(&app).await;
    wait_indexed(&app, 6).await;
    let cases = [
        ("age=70", vec!["A", "C", "D", "E", "F"]),
        ("age=20", vec!["B", "C", "D", "E", "F"]),
        ("free=true", vec!["A"]),
        ("language=gd", vec!["A"]),
        ("language=pl,gd", vec!["A", "B"]),
        ("accessibility=hearing-loop", vec!["A", "C", "D", "F"]),
        ("access=referral", vec!["B"]),
        ("access=self_referral", vec!["A"]),
        ("delivery=phone", vec!["B"]),
        ("delivery=phone,in_person", vec!["A", "B"]),
        (
            "age=70&open_at=2026-11-23T10:00:00Z&postcode=G31+2ER&radius=1000",
            vec!["A", "D", "E"],
        ),
        (
            "q=club&age=70&open_at=2026-11-23T10:00:00Z&postcode=G31+2ER",
            vec!["A"],
        ),
    ];
    for (query, expected) in cases {
        assert_eq!(names(&app, query).await, expected, "{query}");
    }
    let faceted = app
        .get("/api/v1/services/search?age=20&open_at=2026-11-28T11:00:00Z")
        .await
        .expect(200);
    assert_eq!(
        faceted.body["pagination"]["total_items"], 2,
        "{}",
        faceted.body
    );
}

#[tokio::test]
async fn unknown_hours_midnight_closing_and_dated_exceptions() {
    let app = spawn_app().await;
    let org = app.create_org("Midnight Trust").await["id"].clone();
    let notes_only = app
        .create_service(&json!({"organisation_id": org, "name": "Notes only",
            "hours_notes": "Phone to check: hours vary with volunteers"}))
        .await;
    let id = notes_only["id"].as_str().unwrap();
    let read = app
        .get(&format!("/api/v1/services/{id}?at=2026-11-23T10:00:00Z"))
        .await
        .expect(200);
    let opening = &read.body["data"]["opening"];
    assert_eq!(opening["open_now"], Value::Null, "unknown, not closed");
    assert_eq!(
        opening["summary"],
        "Phone to check: hours vary with volunteers"
    );

    // Every evening until midnight and on until 02:00, written both ways.
    for until in ["24:00", "23:59"] {
        let late = app
            .create_service(&json!({"organisation_id": org, "name": format!("Late {until}"),
                "schedules": [
                    {"freq": "weekly", "byday": ["MO", "TU", "WE", "TH", "FR", "SA", "SU"], "opens_at": "00:00", "closes_at": "02:00"},
                    {"freq": "weekly", "byday": ["MO", "TU", "WE", "TH", "FR", "SA", "SU"], "opens_at": "18:00", "closes_at": until},
                ],
                "exceptions": [{"starts_on": "2026-12-24", "ends_on": "2027-01-02"}]}))
            .await;
        assert_eq!(late["schedules"][1]["closes_at"], until);
        let id = late["id"].as_str().unwrap();
        // 23:30 GMT on a Monday: open, and the opening runs to 02:00.
        let read = app
            .get(&format!("/api/v1/services/{id}?at=2026-11-23T23:30:00Z"))
            .await
            .expect(200);
        let opening = &read.body["data"]["opening"];
        assert_eq!(opening["open_now"], true, "{until}");
        assert_eq!(opening["closes_at"], "2026-11-24T02:00:00Z", "{until}");
        let summary = opening["summary"].as_str().unwrap();
        assert!(
            summary.contains("18:00–24:00") && summary.contains("closed 24 Dec 2026 to 2 Jan 2027"),
            "{until}: {summary}"
        );
    }
    wait_indexed(&app, 3).await;
    let evening = names(&app, "day=TU&start_time=23:00&end_time=24:00").await;
    assert_eq!(evening, ["L", "L"]);
}

#[tokio::test]
async fn bad_hours_and_filters_are_clear_errors() {
    let app = spawn_app().await;
    let org = app.create_org("Errors").await;
    let base = |schedules: Value| json!({"organisation_id": org["id"], "name": "X", "schedules": schedules});
    for (schedules, field) in [
        (
            json!([{"freq": "weekly", "byday": ["MO"], "opens_at": "22:00", "closes_at": "02:00"}]),
            "schedules[0].closes_at",
        ),
        (
            json!([{"freq": "weekly", "byday": ["MO"], "opens_at": "09:00", "closes_at": "17:00", "overnight": true}]),
            "schedules[0].overnight",
        ),
        (
            json!([{"freq": "weekly", "byday": ["MO"], "opens_at": "25:00", "closes_at": "26:00"}]),
            "schedules[0].opens_at",
        ),
        (
            json!([{"freq": "weekly", "byday": ["XX"], "opens_at": "09:00", "closes_at": "10:00"}]),
            "schedules[0].byday[0]",
        ),
        (
            json!([{"freq": "weekly", "byday": [], "opens_at": "09:00", "closes_at": "10:00"}]),
            "schedules[0].byday",
        ),
        (
            json!([{"freq": "weekly", "byday": ["MO"], "opens_at": "09:00", "closes_at": "10:00", "valid_from": "2026-02-30"}]),
            "schedules[0].valid_from",
        ),
    ] {
        app.post("/api/v1/services", &base(schedules))
            .await
            .expect_problem(422, field);
    }
    app.post("/api/v1/services", &json!({"organisation_id": org["id"], "name": "X", "exceptions": [{"starts_on": "2026-12-25", "ends_on": "2026-12-20"}]}))
        .await
        .expect_problem(422, "exceptions[0].ends_on");
    let impossible = app
        .post("/api/v1/services", &json!({"organisation_id": org["id"], "name": "X", "exceptions": [{"starts_on": "2026-02-30"}]}))
        .await
        .expect_problem(422, "exceptions[0].starts_on");
    assert!(
        impossible.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("YYYY-MM-DD"),
        "{}",
        impossible.body
    );
    // Two intervals open at once on Tuesday, and a 24-hour service with a timetable.
    let overlapping = json!([
        {"freq": "weekly", "byday": ["MO", "TU"], "opens_at": "09:00", "closes_at": "13:00"},
        {"freq": "weekly", "byday": ["TU"], "opens_at": "12:00", "closes_at": "17:00"},
    ]);
    let reply = app
        .post("/api/v1/services", &base(overlapping))
        .await
        .expect_problem(422, "schedules[1]");
    assert!(reply.body["detail"].as_str().unwrap().contains("TU"));
    let overnight_into_monday = json!([
        {"freq": "weekly", "byday": ["SU"], "opens_at": "22:00", "closes_at": "02:00", "overnight": true},
        {"freq": "weekly", "byday": ["MO"], "opens_at": "01:00", "closes_at": "03:00"},
    ]);
    app.post("/api/v1/services", &base(overnight_into_monday))
        .await
        .expect_problem(422, "schedules[1]");
    let touching = json!([
        {"freq": "weekly", "byday": ["MO"], "opens_at": "09:00", "closes_at": "12:00"},
        {"freq": "weekly", "byday": ["MO"], "opens_at": "12:00", "closes_at": "17:00"},
        {"freq": "weekly", "byday": ["MO"], "opens_at": "10:00", "closes_at": "11:00", "valid_from": "2027-01-01", "valid_to": "2026-12-01"},
    ]);
    let reply = app
        .post("/api/v1/services", &base(touching))
        .await
        .expect_problem(422, "schedules[2].valid_to");
    assert_eq!(
        reply.error_fields(),
        ["schedules[2].valid_to"],
        "touching intervals, and ones in windows that never meet, do not overlap"
    );
    let mut both = base(
        json!([{"freq": "weekly", "byday": ["MO"], "opens_at": "09:00", "closes_at": "17:00"}]),
    );
    both["open_24_hours"] = json!(true);
    app.post("/api/v1/services", &both)
        .await
        .expect_problem(422, "open_24_hours");
    for (query, field) in [
        ("day=XX", "day"),
        ("day=MO&start_time=25:00", "start_time"),
        ("day=MO&start_time=12:00&end_time=11:00", "end_time"),
        ("start_time=09:00", "day"),
        ("open_now=true&day=MO", "open_at"),
        ("open_at=soon", "open_at"),
        ("open_now=perhaps", "open_now"),
        ("age=-1", "age"),
        ("age=500", "age"),
        ("access=walk-in", "access"),
        ("delivery=pigeon", "delivery"),
        ("language=english", "language"),
        ("accessibility=Not%20A%20Slug", "accessibility"),
        ("free=maybe", "free"),
    ] {
        app.get(&format!("/api/v1/services/search?{query}"))
            .await
            .expect_problem(400, field);
    }
}
