use reqwest::Method;
use serde_json::json;

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
