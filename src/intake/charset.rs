//! How the bytes of a text part become text when its label cannot be
//! trusted: no charset, `us-ascii` on 8-bit bytes, a name nobody knows,
//! `utf-8` on bytes that are not, or UTF-7, which the parser reads wrongly.
//!
//! Mail without a declared charset is, in practice, either UTF-8 or the
//! sender's Windows code page; in the French and English mail mailgate
//! reads that is Windows-1252 (a superset of Latin-1 for every printable
//! byte). A statistical detector would only pay for other scripts, whose
//! mail almost always declares its charset; one was not added for that.

use std::borrow::Cow;

/// How a text part's bytes are to be read, from its `charset` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// A charset the parser knows and obeys.
    Declared,
    /// UTF-8 when the bytes are valid UTF-8, else Windows-1252: no label,
    /// an ASCII label on 8-bit bytes, or a label no decoder knows.
    Guess,
    /// UTF-8 as labelled; a byte sequence that is not UTF-8 is read as
    /// Windows-1252, byte by byte: software that labels everything UTF-8
    /// still pastes Latin-1 text (a quoted mail, a form field) into it.
    Utf8,
    /// UTF-7 (RFC 2152), decoded by [`super::utf7`].
    Utf7,
}

/// Labels of ASCII: a promise that 8-bit bytes break, so they say nothing
/// about what those bytes are.
const ASCII: &[&str] = &[
    "us-ascii",
    "ascii",
    "us",
    "ansi_x3.4-1968",
    "iso646-us",
    "csascii",
];

/// Labels of UTF-7 (IANA and the variants mail software writes).
const UTF7: &[&str] = &["utf-7", "utf7", "csutf7", "unicode-1-1-utf-7", "x-utf-7"];

/// The reading for a part labelled `label`; `known` says whether the parser
/// has a decoder for a label.
pub fn reading(label: Option<&str>, known: impl FnOnce(&str) -> bool) -> Reading {
    let label = label
        .map(|l| l.trim().trim_matches(['"', '\'']).trim())
        .unwrap_or_default();
    if label.is_empty() {
        return Reading::Guess;
    }
    let lower = label.to_ascii_lowercase();
    let utf8 = lower.contains("utf-8") || lower.contains("utf8");
    if UTF7.contains(&lower.as_str()) {
        Reading::Utf7
    } else if utf8 {
        Reading::Utf8
    } else if ASCII.contains(&lower.as_str()) || !known(label) {
        Reading::Guess
    } else {
        Reading::Declared
    }
}

/// UTF-8 when the bytes are valid UTF-8, else Windows-1252 (which maps
/// every byte: the result never holds U+FFFD unless the bytes spelled it).
pub fn utf8_or_windows_1252(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => {
            encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(bytes)
                .0
        }
    }
}

/// UTF-8 where the bytes are UTF-8, and each byte of a sequence that is not
/// read as Windows-1252.
pub fn utf8_then_windows_1252(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        text.push_str(chunk.valid());
        text.push_str(
            &encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(chunk.invalid())
                .0,
        );
    }
    text
}

/// Decodes bytes as the reading says; `None` for [`Reading::Declared`],
/// which the parser has already read.
pub fn decode(reading: Reading, bytes: &[u8]) -> Option<String> {
    match reading {
        Reading::Declared => None,
        Reading::Guess => Some(utf8_or_windows_1252(bytes).into_owned()),
        Reading::Utf8 => Some(utf8_then_windows_1252(bytes)),
        Reading::Utf7 => Some(super::utf7::decode(bytes)),
    }
}

/// The value of a hexadecimal digit, either case.
fn hex(byte: u8) -> Option<u8> {
    char::from(byte)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Quoted-printable (RFC 2045 6.7) decoded leniently, as mail clients do: an
/// `=` that starts neither an escape nor a soft line break is kept as it is,
/// where a strict decoder would give up on the whole part.
pub fn quoted_printable(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        i += 1;
        if byte != b'=' {
            out.push(byte);
            continue;
        }
        if let (Some(high), Some(low)) = (
            bytes.get(i).copied().and_then(hex),
            bytes.get(i + 1).copied().and_then(hex),
        ) {
            out.push((high << 4) | low);
            i += 2;
            continue;
        }
        // A soft line break: `=`, optional trailing blanks, then the end of
        // the line.
        let mut end = i;
        while matches!(bytes.get(end), Some(b' ' | b'\t')) {
            end += 1;
        }
        match bytes.get(end) {
            Some(b'\n') => i = end + 1,
            Some(b'\r') if bytes.get(end + 1) == Some(&b'\n') => i = end + 2,
            None => i = end,
            _ => out.push(b'='),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        let known = |l: &str| matches!(l.to_ascii_lowercase().as_str(), "iso-8859-1" | "koi8-r");
        for (label, expected) in [
            (None, Reading::Guess),
            (Some(""), Reading::Guess),
            (Some("\"\""), Reading::Guess),
            (Some("US-ASCII"), Reading::Guess),
            (Some("\"us-ascii\""), Reading::Guess),
            (Some("x-unknown"), Reading::Guess),
            (Some("unknown-8bit"), Reading::Guess),
            (Some("UTF-7"), Reading::Utf7),
            (Some("\"utf-7\""), Reading::Utf7),
            (Some("utf-8"), Reading::Utf8),
            (Some("UTF8"), Reading::Utf8),
            (Some("ISO-8859-1"), Reading::Declared),
            (Some("koi8-r"), Reading::Declared),
        ] {
            assert_eq!(reading(label, known), expected, "{label:?}");
        }
    }

    #[test]
    fn guessed_text_is_utf8_or_windows_1252() {
        assert_eq!(utf8_or_windows_1252("déjà".as_bytes()), "déjà");
        assert_eq!(
            utf8_or_windows_1252(b"\x93Relances\x94 d\x92Helios \x80 c\x9cur\x85"),
            "“Relances” d’Helios € cœur…"
        );
        assert_eq!(utf8_or_windows_1252(b"L'\xe9t\xe9"), "L'été");
        // Bytes Windows-1252 leaves undefined still map to a character.
        assert!(!utf8_or_windows_1252(b"\x81\x8d\x8f\x90\x9d").contains('\u{fffd}'));
        assert_eq!(decode(Reading::Declared, b"x"), None);
        // Declared UTF-8 with Latin-1 pasted in: each keeps its reading.
        assert_eq!(
            decode(
                Reading::Utf8,
                "été, "
                    .as_bytes()
                    .iter()
                    .chain(b"d\xe9j\xe0")
                    .copied()
                    .collect::<Vec<u8>>()
                    .as_slice()
            )
            .as_deref(),
            Some("été, déjà")
        );
        assert_eq!(
            decode(Reading::Utf7, b"+AOk-t+AOk-").as_deref(),
            Some("été")
        );
    }

    #[test]
    fn quoted_printable_is_decoded_leniently() {
        for (encoded, decoded) in [
            (&b"L'=E9t=e9 d=E9j=E0"[..], &b"L'\xe9t\xe9 d\xe9j\xe0"[..]),
            (b"soft =\nbreak", b"soft break"),
            (b"soft =  \r\nbreak", b"soft break"),
            (b"1 + 1 = 2", b"1 + 1 = 2"),
            (b"=G1 =4", b"=G1 =4"),
            (b"end=", b"end"),
            (b"line\nnext\r\n", b"line\nnext\r\n"),
        ] {
            assert_eq!(
                quoted_printable(encoded),
                decoded,
                "{}",
                String::from_utf8_lossy(encoded)
            );
        }
    }
}
