//! `GET /portal/`: "My requests", the tickets a customer reported or
//! watches, newest first, 50 a page, filtered by `?status=open|closed`.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::session::{self, Need};
use super::{failure, html, render, render_failed, term_label};
use crate::model::{Language, TicketStatus};
use crate::store::StatusFilter;
use crate::web::AppState;
use crate::web::page::when;

/// Requests on one page.
pub const PER_PAGE: usize = 50;

#[derive(Deserialize, Default)]
pub(super) struct ListQuery {
    status: Option<String>,
    page: Option<usize>,
}

#[derive(Serialize)]
struct Line {
    key: String,
    summary: String,
    status: String,
    status_label: String,
    severity: String,
    products: String,
    updated: crate::web::page::When,
}

fn status_label(stored: &str, language: Language) -> String {
    TicketStatus::parse(stored)
        .map_or(stored, |s| s.label(language))
        .to_owned()
}

pub(super) async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let signed = match session::signed(&state, &headers, Need::Ready).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let language = signed.language;
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let (filter, name) = match query.status.as_deref() {
        Some("open") => (StatusFilter::Open, "open"),
        Some("closed") => (StatusFilter::Closed, "closed"),
        _ => (StatusFilter::All, "all"),
    };
    let page = query.page.unwrap_or(0).min(100_000);
    let (tickets, more) = match state
        .store
        .portal_tickets(&signed.email, filter, page, PER_PAGE)
        .await
    {
        Ok(found) => found,
        Err(e) => return failure(&e, language),
    };
    let vocabulary = &state.settings.intake.vocabulary;
    let lines: Vec<Line> = tickets
        .into_iter()
        .map(|t| Line {
            status_label: status_label(&t.status, language),
            severity: term_label(&vocabulary.severities, &t.severity, language),
            products: (t.products.iter())
                .map(|p| term_label(&vocabulary.products, p, language))
                .collect::<Vec<_>>()
                .join(", "),
            updated: when(&t.updated_at, language),
            key: t.key,
            summary: t.summary,
            status: t.status,
        })
        .collect();
    let next = more.then(|| match filter {
        StatusFilter::All => format!("/portal/?page={}", page + 1),
        _ => format!("/portal/?status={name}&page={}", page + 1),
    });
    match render::page(
        "portal/list.html",
        language,
        Some(&signed.csrf),
        minijinja::context! { tickets => lines, filter => name, next => next },
    ) {
        Ok(body) => html(StatusCode::OK, language, body),
        Err(e) => render_failed(&e, language),
    }
}
