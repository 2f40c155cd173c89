//! `mailgate outbox`: the mail mailgate sends, listed, and what was given
//! up on queued again (after the SMTP server or the address was fixed).

use std::io::Write;

use super::messages::failed;
use crate::config::Settings;
use crate::exit;
use crate::model::{Named, OutboxStatus};
use crate::store::OutboxRow;

#[derive(clap::Subcommand)]
pub(super) enum OutboxAction {
    /// Outgoing mail, newest first: id, date, status, attempts, kind,
    /// ticket, recipients, last error; or one JSON object per line.
    List {
        /// Only mail with this status.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(
            OutboxStatus::ALL.iter().map(|s| s.as_str())
        ))]
        status: Option<String>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Queue failed mail to be sent again by the running gateway (or the
    /// next `run --once`). Exit status: 0, 65 when the message is unknown or
    /// did not fail, 75 database unavailable.
    Retry {
        #[arg(required_unless_present = "all_failed", conflicts_with = "all_failed")]
        id: Option<i64>,
        /// Every failed mail.
        #[arg(long)]
        all_failed: bool,
    },
}

pub(super) async fn execute(settings: &Settings, action: &OutboxAction) -> u8 {
    let store = match super::open_store(settings).await {
        Ok(store) => store,
        Err(status) => return status,
    };
    let status = match action {
        OutboxAction::List { status, json } => match store.list_outbox().await {
            Ok(rows) => {
                print_rows(&rows, status.as_deref(), *json);
                exit::OK
            }
            Err(e) => failed(&e),
        },
        OutboxAction::Retry { id, all_failed } => {
            let id = id.filter(|_| !*all_failed);
            match store.requeue_failed(id).await {
                Ok(0) if id.is_some() => {
                    eprintln!(
                        "mailgate: outgoing mail {} is unknown or did not fail",
                        id.unwrap_or_default()
                    );
                    exit::DATAERR
                }
                Ok(n) => {
                    println!("{n} failed mail queued again");
                    exit::OK
                }
                Err(e) => failed(&e),
            }
        }
    };
    store.close().await;
    status
}

fn print_rows(rows: &[OutboxRow], status: Option<&str>, json: bool) {
    let mut out = std::io::stdout().lock();
    for row in rows.iter().filter(|r| status.is_none_or(|s| r.status == s)) {
        let _ = if json {
            writeln!(
                out,
                "{}",
                serde_json::json!({
                    "id": row.id,
                    "created_at": row.created_at,
                    "status": row.status,
                    "attempts": row.attempts,
                    "kind": row.kind,
                    "ticket": row.ticket,
                    "to": row.recipients,
                    "last_error": row.last_error,
                })
            )
        } else {
            writeln!(
                out,
                "{:>6}  {}  {:<10} {:>2}  {:<22} {:<10} {}{}",
                row.id,
                row.created_at
                    .get(..19)
                    .unwrap_or(&row.created_at)
                    .replace('T', " "),
                row.status,
                row.attempts,
                row.kind,
                row.ticket.as_deref().unwrap_or("-"),
                row.recipients,
                row.last_error
                    .as_deref()
                    .map(|e| format!("  ({e})"))
                    .unwrap_or_default()
            )
        };
    }
}
