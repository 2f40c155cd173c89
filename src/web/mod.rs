//! The HTTP side of `mailgate run` (axum), on `[http] listen`:
//!
//! - `GET /`: a line saying what this server is (no listing of anything);
//! - `GET /t/{token}`: a ticket's tracking page, in French or English from
//!   `Accept-Language` (see [`page`]);
//! - `GET /t/{token}/attachments/{id}`: a public file of that ticket, as a
//!   download;
//! - `/api/…`: the team API, JSON with bearer tokens (see [`api`]);
//! - `/portal/…`: the customer portal, signed in by mailed links (see
//!   [`portal`]; its pages allow `form-action 'self'`).
//!
//! The token in a tracking URL is the only key to a ticket: unknown and
//! malformed tokens get the same 404, and no route lists tickets. Pages
//! carry no script and load nothing from elsewhere; every response gets the
//! headers of `security_headers`.

pub mod api;
mod listener;
pub mod ops;
pub mod page;
pub mod portal;
pub mod tracking;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::HeaderValue;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, HeaderName, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::response::Response;
use axum::routing::get;
use tokio::net::TcpListener;

use crate::config::Settings;
use crate::store::Store;

pub use listener::serve;

/// What every handler can reach.
#[derive(Clone)]
pub(crate) struct AppState {
    pub settings: Arc<Settings>,
    pub store: Store,
}

/// The page's policy: inline CSS only, no script, no form, no framing.
pub const PAGE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Headers for every response, unless its handler set its own: the token is
/// in the URL, so no referrer, no cache, no indexing.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (CONTENT_SECURITY_POLICY, PAGE_POLICY),
        (REFERRER_POLICY, "no-referrer"),
        (CACHE_CONTROL, "no-store"),
        (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (X_FRAME_OPTIONS, "DENY"),
        (HeaderName::from_static("x-robots-tag"), "noindex, nofollow"),
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
    ] {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}

/// The whole site. Tests serve it on a listener of their own.
pub fn router(settings: Arc<Settings>, store: Store) -> Router {
    let portal = portal::router(&settings);
    let state = AppState { settings, store };
    Router::new()
        .route("/", get(tracking::home))
        .route("/t/{token}", get(tracking::ticket))
        .route("/t/{token}/attachments/{id}", get(tracking::attachment))
        .nest("/api", api::router(state.clone()))
        .merge(portal)
        .fallback(tracking::not_found)
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// Binds the listener; done before anything else starts, so that a wrong
/// address stops `mailgate run` at once.
pub async fn bind(address: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(address).await
}
