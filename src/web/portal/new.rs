//! `GET /portal/new`, `POST /portal/new`: a new request. Values are checked
//! against the configured vocabulary; errors are shown on the form with
//! what was typed kept. A valid request becomes a MIME message from the
//! customer (fields as keyword lines, files attached) filed through intake
//! and the store like a mail, so the same confirmation and team notice are
//! queued; then `303` to the new ticket.

use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;

use super::form::{self, Posted};
use super::session::{self, Need, Signed};
use super::strings::strings;
use super::{Notice, failure, html, notice, render, render_failed, see_other, term_label};
use crate::model::{Language, Terms};
use crate::store::Filed;
use crate::web::AppState;

/// What the form holds, as typed.
#[derive(Debug, Default)]
struct Typed {
    request_type: String,
    summary: String,
    severity: String,
    description: String,
    products: Vec<String>,
}

#[derive(Serialize)]
struct Choice {
    name: String,
    label: String,
    selected: bool,
}

fn choices(terms: &Terms, chosen: &[&str], language: Language) -> Vec<Choice> {
    terms
        .names()
        .map(|name| Choice {
            name: name.to_owned(),
            label: term_label(terms, name, language),
            selected: chosen.contains(&name),
        })
        .collect()
}

fn page(
    state: &AppState,
    signed: &Signed,
    typed: &Typed,
    errors: &[String],
    status: StatusCode,
) -> Response {
    let language = signed.language;
    let vocabulary = &state.settings.intake.vocabulary;
    let request_type = if typed.request_type.is_empty() {
        vocabulary.default_request_type.as_str()
    } else {
        typed.request_type.as_str()
    };
    let severity = if typed.severity.is_empty() {
        vocabulary.default_severity.as_str()
    } else {
        typed.severity.as_str()
    };
    let products: Vec<&str> = typed.products.iter().map(String::as_str).collect();
    match render::page(
        "portal/new.html",
        language,
        Some(&signed.csrf),
        minijinja::context! {
            request_types => choices(&vocabulary.request_types, &[request_type], language),
            severities => choices(&vocabulary.severities, &[severity], language),
            products => choices(&vocabulary.products, &products, language),
            summary => typed.summary,
            description => typed.description,
            errors => errors,
        },
    ) {
        Ok(body) => html(status, language, body),
        Err(e) => render_failed(&e, language),
    }
}

/// `GET /portal/new`.
pub(super) async fn form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match session::signed(&state, &headers, Need::Ready).await {
        Ok(signed) => page(&state, &signed, &Typed::default(), &[], StatusCode::OK),
        Err(response) => response,
    }
}

/// The problems of a form, in the customer's language.
fn check(state: &AppState, typed: &Typed, language: Language) -> Vec<String> {
    let t = strings(language);
    let vocabulary = &state.settings.intake.vocabulary;
    let mut errors = Vec::new();
    let known = |terms: &Terms, value: &str| terms.names().any(|n| n == value);
    if !known(&vocabulary.request_types, &typed.request_type) {
        errors.push(format!(
            "{} « {} » {}",
            t.request_type, typed.request_type, t.unknown_value
        ));
    }
    if typed.summary.trim().is_empty() {
        errors.push(format!("{} {}", t.summary, t.required));
    }
    if !known(&vocabulary.severities, &typed.severity) {
        errors.push(format!(
            "{} « {} » {}",
            t.severity, typed.severity, t.unknown_value
        ));
    }
    for product in &typed.products {
        if !known(&vocabulary.products, product) {
            errors.push(format!("{} « {product} » {}", t.products, t.unknown_value));
        }
    }
    if typed.description.trim().is_empty() {
        errors.push(format!("{} {}", t.description, t.required));
    }
    errors
}

fn typed(posted: &Posted) -> Typed {
    let text = |name| posted.get(name).unwrap_or_default().trim().to_owned();
    let mut products: Vec<String> = Vec::new();
    for product in posted.all("products") {
        let product = product.trim().to_owned();
        if !product.is_empty() && !products.contains(&product) {
            products.push(product);
        }
    }
    Typed {
        request_type: text("request_type"),
        // One line, as a subject is.
        summary: text("summary")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
        severity: text("severity"),
        description: posted
            .get("description")
            .unwrap_or_default()
            .trim_end()
            .to_owned(),
        products,
    }
}

/// The body of the mail: the fields as keyword lines (the strongest source
/// intake knows), then the description.
fn body(typed: &Typed) -> String {
    let mut body = format!(
        "Request type: {}\nSeverity: {}\n",
        typed.request_type, typed.severity
    );
    if !typed.products.is_empty() {
        body.push_str(&format!("Products: {}\n", typed.products.join(", ")));
    }
    body.push('\n');
    body.push_str(&typed.description);
    body.push('\n');
    body
}

/// `POST /portal/new`.
pub(super) async fn file(
    State(state): State<AppState>,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let (signed, posted) = match form::signed_post(&state, &headers, multipart).await {
        Ok(both) => both,
        Err(response) => return response,
    };
    let language = signed.language;
    let typed = typed(&posted);
    let errors = check(&state, &typed, language);
    if !errors.is_empty() {
        return page(
            &state,
            &signed,
            &typed,
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let raw = match super::mail::customer_message(
        &state.settings,
        &signed.email,
        &typed.summary,
        &body(&typed),
        &posted.files,
    ) {
        Ok(raw) => raw,
        Err(e) => {
            tracing::warn!(error = %e, "portal request not built");
            return notice(StatusCode::UNPROCESSABLE_ENTITY, Notice::NotFiled, language);
        }
    };
    if raw.len() > state.settings.intake.max_message_size {
        return notice(StatusCode::PAYLOAD_TOO_LARGE, Notice::TooLarge, language);
    }
    match super::mail::file(&state, &raw).await {
        Ok(Filed::Ticket { key } | Filed::Comment { key }) => {
            see_other(&format!("/portal/tickets/{key}"))
        }
        Ok(other) => {
            tracing::warn!(filed = %other, "portal request not filed as a ticket");
            notice(StatusCode::UNPROCESSABLE_ENTITY, Notice::NotFiled, language)
        }
        Err(e) => failure(&e, language),
    }
}
