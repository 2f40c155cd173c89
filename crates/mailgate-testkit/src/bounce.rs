//! Bounces of a confirmation we sent: Postfix and Exchange Online
//! `multipart/report`, qmail's plain text.

use chrono::Duration;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use mailgate::model::Language;

use crate::SUPPORT_ADDRESS;
use crate::charset::{Charset, Cte};
use crate::expect::Expect;
use crate::generator::{Generated, Generator};
use crate::headers::{canonical_id, header_text, rfc2822};
use crate::mime::{boundary, describe, finish, multipart, raw_entity, text_entity};
use crate::people::{Client, ascii_fold};
use crate::rng::{alnum, pick_str};
use crate::vocab::{FIRST_NAMES, LAST_NAMES, li};

impl Generator {
    /// Message `index`: a confirmation to the customer's domain, bounced.
    pub(crate) fn bounce(&self, rng: &mut ChaCha8Rng, index: usize) -> Generated {
        let customer = &self.customers[self.slots[index].customer];
        let lang = customer.lang;
        let fr = lang == Language::Fr;
        let l = li(lang);
        let date = self.date(rng, index, 1);
        let (key, confirmation, confirmation_id) = self.confirmation(rng, index, lang);
        // The address that bounced: the customer's, or a colleague who left.
        let recipient = if rng.gen_bool(0.5) {
            customer.email.clone()
        } else {
            format!(
                "{}.{}@{}",
                ascii_fold(pick_str(rng, FIRST_NAMES[l])),
                ascii_fold(pick_str(rng, LAST_NAMES[l])),
                customer.domain
            )
        };
        let sent_at = date - Duration::seconds(rng.gen_range(2..600));
        let original = format!(
            "Return-Path: <{SUPPORT_ADDRESS}>\nDate: {}\nFrom: Example Support <{SUPPORT_ADDRESS}>\nTo: {recipient}\nSubject: {}\nMessage-ID: {confirmation_id}\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n",
            rfc2822(sent_at),
            header_text(&confirmation, Charset::Utf8, false)
        );
        let original_body = if fr {
            format!(
                "Bonjour,\n\nVotre demande a été enregistrée sous la référence {key}.\nRépondez à ce message pour compléter votre demande.\n\nLe support Example\n"
            )
        } else {
            format!(
                "Hello,\n\nYour request has been filed as {key}.\nReply to this message to add information.\n\nExample Support\n"
            )
        };
        let queue_id = format!("4Z{}", alnum(rng, 10));
        let variant = rng.gen_range(0..3);
        let mut headers: Vec<(String, String)> = vec![("Return-Path".into(), "<>".into())];
        let (from, subject, mut entity, sender) = match variant {
            0 => {
                // Postfix, our own relay.
                headers.push((
                    "Received".into(),
                    format!(
                        "by mx1.example.com (Postfix) id {queue_id}; {}",
                        rfc2822(date)
                    ),
                ));
                let notice = format!(
                    "This is the mail system at host mx1.example.com.\n\nI'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients. It's attached below.\n\nFor further assistance, please send mail to postmaster.\n\nIf you do so, please include this problem report. You can\ndelete your own text from the attached returned message.\n\n                   The mail system\n\n<{recipient}>: host mail.{}[203.0.113.{}] said: 550 5.1.1\n    <{recipient}>: Recipient address rejected: User unknown in virtual\n    mailbox table (in reply to RCPT TO command)\n",
                    customer.domain,
                    rng.gen_range(2..250)
                );
                let status = format!(
                    "Reporting-MTA: dns; mx1.example.com\nX-Postfix-Queue-ID: {queue_id}\nX-Postfix-Sender: rfc822; {SUPPORT_ADDRESS}\nArrival-Date: {}\n\nFinal-Recipient: rfc822; {recipient}\nOriginal-Recipient: rfc822;{recipient}\nAction: failed\nStatus: 5.1.1\nRemote-MTA: dns; mail.{}\nDiagnostic-Code: smtp; 550 5.1.1 <{recipient}>: Recipient address\n    rejected: User unknown in virtual mailbox table\n",
                    rfc2822(sent_at),
                    customer.domain
                );
                let parts = vec![
                    raw_entity(
                        &[
                            ("Content-Description", "Notification"),
                            ("Content-Type", "text/plain; charset=us-ascii"),
                        ],
                        &notice,
                    ),
                    raw_entity(
                        &[
                            ("Content-Description", "Delivery report"),
                            ("Content-Type", "message/delivery-status"),
                        ],
                        &status,
                    ),
                    raw_entity(
                        &[
                            ("Content-Description", "Undelivered Message"),
                            ("Content-Type", "message/rfc822"),
                            ("Content-Transfer-Encoding", "8bit"),
                        ],
                        &format!("{original}\n{original_body}"),
                    ),
                ];
                (
                    "MAILER-DAEMON@mx1.example.com (Mail Delivery System)".to_owned(),
                    "Undelivered Mail Returned to Sender".to_owned(),
                    multipart(
                        "report",
                        format!("{queue_id}.{}/mx1.example.com", date.timestamp()),
                        parts,
                        "; report-type=delivery-status",
                    ),
                    "MAILER-DAEMON".to_owned(),
                )
            }
            1 => {
                // Exchange Online at the customer's.
                headers.push((
                    "Received".into(),
                    format!(
                        "from mail-{}.outbound.protection.outlook.com (mail-{0}.outbound.protection.outlook.com [52.100.{}.{}])\n\tby mx1.example.com (Postfix) with ESMTPS id {queue_id}\n\tfor <{SUPPORT_ADDRESS}>; {}",
                        alnum(rng, 6).to_lowercase(),
                        rng.gen_range(0..255),
                        rng.gen_range(1..255),
                        rfc2822(date)
                    ),
                ));
                let notice = if fr {
                    format!(
                        "Impossible de remettre votre message à {recipient}, car l'adresse est introuvable ou ne peut pas recevoir de courrier.\n\nCe que vous devez faire :\nLe destinataire n'existe plus dans l'organisation {}. Vérifiez l'adresse ou contactez le destinataire par un autre moyen.\n\nDiagnostic pour les administrateurs :\nServeur de génération : {}.prod.outlook.com\n{recipient}\nRemote server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'\n",
                        customer.domain,
                        alnum(rng, 12).to_uppercase()
                    )
                } else {
                    format!(
                        "Your message to {recipient} couldn't be delivered.\n{recipient} wasn't found at {}.\n\nAction required\nThe recipient may have left the organisation. Check the address and try again.\n\nDiagnostic information for administrators:\nGenerating server: {}.prod.outlook.com\n{recipient}\nRemote server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'\n",
                        customer.domain,
                        alnum(rng, 12).to_uppercase()
                    )
                };
                let status = format!(
                    "Reporting-MTA: dns;{}.prod.outlook.com\nReceived-From-MTA: dns;mx1.example.com\nArrival-Date: {}\n\nFinal-Recipient: rfc822;{recipient}\nAction: failed\nStatus: 5.1.10\nDiagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup\n",
                    alnum(rng, 12).to_uppercase(),
                    rfc2822(sent_at)
                );
                let parts = vec![
                    text_entity("plain", &notice, Charset::Utf8, Cte::Qp, Client::Outlook),
                    raw_entity(&[("Content-Type", "message/delivery-status")], &status),
                    raw_entity(&[("Content-Type", "text/rfc822-headers")], &original),
                ];
                let subject = format!(
                    "{}{confirmation}",
                    if fr {
                        "Non remis : "
                    } else {
                        "Undeliverable: "
                    }
                );
                (
                    format!("Microsoft Outlook <postmaster@{}>", customer.domain),
                    subject,
                    multipart(
                        "report",
                        boundary(rng, Client::Outlook),
                        parts,
                        "; report-type=delivery-status",
                    ),
                    "MAILER-DAEMON".to_owned(),
                )
            }
            _ => {
                // qmail: plain text from MAILER-DAEMON.
                headers.push((
                    "Received".into(),
                    format!(
                        "from mail.{} (mail.{0} [198.51.100.{}])\n\tby mx1.example.com (Postfix) with ESMTP id {queue_id}\n\tfor <{SUPPORT_ADDRESS}>; {}",
                        customer.domain,
                        rng.gen_range(2..250),
                        rfc2822(date)
                    ),
                ));
                let text = format!(
                    "Hi. This is the qmail-send program at mail.{}.\nI'm afraid I wasn't able to deliver your message to the following addresses.\nThis is a permanent error; I've given up. Sorry it didn't work out.\n\n<{recipient}>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n--- Below this line is a copy of the message.\n\n{original}\n{original_body}",
                    customer.domain
                );
                (
                    format!("MAILER-DAEMON@mail.{}", customer.domain),
                    "failure notice".to_owned(),
                    text_entity(
                        "plain",
                        &text,
                        Charset::Utf8,
                        Cte::EightBit,
                        Client::Thunderbird,
                    ),
                    "MAILER-DAEMON".to_owned(),
                )
            }
        };
        let id = format!(
            "{}.{}@{}",
            date.format("%Y%m%d%H%M%S"),
            queue_id,
            if variant == 0 {
                "mx1.example.com".to_owned()
            } else {
                format!("mail.{}", customer.domain)
            }
        );
        let subject = Charset::Utf8.prepare(&subject);
        headers.push(("Date".into(), rfc2822(date)));
        headers.push(("From".into(), from));
        headers.push((
            "Subject".into(),
            header_text(&subject, Charset::Utf8, false),
        ));
        headers.push(("To".into(), SUPPORT_ADDRESS.into()));
        headers.push(("Auto-Submitted".into(), "auto-replied".into()));
        headers.push(("Message-ID".into(), format!("<{id}>")));
        if variant == 2 {
            entity
                .headers
                .retain(|(n, _)| n != "Content-Transfer-Encoding");
        }
        let mime = describe(&entity, Charset::Utf8, Cte::EightBit);
        let mut raw = Vec::new();
        finish(&mut raw, headers, entity);
        Generated {
            index,
            message_id: canonical_id(&id),
            in_reply_to: None,
            subject,
            sender,
            date,
            attachments: 0,
            html_only: false,
            mime,
            raw,
            expect: Expect::Ignored { reason: "bounce" },
        }
    }
}
