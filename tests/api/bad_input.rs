use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::spawn_app;

#[tokio::test]
async fn malformed_bodies_are_clear_4xx() {
    let app = spawn_app().await;
    let org = app.create_org("Target").await;
    let path = format!("/api/v1/organisations/{}", org["id"].as_str().unwrap());

    let malformed = app
        .raw(
            Method::POST,
            "/api/v1/organisations",
            Some("application/json"),
            b"{\"name\": ".to_vec(),
        )
        .await;
    assert_eq!(malformed.status, 400);
    assert_eq!(
        malformed.header("content-type"),
        Some("application/problem+json")
    );

    app.post("/api/v1/organisations", &json!({"name": 42}))
        .await
        .expect_problem(422, "name");
    app.post("/api/v1/organisations", &json!(["not", "an", "object"]))
        .await
        .expect(422);
    app.post("/api/v1/organisations", &json!({}))
        .await
        .expect(422);
    app.post(
        "/api/v1/organisations",
        &json!({"name": "x".repeat(100_000)}),
    )
    .await
    .expect_problem(422, "name");
    app.post(
        "/api/v1/organisations",
        &json!({"id": "not-a-uuid", "name": "X"}),
    )
    .await
    .expect_problem(422, "id");
    app.post("/api/v1/organisations", &json!({"name": "Nul\u{0}byte"}))
        .await
        .expect_problem(422, "name");

    let huge = json!({"name": "Big", "description": "x".repeat(400_000)});
    let too_big = app.post("/api/v1/organisations", &huge).await;
    assert_eq!(too_big.status, 413);
    assert_eq!(
        too_big.header("content-type"),
        Some("application/problem+json")
    );

    let wrong_type = app
        .raw(
            Method::POST,
            "/api/v1/organisations",
            Some("text/plain"),
            b"{\"name\": \"X\"}".to_vec(),
        )
        .await;
    assert_eq!(wrong_type.status, 415);
    let no_type = app
        .raw(
            Method::POST,
            "/api/v1/organisations",
            None,
            b"{\"name\": \"X\"}".to_vec(),
        )
        .await;
    assert_eq!(no_type.status, 415);
    app.raw(
        Method::POST,
        "/api/v1/organisations",
        Some("application/json; charset=utf-8"),
        b"{\"name\": \"Charset OK\"}".to_vec(),
    )
    .await
    .expect(201);

    let invalid_utf8 = app
        .raw(
            Method::POST,
            "/api/v1/organisations",
            Some("application/json"),
            vec![b'{', b'"', 0xff, 0xfe, b'"', b'}'],
        )
        .await;
    assert_eq!(invalid_utf8.status, 400);

    app.patch(&path, &json!("a string"))
        .await
        .expect_problem(400, "body");
    app.patch(&path, &json!({"name": null}))
        .await
        .expect_problem(422, "name");
}

#[tokio::test]
async fn bad_ids_and_unknown_routes_are_4xx_problems() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/services/not-a-uuid",
        "/api/v1/organisations/123",
        "/api/v1/locations/%00",
        "/api/v1/taxonomy/'%20OR%201=1",
    ] {
        app.get(path).await.expect_problem(400, "id");
    }
    let unknown = app.get("/api/v1/nothing-here").await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.header("content-type"),
        Some("application/problem+json")
    );
}

#[tokio::test]
async fn no_hostile_input_produces_a_5xx() {
    let app = spawn_app().await;
    let org = app.create_org("Target").await;
    let org_id = org["id"].as_str().unwrap();
    let hostile = [
        json!({"organisation_id": org_id, "name": "'; DROP TABLE services; --"}),
        json!({"organisation_id": org_id, "name": "Emoji 🍲 and ünïcödé", "languages": ["gd"]}),
        json!({"organisation_id": org_id, "name": "X", "eligibility": {"minimum_age": 1e300}}),
        json!({"organisation_id": org_id, "name": "X", "eligibility": {"minimum_age": "ten"}}),
        json!({"organisation_id": org_id, "name": "X", "schedules": "always"}),
        json!({"organisation_id": org_id, "name": "X", "schedules": [{}]}),
        json!({"organisation_id": org_id, "name": "X", "phones": [{"number": "1".repeat(10_000)}]}),
        json!({"organisation_id": org_id, "name": "X", "categories": vec!["food"; 500]}),
        json!({"organisation_id": org_id, "name": "X", "location_ids": ["not-a-uuid"]}),
        json!({"organisation_id": org_id, "name": "X", "reopens_on": "yesterday"}),
        json!({"organisation_id": "", "name": "X"}),
        json!(null),
        json!(12),
    ];
    for body in hostile {
        let reply = app.post("/api/v1/services", &body).await;
        assert!(
            reply.status.is_client_error() || reply.status.is_success(),
            "{} for {body}: {}",
            reply.status,
            reply.body
        );
    }
    let listed = app.get("/api/v1/services?per_page=100").await.expect(200);
    assert!(listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["name"] == "'; DROP TABLE services; --"));
}

#[tokio::test]
async fn head_is_answered_like_get_and_405_is_a_problem() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/services/search?q=food",
        "/api/v1/suggest?q=foo",
        "/api/v1/places?q=G31",
        "/api/v1/taxonomy",
    ] {
        let get = app.raw(Method::GET, path, None, vec![]).await;
        let head = app.raw(Method::HEAD, path, None, vec![]).await;
        assert_eq!(get.status, 200, "{path}");
        assert_eq!(head.status, 200, "HEAD {path}");
        assert_eq!(head.body, Value::String(String::new()), "HEAD has no body");
        assert_eq!(
            head.header("content-type"),
            get.header("content-type"),
            "{path}"
        );
    }

    let wrong = app
        .raw(Method::PUT, "/api/v1/suggestions", None, vec![])
        .await
        .expect(405);
    assert_eq!(
        wrong.header("content-type"),
        Some("application/problem+json")
    );
    let allow: Vec<_> = wrong.headers.get_all("allow").iter().collect();
    assert_eq!(allow.len(), 1, "one Allow header: {allow:?}");
    assert_eq!(allow[0], "GET, HEAD, POST");
    assert!(wrong.body["detail"].as_str().unwrap().contains("PUT"));
}

#[tokio::test]
async fn query_strings_are_checked_everywhere() {
    let app = spawn_app().await;
    let service = app.create_org("Query Trust").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let org_path = format!("/api/v1/organisations/{service}");
    app.get(&format!("{org_path}?bogus=1"))
        .await
        .expect_problem(400, "bogus");
    app.get(&format!(
        "{org_path}?at=2026-01-01T00:00:00Z&at=2026-01-02T00:00:00Z"
    ))
    .await
    .expect_problem(400, "at");
    app.get(&format!("{org_path}?at=2026-01-01T00:00:00Z"))
        .await
        .expect(200);
    for list in [
        "/api/v1/services",
        "/api/v1/organisations",
        "/api/v1/taxonomy",
    ] {
        app.get(&format!("{list}?bogus=1"))
            .await
            .expect_problem(400, "bogus");
        app.get(&format!("{list}?page=1&page=2"))
            .await
            .expect_problem(400, "page");
    }
    for path in ["/api/v1/suggest", "/api/v1/places"] {
        app.get(&format!("{path}?q=a&extra=1"))
            .await
            .expect_problem(400, "extra");
        app.get(&format!("{path}?q=a&q=b"))
            .await
            .expect_problem(400, "q");
    }
    // Not UTF-8: a 400 naming the parameter, not a silent whole directory.
    for path in [
        "/api/v1/services/search?q=%FF%FE",
        "/api/v1/suggest?q=%C3",
        "/api/v1/places?q=%E2%82",
    ] {
        app.get(path).await.expect_problem(400, "q");
    }
    app.get("/api/v1/services/search?radius=1000")
        .await
        .expect_problem(400, "radius");
    app.get("/api/v1/services/search?accessibility=bogus")
        .await
        .expect_problem(400, "accessibility");
    app.get("/api/v1/services/search?accessibility=hearing-loop")
        .await
        .expect(200);
    app.get("/api/v1/services/search?open_at=2026-06-01T10:00:00Z&at=2026-06-01T10:00:00Z")
        .await
        .expect_problem(400, "at");
    app.get("/api/v1/services/search?day=MO&end_time=24:00")
        .await
        .expect(200);
    app.get("/api/v1/services/search?day=MO&start_time=24:00")
        .await
        .expect_problem(400, "start_time");
    // A hyphen for the space is read as a postcode; a near miss of nothing
    // gets no far-fetched suggestions.
    app.get("/api/v1/services/search?postcode=G31-2ER")
        .await
        .expect(200);
    let unknown = app
        .get("/api/v1/services/search?postcode=ZZ1+1ZZ")
        .await
        .expect_problem(404, "postcode");
    assert!(
        unknown.body["suggestions"]
            .as_array()
            .is_none_or(|s| s.is_empty()),
        "{}",
        unknown.body
    );
}
