//! `TestApp`: the real router on 127.0.0.1:0 over a throwaway database, with a client helper
//! per endpoint.

use rollcall_app::{App, CreateUser, Principal};
use rollcall_domain::Org;
use rollcall_testkit::TestDb;
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub app: App,
    pub org: Org,
    pub system: Principal,
    /// An admin's API token.
    pub token: String,
    _shutdown: oneshot::Sender<()>,
    pub db: TestDb,
}

pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// Asserts a problem+json reply with this status naming `field`.
    pub fn assert_problem(&self, status: u16, field: Option<&str>) {
        assert_eq!(self.status, status, "{}", self.body);
        let content_type = self
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok());
        assert_eq!(content_type, Some("application/problem+json"));
        assert!(
            self.body["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{}",
            self.body
        );
        if let Some(field) = field {
            let fields: Vec<&str> = self.body["errors"]
                .as_array()
                .map(|errors| errors.iter().filter_map(|e| e["field"].as_str()).collect())
                .unwrap_or_default();
            assert!(fields.contains(&field), "expected {field} in {}", self.body);
        }
    }
}

pub async fn spawn_app(db: TestDb) -> TestApp {
    spawn_app_with(db, rollcall_web::Settings::default()).await
}

/// The app with settings of the test's choosing.
pub async fn spawn_app_with(db: TestDb, settings: rollcall_web::Settings) -> TestApp {
    let app = App::new(db.store.clone());
    let org = app.create_org("northfield", "Northfield").await.unwrap();
    let system = Principal::system(org.id, "test");
    let admin = CreateUser {
        username: Some("root".into()),
        email: Some("root@northfield.example".into()),
        given_name: "Rita".into(),
        family_name: "Root".into(),
        role: "admin".into(),
        ..CreateUser::default()
    };
    app.create_user(&system, admin).await.unwrap();
    let (_, token) = app.create_token(&system, "root", "tests").await.unwrap();

    let server = rollcall_web::Application::bind(app.clone(), "127.0.0.1:0", settings)
        .await
        .unwrap();
    let address = format!("http://127.0.0.1:{}", server.port());
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(server.run_until(async {
        let _ = rx.await;
    }));
    TestApp {
        address,
        client: reqwest::Client::new(),
        app,
        org,
        system,
        token,
        _shutdown: tx,
        db,
    }
}

impl TestApp {
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            headers,
            body,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get_as(&self, token: &str, path: &str) -> Reply {
        self.send(self.client.get(self.url(path)).bearer_auth(token))
            .await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.get_as(&self.token, path).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(
            self.client
                .post(self.url(path))
                .bearer_auth(&self.token)
                .json(body),
        )
        .await
    }

    pub async fn post_raw(&self, path: &str, body: &'static str) -> Reply {
        let request = self
            .client
            .post(self.url(path))
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .body(body);
        self.send(request).await
    }

    pub async fn patch(&self, path: &str, body: &Value, if_match: Option<&str>) -> Reply {
        let mut request = self
            .client
            .patch(self.url(path))
            .bearer_auth(&self.token)
            .json(body);
        if let Some(etag) = if_match {
            request = request.header("if-match", etag);
        }
        self.send(request).await
    }

    pub async fn create_user(&self, body: Value) -> Reply {
        self.post("/api/v1/users", &body).await
    }

    /// Creates a student and returns their JSON.
    pub async fn student(&self, given: &str, family: &str, username: &str) -> Value {
        let reply = self
            .create_user(json!({
                "username": username, "given_name": given, "family_name": family, "role": "student"
            }))
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.body
    }

    pub async fn set_status(&self, id: &str, body: Value) -> Reply {
        self.post(&format!("/api/v1/users/{id}/status"), &body)
            .await
    }

    /// Every user under a filter, as usernames (or e-mails).
    pub async fn logins(&self, query: &str) -> Vec<String> {
        let reply = self.get(&format!("/api/v1/users?limit=200&{query}")).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| {
                u["username"]
                    .as_str()
                    .or(u["email"].as_str())
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    }
}
