//! The tracking page as HTML: pure functions from a ticket and a language to
//! a page. Templates are minijinja `.html` templates, so everything they
//! insert is escaped; comment bodies are plain text shown with their line
//! breaks (CSS `white-space: pre-wrap`), never read as HTML.

use std::collections::HashMap;
use std::sync::LazyLock;

use minijinja::Environment;
use serde::Serialize;

use crate::intake::Field;
use crate::model::{AuthorRole, Language, TicketStatus, Visibility, Vocabulary};
use crate::store::TicketRecord;

mod format;
mod negotiate;
mod strings;
#[cfg(test)]
mod tests;

use format::human_size;
pub(in crate::web) use format::{When, when};
pub use negotiate::negotiate;
pub use strings::Strings;
use strings::strings;

const TEMPLATES: &[(&str, &str)] = &[
    (
        "layout.html",
        include_str!("../../config/templates/web/layout.html"),
    ),
    (
        "ticket.html",
        include_str!("../../config/templates/web/ticket.html"),
    ),
    (
        "message.html",
        include_str!("../../config/templates/web/message.html"),
    ),
];

/// Built once. minijinja escapes what `.html` templates insert.
static TEMPLATE_ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .expect("built-in web templates are valid");
    }
    env
});

#[derive(Debug, Serialize)]
pub(in crate::web) struct FileLink {
    /// Linked relative to the page (`TOKEN/attachments/ID` from
    /// `/t/TOKEN`), so that the page works behind a proxy that serves it
    /// under a prefix.
    id: i64,
    name: String,
    size: String,
}

#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(in crate::web) enum Entry {
    Message {
        /// `customer` or `team`.
        role: &'static str,
        author: String,
        /// Said after the author: `Support team` after a team member's
        /// name, `original request` on the first message.
        tag: Option<&'static str>,
        at: When,
        text: String,
        files: Vec<FileLink>,
    },
    Event {
        at: When,
        what: String,
        from: String,
        to: String,
        /// The key of the ticket a follow-up opened.
        follow_up: Option<String>,
    },
}

#[derive(Serialize)]
struct TicketPage<'a> {
    lang: &'static str,
    t: &'static Strings,
    token: &'a str,
    key: &'a str,
    summary: &'a str,
    status: &'a str,
    status_label: &'a str,
    severity: &'a str,
    products: String,
    request_type: &'a str,
    created: When,
    updated: When,
    timeline: Vec<Entry>,
}

/// A stored status as the customer reads it; a status this version does
/// not know is shown as stored.
fn status_label(stored: &str, language: Language) -> &str {
    TicketStatus::parse(stored).map_or(stored, |status| status.label(language))
}

/// What a field change is called on the page.
fn field_label(field: &str, language: Language) -> String {
    let t = strings(language);
    match field {
        "status" => t.status,
        "severity" => t.severity,
        "products" => t.products,
        "request_type" => t.request_type,
        other => other,
    }
    .to_owned()
}

/// The customer's view of a ticket: its fields, then its first message,
/// public comments and public history in order of time, with the files of
/// public messages only. Internal notes, their files and private history
/// (delivery failures) never appear; neither does who in the team did what.
pub fn render_ticket(
    ticket: &TicketRecord,
    vocabulary: &Vocabulary,
    language: Language,
) -> Result<String, minijinja::Error> {
    let page = TicketPage {
        lang: language.as_str(),
        t: strings(language),
        token: &ticket.tracking_token,
        key: &ticket.key,
        summary: &ticket.summary,
        status: ticket.status.as_str(),
        status_label: ticket.status.label(language),
        severity: vocabulary.severities.label(&ticket.severity, language),
        products: (vocabulary.products)
            .labels(&ticket.products, language)
            .join(", "),
        request_type: (vocabulary.request_types).label(&ticket.request_type, language),
        created: when(&ticket.created_at, language),
        updated: when(&ticket.updated_at, language),
        timeline: timeline(ticket, vocabulary, language),
    };
    TEMPLATE_ENV.get_template("ticket.html")?.render(&page)
}

/// The public conversation of a ticket, as the tracking page and the
/// customer portal show it.
pub(in crate::web) fn timeline(
    ticket: &TicketRecord,
    vocabulary: &Vocabulary,
    language: Language,
) -> Vec<Entry> {
    let t = strings(language);
    let mut files: HashMap<Option<i64>, Vec<FileLink>> = HashMap::new();
    for attachment in ticket.public_attachments() {
        files
            .entry(attachment.comment_id)
            .or_default()
            .push(FileLink {
                id: attachment.id,
                name: attachment.filename.clone(),
                size: human_size(attachment.size, language),
            });
    }
    // (order key, entry): the first message first, then by time; the sort
    // is stable so that same-time entries keep their recorded order.
    let mut timeline: Vec<(&str, Entry)> = Vec::new();
    timeline.push((
        "",
        Entry::Message {
            role: "customer",
            author: ticket
                .reporter_name
                .clone()
                .unwrap_or_else(|| ticket.reporter_email.clone()),
            tag: Some(t.first_message),
            at: when(&ticket.created_at, language),
            text: ticket.description.trim_end().to_owned(),
            files: files.remove(&None).unwrap_or_default(),
        },
    ));
    for comment in ticket
        .comments
        .iter()
        .filter(|c| c.visibility == Visibility::Public)
    {
        let team = comment.author_role == AuthorRole::Team;
        let (author, tag) = match (&comment.author_name, team) {
            (Some(name), true) if !name.trim().is_empty() => (name.clone(), Some(t.team)),
            (Some(name), false) if !name.trim().is_empty() => (name.clone(), None),
            // Never an address of the team (or `api:NAME`): the team speaks
            // as the team.
            (_, true) => (t.team.to_owned(), None),
            (_, false) => (comment.author_email.clone(), None),
        };
        timeline.push((
            &comment.created_at,
            Entry::Message {
                role: if team { "team" } else { "customer" },
                author,
                tag,
                at: when(&comment.created_at, language),
                text: comment.body.trim_end().to_owned(),
                files: files.remove(&Some(comment.id)).unwrap_or_default(),
            },
        ));
    }
    for event in ticket.events.iter().filter(|e| e.public.0) {
        let field = event.field.as_deref().and_then(Field::parse);
        let value = |v: &Option<String>| -> String {
            let v = v.as_deref().unwrap_or_default();
            match field {
                _ if event.kind == "status" => status_label(v, language).to_owned(),
                Some(Field::Products) => (v.split(", ").filter(|p| !p.is_empty()))
                    .map(|p| vocabulary.products.label(p, language))
                    .collect::<Vec<_>>()
                    .join(", "),
                Some(field) => field.terms(vocabulary).label(v, language).to_owned(),
                None => v.to_owned(),
            }
        };
        let entry = match event.kind.as_str() {
            "status" | "field" => {
                let to = value(&event.new_value);
                Entry::Event {
                    at: when(&event.created_at, language),
                    what: field_label(event.field.as_deref().unwrap_or("status"), language),
                    from: value(&event.old_value),
                    to: if to.is_empty() { t.none.to_owned() } else { to },
                    follow_up: None,
                }
            }
            "follow-up" => Entry::Event {
                at: when(&event.created_at, language),
                what: String::new(),
                from: String::new(),
                to: String::new(),
                follow_up: Some(event.new_value.clone().unwrap_or_default()),
            },
            // A kind this page does not know how to tell: left out rather
            // than shown raw.
            _ => continue,
        };
        timeline.push((&event.created_at, entry));
    }
    timeline.sort_by(|a, b| a.0.cmp(b.0));
    timeline.into_iter().map(|(_, entry)| entry).collect()
}

/// The small pages: what this server is, not found, unavailable, error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    Home,
    NotFound,
    Unavailable,
    Error,
}

pub fn render_notice(notice: Notice, language: Language) -> String {
    let t = strings(language);
    let (title, text) = match notice {
        Notice::Home => (t.home_title, t.home_text),
        Notice::NotFound => (t.not_found_title, t.not_found_text),
        Notice::Unavailable => (t.unavailable_title, t.unavailable_text),
        Notice::Error => (t.error_title, t.error_text),
    };
    TEMPLATE_ENV
        .get_template("message.html")
        .and_then(|template| {
            template.render(minijinja::context! {
                lang => language.as_str(),
                title => title,
                text => text,
            })
        })
        // Fixed words in a fixed template: cannot fail, but a page is due.
        .unwrap_or_else(|_| format!("<!doctype html><title>{title}</title><p>{text}</p>"))
}
