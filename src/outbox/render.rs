//! Building the confirmation to a customer and the notification to the
//! support team: templates (French and English, text and HTML) rendered
//! with minijinja, assembled into a MIME message with lettre's builder,
//! which encodes headers (RFC 2047) so that no value can inject a header.

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};

use crate::model::Language;
use crate::model::text::collapse_whitespace;

mod facts;
mod templates;
#[cfg(test)]
mod tests;

pub use facts::{
    AttachmentLine, ChangeLine, ConversationFacts, Envelope, FileToSend, OversizeFacts,
    TicketFacts, UnrecognizedLine,
};
pub use templates::{RenderError, Templates};

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

/// The one notice to the sender of a message refused as too large: the
/// limit, its size, what to do instead. An automatic answer (RFC 3834 5.),
/// in reply to the refused message so that it threads with it.
pub fn too_large(
    templates: &Templates,
    facts: &OversizeFacts,
    language: Language,
    envelope: &Envelope<'_>,
) -> Result<Vec<u8>, RenderError> {
    let text = templates.render(&template_name("too-large", language, "txt"), facts)?;
    let to = mailbox(facts.reporter_name.as_deref(), &facts.reporter)?;
    let subject = match (&facts.summary, language) {
        (Some(summary), _) => format!("Re: {}", collapse_whitespace(summary)),
        (None, Language::Fr) => "Message trop volumineux".to_owned(),
        (None, Language::En) => "Message too large".to_owned(),
    };
    let message = base(envelope, to, subject)?
        .automatic("auto-replied")
        .singlepart(text_part(text))
        .map_err(|e| RenderError::Message(e.to_string()))?;
    Ok(message.formatted())
}

/// Where a mail to the team goes, and what its headers say of the queue.
#[derive(Debug, Clone, Copy)]
pub struct TeamRouting<'a> {
    /// The queue's team address.
    pub to: &'a str,
    /// The ticket's assignee, when someone else.
    pub cc: Option<&'a str>,
    /// `X-Mailgate-Queue`: the `[[routes]]` name, or `default`.
    pub queue: &'a str,
    /// Agents answer through mailgate: replies come back to us.
    pub reply_to_us: bool,
}

/// What every mail to the team carries: headers a mail filter can use, and
/// `Reply-To` the support address when agents answer through mailgate
/// (their reply goes to the customer from there, threaded and recorded),
/// else the reporter.
struct TeamMail<'a> {
    routing: &'a TeamRouting<'a>,
    subject: String,
    reporter_name: Option<&'a str>,
    reporter: &'a str,
    key: &'a str,
    severity: &'a str,
    products: &'a [String],
}

fn team_mail(
    envelope: &Envelope<'_>,
    mail: TeamMail<'_>,
    text: String,
) -> Result<Vec<u8>, RenderError> {
    let TeamMail {
        routing,
        subject,
        reporter_name,
        reporter,
        key,
        severity,
        products,
    } = mail;
    let reply_to = if routing.reply_to_us {
        mailbox(envelope.from_name, envelope.from)?
    } else {
        mailbox(reporter_name, reporter)?
    };
    let mut builder = base(envelope, mailbox(None, routing.to)?, subject)?;
    if let Some(cc) = routing.cc {
        builder = builder.cc(mailbox(None, cc)?);
    }
    let message = builder
        .reply_to(reply_to)
        .automatic("auto-generated")
        .raw_header(raw_header("X-Mailgate-Ticket", key))
        .raw_header(raw_header("X-Mailgate-Severity", severity))
        .raw_header(raw_header("X-Mailgate-Products", &products.join(", ")))
        .raw_header(raw_header("X-Mailgate-Queue", routing.queue))
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
    routing: &TeamRouting<'_>,
    envelope: &Envelope<'_>,
) -> Result<Vec<u8>, RenderError> {
    let text = templates.render(&template_name("notification", language, "txt"), ticket)?;
    let mail = TeamMail {
        routing,
        subject: subject(&ticket.key, &ticket.summary),
        reporter_name: ticket.reporter_name.as_deref(),
        reporter: &ticket.reporter,
        key: &ticket.key,
        severity: &ticket.severity_name,
        products: &ticket.product_names,
    };
    team_mail(envelope, mail, text)
}

fn text_part(text: String) -> SinglePart {
    SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(text)
}

fn with_files(text: String, files: &[FileToSend<'_>]) -> MultiPart {
    let mut mixed = MultiPart::mixed().singlepart(text_part(text));
    for file in files {
        let content_type = ContentType::parse(file.content_type)
            .unwrap_or(ContentType::parse("application/octet-stream").expect("valid type"));
        mixed = mixed.singlepart(
            lettre::message::Attachment::new(file.filename.to_owned())
                .body(file.data.to_vec(), content_type),
        );
    }
    mixed
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
        builder.multipart(with_files(text, files))
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

/// A notice in one template (`reminder`, `auto-resolved`, `auto-closed`
/// for a ticket nobody answered; `merged`), told to the customer and
/// watchers: an automatic mail (RFC 3834 `auto-generated`).
pub fn automatic_notice(
    templates: &Templates,
    facts: &ConversationFacts,
    language: Language,
    template: &str,
    envelope: &Envelope<'_>,
) -> Result<Vec<u8>, RenderError> {
    let text = templates.render(&template_name(template, language, "txt"), facts)?;
    let message = customer_message(facts, envelope)?
        .automatic("auto-generated")
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
    routing: &TeamRouting<'_>,
    envelope: &Envelope<'_>,
) -> Result<Vec<u8>, RenderError> {
    let text = templates.render(&template_name("comment", language, "txt"), facts)?;
    conversation_team_mail(envelope, routing, facts, text)
}

/// A ticket given to a team member, told to them.
pub fn assignment(
    templates: &Templates,
    facts: &ConversationFacts,
    language: Language,
    routing: &TeamRouting<'_>,
    envelope: &Envelope<'_>,
) -> Result<Vec<u8>, RenderError> {
    let text = templates.render(&template_name("assigned", language, "txt"), facts)?;
    conversation_team_mail(envelope, routing, facts, text)
}

fn conversation_team_mail(
    envelope: &Envelope<'_>,
    routing: &TeamRouting<'_>,
    facts: &ConversationFacts,
    text: String,
) -> Result<Vec<u8>, RenderError> {
    let mail = TeamMail {
        routing,
        subject: format!("Re: {}", subject(&facts.key, &facts.summary)),
        reporter_name: facts.reporter_name.as_deref(),
        reporter: &facts.reporter,
        key: &facts.key,
        severity: &facts.severity_name,
        products: &facts.product_names,
    };
    team_mail(envelope, mail, text)
}
