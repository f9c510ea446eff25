//! Three `rollcall serve` processes on one PostgreSQL database behave as one service: a session
//! made at one is good at the others, a deactivation through one is refused at once by all (page
//! and API token), sign-in attempts are counted across them, and a stale write through one is
//! refused by another.
#![allow(clippy::unwrap_used, reason = "tests: a failed step is a failed test")]

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};
use rollcall_app::{App, CreateUser, Principal};
use rollcall_testkit::TestDb;
use serde_json::{Value, json};

const PASSWORD: &str = "a fine long passphrase";

struct Server {
    child: Child,
    address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `rollcall serve` on `url` at a free port; returns once it listens, with its address.
fn serve(url: &str) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rollcall"))
        .args(["serve", "--bind", "127.0.0.1:0", "--drop-interval", "0"])
        .env("DATABASE_URL", url)
        .env("ROLLCALL_LOG", "warn")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (said, heard) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("is listening on ").nth(1) {
                let address = rest.split_whitespace().next().unwrap_or_default();
                let _ = said.send(address.to_owned());
            }
        }
    });
    let address = heard
        .recv_timeout(Duration::from_secs(30))
        .expect("the server starts");
    Server { child, address }
}

/// A browser: keeps its cookies (cookies do not depend on the port, so one jar serves the three
/// servers on 127.0.0.1 as one site behind a load balancer would), does not follow redirects.
fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// Posts the sign-in form of `server` (its anti-forgery token read from the form first).
async fn sign_in(client: &Client, server: &Server, login: &str, password: &str) -> StatusCode {
    let form = client
        .get(format!("{}/sign-in", server.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = form
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    client
        .post(format!("{}/sign-in", server.address))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("org", "northfield"),
            ("login", login),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

async fn get(client: &Client, server: &Server, path: &str, token: Option<&str>) -> StatusCode {
    let mut request = client.get(format!("{}{path}", server.address));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().status()
}

async fn api(
    server: &Server,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let response = Client::new()
        .request(method, format!("{}/api/v1{path}", server.address))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn three_servers_on_one_database_act_as_one() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let app = App::new(db.store.clone());
    let org = app.create_org("northfield", "Northfield").await.unwrap();
    let system = Principal::system(org.id, "test");
    for (username, given) in [("dana", "Dana"), ("lee", "Lee"), ("pat", "Pat")] {
        let person = CreateUser {
            username: Some(username.to_owned()),
            given_name: given.to_owned(),
            family_name: "Whitfield".to_owned(),
            role: if username == "pat" {
                "student"
            } else {
                "admin"
            }
            .to_owned(),
            password: Some(PASSWORD.to_owned()),
            ..CreateUser::default()
        };
        app.create_user(&system, person).await.unwrap();
    }
    let (_, dana_token) = app.create_token(&system, "dana", "ops").await.unwrap();
    let (_, lee_token) = app.create_token(&system, "lee", "script").await.unwrap();
    let servers = [serve(&db.url), serve(&db.url), serve(&db.url)];
    let [a, b, c] = &servers;

    // A session made at one server is good at the others.
    let lee = browser();
    assert_eq!(
        sign_in(&lee, a, "lee", PASSWORD).await,
        StatusCode::SEE_OTHER
    );
    for server in [a, b, c] {
        assert_eq!(get(&lee, server, "/users", None).await, StatusCode::OK);
        let token = get(&Client::new(), server, "/api/v1/users", Some(&lee_token)).await;
        assert_eq!(token, StatusCode::OK);
    }

    // Lee is deactivated through A: B and C refuse the session and the token at once.
    let lee_id = app.find_user(&system, "lee").await.unwrap().id();
    let (status, body) = api(
        a,
        &dana_token,
        reqwest::Method::POST,
        &format!("/users/{lee_id}/status"),
        &json!({"status": "inactive", "reason": "left the district"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for server in [b, c, a] {
        let page = get(&lee, server, "/users", None).await;
        assert_eq!(page, StatusCode::SEE_OTHER, "the session ended everywhere");
        let token = get(&Client::new(), server, "/api/v1/users", Some(&lee_token)).await;
        assert_eq!(
            token,
            StatusCode::UNAUTHORIZED,
            "the token stopped everywhere"
        );
    }

    // Wrong passwords for one account, spread over the three: five are free in all, so the
    // sixth is refused, though no server saw more than two.
    let guesser = browser();
    for (attempt, server) in [a, b, c, a, b].into_iter().enumerate() {
        let status = sign_in(&guesser, server, "dana", "not the password").await;
        assert_ne!(status, StatusCode::TOO_MANY_REQUESTS, "attempt {attempt}");
        assert_ne!(status, StatusCode::SEE_OTHER, "attempt {attempt}");
    }
    let sixth = sign_in(&guesser, c, "dana", "not the password").await;
    assert_eq!(
        sixth,
        StatusCode::TOO_MANY_REQUESTS,
        "counted across servers"
    );

    // Two edits from the same version, through A then B: the second is stale.
    let pat_id = app.find_user(&system, "pat").await.unwrap().id();
    let (status, pat) = api(
        a,
        &dana_token,
        reqwest::Method::GET,
        &format!("/users/{pat_id}"),
        &Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let version = pat["version"].as_i64().unwrap();
    let edit = |family: &str| json!({"version": version, "family_name": family});
    let path = format!("/users/{pat_id}");
    let first = api(a, &dana_token, reqwest::Method::PATCH, &path, &edit("One")).await;
    assert_eq!(first.0, StatusCode::OK, "{}", first.1);
    let second = api(b, &dana_token, reqwest::Method::PATCH, &path, &edit("Two")).await;
    assert_eq!(second.0, StatusCode::CONFLICT, "{}", second.1);
    let now = app.find_user(&system, "pat").await.unwrap();
    assert_eq!(
        now.family_name().as_str(),
        "One",
        "the stale write changed nothing"
    );
}
