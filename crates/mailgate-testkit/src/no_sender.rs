//! Broken senders: a script's report without any sender address.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use mailgate::model::Language;

use crate::SUPPORT_ADDRESS;
use crate::charset::{Charset, Cte};
use crate::expect::Expect;
use crate::generator::{Generated, Generator};
use crate::headers::{canonical_id, header_text, rfc2822};
use crate::mime::{describe, finish, text_entity};
use crate::people::Client;
use crate::rng::hex;
use crate::vocab::PRODUCTS;

impl Generator {
    /// A report from a customer's misconfigured script: no From, no Sender,
    /// no Reply-To, no Return-Path.
    pub(crate) fn no_sender(&self, rng: &mut ChaCha8Rng, index: usize) -> Generated {
        let customer = &self.customers[self.slots[index].customer];
        let fr = customer.lang == Language::Fr;
        let date = self.date(rng, index, customer.offset);
        let product = rng.gen_range(0..4);
        let (subject, text) = if fr {
            (
                format!("Échec de la sauvegarde nocturne {}", PRODUCTS[product]),
                format!(
                    "Le traitement planifié s'est terminé en erreur (code {}) à {}.\n\nFichier : /var/backups/{}/{}.tar.gz\nEspace libre : {} Go\n\nCe message est envoyé automatiquement par le serveur de sauvegarde.\n",
                    rng.gen_range(1..9),
                    date.format("%H:%M"),
                    PRODUCTS[product].to_lowercase(),
                    date.format("%Y-%m-%d"),
                    rng.gen_range(0..4)
                ),
            )
        } else {
            (
                format!("Nightly {} backup failed", PRODUCTS[product]),
                format!(
                    "The scheduled job ended with an error (exit code {}) at {}.\n\nFile: /var/backups/{}/{}.tar.gz\nFree space: {} GB\n\nThis message is sent automatically by the backup server.\n",
                    rng.gen_range(1..9),
                    date.format("%H:%M"),
                    PRODUCTS[product].to_lowercase(),
                    date.format("%Y-%m-%d"),
                    rng.gen_range(0..4)
                ),
            )
        };
        let host = format!("srv-batch{:02}.{}", rng.gen_range(1..20), customer.domain);
        let id = format!("{}.{}@{host}", date.timestamp(), hex(rng, 16));
        let headers = vec![
            ("To".to_owned(), SUPPORT_ADDRESS.to_owned()),
            (
                "Subject".to_owned(),
                header_text(&subject, Charset::Utf8, false),
            ),
            ("Date".to_owned(), rfc2822(date)),
            ("Message-ID".to_owned(), format!("<{id}>")),
            (
                "X-Mailer".to_owned(),
                "PHPMailer 6.8.1 (https://github.com/PHPMailer/PHPMailer)".to_owned(),
            ),
        ];
        let entity = text_entity(
            "plain",
            &text,
            Charset::Utf8,
            Cte::EightBit,
            Client::Thunderbird,
        );
        let mime = describe(&entity, Charset::Utf8, Cte::EightBit);
        let mut raw = Vec::new();
        finish(&mut raw, headers, entity);
        Generated {
            index,
            message_id: canonical_id(&id),
            in_reply_to: None,
            subject,
            sender: "MAILER-DAEMON".to_owned(),
            date,
            attachments: 0,
            html_only: false,
            mime,
            raw,
            expect: Expect::Rejected {
                reason: "no-sender",
            },
        }
    }
}
