//! Building the confirmation to a customer and the notification to the
//! support team: templates (French and English, text and HTML) rendered
//! with minijinja, assembled into a MIME message with lettre's builder,
//! which encodes headers (RFC 2047) so that no value can inject a header.

use std::path::Path;
use std::time::SystemTime;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use minijinja::Environment;
use serde::Serialize;

use crate::intake::Language;
use crate::intake::text::collapse_whitespace;

/// The built-in templates, overridden by files of the same name in a
/// templates folder.
const BUILTIN: &[(&str, &str)] = &[
    (
        "confirmation.en.txt",
        include_str!("../../config/templates/confirmation.en.txt"),
    ),
    (
        "confirmation.fr.txt",
        include_str!("../../config/templates/confirmation.fr.txt"),
    ),
    (
        "confirmation.en.html",
        include_str!("../../config/templates/confirmation.en.html"),
    ),
    (
        "confirmation.fr.html",
        include_str!("../../config/templates/confirmation.fr.html"),
    ),
    (
        "notification.en.txt",
        include_str!("../../config/templates/notification.en.txt"),
    ),
    (
        "notification.fr.txt",
        include_str!("../../config/templates/notification.fr.txt"),
    ),
    (
        "registration.en.txt",
        include_str!("../../config/templates/registration.en.txt"),
    ),
    (
        "registration.fr.txt",
        include_str!("../../config/templates/registration.fr.txt"),
    ),
    (
        "reply.en.txt",
        include_str!("../../config/templates/reply.en.txt"),
    ),
    (
        "reply.fr.txt",
        include_str!("../../config/templates/reply.fr.txt"),
    ),
    (
        "status.en.txt",
        include_str!("../../config/templates/status.en.txt"),
    ),
    (
        "status.fr.txt",
        include_str!("../../config/templates/status.fr.txt"),
    ),
    (
        "comment.en.txt",
        include_str!("../../config/templates/comment.en.txt"),
    ),
    (
        "comment.fr.txt",
        include_str!("../../config/templates/comment.fr.txt"),
    ),
    (
        "follow-up.en.txt",
        include_str!("../../config/templates/follow-up.en.txt"),
    ),
    (
        "follow-up.fr.txt",
        include_str!("../../config/templates/follow-up.fr.txt"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template {0}: {1}")]
    Template(String, String),
    #[error("address {0:?}: {1}")]
    Address(String, String),
    #[error("cannot build the message: {0}")]
    Message(String),
}

/// The compiled templates. `.html` templates escape what they insert.
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    pub fn builtin() -> Self {
        let mut env = Environment::new();
        for (name, source) in BUILTIN {
            env.add_template(name, source)
                .expect("built-in templates are valid");
        }
        Templates { env }
    }

    /// The built-in templates, each replaced by the file of the same name in
    /// `dir` when there is one. Every template is checked now, so a broken
    /// override is refused at start-up or reload, not at the first ticket.
    pub fn load(dir: &Path) -> Result<Self, RenderError> {
        let mut env = Environment::new();
        for (name, builtin) in BUILTIN {
            let path = dir.join(name);
            let source = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => (*builtin).to_owned(),
                Err(e) => {
                    return Err(RenderError::Template(
                        path.display().to_string(),
                        e.to_string(),
                    ));
                }
            };
            env.add_template_owned(name.to_string(), source)
                .map_err(|e| RenderError::Template(path.display().to_string(), e.to_string()))?;
        }
        Ok(Templates { env })
    }

    fn render(&self, name: &str, ticket: &impl Serialize) -> Result<String, RenderError> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(ticket))
            .map_err(|e| RenderError::Template(name.to_owned(), e.to_string()))
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AttachmentLine {
    pub filename: String,
    pub content_type: String,
    pub size: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UnrecognizedLine {
    pub field: String,
    pub value: String,
    /// The names the customer could have written.
    pub accepted: Vec<String>,
}

/// What the templates show of a ticket.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TicketFacts {
    pub key: String,
    pub summary: String,
    pub description: String,
    pub severity: String,
    pub products: Vec<String>,
    pub request_type: String,
    pub reporter: String,
    pub reporter_name: Option<String>,
    pub watchers: Vec<String>,
    pub attachments: Vec<AttachmentLine>,
    pub unrecognized: Vec<UnrecognizedLine>,
    pub tracking_url: String,
    /// The line that ties replies to the ticket when headers and subject
    /// are lost (see `intake::thread`).
    pub marker: String,
}

/// What the templates of a conversation's mail show: the ticket now, and
/// what just happened.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ConversationFacts {
    pub key: String,
    pub summary: String,
    pub status: String,
    /// The status in the mail's language.
    pub status_label: String,
    pub severity: String,
    pub products: Vec<String>,
    pub request_type: String,
    pub reporter: String,
    pub reporter_name: Option<String>,
    pub watchers: Vec<String>,
    pub tracking_url: String,
    pub marker: String,
    /// Who wrote, and what.
    pub author: String,
    pub text: String,
    pub attachments: Vec<AttachmentLine>,
    pub changes: Vec<crate::store::FieldChange>,
    pub reopened: bool,
    pub reopen_days: i64,
}

/// A status as customers read it.
pub fn status_label(status: &str, language: Language) -> &str {
    match (language, status) {
        (Language::En, "pending") => "waiting for your reply",
        (Language::Fr, "open") => "ouverte",
        (Language::Fr, "pending") => "en attente de votre réponse",
        (Language::Fr, "resolved") => "résolue",
        (Language::Fr, "closed") => "fermée",
        (Language::Fr, "held") => "en attente de validation",
        (Language::En, "held") => "awaiting approval",
        (_, other) => other,
    }
}

/// A file sent with a team reply.
pub struct FileToSend<'a> {
    pub filename: &'a str,
    pub content_type: &'a str,
    pub data: &'a [u8],
}

/// Who sends, and how the message threads.
#[derive(Debug, Clone)]
pub struct Envelope<'a> {
    pub from: &'a str,
    pub from_name: Option<&'a str>,
    /// Our Message-ID for this message, without angle brackets.
    pub message_id: &'a str,
    /// The customer's Message-ID this answers, as they sent it.
    pub in_reply_to: Option<&'a str>,
    pub references: &'a [String],
    pub date: SystemTime,
}

fn mailbox(name: Option<&str>, address: &str) -> Result<Mailbox, RenderError> {
    let address = address
        .parse()
        .map_err(|e: lettre::address::AddressError| {
            RenderError::Address(address.to_owned(), e.to_string())
        })?;
    Ok(Mailbox::new(name.map(collapse_whitespace), address))
}

/// Marks a message as sent by a machine (RFC 3834 `Auto-Submitted`:
/// `auto-replied` or `auto-generated`) and asks Exchange not to answer it.
trait Automatic {
    fn automatic(self, kind: &str) -> Self;
}

impl Automatic for lettre::message::MessageBuilder {
    fn automatic(self, kind: &str) -> Self {
        self.raw_header(raw_header("Auto-Submitted", kind))
            .raw_header(raw_header("X-Auto-Response-Suppress", "All"))
    }
}

fn raw_header(name: &'static str, value: &str) -> HeaderValue {
    HeaderValue::new(
        HeaderName::new_from_ascii_str(name),
        collapse_whitespace(value),
    )
}

/// The subject of everything about a ticket: `[SUP-42] summary`. The tag
/// threads replies back; the summary is one line whatever it contained.
pub fn subject(key: &str, summary: &str) -> String {
    format!("[{key}] {}", collapse_whitespace(summary))
}

fn template_name(kind: &str, language: Language, ext: &str) -> String {
    format!("{kind}.{}.{ext}", language.as_str())
}

fn base(
    envelope: &Envelope<'_>,
    to: Mailbox,
    subject: String,
) -> Result<lettre::message::MessageBuilder, RenderError> {
    let mut builder = lettre::Message::builder()
        .from(mailbox(envelope.from_name, envelope.from)?)
        .to(to)
        .subject(subject)
        .date(envelope.date)
        .message_id(Some(format!("<{}>", envelope.message_id)));
    if let Some(parent) = envelope.in_reply_to {
        builder = builder.in_reply_to(format!("<{parent}>"));
    }
    // One header with every id: lettre's `references` replaces the header
    // on each call, it does not append.
    if !envelope.references.is_empty() {
        let ids: Vec<String> = envelope
            .references
            .iter()
            .map(|r| format!("<{r}>"))
            .collect();
        builder = builder.references(ids.join(" "));
    }
    Ok(builder)
}

/// The confirmation to the customer: text and HTML alternatives, marked as
/// an automatic answer (RFC 3834 5.: `Auto-Submitted: auto-replied`) and
/// asking Exchange not to answer it (`X-Auto-Response-Suppress: All`).
pub fn confirmation(
    templates: &Templates,
    ticket: &TicketFacts,
    language: Language,
    envelope: &Envelope<'_>,
) -> Result<Vec<u8>, RenderError> {
    let text = templates.render(&template_name("confirmation", language, "txt"), ticket)?;
    let html = templates.render(&template_name("confirmation", language, "html"), ticket)?;
    let to = mailbox(ticket.reporter_name.as_deref(), &ticket.reporter)?;
    let message = base(envelope, to, subject(&ticket.key, &ticket.summary))?
        .automatic("auto-replied")
        .raw_header(raw_header("X-Mailgate-Ticket", &ticket.key))
        .multipart(MultiPart::alternative_plain_html(text, html))
        .map_err(|e| RenderError::Message(e.to_string()))?;
    Ok(message.formatted())
}

/// The one polite answer to an unknown sender under the `registered`
/// policy: how to get an account. No ticket key: no ticket was made.
pub fn registration(
    templates: &Templates,
    ticket: &TicketFacts,
    language: Language,
    envelope: &Envelope<'_>,
) -> Result<Vec<u8>, RenderError> {
    let text = templates.render(&template_name("registration", language, "txt"), ticket)?;
    let to = mailbox(ticket.reporter_name.as_deref(), &ticket.reporter)?;
    let message = base(
        envelope,
        to,
        format!("Re: {}", collapse_whitespace(&ticket.summary)),
    )?
    .automatic("auto-replied")
    .singlepart(
        SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .body(text),
    )
    .map_err(|e| RenderError::Message(e.to_string()))?;
    Ok(message.formatted())
}

/// What every mail to the team carries: headers a mail filter can use, and
/// `Reply-To` the support address when agents answer through mailgate
/// (their reply goes to the customer from there, threaded and recorded),
/// else the reporter.
#[allow(clippy::too_many_arguments)]
fn team_mail(
    envelope: &Envelope<'_>,
    team: &str,
    subject: String,
    reply_to_us: bool,
    reporter: (Option<&str>, &str),
    key: &str,
    severity: &str,
    products: &[String],
    text: String,
) -> Result<Vec<u8>, RenderError> {
    let reply_to = if reply_to_us {
        mailbox(envelope.from_name, envelope.from)?
    } else {
        mailbox(reporter.0, reporter.1)?
    };
    let message = base(envelope, mailbox(None, team)?, subject)?
        .reply_to(reply_to)
        .automatic("auto-generated")
        .raw_header(raw_header("X-Mailgate-Ticket", key))
        .raw_header(raw_header("X-Mailgate-Severity", severity))
        .raw_header(raw_header("X-Mailgate-Products", &products.join(", ")))
        .singlepart(text_part(text))
        .map_err(|e| RenderError::Message(e.to_string()))?;
    Ok(message.formatted())
}

/// The notification of a new ticket to the support team: the facts and the
/// description.
pub fn team_notification(
    templates: &Templates,
    ticket: &TicketFacts,
    language: Language,
    team: &str,
    reply_to_us: bool,
    envelope: &Envelope<'_>,
) -> Result<Vec<u8>, RenderError> {
    let text = templates.render(&template_name("notification", language, "txt"), ticket)?;
    team_mail(
        envelope,
        team,
        subject(&ticket.key, &ticket.summary),
        reply_to_us,
        (ticket.reporter_name.as_deref(), &ticket.reporter),
        &ticket.key,
        &ticket.severity,
        &ticket.products,
        text,
    )
}

fn text_part(text: String) -> SinglePart {
    SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(text)
}

fn with_files(text: String, files: &[FileToSend<'_>]) -> Result<MultiPart, RenderError> {
    let mut mixed = MultiPart::mixed().singlepart(text_part(text));
    for file in files {
        let content_type = ContentType::parse(file.content_type)
            .unwrap_or(ContentType::parse("application/octet-stream").expect("valid type"));
        mixed = mixed.singlepart(
            lettre::message::Attachment::new(file.filename.to_owned())
                .body(file.data.to_vec(), content_type),
        );
    }
    Ok(mixed)
}

/// The customer and watchers, who hear about their ticket.
fn customer_message(
    facts: &ConversationFacts,
    envelope: &Envelope<'_>,
) -> Result<lettre::message::MessageBuilder, RenderError> {
    let mut builder = base(
        envelope,
        mailbox(facts.reporter_name.as_deref(), &facts.reporter)?,
        format!("Re: {}", subject(&facts.key, &facts.summary)),
    )?
    .raw_header(raw_header("X-Mailgate-Ticket", &facts.key));
    for watcher in &facts.watchers {
        builder = builder.cc(mailbox(None, watcher)?);
    }
    Ok(builder)
}

/// A public reply from the team to the customer and watchers, with its
/// files. Written by a person: no `Auto-Submitted`.
pub fn team_reply(
    templates: &Templates,
    facts: &ConversationFacts,
    language: Language,
    envelope: &Envelope<'_>,
    files: &[FileToSend<'_>],
) -> Result<Vec<u8>, RenderError> {
    let text = templates.render(&template_name("reply", language, "txt"), facts)?;
    let builder = customer_message(facts, envelope)?;
    let message = if files.is_empty() {
        builder.singlepart(text_part(text))
    } else {
        builder.multipart(with_files(text, files)?)
    }
    .map_err(|e| RenderError::Message(e.to_string()))?;
    Ok(message.formatted())
}

/// A status change told to the customer and watchers. With a message from
/// the team it is a person's answer; without, an automatic notice.
pub fn status_change(
    templates: &Templates,
    facts: &ConversationFacts,
    language: Language,
    envelope: &Envelope<'_>,
) -> Result<Vec<u8>, RenderError> {
    let text = templates.render(&template_name("status", language, "txt"), facts)?;
    let mut builder = customer_message(facts, envelope)?;
    if facts.text.is_empty() {
        builder = builder.automatic("auto-generated");
    }
    let message = builder
        .singlepart(text_part(text))
        .map_err(|e| RenderError::Message(e.to_string()))?;
    Ok(message.formatted())
}

/// The acknowledgement of a follow-up (`tickets.confirm_follow_ups`).
pub fn follow_up_ack(
    templates: &Templates,
    facts: &ConversationFacts,
    language: Language,
    envelope: &Envelope<'_>,
) -> Result<Vec<u8>, RenderError> {
    let text = templates.render(&template_name("follow-up", language, "txt"), facts)?;
    let message = base(
        envelope,
        mailbox(facts.reporter_name.as_deref(), &facts.reporter)?,
        format!("Re: {}", subject(&facts.key, &facts.summary)),
    )?
    .automatic("auto-replied")
    .raw_header(raw_header("X-Mailgate-Ticket", &facts.key))
    .singlepart(text_part(text))
    .map_err(|e| RenderError::Message(e.to_string()))?;
    Ok(message.formatted())
}

/// A follow-up told to the team: what was written, what changed.
pub fn follow_up_notification(
    templates: &Templates,
    facts: &ConversationFacts,
    language: Language,
    team: &str,
    reply_to_us: bool,
    envelope: &Envelope<'_>,
) -> Result<Vec<u8>, RenderError> {
    let text = templates.render(&template_name("comment", language, "txt"), facts)?;
    team_mail(
        envelope,
        team,
        format!("Re: {}", subject(&facts.key, &facts.summary)),
        reply_to_us,
        (facts.reporter_name.as_deref(), &facts.reporter),
        &facts.key,
        &facts.severity,
        &facts.products,
        text,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::parse::parse;

    fn ticket() -> TicketFacts {
        TicketFacts {
            key: "SUP-42".into(),
            summary: "Export planté".into(),
            description: "L'export CSV est vide.".into(),
            severity: "high".into(),
            products: vec!["Atlas".into(), "Nova".into()],
            request_type: "support".into(),
            reporter: "marie.dupont@acme.fr".into(),
            reporter_name: Some("Marie Dupont".into()),
            watchers: vec!["paul@acme.fr".into()],
            attachments: vec![AttachmentLine {
                filename: "export.csv".into(),
                content_type: "text/csv".into(),
                size: 7,
            }],
            unrecognized: vec![UnrecognizedLine {
                field: "products".into(),
                value: "Zephyr".into(),
                accepted: vec![
                    "Atlas".into(),
                    "Helios".into(),
                    "Nova".into(),
                    "Orbit".into(),
                ],
            }],
            tracking_url: "https://support.example.com/t/0123abcd".into(),
            marker: "[ref:SUP-42:0123456789]".into(),
        }
    }

    fn envelope<'a>(references: &'a [String]) -> Envelope<'a> {
        Envelope {
            from: "support@example.com",
            from_name: Some("Support ACME"),
            message_id: "sup-42.confirmation.x1y2@example.com",
            in_reply_to: Some("CAF=abc@mail.acme.fr"),
            references,
            date: SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_795_000_000),
        }
    }

    #[test]
    fn confirmation_threads_and_says_it_is_automatic() {
        let refs = vec!["CAF=abc@mail.acme.fr".to_owned()];
        let raw = confirmation(
            &Templates::builtin(),
            &ticket(),
            Language::Fr,
            &envelope(&refs),
        )
        .unwrap();
        let mail = parse(&raw);
        assert_eq!(mail.subject.as_deref(), Some("[SUP-42] Export planté"));
        assert_eq!(mail.header("auto-submitted"), Some("auto-replied"));
        assert_eq!(mail.header("x-auto-response-suppress"), Some("All"));
        assert_eq!(
            mail.header("message-id"),
            Some("<sup-42.confirmation.x1y2@example.com>")
        );
        assert_eq!(mail.header("in-reply-to"), Some("<CAF=abc@mail.acme.fr>"));
        assert_eq!(mail.header("references"), Some("<CAF=abc@mail.acme.fr>"));
        assert_eq!(mail.to[0].email, "marie.dupont@acme.fr");
        let text = mail.text_body.unwrap();
        for expected in [
            "SUP-42",
            "Export planté",
            "Atlas, Nova",
            "export.csv (7 octets)",
            "https://support.example.com/t/0123abcd",
            "« Zephyr »",
            "Atlas, Helios, Nova, Orbit",
            "gardant [SUP-42]",
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} missing from:\n{text}"
            );
        }
        // The link survives HTML escaping (`/` becomes `&#x2f;`).
        let html = crate::intake::body::html_to_text(&mail.html_body.unwrap());
        assert!(
            html.contains("<https://support.example.com/t/0123abcd>"),
            "{html}"
        );
    }

    #[test]
    fn english_confirmation() {
        let raw = confirmation(
            &Templates::builtin(),
            &ticket(),
            Language::En,
            &envelope(&[]),
        )
        .unwrap();
        let text = parse(&raw).text_body.unwrap();
        assert!(text.contains("filed it as ticket SUP-42"), "{text}");
        assert!(text.contains("keep [SUP-42] in the subject"), "{text}");
    }

    #[test]
    fn customer_text_cannot_inject_headers_or_markup() {
        let mut t = ticket();
        t.summary = "Hello\r\nBcc: victim@evil.example\r\nX-Injected: yes".into();
        t.reporter_name = Some("Eve\r\nBcc: other@evil.example".into());
        t.unrecognized[0].value = "<script>alert(1)</script>".into();
        let raw = confirmation(&Templates::builtin(), &t, Language::En, &envelope(&[])).unwrap();
        let mail = parse(&raw);
        assert!(
            !mail.has_header("bcc") && !mail.has_header("x-injected"),
            "{}",
            String::from_utf8_lossy(&raw)
        );
        assert_eq!(
            mail.subject.as_deref(),
            Some("[SUP-42] Hello Bcc: victim@evil.example X-Injected: yes")
        );
        let html = mail.html_body.unwrap();
        assert!(
            !html.contains("<script>") && html.contains("&lt;script&gt;"),
            "{html}"
        );
    }

    #[test]
    fn team_notification_has_filter_headers_and_replies_to_the_reporter() {
        let raw = team_notification(
            &Templates::builtin(),
            &ticket(),
            Language::En,
            "team@example.com",
            false,
            &envelope(&[]),
        )
        .unwrap();
        let mail = parse(&raw);
        assert_eq!(mail.header("x-mailgate-ticket"), Some("SUP-42"));
        assert_eq!(mail.header("x-mailgate-severity"), Some("high"));
        assert_eq!(mail.header("x-mailgate-products"), Some("Atlas, Nova"));
        assert_eq!(mail.header("auto-submitted"), Some("auto-generated"));
        assert_eq!(mail.reply_to.unwrap().email, "marie.dupont@acme.fr");
        assert_eq!(mail.to[0].email, "team@example.com");
        let text = mail.text_body.unwrap();
        for expected in [
            "Marie Dupont <marie.dupont@acme.fr>",
            "L'export CSV est vide.",
            "paul@acme.fr",
            "export.csv (text/csv, 7 bytes)",
            "Zephyr",
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} missing from:\n{text}"
            );
        }
    }

    #[test]
    fn our_own_confirmation_coming_back_is_a_loop_for_intake() {
        let raw = confirmation(
            &Templates::builtin(),
            &ticket(),
            Language::En,
            &envelope(&[]),
        )
        .unwrap();
        let robot =
            crate::intake::classify::classify(&parse(&raw), &["support@example.com".to_owned()]);
        assert!(robot.is_some());
    }

    #[test]
    fn overrides_replace_built_ins_and_broken_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("confirmation.en.txt"),
            "Ticket {{ key }} noted.",
        )
        .unwrap();
        let templates = Templates::load(dir.path()).unwrap();
        let raw = confirmation(&templates, &ticket(), Language::En, &envelope(&[])).unwrap();
        assert_eq!(
            parse(&raw).text_body.unwrap().trim(),
            "Ticket SUP-42 noted."
        );
        std::fs::write(dir.path().join("confirmation.fr.txt"), "{% if %}").unwrap();
        assert!(matches!(
            Templates::load(dir.path()),
            Err(RenderError::Template(..))
        ));
    }
}
