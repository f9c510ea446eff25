//! SCIM 2.0 over HTTP: the sessions Okta and Microsoft Entra ID run (replayed
//! request by request), an admin's decision that sticks, the discovery documents,
//! and every kind of bad request refused with the RFC's error and nothing changed.
#![allow(
    clippy::too_many_lines,
    reason = "a replayed session reads best as one script"
)]

use rollcall_app::{ChangeStatus, NewConnection};
use rollcall_domain::{AuditAction, Status};
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, spawn_app};
use rollcall_testkit::TestDb;

const SCIM_JSON: &str = "application/scim+json";

/// A SCIM client of one connection.
struct Scim<'a> {
    t: &'a TestApp,
    token: String,
}

impl Scim<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}/scim/v2{path}", self.t.address)
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self
            .t
            .client
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/scim+json; charset=utf-8")
                .body(body.to_string());
        }
        self.t.send(request).await
    }

    async fn get(&self, path: &str) -> Reply {
        self.call(reqwest::Method::GET, path, None, &[]).await
    }

    async fn post(&self, path: &str, body: &Value) -> Reply {
        self.call(reqwest::Method::POST, path, Some(body), &[])
            .await
    }

    async fn put(&self, path: &str, body: &Value) -> Reply {
        self.call(reqwest::Method::PUT, path, Some(body), &[]).await
    }

    async fn patch(&self, path: &str, operations: &Value) -> Reply {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": operations,
        });
        self.call(reqwest::Method::PATCH, path, Some(&body), &[])
            .await
    }

    async fn delete(&self, path: &str) -> Reply {
        self.call(reqwest::Method::DELETE, path, None, &[]).await
    }

    async fn filter(&self, filter: &str) -> Reply {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("filter", filter)
            .append_pair("startIndex", "1")
            .append_pair("count", "100")
            .finish();
        self.get(&format!("/Users?{query}")).await
    }
}

async fn connect<'a>(t: &'a TestApp, name: &str, per_minute: Option<u32>) -> Scim<'a> {
    let (_, token) = t
        .app
        .add_scim_connection(
            &t.system,
            NewConnection {
                name: name.into(),
                requests_per_minute: per_minute,
                ..NewConnection::default()
            },
        )
        .await
        .unwrap();
    Scim { t, token }
}

/// Asserts a SCIM error: the status (also as a string in the body), its scimType, and the
/// media type.
fn assert_scim_error(reply: &Reply, status: u16, scim_type: Option<&str>) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.headers["content-type"], SCIM_JSON);
    assert_eq!(reply.body["status"], status.to_string(), "{}", reply.body);
    assert_eq!(
        reply.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );
    assert_eq!(reply.body["scimType"].as_str(), scim_type, "{}", reply.body);
    assert!(reply.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
}

fn okta_user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "ada.lovelace@northfield.example",
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"primary": true, "value": "ada.lovelace@northfield.example", "type": "work"}],
        "displayName": "Ada Lovelace",
        "locale": "en-GB",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": true,
    })
}

pub async fn okta_provisions_updates_deactivates_and_reactivates(db: TestDb) {
    let t = spawn_app(db).await;
    let okta = connect(&t, "okta", None).await;

    let miss = okta
        .filter("userName eq \"ada.lovelace@northfield.example\"")
        .await;
    assert_eq!(miss.status, 200, "{}", miss.body);
    assert_eq!(miss.headers["content-type"], SCIM_JSON);
    assert_eq!(miss.body["totalResults"], 0);
    assert_eq!(miss.body["Resources"], json!([]));

    let made = okta.post("/Users", &okta_user()).await;
    assert_eq!(made.status, 201, "{}", made.body);
    let id = made.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        made.headers["location"],
        okta.url(&format!("/Users/{id}")).as_str()
    );
    assert_eq!(
        made.headers["etag"],
        made.body["meta"]["version"].as_str().unwrap()
    );
    assert_eq!(made.body["meta"]["resourceType"], "User");
    assert_eq!(made.body["active"], true);
    assert!(
        made.body.get("password").is_none(),
        "a password is never returned"
    );
    assert_eq!(made.body["externalId"], "00ujl29u0le5T6Aj10h7");

    // Okta's conformance run looks the userName up in capitals.
    let hit = okta
        .filter("userName eq \"ADA.LOVELACE@NORTHFIELD.EXAMPLE\"")
        .await;
    assert_eq!(hit.body["totalResults"], 1, "{}", hit.body);
    assert_eq!(hit.body["Resources"][0]["id"], id.as_str());

    let read = okta.get(&format!("/Users/{id}")).await;
    assert_eq!(read.status, 200);

    // Okta's wizard apps update with a full PUT after a GET: groups and password included.
    let mut changed = read.body.clone();
    changed["name"]["familyName"] = json!("King");
    changed["groups"] = json!([]);
    changed["password"] = json!("another");
    let put = okta.put(&format!("/Users/{id}"), &changed).await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.body["name"]["familyName"], "King");
    assert_ne!(put.headers["etag"], read.headers["etag"]);

    let off = okta
        .patch(
            &format!("/Users/{id}"),
            &json!([{"op": "replace", "value": {"active": false}}]),
        )
        .await;
    assert_eq!(off.status, 200, "{}", off.body);
    assert_eq!(off.body["active"], false);
    let shown = okta.get(&format!("/Users/{id}")).await;
    assert_eq!(shown.body["active"], false, "GET shows the deactivation");

    let on = okta
        .patch(
            &format!("/Users/{id}"),
            &json!([{"op": "replace", "value": {"active": true}}]),
        )
        .await;
    assert_eq!(on.body["active"], true, "{}", on.body);

    // In Rollcall: one person, managed by the connection, with the whole trail.
    let found = t
        .app
        .find_user(&t.system, "ada.lovelace@northfield.example")
        .await
        .unwrap();
    assert_eq!(found.status(), Status::Active);
    assert_eq!(found.source().as_str(), "okta");
    assert_eq!(found.family_name().as_str(), "King");
    assert_eq!(
        found.email().unwrap().as_str(),
        "ada.lovelace@northfield.example"
    );
    let events = t.app.user_events(&t.system, found.id()).await.unwrap();
    let trail: Vec<(AuditAction, Option<Status>)> =
        events.iter().map(|e| (e.action, e.to_status)).collect();
    assert!(
        trail.contains(&(AuditAction::Created, Some(Status::Active))),
        "{trail:?}"
    );
    assert!(
        trail.contains(&(AuditAction::StatusChanged, Some(Status::Inactive))),
        "{trail:?}"
    );
    assert!(
        trail.contains(&(AuditAction::StatusChanged, Some(Status::Active))),
        "{trail:?}"
    );
    assert!(
        events
            .iter()
            .all(|e| e.actor.kind() == "scim" && e.actor.label() == "okta")
    );
    let requests: std::collections::HashSet<_> = events.iter().map(|e| e.actor.run()).collect();
    assert!(
        requests.iter().all(Option::is_some),
        "each change names its request"
    );
    assert!(
        requests.len() >= 4,
        "one request id per request: {requests:?}"
    );
}

pub async fn entra_provisions_disables_and_deletes_then_restores(db: TestDb) {
    let t = spawn_app(db).await;
    let entra = connect(&t, "entra", None).await;

    // Test Connection: a random GUID that matches nobody is 200 with an empty list.
    let probe = entra
        .filter("userName eq \"0b0d1f2e-77a4-4a5e-9f0e-7d5c2a6c1b11\"")
        .await;
    assert_eq!(probe.status, 200);
    assert_eq!(probe.body["totalResults"], 0);

    let made = entra
        .post(
            "/Users",
            &json!({
                "schemas": [
                    "urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
                ],
                "externalId": "grace",
                "userName": "grace@northfield.example",
                "active": true,
                "displayName": "Grace Hopper",
                "meta": {"resourceType": "User"},
                "name": {"formatted": "Grace Hopper", "familyName": "Hopper", "givenName": "Grace"},
                "addresses": null,
                "roles": [],
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Maths"},
            }),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let id = made.body["id"].as_str().unwrap().to_owned();
    let path = format!("/Users/{id}");

    // A work e-mail replaced on a person who has none is added.
    let mail = entra
        .patch(
            &path,
            &json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "g.hopper@northfield.example"}]),
        )
        .await;
    assert_eq!(mail.status, 200, "{}", mail.body);
    assert_eq!(
        mail.body["emails"],
        json!([{"type": "work", "value": "g.hopper@northfield.example"}])
    );

    let off = entra
        .patch(
            &path,
            &json!([{"op": "Replace", "path": "active", "value": "False"}]),
        )
        .await;
    assert_eq!(off.body["active"], false, "{}", off.body);
    let grace = t
        .app
        .find_user(&t.system, "g.hopper@northfield.example")
        .await
        .unwrap();
    assert_eq!(grace.status(), Status::Inactive);

    let renamed = entra
        .patch(
            &path,
            &json!([{"op": "replace", "value": {
                "name.givenName": "Amazing Grace",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "1906",
                "active": true,
            }}]),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    let grace = t.app.user(&t.system, grace.id()).await.unwrap();
    assert_eq!(grace.given_name().as_str(), "Amazing Grace");
    assert_eq!(grace.attributes().get("employee_number"), Some("1906"));
    assert_eq!(grace.attributes().get("department"), Some("Maths"));
    assert_eq!(grace.status(), Status::Active);

    let gone = entra.delete(&path).await;
    assert_eq!(gone.status, 204, "{}", gone.body);
    assert_scim_error(&entra.get(&path).await, 404, None);
    assert_scim_error(
        &entra
            .patch(
                &path,
                &json!([{"op": "replace", "path": "title", "value": "x"}]),
            )
            .await,
        404,
        None,
    );
    assert_eq!(
        entra
            .filter("userName eq \"grace@northfield.example\"")
            .await
            .body["totalResults"],
        0
    );
    let archived = t.app.user(&t.system, grace.id()).await.unwrap();
    assert_eq!(
        archived.status(),
        Status::Archived,
        "DELETE archives; every record stays"
    );

    // Created again with the same userName and externalId: the same person, whole, new id.
    let again = entra
        .post(
            "/Users",
            &json!({"userName": "grace@northfield.example", "externalId": "grace", "active": true,
                    "name": {"givenName": "Grace", "familyName": "Hopper"}}),
        )
        .await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_ne!(
        again.body["id"],
        id.as_str(),
        "a deleted id is never reused"
    );
    let back = t.app.user(&t.system, grace.id()).await.unwrap();
    assert_eq!(back.status(), Status::Active);
    assert_eq!(
        back.attributes().get("employee_number"),
        None,
        "the new resource says none"
    );
    let events = t.app.user_events(&t.system, back.id()).await.unwrap();
    assert!(events.iter().any(|e| e.to_status == Some(Status::Archived)));
    assert_eq!(
        events.last().map(|e| e.to_status),
        Some(Some(Status::Active))
    );
    assert_scim_error(&entra.get(&path).await, 404, None);
}

pub async fn an_admins_decision_sticks_until_the_provider_changes_its_word(db: TestDb) {
    let t = spawn_app(db).await;
    let okta = connect(&t, "okta", None).await;
    let made = okta.post("/Users", &okta_user()).await;
    let id = made.body["id"].as_str().unwrap().to_owned();
    let person = t
        .app
        .find_user(&t.system, "ada.lovelace@northfield.example")
        .await
        .unwrap();
    t.app
        .change_status(
            &t.system,
            person.id(),
            ChangeStatus {
                status: "inactive".into(),
                ..ChangeStatus::default()
            },
        )
        .await
        .unwrap();
    // Okta's next profile PUT still says active: true, as it always did.
    let mut body = okta_user();
    body["title"] = json!("Analyst");
    let put = okta.put(&format!("/Users/{id}"), &body).await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.body["active"], false, "the admin's deactivation stands");
    let now = t.app.user(&t.system, person.id()).await.unwrap();
    assert_eq!(now.status(), Status::Inactive);
    assert_eq!(now.attributes().get("title"), Some("Analyst"));
    // The provider changes its word (false, then true): now it applies.
    okta.patch(
        &format!("/Users/{id}"),
        &json!([{"op": "replace", "path": "active", "value": false}]),
    )
    .await;
    let on = okta
        .patch(
            &format!("/Users/{id}"),
            &json!([{"op": "replace", "path": "active", "value": true}]),
        )
        .await;
    assert_eq!(on.body["active"], true, "{}", on.body);
}

pub async fn a_person_added_by_hand_is_taken_over_and_another_sources_is_not(db: TestDb) {
    let t = spawn_app(db).await;
    let okta = connect(&t, "okta", None).await;
    let hand = t.student("Ada", "Lovelace", "ada").await;
    let made = okta
        .post("/Users", &json!({"userName": "ada", "externalId": "x1", "name": {"givenName": "Ada", "familyName": "Lovelace"}}))
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let linked = t.app.find_user(&t.system, "ada").await.unwrap();
    assert_eq!(
        linked.id().to_string(),
        hand["id"].as_str().unwrap(),
        "the same person"
    );
    assert_eq!(linked.source().as_str(), "okta");
    // The root admin is nobody's to take: the connection may only take people added by hand,
    // and another connection's people are refused by name.
    let entra = connect(&t, "entra", None).await;
    let clash = entra.post("/Users", &json!({"userName": "ada"})).await;
    assert_scim_error(&clash, 409, Some("uniqueness"));
    assert!(
        clash.body["detail"].as_str().unwrap().contains("okta"),
        "{}",
        clash.body
    );
}

pub async fn scim_refuses_bad_requests_with_the_rfc_error_and_changes_nothing(db: TestDb) {
    let t = spawn_app(db).await;
    let okta = connect(&t, "okta", None).await;
    let made = okta.post("/Users", &okta_user()).await;
    let id = made.body["id"].as_str().unwrap().to_owned();
    let path = format!("/Users/{id}");
    let version = made.headers["etag"].to_str().unwrap().to_owned();
    let raw = |body: &'static str| {
        t.client
            .post(okta.url("/Users"))
            .bearer_auth(&okta.token)
            .header("content-type", "application/scim+json")
            .body(body)
    };

    assert_scim_error(
        &t.send(raw("{\"userName\": ")).await,
        400,
        Some("invalidSyntax"),
    );
    assert_scim_error(
        &okta.filter("userName eq").await,
        400,
        Some("invalidFilter"),
    );
    assert_scim_error(
        &okta.filter("shoeSize eq 9").await,
        400,
        Some("invalidFilter"),
    );
    assert_scim_error(
        &okta.get("/Users?count=lots").await,
        400,
        Some("invalidValue"),
    );
    let many = okta.get("/Users?count=1000000000").await;
    assert_eq!(many.status, 200, "an absurd count is capped: {}", many.body);
    assert_scim_error(
        &okta
            .patch(
                &path,
                &json!([{"op": "move", "path": "title", "value": "x"}]),
            )
            .await,
        400,
        Some("invalidSyntax"),
    );
    assert_scim_error(
        &okta.patch(&path, &json!([{"op": "replace", "path": "emails[type eq \"home\" and primary eq true]", "value": {"value": "h@x.example"}}])).await,
        400,
        Some("noTarget"),
    );
    assert_scim_error(
        &okta.patch(&path, &json!([{"op": "remove"}])).await,
        400,
        Some("noTarget"),
    );
    assert_scim_error(
        &okta
            .patch(
                &path,
                &json!([{"op": "add", "path": "shoeSize", "value": 9}]),
            )
            .await,
        400,
        Some("invalidPath"),
    );
    assert_scim_error(
        &okta
            .patch(
                &path,
                &json!([{"op": "replace", "path": "id", "value": "mine"}]),
            )
            .await,
        400,
        Some("mutability"),
    );
    // A PATCH whose second operation fails changes nothing of the first.
    let half = okta
        .patch(
            &path,
            &json!([
                {"op": "replace", "path": "title", "value": "Changed"},
                {"op": "replace", "path": "active", "value": "maybe"},
            ]),
        )
        .await;
    assert_scim_error(&half, 400, Some("invalidValue"));
    let mut duplicate = okta_user();
    duplicate["externalId"] = json!("another");
    assert_scim_error(
        &okta.post("/Users", &duplicate).await,
        409,
        Some("uniqueness"),
    );
    let mut duplicate = okta_user();
    duplicate["userName"] = json!("someone.else@northfield.example");
    duplicate["emails"] = json!([]);
    assert_scim_error(
        &okta.post("/Users", &duplicate).await,
        409,
        Some("uniqueness"),
    );
    assert_scim_error(
        &okta
            .post("/Users", &json!({"userName": "x", "shoeSize": 9}))
            .await,
        400,
        Some("invalidValue"),
    );
    assert_scim_error(
        &okta
            .post("/Users", &json!({"name": {"givenName": "No"}}))
            .await,
        400,
        Some("invalidValue"),
    );

    // Stale ETag: 412.
    let stale = okta
        .call(
            reqwest::Method::PUT,
            &path,
            Some(&okta_user()),
            &[("if-match", "W/\"1-0\"")],
        )
        .await;
    assert_scim_error(&stale, 412, None);
    // The current one passes; If-None-Match with it is 304.
    let current = okta.get(&path).await;
    assert_eq!(current.headers["etag"].to_str().unwrap(), version);
    let unchanged = okta
        .call(
            reqwest::Method::GET,
            &path,
            None,
            &[("if-none-match", &version)],
        )
        .await;
    assert_eq!(unchanged.status, 304);

    // Tokens: wrong, missing, revoked.
    let wrong = Scim {
        t: &t,
        token: "sc_0_nope".into(),
    };
    let refused = wrong.get("/Users").await;
    assert_scim_error(&refused, 401, None);
    assert!(
        refused.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let api_token = Scim {
        t: &t,
        token: t.token.clone(),
    };
    assert_scim_error(&api_token.get("/Users").await, 401, None);
    let connection = t.app.scim_connection(&t.system, "okta").await.unwrap();
    let second = t
        .app
        .create_scim_token(&t.system, "okta", Some("rotation"))
        .await
        .unwrap();
    t.app
        .revoke_scim_token(&t.system, "okta", connection.tokens[0].id)
        .await
        .unwrap();
    assert_scim_error(&okta.get("/Users").await, 401, None);
    let okta = Scim {
        t: &t,
        token: second.1,
    };

    // Another org's connection does not see this org's users.
    let other_org = t.app.create_org("southfield", "Southfield").await.unwrap();
    let other_admin = rollcall_app::Principal::system(other_org.id, "test");
    let (_, other_token) = t
        .app
        .add_scim_connection(
            &other_admin,
            NewConnection {
                name: "okta".into(),
                ..NewConnection::default()
            },
        )
        .await
        .unwrap();
    let stranger = Scim {
        t: &t,
        token: other_token,
    };
    assert_scim_error(&stranger.get(&path).await, 404, None);
    assert_eq!(stranger.get("/Users").await.body["totalResults"], 0);
    assert_scim_error(&stranger.delete(&path).await, 404, None);

    // Too big a body: 413 before it is read.
    let huge = format!("{{\"userName\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let too_big = t
        .send(
            t.client
                .post(okta.url("/Users"))
                .bearer_auth(&okta.token)
                .header("content-type", "application/json")
                .body(huge),
        )
        .await;
    assert_scim_error(&too_big, 413, None);

    // After all of it: the one person, unchanged, and no one else.
    let after = okta.get(&path).await;
    assert_eq!(
        after.headers["etag"].to_str().unwrap(),
        version,
        "nothing changed: {}",
        after.body
    );
    assert!(after.body.get("title").is_none());
    assert_eq!(okta.get("/Users").await.body["totalResults"], 1);
}

pub async fn discovery_documents_and_unknown_paths_answer_in_scim(db: TestDb) {
    let t = spawn_app(db).await;
    let scim = connect(&t, "okta", None).await;
    let config = scim.get("/ServiceProviderConfig").await;
    assert_eq!(config.status, 200);
    assert_eq!(config.headers["content-type"], SCIM_JSON);
    assert_eq!(config.body["patch"]["supported"], true);
    assert_eq!(config.body["bulk"]["supported"], false);
    assert_eq!(config.body["etag"]["supported"], true);
    assert_eq!(
        config.body["authenticationSchemes"][0]["type"],
        "oauthbearertoken"
    );
    let types = scim.get("/ResourceTypes").await;
    assert_eq!(types.body["totalResults"], 2);
    assert_eq!(
        scim.get("/ResourceTypes/User").await.body["endpoint"],
        "/Users"
    );
    let schemas = scim.get("/Schemas").await;
    assert_eq!(
        schemas.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
    );
    assert_eq!(schemas.body["totalResults"], 3);
    let user = scim
        .get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User")
        .await;
    let names: Vec<&str> = user.body["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert!(
        names.contains(&"userName") && names.contains(&"emails"),
        "{names:?}"
    );
    assert_scim_error(&scim.post("/Schemas", &json!({})).await, 405, None);
    assert_scim_error(&scim.get("/Nonsense").await, 404, None);
    assert_scim_error(&scim.post("/Bulk", &json!({})).await, 501, None);
}

pub async fn a_connection_over_its_allowance_is_told_when_to_come_back(db: TestDb) {
    let t = spawn_app(db).await;
    let scim = connect(&t, "okta", Some(60)).await;
    for _ in 0..10 {
        assert_eq!(scim.get("/Users").await.status, 200);
    }
    let refused = scim.get("/Users").await;
    assert_scim_error(&refused, 429, None);
    assert!(
        refused.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
}

pub async fn filters_sorting_and_paging_are_answered_by_the_database(db: TestDb) {
    let t = spawn_app(db).await;
    let scim = connect(&t, "okta", None).await;
    let department = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    for (user_name, given, family, external, email, extra) in [
        (
            "ada",
            "Ada",
            "Lovelace",
            "X1",
            "Ada@Northfield.example",
            json!({"title": "Countess"}),
        ),
        (
            "grace",
            "Grace",
            "Hopper",
            "X2",
            "grace@northfield.example",
            json!({department: {"department": "Maths"}}),
        ),
        (
            "alan",
            "Alan",
            "Turing",
            "X3",
            "alan@northfield.example",
            json!({"active": false}),
        ),
        (
            "edsger",
            "Edsger",
            "Dijkstra",
            "X4",
            "edsger@northfield.example",
            json!({}),
        ),
    ] {
        let mut body = json!({
            "userName": user_name, "externalId": external,
            "name": {"givenName": given, "familyName": family},
            "emails": [{"value": email, "type": "work", "primary": true},
                       {"value": format!("{user_name}@home.example"), "type": "home"}],
        });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let made = scim.post("/Users", &body).await;
        assert_eq!(made.status, 201, "{}", made.body);
    }
    let names = |reply: &Reply| -> Vec<String> {
        reply.body["Resources"]
            .as_array()
            .map(|r| {
                r.iter()
                    .map(|u| u["userName"].as_str().unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    for (filter, expected) in [
        ("emails.value eq \"alan@home.example\"", vec!["alan"]),
        (
            "emails[type eq \"work\"].value eq \"ADA@NORTHFIELD.EXAMPLE\"",
            vec!["ada"],
        ),
        (
            "emails[type eq \"work\" and primary eq true and value co \"grace\"]",
            vec!["grace"],
        ),
        ("name.givenName sw \"gr\"", vec!["grace"]),
        ("name.familyName co \"OVE\"", vec!["ada"]),
        ("name.familyName ew \"per\"", vec!["grace"]),
        ("active eq false", vec!["alan"]),
        ("not (active eq true)", vec!["alan"]),
        ("externalId eq \"X2\"", vec!["grace"]),
        ("externalId eq \"x2\"", vec![]),
        ("title pr", vec!["ada"]),
        ("title eq null", vec!["grace", "alan", "edsger"]),
        (
            &format!("{department}:department eq \"maths\"") as &str,
            vec!["grace"],
        ),
        (
            "(name.givenName eq \"Ada\" or name.givenName eq \"Alan\") and active eq true",
            vec!["ada"],
        ),
        ("userName ne \"ada\"", vec!["grace", "alan", "edsger"]),
        ("userName gt \"b\"", vec!["grace", "edsger"]),
        (
            "meta.lastModified gt \"2000-01-01T00:00:00Z\"",
            vec!["ada", "grace", "alan", "edsger"],
        ),
        ("meta.created lt \"2000-01-01T00:00:00Z\"", vec![]),
        ("emails pr", vec!["ada", "grace", "alan", "edsger"]),
    ] {
        let reply = scim.filter(filter).await;
        assert_eq!(reply.status, 200, "{filter}: {}", reply.body);
        assert_eq!(names(&reply), expected, "{filter}");
        assert_eq!(reply.body["totalResults"], expected.len(), "{filter}");
    }
    // Sorted, paged, and trimmed to what is asked.
    let sorted = scim
        .get("/Users?sortBy=name.familyName&sortOrder=descending")
        .await;
    assert_eq!(
        names(&sorted),
        ["alan", "ada", "grace", "edsger"],
        "{}",
        sorted.body
    );
    // Missing values sort last whichever the order, on both backends.
    let titled = scim.get("/Users?sortBy=title").await;
    assert_eq!(names(&titled)[0], "ada", "{}", titled.body);
    let titled = scim.get("/Users?sortBy=title&sortOrder=descending").await;
    assert_eq!(names(&titled)[0], "ada", "{}", titled.body);
    let page = scim
        .get("/Users?sortBy=userName&startIndex=2&count=2")
        .await;
    assert_eq!(names(&page), ["alan", "edsger"]);
    assert_eq!(
        (
            page.body["totalResults"].as_u64(),
            page.body["startIndex"].as_u64(),
            page.body["itemsPerPage"].as_u64()
        ),
        (Some(4), Some(2), Some(2))
    );
    let counted = scim.get("/Users?count=0").await;
    assert_eq!(
        (
            counted.body["totalResults"].as_u64(),
            counted.body["itemsPerPage"].as_u64()
        ),
        (Some(4), Some(0))
    );
    let trimmed = scim
        .get("/Users?attributes=userName&filter=userName%20eq%20%22ada%22")
        .await;
    let only: Vec<&String> = trimmed.body["Resources"][0]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(only, ["id", "schemas", "userName"], "{}", trimmed.body);
    let without = scim.get("/Users?excludedAttributes=emails,name").await;
    assert!(without.body["Resources"][0].get("emails").is_none());
    assert!(without.body["Resources"][0].get("userName").is_some());
    // The same through a search request.
    let searched = scim
        .post(
            "/Users/.search",
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                    "filter": "name.givenName eq \"edsger\"", "attributes": ["userName"], "count": 10}),
        )
        .await;
    assert_eq!(searched.status, 200, "{}", searched.body);
    assert_eq!(names(&searched), ["edsger"]);
}

pub async fn groups_become_rosters_and_follow_their_members(db: TestDb) {
    let t = spawn_app(db).await;
    let okta = connect(&t, "okta", None).await;
    let mut ids = Vec::new();
    for (name, kind) in [("ada", "teacher"), ("bob", "student"), ("cy", "student")] {
        let made = okta
            .post(
                "/Users",
                &json!({"userName": name, "userType": kind, "name": {"givenName": name, "familyName": "Test"}}),
            )
            .await;
        assert_eq!(made.status, 201, "{}", made.body);
        ids.push(made.body["id"].as_str().unwrap().to_owned());
    }
    // Okta pushes a group with no members, then renames it and changes members in one PATCH.
    let made = okta
        .post("/Groups", &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Year 7 Science", "members": []}))
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(made.body["meta"]["resourceType"], "Group");
    let group = made.body["id"].as_str().unwrap().to_owned();
    let path = format!("/Groups/{group}");
    let found = okta
        .get("/Groups?filter=displayName%20eq%20%22year%207%20science%22")
        .await;
    assert_eq!(found.body["totalResults"], 1, "{}", found.body);
    let patched = okta
        .patch(
            &path,
            &json!([
                {"op": "replace", "value": {"id": group, "displayName": "Year 7 Science (2026)"}},
                {"op": "add", "path": "members", "value": [{"value": ids[0], "display": "ada"}, {"value": ids[1]}]},
            ]),
        )
        .await;
    assert_eq!(patched.status, 204, "{}", patched.body);
    let shown = okta.get(&path).await;
    assert_eq!(shown.body["displayName"], "Year 7 Science (2026)");
    assert_eq!(shown.body["members"].as_array().unwrap().len(), 2);
    // In Rollcall: a roster with a teacher and a student.
    let rosters = t.app.rosters(&t.system).await.unwrap();
    let roster = rosters
        .iter()
        .find(|r| r.roster.title == "Year 7 Science (2026)")
        .expect("the group is a roster");
    assert_eq!((roster.teachers, roster.students), (1, 1));
    // Each member's history says they joined, by the connection's request.
    let ada_person = t.app.find_user(&t.system, "ada").await.unwrap();
    let joined: Vec<String> = t
        .app
        .user_events(&t.system, ada_person.id())
        .await
        .unwrap()
        .iter()
        .filter(|e| e.changed_fields == ["rosters"] && e.actor.kind() == "scim")
        .filter_map(|e| e.reason.as_ref().map(|r| r.as_str().to_owned()))
        .collect();
    assert_eq!(joined, ["joined the roster 'Year 7 Science (2026)'"]);
    // A member's User shows the group.
    let ada = okta.get(&format!("/Users/{}", ids[0])).await;
    assert_eq!(
        ada.body["groups"][0]["value"],
        group.as_str(),
        "{}",
        ada.body
    );
    assert_eq!(ada.body["groups"][0]["display"], "Year 7 Science (2026)");

    // Entra's shapes: members left out on request, added with $ref null, removed by a list.
    let listed = okta
        .get("/Groups?excludedAttributes=members&filter=displayName%20eq%20%22Year%207%20Science%20(2026)%22")
        .await;
    assert!(
        listed.body["Resources"][0].get("members").is_none(),
        "{}",
        listed.body
    );
    let added = okta
        .patch(
            &path,
            &json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": ids[2]}]}]),
        )
        .await;
    assert_eq!(added.status, 204, "{}", added.body);
    let removed = okta
        .patch(
            &path,
            &json!([{"op": "Remove", "path": "members", "value": [{"value": ids[1]}]}]),
        )
        .await;
    assert_eq!(removed.status, 204);
    let by_filter = okta
        .patch(
            &path,
            &json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", ids[0])}]),
        )
        .await;
    assert_eq!(by_filter.status, 204);
    let roster = t
        .app
        .rosters(&t.system)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.roster.title.starts_with("Year 7"))
        .unwrap();
    assert_eq!(
        (roster.teachers, roster.students),
        (0, 1),
        "only cy is left"
    );
    let left = t.app.user_events(&t.system, ada_person.id()).await.unwrap();
    assert!(
        left.iter().any(|e| e
            .reason
            .as_ref()
            .is_some_and(|r| r.as_str() == "left the roster 'Year 7 Science (2026)'")),
        "ada's history says she left"
    );
    // Bad members and duplicate names are refused, changing nothing.
    let stranger = okta
        .patch(&path, &json!([{"op": "add", "path": "members", "value": [{"value": "00000000-0000-0000-0000-000000000000"}]}]))
        .await;
    assert_scim_error(&stranger, 400, Some("invalidValue"));
    let twin = okta
        .post("/Groups", &json!({"displayName": "YEAR 7 SCIENCE (2026)"}))
        .await;
    assert_scim_error(&twin, 409, Some("uniqueness"));
    assert_eq!(
        okta.get(&path).await.body["members"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    // Okta's full replace of the members, then the group deleted: the roster goes, people stay.
    let replaced = okta
        .patch(&path, &json!([{"op": "replace", "path": "members", "value": [{"value": ids[0]}, {"value": ids[1]}]}]))
        .await;
    assert_eq!(replaced.status, 204);
    assert_eq!(
        okta.get(&path).await.body["members"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    assert_eq!(okta.delete(&path).await.status, 204);
    assert_scim_error(&okta.get(&path).await, 404, None);
    assert!(
        t.app
            .rosters(&t.system)
            .await
            .unwrap()
            .iter()
            .all(|r| !r.roster.title.starts_with("Year 7"))
    );
    assert_eq!(okta.get(&format!("/Users/{}", ids[0])).await.status, 200);
}

pub async fn connections_are_managed_through_the_api_with_their_last_requests(db: TestDb) {
    let t = spawn_app(db).await;
    let made = t
        .post(
            "/api/v1/scim-connections",
            &json!({"name": "okta", "role_attribute": "title"}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(made.body["connection"]["role_attribute"], "title");
    assert_eq!(made.body["connection"]["base_path"], "/scim/v2");
    let scim = Scim {
        t: &t,
        token: made.body["token"].as_str().unwrap().to_owned(),
    };
    let listed = scim.get("/Users?count=5").await;
    assert_eq!(listed.status, 200);
    let request = listed.headers["x-request-id"].to_str().unwrap().to_owned();
    let refused = scim.get("/Users/not-an-id").await;
    assert_eq!(refused.status, 404);

    let requests = t.get("/api/v1/scim-connections/okta/requests").await;
    assert_eq!(requests.status, 200, "{}", requests.body);
    let lines = requests.body["requests"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{}", requests.body);
    assert_eq!(lines[0]["status"], 404, "newest first");
    assert_eq!(lines[1]["path"], "/Users?count=5");
    assert_eq!(lines[1]["request"], request.as_str());

    // A second token, then the first revoked: only the second works.
    let second = t
        .post(
            "/api/v1/scim-connections/okta/tokens",
            &json!({"name": "rotation"}),
        )
        .await;
    assert_eq!(second.status, 201, "{}", second.body);
    let shown = t.get("/api/v1/scim-connections/okta").await;
    // A name no connection could have names none, nor does a source of another format.
    t.get("/api/v1/scim-connections/Not%20a%20name")
        .await
        .assert_problem(404, None);
    let plain = t.post("/api/v1/sources", &json!({"name": "hr"})).await;
    assert_eq!(plain.status, 201, "{}", plain.body);
    t.get("/api/v1/scim-connections/hr")
        .await
        .assert_problem(404, None);
    let first = shown.body["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|tok| tok["name"] == "default")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked = t
        .send(
            t.client
                .delete(format!(
                    "{}/api/v1/scim-connections/okta/tokens/{first}",
                    t.address
                ))
                .bearer_auth(&t.token),
        )
        .await;
    assert_eq!(revoked.status, 204, "{}", revoked.body);
    assert_scim_error(&scim.get("/Users").await, 401, None);
    // An id that is not one names no token: a problem report, not the router's plain text.
    let malformed = t
        .send(
            t.client
                .delete(format!(
                    "{}/api/v1/scim-connections/okta/tokens/0",
                    t.address
                ))
                .bearer_auth(&t.token),
        )
        .await;
    malformed.assert_problem(404, None);
    let rotated = Scim {
        t: &t,
        token: second.body["token"].as_str().unwrap().to_owned(),
    };
    assert_eq!(rotated.get("/Users").await.status, 200);

    // A SCIM connection is not made as a file source, and names are checked.
    let wrong = t
        .post("/api/v1/sources", &json!({"name": "idp", "format": "scim"}))
        .await;
    wrong.assert_problem(422, Some("format"));
    let bad = t
        .post(
            "/api/v1/scim-connections",
            &json!({"name": "no spaces please"}),
        )
        .await;
    bad.assert_problem(422, Some("name"));
    let taken = t
        .post("/api/v1/scim-connections", &json!({"name": "okta"}))
        .await;
    taken.assert_problem(409, Some("name"));
    assert_eq!(
        t.get("/api/v1/scim-connections").await.body["connections"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

pub async fn people_are_never_shared_merged_or_promoted_by_a_connection(db: TestDb) {
    let t = spawn_app(db).await;
    let okta = connect(&t, "okta", None).await;
    let first = okta
        .post("/Users", &json!({"userName": "john.smith", "externalId": "j1",
            "emails": [{"value": "john@northfield.example", "type": "work"}], "userType": "Administrator"}))
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    // A second User sharing the mailbox is refused, not merged into John.
    let second = okta
        .post(
            "/Users",
            &json!({"userName": "john.smith.admin", "externalId": "j2",
            "emails": [{"value": "john@northfield.example", "type": "work"}]}),
        )
        .await;
    assert_scim_error(&second, 409, Some("uniqueness"));
    // No directory text makes an admin; the org's own admin is not taken over.
    let john = t.app.find_user(&t.system, "john.smith").await.unwrap();
    assert_eq!(john.role(), rollcall_domain::Role::Student);
    let root = okta.post("/Users", &json!({"userName": "root"})).await;
    assert_scim_error(&root, 409, Some("uniqueness"));
    assert!(
        root.body["detail"].as_str().unwrap().contains("admin"),
        "{}",
        root.body
    );
    // A recycled userName with another externalId is someone else: a new person.
    let gone = okta
        .delete(&format!("/Users/{}", first.body["id"].as_str().unwrap()))
        .await;
    assert_eq!(gone.status, 204);
    let newcomer = okta
        .post(
            "/Users",
            &json!({"userName": "john.smith", "externalId": "j9",
            "emails": [{"value": "john.new@northfield.example", "type": "work"}]}),
        )
        .await;
    assert_eq!(newcomer.status, 201, "{}", newcomer.body);
    let now = t
        .app
        .find_user(&t.system, "john.new@northfield.example")
        .await
        .unwrap();
    assert_ne!(
        now.id(),
        john.id(),
        "the archived John keeps his own history"
    );
    assert_eq!(
        t.app.user(&t.system, john.id()).await.unwrap().status(),
        Status::Archived
    );
    // A NUL is refused by name on both backends.
    let nul = okta.post("/Users", &json!({"userName": "nul", "emails": [{"value": "nul@northfield.example"}], "nickName": "a\u{0}b"})).await;
    assert_scim_error(&nul, 400, Some("invalidValue"));
    // A paused connection is refused until resumed.
    t.app
        .set_source_paused(&t.system, "okta", true)
        .await
        .unwrap();
    assert_scim_error(&okta.get("/Users").await, 403, None);
    t.app
        .set_source_paused(&t.system, "okta", false)
        .await
        .unwrap();
    assert_eq!(okta.get("/Users").await.status, 200);
}

pub async fn a_group_goes_on_after_one_of_its_members_is_deleted(db: TestDb) {
    let t = spawn_app(db).await;
    let entra = connect(&t, "entra", None).await;
    let mut ids = Vec::new();
    for name in ["ann", "ben", "cat"] {
        let made = entra
            .post(
                "/Users",
                &json!({"userName": name, "name": {"givenName": name, "familyName": "X"}}),
            )
            .await;
        ids.push(made.body["id"].as_str().unwrap().to_owned());
    }
    let group = entra
        .post(
            "/Groups",
            &json!({"displayName": "Choir", "members": [{"value": ids[0]}, {"value": ids[1]}]}),
        )
        .await;
    assert_eq!(group.status, 201, "{}", group.body);
    let path = format!("/Groups/{}", group.body["id"].as_str().unwrap());
    assert_eq!(
        entra.delete(&format!("/Users/{}", ids[0])).await.status,
        204
    );
    // Entra adds someone else: the deleted member does not block it, and is dropped.
    let added = entra
        .patch(
            &path,
            &json!([{"op": "Add", "path": "members", "value": [{"value": ids[2]}]}]),
        )
        .await;
    assert_eq!(added.status, 204, "{}", added.body);
    let members: Vec<String> = entra.get(&path).await.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(members, [ids[1].clone(), ids[2].clone()]);
    // A stale ETag is a 412 before anything is read into the group.
    let stale = entra
        .call(reqwest::Method::PATCH, &path,
              Some(&json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                           "Operations": [{"op": "add", "path": "members", "value": [{"value": "nobody"}]}]})),
              &[("if-match", "W/\"1\"")])
        .await;
    assert_scim_error(&stale, 412, None);
}

/// Requests sent at the same moment are written together; each still gets its own answer,
/// its own events (with its own request id), and the refusal it would get alone.
pub async fn requests_sent_together_each_get_their_own_answer(db: TestDb) {
    let t = spawn_app(db).await;
    let okta = connect(&t, "okta", None).await;
    let user = |name: &str| {
        json!({"userName": name, "externalId": format!("x-{name}"),
               "name": {"givenName": name, "familyName": "Burst"}})
    };
    // Someone the connection deleted before: a create with their name restores them.
    let gone = okta.post("/Users", &user("zed")).await;
    let zed = t.app.find_user(&t.system, "zed").await.unwrap();
    let gone_path = format!("/Users/{}", gone.body["id"].as_str().unwrap());
    assert_eq!(okta.delete(&gone_path).await.status, 204);

    // Ten new people, two sending a name another request of the burst sends, and the restore.
    let mut names: Vec<String> = (0..10).map(|i| format!("burst{i}")).collect();
    names.extend(["burst3".to_owned(), "burst7".to_owned(), "zed".to_owned()]);
    let bodies: Vec<Value> = names.iter().map(|n| user(n)).collect();
    let made = futures::future::join_all(bodies.iter().map(|b| okta.post("/Users", b))).await;
    let mut created = std::collections::HashMap::new();
    for (name, reply) in names.iter().zip(&made) {
        match reply.status {
            201 => assert!(
                created
                    .insert(name.clone(), reply.body["id"].as_str().unwrap().to_owned())
                    .is_none(),
                "{name} was created twice"
            ),
            _ => {
                assert_scim_error(reply, 409, Some("uniqueness"));
            }
        }
    }
    assert_eq!(created.len(), 11, "one User per name: {created:?}");
    let restored = t.app.find_user(&t.system, "zed").await.unwrap();
    assert_eq!(restored.id(), zed.id(), "zed came back as the same person");
    assert_eq!(restored.status(), Status::Active);

    // Every one deactivated at once, and one of them renamed by a second request of the burst.
    let off = json!([{"op": "replace", "path": "active", "value": false}]);
    let rename = json!([{"op": "replace", "path": "name.familyName", "value": "Renamed"}]);
    let mut patches: Vec<(String, Value)> = created
        .values()
        .map(|id| (format!("/Users/{id}"), off.clone()))
        .collect();
    patches.push((format!("/Users/{}", created["burst5"]), rename));
    let replies =
        futures::future::join_all(patches.iter().map(|(path, ops)| okta.patch(path, ops))).await;
    let mut requests = std::collections::HashSet::new();
    for reply in &replies {
        assert_eq!(reply.status, 200, "{}", reply.body);
        requests.insert(reply.headers["x-request-id"].to_str().unwrap().to_owned());
    }
    assert_eq!(requests.len(), patches.len(), "each request has its own id");
    for name in created.keys() {
        let person = t.app.find_user(&t.system, name).await.unwrap();
        assert_eq!(person.status(), Status::Inactive, "{name}");
        let events = t.app.user_events(&t.system, person.id()).await.unwrap();
        let off = events
            .iter()
            .find(|e| e.to_status == Some(Status::Inactive))
            .unwrap_or_else(|| panic!("{name} has no deactivation in {events:?}"));
        match &off.actor {
            rollcall_domain::Actor::Scim { request, label, .. } => {
                assert_eq!(label, "okta");
                let request = request.expect("a request id").to_string();
                assert!(requests.contains(&request), "{name}: {request}");
            }
            other => panic!("{name} deactivated by {other:?}"),
        }
    }
    let renamed = t.app.find_user(&t.system, "burst5").await.unwrap();
    assert_eq!(renamed.family_name().as_str(), "Renamed");
    assert_eq!(renamed.status(), Status::Inactive);
}

/// A roster an identity provider keeps (a Group) is written to through the outbox: its active
/// members are sent the message, its inactive one's is kept unsent.
pub async fn a_message_to_a_roster_reaches_its_active_members(db: TestDb) {
    let t = spawn_app(db).await;
    let okta = connect(&t, "okta", None).await;
    let mut ids = Vec::new();
    for name in ["ivy", "jay", "kim"] {
        let made = okta
            .post(
                "/Users",
                &json!({"userName": format!("{name}@northfield.example"),
                        "name": {"givenName": name, "familyName": "Choir"}}),
            )
            .await;
        assert_eq!(made.status, 201, "{}", made.body);
        ids.push(made.body["id"].as_str().unwrap().to_owned());
    }
    let members: Vec<Value> = ids.iter().map(|id| json!({"value": id})).collect();
    let group = okta
        .post(
            "/Groups",
            &json!({"displayName": "Choir", "members": members}),
        )
        .await;
    assert_eq!(group.status, 201, "{}", group.body);
    let off = json!([{"op": "replace", "path": "active", "value": false}]);
    assert_eq!(
        okta.patch(&format!("/Users/{}", ids[2]), &off).await.status,
        200
    );
    let roster = t.get("/api/v1/rosters").await.body["rosters"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/rosters/{roster}/message");

    t.post(&path, &json!({"subject": "Rehearsal", "body": ""}))
        .await
        .assert_problem(422, Some("body"));
    let written = t
        .post(
            &path,
            &json!({"subject": "Rehearsal", "body": "Tuesday at four."}),
        )
        .await;
    assert_eq!(written.status, 201, "{}", written.body);
    assert_eq!(written.body, json!({"queued": 2, "suppressed": 1}));
    t.post(
        "/api/v1/rosters/00000000-0000-0000-0000-000000000000/message",
        &json!({"subject": "Rehearsal", "body": "Tuesday at four."}),
    )
    .await
    .assert_problem(404, None);
}
