//! Renders a customer's message as their mail client writes it: header
//! fields, body parts and attachments.

use chrono::{DateTime, FixedOffset};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use mailgate::model::Language;

use crate::attachments::{File, file_entity};
use crate::body::{Doc, wrap};
use crate::charset::{Charset, Cte};
use crate::headers::{header_text, mailbox, received, rfc2822};
use crate::mime::{boundary, describe, finish, multipart, text_entity};
use crate::people::{Client, Customer};
use crate::rng::alnum;

/// Everything a customer's message is rendered from.
pub(crate) struct Mail<'a> {
    pub(crate) customer: &'a Customer,
    pub(crate) date: DateTime<FixedOffset>,
    pub(crate) id: String,
    pub(crate) to: String,
    pub(crate) to_name: Option<&'static str>,
    pub(crate) cc: Option<(String, String)>,
    pub(crate) subject: String,
    pub(crate) in_reply_to: Option<String>,
    pub(crate) references: Vec<String>,
    pub(crate) doc: Doc,
    pub(crate) html_only: bool,
    pub(crate) alternative: bool,
    pub(crate) charset: Charset,
    pub(crate) cte: Cte,
    pub(crate) files: Vec<File>,
}

/// Renders a customer's message; returns the bytes, the MIME description
/// and the plain text as sent (for later quoting).
pub(crate) fn render(rng: &mut ChaCha8Rng, mail: &Mail<'_>) -> (Vec<u8>, String, String) {
    let c = mail.customer;
    let client = c.client;
    let fr = c.lang == Language::Fr;
    let mut headers: Vec<(String, String)> = vec![
        ("Return-Path".into(), format!("<{}>", c.email)),
        (
            "Received".into(),
            received(rng, client, &c.domain, mail.date),
        ),
    ];
    let h = |headers: &mut Vec<(String, String)>, n: &str, v: String| {
        headers.push((n.to_owned(), v));
    };
    let b_words = match client {
        Client::Thunderbird => true,
        Client::Gmail | Client::AppleMail => rng.gen_bool(0.5),
        Client::Outlook | Client::Zimbra => false,
    };
    if client == Client::Gmail {
        h(&mut headers, "MIME-Version", "1.0".into());
    }
    h(&mut headers, "Date", rfc2822(mail.date));
    h(
        &mut headers,
        "From",
        mailbox(&c.name, &c.email, mail.charset, client == Client::Outlook),
    );
    h(
        &mut headers,
        "To",
        match mail.to_name {
            Some(name) => format!("{name} <{}>", mail.to),
            None => mail.to.clone(),
        },
    );
    if let Some((name, email)) = &mail.cc {
        h(
            &mut headers,
            "Cc",
            mailbox(name, email, mail.charset, false),
        );
    }
    h(
        &mut headers,
        "Subject",
        header_text(&mail.subject, mail.charset, b_words),
    );
    h(&mut headers, "Message-ID", format!("<{}>", mail.id));
    if let Some(parent) = &mail.in_reply_to {
        h(&mut headers, "In-Reply-To", parent.clone());
        h(&mut headers, "References", mail.references.join(" "));
    }
    match client {
        Client::Outlook => {
            h(&mut headers, "X-Mailer", "Microsoft Outlook 16.0".into());
            h(
                &mut headers,
                "Thread-Index",
                format!("AQ{}", alnum(rng, 30)),
            );
            h(
                &mut headers,
                "Content-Language",
                if fr { "fr-FR" } else { "en-US" }.into(),
            );
        }
        Client::Thunderbird => {
            h(&mut headers, "User-Agent", "Mozilla Thunderbird".into());
            if rng.gen_bool(0.5) {
                h(
                    &mut headers,
                    "Content-Language",
                    if fr { "fr" } else { "en-US" }.into(),
                );
            }
        }
        Client::AppleMail => {
            h(
                &mut headers,
                "X-Mailer",
                if rng.gen_bool(0.5) {
                    "Apple Mail (2.3826.400.131.1.6)"
                } else {
                    "iPhone Mail (22D72)"
                }
                .into(),
            );
        }
        Client::Zimbra => {
            h(
                &mut headers,
                "X-Mailer",
                "Zimbra 9.0.0_GA_4583 (ZimbraWebClient - FF136 (Win)/9.0.0_GA_4583)".into(),
            );
            h(
                &mut headers,
                "X-Originating-IP",
                format!(
                    "[10.{}.{}.{}]",
                    rng.gen_range(0..255),
                    rng.gen_range(0..255),
                    rng.gen_range(1..255)
                ),
            );
        }
        Client::Gmail => {}
    }

    let sent_text = {
        let text = mail.doc.text();
        if mail.cte == Cte::EightBit {
            wrap(&text, 76)
        } else {
            text
        }
    };
    let body = if mail.html_only {
        text_entity(
            "html",
            &mail.doc.html(client, mail.charset),
            mail.charset,
            mail.cte,
            client,
        )
    } else if mail.alternative {
        multipart(
            "alternative",
            boundary(rng, client),
            vec![
                text_entity("plain", &sent_text, mail.charset, mail.cte, client),
                text_entity(
                    "html",
                    &mail.doc.html(client, mail.charset),
                    mail.charset,
                    mail.cte,
                    client,
                ),
            ],
            "",
        )
    } else {
        text_entity("plain", &sent_text, mail.charset, mail.cte, client)
    };
    let body_type = describe(&body, mail.charset, mail.cte);
    let entity = if mail.files.is_empty() {
        body
    } else {
        let mut parts = vec![body];
        parts.extend(mail.files.iter().map(file_entity));
        multipart("mixed", boundary(rng, client), parts, "")
    };
    let mime = if mail.files.is_empty() {
        body_type
    } else {
        format!("multipart/mixed [{body_type}] +{} files", mail.files.len())
    };
    let mut raw = Vec::new();
    finish(&mut raw, headers, entity);
    (raw, mime, sent_text)
}
