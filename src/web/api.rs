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
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Extension, Path, State};
use axum::http::StatusCode;
use axum::middleware;
use axum::response::Response;
use axum::routing::get;
use base64::Engine as _;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use tracing::info;

use super::AppState;
use crate::intake::{self, Attachment};
use crate::model::Terms;
use crate::store::{ActionDone, FieldUpdate, WatcherChange};
use crate::view::ticket_json;

mod auth;
mod customers;
mod error;
mod list;
#[cfg(test)]
mod tests;

use auth::{Caller, authenticate};
pub use auth::{constant_time_eq, token_name};
pub(super) use error::ApiError;
use error::json_response;

/// The largest request body: a reply with attachments, base64-encoded.
pub const MAX_BODY: usize = 25 * 1024 * 1024;

pub(super) fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/tickets", get(list::list))
        .route("/tickets/{key}", get(show).patch(update))
        .route("/tickets/{key}/replies", axum::routing::post(reply))
        .route("/tickets/{key}/notes", axum::routing::post(note))
        .route("/tickets/{key}/watchers", axum::routing::post(add_watcher))
        .route("/tickets/{key}/merge", axum::routing::post(merge))
        .route(
            "/tickets/{key}/watchers/{email}",
            axum::routing::delete(remove_watcher),
        )
        .route(
            "/customers/{email}",
            axum::routing::delete(customers::forget),
        )
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        // Outermost: runs before routing and body limits.
        .layer(middleware::from_fn_with_state(state, authenticate))
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

/// Who an action is recorded as done by.
fn actor(caller: &Caller, author: Option<&str>) -> Result<String, ApiError> {
    match author.map(str::trim) {
        None => Ok(format!("api:{}", caller.0)),
        Some(author) if crate::model::EmailAddress::parse_dotted(author).is_ok() => {
            Ok(author.to_lowercase())
        }
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WatcherBody {
    email: String,
    author: Option<String>,
}

fn watcher_done(status: StatusCode, done: &WatcherChange) -> Response {
    json_response(
        status,
        &json!({ "key": done.key, "email": done.email, "changed": done.changed }),
    )
}

/// `POST /api/tickets/{key}/watchers`: the address gets the ticket's public
/// mail from now on. 201 when added, 200 when it already did.
async fn add_watcher(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body: WatcherBody = parse_body(body)?;
    let actor = actor(&caller, body.author.as_deref())?;
    let result = state.store.add_watcher(&key, &actor, &body.email).await?;
    info!(key = %result.key, %actor, changed = result.changed, "watcher added through the API");
    let status = if result.changed {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(watcher_done(status, &result))
}

/// `DELETE /api/tickets/{key}/watchers/{email}`: the address gets no more
/// of the ticket's mail. 404 when it was not watching. Recorded as done by
/// the token's name.
async fn remove_watcher(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((key, email)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let actor = actor(&caller, None)?;
    let result = state.store.remove_watcher(&key, &actor, &email).await?;
    if !result.changed {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("{} is not a watcher of {}", result.email, result.key),
        ));
    }
    info!(key = %result.key, %actor, "watcher removed through the API");
    Ok(watcher_done(StatusCode::OK, &result))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeBody {
    /// The ticket that stays.
    into: String,
    author: Option<String>,
}

/// `POST /api/tickets/{key}/merge`: the ticket is merged into `into`;
/// answers what moved.
async fn merge(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body: MergeBody = parse_body(body)?;
    let actor = actor(&caller, body.author.as_deref())?;
    let merged = state.store.merge_tickets(&key, &body.into, &actor).await?;
    info!(source = %merged.source, target = %merged.target, %actor, "tickets merged through the API");
    Ok(json_response(StatusCode::OK, &json!(merged)))
}

/// [`FieldUpdate`] with what comes with it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    status: Option<String>,
    severity: Option<String>,
    products: Option<Vec<String>>,
    request_type: Option<String>,
    /// An address, or `null` for nobody; absent: unchanged.
    #[serde(default, deserialize_with = "assignee")]
    assignee: Option<Assignee>,
    /// Told to the customer with a status change.
    message: Option<String>,
    author: Option<String>,
}

/// `assignee` as given: `null` is a value here, unlike an absent field.
#[derive(Debug)]
enum Assignee {
    Nobody,
    Person(String),
}

impl Assignee {
    fn address(&self) -> Option<&str> {
        match self {
            Assignee::Nobody => None,
            Assignee::Person(a) => Some(a),
        }
    }
}

fn assignee<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Assignee>, D::Error> {
    Ok(Some(match Option::<String>::deserialize(d)? {
        Some(address) => Assignee::Person(address),
        None => Assignee::Nobody,
    }))
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
        if update
            .status
            .as_deref()
            .is_none_or(|s| s == current.status.as_str())
        {
            return Err(ApiError::unprocessable(
                "message is sent to the customer with a change of status: give a new status",
            ));
        }
    }
    // The fields first, then the assignee: two transactions, each whole.
    let mut result = None;
    if update != FieldUpdate::default() {
        result = Some(
            state
                .store
                .update_ticket(&key, &actor, &update, message)
                .await?,
        );
    }
    if let Some(assignee) = &body.assignee {
        let assigned = state
            .store
            .assign_ticket(&key, &actor, assignee.address())
            .await?;
        let mails = result.as_ref().map_or(0, |r| r.mails) + assigned.mails;
        result = Some(ActionDone { mails, ..assigned });
    }
    let result = if let Some(result) = result {
        result
    } else {
        let ticket = state.store.ticket(&key).await?;
        ActionDone {
            key: ticket.key,
            mails: 0,
        }
    };
    info!(key = %result.key, %actor, mails = result.mails, "ticket updated through the API");
    Ok(done(StatusCode::OK, &result))
}
