//! The only user of mail-parser: raw bytes in, the facts intake needs out,
//! as plain owned data. Keeping the parser behind this module means the rest
//! of intake is tested on plain structs and a parser change touches one file.

use std::borrow::Cow;

use mail_parser::{Address, HeaderName, HeaderValue, MessageParser, MimeHeaders, PartType};

use super::message_id::MessageId;

/// A mailbox from an address header: lower-cased address, decoded name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Person {
    pub email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A part that is kept as a file on the ticket.
#[derive(Debug, Clone)]
pub struct RawAttachment {
    pub name: Option<String>,
    pub content_type: String,
    pub content_id: Option<String>,
    pub inline: bool,
    pub data: Vec<u8>,
}

/// What intake reads from a message.
#[derive(Debug, Clone, Default)]
pub struct ParsedMail {
    /// Top-level header fields, names lower-cased, values unfolded.
    pub headers: Vec<(String, String)>,
    pub subject: Option<String>,
    pub from: Vec<Person>,
    pub sender: Option<Person>,
    pub reply_to: Option<Person>,
    pub to: Vec<Person>,
    pub cc: Vec<Person>,
    /// `Some("")` for the null return path `<>` of bounces.
    pub return_path: Option<String>,
    pub message_id: Option<MessageId>,
    pub in_reply_to: Vec<MessageId>,
    pub references: Vec<MessageId>,
    /// `type/subtype` of the top-level part, lower case.
    pub content_type: String,
    pub content_language: Option<String>,
    pub date: Option<String>,
    pub text_body: Option<String>,
    pub html_body: Option<String>,
    pub attachments: Vec<RawAttachment>,
}

impl ParsedMail {
    /// The first value of a top-level header, by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn has_header(&self, name: &str) -> bool {
        self.header(name).is_some()
    }
}

/// Decodes a header value that may carry undeclared 8-bit bytes: UTF-8 when
/// it is valid, else Windows-1252, the charset such mail almost always uses.
fn decode_8bit(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => encoding_rs::WINDOWS_1252.decode(bytes).0,
    }
}

/// A text part whose 8-bit bytes came without a charset, read as
/// [`decode_8bit`] reads headers: mail-parser takes such bytes for UTF-8 and
/// replaces what is not (`L'�t�`), where the sender almost always meant
/// Windows-1252. Only parts sent as they are (no quoted-printable nor
/// base64) with no declared charset and a replacement character qualify.
fn undeclared_8bit<'m>(
    message: &'m mail_parser::Message<'_>,
    part: &mail_parser::MessagePart<'_>,
) -> Option<Cow<'m, str>> {
    let PartType::Text(text) = &part.body else {
        return None;
    };
    let declared = (part.content_type()).is_some_and(|ct| ct.attribute("charset").is_some());
    if declared || part.encoding != mail_parser::Encoding::None || !text.contains('\u{FFFD}') {
        return None;
    }
    let raw = message
        .raw_message
        .get(part.offset_body as usize..part.offset_end as usize)?;
    Some(Cow::Owned(decode_8bit(raw).into_owned()))
}

fn unfold(value: &str) -> String {
    value
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn people(address: Option<&Address<'_>>) -> Vec<Person> {
    let Some(address) = address else {
        return Vec::new();
    };
    address
        .iter()
        .filter_map(|addr| {
            let email = crate::model::EmailAddress::parse_received(
                addr.address()?.trim_matches(['<', '>']),
            )
            .ok()?
            .into_string();
            let name = addr
                .name()
                .map(|n| crate::model::text::collapse_whitespace(n.trim_matches('"')))
                .filter(|n| !n.is_empty() && n.to_lowercase() != email);
            Some(Person { email, name })
        })
        .collect()
}

fn message_ids(value: &HeaderValue<'_>) -> Vec<MessageId> {
    let texts: Vec<&str> = match value {
        HeaderValue::Text(t) => vec![t.as_ref()],
        HeaderValue::TextList(list) => list.iter().map(AsRef::as_ref).collect(),
        _ => Vec::new(),
    };
    texts.into_iter().filter_map(MessageId::parse).collect()
}

/// Replaces a header value decoded from undeclared 8-bit bytes (shown by
/// mail-parser as U+FFFD) with a Windows-1252 reading of the raw bytes.
fn repair_8bit(decoded: &str, raw: &[u8]) -> String {
    if decoded.contains('\u{fffd}')
        && std::str::from_utf8(raw).is_err()
        && !raw.windows(2).any(|w| w == b"=?")
    {
        return unfold(&decode_8bit(raw));
    }
    decoded.to_owned()
}

/// Mail saved by old Mac software ends its lines with CR alone, which MIME
/// parsers do not read as line breaks; such a message is read with LF.
fn normalise_cr_only(raw: &[u8]) -> Cow<'_, [u8]> {
    let head = &raw[..raw.len().min(8192)];
    if head.contains(&b'\r') && !head.contains(&b'\n') {
        Cow::Owned(
            raw.iter()
                .map(|&b| if b == b'\r' { b'\n' } else { b })
                .collect(),
        )
    } else {
        Cow::Borrowed(raw)
    }
}

/// Where the body starts: after the first empty line.
pub fn body_offset(raw: &[u8]) -> Option<usize> {
    let crlf = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4);
    let lf = raw.windows(2).position(|w| w == b"\n\n").map(|p| p + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A multipart message whose declared boundary never appears in its body
/// (broken relays and hand-made mail) hides all its text in one opaque part.
/// When the body has another delimiter line, the message is read again with
/// that boundary in its header.
fn repair_boundary(raw: &[u8], message: &mail_parser::Message<'_>) -> Option<Vec<u8>> {
    let declared = message.parts[0]
        .content_type()
        .filter(|ct| ct.ctype().eq_ignore_ascii_case("multipart"))?
        .attribute("boundary")?;
    let offset = body_offset(raw)?;
    let (head, body) = raw.split_at(offset);
    let marker = format!("--{declared}");
    if body.windows(marker.len()).any(|w| w == marker.as_bytes()) {
        return None;
    }
    let found = body.split(|&b| b == b'\n').find_map(|line| {
        let line = std::str::from_utf8(line).ok()?.trim_end();
        let boundary = line.strip_prefix("--")?.trim_end_matches("--");
        (!boundary.is_empty() && boundary.len() <= 200 && !boundary.contains(char::is_whitespace))
            .then_some(boundary)
    })?;
    let head = std::str::from_utf8(head).ok()?;
    let mut repaired = head.replacen(declared, found, 1).into_bytes();
    repaired.extend_from_slice(body);
    Some(repaired)
}

/// Messages saved from an mbox start with its `From sender date` separator
/// line, which is not a header.
fn skip_mbox_separator(raw: &[u8]) -> &[u8] {
    if raw.starts_with(b"From ")
        && let Some(end) = raw.iter().position(|&b| b == b'\n')
    {
        return &raw[end + 1..];
    }
    raw
}

/// The address in a From header that mail-parser could not read, such as
/// `Big Bug bb@bug.com` (a name and a bare address, no angle brackets).
fn bare_address(header_value: &str) -> Option<Person> {
    static ADDRESS: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"[^\s<>"(),;:@]+@[^\s<>"(),;:@]+\.[^\s<>"(),;:@]+"#)
            .expect("valid regex")
    });
    let found = ADDRESS.find(header_value)?;
    let name = crate::model::text::collapse_whitespace(
        header_value[..found.start()].trim().trim_matches('"'),
    );
    Some(Person {
        email: found.as_str().trim_end_matches('.').to_lowercase(),
        name: (!name.is_empty()).then_some(name),
    })
}

/// Parses raw bytes. Never fails: what cannot be read is left empty.
///
/// mail-parser 0.11 panics on some nested structures (a `message/rfc822`
/// part whose multipart it cannot find again; fuzzing found it, see
/// fixtures/intake/070-*). Such a message is read again with its body as
/// plain text, so it still becomes a ticket with its headers and text.
pub fn parse(raw: &[u8]) -> ParsedMail {
    match std::panic::catch_unwind(|| parse_unguarded(raw)) {
        Ok(mail) => mail,
        Err(_) => parse_as_plain_text(raw),
    }
}

/// The header block as the parser reads it, with the body taken as one
/// text/plain part: the content type and transfer encoding are dropped.
fn parse_as_plain_text(raw: &[u8]) -> ParsedMail {
    let at = body_offset(raw).unwrap_or(raw.len());
    let (head, body) = raw.split_at(at);
    let head = String::from_utf8_lossy(head);
    let kept: Vec<&str> = head
        .split_inclusive('\n')
        .fold((Vec::new(), false), |(mut kept, mut skipping), line| {
            let continuation = line.starts_with([' ', '\t']);
            if !continuation {
                let name = line.split(':').next().unwrap_or_default().trim();
                skipping = name.eq_ignore_ascii_case("content-type")
                    || name.eq_ignore_ascii_case("content-transfer-encoding");
            }
            if !skipping {
                kept.push(line);
            }
            (kept, skipping)
        })
        .0;
    let mut plain = kept.concat().into_bytes();
    plain.extend_from_slice(body);
    std::panic::catch_unwind(|| parse_unguarded(&plain)).unwrap_or_default()
}

fn parse_unguarded(raw: &[u8]) -> ParsedMail {
    let raw = normalise_cr_only(raw);
    let raw = skip_mbox_separator(raw.as_ref());
    let Some(message) = MessageParser::default().parse(raw) else {
        return ParsedMail::default();
    };
    if message.text_body.is_empty()
        && message.html_body.is_empty()
        && let Some(repaired) = repair_boundary(raw, &message)
    {
        return parse_message(&repaired);
    }
    parse_message_from(raw, message)
}

fn parse_message(raw: &[u8]) -> ParsedMail {
    match MessageParser::default().parse(raw) {
        Some(message) => parse_message_from(raw, message),
        None => ParsedMail::default(),
    }
}

fn parse_message_from(raw: &[u8], mut message: mail_parser::Message<'_>) -> ParsedMail {
    let root = &message.parts[0];
    let raw_header = |h: &mail_parser::Header<'_>| -> &[u8] {
        raw.get(h.offset_start as usize..h.offset_end as usize)
            .unwrap_or_default()
    };
    let headers: Vec<(String, String)> = root
        .headers
        .iter()
        .map(|h| {
            (
                h.name.as_str().to_ascii_lowercase(),
                unfold(&decode_8bit(raw_header(h))),
            )
        })
        .collect();

    let subject = root
        .headers
        .iter()
        .find(|h| h.name == HeaderName::Subject)
        .map(|h| match h.value.as_text() {
            Some(text) => repair_8bit(text, raw_header(h)),
            None => String::new(),
        });

    let mut from = people(message.from());
    if let Some(h) = root.headers.iter().find(|h| h.name == HeaderName::From) {
        let raw_from = raw_header(h);
        for person in &mut from {
            if let Some(name) = &person.name {
                person.name = Some(repair_8bit(name, raw_from));
            }
        }
    }

    if from.is_empty()
        && let Some((_, value)) = headers.iter().find(|(n, _)| n == "from")
    {
        from.extend(bare_address(value));
    }

    let return_path = headers
        .iter()
        .find(|(n, _)| n == "return-path")
        .map(|(_, v)| {
            v.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .trim()
                .to_lowercase()
        });

    let content_type = root.content_type().map_or_else(
        || "text/plain".to_owned(),
        |ct| format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("plain")).to_ascii_lowercase(),
    );

    let content_language = match root.content_language() {
        HeaderValue::Text(t) => Some(t.to_string()),
        HeaderValue::TextList(l) => l.first().map(ToString::to_string),
        _ => None,
    };

    let mut text_parts: Vec<Cow<'_, str>> = Vec::new();
    let mut html_parts = Vec::new();
    for id in &message.text_body {
        let Some(part) = message.parts.get(*id as usize) else {
            continue;
        };
        match &part.body {
            PartType::Text(text) => {
                text_parts.push(undeclared_8bit(&message, part).unwrap_or(Cow::Borrowed(text)));
            }
            PartType::Html(html) => html_parts.push(html.as_ref()),
            _ => {}
        }
    }
    for id in &message.html_body {
        if let Some(PartType::Html(html)) = message.parts.get(*id as usize).map(|p| &p.body)
            && !html_parts.contains(&html.as_ref())
        {
            html_parts.push(html.as_ref());
        }
    }
    let join = |parts: Vec<&str>| (!parts.is_empty()).then(|| parts.join("\n\n"));

    let mut parsed = ParsedMail {
        subject,
        from,
        sender: people(message.sender()).into_iter().next(),
        reply_to: people(message.reply_to()).into_iter().next(),
        to: people(message.to()),
        cc: people(message.cc()),
        return_path,
        message_id: message.message_id().and_then(MessageId::parse),
        in_reply_to: message_ids(message.in_reply_to()),
        references: message_ids(message.references()),
        content_type,
        content_language,
        date: message.date().map(mail_parser::DateTime::to_rfc3339),
        text_body: join(text_parts.iter().map(AsRef::as_ref).collect()),
        html_body: join(html_parts),
        attachments: Vec::new(),
        headers,
    };
    // Last, because the decoded contents are moved out of the message
    // rather than copied: a large attachment is held once, not twice.
    for id in message.attachments.clone() {
        if let Some(part) = message.parts.get_mut(id as usize) {
            parsed.attachments.push(attachment(part));
        }
    }
    parsed
}

fn attachment(part: &mut mail_parser::MessagePart<'_>) -> RawAttachment {
    let content_type = part.content_type().map_or_else(
        || match part.body {
            PartType::Message(_) => "message/rfc822".to_owned(),
            PartType::Text(_) => "text/plain".to_owned(),
            PartType::Html(_) => "text/html".to_owned(),
            _ => "application/octet-stream".to_owned(),
        },
        |ct| {
            let sub = ct.subtype().unwrap_or("octet-stream");
            format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase()
        },
    );
    let mut name = part.attachment_name().map(str::to_owned);
    if name.is_none()
        && let PartType::Message(nested) = &part.body
    {
        // A forwarded message is named after its subject.
        name = nested.subject().map(|s| format!("{s}.eml"));
    }
    let inline = part
        .content_disposition()
        .is_some_and(|cd| cd.ctype().eq_ignore_ascii_case("inline"));
    let content_id = part
        .content_id()
        .map(|id| {
            id.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
        .filter(|id| !id.is_empty());
    let decoded = matches!(
        &part.body,
        PartType::Binary(std::borrow::Cow::Owned(_))
            | PartType::InlineBinary(std::borrow::Cow::Owned(_))
    );
    let mut data = if decoded {
        match std::mem::replace(&mut part.body, PartType::Binary(Default::default())) {
            PartType::Binary(c) | PartType::InlineBinary(c) => c.into_owned(),
            _ => Vec::new(),
        }
    } else {
        part.contents().to_vec()
    };
    if part.is_encoding_problem
        && let Some(decoded) = redecode(part.content_transfer_encoding(), &data)
    {
        data = decoded;
    }
    RawAttachment {
        name,
        content_type,
        content_id,
        inline,
        data,
    }
}

/// mail-parser leaves a part undecoded when it cannot find where the part
/// ends (a missing closing boundary). When the raw text is valid base64, as
/// its header says, it is decoded here.
fn redecode(transfer_encoding: Option<&str>, raw: &[u8]) -> Option<Vec<u8>> {
    if !transfer_encoding?.trim().eq_ignore_ascii_case("base64") {
        return None;
    }
    let compact: Vec<u8> = raw
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let valid = compact
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
    if compact.is_empty() || !valid {
        return None;
    }
    mail_parser::decoders::base64::base64_decode(&compact)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_mbox_separator_line_is_not_a_header() {
        let mail = parse(b"From joe@company.com Fri Feb 19 08:41:30 2010\nFrom: Joe <joe@company.com>\nSubject: hi\n\nbody\n");
        assert_eq!(mail.from[0].email, "joe@company.com");
        assert_eq!(mail.subject.as_deref(), Some("hi"));
    }

    #[test]
    fn a_bare_address_after_a_name_is_read() {
        let mail = parse(b"From: Big Bug bb@bug.com\nSubject: x\n\nbody\n");
        assert_eq!(
            mail.from,
            [Person {
                email: "bb@bug.com".into(),
                name: Some("Big Bug".into())
            }]
        );
        assert!(
            parse(b"From: nobody at all\nSubject: x\n\nbody\n")
                .from
                .is_empty()
        );
    }

    #[test]
    fn undeclared_latin_1_bodies_read_as_windows_1252() {
        let text = |raw: &[u8]| parse(raw).text_body.unwrap();
        // No Content-Type at all, then text/plain without a charset.
        let bare = b"From: a@b.fr\nSubject: x\n\nL'\xe9t\xe9 d\xe9j\xe0 \x80.\n";
        assert_eq!(text(bare).trim_end(), "L'été déjà €.");
        let plain = b"From: a@b.fr\nContent-Type: text/plain\nContent-Transfer-Encoding: 8bit\n\nd\xe9j\xe0\n";
        assert_eq!(text(plain).trim_end(), "déjà");
        // UTF-8 without a charset stays UTF-8; a declared charset is obeyed.
        let utf8 = "From: a@b.fr\nSubject: x\n\nL'été déjà.\n";
        assert_eq!(text(utf8.as_bytes()).trim_end(), "L'été déjà.");
        let declared = b"From: a@b.fr\nContent-Type: text/plain; charset=iso-8859-15\n\n\xa4uro\n";
        assert_eq!(text(declared).trim_end(), "€uro");
    }
}
