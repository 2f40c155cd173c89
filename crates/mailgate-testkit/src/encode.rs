//! Encoders: RFC 2047 encoded words, quoted-printable, base64 and the
//! percent-encoding of RFC 2231 file names.

use crate::charset::Charset;

/// RFC 2047 encoded words of at most 75 characters, whole characters in
/// each, separated by spaces (where the header folds).
pub(crate) fn encoded_words(text: &str, charset: Charset, b: bool) -> String {
    let prefix = format!("=?{}?{}?", charset.mime_name(), if b { "B" } else { "Q" });
    let room = 75 - prefix.len() - 2;
    let mut words = Vec::new();
    let mut bytes: Vec<u8> = Vec::new();
    let mut q = String::new();
    let mut utf8 = [0u8; 4];
    for c in text.chars() {
        let encoded = charset.encode(c.encode_utf8(&mut utf8));
        if b {
            if !bytes.is_empty() && (bytes.len() + encoded.len()).div_ceil(3) * 4 > room {
                words.push(format!("{prefix}{}?=", base64(&bytes)));
                bytes.clear();
            }
            bytes.extend_from_slice(&encoded);
        } else {
            let piece: String = encoded
                .iter()
                .map(|&byte| match byte {
                    b' ' => "_".to_owned(),
                    b'!' | b'*' | b'+' | b'-' | b'/' => (byte as char).to_string(),
                    byte if byte.is_ascii_alphanumeric() => (byte as char).to_string(),
                    byte => format!("={byte:02X}"),
                })
                .collect();
            if !q.is_empty() && q.len() + piece.len() > room {
                words.push(format!("{prefix}{q}?="));
                q.clear();
            }
            q.push_str(&piece);
        }
    }
    if b && !bytes.is_empty() {
        words.push(format!("{prefix}{}?=", base64(&bytes)));
    }
    if !b && !q.is_empty() {
        words.push(format!("{prefix}{q}?="));
    }
    words.join(" ")
}

/// Quoted-printable (RFC 2045 6.7) of CRLF text: lines of at most 76
/// characters with soft breaks, trailing white space encoded.
pub(crate) fn quoted_printable(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 8);
    let mut lines = bytes.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let mut column = 0;
        for (i, &b) in line.iter().enumerate() {
            let last = i + 1 == line.len();
            let literal =
                ((b == b' ' || b == b'\t') && !last) || ((33..=126).contains(&b) && b != b'=');
            let width = if literal { 1 } else { 3 };
            if column + width > 75 {
                out.extend_from_slice(b"=\r\n");
                column = 0;
            }
            if literal {
                out.push(b);
            } else {
                out.extend_from_slice(format!("={b:02X}").as_bytes());
            }
            column += width;
        }
        if lines.peek().is_some() {
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

pub(crate) const BASE64: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub(crate) fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = match chunk.len() {
            3 => (u32::from(chunk[0]) << 16) | (u32::from(chunk[1]) << 8) | u32::from(chunk[2]),
            2 => (u32::from(chunk[0]) << 16) | (u32::from(chunk[1]) << 8),
            _ => u32::from(chunk[0]) << 16,
        };
        out.push(BASE64[(n >> 18) as usize & 63] as char);
        out.push(BASE64[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            BASE64[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            BASE64[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// Base64 in lines of 76 characters, each ending with CRLF.
pub(crate) fn base64_lines(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() / 3 * 4 + bytes.len() / 28 + 8);
    for chunk in bytes.chunks(57) {
        out.extend_from_slice(base64(chunk).as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use rand::{RngCore, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::headers::header_text;
    use crate::mime::push_header;

    #[test]
    fn encoders() {
        // Base64 against the crate the project already uses.
        use base64::Engine as _;
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for len in [0, 1, 2, 3, 4, 56, 57, 58, 1000] {
            let mut data = vec![0u8; len];
            rng.fill_bytes(&mut data);
            assert_eq!(
                base64(&data),
                base64::engine::general_purpose::STANDARD.encode(&data)
            );
            let lines = base64_lines(&data);
            for line in lines.split(|&b| b == b'\n') {
                assert!(line.len() <= 77);
            }
        }
        // Quoted-printable: short lines, decodes back.
        let text = "Très long texte avec des accents éèà et un signe = qui revient, répété plusieurs fois pour dépasser la limite de soixante-seize caractères.   \r\nFrom here\r\n";
        for charset in [Charset::Utf8, Charset::Latin1, Charset::Cp1252] {
            let bytes = charset.encode(text);
            let qp = quoted_printable(&bytes);
            for line in qp.split(|&b| b == b'\n') {
                assert!(line.len() <= 77, "{:?}", String::from_utf8_lossy(line));
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                assert!(!line.ends_with(b" "));
            }
            let raw = [
                format!(
                    "Content-Type: text/plain; charset={}\r\n",
                    charset.mime_name()
                )
                .as_bytes(),
                b"Content-Transfer-Encoding: quoted-printable\r\n\r\n",
                &qp,
            ]
            .concat();
            let message = mail_parser::MessageParser::default().parse(&raw).unwrap();
            assert_eq!(
                message.body_text(0).unwrap().replace("\r\n", "\n"),
                charset.prepare(text).replace("\r\n", "\n"),
                "{charset:?}"
            );
        }
        // Encoded words: every length, both encodings, decoded back.
        for charset in [Charset::Utf8, Charset::Latin1, Charset::Cp1252] {
            for b in [false, true] {
                for len in [1, 10, 30, 70, 120] {
                    let subject: String = "[Gravité : haute] Écran blanc – l’export "
                        .chars()
                        .cycle()
                        .take(len)
                        .collect();
                    let subject = charset.prepare(&subject);
                    let mut raw = Vec::new();
                    push_header(&mut raw, "Subject", &header_text(&subject, charset, b));
                    raw.extend_from_slice(b"\r\nbody\r\n");
                    for line in raw.split(|&x| x == b'\n') {
                        assert!(line.len() <= 86, "{:?}", String::from_utf8_lossy(line));
                    }
                    let message = mail_parser::MessageParser::default().parse(&raw).unwrap();
                    assert_eq!(message.subject(), Some(subject.as_str()), "{charset:?} {b}");
                }
            }
        }
    }
}
