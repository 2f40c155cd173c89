//! The tracking page as HTML: pure functions from a ticket and a language to
//! a page. Templates are minijinja `.html` templates, so everything they
//! insert is escaped; comment bodies are plain text shown with their line
//! breaks (CSS `white-space: pre-wrap`), never read as HTML.

use std::collections::HashMap;
use std::sync::LazyLock;

use minijinja::Environment;
use serde::Serialize;

use crate::intake::Language;
use crate::store::TicketRecord;

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

/// The language of a page from an `Accept-Language` header: the French or
/// English range with the highest q-value (the first one on a tie);
/// English when neither is acceptable or the header is missing.
pub fn negotiate(accept_language: Option<&str>) -> Language {
    let mut best: Option<(u16, Language)> = None;
    for item in accept_language.unwrap_or_default().split(',').take(64) {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or_default().trim();
        let mut quality = Some(1000);
        for parameter in parts {
            let parameter = parameter.trim();
            if let Some(value) = parameter
                .strip_prefix("q=")
                .or_else(|| parameter.strip_prefix("Q="))
            {
                quality = parse_quality(value.trim());
            }
        }
        let (Some(quality), Some(language)) = (quality, Language::parse(tag)) else {
            continue;
        };
        if quality > 0 && best.is_none_or(|(q, _)| quality > q) {
            best = Some((quality, language));
        }
    }
    best.map_or(Language::En, |(_, language)| language)
}

/// A q-value (RFC 9110 12.4.2) in thousandths: `1`, `1.000`, `0`, `0.5`.
fn parse_quality(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// The words of the pages in one language.
#[derive(Debug, Serialize)]
pub struct Strings {
    request: &'static str,
    details: &'static str,
    status: &'static str,
    severity: &'static str,
    products: &'static str,
    request_type: &'static str,
    created: &'static str,
    updated: &'static str,
    timeline: &'static str,
    team: &'static str,
    first_message: &'static str,
    no_text: &'static str,
    attachments: &'static str,
    follow_up: &'static str,
    none: &'static str,
    private: &'static str,
    home_title: &'static str,
    home_text: &'static str,
    not_found_title: &'static str,
    not_found_text: &'static str,
    unavailable_title: &'static str,
    unavailable_text: &'static str,
    error_title: &'static str,
    error_text: &'static str,
    #[serde(skip)]
    months: [&'static str; 12],
    #[serde(skip)]
    at: &'static str,
}

const EN: Strings = Strings {
    request: "Support request",
    details: "Details",
    status: "Status",
    severity: "Severity",
    products: "Products",
    request_type: "Request type",
    created: "Opened",
    updated: "Last update",
    timeline: "Conversation",
    team: "Support team",
    first_message: "original request",
    no_text: "(no text)",
    attachments: "Attachments",
    follow_up: "Continued in a new request:",
    none: "—",
    private: "This page is private: anyone who has its link can read it, so keep it to yourself. To add information, reply to our emails.",
    home_title: "Support request tracking",
    home_text: "This server shows how support requests are progressing. Each request has its own private link, sent by email when the request was received.",
    not_found_title: "Page not found",
    not_found_text: "This link does not lead to a request. Check that the whole address from our email was copied, or reply to that email to reach us.",
    unavailable_title: "Temporarily unavailable",
    unavailable_text: "This page cannot be shown right now. Please try again in a few minutes.",
    error_title: "Something went wrong",
    error_text: "This page cannot be shown. Please try again later.",
    months: [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ],
    at: ",",
};

const FR: Strings = Strings {
    request: "Demande d'assistance",
    details: "Détails",
    status: "État",
    severity: "Gravité",
    products: "Produits",
    request_type: "Type de demande",
    created: "Ouverte le",
    updated: "Mise à jour",
    timeline: "Échanges",
    team: "Équipe support",
    first_message: "demande initiale",
    no_text: "(sans texte)",
    attachments: "Pièces jointes",
    follow_up: "Suite dans une nouvelle demande :",
    none: "—",
    private: "Cette page est privée : toute personne qui a son lien peut la lire, ne le partagez pas. Pour ajouter des informations, répondez à nos courriels.",
    home_title: "Suivi des demandes d'assistance",
    home_text: "Ce serveur montre l'avancement des demandes d'assistance. Chaque demande a son propre lien privé, envoyé par courriel à sa réception.",
    not_found_title: "Page introuvable",
    not_found_text: "Ce lien ne mène à aucune demande. Vérifiez que l'adresse de notre courriel a été copiée en entier, ou répondez à ce courriel pour nous joindre.",
    unavailable_title: "Momentanément indisponible",
    unavailable_text: "Cette page ne peut pas être affichée pour le moment. Merci de réessayer dans quelques minutes.",
    error_title: "Une erreur est survenue",
    error_text: "Cette page ne peut pas être affichée. Merci de réessayer plus tard.",
    months: [
        "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
        "déc.",
    ],
    at: " à",
};

fn strings(language: Language) -> &'static Strings {
    match language {
        Language::En => &EN,
        Language::Fr => &FR,
    }
}

/// A status as the customer reads it.
pub fn status_label(status: &str, language: Language) -> &str {
    match (language, status) {
        (Language::En, "open") => "Open",
        (Language::En, "pending") => "Waiting for your reply",
        (Language::En, "resolved") => "Resolved",
        (Language::En, "closed") => "Closed",
        (Language::En, "held") => "Awaiting approval",
        (Language::Fr, "open") => "Ouverte",
        (Language::Fr, "pending") => "En attente de votre réponse",
        (Language::Fr, "resolved") => "Résolue",
        (Language::Fr, "closed") => "Fermée",
        (Language::Fr, "held") => "En attente de validation",
        (_, other) => other,
    }
}

/// A date as stored (RFC 3339), for `datetime` and for reading.
#[derive(Debug, Serialize)]
struct When {
    iso: String,
    text: String,
}

fn when(stored: &str, language: Language) -> When {
    use chrono::{Datelike, Timelike};
    let text = match chrono::DateTime::parse_from_rfc3339(stored) {
        Ok(at) => {
            let at = at.with_timezone(&chrono::Utc);
            let t = strings(language);
            format!(
                "{} {} {}{} {:02}:{:02} UTC",
                at.day(),
                t.months[at.month0() as usize],
                at.year(),
                t.at,
                at.hour(),
                at.minute()
            )
        }
        Err(_) => stored.to_owned(),
    };
    When {
        iso: stored.to_owned(),
        text,
    }
}

/// A size for people: `812 B`, `12 KB`, `3.4 MB` (`3,4 Mo` in French).
fn human_size(bytes: i64, language: Language) -> String {
    let units = match language {
        Language::En => ["B", "KB", "MB", "GB"],
        Language::Fr => ["o", "ko", "Mo", "Go"],
    };
    let mut value = bytes.max(0) as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < units.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    let text = if unit == 0 || value >= 10.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    };
    let text = match language {
        Language::Fr => text.replace('.', ","),
        Language::En => text,
    };
    format!("{text} {}", units[unit])
}

#[derive(Debug, Serialize)]
struct FileLink {
    /// Linked relative to the page (`TOKEN/attachments/ID` from
    /// `/t/TOKEN`), so that the page works behind a proxy that serves it
    /// under a prefix.
    id: i64,
    name: String,
    size: String,
}

#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Entry {
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
    language: Language,
) -> Result<String, minijinja::Error> {
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
    for comment in ticket.comments.iter().filter(|c| c.visibility == "public") {
        let team = comment.author_role == "team";
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
        let value = |v: &Option<String>| -> String {
            let v = v.as_deref().unwrap_or_default();
            if event.kind == "status" {
                status_label(v, language).to_owned()
            } else {
                v.to_owned()
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

    let page = TicketPage {
        lang: language.as_str(),
        t,
        token: &ticket.tracking_token,
        key: &ticket.key,
        summary: &ticket.summary,
        status: &ticket.status,
        status_label: status_label(&ticket.status, language),
        severity: &ticket.severity,
        products: ticket.products.join(", "),
        request_type: &ticket.request_type,
        created: when(&ticket.created_at, language),
        updated: when(&ticket.updated_at, language),
        timeline: timeline.into_iter().map(|(_, entry)| entry).collect(),
    };
    TEMPLATE_ENV.get_template("ticket.html")?.render(&page)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{AttachmentRecord, CommentRecord, EventRecord};

    #[test]
    fn accept_language() {
        for (header, expected) in [
            (None, Language::En),
            (Some(""), Language::En),
            (Some("fr"), Language::Fr),
            (Some("fr-FR"), Language::Fr),
            (Some("FR-ca"), Language::Fr),
            (Some("en-US,en;q=0.9,fr;q=0.8"), Language::En),
            (Some("fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7"), Language::Fr),
            (Some("de-DE,de;q=0.9,fr;q=0.5,en;q=0.4"), Language::Fr),
            (Some("en;q=0.5, fr;q=0.8"), Language::Fr),
            (Some("fr;q=0, en;q=0.1"), Language::En),
            (Some("fr;q=0"), Language::En),
            (Some("de, it"), Language::En),
            (Some("*"), Language::En),
            (Some("fr;q=2, en;q=0.3"), Language::En),
            (Some("fr;q=0.x"), Language::En),
            (Some("fr ; q=0.7 , en ; q=0.6"), Language::Fr),
            (Some("fr;q=0.5, en;q=0.5"), Language::Fr),
            (Some("fr-FR;Q=1.000"), Language::Fr),
        ] {
            assert_eq!(negotiate(header), expected, "{header:?}");
        }
    }

    #[test]
    fn qualities() {
        assert_eq!(parse_quality("1"), Some(1000));
        assert_eq!(parse_quality("1.000"), Some(1000));
        assert_eq!(parse_quality("1.5"), None);
        assert_eq!(parse_quality("0.25"), Some(250));
        assert_eq!(parse_quality("0."), Some(0));
        assert_eq!(parse_quality("0.0001"), None);
        assert_eq!(parse_quality(""), None);
    }

    #[test]
    fn sizes_and_dates() {
        assert_eq!(human_size(812, Language::En), "812 B");
        assert_eq!(human_size(12_345, Language::En), "12 KB");
        assert_eq!(human_size(3_400_000, Language::Fr), "3,4 Mo");
        assert_eq!(
            when("2024-05-03T14:02:07.123Z", Language::En).text,
            "3 May 2024, 14:02 UTC"
        );
        assert_eq!(
            when("2024-08-13T09:05:00Z", Language::Fr).text,
            "13 août 2024 à 09:05 UTC"
        );
        assert_eq!(when("yesterday", Language::Fr).text, "yesterday");
    }

    fn comment(id: i64, role: &str, visibility: &str, body: &str, at: &str) -> CommentRecord {
        CommentRecord {
            id,
            author_email: if role == "team" {
                "api:deploy-bot".into()
            } else {
                "marie@acme.fr".into()
            },
            author_name: None,
            author_role: role.into(),
            body: body.into(),
            visibility: visibility.into(),
            created_at: at.into(),
        }
    }

    fn attachment(id: i64, name: &str, comment_id: Option<i64>) -> AttachmentRecord {
        AttachmentRecord {
            id,
            filename: name.into(),
            content_type: "text/plain".into(),
            size: 1234,
            sha256: "0".repeat(64),
            content_id: None,
            comment_id,
        }
    }

    fn ticket() -> TicketRecord {
        TicketRecord {
            id: 1,
            key: "SUP-7".into(),
            tracking_token: "ab".repeat(20),
            status: "resolved".into(),
            summary: "Export <script>document.title='pwned'</script> broken".into(),
            description: "Line one\n<b>not bold</b>\n\nLine & three".into(),
            severity: "high".into(),
            products: vec!["Atlas".into(), "Nova".into()],
            request_type: "support".into(),
            reporter_email: "marie@acme.fr".into(),
            reporter_name: Some("Marie Dupont".into()),
            reply_to: None,
            language: Some("fr".into()),
            watchers: Vec::new(),
            unrecognized: Vec::new(),
            attachments: vec![
                attachment(10, "first.csv", None),
                attachment(11, "internal-secret.log", Some(2)),
                attachment(12, "screenshot.png", Some(3)),
            ],
            comments: vec![
                comment(
                    1,
                    "team",
                    "public",
                    "We are looking into it.",
                    "2024-05-03T10:00:00.000Z",
                ),
                comment(
                    2,
                    "team",
                    "internal",
                    "Customer is on the old build",
                    "2024-05-03T10:05:00.000Z",
                ),
                comment(
                    3,
                    "customer",
                    "public",
                    "Here is a screenshot.",
                    "2024-05-03T11:00:00.000Z",
                ),
            ],
            events: vec![
                EventRecord {
                    kind: "status".into(),
                    field: Some("status".into()),
                    old_value: Some("open".into()),
                    new_value: Some("resolved".into()),
                    detail: None,
                    actor: "api:deploy-bot".into(),
                    public: 1_i64.into(),
                    created_at: "2024-05-03T12:00:00.000Z".into(),
                },
                EventRecord {
                    kind: "delivery-failure".into(),
                    field: None,
                    old_value: None,
                    new_value: None,
                    detail: Some("reply: 550 mailbox unknown".into()),
                    actor: "mailgate".into(),
                    public: 0_i64.into(),
                    created_at: "2024-05-03T12:30:00.000Z".into(),
                },
            ],
            follows: None,
            replies: Vec::new(),
            created_at: "2024-05-03T09:00:00.000Z".into(),
            updated_at: "2024-05-03T12:00:00.000Z".into(),
        }
    }

    #[test]
    fn the_page_escapes_and_shows_only_what_is_public() {
        let html = render_ticket(&ticket(), Language::En).unwrap();
        assert!(html.contains("<html lang=\"en\">"));
        assert!(html.contains("SUP-7"));
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;"));
        assert!(!html.contains("<b>not bold"));
        assert!(html.contains("&lt;b&gt;not bold"));
        assert!(html.contains("Line &amp; three"));
        // Line breaks are kept as they are, inside a pre-wrap block.
        assert!(html.contains("Line one\n"));
        assert!(html.contains("We are looking into it."));
        assert!(html.contains("Here is a screenshot."));
        assert!(!html.contains("old build"));
        assert!(!html.contains("internal-secret"));
        assert!(!html.contains("550 mailbox"));
        assert!(!html.contains("deploy-bot"));
        assert!(html.contains(&format!("href=\"{}/attachments/10\"", "ab".repeat(20))));
        assert!(html.contains("/attachments/12\""));
        assert!(!html.contains("/attachments/11\""));
        assert!(html.contains("Resolved"));
        assert!(html.contains("Atlas, Nova"));
        assert!(html.contains("Support team"));
        assert!(!html.contains("Support team</span> <span class=\"tag\">· Support team"));
        assert_eq!(html.matches("Support team").count(), 1, "{html}");
        // Order: the first message, the team's reply, the customer's, then
        // the status change.
        let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("{s} missing"));
        assert!(at("Line one") < at("We are looking"));
        assert!(at("We are looking") < at("Here is a screenshot"));
        assert!(at("Here is a screenshot") < at("Open →"));
    }

    #[test]
    fn the_page_speaks_french() {
        let html = render_ticket(&ticket(), Language::Fr).unwrap();
        assert!(html.contains("<html lang=\"fr\">"));
        assert!(html.contains("Résolue"));
        assert!(html.contains("Ouverte →"));
        assert!(html.contains("Équipe support"));
        assert!(html.contains("Gravité"));
        assert!(html.contains("3 mai 2024 à 09:00 UTC"));
    }

    #[test]
    fn notices() {
        let html = render_notice(Notice::NotFound, Language::Fr);
        assert!(html.contains("Page introuvable"));
        assert!(html.contains("name=\"viewport\""));
        assert!(render_notice(Notice::Home, Language::En).contains("Support request tracking"));
    }
}
