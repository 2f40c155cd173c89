//! The customer's side: `/`, the tracking page `/t/{token}` and its
//! attachments. Handlers only look up and answer; the pages come from
//! [`super::page`], the header values from the pure functions below.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header::{
    CONTENT_DISPOSITION, CONTENT_LANGUAGE, CONTENT_SECURITY_POLICY, CONTENT_TYPE, RETRY_AFTER, VARY,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tracing::error;

use super::AppState;
use super::page::{self, Notice};
use crate::model::Language;
use crate::store::{StoreError, TicketRecord};

fn language(headers: &HeaderMap) -> Language {
    page::negotiate(
        headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

fn html(status: StatusCode, language: Language, body: String) -> Response {
    (
        status,
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CONTENT_LANGUAGE, language.as_str()),
            (VARY, "Accept-Language"),
        ],
        body,
    )
        .into_response()
}

fn notice(status: StatusCode, notice: Notice, language: Language) -> Response {
    let mut response = html(status, language, page::render_notice(notice, language));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("30"));
    }
    response
}

/// A storage failure as a page. Unknown and malformed tokens or ids are the
/// same 404, so nothing tells a guess that was close from one that was not.
fn failure(e: &StoreError, language: Language) -> Response {
    match e {
        StoreError::NotFound(_) => notice(StatusCode::NOT_FOUND, Notice::NotFound, language),
        StoreError::Unavailable(_) | StoreError::Conflict(_) => notice(
            StatusCode::SERVICE_UNAVAILABLE,
            Notice::Unavailable,
            language,
        ),
        other => {
            error!(error = %other, "tracking page failed");
            notice(StatusCode::INTERNAL_SERVER_ERROR, Notice::Error, language)
        }
    }
}

/// `GET /`: what this server is, and nothing more (no listing).
pub(super) async fn home(headers: HeaderMap) -> Response {
    let language = language(&headers);
    html(
        StatusCode::OK,
        language,
        page::render_notice(Notice::Home, language),
    )
}

/// Any other path.
pub(super) async fn not_found(headers: HeaderMap) -> Response {
    notice(StatusCode::NOT_FOUND, Notice::NotFound, language(&headers))
}

/// `?lang=fr`: the reader's choice, from the page's switch link.
#[derive(Debug, serde::Deserialize)]
pub(super) struct LanguageChoice {
    lang: Option<String>,
}

/// `GET /t/{token}`: in the language the reader chose, else the customer's
/// recorded one, else what the browser asks for.
pub(super) async fn ticket(
    State(state): State<AppState>,
    headers: HeaderMap,
    choice: Result<Query<LanguageChoice>, QueryRejection>,
    token: Result<Path<String>, PathRejection>,
) -> Response {
    let chosen = (choice.ok()).and_then(|Query(c)| c.lang.as_deref().and_then(Language::parse));
    let asked = language(&headers);
    let Ok(Path(token)) = token else {
        return notice(
            StatusCode::NOT_FOUND,
            Notice::NotFound,
            chosen.unwrap_or(asked),
        );
    };
    match state.store.ticket_by_token(&token).await {
        Ok(ticket) => {
            let recorded = ticket.language.as_deref().and_then(Language::parse);
            let language = chosen.or(recorded).unwrap_or(asked);
            ticket_page(&state, &ticket, language)
        }
        Err(e) => failure(&e, chosen.unwrap_or(asked)),
    }
}

fn ticket_page(state: &AppState, ticket: &TicketRecord, language: Language) -> Response {
    match page::render_ticket(ticket, &state.settings.intake.vocabulary, language) {
        Ok(body) => html(StatusCode::OK, language, body),
        Err(e) => {
            error!(error = %e, key = %ticket.key, "tracking page not rendered");
            notice(StatusCode::INTERNAL_SERVER_ERROR, Notice::Error, language)
        }
    }
}

/// `GET /t/{token}/attachments/{id}`: a public file of that very ticket,
/// always as a download, never as a page of this site.
pub(super) async fn attachment(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    let language = language(&headers);
    let found = match path {
        // Ids are written as plain decimal numbers; anything else is the
        // same "not found".
        Ok(Path((token, id))) => match id.parse::<i64>() {
            Ok(number) if number > 0 && number.to_string() == id => {
                state.store.attachment_by_token(&token, number).await
            }
            _ => Err(StoreError::NotFound("no such attachment".into())),
        },
        Err(_) => Err(StoreError::NotFound("no such attachment".into())),
    };
    match found {
        Ok((record, content)) => {
            let disposition = HeaderValue::from_str(&content_disposition(&record.filename))
                .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
            (
                StatusCode::OK,
                [
                    (
                        CONTENT_TYPE,
                        HeaderValue::from_str(safe_content_type(&record.content_type).as_str())
                            .unwrap_or_else(|_| {
                                HeaderValue::from_static("application/octet-stream")
                            }),
                    ),
                    (CONTENT_DISPOSITION, disposition),
                    // Opened anyway (a browser that ignores the disposition):
                    // no script, no plugin, a unique origin.
                    (
                        CONTENT_SECURITY_POLICY,
                        HeaderValue::from_static("default-src 'none'; sandbox"),
                    ),
                ],
                content,
            )
                .into_response()
        }
        Err(e) => failure(&e, language),
    }
}

/// The content type an attachment is served with: a few harmless types as
/// they are, everything else (HTML, SVG, XML, scripts, unknown) as bytes.
pub fn safe_content_type(stored: &str) -> String {
    let mut parts = stored.split(';');
    let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    match essence.as_str() {
        "image/png" | "image/gif" | "application/pdf" => essence,
        "image/jpeg" | "image/jpg" | "image/pjpeg" => "image/jpeg".to_owned(),
        "text/plain" => {
            let charset = parts
                .filter_map(|p| p.split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("charset"))
                .map(|(_, value)| value.trim().trim_matches('"').to_ascii_lowercase())
                .filter(|v| {
                    !v.is_empty()
                        && v.len() <= 40
                        && v.bytes().all(|b| {
                            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':')
                        })
                })
                .unwrap_or_else(|| "utf-8".to_owned());
            format!("text/plain; charset={charset}")
        }
        _ => "application/octet-stream".to_owned(),
    }
}

/// `Content-Disposition` for a download (RFC 6266): an ASCII `filename`
/// for old clients and the exact name as `filename*` (RFC 8187).
pub fn content_disposition(filename: &str) -> String {
    let fallback: String = filename
        .chars()
        .map(|c| match c {
            // `%` is left out too: some clients decode it in `filename`.
            '"' | '\\' | '%' => '_',
            c if c == ' ' || c.is_ascii_graphic() => c,
            _ => '_',
        })
        .collect();
    let fallback = if fallback.chars().any(|c| c.is_ascii_alphanumeric()) {
        fallback
    } else {
        "attachment".to_owned()
    };
    let mut encoded = String::with_capacity(filename.len() * 3);
    for byte in filename.bytes() {
        // attr-char of RFC 8187.
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        for (stored, served) in [
            ("image/png", "image/png"),
            ("IMAGE/JPEG", "image/jpeg"),
            ("image/pjpeg", "image/jpeg"),
            ("image/gif", "image/gif"),
            ("application/pdf", "application/pdf"),
            ("text/plain", "text/plain; charset=utf-8"),
            (
                "text/plain; charset=\"ISO-8859-1\"",
                "text/plain; charset=iso-8859-1",
            ),
            (
                "text/plain; charset=\"x\r\nSet-Cookie: a\"",
                "text/plain; charset=utf-8",
            ),
            ("text/html", "application/octet-stream"),
            ("image/svg+xml", "application/octet-stream"),
            ("application/xhtml+xml", "application/octet-stream"),
            ("text/xml", "application/octet-stream"),
            ("application/javascript", "application/octet-stream"),
            ("", "application/octet-stream"),
            ("what/ever", "application/octet-stream"),
        ] {
            assert_eq!(safe_content_type(stored), served, "{stored:?}");
        }
    }

    #[test]
    fn dispositions() {
        assert_eq!(
            content_disposition("report.pdf"),
            "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
        );
        assert_eq!(
            content_disposition("relevé de compte (mai).pdf"),
            "attachment; filename=\"relev_ de compte (mai).pdf\"; filename*=UTF-8''relev%C3%A9%20de%20compte%20%28mai%29.pdf"
        );
        assert_eq!(
            content_disposition("a\"b\\c%d;e.txt"),
            "attachment; filename=\"a_b_c_d;e.txt\"; filename*=UTF-8''a%22b%5Cc%25d%3Be.txt"
        );
        assert_eq!(
            content_disposition("日本.txt"),
            "attachment; filename=\"__.txt\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt"
        );
        assert!(content_disposition("\r\n").starts_with("attachment; filename=\"attachment\""));
        for name in ["x\r\ny", "ü", "a\u{202e}b"] {
            assert!(HeaderValue::from_str(&content_disposition(name)).is_ok());
        }
    }
}
