//! Delivering the outbox: SMTP through one pooled lettre transport, or
//! `.eml` files in a folder when no SMTP server is configured. A transient
//! failure (4xx, connection refused, timeout) is tried again later with
//! exponential back-off; a permanent one (5xx) stops at once. Either way
//! the outcome stays on the row.

use std::path::PathBuf;
use std::time::Duration;

use crate::service::names;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use tokio::sync::watch;
use tracing::{info, warn};

use crate::config::{OutboxSettings, SmtpSettings, TlsMode};
use crate::source::sleep_or_shutdown;
use crate::store::{OutboxRow, Store, StoreError};

/// Where mail goes. Clones share the SMTP connection pool.
#[derive(Clone)]
pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// Each message written as `<Message-ID>.eml` into the folder.
    Files(PathBuf),
}

/// Why a message was not delivered.
#[derive(Debug)]
pub struct SendError {
    pub permanent: bool,
    pub message: String,
}

impl Mailer {
    pub fn smtp(settings: &SmtpSettings) -> Result<Self, String> {
        let builder = match settings.tls {
            TlsMode::Implicit => AsyncSmtpTransport::<Tokio1Executor>::relay(&settings.host),
            TlsMode::StartTls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&settings.host)
            }
            // Validation allowed plain text only for loopback or on purpose.
            TlsMode::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
                &settings.host,
            )),
        }
        .map_err(|e| format!("smtp: {e}"))?;
        let mut builder = builder
            .port(settings.port)
            .timeout(Some(Duration::from_secs(30)));
        if let (Some(user), Some(password)) = (&settings.username, &settings.password) {
            builder =
                builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
        }
        Ok(Mailer::Smtp(builder.build()))
    }

    async fn send(&self, row: &OutboxRow, raw: &[u8]) -> Result<(), SendError> {
        match self {
            Mailer::Smtp(transport) => {
                let transient = |message: String| SendError {
                    permanent: false,
                    message,
                };
                let sender = row.sender.parse().map_err(|e| SendError {
                    permanent: true,
                    message: format!("sender {:?}: {e}", row.sender),
                })?;
                let recipients = row
                    .recipients
                    .split(',')
                    .map(|r| r.parse())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| SendError {
                        permanent: true,
                        message: format!("recipient: {e}"),
                    })?;
                let envelope =
                    lettre::address::Envelope::new(Some(sender), recipients).map_err(|e| {
                        SendError {
                            permanent: true,
                            message: e.to_string(),
                        }
                    })?;
                transport
                    .send_raw(&envelope, raw)
                    .await
                    .map(|_| ())
                    .map_err(|e| {
                        if e.is_permanent() {
                            SendError {
                                permanent: true,
                                message: e.to_string(),
                            }
                        } else {
                            transient(e.to_string())
                        }
                    })
            }
            Mailer::Files(dir) => {
                let write = || -> std::io::Result<()> {
                    std::fs::create_dir_all(dir)?;
                    let name: String = row
                        .message_id
                        .chars()
                        .map(|c| {
                            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@') {
                                c
                            } else {
                                '_'
                            }
                        })
                        .collect();
                    let tmp = dir.join(format!(".{name}.tmp"));
                    std::fs::write(&tmp, raw)?;
                    std::fs::rename(&tmp, dir.join(format!("{name}.eml")))
                };
                write().map_err(|e| SendError {
                    permanent: false,
                    message: format!("{}: {e}", dir.display()),
                })
            }
        }
    }
}

/// When to try again after `attempts` failed attempts, or `None` when the
/// message has waited longer than `give_up_after` since it was written.
pub fn next_attempt(
    settings: &OutboxSettings,
    attempts: u32,
    created_at: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let factor = 2u32.saturating_pow(attempts.saturating_sub(1));
    let wait = settings
        .retry_initial
        .saturating_mul(factor)
        .min(settings.retry_max);
    let next = now + chrono::Duration::from_std(wait).ok()?;
    let deadline = created_at + chrono::Duration::from_std(settings.give_up_after).ok()?;
    (next <= deadline).then_some(next)
}

/// Sends every message that is due. Returns how many were delivered.
pub async fn flush(
    store: &Store,
    mailer: &Mailer,
    settings: &OutboxSettings,
) -> Result<usize, StoreError> {
    let mut delivered = 0;
    loop {
        let rows = store.due_outbox(50).await?;
        if rows.is_empty() {
            return Ok(delivered);
        }
        for row in rows {
            let raw = store.blob(&row.raw_sha256).await?;
            let ticket = row.ticket.as_deref().unwrap_or("-");
            match mailer.send(&row, &raw).await {
                Ok(()) => {
                    store.outbox_sent(row.id).await?;
                    metrics::counter!(names::OUTBOX_SENT, "kind" => row.kind.clone()).increment(1);
                    info!(ticket, kind = %row.kind, to = %row.recipients, "mail sent");
                    delivered += 1;
                }
                Err(e) => {
                    let created = chrono::DateTime::parse_from_rfc3339(&row.created_at)
                        .map(|d| d.with_timezone(&chrono::Utc))
                        .unwrap_or_else(|_| chrono::Utc::now());
                    let attempts = u32::try_from(row.attempts + 1).unwrap_or(u32::MAX);
                    let retry = if e.permanent {
                        None
                    } else {
                        next_attempt(settings, attempts, created, chrono::Utc::now())
                    };
                    match retry {
                        Some(at) => {
                            metrics::counter!(names::OUTBOX_RETRIES).increment(1);
                            warn!(ticket, kind = %row.kind, error = %e.message, retry_at = %at, "mail not sent; will retry")
                        }
                        None => {
                            metrics::counter!(names::OUTBOX_FAILED, "kind" => row.kind.clone())
                                .increment(1);
                            warn!(ticket, kind = %row.kind, error = %e.message, "mail not sent; giving up")
                        }
                    }
                    store.outbox_failed(row.id, &e.message, retry).await?;
                }
            }
        }
    }
}

/// Sends due mail every second until shutdown.
pub async fn run(
    store: Store,
    mailer: Mailer,
    settings: OutboxSettings,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        if let Err(e) = flush(&store, &mailer, &settings).await {
            warn!(error = %e, "outbox not flushed");
        }
        if sleep_or_shutdown(Duration::from_secs(1), &mut shutdown).await {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_and_give_up_after_the_deadline() {
        let settings = OutboxSettings {
            retry_initial: Duration::from_secs(60),
            retry_max: Duration::from_secs(3600),
            give_up_after: Duration::from_secs(48 * 3600),
        };
        let created = chrono::Utc::now();
        let wait = |attempts, now| {
            next_attempt(&settings, attempts, created, now).map(|t| (t - now).num_seconds())
        };
        assert_eq!(wait(1, created), Some(60));
        assert_eq!(wait(2, created), Some(120));
        assert_eq!(wait(4, created), Some(480));
        assert_eq!(wait(10, created), Some(3600));
        assert_eq!(wait(40, created), Some(3600));
        assert_eq!(
            wait(
                5,
                created + chrono::Duration::hours(47) + chrono::Duration::minutes(59)
            ),
            None
        );
    }
}
