//! `mailgate tickets list|search|show|reply|status|note|assign|watchers|merge`:
//! tickets as a table by page, found by their words, one in full, and the
//! team's actions on them (those in `team.rs`).

use std::io::Write;
use std::path::PathBuf;

use super::team::{self, ActionText, Author, TeamAction, WatchChange};
use crate::config::Settings;
use crate::exit::{self, store_failure};
use crate::model::SearchTerms;
use crate::store::{Cursor, MAX_PAGE, StoreError, TicketRecord};
use crate::view::filter::{FilterText, ticket_filter};
use crate::view::{hit_json, snippet, ticket_json};

#[derive(clap::Subcommand)]
pub(super) enum TicketsAction {
    /// Tickets, newest first, by page: a table, or one JSON object per
    /// line.
    List {
        #[command(flatten)]
        options: ListOptions,
    },
    /// Tickets whose summary, description, comments or attachment names hold
    /// every word given (or words beginning so; case and accents do not
    /// matter), best first, each with the line where they appear.
    Search {
        /// The words to find, e.g. "export planté".
        words: String,
        #[command(flatten)]
        options: ListOptions,
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
    /// Give the ticket to a team member (told by mail), or to nobody.
    Assign {
        key: String,
        /// The team member's address.
        #[arg(required_unless_present = "none", conflicts_with = "none")]
        email: Option<String>,
        /// Take the ticket from whoever has it.
        #[arg(long)]
        none: bool,
        #[command(flatten)]
        author: Author,
    },
    /// The people copied on the ticket's public mail besides its reporter:
    /// listed one address a line, or one added or removed.
    Watchers {
        key: String,
        /// Add or remove the address given.
        #[arg(value_enum, requires = "email")]
        change: Option<WatchChange>,
        /// The address to add or remove.
        #[arg(requires = "change")]
        email: Option<String>,
        #[command(flatten)]
        author: Author,
    },
    /// Merge a ticket into another about the same problem: its request,
    /// comments, attachments, watchers and messages move there, it becomes
    /// `merged`, later mail to it lands on the other, and its customer is
    /// told once.
    Merge {
        /// The ticket that goes, e.g. SUP-43.
        key: String,
        /// The ticket that stays, e.g. SUP-42.
        #[arg(long, value_name = "KEY")]
        into: String,
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

/// The filters and paging of `tickets list` and `tickets search`.
#[derive(clap::Args)]
pub(super) struct ListOptions {
    /// Only tickets with this status (open, pending, resolved, closed, held, merged).
    #[arg(long)]
    status: Option<String>,
    /// Only tickets about this product (a name, alias or label).
    #[arg(long)]
    product: Option<String>,
    #[arg(long)]
    severity: Option<String>,
    #[arg(long)]
    request_type: Option<String>,
    /// Only tickets reported by this address.
    #[arg(long)]
    reporter: Option<String>,
    /// Only tickets assigned to this address ("none": to nobody).
    #[arg(long)]
    assignee: Option<String>,
    /// Tickets per page (at most 200).
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// Where the page starts: the cursor printed under the previous page.
    #[arg(long)]
    cursor: Option<String>,
    #[arg(long)]
    json: bool,
}

pub(super) async fn execute(settings: &Settings, action: &TicketsAction) -> u8 {
    match action {
        TicketsAction::List { options } => list(settings, None, options).await,
        TicketsAction::Search { words, options } => {
            if let Some(terms) = SearchTerms::parse(words) {
                list(settings, Some(&terms), options).await
            } else {
                eprintln!("mailgate: {words:?} has no word to search for");
                exit::USAGE
            }
        }
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
        TicketsAction::Assign {
            key,
            email,
            none: _,
            author,
        } => {
            let action = TeamAction::Assign {
                assignee: email.as_deref(),
            };
            team::execute(settings, key, &author.name(), action).await
        }
        TicketsAction::Watchers {
            key,
            change,
            email,
            author,
        } => match (change, email) {
            (Some(change), Some(email)) => {
                let action = TeamAction::Watch {
                    change: *change,
                    email,
                };
                team::execute(settings, key, &author.name(), action).await
            }
            _ => watchers(settings, key).await,
        },
        TicketsAction::Merge { key, into, author } => {
            let action = TeamAction::Merge { into };
            team::execute(settings, key, &author.name(), action).await
        }
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

/// `mailgate tickets list`, and `search` with `terms`.
async fn list(settings: &Settings, terms: Option<&SearchTerms>, options: &ListOptions) -> u8 {
    let text = FilterText {
        status: options.status.as_deref(),
        product: options.product.as_deref(),
        severity: options.severity.as_deref(),
        request_type: options.request_type.as_deref(),
        reporter: options.reporter.as_deref(),
        assignee: options.assignee.as_deref(),
    };
    let filter = match ticket_filter(settings, &text) {
        Ok(filter) => filter,
        Err(bad) => {
            eprintln!("mailgate: {}", bad.message);
            if !bad.accepted.is_empty() {
                eprintln!("accepted: {}", bad.accepted.join(", "));
            }
            return exit::USAGE;
        }
    };
    let cursor = match options.cursor.as_deref().map(|c| (c, Cursor::parse(c))) {
        None => None,
        Some((_, Some(cursor))) => Some(cursor),
        Some((text, None)) => {
            eprintln!("mailgate: --cursor {text:?} is not a cursor of a previous page");
            return exit::USAGE;
        }
    };
    if options.limit == 0 || options.limit > MAX_PAGE {
        eprintln!("mailgate: --limit must be between 1 and {MAX_PAGE}");
        return exit::USAGE;
    }
    let store = match super::open_store(settings).await {
        Ok(store) => store,
        Err(status) => return status,
    };
    let page = match terms {
        None => store.ticket_page(&filter, options.limit, cursor).await,
        Some(terms) => {
            store
                .search_tickets(terms, &filter, options.limit, cursor)
                .await
        }
    };
    let page = match page {
        Ok(page) => page,
        Err(e) => {
            eprintln!("mailgate: {e}");
            return store_failure(&e);
        }
    };
    let mut out = std::io::stdout().lock();
    if options.json {
        for ticket in &page.tickets {
            let value = match terms {
                None => ticket_json(settings, ticket, false),
                Some(terms) => hit_json(settings, ticket, terms),
            };
            let _ = writeln!(out, "{value}");
        }
    } else {
        let _ = writeln!(
            out,
            "{:<10} {:<8} {:<9} {:<16} {:<28} SUMMARY",
            "KEY", "STATUS", "SEVERITY", "PRODUCTS", "REPORTER"
        );
        for t in &page.tickets {
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
            if let Some(snippet) = terms.and_then(|terms| snippet(t, terms)) {
                let _ = writeln!(out, "{:<10} {}", "", cut(&snippet, 110));
            }
        }
        let _ = writeln!(out, "{} ticket(s)", page.tickets.len());
    }
    // On standard error, so that the JSON lines stay JSON lines.
    if let Some(next) = page.next_cursor {
        eprintln!("more: --cursor {next}");
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

/// `mailgate tickets watchers KEY`: one address a line.
async fn watchers(settings: &Settings, key: &str) -> u8 {
    let store = match super::open_store(settings).await {
        Ok(store) => store,
        Err(status) => return status,
    };
    let status = match store.ticket(key).await {
        Ok(ticket) => {
            let mut out = std::io::stdout().lock();
            for watcher in &ticket.watchers {
                let _ = writeln!(out, "{}", watcher.email);
            }
            exit::OK
        }
        Err(StoreError::NotFound(why)) => {
            eprintln!("mailgate: {why}");
            exit::DATAERR
        }
        Err(e) => {
            eprintln!("mailgate: {e}");
            store_failure(&e)
        }
    };
    store.close().await;
    status
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
    writeln!(
        out,
        "Queue:        {}",
        ticket
            .queue
            .as_deref()
            .unwrap_or(crate::config::DEFAULT_QUEUE)
    )?;
    if let Some(assignee) = &ticket.assignee {
        writeln!(out, "Assignee:     {assignee}")?;
    }
    if let Some(into) = &ticket.merged_into {
        writeln!(out, "Merged into:  {into}")?;
    }
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
