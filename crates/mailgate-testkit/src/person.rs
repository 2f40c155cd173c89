//! A customer's message, new request or reply: its client's habits, its
//! content, its rendering, and what a later reply needs of it.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use mailgate::model::Language;

use crate::attachments::File;
use crate::charset::encoding;
use crate::expect::Expect;
use crate::generator::{Generated, Generator};
use crate::headers::{canonical_id, message_id};
use crate::people::{Client, ascii_fold};
use crate::plan::Kind;
use crate::render::{Mail, render};
use crate::reply::{Sent, reply_content};
use crate::rng::pick;
use crate::ticket::ticket_content;
use crate::vocab::{FIRST_NAMES, LAST_NAMES, li};

impl Generator {
    /// Message `index`, a new request or a reply, and what a reply to it
    /// will need.
    pub(crate) fn person(&self, rng: &mut ChaCha8Rng, index: usize) -> (Generated, Sent) {
        let slot = self.slots[index].clone();
        let customer = &self.customers[slot.customer];
        let lang = customer.lang;
        let l = li(lang);
        let client = customer.client;
        let date = self.date(rng, index, customer.offset);
        let id = message_id(rng, customer, date);
        let (charset, cte) = encoding(rng, client, lang);
        let alternative = match client {
            Client::Gmail | Client::Outlook => true,
            Client::Thunderbird => rng.gen_bool(0.15),
            Client::AppleMail => rng.gen_bool(0.6),
            Client::Zimbra => rng.gen_bool(0.7),
        };
        let files: Vec<File> = (0..slot.attachments)
            .map(|_| File::random(rng, lang, &self.mix))
            .collect();
        let typographic =
            matches!(client, Client::Outlook | Client::AppleMail) && lang == Language::Fr;
        let cc = (customer.company.is_some() && rng.gen_bool(0.1)).then(|| {
            let first = *pick(rng, FIRST_NAMES[l]);
            let last = *pick(rng, LAST_NAMES[l]);
            (
                format!("{first} {last}"),
                format!(
                    "{}.{}@{}",
                    ascii_fold(first),
                    ascii_fold(last),
                    customer.domain
                ),
            )
        });

        let (subject, doc, to, in_reply_to, references, expect, parent) =
            if slot.kind == Kind::Ticket {
                let (subject, doc, to, expect) = ticket_content(rng, customer, &files, typographic);
                (subject, doc, to, None, Vec::new(), expect, None)
            } else {
                let parent_index = slot.parent.expect("a reply has a parent");
                let parent = self.sent[parent_index]
                    .as_ref()
                    .expect("the parent came first");
                let (subject, doc) = reply_content(rng, customer, parent, &files, typographic);
                let mut references = parent.references.clone();
                references.push(parent.id.clone());
                (
                    subject,
                    doc,
                    parent.to.clone(),
                    Some(parent.id.clone()),
                    references,
                    Expect::Comment {
                        of: slot.root.expect("a reply has a root"),
                    },
                    Some(parent_index),
                )
            };
        let subject = charset.prepare(&subject);
        let base_subject = match parent {
            Some(p) => self.sent[p].as_ref().expect("sent").subject.clone(),
            None => subject.clone(),
        };
        let mail = Mail {
            customer,
            date,
            id: id.clone(),
            to: to.clone(),
            to_name: *pick(rng, &[Some("Support"), None, Some("Support Example")]),
            cc,
            subject: subject.clone(),
            in_reply_to,
            references: references.clone(),
            doc,
            html_only: slot.html_only,
            alternative,
            charset,
            cte,
            files,
        };
        let (raw, mime, text) = render(rng, &mail);
        let generated = Generated {
            index,
            message_id: canonical_id(&id),
            in_reply_to: parent,
            subject,
            sender: customer.email.clone(),
            date,
            attachments: mail.files.len(),
            html_only: slot.html_only,
            mime,
            raw,
            expect,
        };
        let sent = Sent {
            id: format!("<{id}>"),
            references,
            subject: base_subject,
            date,
            text,
            to,
        };
        (generated, sent)
    }
}
