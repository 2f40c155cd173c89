//! `GET /api/tickets`: a page of tickets, newest first, or ranked by a
//! search.
//!
//! Query: `status`, `product`, `severity`, `request_type`, `reporter`,
//! `assignee` (an address or `none`; each optional; vocabulary values by
//! name, alias or label), `q` (words to find),
//! `limit` (1 to 200, 50 by default), `cursor` (the `next_cursor` of the
//! previous page). Answer: `{"tickets": [...], "next_cursor": "…" | null}`,
//! each ticket of a search with its `snippet`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiError;
use super::error::json_response;
use crate::model::SearchTerms;
use crate::store::{Cursor, MAX_PAGE};
use crate::view::filter::{FilterText, ticket_filter};
use crate::view::{hit_json, ticket_json};
use crate::web::AppState;

const DEFAULT_PAGE: usize = 50;

#[derive(Debug, Deserialize)]
pub(super) struct ListQuery {
    status: Option<String>,
    product: Option<String>,
    severity: Option<String>,
    request_type: Option<String>,
    reporter: Option<String>,
    assignee: Option<String>,
    q: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

pub(super) async fn list(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let text = FilterText {
        status: query.status.as_deref(),
        product: query.product.as_deref(),
        severity: query.severity.as_deref(),
        request_type: query.request_type.as_deref(),
        reporter: query.reporter.as_deref(),
        assignee: query.assignee.as_deref(),
    };
    let filter = ticket_filter(&state.settings, &text).map_err(|bad| ApiError {
        accepted: (!bad.accepted.is_empty()).then_some(bad.accepted),
        ..ApiError::unprocessable(bad.message)
    })?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if limit == 0 || limit > MAX_PAGE {
        return Err(ApiError::unprocessable(format!(
            "limit must be between 1 and {MAX_PAGE}"
        )));
    }
    let cursor = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(text) => Some(Cursor::parse(text).ok_or_else(|| {
            ApiError::unprocessable(format!("cursor {text:?} is not the cursor of a page"))
        })?),
    };
    let words = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let (tickets, next_cursor): (Vec<Value>, _) = match words {
        None => {
            let page = state.store.ticket_page(&filter, limit, cursor).await?;
            let tickets = page
                .tickets
                .iter()
                .map(|t| ticket_json(&state.settings, t, false))
                .collect();
            (tickets, page.next_cursor)
        }
        Some(words) => {
            let terms = SearchTerms::parse(words).ok_or_else(|| {
                ApiError::unprocessable(format!("q {words:?} has no word to search for"))
            })?;
            let page = state
                .store
                .search_tickets(&terms, &filter, limit, cursor)
                .await?;
            let tickets = page
                .tickets
                .iter()
                .map(|t| hit_json(&state.settings, t, &terms))
                .collect();
            (tickets, page.next_cursor)
        }
    };
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "tickets": tickets,
            "next_cursor": next_cursor.map(|c| c.to_string()),
        }),
    ))
}
