//! The only user of mail-parser: raw bytes in, the facts intake needs out,
//! as plain owned data. Keeping the parser behind this module means the rest
//! of intake is tested on plain structs and a parser change touches one file.

use std::borrow::Cow;

use mail_parser::{Address, HeaderName, HeaderValue, MessageParser, MimeHeaders, PartType};

use super::message_id::MessageId;
use super::{charset, sealed};
use crate::model::slice::{self, Place, TransferEncoding};

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
    /// Where `data` lies, encoded, in the raw message (when decoding that
    /// place gives exactly `data`): the store keeps it there, not twice.
    pub place: Option<Place>,
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
    /// Set when the message's only content is encrypted or opaquely signed
    /// (see [`sealed::Sealing`]); the sealed parts are among `attachments`.
    pub sealed: Option<sealed::Sealing>,
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
    charset::utf8_or_windows_1252(bytes)
}

/// The bytes of a part after its transfer encoding, read again from the raw
/// message: mail-parser hands out only text for text parts.
fn transfer_decoded<'r>(
    raw: &'r [u8],
    part: &mail_parser::MessagePart<'_>,
) -> Option<Cow<'r, [u8]>> {
    let body = raw.get(part.offset_body as usize..part.offset_end as usize)?;
    match part.encoding {
        mail_parser::Encoding::None => Some(Cow::Borrowed(body)),
        mail_parser::Encoding::QuotedPrintable => Some(Cow::Owned(charset::quoted_printable(body))),
        mail_parser::Encoding::Base64 => {
            let compact: Vec<u8> = body
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            mail_parser::decoders::base64::base64_decode(&compact).map(Cow::Owned)
        }
    }
}

/// A text part read again where mail-parser's reading cannot be trusted
/// (see [`charset::Reading`]): without a charset (or with `us-ascii` or an
/// unknown name) it takes 8-bit bytes for UTF-8 and replaces what is not
/// (`L'\u{fffd}t\u{fffd}`), whatever the transfer encoding, where the sender
/// almost always meant Windows-1252; a part labelled UTF-8 may hold such
/// bytes too; and its UTF-7 decoder drops characters.
/// `None` when mail-parser's text stands.
fn reread_text(raw: &[u8], part: &mail_parser::MessagePart<'_>) -> Option<String> {
    let (PartType::Text(text) | PartType::Html(text)) = &part.body else {
        return None;
    };
    let label = part.content_type().and_then(|ct| ct.attribute("charset"));
    let reading = charset::reading(label, |l| {
        mail_parser::decoders::charsets::map::charset_decoder(l.as_bytes()).is_some()
    });
    let stands = match reading {
        charset::Reading::Declared => true,
        // ASCII reads the same in every charset this concerns.
        charset::Reading::Guess => text.is_ascii(),
        // Valid UTF-8 was read right; only a replaced sequence says otherwise.
        charset::Reading::Utf8 => !text.contains('\u{fffd}'),
        charset::Reading::Utf7 => false,
    };
    if stands {
        return None;
    }
    charset::decode(reading, &transfer_decoded(raw, part)?)
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

    let read = |part, text| read_text(raw, part, text);
    let mut text_parts: Vec<Cow<'_, str>> = Vec::new();
    let mut html_parts: Vec<Cow<'_, str>> = Vec::new();
    for id in &message.text_body {
        let Some(part) = message.parts.get(*id as usize) else {
            continue;
        };
        match &part.body {
            PartType::Text(text) => text_parts.push(read(part, text)),
            PartType::Html(html) => html_parts.push(read(part, html)),
            _ => {}
        }
    }
    for id in &message.html_body {
        if let Some(part) = message.parts.get(*id as usize)
            && let PartType::Html(html) = &part.body
        {
            let html = read(part, html);
            if !html_parts.contains(&html) {
                html_parts.push(html);
            }
        }
    }
    let join = |parts: &[Cow<'_, str>]| {
        (!parts.is_empty()).then(|| {
            parts
                .iter()
                .map(AsRef::as_ref)
                .collect::<Vec<&str>>()
                .join("\n\n")
        })
    };
    let readable = text_parts
        .iter()
        .chain(&html_parts)
        .any(|t| !t.trim().is_empty());
    // Only a message with nothing else to read is sealed: a readable mail
    // that carries an encrypted file is read as usual.
    let sealing = if readable {
        None
    } else {
        message.parts.iter().find_map(sealing_of)
    };

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
        text_body: join(&text_parts),
        html_body: join(&html_parts),
        attachments: Vec::new(),
        sealed: sealing,
        headers,
    };
    // Last, because the decoded contents are moved out of the message
    // rather than copied: a large attachment is held once, not twice.
    for id in message.attachments.clone() {
        let Some(part) = message.parts.get(id as usize) else {
            continue;
        };
        let text = reread_text(raw, part);
        if sealing == Some(sealed::Sealing::PgpMime)
            && part.content_type().is_some_and(|ct| {
                ct.ctype().eq_ignore_ascii_case("application")
                    && ct
                        .subtype()
                        .is_some_and(|s| s.eq_ignore_ascii_case("pgp-encrypted"))
            })
        {
            // RFC 3156 4: the control part says only `Version: 1`.
            continue;
        }
        if let Some(part) = message.parts.get_mut(id as usize) {
            let mut kept = attachment(part);
            if let Some(text) = text {
                kept.data = text.into_bytes();
            }
            kept.place = place_in_message(raw, part, &kept.data);
            if kept.name.is_none()
                && sealing == Some(sealed::Sealing::PgpMime)
                && kept.content_type == "application/octet-stream"
            {
                kept.name = Some(sealed::INLINE_PGP_NAME.to_owned());
            }
            parsed.attachments.push(kept);
        }
    }
    if parsed.sealed.is_none()
        && parsed.html_body.is_none()
        && let Some(text) = &parsed.text_body
        && sealed::is_inline_pgp(text)
    {
        parsed.sealed = Some(sealed::Sealing::PgpInline);
        parsed.attachments.push(RawAttachment {
            name: Some(sealed::INLINE_PGP_NAME.to_owned()),
            content_type: sealed::INLINE_PGP_TYPE.to_owned(),
            content_id: None,
            inline: false,
            data: format!("{}\n", text.trim()).into_bytes(),
            place: None,
        });
    }
    parsed
}

/// A body part's text: mail-parser's, or read again by [`reread_text`].
fn read_text<'t>(raw: &[u8], part: &mail_parser::MessagePart<'_>, text: &'t str) -> Cow<'t, str> {
    reread_text(raw, part).map_or(Cow::Borrowed(text), Cow::Owned)
}

/// How a part seals the message, if it does (see [`sealed::Sealing`]).
fn sealing_of(part: &mail_parser::MessagePart<'_>) -> Option<sealed::Sealing> {
    let ct = part.content_type()?;
    let content_type =
        format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default()).to_ascii_lowercase();
    sealed::Sealing::of_part(&sealed::PartFacts {
        content_type: &content_type,
        smime_type: ct.attribute("smime-type"),
        protocol: ct.attribute("protocol"),
        name: part.attachment_name(),
    })
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
        place: None,
    }
}

/// The files of a message that lie byte for byte in it, by digest and
/// size: an outgoing mail's, whose copies on the ticket the store then
/// keeps as these places.
pub fn files_in_place(raw: &[u8]) -> Vec<(String, usize, Place)> {
    parse(raw)
        .attachments
        .into_iter()
        .filter_map(|file| {
            let place = file.place?;
            Some((super::sha256_hex(&file.data), file.data.len(), place))
        })
        .collect()
}

/// The place of a part's decoded content in the raw message, if it has one
/// (see [`Place`]).
fn place_in_message(raw: &[u8], part: &mail_parser::MessagePart<'_>, data: &[u8]) -> Option<Place> {
    let encoding = match part.encoding {
        mail_parser::Encoding::None => TransferEncoding::Identity,
        mail_parser::Encoding::Base64 => TransferEncoding::Base64,
        mail_parser::Encoding::QuotedPrintable => return None,
    };
    slice::place_of(
        raw,
        part.offset_body as usize,
        part.offset_end as usize,
        encoding,
        data,
    )
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

    #[test]
    fn undeclared_charsets_in_encoded_parts_read_as_windows_1252() {
        let text = |raw: &str| parse(raw.as_bytes()).text_body.unwrap();
        // Quoted-printable, no charset: Latin-1 bytes.
        let qp = "From: a@b.fr\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\nL'=E9t=E9 d=E9j=E0, soft=\n break =3D ok\n";
        assert_eq!(text(qp).trim_end(), "L'été déjà, soft break = ok");
        // Base64, declared us-ascii: Windows-1252 bytes (curly quotes, €, œ).
        let b64 = "From: a@b.fr\nContent-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: base64\n\nk1JlbGFuY2VzlCCAIGOcdXI=\n";
        assert_eq!(text(b64), "“Relances” € cœur");
        // An unknown charset name on 8-bit bytes is a guess too.
        let unknown = b"From: a@b.fr\nContent-Type: text/plain; charset=x-unknown\n\nd\xe9j\xe0\n";
        assert_eq!(parse(unknown).text_body.unwrap().trim_end(), "déjà");
        // UTF-8 sent without a charset, or as us-ascii, stays UTF-8.
        let utf8 = "From: a@b.fr\nContent-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: quoted-printable\n\nd=C3=A9j=C3=A0\n";
        assert_eq!(text(utf8).trim_end(), "déjà");
        // Labelled UTF-8 with Latin-1 pasted in: each part keeps its reading.
        let mixed = b"From: a@b.fr\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n\xc3\xa9t\xc3\xa9 d\xe9j\xe0\n";
        assert_eq!(parse(mixed).text_body.unwrap().trim_end(), "été déjà");
        // A real U+FFFD in valid UTF-8 is the sender's and stays.
        let fffd = "From: a@b.fr\nContent-Transfer-Encoding: base64\n\n77+9IGV0IMOp\n";
        assert_eq!(text(fffd), "\u{fffd} et é");
    }

    #[test]
    fn undeclared_html_and_text_attachments_are_read_the_same_way() {
        let raw = b"From: a@b.fr\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/html\nContent-Transfer-Encoding: quoted-printable\n\n<p>Co=FBt : 12 =80</p>\n--b\nContent-Type: text/plain; name=journal.log\nContent-Disposition: attachment; filename=journal.log\n\nErreur \xe0 l'import\n--b--\n";
        let mail = parse(raw);
        assert!(mail.html_body.unwrap().contains("Coût : 12 €"));
        assert_eq!(mail.attachments.len(), 1);
        let log = String::from_utf8(mail.attachments[0].data.clone()).unwrap();
        assert_eq!(log.trim_end(), "Erreur à l'import");
    }

    #[test]
    fn utf_7_bodies_follow_rfc_2152() {
        let raw = "From: a@b.fr\nContent-Type: text/plain; charset=\"UTF-7\"\n\nla mise +AOA jour, 1+-1=2\nsant+AOk\nfin\n";
        assert_eq!(
            parse(raw.as_bytes()).text_body.unwrap(),
            "la mise à jour, 1+1=2\nsanté\nfin\n"
        );
        let qp = "From: a@b.fr\nContent-Type: text/plain; charset=utf-7\nContent-Transfer-Encoding: quoted-printable\n\nt+AOI-ches=\n ok\n";
        assert_eq!(
            parse(qp.as_bytes()).text_body.unwrap().trim_end(),
            "tâches ok"
        );
    }

    #[test]
    fn sealed_messages_keep_their_sealed_parts() {
        let smime = "From: a@b.fr\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data\nContent-Transfer-Encoding: base64\n\nMIAGCSqGSIb3DQEHA6CAMIACAQAxggE=\n";
        let mail = parse(smime.as_bytes());
        assert_eq!(mail.sealed, Some(sealed::Sealing::SmimeEncrypted));
        assert_eq!(mail.attachments.len(), 1);
        assert_eq!(mail.attachments[0].content_type, "application/pkcs7-mime");
        assert_eq!(mail.attachments[0].data.len(), 23);

        let pgp = "From: a@b.fr\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=b\n\n--b\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n--b\nContent-Type: application/octet-stream\n\n-----BEGIN PGP MESSAGE-----\n\nhQEMA\n-----END PGP MESSAGE-----\n--b--\n";
        let mail = parse(pgp.as_bytes());
        assert_eq!(mail.sealed, Some(sealed::Sealing::PgpMime));
        let kept: Vec<_> = mail
            .attachments
            .iter()
            .map(|a| (a.name.as_deref(), a.content_type.as_str()))
            .collect();
        assert_eq!(kept, [(Some("encrypted.asc"), "application/octet-stream")]);

        let inline =
            "From: a@b.fr\n\n-----BEGIN PGP MESSAGE-----\n\nhQEMA\n-----END PGP MESSAGE-----\n";
        let mail = parse(inline.as_bytes());
        assert_eq!(mail.sealed, Some(sealed::Sealing::PgpInline));
        assert_eq!(mail.attachments[0].name.as_deref(), Some("encrypted.asc"));

        // A readable message that carries an encrypted file is not sealed.
        let mixed = "From: a@b.fr\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nVoici le fichier.\n--b\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\nContent-Transfer-Encoding: base64\n\nMIAGCSqGSIb3DQEHA6CAMIACAQAxggE=\n--b--\n";
        let mail = parse(mixed.as_bytes());
        assert_eq!(mail.sealed, None);
        assert_eq!(mail.attachments.len(), 1);
    }
}
