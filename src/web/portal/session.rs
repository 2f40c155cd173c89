//! Who is signed in: the session cookie (random, kept in the database as
//! its SHA-256), the CSRF token of its forms, the customer's language, and
//! the terms they must accept before anything else.

use axum::http::header::{COOKIE as COOKIE_HEADER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{COOKIE, Notice, browser_language, failure, notice, see_other};
use crate::config::Settings;
use crate::model::Language;
use crate::web::AppState;
use crate::web::api::constant_time_eq;

/// 256 random bits from the OS generator, in hex.
pub(super) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The SHA-256 of a token, in hex: what the database keeps.
pub(super) fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A token as we write them (64 hex digits); anything else is not looked up.
pub(super) fn well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

pub(super) fn lifetime(settings: &Settings) -> chrono::Duration {
    chrono::Duration::from_std(settings.portal.session_lifetime)
        .unwrap_or_else(|_| chrono::Duration::days(30))
}

/// The value of our cookie in a request.
fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE_HEADER)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|v| well_formed(v))
}

/// `Set-Cookie` for a new session, or to clear it (`value` empty).
pub(super) fn set_cookie(settings: &Settings, value: &str) -> HeaderValue {
    let secure = if settings.tickets.tracking_url.starts_with("https:") {
        "; Secure"
    } else {
        ""
    };
    let age = if value.is_empty() {
        "; Max-Age=0".to_owned()
    } else {
        format!("; Max-Age={}", settings.portal.session_lifetime.as_secs())
    };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path=/portal; HttpOnly; SameSite=Lax{age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("mailgate_portal=; Path=/portal"))
}

/// Adds the cookie-clearing header to a response.
pub(super) fn with_cleared_cookie(settings: &Settings, mut response: Response) -> Response {
    response
        .headers_mut()
        .append(SET_COOKIE, set_cookie(settings, ""));
    response
}

/// A signed-in customer.
#[derive(Debug, Clone)]
pub(super) struct Signed {
    pub email: String,
    pub csrf: String,
    /// The SHA-256 of the session's cookie.
    pub id_sha256: String,
    pub language: Language,
}

impl Signed {
    /// Whether a form's CSRF token is this session's.
    pub fn csrf_ok(&self, presented: Option<&str>) -> bool {
        presented.is_some_and(|p| {
            constant_time_eq(
                &Sha256::digest(p.as_bytes()).into(),
                &Sha256::digest(self.csrf.as_bytes()).into(),
            )
        })
    }
}

/// What a page needs first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Need {
    /// Signed in, terms accepted.
    Ready,
    /// Signed in (the terms page itself).
    SignedIn,
}

/// The signed-in customer, or the response to send instead: the sign-in
/// page without a session, the terms page before they are accepted.
pub(super) async fn signed(
    state: &AppState,
    headers: &HeaderMap,
    need: Need,
) -> Result<Signed, Response> {
    let browser = browser_language(headers);
    let Some(id) = cookie(headers) else {
        return Err(see_other("/portal/login"));
    };
    let id_sha256 = digest(&id);
    let now = chrono::Utc::now();
    let session = match (state.store)
        .portal_session(&id_sha256, lifetime(&state.settings), now)
        .await
    {
        Ok(Some(session)) => session,
        Ok(None) => {
            return Err(with_cleared_cookie(
                &state.settings,
                see_other("/portal/login"),
            ));
        }
        Err(e) => return Err(failure(&e, browser)),
    };
    let language = match state.store.customer_language(&session.email).await {
        Ok(recorded) => recorded
            .as_deref()
            .and_then(Language::parse)
            .unwrap_or(browser),
        Err(e) => return Err(failure(&e, browser)),
    };
    if need == Need::Ready {
        match (state.store)
            .portal_consented(&session.email, &state.settings.portal.terms_version)
            .await
        {
            Ok(true) => {}
            Ok(false) => return Err(see_other("/portal/terms")),
            Err(e) => return Err(failure(&e, language)),
        }
    }
    Ok(Signed {
        email: session.email,
        csrf: session.csrf,
        id_sha256,
        language,
    })
}

/// The answer to a POST whose CSRF token is missing or wrong.
pub(super) fn forbidden(language: Language) -> Response {
    notice(StatusCode::FORBIDDEN, Notice::Forbidden, language)
}
