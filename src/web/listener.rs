//! The accept loop of both listeners, with the limits of
//! [`ConnectionLimits`]: a page on the internet meets clients that open
//! connections and never finish a request (slowloris), that trickle a body
//! in, or that open thousands at once. `axum::serve` sets none of these, so
//! the loop is written here on hyper's HTTP/1.1 server:
//!
//! - at most `max_connections` are served at once: the loop takes a permit
//!   before it accepts, so the next clients wait in the kernel's queue
//!   instead of costing a task each;
//! - hyper closes a connection whose request headers have not all arrived
//!   within `header_timeout`, which also ends idle kept-alive connections;
//! - a request must be answered within `request_timeout` from its headers,
//!   body upload included, or it gets 408 and the connection closes.
//!
//! Each request carries the peer's address as axum's `ConnectInfo`, which
//! the portal's per-client limits read.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::header::{CONNECTION, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower_service::Service;
use tracing::{debug, warn};

use crate::config::ConnectionLimits;

/// Serves `app` until `shutdown` turns true (or its sender is gone), then
/// stops accepting and lets the requests in progress finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    loop {
        let accepted = tokio::select! {
            accepted = accept(&listener, &permits) => accepted,
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        let (stream, peer, permit) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, most often: the connections being
                // served will free some; spinning on the error would not.
                warn!(error = %e, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            answer(app.clone(), request, peer, limits.request_timeout)
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                debug!(%peer, error = %e, "connection ended");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

async fn accept(
    listener: &TcpListener,
    permits: &Arc<Semaphore>,
) -> std::io::Result<(
    tokio::net::TcpStream,
    SocketAddr,
    tokio::sync::OwnedSemaphorePermit,
)> {
    let permit = Arc::clone(permits)
        .acquire_owned()
        .await
        .expect("the semaphore is never closed");
    let (stream, peer) = listener.accept().await?;
    Ok((stream, peer, permit))
}

async fn answer(
    mut app: Router,
    request: Request<Incoming>,
    peer: SocketAddr,
    limit: Duration,
) -> Result<Response, Infallible> {
    let mut request = request.map(Body::new);
    request.extensions_mut().insert(ConnectInfo(peer));
    match tokio::time::timeout(limit, app.call(request)).await {
        Ok(answered) => answered,
        Err(_) => Ok(too_slow(limit)),
    }
}

/// 408, and the connection closed: what is left of the body is not read.
fn too_slow(limit: Duration) -> Response {
    let mut response = (
        StatusCode::REQUEST_TIMEOUT,
        format!(
            "The request did not arrive within {} seconds.\n",
            limit.as_secs()
        ),
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(CONNECTION, HeaderValue::from_static("close"));
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}
