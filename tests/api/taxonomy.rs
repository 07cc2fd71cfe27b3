use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_shipped_taxonomy_is_a_tree() {
    let app = spawn_app().await;
    let top = app
        .get("/api/v1/taxonomy?taxonomy=category&top_only=true&per_page=100")
        .await
        .expect(200);
    let top_slugs: Vec<&str> = top.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    for needed in [
        "food",
        "money-and-debt",
        "housing",
        "mental-health",
        "physical-activity",
        "social-connection",
        "carers",
        "addiction-recovery",
        "employability",
        "digital-inclusion",
    ] {
        assert!(
            top_slugs.contains(&needed),
            "missing top-level category {needed}"
        );
    }
    let food = top.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["slug"] == "food")
        .unwrap();
    let children = app
        .get(&format!(
            "/api/v1/taxonomy?parent_id={}",
            food["id"].as_str().unwrap()
        ))
        .await
        .expect(200);
    assert!(children.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["slug"] == "food-banks"));
    let groups = app
        .get("/api/v1/taxonomy?taxonomy=community_group")
        .await
        .expect(200);
    assert!(groups.body["pagination"]["total_items"].as_i64().unwrap() >= 15);
}

#[tokio::test]
async fn terms_are_created_moved_and_protected() {
    let app = spawn_app().await;
    let parent = app
        .post(
            "/api/v1/taxonomy",
            &json!({"taxonomy": "category", "slug": "sea-swimming", "name": "Sea swimming"}),
        )
        .await
        .expect(201)
        .body["data"]
        .clone();
    let pid = parent["id"].as_str().unwrap();
    let child = app
        .post("/api/v1/taxonomy", &json!({"taxonomy": "category", "slug": "winter-dipping", "name": "Winter dipping", "parent_id": pid}))
        .await
        .expect(201)
        .body["data"]
        .clone();
    let cid = child["id"].as_str().unwrap();

    // Duplicate slug in the same taxonomy: conflict. Same slug in another taxonomy: fine.
    app.post(
        "/api/v1/taxonomy",
        &json!({"taxonomy": "category", "slug": "sea-swimming", "name": "Again"}),
    )
    .await
    .expect(409);
    app.post(
        "/api/v1/taxonomy",
        &json!({"taxonomy": "community_group", "slug": "sea-swimming", "name": "Sea swimmers"}),
    )
    .await
    .expect(201);

    // A cycle, a cross-taxonomy parent and an unknown parent are refused.
    app.patch(
        &format!("/api/v1/taxonomy/{pid}"),
        &json!({"parent_id": cid}),
    )
    .await
    .expect_problem(422, "parent_id");
    let group = app
        .get("/api/v1/taxonomy?taxonomy=community_group&per_page=1")
        .await
        .expect(200);
    app.patch(
        &format!("/api/v1/taxonomy/{cid}"),
        &json!({"parent_id": group.body["data"][0]["id"]}),
    )
    .await
    .expect_problem(422, "parent_id");
    app.patch(
        &format!("/api/v1/taxonomy/{cid}"),
        &json!({"parent_id": uuid::Uuid::new_v4()}),
    )
    .await
    .expect_problem(422, "parent_id");
    app.patch(
        &format!("/api/v1/taxonomy/{cid}"),
        &json!({"taxonomy": "accessibility"}),
    )
    .await
    .expect_problem(422, "taxonomy");

    // A parent with live children cannot be deleted; once the child is gone it can.
    app.delete(&format!("/api/v1/taxonomy/{pid}"))
        .await
        .expect(409);
    app.delete(&format!("/api/v1/taxonomy/{cid}"))
        .await
        .expect(200);
    app.delete(&format!("/api/v1/taxonomy/{pid}"))
        .await
        .expect(200);
    assert_eq!(app.change_ops("taxonomy_term", pid), ["create", "archive"]);

    // Archived terms can no longer be attached to services.
    let org = app.create_org("Swimmers").await;
    app.post(
        "/api/v1/services",
        &json!({"organisation_id": org["id"], "name": "Dip", "categories": ["winter-dipping"]}),
    )
    .await
    .expect_problem(422, "categories[0]");
}

#[tokio::test]
async fn term_fields_are_validated() {
    let app = spawn_app().await;
    let reply = app
        .post(
            "/api/v1/taxonomy",
            &json!({"taxonomy": "category", "slug": "Bad Slug", "name": ""}),
        )
        .await
        .expect(422);
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(fields, ["name", "slug"]);
    app.post(
        "/api/v1/taxonomy",
        &json!({"taxonomy": "flavour", "slug": "x", "name": "X"}),
    )
    .await
    .expect_problem(422, "taxonomy");
    app.get("/api/v1/taxonomy?taxonomy=flavour")
        .await
        .expect_problem(400, "taxonomy");
}
