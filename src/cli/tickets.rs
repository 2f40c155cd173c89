//! `mailgate tickets list|show|reply|status|note`: tickets as a table, one
//! in full, and the team's actions on them (those in `team.rs`).

use std::io::Write;
use std::path::PathBuf;

use super::team::{self, ActionText, Author, TeamAction};
use crate::config::Settings;
use crate::exit::{self, store_failure};
use crate::store::{StoreError, TicketRecord};
use crate::view::ticket_json;

#[derive(clap::Subcommand)]
pub(super) enum TicketsAction {
    /// Tickets, newest first: a table, or one JSON object per line.
    List {
        #[arg(long)]
        json: bool,
        /// Only tickets with this status (open, pending, resolved, closed).
        #[arg(long)]
        status: Option<String>,
    },
    /// One ticket with its comments, attachments and history.
    Show {
        /// Ticket key, e.g. SUP-42.
        key: String,
        #[arg(long)]
        json: bool,
    },
    /// Answer the customer: a public reply mailed to the reporter and
    /// watchers, threaded, and shown on the tracking page.
    Reply {
        key: String,
        #[command(flatten)]
        text: ActionText,
        /// A file to send with the reply (repeatable).
        #[arg(long, value_name = "FILE")]
        attach: Vec<PathBuf>,
        #[command(flatten)]
        author: Author,
    },
    /// Change the status (open, pending, resolved, closed); the customer is
    /// told by mail, with the message when one is given.
    Status {
        key: String,
        #[arg(value_parser = ["open", "pending", "resolved", "closed"])]
        status: String,
        #[arg(long, short)]
        message: Option<String>,
        #[command(flatten)]
        author: Author,
    },
    /// An internal note: never mailed, never shown to the customer.
    Note {
        key: String,
        #[command(flatten)]
        text: ActionText,
        #[command(flatten)]
        author: Author,
    },
}

pub(super) async fn execute(settings: &Settings, action: &TicketsAction) -> u8 {
    match action {
        TicketsAction::List { json, status } => list(settings, status.as_deref(), *json).await,
        TicketsAction::Show { key, json } => show(settings, key, *json).await,
        TicketsAction::Reply {
            key,
            text,
            attach,
            author,
        } => match text.read() {
            Ok(text) => {
                let action = TeamAction::Reply {
                    text,
                    attachments: attach,
                };
                team::execute(settings, key, &author.name(), action).await
            }
            Err(why) => {
                eprintln!("mailgate: {why}");
                exit::USAGE
            }
        },
        TicketsAction::Note { key, text, author } => match text.read() {
            Ok(text) => {
                let action = TeamAction::Note { text };
                team::execute(settings, key, &author.name(), action).await
            }
            Err(why) => {
                eprintln!("mailgate: {why}");
                exit::USAGE
            }
        },
        TicketsAction::Status {
            key,
            status,
            message,
            author,
        } => {
            let action = TeamAction::Status {
                status,
                message: message.as_deref().map(crate::intake::body::tidy),
            };
            team::execute(settings, key, &author.name(), action).await
        }
    }
}

fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        format!("{}…", crate::model::text::truncate_chars(text, width - 1))
    }
}

/// `mailgate tickets list`.
async fn list(settings: &Settings, status: Option<&str>, as_json: bool) -> u8 {
    let store = match super::open_store(settings).await {
        Ok(store) => store,
        Err(status) => return status,
    };
    let tickets = match store.list_tickets(status).await {
        Ok(t) => t,
        Err(e) => {
            eprintln!("mailgate: {e}");
            return store_failure(&e);
        }
    };
    let mut out = std::io::stdout().lock();
    if as_json {
        for ticket in &tickets {
            let _ = writeln!(out, "{}", ticket_json(settings, ticket, false));
        }
    } else {
        let _ = writeln!(
            out,
            "{:<10} {:<8} {:<9} {:<16} {:<28} SUMMARY",
            "KEY", "STATUS", "SEVERITY", "PRODUCTS", "REPORTER"
        );
        for t in &tickets {
            let _ = writeln!(
                out,
                "{:<10} {:<8} {:<9} {:<16} {:<28} {}",
                t.key,
                t.status,
                t.severity,
                cut(&t.products.join(","), 16),
                cut(&t.reporter_email, 28),
                cut(&t.summary, 60)
            );
        }
        let _ = writeln!(out, "{} ticket(s)", tickets.len());
    }
    store.close().await;
    exit::OK
}

/// `mailgate tickets show KEY`.
async fn show(settings: &Settings, key: &str, as_json: bool) -> u8 {
    let store = match super::open_store(settings).await {
        Ok(store) => store,
        Err(status) => return status,
    };
    let ticket = match store.ticket(key).await {
        Ok(t) => t,
        Err(StoreError::NotFound(why)) => {
            eprintln!("mailgate: {why}");
            return exit::DATAERR;
        }
        Err(e) => {
            eprintln!("mailgate: {e}");
            return store_failure(&e);
        }
    };
    let mut out = std::io::stdout().lock();
    if as_json {
        let _ = writeln!(out, "{}", ticket_json(settings, &ticket, true));
    } else {
        let _ = write_ticket(&mut out, settings, &ticket);
    }
    store.close().await;
    exit::OK
}

/// A ticket for people: its fields, description, comments and history.
fn write_ticket(
    out: &mut impl Write,
    settings: &Settings,
    ticket: &TicketRecord,
) -> std::io::Result<()> {
    writeln!(out, "{}  {}", ticket.key, ticket.summary)?;
    writeln!(out, "Status:       {}", ticket.status)?;
    writeln!(out, "Severity:     {}", ticket.severity)?;
    writeln!(out, "Products:     {}", ticket.products.join(", "))?;
    writeln!(out, "Request type: {}", ticket.request_type)?;
    let reporter = match &ticket.reporter_name {
        Some(name) => format!("{name} <{}>", ticket.reporter_email),
        None => ticket.reporter_email.clone(),
    };
    writeln!(out, "Reporter:     {reporter}")?;
    if !ticket.watchers.is_empty() {
        let watchers: Vec<_> = ticket.watchers.iter().map(|w| w.email.as_str()).collect();
        writeln!(out, "Watchers:     {}", watchers.join(", "))?;
    }
    for u in &ticket.unrecognized {
        writeln!(
            out,
            "Unrecognised: {} {:?} (from the {})",
            u.field, u.value, u.source
        )?;
    }
    writeln!(out, "Created:      {}", ticket.created_at)?;
    writeln!(
        out,
        "Tracking:     {}",
        settings.tracking_url(&ticket.tracking_token)
    )?;
    for a in &ticket.attachments {
        writeln!(
            out,
            "Attachment:   {} ({}, {} bytes, sha256 {})",
            a.filename, a.content_type, a.size, a.sha256
        )?;
    }
    writeln!(out, "\n{}", ticket.description)?;
    if let Some(follows) = &ticket.follows {
        writeln!(out, "\n(continues {follows})")?;
    }
    for c in &ticket.comments {
        writeln!(
            out,
            "\n--- {} {} ({}, {})\n{}",
            c.created_at, c.author_email, c.author_role, c.visibility, c.body
        )?;
    }
    if !ticket.events.is_empty() {
        writeln!(out, "\nHistory:")?;
    }
    for e in &ticket.events {
        let change = match (&e.field, &e.old_value, &e.new_value) {
            (Some(field), Some(old), Some(new)) => format!("{field}: {old} → {new}"),
            (_, _, Some(new)) => new.clone(),
            _ => String::new(),
        };
        let detail = e.detail.as_deref().unwrap_or_default();
        writeln!(
            out,
            "  {} {} {} {change} {detail} ({})",
            e.created_at,
            e.kind,
            e.actor,
            if e.public.0 { "public" } else { "internal" }
        )?;
    }
    Ok(())
}
