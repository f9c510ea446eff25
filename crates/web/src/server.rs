//! The accept loop: HTTP/1.1 connections served by hyper with the timeouts a public server
//! needs, which `axum::serve` does not set. A client that sends its headers too slowly, or
//! keeps a connection open without sending a request, is cut off after
//! [`Timeouts::header_read`]; one that stalls in the middle of a body, after
//! [`Timeouts::body`]. Without them, a few hundred half-open connections hold every file
//! descriptor and `/healthz` stops answering.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

/// How long a client may take; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// To send a request's headers, counted from the moment the server waits for them: on a
    /// new connection, and between requests on a kept-alive one (so it is also the idle limit).
    pub header_read: Duration,
    /// Between two pieces of a request body.
    pub body: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            header_read: Duration::from_secs(10),
            body: Duration::from_secs(30),
        }
    }
}

/// How long requests under way may take to finish once a shutdown is asked for.
const DRAIN: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` until `shutdown` completes, then lets the requests under way
/// finish (for at most [`DRAIN`]).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    timeouts: Timeouts,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(timeouts.header_read)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, say: wait a moment rather than spin.
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(ClientAddress {
            router: router.clone(),
            remote,
        });
        let connection = http.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, %remote, "connection ended");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still under way at shutdown were cut off");
    }
    Ok(())
}

/// The router, with each request told the client's address (sign-in throttling keys on it).
#[derive(Clone)]
struct ClientAddress {
    router: Router,
    remote: SocketAddr,
}

impl tower_service::Service<hyper::Request<Incoming>> for ClientAddress {
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future = <Router as tower_service::Service<hyper::Request<Incoming>>>::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        tower_service::Service::<hyper::Request<Incoming>>::poll_ready(&mut self.router, cx)
    }

    fn call(&mut self, mut request: hyper::Request<Incoming>) -> Self::Future {
        request.extensions_mut().insert(ConnectInfo(self.remote));
        tower_service::Service::call(&mut self.router, request)
    }
}
