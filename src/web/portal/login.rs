//! Signing in and out: the address form, the link mailed through the
//! outbox, the link followed (a session and its cookie), signing out.
//!
//! The form's answer is the same page whatever the address: whether a link
//! was queued, refused by the sender policy or held back by a limit is not
//! told.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use tracing::{info, warn};

use super::session::{self, digest, random_token, well_formed};
use super::{
    Client, Notice, browser_language, failure, html, notice, render, render_failed, see_other,
};
use crate::model::EmailAddress;
use crate::store::{LoginLink, LoginQueued};
use crate::web::AppState;

fn login_page(language: crate::model::Language, sent: bool) -> Response {
    match render::page(
        "portal/login.html",
        language,
        None,
        minijinja::context! { sent => sent },
    ) {
        Ok(body) => html(StatusCode::OK, language, body),
        Err(e) => render_failed(&e, language),
    }
}

/// `GET /portal/login`.
pub(super) async fn form(headers: HeaderMap) -> Response {
    login_page(browser_language(&headers), false)
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    #[serde(default)]
    email: String,
}

/// `POST /portal/login`: queues a link for an address that may sign in.
pub(super) async fn send_link(
    State(state): State<AppState>,
    headers: HeaderMap,
    Client(client): Client,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let language = browser_language(&headers);
    let Ok(Form(form)) = form else {
        return login_page(language, false);
    };
    let Ok(email) = EmailAddress::parse(form.email.trim()) else {
        // The same answer: nothing tells a typo from an unknown address.
        return login_page(language, true);
    };
    let email = email.into_string();
    match state.store.portal_may_sign_in(&email).await {
        Ok(true) => {}
        Ok(false) => {
            info!(
                client,
                "portal sign-in asked for an address that may not sign in"
            );
            return login_page(language, true);
        }
        Err(e) => return failure(&e, language),
    }
    let mail_language = match state.store.customer_language(&email).await {
        Ok(recorded) => recorded
            .as_deref()
            .and_then(crate::model::Language::parse)
            .unwrap_or(language),
        Err(e) => return failure(&e, language),
    };
    let token = random_token();
    let link = format!(
        "{}/portal/login/{token}",
        state.settings.tickets.tracking_url.trim_end_matches('/')
    );
    let mail = match super::mail::login_mail(&state.settings, &email, &link, mail_language) {
        Ok(mail) => mail,
        Err(e) => {
            warn!(error = %e, "portal sign-in mail not built");
            return notice(StatusCode::INTERNAL_SERVER_ERROR, Notice::Error, language);
        }
    };
    let portal = &state.settings.portal;
    let queued = state
        .store
        .queue_portal_login(
            &LoginLink {
                email: &email,
                client: &client,
                token_sha256: &digest(&token),
                lifetime: chrono::Duration::from_std(portal.login_link_lifetime)
                    .unwrap_or_else(|_| chrono::Duration::minutes(15)),
                per_address: i64::from(portal.links_per_address),
                per_client: i64::from(portal.links_per_client),
                mail,
            },
            chrono::Utc::now(),
        )
        .await;
    match queued {
        Ok(LoginQueued::Queued) => login_page(language, true),
        Ok(LoginQueued::Limited) => {
            warn!(client, "portal sign-in links over the hourly limit");
            login_page(language, true)
        }
        Err(e) => failure(&e, language),
    }
}

/// `GET /portal/login/{token}`: uses the link once, opens a session.
pub(super) async fn follow_link(
    State(state): State<AppState>,
    headers: HeaderMap,
    token: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Response {
    let language = browser_language(&headers);
    let gone = || notice(StatusCode::GONE, Notice::LinkUsed, language);
    let Ok(Path(token)) = token else {
        return gone();
    };
    if !well_formed(&token) {
        return gone();
    }
    let now = chrono::Utc::now();
    let email = match state
        .store
        .use_portal_login(&digest(&token.to_ascii_lowercase()), now)
        .await
    {
        Ok(Some(email)) => email,
        Ok(None) => return gone(),
        Err(e) => return failure(&e, language),
    };
    let id = random_token();
    if let Err(e) = state
        .store
        .open_portal_session(
            &digest(&id),
            &email,
            &random_token(),
            session::lifetime(&state.settings),
            now,
        )
        .await
    {
        return failure(&e, language);
    }
    let mut response = see_other("/portal/");
    response
        .headers_mut()
        .append(SET_COOKIE, session::set_cookie(&state.settings, &id));
    response
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    #[serde(default)]
    csrf: Option<String>,
}

/// `POST /portal/logout`: ends the session.
pub(super) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<CsrfForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let signed = match session::signed(&state, &headers, session::Need::SignedIn).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let csrf = form.ok().and_then(|Form(f)| f.csrf);
    if !signed.csrf_ok(csrf.as_deref()) {
        return session::forbidden(signed.language);
    }
    if let Err(e) = state.store.end_portal_session(&signed.id_sha256).await {
        return failure(&e, signed.language);
    }
    session::with_cleared_cookie(&state.settings, see_other("/portal/login"))
}
