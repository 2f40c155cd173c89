//! `DELETE /api/customers/{email}`: a person's data erased (GDPR article
//! 17), as `mailgate customers forget` does, for the team's tools.
//!
//! Query: `tickets=anonymise|delete` (default `anonymise`), `dry_run=true`
//! (count only). Answer 200: `{"dry_run", "pseudonym", "erasure_log",
//! "counts", "file"}`; 404 when nothing is stored about the address. The
//! erasure is logged as done by `api:NAME`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use tracing::info;

use super::ApiError;
use super::auth::Caller;
use super::error::json_response;
use crate::model::EmailAddress;
use crate::store::{Erasure, TicketsOnErasure};
use crate::web::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ForgetQuery {
    tickets: Option<String>,
    dry_run: Option<bool>,
}

pub(super) async fn forget(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(email): Path<String>,
    query: Result<Query<ForgetQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let email = EmailAddress::parse(&email)
        .map_err(|e| ApiError::unprocessable(format!("{email:?}: {e}")))?
        .into_string();
    let tickets = match query.tickets.as_deref() {
        None | Some("anonymise") => TicketsOnErasure::Anonymise,
        Some("delete") => TicketsOnErasure::Delete,
        Some(other) => {
            return Err(ApiError {
                accepted: Some(vec!["anonymise".into(), "delete".into()]),
                ..ApiError::unprocessable(format!("tickets {other:?} is not a choice"))
            });
        }
    };
    let dry_run = query.dry_run.unwrap_or(false);
    let actor = format!("api:{}", caller.0);
    let erasure = Erasure {
        email: &email,
        tickets,
        actor: &actor,
        dry_run,
    };
    let report = state.store.forget_customer(&erasure).await?;
    if !dry_run {
        // The log line names the pseudonym, not the person.
        info!(%actor, pseudonym = %report.pseudonym, "customer erased through the API");
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "dry_run": dry_run,
            "tickets": tickets.as_str(),
            "pseudonym": report.pseudonym,
            "erasure_log": report.log_id,
            "counts": report.counts,
            "file": report.file,
        }),
    ))
}
