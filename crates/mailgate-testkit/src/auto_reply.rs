//! Auto-replies to a confirmation we could have sent: Outlook rules,
//! Gmail's vacation responder, Sieve vacation, old autoresponders.

use chrono::{Datelike, Duration};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use mailgate::model::Language;

use crate::SUPPORT_ADDRESS;
use crate::body::{Block, Doc};
use crate::charset::{Charset, Cte};
use crate::expect::Expect;
use crate::generator::{Generated, Generator};
use crate::headers::{canonical_id, header_text, mailbox, message_id, received, rfc2822};
use crate::mime::{boundary, describe, finish, multipart, text_entity};
use crate::people::{Client, ascii_fold};
use crate::rng::{hex, pick};
use crate::vocab::{FIRST_NAMES, FR_DAYS, FR_MONTHS, LAST_NAMES, li};

impl Generator {
    /// A confirmation we could have sent the customer: its key, subject and
    /// Message-ID (bounces return it too).
    // A method like its siblings, though it reads nothing of the mix.
    #[allow(clippy::unused_self)]
    pub(crate) fn confirmation(
        &self,
        rng: &mut ChaCha8Rng,
        index: usize,
        lang: Language,
    ) -> (String, String, String) {
        let key = format!("SUP-{}", rng.gen_range(1..=index.max(1) as u32));
        let subject = match lang {
            Language::Fr => format!("[{key}] Votre demande a bien été enregistrée"),
            Language::En => format!("[{key}] We have received your request"),
        };
        let id = format!(
            "<{}.confirmation.{}@example.com>",
            key.to_lowercase(),
            hex(rng, 24)
        );
        (key, subject, id)
    }

    /// Message `index`: the customer's auto-reply to a confirmation.
    pub(crate) fn auto_reply(&self, rng: &mut ChaCha8Rng, index: usize) -> Generated {
        let customer = &self.customers[self.slots[index].customer];
        let lang = customer.lang;
        let fr = lang == Language::Fr;
        let date = self.date(rng, index, customer.offset);
        let (_, confirmation, confirmation_id) = self.confirmation(rng, index, lang);
        let back = date + Duration::days(rng.gen_range(3..15));
        let back_text = if fr {
            format!(
                "{} {} {}",
                FR_DAYS[back.weekday().num_days_from_monday() as usize],
                back.day(),
                FR_MONTHS[back.month0() as usize]
            )
        } else {
            back.format("%A %-d %B").to_string()
        };
        let l = li(lang);
        let colleague_first = *pick(rng, FIRST_NAMES[l]);
        let colleague_last = *pick(rng, LAST_NAMES[l]);
        let colleague = format!("{colleague_first} {colleague_last}");
        let colleague_email = format!(
            "{}.{}@{}",
            ascii_fold(colleague_first),
            ascii_fold(colleague_last),
            customer.domain
        );
        let text = if fr {
            format!(
                "Bonjour,\n\nJe suis absent du bureau jusqu'au {back_text} inclus, avec un accès limité à mes e-mails.\nPour toute urgence, merci de contacter {colleague} ({colleague_email}).\n\nCordialement,\n{}\n",
                customer.name
            )
        } else {
            format!(
                "Hello,\n\nI am out of the office until {back_text} with limited access to email.\nFor anything urgent please contact {colleague} at {colleague_email}.\n\nBest regards,\n{}\n",
                customer.name
            )
        };
        let id = message_id(rng, customer, date);
        // Outlook rules, Gmail's vacation responder, server-side Sieve
        // vacation or an old autoresponder, as the customer's setup has.
        let variant = match customer.client {
            Client::Outlook => *pick(rng, &[0, 0, 1]),
            Client::Gmail => 3,
            Client::Zimbra => *pick(rng, &[2, 3]),
            Client::Thunderbird | Client::AppleMail => *pick(rng, &[2, 4]),
        };
        let mut headers: Vec<(String, String)> = Vec::new();
        let h = |headers: &mut Vec<(String, String)>, n: &str, v: String| {
            headers.push((n.to_owned(), v));
        };
        let return_path = if variant == 2 {
            "<>".to_owned()
        } else {
            format!("<{}>", customer.email)
        };
        h(&mut headers, "Return-Path", return_path);
        h(
            &mut headers,
            "Received",
            received(rng, customer.client, &customer.domain, date),
        );
        let subject = match variant {
            0 | 1 => format!(
                "{}{confirmation}",
                if fr {
                    "Réponse automatique : "
                } else {
                    "Automatic reply: "
                }
            ),
            2 => format!("Auto: {confirmation}"),
            3 => {
                if fr {
                    format!("Absent jusqu'au {back_text}")
                } else {
                    format!("Away until {back_text}")
                }
            }
            _ => format!("Re: {confirmation}"),
        };
        let charset = if variant == 4 {
            Charset::Latin1
        } else {
            Charset::Utf8
        };
        let subject = charset.prepare(&subject);
        h(&mut headers, "Date", rfc2822(date));
        h(
            &mut headers,
            "From",
            mailbox(&customer.name, &customer.email, charset, false),
        );
        h(&mut headers, "To", format!("Support <{SUPPORT_ADDRESS}>"));
        h(
            &mut headers,
            "Subject",
            header_text(&subject, charset, rng.gen_bool(0.5)),
        );
        h(&mut headers, "Message-ID", format!("<{id}>"));
        h(&mut headers, "In-Reply-To", confirmation_id.clone());
        h(&mut headers, "References", confirmation_id);
        match variant {
            0 => {
                h(&mut headers, "Auto-Submitted", "auto-generated".into());
                h(&mut headers, "X-Auto-Response-Suppress", "All".into());
                h(
                    &mut headers,
                    "X-MS-Exchange-Inbox-Rules-Loop",
                    customer.email.clone(),
                );
                h(
                    &mut headers,
                    "Content-Language",
                    if fr { "fr-FR" } else { "en-US" }.into(),
                );
            }
            1 => {
                h(&mut headers, "X-MS-Has-Attach", String::new());
            }
            2 => {
                h(
                    &mut headers,
                    "Auto-Submitted",
                    "auto-replied (vacation)".into(),
                );
                h(&mut headers, "Precedence", "bulk".into());
            }
            3 => {
                h(&mut headers, "Auto-Submitted", "auto-replied".into());
            }
            _ => {
                h(&mut headers, "X-Autoreply", "yes".into());
            }
        }
        let cte = if variant == 4 { Cte::EightBit } else { Cte::Qp };
        let plain = text_entity("plain", &text, charset, cte, customer.client);
        let entity = if variant <= 1 {
            let doc = Doc(text
                .trim_end()
                .split("\n\n")
                .map(|p| Block::Para(p.lines().map(str::to_owned).collect()))
                .collect());
            let html = text_entity(
                "html",
                &doc.html(customer.client, charset),
                charset,
                cte,
                customer.client,
            );
            multipart(
                "alternative",
                boundary(rng, customer.client),
                vec![plain, html],
                "",
            )
        } else {
            plain
        };
        let mime = describe(&entity, charset, cte);
        let mut raw = Vec::new();
        finish(&mut raw, headers, entity);
        Generated {
            index,
            message_id: canonical_id(&id),
            in_reply_to: None,
            subject,
            sender: customer.email.clone(),
            date,
            attachments: 0,
            html_only: false,
            mime,
            raw,
            expect: Expect::Ignored {
                reason: "auto-reply",
            },
        }
    }
}
