//! Rollcall's HTTP surface on axum: the JSON REST API under `/api/v1` (described by OpenAPI),
//! and `/healthz`. Handlers extract, call the use cases, and map the result; nothing more.

pub mod api;
pub mod console;
mod failure;

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use rollcall_app::App;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

pub use api::openapi::openapi_json;

/// Bodies larger than this are refused before they are read.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How the HTTP surface behaves where the deployment decides.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Mark cookies `Secure`: set when Rollcall is reached over HTTPS.
    pub secure_cookies: bool,
}

/// Every route of the service.
pub fn router(app: App, settings: Settings) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .nest("/api/v1", api::routes())
        .merge(console::routes())
        .layer(axum::Extension(settings))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http())
        .with_state(app)
}

/// Is the service up, and does its database answer?
async fn healthz(State(app): State<App>) -> impl IntoResponse {
    let backend = app.backend();
    match app.healthy().await {
        Ok(()) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({ "status": "ok", "database": backend })),
        ),
        Err(err) => {
            tracing::error!(error = %err.chain(), "health check: the database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({ "status": "unavailable", "database": backend })),
            )
        }
    }
}

/// The server, bound and ready: tests bind port 0 and ask [`Application::port`].
pub struct Application {
    listener: TcpListener,
    router: Router,
}

impl Application {
    pub async fn bind(app: App, address: &str, settings: Settings) -> std::io::Result<Self> {
        let listener = TcpListener::bind(address).await?;
        Ok(Self {
            listener,
            router: router(app, settings),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn port(&self) -> u16 {
        self.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    /// Serves until `shutdown` completes, then finishes the requests under way.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        // The client address feeds sign-in throttling.
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, service)
            .with_graceful_shutdown(shutdown)
            .await
    }
}
