use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_postcode_alone_is_geocoded_with_area_codes() {
    let app = spawn_app().await;
    let org = app.create_org("Geo").await;
    let created = app
        .post(
            "/api/v1/locations",
            &json!({"organisation_id": org["id"], "name": "Royal Infirmary hall", "address_1": "84 Castle Street", "town": "Glasgow", "postcode": "g312er", "accessibility": ["step-free-access"]}),
        )
        .await
        .expect(201);
    let loc = &created.body["data"];
    assert_eq!(loc["postcode"], "G31 2ER");
    assert!((loc["latitude"].as_f64().unwrap() - 55.865242).abs() < 1e-6);
    assert!((loc["longitude"].as_f64().unwrap() + 4.232246).abs() < 1e-6);
    assert_eq!(loc["council_area_code"], "S12000049");
    assert_eq!(loc["health_board_code"], "S08000031");
    assert_eq!(loc["location_type"], "physical");
    assert_eq!(loc["accessibility"][0]["slug"], "step-free-access");
    let id = loc["id"].as_str().unwrap();
    assert_eq!(app.change_ops("location", id), ["create"]);

    // Given coordinates win; the postcode still supplies the area codes.
    let moved = app
        .patch(
            &format!("/api/v1/locations/{id}"),
            &json!({"latitude": 55.8651, "longitude": -4.2321}),
        )
        .await
        .expect(200);
    assert_eq!(moved.body["data"]["latitude"], 55.8651);
    assert_eq!(moved.body["data"]["council_area_code"], "S12000049");
    let audit = app.audit("location", id);
    assert_eq!(audit[1].1["latitude"]["after"], 55.8651);

    let listed = app
        .get(&format!(
            "/api/v1/locations?postcode=G31%202ER&organisation_id={}",
            org["id"].as_str().unwrap()
        ))
        .await
        .expect(200);
    assert_eq!(listed.body["pagination"]["total_items"], 1);
}

#[tokio::test]
async fn unknown_and_malformed_postcodes_are_422_naming_the_field() {
    let app = spawn_app().await;
    let org = app.create_org("Geo").await;
    let base = |postcode: &str| json!({"organisation_id": org["id"], "name": "Hall", "postcode": postcode});
    let unknown = app
        .post("/api/v1/locations", &base("ZZ9 9ZZ"))
        .await
        .expect_problem(422, "postcode");
    assert!(
        unknown.body["detail"]
            .as_str()
            .unwrap()
            .contains("not found"),
        "{}",
        unknown.body
    );
    app.post("/api/v1/locations", &base("G31"))
        .await
        .expect_problem(422, "postcode");
    app.post("/api/v1/locations", &base("<script>"))
        .await
        .expect_problem(422, "postcode");
    app.post(
        "/api/v1/locations",
        &json!({"organisation_id": org["id"], "name": "Nowhere"}),
    )
    .await
    .expect_problem(422, "postcode");
    // An unknown postcode is fine when coordinates are given.
    app.post("/api/v1/locations", &json!({"organisation_id": org["id"], "name": "New build", "postcode": "ZZ9 9ZZ", "latitude": 55.9, "longitude": -3.2}))
        .await
        .expect(201);
    // Virtual locations need no address.
    app.post(
        "/api/v1/locations",
        &json!({"organisation_id": org["id"], "name": "Online", "location_type": "virtual"}),
    )
    .await
    .expect(201);
}

#[tokio::test]
async fn coordinates_and_references_are_checked() {
    let app = spawn_app().await;
    let org = app.create_org("Geo").await;
    let reply = app
        .post("/api/v1/locations", &json!({"organisation_id": org["id"], "name": "Hall", "latitude": 95.0, "longitude": -190.0}))
        .await
        .expect(422);
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(fields, ["latitude", "longitude"]);
    app.post(
        "/api/v1/locations",
        &json!({"organisation_id": org["id"], "name": "Hall", "latitude": 55.0}),
    )
    .await
    .expect_problem(422, "longitude");
    app.post(
        "/api/v1/locations",
        &json!({"organisation_id": uuid::Uuid::new_v4(), "name": "Hall", "postcode": "G31 2ER"}),
    )
    .await
    .expect_problem(422, "organisation_id");
    app.post("/api/v1/locations", &json!({"organisation_id": org["id"], "name": "Hall", "postcode": "G31 2ER", "accessibility": ["teleporter"]}))
        .await
        .expect_problem(422, "accessibility[0]");
    app.post("/api/v1/locations", &json!({"organisation_id": org["id"], "name": "Hall", "postcode": "G31 2ER", "location_type": "moon"}))
        .await
        .expect_problem(422, "location_type");
}

#[tokio::test]
async fn a_location_in_use_cannot_be_deleted() {
    let app = spawn_app().await;
    let org = app.create_org("Geo").await;
    let org_id = org["id"].as_str().unwrap();
    let loc = app.create_location(org_id, "EH1 1YZ").await;
    let loc_id = loc["id"].as_str().unwrap();
    let service = app
        .create_service(
            &json!({"organisation_id": org_id, "name": "Drop-in", "location_ids": [loc_id]}),
        )
        .await;
    app.delete(&format!("/api/v1/locations/{loc_id}"))
        .await
        .expect(409);
    app.patch(
        &format!("/api/v1/services/{}", service["id"].as_str().unwrap()),
        &json!({"location_ids": []}),
    )
    .await
    .expect(200);
    let archived = app
        .delete(&format!("/api/v1/locations/{loc_id}"))
        .await
        .expect(200);
    assert!(archived.body["data"]["archived_at"].is_string());
    assert_eq!(app.change_ops("location", loc_id), ["create", "archive"]);
}
