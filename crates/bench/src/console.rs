//! The Users screen as an admin's browser asks for it: served by the real router over
//! loopback, with a signed-in session, timed from request to the last byte of the page.

use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use rand::rngs::StdRng;
use rollcall_app::{App, CreateUser, Principal};
use rollcall_domain::{AuditEvent, User};
use tokio::sync::oneshot;

const PASSWORD: &str = "bench admin passphrase";

pub struct Screens {
    pub first_page: Vec<Duration>,
    pub search: Vec<Duration>,
}

pub async fn measure(
    app: &App,
    who: &Principal,
    rows: &[(User, AuditEvent)],
    rng: &mut StdRng,
    requests: usize,
) -> Result<Screens> {
    let admin = CreateUser {
        username: Some("bench.console".into()),
        given_name: "Bench".into(),
        family_name: "Console".into(),
        role: "admin".into(),
        password: Some(PASSWORD.into()),
        ..CreateUser::default()
    };
    app.create_user(who, admin).await?;
    let signed_in = app
        .sign_in("bench", "bench.console", PASSWORD, "127.0.0.1")
        .await?;
    let cookie = format!("rollcall_session={}", signed_in.cookie);

    let server = rollcall_web::Application::bind(
        app.clone(),
        "127.0.0.1:0",
        rollcall_web::Settings::default(),
    )
    .await?;
    let address = format!("http://127.0.0.1:{}", server.port());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.run_until(async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let get = |path: String| {
        let request = client
            .get(format!("{address}{path}"))
            .header("cookie", &cookie);
        async move {
            let started = Instant::now();
            let response = request.send().await?;
            let status = response.status();
            let body = response.text().await?;
            if !status.is_success() || !body.contains("match-count") {
                return Err(anyhow!("the Users screen answered {status}"));
            }
            Ok::<_, anyhow::Error>(started.elapsed())
        }
    };
    let mut screens = Screens {
        first_page: Vec::new(),
        search: Vec::new(),
    };
    for _ in 0..requests {
        screens.first_page.push(get("/users".to_owned()).await?);
    }
    for _ in 0..requests {
        let q = crate::population::query(rng, rows);
        let encoded: String = q.split(' ').collect::<Vec<_>>().join("+");
        screens
            .search
            .push(get(format!("/users?q={encoded}")).await?);
    }
    let _ = stop.send(());
    Ok(screens)
}
