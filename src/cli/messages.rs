//! `mailgate messages list|show|retry`: the received messages and the
//! decision each got, one in full with what intake decides now, and the
//! quarantine filed again (`retry.rs`).

use std::io::Write;

use serde_json::json;

use super::retry::{self, RetryTarget};
use crate::config::Settings;
use crate::exit::{self, store_failure};
use crate::intake::{self, MailboxDefaults};
use crate::store::{MessageRecord, RetryRecord, Store, StoreError};

/// The outcomes `messages list --status` accepts; `quarantined` is
/// `rejected` (rejected messages are what sources move to quarantine).
const STATUSES: &[&str] = &[
    "quarantined",
    "rejected",
    "ignored",
    "duplicate",
    "ticket",
    "comment",
];

/// The stored outcome a `--status` value names.
fn outcome_of_status(status: &str) -> &str {
    if status == "quarantined" {
        "rejected"
    } else {
        status
    }
}

#[derive(clap::Subcommand)]
pub(super) enum MessagesAction {
    /// Received messages, newest first: id, date, source, outcome, reason,
    /// ticket, size; or one JSON object per line.
    List {
        /// Only messages with this outcome. "quarantined" means "rejected":
        /// the messages sources move to their quarantine folder.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(STATUSES))]
        status: Option<String>,
        /// At most this many.
        #[arg(long)]
        limit: Option<i64>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// One message: the decision it got, its headers and what intake
    /// decides now (what a retry would file); or its raw bytes.
    Show {
        id: i64,
        /// The message exactly as stored, on standard output.
        #[arg(long, conflicts_with = "json")]
        raw: bool,
        /// One JSON object: the record, its retries, the decision now.
        #[arg(long)]
        json: bool,
    },
    /// File a quarantined (rejected) message again, decided afresh with the
    /// current configuration, on its own record. Exit status: 0, 65 when a
    /// message is rejected again or is not quarantined (already filed), 75
    /// database unavailable.
    Retry {
        #[arg(
            required_unless_present = "all_quarantined",
            conflicts_with = "all_quarantined"
        )]
        id: Option<i64>,
        /// Every quarantined message, oldest first.
        #[arg(long)]
        all_quarantined: bool,
    },
}

pub(super) async fn execute(settings: &Settings, action: &MessagesAction) -> u8 {
    match action {
        MessagesAction::List {
            status,
            limit,
            json,
        } => list(settings, status.as_deref(), *limit, *json).await,
        MessagesAction::Show { id, raw, json } => show(settings, *id, *raw, *json).await,
        MessagesAction::Retry {
            id,
            all_quarantined,
        } => {
            let target = match id {
                Some(id) if !*all_quarantined => RetryTarget::One(*id),
                _ => RetryTarget::AllQuarantined,
            };
            retry::execute(settings, target).await
        }
    }
}

/// Prints a storage failure and gives its exit status (65 for an unknown
/// message).
pub(super) fn failed(error: &StoreError) -> u8 {
    eprintln!("mailgate: {error}");
    match error {
        StoreError::NotFound(_) | StoreError::Invalid(_) => exit::DATAERR,
        e => store_failure(e),
    }
}

/// `2025-03-01T10:00:00.123Z` as `2025-03-01 10:00:00`.
fn short_time(at: &str) -> String {
    at.get(..19).unwrap_or(at).replace('T', " ")
}

fn place(m: &MessageRecord) -> String {
    match &m.mailbox {
        Some(mailbox) => format!("{}/{mailbox}", m.source),
        None => m.source.clone(),
    }
}

/// `mailgate messages list`.
async fn list(settings: &Settings, status: Option<&str>, limit: Option<i64>, as_json: bool) -> u8 {
    let store = match super::open_store(settings).await {
        Ok(store) => store,
        Err(status) => return status,
    };
    let messages = match store.messages(status.map(outcome_of_status), limit).await {
        Ok(m) => m,
        Err(e) => return failed(&e),
    };
    let mut out = std::io::stdout().lock();
    if as_json {
        for m in &messages {
            let _ = writeln!(out, "{}", serde_json::to_string(m).unwrap_or_default());
        }
    } else {
        let _ = writeln!(
            out,
            "{:>6} {:<19} {:<20} {:<9} {:<20} {:<10} {:>9}",
            "ID", "RECEIVED", "SOURCE", "OUTCOME", "REASON", "TICKET", "SIZE"
        );
        for m in &messages {
            let _ = writeln!(
                out,
                "{:>6} {:<19} {:<20} {:<9} {:<20} {:<10} {:>9}",
                m.id,
                short_time(&m.received_at),
                place(m),
                m.outcome,
                m.reason.as_deref().unwrap_or("-"),
                m.ticket.as_deref().unwrap_or("-"),
                m.size
            );
        }
        let _ = writeln!(out, "{} message(s)", messages.len());
    }
    store.close().await;
    exit::OK
}

/// The defaults a message is decided with: those of the mailbox it came
/// from, when that is still configured.
pub(super) fn defaults_for(settings: &Settings, mailbox: Option<&str>) -> MailboxDefaults {
    mailbox
        .and_then(|name| settings.source_defaults(name))
        .cloned()
        .unwrap_or_default()
}

/// Why a rejected message cannot be decided again from what was kept: an
/// IMAP message over `max_message_size` is quarantined with only its
/// header downloaded.
pub(super) fn header_only(m: &MessageRecord, raw: &[u8]) -> Option<String> {
    let real_size: usize = m
        .detail
        .as_deref()
        .filter(|_| m.reason.as_deref() == Some("too-large"))?
        .split(' ')
        .next()?
        .parse()
        .ok()?;
    (real_size > raw.len()).then(|| {
        format!(
            "only its header was kept ({real_size} bytes on the server, over intake.max_message_size); \
             move it from the quarantine folder back to {} to have it fetched whole",
            m.mailbox.as_deref().unwrap_or("the inbox")
        )
    })
}

/// `mailgate messages show ID [--raw|--json]`.
async fn show(settings: &Settings, id: i64, raw_only: bool, as_json: bool) -> u8 {
    let store = match super::open_store(settings).await {
        Ok(store) => store,
        Err(status) => return status,
    };
    let status = show_one(settings, &store, id, raw_only, as_json).await;
    store.close().await;
    status
}

async fn show_one(
    settings: &Settings,
    store: &Store,
    id: i64,
    raw_only: bool,
    as_json: bool,
) -> u8 {
    let (m, retries) = match async {
        Ok::<_, StoreError>((store.message(id).await?, store.message_retries(id).await?))
    }
    .await
    {
        Ok(found) => found,
        Err(e) => return failed(&e),
    };
    if m.raw_removed_at.is_some() && !raw_only {
        return show_removed(&m, &retries, as_json);
    }
    // Removed raw bytes: a clear refusal rather than empty output.
    let raw = match store.inbound_raw(id).await {
        Ok(raw) => raw,
        Err(e) => return failed(&e),
    };
    let mut out = std::io::stdout().lock();
    if raw_only {
        return match out.write_all(&raw).and_then(|()| out.flush()) {
            Ok(()) => exit::OK,
            Err(e) => {
                eprintln!("mailgate: standard output: {e}");
                exit::SOFTWARE
            }
        };
    }
    let decision = intake::decide(
        &raw,
        &settings.intake,
        &defaults_for(settings, m.mailbox.as_deref()),
    );
    let cannot_retry = header_only(&m, &raw);
    if as_json {
        let value = json!({
            "message": m,
            "retries": retries,
            "decision_now": decision,
            "header_only": cannot_retry.is_some(),
        });
        let _ = writeln!(out, "{value}");
        return exit::OK;
    }
    print_record(&mut out, &m, &retries);

    // As read now: the trusted servers' results are in the stored header.
    if let Some(checked) = &decision.message.sender_auth {
        let _ = writeln!(out, "Sender:      {} ({})", checked.verdict, checked.detail);
    }

    // The header block only: a large body is not worth parsing here.
    let head = intake::parse::body_offset(&raw).map_or(&raw[..], |at| &raw[..at]);
    let parsed = intake::parse::parse(head);
    let people = |list: &[intake::Person]| {
        list.iter()
            .map(|p| match &p.name {
                Some(name) => format!("{name} <{}>", p.email),
                None => p.email.clone(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(out);
    for (label, value) in [
        ("From", Some(people(&parsed.from))),
        ("To", Some(people(&parsed.to))),
        ("Cc", Some(people(&parsed.cc))),
        ("Subject", parsed.subject.clone()),
        ("Date", parsed.date.clone()),
        (
            "Message-ID",
            parsed
                .message_id
                .as_ref()
                .map(|i| format!("<{}>", i.as_str())),
        ),
    ] {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            let _ = writeln!(out, "{:<12} {value}", format!("{label}:"));
        }
    }
    let _ = writeln!(out);
    match (&cannot_retry, m.outcome.as_str()) {
        (Some(why), _) => {
            let _ = writeln!(out, "Cannot be retried: {why}.");
        }
        (None, "rejected") => {
            let _ = writeln!(
                out,
                "What intake decides now (`mailgate messages retry {}` files this):",
                m.id
            );
        }
        (None, _) => {
            let _ = writeln!(out, "What intake decides now:");
        }
    }
    let _ = writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&decision).unwrap_or_default()
    );
    exit::OK
}

/// What is known of a message whatever became of its raw bytes.
fn print_record(out: &mut impl Write, m: &MessageRecord, retries: &[RetryRecord]) {
    let _ = writeln!(out, "Message {}  received {}", m.id, m.received_at);
    let _ = writeln!(out, "Source:      {}", place(m));
    let _ = writeln!(out, "Size:        {} bytes", m.size);
    let outcome = match &m.reason {
        Some(reason) => format!("{} ({reason})", m.outcome),
        None => m.outcome.to_string(),
    };
    let _ = writeln!(out, "Outcome:     {outcome}");
    if let Some(detail) = &m.detail {
        let _ = writeln!(out, "Detail:      {detail}");
    }
    if let Some(ticket) = &m.ticket {
        let _ = writeln!(out, "Ticket:      {ticket}");
    }
    if let Some(of) = m.duplicate_of {
        let _ = writeln!(out, "Duplicate of message {of}");
    }
    for r in retries {
        let _ = writeln!(
            out,
            "Retried:     {}: {} ({}) → {}{}",
            r.retried_at,
            r.old_outcome,
            r.old_reason.as_deref().unwrap_or("-"),
            r.outcome,
            r.ticket
                .as_deref()
                .or(r.reason.as_deref())
                .map(|t| format!(" ({t})"))
                .unwrap_or_default()
        );
    }
    if let Some(at) = &m.raw_removed_at {
        let _ = writeln!(
            out,
            "Raw:         removed on {} by the retention rule raw_messages",
            short_time(at)
        );
    }
}

/// `messages show` of a message whose raw bytes retention removed: its
/// record, without headers nor a decision (there is nothing to decide).
fn show_removed(m: &MessageRecord, retries: &[RetryRecord], as_json: bool) -> u8 {
    let mut out = std::io::stdout().lock();
    if as_json {
        let value = json!({
            "message": m,
            "retries": retries,
            "decision_now": null,
            "header_only": false,
        });
        let _ = writeln!(out, "{value}");
    } else {
        print_record(&mut out, m, retries);
    }
    exit::OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarantined_is_rejected() {
        assert_eq!(outcome_of_status("quarantined"), "rejected");
        assert_eq!(outcome_of_status("ticket"), "ticket");
    }
}
