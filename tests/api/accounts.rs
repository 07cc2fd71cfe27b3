//! Keys, roles, claims, suggestions, audit, If-Match and rate limits (issue 6).

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use signpost::auth::limits::RateSettings;
use signpost::clock::FixedClock;
use signpost::model::enums::Role;

use crate::helpers::{captured_logs, create_key_expiring, spawn_app, Reply, Storage, TestApp};

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

/// Records one caller's writes act on, made fresh (by the admin) for each caller.
struct Fixture {
    org: String,
    empty_org: String,
    location: String,
    spare_location: String,
    service: String,
    term: String,
    claims: [String; 2],
    suggestions: [String; 2],
    victim_key: String,
}

async fn fixture(app: &TestApp, n: usize) -> Fixture {
    let org = id(&app.create_org(&format!("Larder {n}")).await);
    let empty_org = id(&app.create_org(&format!("Empty {n}")).await);
    let location = id(&app.create_location(&org, "G31 2ER").await);
    let spare_location = id(&app.create_location(&org, "G40 1AA").await);
    let service = id(&app
        .create_service(&json!({"organisation_id": org, "name": format!("Pantry {n}"), "location_ids": [location]}))
        .await);
    let term = id(&app
        .post("/api/v1/taxonomy", &json!({"taxonomy": "category", "slug": format!("term-{n}"), "name": format!("Term {n}")}))
        .await
        .expect(201)
        .body["data"]);
    let claim = || async {
        id(&app
            .anonymous()
            .post(
                &format!("/api/v1/organisations/{org}/claims"),
                &json!({"name": "Jo Bloggs", "role": "Coordinator", "email": "jo@larder.example"}),
            )
            .await
            .expect(201)
            .body["data"])
    };
    let suggestion = || async {
        id(&app
            .anonymous()
            .post(
                "/api/v1/suggestions",
                &json!({"entity_type": "service", "entity_id": service, "changes": {"description": "Now on Sundays too"}}),
            )
            .await
            .expect(201)
            .body["data"])
    };
    let victim = app
        .post("/api/v1/keys", &json!({"name": "victim", "role": "client"}))
        .await
        .expect(201);
    Fixture {
        claims: [claim().await, claim().await],
        suggestions: [suggestion().await, suggestion().await],
        victim_key: id(&victim.body["data"]),
        org,
        empty_org,
        location,
        spare_location,
        service,
        term,
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Anonymous,
    Client,
    Member,
    OtherMember,
    Editor,
    Admin,
    Revoked,
    Expired,
    Malformed,
}

/// Every write (and staff-only read) endpoint, in an order that works on one fixture.
fn endpoints(f: &Fixture) -> Vec<(&'static str, Method, String, Option<Value>)> {
    let org = &f.org;
    vec![
        (
            "create organisation",
            Method::POST,
            "/api/v1/organisations".into(),
            Some(json!({"name": "New group"})),
        ),
        (
            "replace organisation",
            Method::PUT,
            format!("/api/v1/organisations/{org}"),
            Some(json!({"name": "Larder (renamed)"})),
        ),
        (
            "patch organisation",
            Method::PATCH,
            format!("/api/v1/organisations/{org}"),
            Some(json!({"description": "Food"})),
        ),
        (
            "delete organisation",
            Method::DELETE,
            format!("/api/v1/organisations/{}", f.empty_org),
            None,
        ),
        (
            "create location",
            Method::POST,
            "/api/v1/locations".into(),
            Some(json!({"organisation_id": org, "name": "Annex", "postcode": "G31 2ER"})),
        ),
        (
            "replace location",
            Method::PUT,
            format!("/api/v1/locations/{}", f.location),
            Some(json!({"organisation_id": org, "name": "Hall", "postcode": "G31 2ER"})),
        ),
        (
            "patch location",
            Method::PATCH,
            format!("/api/v1/locations/{}", f.location),
            Some(json!({"name": "Main hall"})),
        ),
        (
            "delete location",
            Method::DELETE,
            format!("/api/v1/locations/{}", f.spare_location),
            None,
        ),
        (
            "create service",
            Method::POST,
            "/api/v1/services".into(),
            Some(json!({"organisation_id": org, "name": "Lunch club"})),
        ),
        (
            "replace service",
            Method::PUT,
            format!("/api/v1/services/{}", f.service),
            Some(json!({"organisation_id": org, "name": "Pantry", "location_ids": [f.location]})),
        ),
        (
            "patch service",
            Method::PATCH,
            format!("/api/v1/services/{}", f.service),
            Some(json!({"description": "Groceries"})),
        ),
        (
            "delete service",
            Method::DELETE,
            format!("/api/v1/services/{}", f.service),
            None,
        ),
        (
            "create term",
            Method::POST,
            "/api/v1/taxonomy".into(),
            Some(
                json!({"taxonomy": "category", "slug": format!("new-{}", &f.term[28..]), "name": "New"}),
            ),
        ),
        (
            "replace term",
            Method::PUT,
            format!("/api/v1/taxonomy/{}", f.term),
            Some(
                json!({"taxonomy": "category", "slug": format!("t-{}", &f.term[28..]), "name": "Renamed"}),
            ),
        ),
        (
            "patch term",
            Method::PATCH,
            format!("/api/v1/taxonomy/{}", f.term),
            Some(json!({"name": "Patched"})),
        ),
        (
            "delete term",
            Method::DELETE,
            format!("/api/v1/taxonomy/{}", f.term),
            None,
        ),
        ("list keys", Method::GET, "/api/v1/keys".into(), None),
        (
            "create key",
            Method::POST,
            "/api/v1/keys".into(),
            Some(json!({"name": "new", "role": "client"})),
        ),
        (
            "read key",
            Method::GET,
            format!("/api/v1/keys/{}", f.victim_key),
            None,
        ),
        (
            "revoke key",
            Method::DELETE,
            format!("/api/v1/keys/{}", f.victim_key),
            None,
        ),
        ("list claims", Method::GET, "/api/v1/claims".into(), None),
        (
            "approve claim",
            Method::POST,
            format!("/api/v1/claims/{}/approve", f.claims[0]),
            None,
        ),
        (
            "reject claim",
            Method::POST,
            format!("/api/v1/claims/{}/reject", f.claims[1]),
            Some(json!({"note": "not known to us"})),
        ),
        (
            "list suggestions",
            Method::GET,
            "/api/v1/suggestions".into(),
            None,
        ),
        (
            "apply suggestion",
            Method::POST,
            format!("/api/v1/suggestions/{}/apply", f.suggestions[0]),
            None,
        ),
        (
            "reject suggestion",
            Method::POST,
            format!("/api/v1/suggestions/{}/reject", f.suggestions[1]),
            None,
        ),
        ("read audit", Method::GET, "/api/v1/audit".into(), None),
        (
            "claim organisation",
            Method::POST,
            format!("/api/v1/organisations/{org}/claims"),
            Some(json!({"name": "Sam", "role": "Treasurer", "email": "sam@larder.example"})),
        ),
        (
            "suggest change",
            Method::POST,
            "/api/v1/suggestions".into(),
            Some(
                json!({"entity_type": "organisation", "entity_id": org, "changes": {"phone": "0141 496 0000"}}),
            ),
        ),
    ]
}

/// The status each caller should get from each endpoint.
fn expected(who: Who, endpoint: &str) -> u16 {
    let success = |e: &str| {
        if e.starts_with("create") || e == "claim organisation" || e == "suggest change" {
            201
        } else {
            200
        }
    };
    let public = endpoint == "claim organisation" || endpoint == "suggest change";
    let listing = ["location", "service"]
        .iter()
        .any(|k| endpoint.ends_with(k));
    let own_org_edit = endpoint == "replace organisation" || endpoint == "patch organisation";
    let keys = endpoint.ends_with("key") || endpoint.ends_with("keys");
    match who {
        Who::Revoked | Who::Expired | Who::Malformed => 401,
        _ if public => success(endpoint),
        Who::Anonymous => 401,
        Who::Client => 403,
        Who::Member if listing || own_org_edit => success(endpoint),
        Who::Member | Who::OtherMember => 403,
        Who::Editor if keys => 403,
        Who::Editor | Who::Admin => success(endpoint),
    }
}

#[tokio::test]
async fn every_write_endpoint_answers_every_role_as_documented() {
    let app = spawn_app().await;
    let everyone = [
        Who::Anonymous,
        Who::Client,
        Who::Member,
        Who::OtherMember,
        Who::Editor,
        Who::Admin,
        Who::Revoked,
        Who::Expired,
        Who::Malformed,
    ];
    let stranger_org = id(&app.create_org("Somebody else").await);
    for (n, who) in everyone.into_iter().enumerate() {
        let f = fixture(&app, n).await;
        let token = match who {
            Who::Anonymous => None,
            Who::Client => Some(app.key(Role::Client, &[])),
            Who::Member => Some(app.key(Role::Organisation, &[&f.org])),
            Who::OtherMember => Some(app.key(Role::Organisation, &[&stranger_org])),
            Who::Editor => Some(app.key(Role::Editor, &[])),
            Who::Admin => Some(app.key(Role::Admin, &[])),
            Who::Revoked => {
                let token = app.key(Role::Editor, &[]);
                let me = app
                    .with_token(&token)
                    .get("/api/v1/keys/me")
                    .await
                    .expect(200);
                app.delete(&format!("/api/v1/keys/{}", id(&me.body["data"])))
                    .await
                    .expect(200);
                Some(token)
            }
            Who::Expired => Some(create_key_expiring(
                &app.pool,
                Role::Editor,
                &[],
                Some(Utc::now() - Duration::minutes(1)),
            )),
            Who::Malformed => Some("not-a-key".to_string()),
        };
        for (name, method, path, body) in endpoints(&f) {
            let caller = match &token {
                Some(t) => app.with_token(t),
                None => app.anonymous(),
            };
            let reply = match method {
                Method::PUT => caller.put(&path, body.as_ref().unwrap()).await,
                Method::PATCH => caller.patch(&path, body.as_ref().unwrap()).await,
                Method::DELETE => caller.delete(&path).await,
                m => caller.send(m, &path, body.as_ref(), &[]).await,
            };
            let want = expected(who, name);
            assert_eq!(
                reply.status.as_u16(),
                want,
                "{who:?} {name}: body {}",
                reply.body
            );
            if want == 401 {
                assert!(reply
                    .header("www-authenticate")
                    .is_some_and(|h| h.starts_with("Bearer")));
            }
            if want >= 400 {
                assert_eq!(
                    reply.header("content-type"),
                    Some("application/problem+json")
                );
            }
        }
    }
}

#[tokio::test]
async fn a_member_cannot_move_a_listing_to_another_organisation() {
    let app = spawn_app().await;
    let mine = id(&app.create_org("Mine").await);
    let theirs = id(&app.create_org("Theirs").await);
    let service = id(&app
        .create_service(&json!({"organisation_id": mine, "name": "Club"}))
        .await);
    let member = app.key(Role::Organisation, &[&mine]);
    let path = format!("/api/v1/services/{service}");
    app.with_token(&member)
        .patch(&path, &json!({"organisation_id": theirs}))
        .await
        .expect(403);
    app.with_token(&member)
        .post(
            "/api/v1/services",
            &json!({"organisation_id": theirs, "name": "Sneaky"}),
        )
        .await
        .expect(403);
    let after = app.get(&path).await.expect(200);
    assert_eq!(after.body["data"]["organisation"]["id"], mine.as_str());
}

#[tokio::test]
async fn writes_need_if_match_and_a_stale_one_is_refused() {
    let app = spawn_app().await;
    let org = id(&app.create_org("Larder").await);
    let path = format!("/api/v1/organisations/{org}");
    let body = json!({"name": "Larder 2"});
    for method in [Method::PUT, Method::PATCH] {
        app.send(method.clone(), &path, Some(&body), &[])
            .await
            .expect_problem_status(428);
        app.send(method, &path, Some(&body), &[("If-Match", "*")])
            .await
            .expect_problem_status(428);
    }
    app.send(Method::DELETE, &path, None, &[])
        .await
        .expect_problem_status(428);
    let read = app.get(&path).await.expect(200);
    assert_eq!(read.header("etag"), Some("\"1\""));
    app.send(Method::PATCH, &path, Some(&body), &[("If-Match", "\"1\"")])
        .await
        .expect(200);
    app.send(
        Method::PATCH,
        &path,
        Some(&json!({"name": "Late"})),
        &[("If-Match", "\"1\"")],
    )
    .await
    .expect_problem_status(412);
    assert_eq!(app.get(&path).await.body["data"]["name"], "Larder 2");
}

/// Sends one PATCH on its own connection, so the requests really race.
async fn patch_with(
    client: reqwest::Client,
    url: String,
    token: String,
    etag: String,
    body: Value,
) -> (u16, Value) {
    let res = client
        .patch(url)
        .bearer_auth(token)
        .header("If-Match", etag)
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn twenty_clients_with_one_etag_exactly_one_wins() {
    let app = spawn_app().await;
    let org = id(&app.create_org("Larder").await);
    let service = id(&app
        .create_service(&json!({"organisation_id": org, "name": "Pantry"}))
        .await);
    let url = app.url(&format!("/api/v1/services/{service}"));
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            tokio::spawn(patch_with(
                reqwest::Client::new(),
                url.clone(),
                app.admin_token.clone(),
                "\"1\"".into(),
                json!({"name": format!("Writer {i}")}),
            ))
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        let (status, body) = task.await.expect("task");
        match status {
            200 => winners.push(body["data"]["name"].as_str().unwrap().to_string()),
            412 => {}
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one write succeeds");
    let now = app
        .get(&format!("/api/v1/services/{service}"))
        .await
        .expect(200);
    assert_eq!(now.body["data"]["name"], winners[0].as_str());
    assert_eq!(now.body["data"]["version"], 2);
}

#[tokio::test]
async fn read_modify_write_with_retries_loses_no_update() {
    let app = spawn_app().await;
    let org = id(&app.create_org("Larder").await);
    let service = id(&app
        .create_service(&json!({"organisation_id": org, "name": "Pantry", "description": ""}))
        .await);
    let url = app.url(&format!("/api/v1/services/{service}"));
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (url, token) = (url.clone(), app.admin_token.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                loop {
                    let read = client.get(&url).send().await.expect("read");
                    let etag = read.headers()["etag"].to_str().unwrap().to_string();
                    let current: Value = read.json().await.expect("json");
                    let description = format!(
                        "{}[{i}]",
                        current["data"]["description"].as_str().unwrap_or("")
                    );
                    let (status, _) = patch_with(
                        client.clone(),
                        url.clone(),
                        token.clone(),
                        etag,
                        json!({"description": description}),
                    )
                    .await;
                    match status {
                        200 => return,
                        412 => continue,
                        other => panic!("unexpected {other}"),
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    let done = app
        .get(&format!("/api/v1/services/{service}"))
        .await
        .expect(200);
    let description = done.body["data"]["description"].as_str().unwrap();
    for i in 0..20 {
        assert!(
            description.contains(&format!("[{i}]")),
            "update {i} lost: {description}"
        );
    }
    assert_eq!(done.body["data"]["version"], 21);
}

#[tokio::test]
async fn keys_are_shown_once_stored_hashed_and_never_logged() {
    let app = spawn_app().await;
    let created = app
        .post(
            "/api/v1/keys",
            &json!({"name": "GP sync", "role": "client"}),
        )
        .await
        .expect(201);
    let token = created.body["data"]["token"].as_str().unwrap().to_string();
    let key_id = id(&created.body["data"]);
    assert!(token.starts_with(&format!(
        "sp_{}_",
        created.body["data"]["prefix"].as_str().unwrap()
    )));

    // Used, it works and its last use is recorded; read back, no token.
    app.with_token(&token)
        .get("/api/v1/services")
        .await
        .expect(200);
    let read = app.get(&format!("/api/v1/keys/{key_id}")).await.expect(200);
    assert!(read.body["data"]["token"].is_null());
    assert!(read.body["data"]["last_used_at"].is_string());
    let listed = app.get("/api/v1/keys").await.expect(200);
    assert!(!listed.body.to_string().contains(&token));

    // Revoked, it stops working at once.
    app.delete(&format!("/api/v1/keys/{key_id}"))
        .await
        .expect(200);
    app.with_token(&token)
        .get("/api/v1/services")
        .await
        .expect_problem_status(401);

    // The database holds no column with the token or its secret half.
    use diesel::prelude::*;
    use signpost::db::schema::api_keys::dsl as k;
    let mut conn = app.conn();
    let rows: Vec<(String, String, String, String)> = k::api_keys
        .select((k::id, k::prefix, k::secret_hash, k::name))
        .load(&mut *conn as &mut signpost::db::DbConnection)
        .expect("keys");
    let secret = token.rsplit('_').next().unwrap();
    for row in &rows {
        let all = format!("{row:?}");
        assert!(!all.contains(secret), "secret stored in clear: {all}");
    }
    assert!(rows
        .iter()
        .any(|r| r.2 == signpost::auth::token::hash(&token)));

    // Nothing the server logged contains it, though it logged these requests.
    let logs = captured_logs();
    assert!(logs.contains("request refused"), "logs were captured");
    assert!(!logs.contains(secret), "a token reached the log");
}

#[tokio::test]
async fn audit_names_the_key_and_each_field_before_and_after() {
    let app = spawn_app().await;
    let org = id(&app.create_org("Larder").await);
    let member = app.key(Role::Organisation, &[&org]);
    let me = app
        .with_token(&member)
        .get("/api/v1/keys/me")
        .await
        .expect(200);
    let member_id = id(&me.body["data"]);
    assert_eq!(me.body["data"]["organisation_ids"], json!([org]));
    let service = id(&app
        .with_token(&member)
        .post(
            "/api/v1/services",
            &json!({"organisation_id": org, "name": "Pantry", "email": "a@larder.example"}),
        )
        .await
        .expect(201)
        .body["data"]);
    app.with_token(&member)
        .patch(
            &format!("/api/v1/services/{service}"),
            &json!({"email": "b@larder.example"}),
        )
        .await
        .expect(200);

    let audit = app
        .get(&format!(
            "/api/v1/audit?entity_type=service&entity_id={service}"
        ))
        .await
        .expect(200);
    let entries = audit.body["data"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["action"], "update", "newest first");
    assert_eq!(entries[0]["actor"], format!("key:{member_id}"));
    assert_eq!(
        entries[0]["changes"]["email"],
        json!({"before": "a@larder.example", "after": "b@larder.example"})
    );
    assert_eq!(entries[0]["changes"].as_object().unwrap().len(), 1);
    assert_eq!(entries[1]["action"], "create");
    assert_eq!(
        entries[1]["changes"]["name"],
        json!({"before": null, "after": "Pantry"})
    );

    let by_actor = app
        .get(&format!("/api/v1/audit?actor={member_id}"))
        .await
        .expect(200);
    assert_eq!(by_actor.body["pagination"]["total_items"], 2);
    app.with_token(&member)
        .get("/api/v1/audit")
        .await
        .expect_problem_status(403);
    app.get("/api/v1/audit?per_page=0")
        .await
        .expect_problem(400, "per_page");
}

#[tokio::test]
async fn an_approved_claim_gives_the_claimant_a_working_organisation_key() {
    let app = spawn_app().await;
    let org = id(&app.create_org("Larder").await);
    let other = id(&app.create_org("Other").await);
    let claims = format!("/api/v1/organisations/{org}/claims");
    app.anonymous()
        .post(
            &claims,
            &json!({"name": "Jo", "role": "Coordinator", "email": "not an email"}),
        )
        .await
        .expect_problem(422, "email");
    app.anonymous()
        .post(
            "/api/v1/organisations/7d444840-9dc0-11d1-b245-5ffdce74fad2/claims",
            &json!({"name": "Jo", "role": "Coordinator", "email": "jo@larder.example"}),
        )
        .await
        .expect_problem_status(404);
    let claim = id(&app
        .anonymous()
        .post(&claims, &json!({"name": "Jo", "role": "Coordinator", "email": "jo@larder.example", "phone": "0141 496 0000", "message": "I run the Tuesday pantry"}))
        .await
        .expect(201)
        .body["data"]);
    let second = id(&app
        .anonymous()
        .post(
            &claims,
            &json!({"name": "Sam", "role": "Treasurer", "email": "sam@larder.example"}),
        )
        .await
        .expect(201)
        .body["data"]);

    let editor = app.key(Role::Editor, &[]);
    let queue = app
        .with_token(&editor)
        .get("/api/v1/claims?status=pending")
        .await
        .expect(200);
    assert_eq!(queue.body["pagination"]["total_items"], 2);

    let approved = app
        .with_token(&editor)
        .post(
            &format!("/api/v1/claims/{claim}/approve"),
            &json!({"note": "phoned to check"}),
        )
        .await
        .expect(200);
    let data = &approved.body["data"];
    assert_eq!(data["claim"]["status"], "approved");
    assert_eq!(data["claim"]["decision_note"], "phoned to check");
    assert_eq!(data["key"]["role"], "organisation");
    assert_eq!(data["key"]["organisation_ids"], json!([org]));
    let token = data["key"]["token"].as_str().unwrap().to_string();
    app.with_token(&editor)
        .post(&format!("/api/v1/claims/{claim}/approve"), &json!({}))
        .await
        .expect_problem_status(409);

    // Several members: the second claimant joins too.
    let token2 = app
        .with_token(&editor)
        .post(&format!("/api/v1/claims/{second}/approve"), &json!({}))
        .await
        .expect(200)
        .body["data"]["key"]["token"]
        .as_str()
        .unwrap()
        .to_string();

    for t in [&token, &token2] {
        app.with_token(t)
            .post(
                "/api/v1/services",
                &json!({"organisation_id": org, "name": "Pantry"}),
            )
            .await
            .expect(201);
        app.with_token(t)
            .post(
                "/api/v1/services",
                &json!({"organisation_id": other, "name": "Not ours"}),
            )
            .await
            .expect_problem_status(403);
    }
}

#[tokio::test]
async fn suggestions_wait_for_an_editor_then_apply_as_a_normal_audited_write() {
    let app = spawn_app().await;
    let org = id(&app.create_org("Larder").await);
    let service = id(&app
        .create_service(&json!({"organisation_id": org, "name": "Pantry"}))
        .await);
    let path = format!("/api/v1/services/{service}");

    // Checked on arrival: a change that would make the listing invalid is refused.
    app.anonymous()
        .post(
            "/api/v1/suggestions",
            &json!({"entity_type": "service", "entity_id": service, "changes": {"email": "nope"}}),
        )
        .await
        .expect_problem(422, "email");
    app.anonymous()
        .post(
            "/api/v1/suggestions",
            &json!({"entity_type": "service", "changes": {"name": "No organisation"}}),
        )
        .await
        .expect_problem(422, "organisation_id");

    let change = id(&app
        .anonymous()
        .post("/api/v1/suggestions", &json!({"entity_type": "service", "entity_id": service, "changes": {"email": "hello@larder.example"}, "message": "From their poster"}))
        .await
        .expect(201)
        .body["data"]);
    let new_listing = id(&app
        .anonymous()
        .post("/api/v1/suggestions", &json!({"entity_type": "service", "changes": {"organisation_id": org, "name": "Lunch club"}}))
        .await
        .expect(201)
        .body["data"]);
    assert_eq!(
        app.get(&path).await.body["data"]["email"],
        json!(null),
        "nothing changes until applied"
    );

    let editor = app.key(Role::Editor, &[]);
    let applied = app
        .with_token(&editor)
        .post(&format!("/api/v1/suggestions/{change}/apply"), &json!({}))
        .await
        .expect(200);
    assert_eq!(applied.body["data"]["status"], "approved");
    assert_eq!(applied.body["data"]["result_id"], service.as_str());
    assert_eq!(
        app.get(&path).await.body["data"]["email"],
        "hello@larder.example"
    );
    let audit = app
        .get(&format!(
            "/api/v1/audit?entity_type=service&entity_id={service}"
        ))
        .await;
    let me = app.with_token(&editor).get("/api/v1/keys/me").await;
    assert_eq!(
        audit.body["data"][0]["actor"],
        format!("key:{}", id(&me.body["data"]))
    );
    assert_eq!(
        audit.body["data"][0]["changes"]["email"]["after"],
        "hello@larder.example"
    );

    let created = app
        .with_token(&editor)
        .post(
            &format!("/api/v1/suggestions/{new_listing}/apply"),
            &json!({}),
        )
        .await
        .expect(200);
    let new_id = created.body["data"]["result_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.get(&format!("/api/v1/services/{new_id}"))
            .await
            .expect(200)
            .body["data"]["name"],
        "Lunch club"
    );

    app.with_token(&editor)
        .post(&format!("/api/v1/suggestions/{change}/reject"), &json!({}))
        .await
        .expect_problem_status(409);
    let queue = app
        .with_token(&editor)
        .get("/api/v1/suggestions?status=pending")
        .await
        .expect(200);
    assert_eq!(queue.body["pagination"]["total_items"], 0);
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after_and_recover() {
    let clock = FixedClock::at(Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap());
    let app = Storage::new()
        .with_clock(Arc::new(clock.clone()))
        .with_rates(RateSettings {
            anonymous_per_minute: 3,
            client_per_minute: 100,
            key_per_minute: 100,
            submissions_per_hour: 2,
        })
        .start(false)
        .await;
    for _ in 0..3 {
        app.anonymous().get("/api/v1/services").await.expect(200);
    }
    let limited = app.anonymous().get("/api/v1/services").await;
    let limited = limited.expect_problem_status(429);
    assert_eq!(limited.header("retry-after"), Some("20"));
    // A key has its own, larger allowance.
    let client = app.key(Role::Client, &[]);
    for _ in 0..10 {
        app.with_token(&client)
            .get("/api/v1/services")
            .await
            .expect(200);
    }
    clock.advance(Duration::seconds(20));
    app.anonymous().get("/api/v1/services").await.expect(200);
    app.anonymous()
        .get("/api/v1/services")
        .await
        .expect_problem_status(429);

    // Submissions are limited more strictly, per hour.
    clock.advance(Duration::minutes(5));
    let org = id(&app.create_org("Larder").await);
    let claim = json!({"name": "Jo", "role": "Coordinator", "email": "jo@larder.example"});
    let path = format!("/api/v1/organisations/{org}/claims");
    app.with_token(&client)
        .post(&path, &claim)
        .await
        .expect(201);
    app.with_token(&client)
        .post(&path, &claim)
        .await
        .expect(201);
    let refused = app
        .with_token(&client)
        .post(&path, &claim)
        .await
        .expect_problem_status(429);
    assert_eq!(refused.header("retry-after"), Some("1800"));
    clock.advance(Duration::minutes(30));
    app.with_token(&client)
        .post(&path, &claim)
        .await
        .expect(201);
}

#[tokio::test]
async fn cors_lets_any_origin_read_and_preflights_writes() {
    let app = spawn_app().await;
    let read = app
        .anonymous()
        .send(
            Method::GET,
            "/api/v1/services",
            None,
            &[("Origin", "https://practice.example")],
        )
        .await
        .expect(200);
    assert_eq!(
        read.header("access-control-allow-origin"),
        Some("https://practice.example")
    );
    let preflight = app
        .anonymous()
        .send(
            Method::OPTIONS,
            "/api/v1/services",
            None,
            &[
                ("Origin", "https://practice.example"),
                ("Access-Control-Request-Method", "POST"),
                (
                    "Access-Control-Request-Headers",
                    "authorization, content-type",
                ),
            ],
        )
        .await;
    assert!(preflight.status.is_success(), "{}", preflight.status);
    let allowed = preflight
        .header("access-control-allow-headers")
        .unwrap_or("")
        .to_lowercase();
    assert!(
        allowed.contains("authorization") && allowed.contains("if-match"),
        "{allowed}"
    );
    // Without a key the write itself is still refused.
    app.anonymous()
        .send(
            Method::POST,
            "/api/v1/services",
            Some(&json!({"name": "x"})),
            &[("Origin", "https://practice.example")],
        )
        .await
        .expect_problem_status(401);
}

#[tokio::test]
async fn key_requests_are_validated() {
    let app = spawn_app().await;
    app.post(
        "/api/v1/keys",
        &json!({"name": "x", "role": "organisation"}),
    )
    .await
    .expect_problem(422, "organisation_ids");
    app.post("/api/v1/keys", &json!({"name": "x", "role": "editor", "organisation_ids": ["7d444840-9dc0-11d1-b245-5ffdce74fad2"]}))
        .await
        .expect_problem(422, "organisation_ids");
    app.post("/api/v1/keys", &json!({"name": "x", "role": "organisation", "organisation_ids": ["7d444840-9dc0-11d1-b245-5ffdce74fad2"]}))
        .await
        .expect_problem(422, "organisation_ids");
    app.post("/api/v1/keys", &json!({"name": "x", "role": "superuser"}))
        .await
        .expect_problem(422, "role");
    app.post(
        "/api/v1/keys",
        &json!({"name": "x", "role": "client", "expires_at": "2001-01-01T00:00:00Z"}),
    )
    .await
    .expect_problem(422, "expires_at");
    app.anonymous()
        .get("/api/v1/keys/me")
        .await
        .expect_problem_status(401);
    for header in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer sp_123_456", "sp_x"] {
        app.anonymous()
            .send(
                Method::GET,
                "/api/v1/services",
                None,
                &[("Authorization", header)],
            )
            .await
            .expect_problem_status(401);
    }
}

impl Reply {
    /// Asserts a problem+json reply with this status.
    #[track_caller]
    pub fn expect_problem_status(self, status: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json")
        );
        self
    }
}
