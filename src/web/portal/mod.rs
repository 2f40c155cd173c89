//! The customer portal under `/portal/`: a customer signs in with a link
//! mailed to them, accepts the terms, then lists their requests, reads and
//! answers them, and files new ones. What they write is filed as a mail
//! would be (a MIME message through intake and the store's filing, source
//! `portal`), so confirmations, team notices and reopening are the mail's.
//!
//! Pages carry no script; forms post to this site only (`form-action
//! 'self'`), each with the CSRF token of its session. Files of one job:
//! `session.rs` (cookie, CSRF, who is signed in), `login.rs`, `terms.rs`,
//! `list.rs`, `ticket.rs` (a request and its reply form), `new.rs`,
//! `mail.rs` (the MIME messages written for filing), `render.rs` and
//! `strings.rs` (pages and their words).

mod form;
mod list;
mod login;
mod mail;
mod new;
mod render;
mod session;
mod strings;
mod terms;
mod ticket;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts};
use axum::http::header::{CONTENT_LANGUAGE, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tracing::error;

use super::AppState;
use crate::config::Settings;
use crate::model::{Language, Terms};
use crate::store::StoreError;

pub(super) use render::Notice;

/// The portal's policy: the tracking page's, with forms posting here.
pub const PORTAL_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The name of the session cookie.
pub const COOKIE: &str = "mailgate_portal";

/// The portal's routes, or none when `portal.enabled` is off.
pub(super) fn router(settings: &Settings) -> Router<AppState> {
    if !settings.portal.enabled {
        return Router::new();
    }
    // Multipart framing on top of a message of the largest size.
    let limit = settings.intake.max_message_size.saturating_add(64 * 1024);
    Router::new()
        .route("/portal", get(|| async { see_other("/portal/") }))
        .route("/portal/", get(list::list))
        .route("/portal/login", get(login::form).post(login::send_link))
        .route("/portal/login/{token}", get(login::follow_link))
        .route("/portal/logout", post(login::logout))
        .route("/portal/terms", get(terms::show).post(terms::accept))
        .route(
            "/portal/tickets/{key}",
            get(ticket::show).post(ticket::reply),
        )
        .route("/portal/new", get(new::form).post(new::file))
        .layer(DefaultBodyLimit::max(limit))
}

/// How a vocabulary term (severity, product, request type) is shown: its
/// label in the reader's language.
pub(super) fn term_label(terms: &Terms, name: &str, language: Language) -> String {
    terms.label(name, language).to_owned()
}

/// The client's address, for the sign-in limits and the consent record.
pub(super) struct Client(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Client(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string()),
        ))
    }
}

/// The language of a page for someone not signed in.
pub(super) fn browser_language(headers: &HeaderMap) -> Language {
    super::page::negotiate(
        headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// A page of the portal.
pub(super) fn html(status: StatusCode, language: Language, body: String) -> Response {
    (
        status,
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CONTENT_LANGUAGE, language.as_str()),
            (CONTENT_SECURITY_POLICY, PORTAL_POLICY),
        ],
        body,
    )
        .into_response()
}

/// `303 See Other` to a path of this site.
pub(super) fn see_other(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(to) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

/// A small page: a title and a sentence.
pub(super) fn notice(status: StatusCode, notice: Notice, language: Language) -> Response {
    html(status, language, render::notice(notice, language))
}

/// A storage failure as a page; unknown and foreign tickets are the same 404.
pub(super) fn failure(e: &StoreError, language: Language) -> Response {
    match e {
        StoreError::NotFound(_) => notice(StatusCode::NOT_FOUND, Notice::NotFound, language),
        StoreError::Unavailable(_) | StoreError::Conflict(_) => notice(
            StatusCode::SERVICE_UNAVAILABLE,
            Notice::Unavailable,
            language,
        ),
        other => {
            error!(error = %other, "portal page failed");
            notice(StatusCode::INTERNAL_SERVER_ERROR, Notice::Error, language)
        }
    }
}

/// A page that could not be rendered.
pub(super) fn render_failed(e: &minijinja::Error, language: Language) -> Response {
    error!(error = %e, "portal page not rendered");
    notice(StatusCode::INTERNAL_SERVER_ERROR, Notice::Error, language)
}
