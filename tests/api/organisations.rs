use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn create_read_update_patch_delete_with_change_log_and_audit() {
    let app = spawn_app().await;
    let created = app
        .post(
            "/api/v1/organisations",
            &json!({"name": "  Parkhead Pantry ", "email": "hello@pantry.example", "phone": "0141 496 0001", "charity_number": "sc000001"}),
        )
        .await
        .expect(201);
    let id = created.body["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/organisations/{id}").as_str())
    );
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(created.body["data"]["name"], "Parkhead Pantry");
    assert_eq!(created.body["data"]["charity_number"], "SC000001");
    assert!(created.body["meta"]["licence"].is_string());
    assert!(created.body["meta"]["attribution"][0]
        .as_str()
        .unwrap()
        .contains("OS data"));

    let read = app
        .get(&format!("/api/v1/organisations/{id}"))
        .await
        .expect(200);
    assert_eq!(read.body["data"], created.body["data"]);

    let replaced = app
        .put(
            &format!("/api/v1/organisations/{id}"),
            &json!({"name": "Parkhead Community Pantry", "email": "hello@pantry.example"}),
        )
        .await
        .expect(200);
    assert_eq!(replaced.body["data"]["version"], 2);
    assert_eq!(
        replaced.body["data"]["phone"],
        json!(null),
        "PUT replaces every field"
    );

    let patched = app
        .patch(
            &format!("/api/v1/organisations/{id}"),
            &json!({"website": "https://www.pantry.example", "email": null}),
        )
        .await
        .expect(200);
    assert_eq!(
        patched.body["data"]["name"], "Parkhead Community Pantry",
        "PATCH keeps absent fields"
    );
    assert_eq!(
        patched.body["data"]["website"],
        "https://www.pantry.example"
    );
    assert_eq!(
        patched.body["data"]["email"],
        json!(null),
        "PATCH null clears"
    );
    assert_eq!(patched.header("etag"), Some("\"3\""));

    // A PUT that changes nothing writes nothing.
    let same = app
        .put(
            &format!("/api/v1/organisations/{id}"),
            &json!({"name": "Parkhead Community Pantry", "website": "https://www.pantry.example"}),
        )
        .await
        .expect(200);
    assert_eq!(same.body["data"]["version"], 3);

    let deleted = app
        .delete(&format!("/api/v1/organisations/{id}"))
        .await
        .expect(200);
    assert!(deleted.body["data"]["archived_at"].is_string());
    app.get(&format!("/api/v1/organisations/{id}"))
        .await
        .expect(200);
    let list = app.get("/api/v1/organisations").await.expect(200);
    assert_eq!(
        list.body["pagination"]["total_items"], 0,
        "archived organisations leave lists"
    );
    let all = app
        .get("/api/v1/organisations?include_archived=true")
        .await
        .expect(200);
    assert_eq!(all.body["pagination"]["total_items"], 1);

    assert_eq!(
        app.change_ops("organisation", &id),
        ["create", "update", "update", "archive"]
    );
    let audit = app.audit("organisation", &id);
    assert_eq!(audit.len(), 4);
    assert_eq!(audit[0].1["name"]["after"], "Parkhead Pantry");
    assert_eq!(
        audit[1].1["name"],
        json!({"before": "Parkhead Pantry", "after": "Parkhead Community Pantry"})
    );
    assert_eq!(
        audit[1].1["phone"],
        json!({"before": "0141 496 0001", "after": null})
    );
    assert!(
        audit[1].1.get("version").is_none(),
        "bookkeeping fields are not audited"
    );
    assert_eq!(
        audit[2].1["email"],
        json!({"before": "hello@pantry.example", "after": null})
    );
    assert!(audit[3].1["archived_at"]["after"].is_string());
}

#[tokio::test]
async fn unknown_ids_are_404_and_duplicates_409() {
    let app = spawn_app().await;
    let missing = uuid::Uuid::new_v4();
    app.get(&format!("/api/v1/organisations/{missing}"))
        .await
        .expect(404);
    app.put(
        &format!("/api/v1/organisations/{missing}"),
        &json!({"name": "X"}),
    )
    .await
    .expect(404);
    app.patch(
        &format!("/api/v1/organisations/{missing}"),
        &json!({"name": "X"}),
    )
    .await
    .expect(404);
    app.delete(&format!("/api/v1/organisations/{missing}"))
        .await
        .expect(404);

    let id = uuid::Uuid::new_v4().to_string();
    app.post("/api/v1/organisations", &json!({"id": id, "name": "First"}))
        .await
        .expect(201);
    let dup = app
        .post(
            "/api/v1/organisations",
            &json!({"id": id, "name": "Second"}),
        )
        .await
        .expect(409);
    assert_eq!(dup.header("content-type"), Some("application/problem+json"));
    app.put(
        &format!("/api/v1/organisations/{id}"),
        &json!({"id": uuid::Uuid::new_v4(), "name": "X"}),
    )
    .await
    .expect_problem(422, "id");
}

#[tokio::test]
async fn stale_if_match_is_412_and_current_one_succeeds() {
    let app = spawn_app().await;
    let org = app.create_org("Versioned").await;
    let path = format!("/api/v1/organisations/{}", org["id"].as_str().unwrap());
    use reqwest::Method;
    app.send(
        Method::PUT,
        &path,
        Some(&json!({"name": "V2"})),
        &[("If-Match", "\"1\"")],
    )
    .await
    .expect(200);
    app.send(
        Method::PUT,
        &path,
        Some(&json!({"name": "V3"})),
        &[("If-Match", "\"1\"")],
    )
    .await
    .expect(412);
    app.send(
        Method::PATCH,
        &path,
        Some(&json!({"name": "V3"})),
        &[("If-Match", "\"1\"")],
    )
    .await
    .expect(412);
    app.send(Method::DELETE, &path, None, &[("If-Match", "\"1\"")])
        .await
        .expect(412);
    app.send(
        Method::PATCH,
        &path,
        Some(&json!({"name": "V3"})),
        &[("If-Match", "W/\"2\"")],
    )
    .await
    .expect(200);
    app.send(
        Method::PUT,
        &path,
        Some(&json!({"name": "V4"})),
        &[("If-Match", "garbage")],
    )
    .await
    .expect_problem(400, "If-Match");
    let read = app.get(&path).await.expect(200);
    assert_eq!(read.body["data"]["name"], "V3");
}

#[tokio::test]
async fn an_organisation_with_live_services_cannot_be_deleted() {
    let app = spawn_app().await;
    let org = app.create_org("Busy").await;
    let org_id = org["id"].as_str().unwrap();
    let service = app
        .create_service(&json!({"organisation_id": org_id, "name": "Lunch club"}))
        .await;
    app.delete(&format!("/api/v1/organisations/{org_id}"))
        .await
        .expect(409);
    app.delete(&format!(
        "/api/v1/services/{}",
        service["id"].as_str().unwrap()
    ))
    .await
    .expect(200);
    app.delete(&format!("/api/v1/organisations/{org_id}"))
        .await
        .expect(200);
    // A deleted organisation takes no new services.
    app.post(
        "/api/v1/services",
        &json!({"organisation_id": org_id, "name": "Another"}),
    )
    .await
    .expect_problem(422, "organisation_id");
}

#[tokio::test]
async fn organisation_fields_are_validated() {
    let app = spawn_app().await;
    let reply = app
        .post(
            "/api/v1/organisations",
            &json!({"name": "", "website": "ftp://x.example", "email": "not-an-email", "phone": "call us", "logo_url": "logo.png"}),
        )
        .await
        .expect(422);
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(fields, ["email", "logo_url", "name", "phone", "website"]);
}
