//! The operators' listener, apart from the public one and bound to
//! 127.0.0.1 by default (`http.ops_listen`): `/healthz` (the process
//! answers), `/readyz` (the database answers and every source worked
//! recently; 503 with the reasons otherwise) and `/metrics` (Prometheus
//! text format).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::lease::Leases;
use crate::service::{Monitor, names};
use crate::store::Store;

#[derive(Clone)]
struct Ops {
    store: Store,
    monitor: Arc<Monitor>,
    metrics: Option<PrometheusHandle>,
    leases: Option<Leases>,
    /// The last sum of the stored bytes, and when it was taken.
    stored_bytes: Arc<std::sync::Mutex<Option<(std::time::Instant, i64)>>>,
}

/// The stored bytes are summed again at most this often: the sum reads a
/// row per content, too much for every scrape of a large database.
const STORED_BYTES_EVERY: std::time::Duration = std::time::Duration::from_secs(300);

pub fn router(
    store: Store,
    monitor: Arc<Monitor>,
    metrics: Option<PrometheusHandle>,
    leases: Option<Leases>,
) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .with_state(Ops {
            store,
            monitor,
            metrics,
            leases,
            stored_bytes: Arc::default(),
        })
}

async fn readyz(State(ops): State<Ops>) -> Response {
    let mut reasons = Vec::new();
    if let Err(e) = ops.store.ping().await {
        reasons.push(format!("database: {e}"));
    }
    reasons.extend(ops.monitor.not_ready());
    // Sharing the mailboxes with other instances: which this one watches.
    // An instance holding none is ready: it serves HTTP and sends mail.
    let leases = ops.leases.as_ref().map(|leases| {
        let held = leases.held();
        format!(
            "instance {} watches: {}\n",
            ops.store.instance(),
            if held.is_empty() {
                "nothing (the other instances hold every mailbox)".to_owned()
            } else {
                held.join(", ")
            }
        )
    });
    let leases = leases.unwrap_or_default();
    if reasons.is_empty() {
        (StatusCode::OK, format!("ready\n{leases}")).into_response()
    } else {
        let body = format!("not ready\n{}\n{leases}", reasons.join("\n"));
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
    }
}

/// The metrics, with the outbox gauges and the stored bytes read from the
/// database now (any instance's sends and filings count, so they cannot be
/// kept in memory).
async fn metrics_text(State(ops): State<Ops>) -> Response {
    let Some(handle) = &ops.metrics else {
        return (
            StatusCode::NOT_FOUND,
            "metrics are not recorded in this process\n",
        )
            .into_response();
    };
    if let Ok((counts, oldest)) = ops.store.outbox_stats().await {
        for status in ["pending", "sent", "failed", "suppressed"] {
            let n = counts
                .iter()
                .find(|(s, _)| s == status)
                .map_or(0, |(_, n)| *n);
            metrics::gauge!(names::OUTBOX_MESSAGES, "status" => status).set(n as f64);
        }
        let age = oldest
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map_or(0.0, |t| {
                (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_milliseconds() as f64
                    / 1000.0
            });
        metrics::gauge!(names::OUTBOX_OLDEST).set(age.max(0.0));
    }
    let last = *ops
        .stored_bytes
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let bytes = match last {
        Some((at, bytes)) if at.elapsed() < STORED_BYTES_EVERY => Some(bytes),
        _ => match ops.store.stored_bytes().await {
            Ok(bytes) => {
                *ops.stored_bytes
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) =
                    Some((std::time::Instant::now(), bytes));
                Some(bytes)
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot sum the stored bytes");
                last.map(|(_, bytes)| bytes)
            }
        },
    };
    if let Some(bytes) = bytes {
        metrics::gauge!(names::STORED_BYTES).set(bytes as f64);
    }
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        handle.render(),
    )
        .into_response()
}
