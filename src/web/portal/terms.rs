//! The terms of use: shown after the first sign-in and whenever
//! `portal.terms_version` changes; nothing else is reachable before they
//! are accepted. The text is built in, or the vendor's own page at
//! `portal.terms_url`, linked. Acceptance is recorded with its time, version and client.

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::session::{self, Need};
use super::{Client, failure, html, render, render_failed, see_other};
use crate::web::AppState;

/// `GET /portal/terms`.
pub(super) async fn show(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let signed = match session::signed(&state, &headers, Need::SignedIn).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    match render::page(
        "portal/terms.html",
        signed.language,
        Some(&signed.csrf),
        minijinja::context! {
            version => state.settings.portal.terms_version,
            terms_url => state.settings.portal.terms_url,
        },
    ) {
        Ok(body) => html(StatusCode::OK, signed.language, body),
        Err(e) => render_failed(&e, signed.language),
    }
}

#[derive(Deserialize)]
pub(super) struct TermsForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    version: Option<String>,
}

/// `POST /portal/terms`: records the acceptance of the version shown.
pub(super) async fn accept(
    State(state): State<AppState>,
    headers: HeaderMap,
    Client(client): Client,
    form: Result<Form<TermsForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let signed = match session::signed(&state, &headers, Need::SignedIn).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let form = form.ok().map(|Form(f)| f);
    if !signed.csrf_ok(form.as_ref().and_then(|f| f.csrf.as_deref())) {
        return session::forbidden(signed.language);
    }
    let current = &state.settings.portal.terms_version;
    // Terms changed while the page was open: show the new ones.
    if form.and_then(|f| f.version).as_ref() != Some(current) {
        return see_other("/portal/terms");
    }
    match state
        .store
        .record_portal_consent(&signed.email, current, &client, chrono::Utc::now())
        .await
    {
        Ok(()) => see_other("/portal/"),
        Err(e) => failure(&e, signed.language),
    }
}
