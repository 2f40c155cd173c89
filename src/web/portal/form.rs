//! A multipart form read whole: its text fields and files, within
//! `intake.max_message_size` altogether (413 past it, nothing kept).

use axum::extract::Multipart;
use axum::http::StatusCode;

use super::mail::Upload;
use crate::intake::attachments::safe_filename;

/// The fields of a posted form.
#[derive(Debug, Default)]
pub(super) struct Posted {
    pub fields: Vec<(String, String)>,
    pub files: Vec<Upload>,
}

impl Posted {
    /// The first value of a field.
    pub fn get(&self, name: &str) -> Option<&str> {
        (self.fields.iter())
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeated field.
    pub fn all(&self, name: &str) -> Vec<&str> {
        (self.fields.iter())
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// Why a form could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unread {
    TooLarge,
    Malformed,
}

/// Reads a multipart form: fields named `files_field` are files, the others
/// text. Over `limit` bytes of contents in all is [`Unread::TooLarge`].
pub(super) async fn read(
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
    files_field: &str,
    limit: usize,
) -> Result<Posted, Unread> {
    let Ok(mut multipart) = multipart else {
        return Err(Unread::Malformed);
    };
    let mut posted = Posted::default();
    let mut total = 0usize;
    let fail = |e: &axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Unread::TooLarge
        } else {
            Unread::Malformed
        }
    };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return Err(fail(&e)),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        let content_type = (field.content_type())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let data = field.bytes().await.map_err(|e| fail(&e))?;
        total = total.saturating_add(data.len());
        if total > limit {
            return Err(Unread::TooLarge);
        }
        if name == files_field {
            // A file input left empty is sent as a nameless, empty part.
            if data.is_empty() && filename.as_deref().is_none_or(str::is_empty) {
                continue;
            }
            posted.files.push(Upload {
                filename: safe_filename(filename.as_deref().unwrap_or_default())
                    .unwrap_or_else(|| "attachment".to_owned()),
                content_type,
                data: data.to_vec(),
            });
        } else {
            posted
                .fields
                .push((name, String::from_utf8_lossy(&data).into_owned()));
        }
    }
    Ok(posted)
}

/// A form post of a signed-in customer who accepted the terms: the session
/// and the form, read within `intake.max_message_size` (413 past it) and
/// checked against the session's CSRF token (403 without it; an unreadable
/// form has no token either).
pub(super) async fn signed_post(
    state: &crate::web::AppState,
    headers: &axum::http::HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<(super::session::Signed, Posted), axum::response::Response> {
    let signed = super::session::signed(state, headers, super::session::Need::Ready).await?;
    let language = signed.language;
    let limit = state.settings.intake.max_message_size;
    let posted = match read(multipart, "attachments", limit).await {
        Ok(posted) => posted,
        Err(Unread::TooLarge) => {
            return Err(super::notice(
                StatusCode::PAYLOAD_TOO_LARGE,
                super::Notice::TooLarge,
                language,
            ));
        }
        Err(Unread::Malformed) => return Err(super::session::forbidden(language)),
    };
    if !signed.csrf_ok(posted.get("csrf")) {
        return Err(super::session::forbidden(language));
    }
    Ok((signed, posted))
}
