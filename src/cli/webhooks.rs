//! `mailgate webhooks`: what was told to the `[[webhooks]]`, listed, and
//! what was given up on queued again (after the receiver was fixed).

use std::io::Write;

use super::messages::failed;
use crate::config::Settings;
use crate::exit;
use crate::model::{DeliveryStatus, Named};
use crate::store::Delivery;

#[derive(clap::Subcommand)]
pub(super) enum WebhooksAction {
    /// Deliveries, newest first: id, date, status, attempts, webhook,
    /// event, ticket, last error; or one JSON object per line (with the
    /// body sent).
    List {
        /// Only deliveries with this status.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(
            DeliveryStatus::ALL.iter().map(|s| s.as_str())
        ))]
        status: Option<String>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Queue failed deliveries to be sent again by the running gateway (or
    /// the next `run --once`), with the same event id. Exit status: 0, 65
    /// when the delivery is unknown or did not fail, 75 database
    /// unavailable.
    Retry {
        #[arg(required_unless_present = "all_failed", conflicts_with = "all_failed")]
        id: Option<i64>,
        /// Every failed delivery.
        #[arg(long)]
        all_failed: bool,
    },
}

pub(super) async fn execute(settings: &Settings, action: &WebhooksAction) -> u8 {
    let store = match super::open_store(settings).await {
        Ok(store) => store,
        Err(status) => return status,
    };
    let status = match action {
        WebhooksAction::List { status, json } => {
            let status = status.as_deref().and_then(DeliveryStatus::parse);
            match store.list_webhook_deliveries(status).await {
                Ok(rows) => {
                    print_rows(&rows, *json);
                    exit::OK
                }
                Err(e) => failed(&e),
            }
        }
        WebhooksAction::Retry { id, all_failed } => {
            let id = id.filter(|_| !*all_failed);
            match store.retry_webhooks(id).await {
                Ok(0) if id.is_some() => {
                    eprintln!(
                        "mailgate: webhook delivery {} is unknown or did not fail",
                        id.unwrap_or_default()
                    );
                    exit::DATAERR
                }
                Ok(n) => {
                    println!("{n} failed webhook deliveries queued again");
                    exit::OK
                }
                Err(e) => failed(&e),
            }
        }
    };
    store.close().await;
    status
}

fn print_rows(rows: &[Delivery], json: bool) {
    let mut out = std::io::stdout().lock();
    for row in rows {
        let _ = if json {
            writeln!(out, "{}", serde_json::to_string(row).unwrap_or_default())
        } else {
            writeln!(
                out,
                "{:>6}  {}  {:<8} {:>2}  {:<24} {:<16} {:<10}{}",
                row.id,
                row.created_at
                    .get(..19)
                    .unwrap_or(&row.created_at)
                    .replace('T', " "),
                row.status.as_str(),
                row.attempts,
                row.webhook,
                row.event,
                row.ticket.as_deref().unwrap_or("-"),
                row.last_error
                    .as_deref()
                    .map(|e| format!("  ({e})"))
                    .unwrap_or_default()
            )
        };
    }
}
