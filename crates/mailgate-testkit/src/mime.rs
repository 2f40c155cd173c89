//! MIME assembly: entities, text and multipart parts, boundaries, folded
//! header fields, the finished message.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::charset::{Charset, Cte};
use crate::encode::{base64_lines, quoted_printable};
use crate::people::Client;
use crate::rng::{alnum, hex, uuid};

/// A MIME entity: its header fields and its encoded body (CRLF).
#[derive(Debug, Clone)]
pub(crate) struct Entity {
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

/// A text part: the text (LF) in canonical form, in the charset, with the
/// transfer encoding.
pub(crate) fn text_entity(
    subtype: &str,
    text: &str,
    charset: Charset,
    cte: Cte,
    client: Client,
) -> Entity {
    let bytes = charset.encode(&text.replace('\n', "\r\n"));
    let (label, body) = match cte {
        Cte::EightBit if bytes.is_ascii() => ("7bit", bytes),
        Cte::EightBit => ("8bit", bytes),
        Cte::Qp => ("quoted-printable", quoted_printable(&bytes)),
        Cte::Base64 => ("base64", base64_lines(&bytes)),
    };
    let content_type = match client {
        Client::Gmail | Client::Outlook => {
            format!("text/{subtype}; charset=\"{}\"", charset.label(client))
        }
        _ => format!("text/{subtype}; charset={}", charset.label(client)),
    };
    Entity {
        headers: vec![
            ("Content-Type".into(), content_type),
            ("Content-Transfer-Encoding".into(), label.into()),
        ],
        body,
    }
}

/// A part written as is (7bit or 8bit text, LF line endings).
pub(crate) fn raw_entity(headers: &[(&str, &str)], text: &str) -> Entity {
    Entity {
        headers: headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect(),
        body: text.replace('\n', "\r\n").into_bytes(),
    }
}

pub(crate) fn multipart(
    subtype: &str,
    boundary: String,
    parts: Vec<Entity>,
    params: &str,
) -> Entity {
    let mut body = Vec::new();
    body.extend_from_slice(b"This is a multi-part message in MIME format.\r\n");
    for part in parts {
        body.extend_from_slice(format!("\r\n--{boundary}\r\n").as_bytes());
        for (name, value) in &part.headers {
            push_header(&mut body, name, value);
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(&part.body);
    }
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Entity {
        headers: vec![(
            "Content-Type".into(),
            format!("multipart/{subtype}{params}; boundary=\"{boundary}\""),
        )],
        body,
    }
}

pub(crate) fn boundary(rng: &mut ChaCha8Rng, client: Client) -> String {
    match client {
        Client::Gmail => format!("000000000000{}", hex(rng, 12)),
        Client::Outlook => format!("_000_{}_", alnum(rng, 40)),
        Client::Thunderbird => format!("------------{}", alnum(rng, 24)),
        Client::AppleMail => format!("Apple-Mail={}", uuid(rng).to_uppercase()),
        Client::Zimbra => format!(
            "----=_Part_{}_{}.{}",
            rng.gen_range(100_000..999_999),
            rng.gen_range(100_000..999_999),
            rng.gen_range(1_700_000_000_000u64..1_800_000_000_000)
        ),
    }
}

/// The MIME structure in a few words.
pub(crate) fn describe(entity: &Entity, charset: Charset, cte: Cte) -> String {
    let content_type = |e: &Entity| {
        e.headers
            .iter()
            .find(|(n, _)| n == "Content-Type")
            .map(|(_, v)| v.split(';').next().unwrap_or_default().to_owned())
            .unwrap_or_default()
    };
    let top = content_type(entity);
    let cte = match cte {
        Cte::EightBit => "8bit",
        Cte::Qp => "quoted-printable",
        Cte::Base64 => "base64",
    };
    format!("{top} {} {cte}", charset.mime_name().to_lowercase())
}

/// Writes the message: its header fields, the entity's, the body.
pub(crate) fn finish(out: &mut Vec<u8>, headers: Vec<(String, String)>, entity: Entity) {
    for (name, value) in &headers {
        push_header(out, name, value);
    }
    if !headers.iter().any(|(n, _)| n == "MIME-Version") {
        push_header(out, "MIME-Version", "1.0");
    }
    for (name, value) in &entity.headers {
        push_header(out, name, value);
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&entity.body);
}

/// A header field, folded at spaces to keep lines near 78 characters.
/// Line breaks already in the value (LF) are kept as folds.
pub(crate) fn push_header(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b":");
    let mut line_len = name.len() + 1;
    for (i, segment) in value.split('\n').enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\r\n");
            line_len = 0;
        }
        for (j, word) in segment.split(' ').enumerate() {
            let first_of_value = i == 0 && j == 0;
            if i > 0 && j == 0 {
                // The segment brings its own leading white space (a tab).
                out.extend_from_slice(word.as_bytes());
                line_len += word.len();
                continue;
            }
            if !first_of_value && line_len + 1 + word.len() > 78 && line_len > 1 {
                out.extend_from_slice(b"\r\n");
                line_len = 0;
            }
            out.push(b' ');
            out.extend_from_slice(word.as_bytes());
            line_len += 1 + word.len();
        }
    }
    out.extend_from_slice(b"\r\n");
}
