//! `GET /portal/tickets/{key}`: one of the customer's requests, its public
//! conversation as on the tracking page, and a reply form; `POST` adds the
//! reply the way an emailed one is added (a message filed from the
//! customer with the ticket's tag: team notified, reopening, history).
//! Another customer's ticket is the same 404 as an unknown one.

use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::form;
use super::session::{self, Need, Signed};
use super::{Notice, failure, html, notice, render, render_failed, see_other, term_label};
use crate::store::{Filed, TicketRecord};
use crate::web::AppState;
use crate::web::page::{timeline, when};

fn page(
    state: &AppState,
    signed: &Signed,
    ticket: &TicketRecord,
    text: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let language = signed.language;
    let vocabulary = &state.settings.intake.vocabulary;
    let products = (ticket.products.iter())
        .map(|p| term_label(&vocabulary.products, p, language))
        .collect::<Vec<_>>()
        .join(", ");
    match render::page(
        "portal/ticket.html",
        language,
        Some(&signed.csrf),
        minijinja::context! {
            key => ticket.key,
            token => ticket.tracking_token,
            summary => ticket.summary,
            status => ticket.status.as_str(),
            status_label => ticket.status.label(language),
            severity => term_label(&vocabulary.severities, &ticket.severity, language),
            products => products,
            request_type => term_label(&vocabulary.request_types, &ticket.request_type, language),
            updated => when(&ticket.updated_at, language),
            timeline => timeline(ticket, vocabulary, language),
            text => text,
            error => error,
        },
    ) {
        Ok(body) => html(status, language, body),
        Err(e) => render_failed(&e, language),
    }
}

/// `GET /portal/tickets/{key}`.
pub(super) async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    key: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Response {
    let signed = match session::signed(&state, &headers, Need::Ready).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let Ok(Path(key)) = key else {
        return notice(StatusCode::NOT_FOUND, Notice::NotFound, signed.language);
    };
    match state.store.portal_ticket(&signed.email, &key).await {
        Ok(ticket) => page(&state, &signed, &ticket, "", None, StatusCode::OK),
        Err(e) => failure(&e, signed.language),
    }
}

/// `POST /portal/tickets/{key}` (multipart: `text`, `attachments`, `csrf`).
pub(super) async fn reply(
    State(state): State<AppState>,
    headers: HeaderMap,
    key: Result<Path<String>, axum::extract::rejection::PathRejection>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let (signed, posted) = match form::signed_post(&state, &headers, multipart).await {
        Ok(both) => both,
        Err(response) => return response,
    };
    let language = signed.language;
    let Ok(Path(key)) = key else {
        return notice(StatusCode::NOT_FOUND, Notice::NotFound, language);
    };
    let ticket = match state.store.portal_ticket(&signed.email, &key).await {
        Ok(ticket) => ticket,
        Err(e) => return failure(&e, language),
    };
    let text = posted.get("text").unwrap_or_default().trim().to_owned();
    if text.is_empty() && posted.files.is_empty() {
        let error = super::strings::strings(language).empty_reply;
        return page(
            &state,
            &signed,
            &ticket,
            "",
            Some(error),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let subject = format!(
        "Re: {}",
        crate::outbox::render::subject(&ticket.key, &ticket.summary)
    );
    let raw = match super::mail::customer_message(
        &state.settings,
        &signed.email,
        &subject,
        &text,
        &posted.files,
    ) {
        Ok(raw) => raw,
        Err(e) => {
            tracing::warn!(error = %e, "portal reply not built");
            return notice(StatusCode::UNPROCESSABLE_ENTITY, Notice::NotFiled, language);
        }
    };
    if raw.len() > state.settings.intake.max_message_size {
        return notice(StatusCode::PAYLOAD_TOO_LARGE, Notice::TooLarge, language);
    }
    match super::mail::file(&state, &raw).await {
        Ok(Filed::Comment { key } | Filed::Ticket { key }) => {
            see_other(&format!("/portal/tickets/{key}"))
        }
        Ok(other) => {
            tracing::warn!(filed = %other, ticket = %ticket.key, "portal reply not added");
            notice(StatusCode::UNPROCESSABLE_ENTITY, Notice::NotFiled, language)
        }
        Err(e) => failure(&e, language),
    }
}
