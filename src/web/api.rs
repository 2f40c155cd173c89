//! The team API under `/api/`: JSON in and out, for the team's tools.
//!
//! Every request needs `Authorization: Bearer TOKEN`. The configuration
//! holds only the SHA-256 of each token (`[[http.api_tokens]]`); the digest
//! of the presented token is compared with each of them in constant time.
//! Without a token, or with a wrong one: 401 with `WWW-Authenticate:
//! Bearer`. Authentication comes before everything else, so an anonymous
//! caller learns nothing (not even which routes or tickets exist).
//!
//! With no token configured the API is switched off: every `/api/` request
//! gets 404 (there is no API here to authenticate to), with a JSON error
//! saying how to switch it on.
//!
//! Actions are recorded as done by `api:NAME` (the token's name), or by the
//! `"author"` of the body, an email address, when given.
//!
//! Errors are `{"error": "..."}`: 400 for a body that is not the expected
//! JSON, 413 for a body over [`MAX_BODY`], 422 for values that are refused
//! (with `"accepted"` listing the valid ones when there is a list), 404 for
//! an unknown ticket, 409 and 503 when trying again later may work.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Extension, Path, Query, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tracing::{error, info};

use super::AppState;
use crate::commands::ticket_json;
use crate::config::ApiToken;
use crate::intake::{self, Attachment, Terms};
use crate::store::{FieldUpdate, STATUSES, StoreError};

/// The largest request body: a reply with attachments, base64-encoded.
pub const MAX_BODY: usize = 25 * 1024 * 1024;

pub(super) fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/tickets", get(list))
        .route("/tickets/{key}", get(show).patch(update))
        .route("/tickets/{key}/replies", axum::routing::post(reply))
        .route("/tickets/{key}/notes", axum::routing::post(note))
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        // Outermost: runs before routing and body limits.
        .layer(middleware::from_fn_with_state(state, authenticate))
}

/// An API failure, answered as JSON.
#[derive(Debug)]
pub(super) struct ApiError {
    status: StatusCode,
    message: String,
    accepted: Option<Vec<String>>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            accepted: None,
        }
    }

    fn unprocessable(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let status = match &e {
            StoreError::NotFound(_) => StatusCode::NOT_FOUND,
            StoreError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            StoreError::Conflict(_) => StatusCode::CONFLICT,
            StoreError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            StoreError::Config(_) | StoreError::Other(_) => {
                error!(error = %e, "team API request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let message = match (&e, status) {
            (StoreError::Invalid(m), _) => m.clone(),
            (StoreError::NotFound(m), _) => m.clone(),
            (_, StatusCode::INTERNAL_SERVER_ERROR) => {
                "internal error (see the server's log)".into()
            }
            _ => e.to_string(),
        };
        ApiError::new(status, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.message });
        if let Some(accepted) = self.accepted {
            body["accepted"] = json!(accepted);
        }
        let mut response = json_response(self.status, &body);
        match self.status {
            StatusCode::UNAUTHORIZED => {
                response.headers_mut().insert(
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"mailgate\""),
                );
            }
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::CONFLICT => {
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from_static("5"));
            }
            _ => {}
        }
        response
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// Who called: the name of the token presented.
#[derive(Debug, Clone)]
struct Caller(String);

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
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
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
    match token_name(&state.settings.api_tokens, presented) {
        Some(name) => {
            let caller = Caller(name.to_owned());
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        None => {
            let mut response =
                ApiError::new(StatusCode::UNAUTHORIZED, "invalid token").into_response();
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"mailgate\", error=\"invalid_token\""),
            );
            response
        }
    }
}

async fn unknown_route() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such API route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed on this route",
    )
}

/// A request body read as JSON of the expected shape.
fn parse_body<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let bytes = body.map_err(|rejection| {
        let status = rejection.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                status,
                format!("the body is over {} MiB", MAX_BODY / (1024 * 1024)),
            )
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, rejection.body_text())
        }
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}")))
}

/// Whether a text is a plain email address (`alice@vendor.example`).
pub fn valid_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    text.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with(['.', '-'])
        && !domain.ends_with(['.', '-'])
        && !domain.contains("..")
        && !text.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(
                    c,
                    '<' | '>' | '(' | ')' | '[' | ']' | ',' | ';' | ':' | '"' | '\\'
                )
        })
}

/// Who an action is recorded as done by.
fn actor(caller: &Caller, author: Option<&str>) -> Result<String, ApiError> {
    match author.map(str::trim) {
        None => Ok(format!("api:{}", caller.0)),
        Some(author) if valid_email(author) => Ok(author.to_lowercase()),
        Some(author) => Err(ApiError::unprocessable(format!(
            "author {author:?} is not an email address"
        ))),
    }
}

/// A configured vocabulary's canonical name for a value, or a 422 listing
/// the accepted names.
fn canonical(terms: &Terms, field: &str, value: &str) -> Result<String, ApiError> {
    terms
        .find(value)
        .map(str::to_owned)
        .ok_or_else(|| ApiError {
            accepted: Some(terms.names().map(str::to_owned).collect()),
            ..ApiError::unprocessable(format!("{field} {value:?} is not a configured {field}"))
        })
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    status: Option<String>,
}

/// `GET /api/tickets?status=…`: tickets, newest first.
async fn list(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let status = query
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(status) = status
        && status != "held"
        && !STATUSES.contains(&status)
    {
        return Err(ApiError {
            accepted: Some(
                STATUSES
                    .iter()
                    .chain(&["held"])
                    .map(|s| (*s).to_owned())
                    .collect(),
            ),
            ..ApiError::unprocessable(format!("status {status:?} is not a ticket status"))
        });
    }
    let tickets = state.store.list_tickets(status).await?;
    let tickets: Vec<Value> = tickets
        .iter()
        .map(|t| ticket_json(&state.settings, t, false))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "tickets": tickets }),
    ))
}

/// `GET /api/tickets/{key}`: everything about one ticket.
async fn show(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let ticket = state.store.ticket(&key).await?;
    Ok(json_response(
        StatusCode::OK,
        &ticket_json(&state.settings, &ticket, true),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAttachment {
    filename: String,
    content_type: Option<String>,
    content_base64: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyBody {
    text: String,
    author: Option<String>,
    #[serde(default)]
    attachments: Vec<NewAttachment>,
}

/// A file sent with a reply, as intake would have stored it.
fn attachment(index: usize, file: &NewAttachment) -> Result<Attachment, ApiError> {
    let content_type = match file.content_type.as_deref().map(str::trim) {
        None | Some("") => "application/octet-stream".to_owned(),
        Some(text) => {
            let essence = text
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            let token = |s: &str| {
                !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
            };
            match essence.split_once('/') {
                Some((kind, sub)) if token(kind) && token(sub) => essence,
                _ => {
                    return Err(ApiError::unprocessable(format!(
                        "attachments[{index}].content_type {text:?} is not a content type"
                    )));
                }
            }
        }
    };
    let encoded: Vec<u8> = file
        .content_base64
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let data = base64::engine::general_purpose::STANDARD
        .decode(&encoded)
        .map_err(|e| {
            ApiError::unprocessable(format!("attachments[{index}].content_base64: {e}"))
        })?;
    let filename = intake::attachments::safe_filename(&file.filename).unwrap_or_else(|| {
        format!(
            "attachment-{}.{}",
            index + 1,
            intake::attachments::extension_for(&content_type)
        )
    });
    Ok(Attachment::new(filename, content_type, data))
}

fn done(status: StatusCode, done: &crate::store::ActionDone) -> Response {
    json_response(status, &json!({ "key": done.key, "mails": done.mails }))
}

/// `POST /api/tickets/{key}/replies`: a public answer, mailed to the
/// reporter and watchers.
async fn reply(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body: ReplyBody = parse_body(body)?;
    let actor = actor(&caller, body.author.as_deref())?;
    if body.text.trim().is_empty() && body.attachments.is_empty() {
        return Err(ApiError::unprocessable(
            "text is empty and there is no attachment",
        ));
    }
    let attachments = body
        .attachments
        .iter()
        .enumerate()
        .map(|(i, file)| attachment(i, file))
        .collect::<Result<Vec<_>, _>>()?;
    let result = state
        .store
        .team_reply(&key, &actor, &body.text, &attachments)
        .await?;
    info!(key = %result.key, %actor, mails = result.mails, "team reply through the API");
    Ok(done(StatusCode::CREATED, &result))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    text: String,
    author: Option<String>,
}

/// `POST /api/tickets/{key}/notes`: an internal note, never shown to the
/// customer.
async fn note(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body: NoteBody = parse_body(body)?;
    let actor = actor(&caller, body.author.as_deref())?;
    if body.text.trim().is_empty() {
        return Err(ApiError::unprocessable("text is empty"));
    }
    let result = state.store.add_note(&key, &actor, &body.text).await?;
    info!(key = %result.key, %actor, "internal note through the API");
    Ok(done(StatusCode::CREATED, &result))
}

/// [`FieldUpdate`] with what comes with it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    status: Option<String>,
    severity: Option<String>,
    products: Option<Vec<String>>,
    request_type: Option<String>,
    /// Told to the customer with a status change.
    message: Option<String>,
    author: Option<String>,
}

/// `PATCH /api/tickets/{key}`: status and fields. Field values are read
/// against the configured vocabulary (aliases allowed, canonical names
/// stored).
async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body: PatchBody = parse_body(body)?;
    let actor = actor(&caller, body.author.as_deref())?;
    let vocabulary = &state.settings.intake.vocabulary;
    let severity = body
        .severity
        .as_deref()
        .map(|v| canonical(&vocabulary.severities, "severity", v))
        .transpose()?;
    let request_type = body
        .request_type
        .as_deref()
        .map(|v| canonical(&vocabulary.request_types, "request_type", v))
        .transpose()?;
    let products = match &body.products {
        None => None,
        Some(values) => {
            let mut products: Vec<String> = Vec::new();
            for value in values {
                let name = canonical(&vocabulary.products, "product", value)?;
                if !products.contains(&name) {
                    products.push(name);
                }
            }
            Some(products)
        }
    };
    let update = FieldUpdate {
        status: body
            .status
            .as_deref()
            .map(|s| s.trim().to_ascii_lowercase()),
        severity,
        products,
        request_type,
    };
    let message = body.message.as_deref().filter(|m| !m.trim().is_empty());
    if message.is_some() {
        // The store tells the message only with a change of status: refused
        // rather than dropped without a word.
        let current = state.store.ticket(&key).await?;
        if update.status.as_deref().is_none_or(|s| s == current.status) {
            return Err(ApiError::unprocessable(
                "message is sent to the customer with a change of status: give a new status",
            ));
        }
    }
    let result = state
        .store
        .update_ticket(&key, &actor, &update, message)
        .await?;
    info!(key = %result.key, %actor, mails = result.mails, "ticket updated through the API");
    Ok(done(StatusCode::OK, &result))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(name: &str, secret: &str) -> ApiToken {
        ApiToken {
            name: name.into(),
            sha256: Sha256::digest(secret.as_bytes()).into(),
        }
    }

    #[test]
    fn constant_time_comparison() {
        let a = [7u8; 32];
        let mut b = a;
        assert!(constant_time_eq(&a, &b));
        b[31] ^= 1;
        assert!(!constant_time_eq(&a, &b));
        b = a;
        b[0] = 0;
        assert!(!constant_time_eq(&a, &b));
    }

    #[test]
    fn tokens_are_found_by_their_hash() {
        let tokens = [token("ci", "s3cret-one"), token("desk", "s3cret-two")];
        assert_eq!(token_name(&tokens, "s3cret-two"), Some("desk"));
        assert_eq!(token_name(&tokens, "s3cret-one"), Some("ci"));
        assert_eq!(token_name(&tokens, "s3cret-three"), None);
        assert_eq!(token_name(&tokens, ""), None);
        assert_eq!(token_name(&[], "s3cret-one"), None);
    }

    #[test]
    fn bearer_headers() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer   abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("Bearer"), None);
    }

    #[test]
    fn authors() {
        let caller = Caller("desk".into());
        assert_eq!(actor(&caller, None).unwrap(), "api:desk");
        assert_eq!(
            actor(&caller, Some("Alice@Vendor.example")).unwrap(),
            "alice@vendor.example"
        );
        for bad in [
            "alice",
            "alice@localhost",
            "a b@x.fr",
            "<a@x.fr>",
            "a@x.fr, b@y.fr",
            "a@@x.fr",
            "@x.fr",
            "a@.x.fr",
            "a@x..fr",
            "a@x.fr\r\nBcc: c@d.fr",
        ] {
            assert!(actor(&caller, Some(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn attachments_from_json() {
        let file = NewAttachment {
            filename: "../../etc/logs.txt".into(),
            content_type: Some("Text/Plain; charset=utf-8".into()),
            content_base64: "aGVs\nbG8=".into(),
        };
        let a = attachment(0, &file).unwrap();
        assert_eq!(a.filename, "logs.txt");
        assert_eq!(a.content_type, "text/plain");
        assert_eq!(a.data, b"hello");
        assert_eq!(a.size, 5);
        assert_eq!(a.sha256, intake::sha256_hex(b"hello"));

        let unnamed = NewAttachment {
            filename: "..".into(),
            content_type: None,
            content_base64: String::new(),
        };
        assert_eq!(
            attachment(1, &unnamed).unwrap().filename,
            "attachment-2.bin"
        );

        let bad = NewAttachment {
            filename: "x".into(),
            content_type: None,
            content_base64: "not base64!".into(),
        };
        assert_eq!(
            attachment(0, &bad).unwrap_err().status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        let bad_type = NewAttachment {
            filename: "x".into(),
            content_type: Some("text/html\r\nX: y".into()),
            content_base64: String::new(),
        };
        assert!(attachment(0, &bad_type).is_err());
    }
}
