//! Outgoing mail. `render` builds complete messages (pure: the Message-ID
//! and date are given); `Replies` decides what a new ticket sends and
//! renders it inside the filing transaction; `send` delivers the stored
//! rows with retries.

pub mod render;
pub mod send;
pub mod webhooks;

use std::sync::Arc;
use std::time::SystemTime;

use rand::RngCore;
use tracing::error;

use crate::intake::Attachment;
use crate::intake::Field;
use crate::intake::thread::marker;
use crate::intake::{MessageFacts, NewTicket, OversizeNotice};
use crate::model::{Language, TicketStatus, Vocabulary};
use crate::store::{
    ConversationEvent, CreatedTicket, FieldChange, OutgoingMail, ReplyPlanner, ThreadContext,
};
use render::{
    AttachmentLine, ChangeLine, ConversationFacts, Envelope, FileToSend, OversizeFacts, Templates,
    TicketFacts, UnrecognizedLine,
};

/// What every new ticket sends: a confirmation to the reporter and, when a
/// team address is configured, a notification to the team.
pub struct Replies {
    pub templates: Arc<Templates>,
    pub from: String,
    pub from_name: Option<String>,
    /// Public base of the tracking page.
    pub tracking_base: String,
    /// The customer portal's address, told in every mail to a customer;
    /// none when `portal.enabled = false`.
    pub portal_url: Option<String>,
    pub vocabulary: Vocabulary,
    /// When the customer's language is unknown.
    pub default_language: Language,
    /// Mail to the team (`tickets.team_language`).
    pub team_language: Language,
    /// Local-part fragments of addresses that never get an automatic mail
    /// (`noreply`, `mailer-daemon`, `bounce`…), lower case.
    pub no_reply_patterns: Vec<String>,
    /// Agents answer through mailgate (`tickets.team_addresses` is set):
    /// team mail asks replies back to us rather than to the customer.
    pub team_replies_through_us: bool,
    /// Acknowledge each follow-up to its writer.
    pub confirm_follow_ups: bool,
    /// Days a closed ticket can still be reopened, as told to customers.
    pub reopen_days: i64,
}

pub use crate::model::no_reply_match;

/// Whether mail to `address` can arrive at all: not in the `invalid`
/// top-level domain, which RFC 2606 reserves for names that must never
/// resolve. Erased people are `erased-N@invalid` (`customers forget`), and
/// stay watchers of the tickets they followed.
pub fn deliverable(address: &str) -> bool {
    let domain = address
        .rsplit_once('@')
        .map_or("", |(_, d)| d)
        .trim_end_matches('.')
        .to_ascii_lowercase();
    domain != "invalid" && !domain.ends_with(".invalid")
}

/// A Message-ID of ours: the ticket key (so an operator can tell what a
/// bounce is about), the kind, 96 random bits, and our domain.
pub fn new_message_id(key: &str, kind: &str, from: &str) -> String {
    let mut random = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut random);
    // Lower case, the canonical form replies are matched in.
    let domain = from
        .rsplit_once('@')
        .map_or("localhost".to_owned(), |(_, d)| d.to_lowercase());
    format!(
        "{}.{kind}.{}@{domain}",
        key.to_ascii_lowercase(),
        hex::encode(random)
    )
}

impl Replies {
    fn facts(&self, created: &CreatedTicket<'_>, language: Language) -> TicketFacts {
        let mut facts = self.ticket_facts(created.ticket, created.key, language);
        facts.tracking_url = self.tracking_url(created.tracking_token);
        facts.marker = marker(created.key, created.tracking_token);
        facts
    }

    fn tracking_url(&self, token: &str) -> String {
        format!("{}/t/{token}", self.tracking_base.trim_end_matches('/'))
    }

    /// A ticket's facts as a mail in `language` shows them: its terms and
    /// field names in that language's words.
    fn ticket_facts(&self, t: &NewTicket, key: &str, language: Language) -> TicketFacts {
        let v = &self.vocabulary;
        let accepted = |field: Field| -> Vec<String> {
            (field.terms(v).terms().iter())
                .map(|term| term.label(language).to_owned())
                .collect()
        };
        TicketFacts {
            key: key.to_owned(),
            summary: t.summary.clone(),
            description: t.description.clone(),
            severity: v.severities.label(&t.severity, language).to_owned(),
            products: v.products.labels(&t.products, language),
            request_type: v.request_types.label(&t.request_type, language).to_owned(),
            severity_name: t.severity.clone(),
            product_names: t.products.clone(),
            reporter: t.reporter.email.clone(),
            reporter_name: t.reporter.name.clone(),
            watchers: t.watchers.iter().map(|w| w.email.clone()).collect(),
            attachments: t
                .attachments
                .iter()
                .map(|a| AttachmentLine {
                    filename: a.filename.clone(),
                    content_type: a.content_type.clone(),
                    size: a.size as i64,
                })
                .collect(),
            unrecognized: t
                .unrecognized
                .iter()
                .map(|u| UnrecognizedLine {
                    field: u.field.label(language).to_owned(),
                    value: u.value.clone(),
                    accepted: accepted(u.field),
                })
                .collect(),
            tracking_url: String::new(),
            portal_url: self.portal_url.clone(),
            marker: String::new(),
            queue: String::new(),
            assignee: None,
        }
    }

    /// Why an automatic mail to `address` must be held back, if it must.
    fn no_reply_reason(&self, address: &str) -> Option<String> {
        no_reply_match(address, &self.no_reply_patterns).map(|p| {
            format!("no automatic mail to {address}: it matches the no-reply pattern {p:?}")
        })
    }

    /// The language to write to a customer in: the one recorded for them,
    /// else the message's (Content-Language or detected), else the default.
    fn language(&self, customer: Option<Language>, ticket: &NewTicket) -> Language {
        customer
            .or(ticket.language)
            .unwrap_or(self.default_language)
    }
}

impl ReplyPlanner for Replies {
    fn plan(&self, created: &CreatedTicket<'_>) -> Vec<OutgoingMail> {
        let language = self.language(created.customer_language, created.ticket);
        let facts = self.facts(created, language);
        let parent = created
            .message
            .message_id
            .as_ref()
            .map(|m| m.as_str().to_owned());
        let references: Vec<String> = created
            .message
            .references
            .iter()
            .map(|m| m.as_str().to_owned())
            .chain(parent.clone())
            .collect();
        let mut out = Vec::new();
        let confirmation_id = new_message_id(created.key, "confirmation", &self.from);
        let envelope = Envelope {
            from: &self.from,
            from_name: self.from_name.as_deref(),
            message_id: &confirmation_id,
            in_reply_to: parent.as_deref(),
            references: &references,
            date: SystemTime::now(),
        };
        let suppressed = self.no_reply_reason(&facts.reporter);
        // A rendering failure (a broken override) must not lose the ticket:
        // it is logged and the ticket is filed without that mail.
        // A held ticket waits for the team: its unknown sender hears nothing
        // until it is accepted.
        let confirmation = if created.status == TicketStatus::Held {
            None
        } else {
            Some(render::confirmation(
                &self.templates,
                &facts,
                language,
                &envelope,
            ))
        };
        match confirmation {
            None => {}
            Some(Ok(raw)) => out.push(OutgoingMail {
                kind: "confirmation".into(),
                message_id: confirmation_id.clone(),
                sender: self.from.clone(),
                recipients: vec![facts.reporter.clone()],
                raw,
                automatic: true,
                suppressed,
            }),
            Some(Err(e)) => error!(ticket = created.key, error = %e, "confirmation not rendered"),
        }
        if let Some(team) = created.team_address {
            let id = new_message_id(created.key, "notification", &self.from);
            let envelope = Envelope {
                message_id: &id,
                in_reply_to: None,
                references: &[],
                ..envelope
            };
            let mut team_facts = self.facts(created, self.team_language);
            team_facts.queue = created.queue.to_owned();
            team_facts.assignee = created.assignee.map(str::to_owned);
            let to = TeamRecipients::new(team, created.assignee);
            match render::team_notification(
                &self.templates,
                &team_facts,
                self.team_language,
                &to.routing(created.queue, self.team_replies_through_us),
                &envelope,
            ) {
                Ok(raw) => out.push(OutgoingMail {
                    kind: "notification".into(),
                    message_id: id,
                    sender: self.from.clone(),
                    recipients: to.all(),
                    raw,
                    automatic: false,
                    suppressed: None,
                }),
                Err(e) => {
                    error!(ticket = created.key, error = %e, "team notification not rendered");
                }
            }
        }
        out
    }

    fn unregistered(&self, ticket: &NewTicket, message: &MessageFacts) -> Option<OutgoingMail> {
        let language = self.language(None, ticket);
        let facts = self.ticket_facts(ticket, "", language);
        self.answer(message, "registration", &facts.reporter, |e| {
            render::registration(&self.templates, &facts, language, e)
        })
    }

    fn oversize(
        &self,
        message: &MessageFacts,
        notice: &OversizeNotice,
        customer_language: Option<Language>,
    ) -> Option<OutgoingMail> {
        let sender = message.from.as_ref().filter(|p| deliverable(&p.email))?;
        let language = customer_language
            .or(notice.language)
            .unwrap_or(self.default_language);
        let facts = OversizeFacts {
            reporter: sender.email.clone(),
            reporter_name: sender.name.clone(),
            summary: message.subject.clone().filter(|s| !s.trim().is_empty()),
            size: crate::model::text::human_size(message.size as i64, language),
            limit: crate::model::text::human_size(notice.limit as i64, language),
        };
        self.answer(message, "too-large", &sender.email, |e| {
            render::too_large(&self.templates, &facts, language, e)
        })
    }

    fn conversation(
        &self,
        ticket: &ThreadContext,
        event: &ConversationEvent<'_>,
    ) -> Vec<OutgoingMail> {
        self.conversation_mail(ticket, event)
    }
}

fn attachment_lines(attachments: &[Attachment]) -> Vec<AttachmentLine> {
    attachments
        .iter()
        .map(|a| AttachmentLine {
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            size: a.size as i64,
        })
        .collect()
}

/// What one mail of a conversation is, apart from its text.
struct MailSpec<'a> {
    kind: &'static str,
    recipients: Vec<String>,
    /// An automatic answer (RFC 3834), subject to the per-sender limit.
    automatic: bool,
    /// Why it is kept and not sent, if it is.
    suppressed: Option<String>,
    in_reply_to: Option<&'a str>,
}

impl Replies {
    fn conversation_facts(&self, ticket: &ThreadContext, language: Language) -> ConversationFacts {
        let v = &self.vocabulary;
        ConversationFacts {
            key: ticket.key.clone(),
            summary: ticket.summary.clone(),
            status: ticket.status.to_string(),
            status_label: ticket.status.label_in_sentence(language),
            severity: v.severities.label(&ticket.severity, language).to_owned(),
            products: v.products.labels(&ticket.products, language),
            request_type: v
                .request_types
                .label(&ticket.request_type, language)
                .to_owned(),
            severity_name: ticket.severity.clone(),
            product_names: ticket.products.clone(),
            reporter: ticket.reporter.email.clone(),
            reporter_name: ticket.reporter.name.clone(),
            watchers: ticket.watchers.clone(),
            tracking_url: self.tracking_url(&ticket.tracking_token),
            portal_url: self.portal_url.clone(),
            marker: marker(&ticket.key, &ticket.tracking_token),
            author: String::new(),
            text: String::new(),
            attachments: Vec::new(),
            changes: Vec::new(),
            reopened: false,
            reopen_days: self.reopen_days,
            queue: ticket.queue.clone(),
            assignee: ticket.assignee.clone(),
            next_in_days: None,
            into_key: None,
            into_summary: None,
            into_tracking_url: None,
        }
    }

    /// The customer's changes of fields, in `language`'s words.
    fn change_lines(&self, changes: &[FieldChange], language: Language) -> Vec<ChangeLine> {
        let words = |field: Field, value: &str| -> String {
            let terms = field.terms(&self.vocabulary);
            match field {
                Field::Products => value
                    .split(", ")
                    .filter(|p| !p.is_empty())
                    .map(|p| terms.label(p, language))
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => terms.label(value, language).to_owned(),
            }
        };
        changes
            .iter()
            .map(|c| ChangeLine {
                field: c.field.label(language).to_owned(),
                old: words(c.field, &c.old),
                new: words(c.field, &c.new),
            })
            .collect()
    }

    /// One mail of a conversation, or nothing (logged) when it cannot be
    /// rendered: the action it reports is recorded anyway.
    /// An automatic answer of `kind` to a received message that made no
    /// ticket, threaded under it (In-Reply-To and References its
    /// Message-ID), to `recipient` unless it is a robot's.
    fn answer(
        &self,
        message: &MessageFacts,
        kind: &str,
        recipient: &str,
        render: impl FnOnce(&Envelope<'_>) -> Result<Vec<u8>, render::RenderError>,
    ) -> Option<OutgoingMail> {
        let id = new_message_id(kind, "reply", &self.from);
        let parent = message.message_id.as_ref().map(|m| m.as_str().to_owned());
        let references: Vec<String> = parent.iter().cloned().collect();
        let envelope = Envelope {
            from: &self.from,
            from_name: self.from_name.as_deref(),
            message_id: &id,
            in_reply_to: parent.as_deref(),
            references: &references,
            date: SystemTime::now(),
        };
        match render(&envelope) {
            Ok(raw) => Some(OutgoingMail {
                kind: kind.to_owned(),
                message_id: id,
                sender: self.from.clone(),
                recipients: vec![recipient.to_owned()],
                raw,
                automatic: true,
                suppressed: self.no_reply_reason(recipient),
            }),
            Err(e) => {
                error!(kind, error = %e, "automatic answer not rendered");
                None
            }
        }
    }

    fn mail(
        &self,
        ticket: &ThreadContext,
        spec: MailSpec<'_>,
        render: impl FnOnce(&Envelope<'_>) -> Result<Vec<u8>, render::RenderError>,
    ) -> Option<OutgoingMail> {
        let MailSpec {
            kind,
            recipients,
            automatic,
            suppressed,
            in_reply_to,
        } = spec;
        let recipients: Vec<String> = recipients.into_iter().filter(|r| deliverable(r)).collect();
        if recipients.is_empty() {
            return None;
        }
        let id = new_message_id(&ticket.key, kind, &self.from);
        let envelope = Envelope {
            from: &self.from,
            from_name: self.from_name.as_deref(),
            message_id: &id,
            in_reply_to,
            references: &ticket.references,
            date: SystemTime::now(),
        };
        match render(&envelope) {
            Ok(raw) => Some(OutgoingMail {
                kind: kind.to_owned(),
                message_id: id,
                sender: self.from.clone(),
                recipients,
                raw,
                automatic,
                suppressed,
            }),
            Err(e) => {
                error!(ticket = %ticket.key, kind, error = %e, "mail not rendered");
                None
            }
        }
    }

    /// The customer and the watchers.
    fn customer_recipients(ticket: &ThreadContext) -> Vec<String> {
        std::iter::once(ticket.reporter.email.clone())
            .chain(ticket.watchers.iter().cloned())
            .collect()
    }
}

impl Replies {
    fn conversation_mail(
        &self,
        ticket: &ThreadContext,
        event: &ConversationEvent<'_>,
    ) -> Vec<OutgoingMail> {
        let language = ticket.language.unwrap_or(self.default_language);
        let mut facts = self.conversation_facts(ticket, language);
        let templates = &self.templates;
        let mut out = Vec::new();
        match *event {
            ConversationEvent::FollowUp {
                author,
                text,
                attachments,
                changes,
                reopened,
                message_id,
            } => {
                let author_line = match &author.name {
                    Some(name) => format!("{name} <{}>", author.email),
                    None => author.email.clone(),
                };
                facts.author.clone_from(&author_line);
                facts.changes = self.change_lines(changes, language);
                facts.text = text.to_owned();
                facts.attachments = attachment_lines(attachments);
                facts.reopened = reopened;
                if let Some(team) = ticket.team_address.as_deref() {
                    let mut facts = self.conversation_facts(ticket, self.team_language);
                    facts.author = author_line.clone();
                    facts.text = text.to_owned();
                    facts.attachments = attachment_lines(attachments);
                    facts.changes = self.change_lines(changes, self.team_language);
                    facts.reopened = reopened;
                    let to = TeamRecipients::new(team, ticket.assignee.as_deref());
                    out.extend(self.mail(
                        ticket,
                        MailSpec {
                            kind: "comment-notification",
                            recipients: to.all(),
                            automatic: false,
                            suppressed: None,
                            in_reply_to: message_id,
                        },
                        |e| {
                            render::follow_up_notification(
                                templates,
                                &facts,
                                self.team_language,
                                &to.routing(&ticket.queue, self.team_replies_through_us),
                                e,
                            )
                        },
                    ));
                }
                if self.confirm_follow_ups {
                    let mut ack = facts.clone();
                    ack.reporter = author.email.clone();
                    ack.reporter_name = author.name.clone();
                    out.extend(self.mail(
                        ticket,
                        MailSpec {
                            kind: "follow-up",
                            recipients: vec![author.email.clone()],
                            automatic: true,
                            suppressed: self.no_reply_reason(&author.email),
                            in_reply_to: message_id,
                        },
                        |e| render::follow_up_ack(templates, &ack, language, e),
                    ));
                }
            }
            ConversationEvent::TeamReply {
                author,
                text,
                attachments,
            } => {
                facts.author = author.to_owned();
                facts.text = text.to_owned();
                facts.attachments = attachment_lines(attachments);
                let files: Vec<FileToSend<'_>> = attachments
                    .iter()
                    .map(|a| FileToSend {
                        filename: &a.filename,
                        content_type: &a.content_type,
                        data: &a.data,
                    })
                    .collect();
                out.extend(self.mail(
                    ticket,
                    MailSpec {
                        kind: "reply",
                        recipients: Self::customer_recipients(ticket),
                        automatic: false,
                        suppressed: None,
                        in_reply_to: ticket.last_customer_message.as_deref(),
                    },
                    |e| render::team_reply(templates, &facts, language, e, &files),
                ));
            }
            ConversationEvent::StatusChanged { message, .. } => {
                facts.text = message.unwrap_or_default().to_owned();
                out.extend(
                    self.mail(
                        ticket,
                        MailSpec {
                            kind: "status",
                            recipients: Self::customer_recipients(ticket),
                            automatic: false,
                            suppressed: self
                                .no_reply_reason(&ticket.reporter.email)
                                .filter(|_| message.is_none()),
                            in_reply_to: ticket.last_customer_message.as_deref(),
                        },
                        |e| render::status_change(templates, &facts, language, e),
                    ),
                );
            }
            ConversationEvent::Quiet { step, next_in_days } => {
                facts.next_in_days = next_in_days;
                out.extend(self.mail(
                    ticket,
                    MailSpec {
                        kind: step.as_str(),
                        recipients: Self::customer_recipients(ticket),
                        automatic: true,
                        suppressed: self.no_reply_reason(&ticket.reporter.email),
                        in_reply_to: ticket.last_customer_message.as_deref(),
                    },
                    |e| render::automatic_notice(templates, &facts, language, step.as_str(), e),
                ));
            }
            ConversationEvent::Merged { into } => {
                facts.into_key = Some(into.key.clone());
                facts.into_summary = Some(into.summary.clone());
                facts.into_tracking_url = Some(self.tracking_url(&into.tracking_token));
                out.extend(self.mail(
                    ticket,
                    MailSpec {
                        kind: "merged",
                        recipients: Self::customer_recipients(ticket),
                        automatic: false,
                        suppressed: self.no_reply_reason(&ticket.reporter.email),
                        in_reply_to: ticket.last_customer_message.as_deref(),
                    },
                    |e| render::automatic_notice(templates, &facts, language, "merged", e),
                ));
            }
            ConversationEvent::Assigned { assignee, actor } => {
                // Nobody is told of their own choice, nor of being
                // unassigned.
                let Some(assignee) = assignee.filter(|a| !a.eq_ignore_ascii_case(actor)) else {
                    return out;
                };
                let mut facts = self.conversation_facts(ticket, self.team_language);
                facts.author = actor.to_owned();
                let to = TeamRecipients {
                    to: assignee,
                    cc: None,
                };
                out.extend(self.mail(
                    ticket,
                    MailSpec {
                        kind: "assignment",
                        recipients: to.all(),
                        automatic: false,
                        suppressed: None,
                        in_reply_to: None,
                    },
                    |e| {
                        render::assignment(
                            templates,
                            &facts,
                            self.team_language,
                            &to.routing(&ticket.queue, self.team_replies_through_us),
                            e,
                        )
                    },
                ));
            }
        }
        out
    }
}

/// Who mail to the team goes to: the queue's address, and the ticket's
/// assignee in copy when it is someone else.
struct TeamRecipients<'a> {
    to: &'a str,
    cc: Option<&'a str>,
}

impl<'a> TeamRecipients<'a> {
    fn new(team: &'a str, assignee: Option<&'a str>) -> Self {
        TeamRecipients {
            to: team,
            cc: assignee.filter(|a| !a.eq_ignore_ascii_case(team)),
        }
    }

    fn all(&self) -> Vec<String> {
        std::iter::once(self.to)
            .chain(self.cc)
            .map(str::to_owned)
            .collect()
    }

    fn routing(&self, queue: &'a str, reply_to_us: bool) -> render::TeamRouting<'a> {
        render::TeamRouting {
            to: self.to,
            cc: self.cc,
            queue,
            reply_to_us,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erased_people_and_other_invalid_domains_get_no_mail() {
        assert!(!deliverable("erased-12@invalid"));
        assert!(!deliverable("someone@host.INVALID."));
        assert!(deliverable("marie@acme.fr"));
        assert!(deliverable("x@invalid.example"));
    }

    #[test]
    fn no_reply_patterns_match_the_local_part() {
        let patterns: Vec<String> = ["noreply", "no-reply", "mailer-daemon", "bounce"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            no_reply_match("NoReply@shop.example", &patterns),
            Some("noreply")
        );
        assert_eq!(
            no_reply_match("bounces+123@mail.example", &patterns),
            Some("bounce")
        );
        assert_eq!(
            no_reply_match("marie@noreply-domain.example", &patterns),
            None
        );
        assert_eq!(no_reply_match("marie.dupont@acme.fr", &patterns), None);
    }
}
