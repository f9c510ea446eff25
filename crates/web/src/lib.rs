//! Rollcall's HTTP surface on axum: the JSON REST API under `/api/v1` (described by OpenAPI),
//! and `/healthz`. Handlers extract, call the use cases, and map the result; nothing more.

pub mod api;
mod certificate;
pub mod console;
mod failure;
mod markdown;
mod scim;
mod server;

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
pub use server::Timeouts;

/// Bodies larger than this are refused before they are read.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How the HTTP surface behaves where the deployment decides.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Mark cookies `Secure`: set when Rollcall is reached over HTTPS.
    pub secure_cookies: bool,
    /// How long clients may take to send their requests.
    pub timeouts: Timeouts,
    /// Load balancers and proxies in front of the servers: a request from one of these is
    /// counted (sign-in throttling) as coming from the address its `X-Forwarded-For` names.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The largest roster file an import takes through the API, in bytes; 256 MiB when unset.
    pub max_import_bytes: Option<usize>,
    /// The folder under which an org's admins may name their sources' drop folders (each org
    /// under `<root>/<org slug>/`). None: only the server's operator sets drop folders.
    pub drop_root: Option<std::path::PathBuf>,
}

impl Settings {
    pub fn max_import_bytes(&self) -> usize {
        self.max_import_bytes
            .unwrap_or(api::DEFAULT_MAX_IMPORT_BYTES)
    }
}

/// The address a request comes from: the peer, or, when the peer is a trusted proxy, the
/// nearest address in `X-Forwarded-For` that is not one (read from the right: the entries
/// on the left are whatever the client wrote).
pub fn client_address(
    peer: std::net::IpAddr,
    headers: &axum::http::HeaderMap,
    trusted: &[ipnet::IpNet],
) -> std::net::IpAddr {
    let is_trusted = |ip: &std::net::IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|item| item.trim().parse::<std::net::IpAddr>())
        .collect::<Vec<_>>();
    let mut client = peer;
    for hop in forwarded.into_iter().rev() {
        match hop {
            Ok(ip) if is_trusted(&ip) => client = ip,
            Ok(ip) => return ip,
            // Unreadable: whatever lies beyond it cannot be trusted.
            Err(_) => return client,
        }
    }
    client
}

/// This server's address as a request reached it (behind a proxy, as the proxy says it was
/// asked): `https://rollcall.example.org`.
pub(crate) fn public_origin(headers: &axum::http::HeaderMap) -> String {
    use axum::http::header;
    let host = headers
        .get("x-forwarded-host")
        .or_else(|| headers.get(header::HOST))
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| matches!(*p, "http" | "https"))
        .unwrap_or("http");
    format!("{scheme}://{host}")
}

/// Every route of the service.
pub fn router(app: App, settings: Settings) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .nest(
            "/api/v1",
            api::routes(settings.max_import_bytes(), settings.drop_root.clone()),
        )
        .nest("/scim/v2", scim::routes(app.clone()))
        .merge(console::routes(settings.max_import_bytes()))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            settings.timeouts.body,
        ))
        .layer(axum::Extension(settings))
        .layer(axum::middleware::map_response(security_headers))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // A failure that is ours is logged where it happens, with its cause (`failure::log`);
        // the answers to load (503 busy) must not write a line each at error level.
        .layer(
            TraceLayer::new_for_http().on_failure(
                tower_http::trace::DefaultOnFailure::new().level(tracing::Level::DEBUG),
            ),
        )
        .with_state(app)
}

/// What every page may load: its own scripts and styles only (no inline script or style, so an
/// injected tag does nothing), forms that post back here, and no framing by anyone.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; \
    object-src 'none'";

/// Headers on every response: no framing (the one-button confirmations cannot be clickjacked),
/// no content sniffing, no referrer beyond this site, and nothing stored by caches unless the
/// response says otherwise (pages show temporary passwords and people's records; only the
/// static assets may be cached).
async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
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
    timeouts: Timeouts,
}

impl Application {
    pub async fn bind(app: App, address: &str, settings: Settings) -> std::io::Result<Self> {
        let listener = TcpListener::bind(address).await?;
        Ok(Self {
            listener,
            timeouts: settings.timeouts,
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
        server::serve(self.listener, self.router, self.timeouts, shutdown).await
    }
}

#[cfg(test)]
mod tests {
    use super::client_address;

    fn client(peer: &str, forwarded: &[&str], trusted: &[&str]) -> String {
        let mut headers = axum::http::HeaderMap::new();
        for value in forwarded {
            headers.append(
                "x-forwarded-for",
                axum::http::HeaderValue::from_str(value).unwrap(),
            );
        }
        let trusted: Vec<ipnet::IpNet> = trusted.iter().map(|t| t.parse().unwrap()).collect();
        client_address(peer.parse().unwrap(), &headers, &trusted).to_string()
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let lb = ["10.0.0.0/8"];
        assert_eq!(
            client("203.0.113.9", &["1.2.3.4"], &lb),
            "203.0.113.9",
            "not a proxy"
        );
        assert_eq!(client("10.0.0.2", &["198.51.100.7"], &lb), "198.51.100.7");
        assert_eq!(
            client("10.0.0.2", &["6.6.6.6, 198.51.100.7, 10.0.0.3"], &lb),
            "198.51.100.7",
            "the nearest untrusted hop; the client's own claims on the left are ignored"
        );
        assert_eq!(
            client("10.0.0.2", &["6.6.6.6", "198.51.100.7"], &lb),
            "198.51.100.7"
        );
        assert_eq!(client("10.0.0.2", &[], &lb), "10.0.0.2");
        assert_eq!(
            client("10.0.0.2", &["junk, 198.51.100.7"], &lb),
            "198.51.100.7"
        );
        assert_eq!(client("10.0.0.2", &["198.51.100.7, junk"], &lb), "10.0.0.2");
        assert_eq!(client("127.0.0.1", &["198.51.100.7"], &[]), "127.0.0.1");
    }
}
