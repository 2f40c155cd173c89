//! The API's failures, answered as JSON with the HTTP status that fits.

use axum::http::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tracing::error;

use crate::store::StoreError;

/// An API failure, answered as JSON.
#[derive(Debug)]
pub struct ApiError {
    pub(super) status: StatusCode,
    pub(super) message: String,
    pub(super) accepted: Option<Vec<String>>,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            accepted: None,
        }
    }

    pub(super) fn unprocessable(message: impl Into<String>) -> Self {
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
            (StoreError::Invalid(m) | StoreError::NotFound(m), _) => m.clone(),
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

pub(super) fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
