//! Intake: raw bytes in, a [`Decision`] out. Pure: no I/O, no clock, no
//! randomness, and no input makes it fail or panic. Malformed mail yields a
//! decision with what could be read, or a rejection with its reason.

pub mod attachments;
pub mod auth;
pub mod body;
pub mod charset;
pub mod classify;
pub mod fields;
pub mod language;
pub mod message_id;
pub mod oversize;
pub mod parse;
pub mod quote;
pub mod sealed;
pub mod spam;
pub mod subject;
pub mod thread;
pub mod utf7;

use serde::Serialize;
use sha2::{Digest, Sha256};

pub use crate::config::{IntakeRules, MailboxDefaults};
use crate::model::slice::Place;
use crate::model::{Language, SpamPolicy};

pub use classify::RobotKind;
pub use fields::{Field, Source, StatedFields, Statement, Unrecognized};
pub use message_id::MessageId;
pub use oversize::{OversizeNotice, decide_oversize};
pub use parse::Person;
pub use thread::{BounceFacts, Marker};

/// How long a summary taken from the body may be, in characters.
const BODY_SUMMARY_CHARS: usize = 80;
const NO_SUBJECT: &str = "(no subject)";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RejectReason {
    TooLarge,
    Empty,
    NoSender,
    /// The receiving server's filter said spam (`intake.spam = "ignore"`).
    Spam,
}

impl RejectReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::TooLarge => "too-large",
            RejectReason::Empty => "empty",
            RejectReason::NoSender => "no-sender",
            RejectReason::Spam => "spam",
        }
    }
}

/// A file kept on a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub size: usize,
    pub sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_id: Option<String>,
    pub inline: bool,
    #[serde(skip)]
    pub data: Vec<u8>,
    /// Where `data` lies in the raw message it came in, when it does
    /// exactly: the store then keeps it as that place, not as a copy.
    #[serde(skip)]
    pub place: Option<Place>,
}

impl Attachment {
    /// A file that is not inline, with its size and checksum.
    pub fn new(filename: String, content_type: String, data: Vec<u8>) -> Self {
        Attachment {
            filename,
            content_type,
            size: data.len(),
            sha256: sha256_hex(&data),
            content_id: None,
            inline: false,
            data,
            place: None,
        }
    }
}

/// A ticket to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewTicket {
    pub summary: String,
    pub description: String,
    pub severity: String,
    pub products: Vec<String>,
    pub request_type: String,
    pub unrecognized: Vec<Unrecognized>,
    pub reporter: Person,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Person>,
    pub watchers: Vec<Person>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
    pub attachments: Vec<Attachment>,
    /// The text as a follow-up on an existing ticket: what the sender wrote,
    /// without the quoted history, signature or mobile footer.
    pub reply: String,
    /// Fields set by keyword lines in that text.
    #[serde(skip_serializing_if = "StatedFields::is_empty")]
    pub reply_fields: StatedFields,
    /// Why it must wait for the team as `held` whatever the sender policy,
    /// and never continue another ticket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_for: Option<HoldReason>,
}

/// Why a new ticket waits for the team, unanswered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum HoldReason {
    /// A spam verdict under `intake.spam = "hold"`.
    Spam(spam::SpamVerdict),
    /// The From address failed the receiving server's checks: a reply
    /// would go to the person whose address was forged, and the message
    /// must not reach a conversation it claims to belong to. Under the
    /// `registered` policy the message is refused instead.
    Unauthenticated(auth::SenderAuth),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Ticket {
        ticket: Box<NewTicket>,
    },
    Ignored {
        reason: RobotKind,
        detail: String,
    },
    Rejected {
        reason: RejectReason,
        detail: String,
        /// What the sender of a message too large is told, when a person
        /// can be answered (see `oversize`).
        #[serde(skip_serializing_if = "Option::is_none")]
        notice: Option<OversizeNotice>,
    },
}

/// What identifies a message and links it to others, whatever the outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct MessageFacts {
    pub message_id: Option<MessageId>,
    pub in_reply_to: Vec<MessageId>,
    pub references: Vec<MessageId>,
    /// Our ticket keys tagged in the subject, leftmost first.
    pub ticket_refs: Vec<String>,
    pub from: Option<Person>,
    pub subject: Option<String>,
    pub date: Option<String>,
    pub size: usize,
    /// Our markers found anywhere in the body, quoted text included.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub markers: Vec<Marker>,
    /// What a bounce says about the message it returns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bounce: Option<BounceFacts>,
    /// What the trusted receiving servers' checks say of the From address
    /// (`intake.trusted_authserv_ids`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_auth: Option<auth::SenderAuth>,
    /// The addresses it was sent to (To, then Cc), lower case, for
    /// `[[routes]]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub message: MessageFacts,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// SHA-256 of bytes, in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Decides what a raw message becomes.
pub fn decide(raw: &[u8], rules: &IntakeRules, defaults: &MailboxDefaults) -> Decision {
    if raw.len() > rules.max_message_size {
        // Its header alone tells who sent it and whether they can be told.
        return decide_oversize(oversize::header_of(raw), raw.len(), rules, defaults);
    }
    read(raw, rules, defaults)
}

/// Decides a message whatever its size.
fn read(raw: &[u8], rules: &IntakeRules, defaults: &MailboxDefaults) -> Decision {
    let rejected = |message, reason, detail: String| Decision {
        message,
        outcome: Outcome::Rejected {
            reason,
            detail,
            notice: None,
        },
    };
    let size_only = MessageFacts {
        size: raw.len(),
        ..MessageFacts::default()
    };
    if raw.iter().all(u8::is_ascii_whitespace) {
        return rejected(
            size_only,
            RejectReason::Empty,
            "the message is empty".into(),
        );
    }

    let mail = parse::parse(raw);
    let subject = subject::analyze(
        mail.subject.as_deref().unwrap_or_default(),
        &rules.vocabulary,
        &rules.key_prefix,
    );
    let reporter = mail
        .from
        .first()
        .or(mail.sender.as_ref())
        .or(mail.reply_to.as_ref())
        .cloned()
        .or_else(|| {
            mail.return_path
                .as_ref()
                .filter(|p| p.contains('@'))
                .map(|p| Person {
                    email: p.clone(),
                    name: None,
                })
        });
    let facts = MessageFacts {
        message_id: mail.message_id.clone(),
        in_reply_to: mail.in_reply_to.clone(),
        references: mail.references.clone(),
        ticket_refs: subject
            .ticket_refs
            .iter()
            .map(ToString::to_string)
            .collect(),
        from: reporter.clone(),
        subject: mail.subject.clone(),
        date: mail.date.clone(),
        size: raw.len(),
        markers: [&mail.text_body, &mail.html_body]
            .into_iter()
            .flatten()
            .flat_map(|text| thread::find_markers(text))
            .fold(Vec::new(), |mut all, m| {
                if !all.contains(&m) {
                    all.push(m);
                }
                all
            }),
        bounce: None,
        sender_auth: auth::sender_auth(&mail, &rules.trusted_authserv_ids),
        recipients: (mail.to.iter().chain(&mail.cc))
            .map(|p| p.email.to_lowercase())
            .collect(),
    };

    if let Some(robot) = classify::classify(&mail, &rules.own_addresses) {
        let mut facts = facts;
        if robot.kind == RobotKind::Bounce {
            facts.bounce = Some(thread::bounce_facts(
                &bounce_text(raw, &mail),
                &mail.in_reply_to,
                &mail.references,
            ));
        }
        return Decision {
            message: facts,
            outcome: Outcome::Ignored {
                reason: robot.kind,
                detail: robot.detail,
            },
        };
    }
    let spam = match rules.spam.policy {
        SpamPolicy::Off => None,
        SpamPolicy::Ignore | SpamPolicy::Hold => spam::verdict(&mail, rules.spam.scl_level),
    };
    if let Some(verdict) = &spam
        && rules.spam.policy == SpamPolicy::Ignore
    {
        return rejected(
            facts,
            RejectReason::Spam,
            format!("{} says spam ({})", verdict.filter, verdict.detail),
        );
    }
    let Some(reporter) = reporter else {
        return rejected(
            facts,
            RejectReason::NoSender,
            "no From, Sender, Reply-To or Return-Path address to answer".into(),
        );
    };

    let mut ticket = build_ticket(&mail, subject, reporter, rules, defaults);
    ticket.held_for = spam.map(HoldReason::Spam);
    if let Some(checked) = &facts.sender_auth
        && checked.verdict == auth::AuthVerdict::Fail
    {
        // Its keyword lines change nothing: it continues no ticket.
        ticket.reply_fields = StatedFields::default();
        ticket.held_for = Some(HoldReason::Unauthenticated(checked.clone()));
    }
    Decision {
        message: facts,
        outcome: Outcome::Ticket {
            ticket: Box::new(ticket),
        },
    }
}

fn build_ticket(
    mail: &parse::ParsedMail,
    subject: subject::SubjectAnalysis,
    reporter: Person,
    rules: &IntakeRules,
    defaults: &MailboxDefaults,
) -> NewTicket {
    let body = match mail.text_body.as_deref().filter(|t| !t.trim().is_empty()) {
        Some(text) => text.to_owned(),
        None => mail
            .html_body
            .as_deref()
            .map(|html| body::signature_delimiter_from_html(&body::html_to_text(html)))
            .unwrap_or_default(),
    };
    let attachments = kept_attachments(mail);
    let stated_language = mail.content_language.as_deref().and_then(Language::parse);
    let (description, body_statements, reply, reply_fields, sealed_language) =
        if let Some(sealing) = mail.sealed {
            // Nothing of the text can be read: the description says so, in the
            // language the headers and subject tell, and keyword lines there
            // are none.
            let language = stated_language
                .or_else(|| language::detect(&subject.summary))
                .or(defaults.language);
            let files: Vec<&str> = attachments.iter().map(|a| a.filename.as_str()).collect();
            let notice = sealed::notice(sealing, &files, language);
            let reply = notice.clone();
            (
                notice,
                Vec::new(),
                reply,
                StatedFields::default(),
                Some(language),
            )
        } else {
            // A forward's body is what the sender shares, not history: only its
            // signature goes.
            let reply = if self::subject::is_forward(mail.subject.as_deref().unwrap_or_default()) {
                body::tidy(body::strip_signature(&body))
            } else {
                quote::reply_text(&body)
            };
            let reply_fields = fields::stated(
                &body::take_keyword_lines(&reply, &rules.vocabulary).0,
                &rules.vocabulary,
            );
            // The signature goes first: its `-- ` line loses its meaningful
            // trailing space in tidying, and its lines are not the customer's
            // statements.
            let body = body::tidy(&quote::without_footer_lines(body::strip_signature(&body)));
            let (body_statements, body) = body::take_keyword_lines(&body, &rules.vocabulary);
            (
                body::tidy(&body),
                body_statements,
                reply,
                reply_fields,
                None,
            )
        };

    // Strongest first: body, subject, plus-addressing, mailbox defaults, the
    // name of the address it was sent to.
    let recipients: Vec<String> = mail
        .to
        .iter()
        .chain(&mail.cc)
        .map(|p| p.email.clone())
        .collect();
    let mut statements = body_statements;
    statements.extend(subject.statements);
    let addresses =
        fields::address_statements(&recipients, &rules.vocabulary, |a| rules.is_own_address(a));
    statements.extend(addresses.plus_tags);
    let mailbox = |field, value: &str| Statement {
        field,
        value: value.to_owned(),
        source: Source::Mailbox,
    };
    statements.extend(
        defaults
            .severity
            .iter()
            .map(|v| mailbox(Field::Severity, v)),
    );
    if !defaults.products.is_empty() {
        statements.push(mailbox(Field::Products, &defaults.products.join(", ")));
    }
    statements.extend(
        defaults
            .request_type
            .iter()
            .map(|v| mailbox(Field::RequestType, v)),
    );
    statements.extend(addresses.own_names);
    let fields = fields::resolve(&statements, &rules.vocabulary);

    let summary = if subject.summary.is_empty() {
        body::first_meaningful_line(&description, BODY_SUMMARY_CHARS)
            .unwrap_or_else(|| NO_SUBJECT.to_owned())
    } else {
        subject.summary
    };

    let mut watchers: Vec<Person> = Vec::new();
    for person in mail.to.iter().chain(&mail.cc) {
        if person.email != reporter.email
            && !rules.is_own_address(&person.email)
            && !watchers.iter().any(|w| w.email == person.email)
        {
            watchers.push(person.clone());
        }
    }

    // A sealed message's notice is our text, not the sender's language.
    let language = sealed_language.unwrap_or_else(|| {
        stated_language
            .or_else(|| language::detect(&format!("{summary}\n{description}")))
            .or(defaults.language)
    });

    NewTicket {
        summary,
        description,
        severity: fields.severity,
        products: fields.products,
        request_type: fields.request_type,
        unrecognized: fields.unrecognized,
        reply_to: mail.reply_to.clone().filter(|r| r.email != reporter.email),
        reporter,
        watchers,
        language,
        attachments,
        reply,
        reply_fields,
        held_for: None,
    }
}

/// The parts kept as files, with safe names: the sender's, else the usual
/// name of the type (`winmail.dat`), else one made from the part's place.
fn kept_attachments(mail: &parse::ParsedMail) -> Vec<Attachment> {
    mail.attachments
        .iter()
        .enumerate()
        .map(|(i, part)| Attachment {
            filename: part
                .name
                .as_deref()
                .and_then(attachments::safe_filename)
                .or_else(|| attachments::usual_name(&part.content_type).map(str::to_owned))
                .unwrap_or_else(|| {
                    format!(
                        "attachment-{}.{}",
                        i + 1,
                        attachments::extension_for(&part.content_type)
                    )
                }),
            content_type: part.content_type.clone(),
            size: part.data.len(),
            sha256: sha256_hex(&part.data),
            content_id: part.content_id.clone(),
            inline: part.inline,
            data: part.data.clone(),
            place: part.place,
        })
        .collect()
}

/// The text a bounce is read from: its raw body (where reports and returned
/// headers sit, usually unencoded) and its decoded text part, bounded.
fn bounce_text(raw: &[u8], mail: &parse::ParsedMail) -> String {
    const MAX: usize = 256 * 1024;
    let body = parse::body_offset(raw).map_or(raw, |at| &raw[at..]);
    let mut text = String::from_utf8_lossy(&body[..body.len().min(MAX)]).into_owned();
    if let Some(decoded) = &mail.text_body {
        text.push('\n');
        text.push_str(crate::model::text::truncate_bytes(decoded, MAX));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_footers_leave_the_description() {
        let rules = IntakeRules {
            vocabulary: fields::tests::vocabulary(),
            key_prefix: "SUP".into(),
            own_addresses: vec![],
            max_message_size: 1 << 20,
            spam: crate::config::SpamRules::default(),
            trusted_authserv_ids: Vec::new(),
        };
        let raw = "From: a@b.fr\nSubject: Export\n\nL'export est vide.\n\nEnvoyé de mon iPhone\n";
        match decide(raw.as_bytes(), &rules, &MailboxDefaults::default()).outcome {
            Outcome::Ticket { ticket } => assert_eq!(ticket.description, "L'export est vide."),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_mailbox_language_applies_only_when_the_message_does_not_tell() {
        let rules = IntakeRules {
            vocabulary: fields::tests::vocabulary(),
            key_prefix: "SUP".into(),
            own_addresses: vec![],
            max_message_size: 1 << 20,
            spam: crate::config::SpamRules::default(),
            trusted_authserv_ids: Vec::new(),
        };
        let defaults = MailboxDefaults {
            language: Some(Language::Fr),
            ..MailboxDefaults::default()
        };
        let language = |raw: &str| match decide(raw.as_bytes(), &rules, &defaults).outcome {
            Outcome::Ticket { ticket } => ticket.language,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            language("From: a@b.de\nSubject: 4.2\n\nAtlas 4.2\n"),
            Some(Language::Fr)
        );
        assert_eq!(
            language("From: a@b.de\nSubject: x\n\nHello, the export is broken since the update.\n"),
            Some(Language::En)
        );
        assert_eq!(
            language("From: a@b.de\nContent-Language: en-GB\nSubject: x\n\nDanke\n"),
            Some(Language::En)
        );
    }

    #[test]
    fn a_sealed_message_in_no_known_language_is_described_in_both() {
        let rules = IntakeRules {
            vocabulary: fields::tests::vocabulary(),
            key_prefix: "SUP".into(),
            own_addresses: vec![],
            max_message_size: 1 << 20,
            spam: crate::config::SpamRules::default(),
            trusted_authserv_ids: Vec::new(),
        };
        let raw = "From: a@b.de\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data\nContent-Transfer-Encoding: base64\n\nMIAGCSqGSIb3DQEHA6CAMIACAQAxggE=\n";
        let Outcome::Ticket { ticket } =
            decide(raw.as_bytes(), &rules, &MailboxDefaults::default()).outcome
        else {
            panic!("not a ticket");
        };
        assert_eq!(ticket.language, None);
        let (fr, en) = ticket.description.split_once("\n\n").unwrap();
        assert!(fr.starts_with("Ce message est chiffré (S/MIME)"), "{fr}");
        assert!(
            en.contains("(smime.p7m) so that the team can decrypt it."),
            "{en}"
        );
        // No subject: the summary is the notice's first words.
        assert!(
            ticket.summary.starts_with("Ce message est chiffré"),
            "{}",
            ticket.summary
        );
        assert_eq!(ticket.attachments[0].filename, "smime.p7m");
        assert!(ticket.reply_fields.is_empty());

        // The mailbox's language decides when the message tells nothing.
        let defaults = MailboxDefaults {
            language: Some(Language::En),
            ..MailboxDefaults::default()
        };
        let Outcome::Ticket { ticket } = decide(raw.as_bytes(), &rules, &defaults).outcome else {
            panic!("not a ticket");
        };
        assert_eq!(ticket.language, Some(Language::En));
        assert!(
            ticket
                .description
                .starts_with("This message is encrypted (S/MIME)")
        );
    }
}
