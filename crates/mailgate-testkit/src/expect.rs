//! What a message should become (ticket, comment, ignored, rejected), and
//! the tests holding intake to that promise.

use serde::Serialize;

use mailgate::model::Language;

/// What a message should become.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Expect {
    /// A new ticket with these fields (canonical vocabulary names).
    Ticket {
        severity: String,
        products: Vec<String>,
        request_type: String,
        language: Language,
    },
    /// A comment on the ticket of message `of` (an index of the same set):
    /// intake decides it as a ticket, the store threads it by `In-Reply-To`.
    Comment { of: usize },
    /// A robot's message: `auto-reply` or `bounce`.
    Ignored { reason: &'static str },
    /// Refused: `no-sender`.
    Rejected { reason: &'static str },
}

impl Expect {
    /// `ticket`, `comment`, `ignored` or `rejected`.
    pub fn class(&self) -> &'static str {
        match self {
            Expect::Ticket { .. } => "ticket",
            Expect::Comment { .. } => "comment",
            Expect::Ignored { .. } => "ignored",
            Expect::Rejected { .. } => "rejected",
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::Path;
    use std::sync::LazyLock;

    use super::*;
    use crate::generator::tests::{STANDARD, small_files};
    use crate::generator::{Generated, generate};
    use crate::mix::Mix;
    use mailgate::intake::{self, MailboxDefaults, MessageId, Outcome};

    static RULES: LazyLock<intake::IntakeRules> = LazyLock::new(|| {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/intake/mailgate.toml");
        mailgate::config::load(Some(&path), Some(Default::default()))
            .expect("the fixture configuration is valid")
            .intake
    });

    /// Decides every message with the fixture rules and compares with what
    /// the generator promised.
    fn check_against_intake(set: &[Generated], min_attachment: usize, max_attachment: usize) {
        let rules = &*RULES;
        let mut failures = Vec::new();
        let mut replies_text = HashMap::new();
        for g in set {
            let decision = intake::decide(&g.raw, rules, &MailboxDefaults::default());
            let mut fail =
                |what: String| failures.push(format!("#{} ({}): {what}", g.index, g.mime));
            if decision.message.message_id.as_ref().map(MessageId::as_str)
                != Some(g.message_id.as_str())
            {
                fail(format!("message id {:?}", decision.message.message_id));
            }
            if decision.message.subject.as_deref() != Some(g.subject.as_str()) {
                fail(format!(
                    "subject {:?} instead of {:?}",
                    decision.message.subject, g.subject
                ));
            }
            match (&g.expect, &decision.outcome) {
                (
                    Expect::Ticket {
                        severity,
                        products,
                        request_type,
                        language,
                    },
                    Outcome::Ticket { ticket },
                ) => {
                    if (
                        &ticket.severity,
                        &ticket.products,
                        &ticket.request_type,
                        ticket.language,
                    ) != (severity, products, request_type, Some(*language))
                    {
                        fail(format!(
                            "fields {} {:?} {} {:?}, expected {severity} {products:?} {request_type} {language:?}; unrecognised {:?}",
                            ticket.severity,
                            ticket.products,
                            ticket.request_type,
                            ticket.language,
                            ticket.unrecognized
                        ));
                    }
                    if !ticket.unrecognized.is_empty() {
                        fail(format!("unrecognised values {:?}", ticket.unrecognized));
                    }
                    replies_text.insert(g.index, ticket.reply.clone());
                }
                (Expect::Comment { of }, Outcome::Ticket { ticket }) => {
                    let parent = g.in_reply_to.expect("a reply names its parent");
                    let named: Vec<&str> = decision
                        .message
                        .in_reply_to
                        .iter()
                        .map(MessageId::as_str)
                        .collect();
                    if named != [set[parent].message_id.as_str()] {
                        fail(format!("In-Reply-To {named:?}, parent #{parent}"));
                    }
                    if !decision
                        .message
                        .references
                        .iter()
                        .any(|r| r.as_str() == set[*of].message_id)
                    {
                        fail(format!("References do not name the first message #{of}"));
                    }
                    let mut root = parent;
                    while let Some(up) = set[root].in_reply_to {
                        root = up;
                    }
                    if root != *of
                        || !matches!(set[*of].expect, Expect::Ticket { .. })
                        || *of >= g.index
                    {
                        fail(format!("continues #{of} but its thread starts at #{root}"));
                    }
                    // The quoted history is cut: the comment is what the
                    // customer wrote now, not the earlier message.
                    // (A reply to a reply may repeat one of its sentences:
                    // only the whole earlier text counts then.)
                    let earlier = replies_text.get(&parent).cloned().unwrap_or_default();
                    let quoted = if parent == *of {
                        earlier.lines().max_by_key(|l| l.len()).unwrap_or_default()
                    } else {
                        earlier.as_str()
                    };
                    if quoted.len() > 40 && ticket.reply.contains(quoted) {
                        fail(format!("the comment quotes #{parent}: {:?}", ticket.reply));
                    }
                    if ticket.reply.trim().is_empty() {
                        fail("empty comment".into());
                    }
                    replies_text.insert(g.index, ticket.reply.clone());
                }
                (Expect::Ignored { reason }, Outcome::Ignored { reason: got, .. })
                    if got.as_str() == *reason => {}
                (Expect::Rejected { reason }, Outcome::Rejected { reason: got, .. })
                    if got.as_str() == *reason => {}
                (expect, outcome) => fail(format!("expected {expect:?}, decided {outcome:?}")),
            }
            if let Outcome::Ticket { ticket } = &decision.outcome {
                if ticket.attachments.len() != g.attachments {
                    fail(format!(
                        "{} attachments instead of {}",
                        ticket.attachments.len(),
                        g.attachments
                    ));
                }
                for a in &ticket.attachments {
                    if a.size < min_attachment || a.size > max_attachment || a.inline {
                        fail(format!("attachment {} of {} bytes", a.filename, a.size));
                    }
                }
                if ticket.description.contains("=?") || ticket.description.contains("=C3") {
                    fail(format!("undecoded text in {:?}", ticket.description));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} messages differ:\n{}",
            failures.len(),
            set.len(),
            failures[..failures.len().min(15)].join("\n")
        );
    }

    #[test]
    fn intake_decides_what_the_manifest_promises() {
        let mix = Mix::standard();
        check_against_intake(&STANDARD, mix.min_attachment, mix.max_attachment);
    }

    #[test]
    fn other_seeds_and_the_chaos_mix_keep_the_promise() {
        for seed in [2, 3, 4] {
            let mix = small_files(Mix::standard());
            check_against_intake(
                &generate(seed, 400, &mix),
                mix.min_attachment,
                mix.max_attachment,
            );
        }
        let mix = small_files(Mix::chaos());
        let set = generate(5, 500, &mix);
        assert_eq!(
            set.iter()
                .filter(|g| g.expect
                    == Expect::Rejected {
                        reason: "no-sender"
                    })
                .count(),
            10
        );
        check_against_intake(&set, mix.min_attachment, mix.max_attachment);
    }
}
