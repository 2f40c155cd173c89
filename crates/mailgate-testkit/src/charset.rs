//! Charsets and transfer encodings, and which of them each mail client
//! picks.

use rand_chacha::ChaCha8Rng;

use mailgate::model::Language;

use crate::people::Client;
use crate::rng::weighted;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Charset {
    Utf8,
    Latin1,
    Cp1252,
}

impl Charset {
    /// The text as this charset can carry it: ISO-8859-1 has no curly
    /// quotes, euro sign nor ligatures.
    pub(crate) fn prepare(self, text: &str) -> String {
        if self != Charset::Latin1 {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            match c {
                '’' | '‘' => out.push('\''),
                '“' | '”' => out.push('"'),
                '–' | '—' => out.push('-'),
                '…' => out.push_str("..."),
                '€' => out.push_str("EUR"),
                'œ' => out.push_str("oe"),
                'Œ' => out.push_str("OE"),
                c if (c as u32) < 0x80 || (0xA0..=0xFF).contains(&(c as u32)) => out.push(c),
                _ => out.push('?'),
            }
        }
        out
    }

    pub(crate) fn encode(self, text: &str) -> Vec<u8> {
        match self {
            Charset::Utf8 => text.as_bytes().to_vec(),
            // Latin-1 text is the same bytes in Windows-1252.
            Charset::Latin1 => encoding_rs::WINDOWS_1252
                .encode(&self.prepare(text))
                .0
                .into_owned(),
            Charset::Cp1252 => encoding_rs::WINDOWS_1252.encode(text).0.into_owned(),
        }
    }

    /// The name in encoded words.
    pub(crate) fn mime_name(self) -> &'static str {
        match self {
            Charset::Utf8 => "UTF-8",
            Charset::Latin1 => "ISO-8859-1",
            Charset::Cp1252 => "windows-1252",
        }
    }

    /// The name as each client writes it in Content-Type.
    pub(crate) fn label(self, client: Client) -> &'static str {
        match (self, client) {
            (Charset::Utf8, Client::Gmail | Client::Thunderbird) => "UTF-8",
            (Charset::Utf8, _) => "utf-8",
            (Charset::Latin1, Client::Thunderbird) => "ISO-8859-1",
            (Charset::Latin1, _) => "iso-8859-1",
            (Charset::Cp1252, _) => "windows-1252",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cte {
    EightBit,
    Qp,
    Base64,
}

pub(crate) fn encoding(rng: &mut ChaCha8Rng, client: Client, lang: Language) -> (Charset, Cte) {
    match client {
        Client::Gmail => (
            Charset::Utf8,
            weighted(rng, &[(Cte::Qp, 0.8), (Cte::Base64, 0.2)]),
        ),
        Client::Outlook => (
            match lang {
                Language::Fr => weighted(rng, &[(Charset::Cp1252, 0.7), (Charset::Latin1, 0.3)]),
                Language::En => weighted(rng, &[(Charset::Cp1252, 0.6), (Charset::Utf8, 0.4)]),
            },
            weighted(rng, &[(Cte::Qp, 0.85), (Cte::Base64, 0.15)]),
        ),
        Client::Thunderbird => (
            weighted(rng, &[(Charset::Utf8, 0.8), (Charset::Latin1, 0.2)]),
            weighted(
                rng,
                &[(Cte::EightBit, 0.85), (Cte::Qp, 0.1), (Cte::Base64, 0.05)],
            ),
        ),
        Client::AppleMail => (
            Charset::Utf8,
            weighted(rng, &[(Cte::Qp, 0.9), (Cte::EightBit, 0.1)]),
        ),
        Client::Zimbra => (
            weighted(rng, &[(Charset::Utf8, 0.7), (Charset::Latin1, 0.3)]),
            weighted(
                rng,
                &[(Cte::Qp, 0.6), (Cte::Base64, 0.2), (Cte::EightBit, 0.2)],
            ),
        ),
    }
}
