//! Who calls the API: bearer tokens compared in constant time.

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::super::AppState;
use super::ApiError;
use crate::config::ApiToken;

/// Who called: the name of the token presented.
#[derive(Debug, Clone)]
pub(super) struct Caller(pub(super) String);

/// Equality of two digests in time independent of where they differ.
pub fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let mut difference = 0u8;
    for (x, y) in a.iter().zip(b) {
        difference |= x ^ y;
    }
    std::hint::black_box(difference) == 0
}

/// The name of the configured token whose hash is the presented token's.
/// Every configured hash is compared, whichever matches.
pub fn token_name<'a>(tokens: &'a [ApiToken], presented: &str) -> Option<&'a str> {
    let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
    let mut found = None;
    for token in tokens {
        if constant_time_eq(&digest, &token.sha256) && found.is_none() {
            found = Some(token.name.as_str());
        }
    }
    found
}

/// The token of an `Authorization: Bearer TOKEN` header.
pub(super) fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

pub(super) async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    if state.settings.api_tokens.is_empty() {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "the team API is off: no [[http.api_tokens]] in the configuration",
        )
        .into_response();
    }
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer);
    let Some(presented) = presented else {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "an Authorization: Bearer token is required",
        )
        .into_response();
    };
    if let Some(name) = token_name(&state.settings.api_tokens, presented) {
        let caller = Caller(name.to_owned());
        request.extensions_mut().insert(caller);
        next.run(request).await
    } else {
        let mut response = ApiError::new(StatusCode::UNAUTHORIZED, "invalid token").into_response();
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"mailgate\", error=\"invalid_token\""),
        );
        response
    }
}
