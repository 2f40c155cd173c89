//! Attachment file names that are safe to show, store and offer for
//! download, whatever the sender put in them.

use crate::model::text::truncate_bytes;

/// The longest name kept, in bytes (the usual file-system limit).
pub const MAX_NAME_BYTES: usize = 255;

/// Names Windows reserves for devices, with or without an extension.
fn is_reserved_device(stem: &str) -> bool {
    let upper = stem.to_ascii_uppercase();
    matches!(
        upper.as_str(),
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$"
    ) || ((upper.starts_with("COM") || upper.starts_with("LPT"))
        && upper.len() == 4
        && upper.as_bytes()[3].is_ascii_digit())
}

/// Content types and their usual extension; for an extension, the first
/// type listed is the one it is read as.
const TYPES: &[(&str, &str)] = &[
    ("application/pdf", "pdf"),
    ("image/png", "png"),
    ("image/jpeg", "jpg"),
    ("image/jpeg", "jpeg"),
    ("image/jpg", "jpg"),
    ("image/pjpeg", "jpg"),
    ("image/gif", "gif"),
    ("image/webp", "webp"),
    ("image/svg+xml", "svg"),
    ("image/bmp", "bmp"),
    ("image/tiff", "tiff"),
    ("text/plain", "txt"),
    ("text/plain", "log"),
    ("text/csv", "csv"),
    ("text/html", "html"),
    ("text/calendar", "ics"),
    ("application/xml", "xml"),
    ("text/xml", "xml"),
    ("application/json", "json"),
    ("application/zip", "zip"),
    ("application/x-zip-compressed", "zip"),
    ("application/gzip", "gz"),
    ("application/x-gzip", "gz"),
    ("message/rfc822", "eml"),
    ("message/delivery-status", "txt"),
    ("application/vnd.ms-tnef", "dat"),
    ("application/ms-tnef", "dat"),
    ("application/msword", "doc"),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
    ),
    ("application/vnd.ms-excel", "xls"),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
    ),
    ("application/vnd.oasis.opendocument.text", "odt"),
    ("application/vnd.oasis.opendocument.spreadsheet", "ods"),
    ("application/pkcs7-signature", "p7s"),
    ("application/x-pkcs7-signature", "p7s"),
    ("application/pkcs7-mime", "p7m"),
    ("application/x-pkcs7-mime", "p7m"),
    ("application/pgp-encrypted", "asc"),
];

/// The name a part of this type always has where it comes from, for one
/// sent without a name: Outlook's TNEF is `winmail.dat` everywhere, and
/// S/MIME names its parts `smime.p7m` and `smime.p7s` (RFC 8551 3.2.1).
pub fn usual_name(content_type: &str) -> Option<&'static str> {
    match content_type {
        "application/ms-tnef" | "application/vnd.ms-tnef" => Some("winmail.dat"),
        "application/pkcs7-mime" | "application/x-pkcs7-mime" => Some("smime.p7m"),
        "application/pkcs7-signature" | "application/x-pkcs7-signature" => Some("smime.p7s"),
        _ => None,
    }
}

/// A file-name extension for a content type, for parts sent without a name.
pub fn extension_for(content_type: &str) -> &'static str {
    TYPES
        .iter()
        .find(|(t, _)| *t == content_type)
        .map_or("bin", |(_, ext)| ext)
}

/// The content type of a file by its name's extension, for files the team
/// attaches.
pub fn content_type_for(filename: &str) -> &'static str {
    let ext = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    TYPES
        .iter()
        .find(|(_, e)| *e == ext)
        .map_or("application/octet-stream", |(t, _)| t)
}

/// A safe file name: the last path component only; no control characters,
/// no characters Windows forbids, no leading dots (hidden files, `..`), no
/// trailing dots or spaces, no reserved device names; at most 255 bytes with
/// the extension kept. `None` when nothing usable is left.
pub fn safe_filename(name: &str) -> Option<String> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .map(|c| match c {
            c if c.is_control() => ' ',
            '<' | '>' | ':' | '"' | '|' | '?' | '*' => '_',
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => ' ', // bidi overrides: `exe.pdf` tricks
            c => c,
        })
        .collect();
    let cleaned = crate::model::text::collapse_whitespace(&cleaned);
    let cleaned = cleaned
        .trim_start_matches(['.', ' '])
        .trim_end_matches(['.', ' ']);
    if cleaned.is_empty() || !cleaned.chars().any(|c| c != '_') {
        return None;
    }
    let (stem, extension) = match cleaned.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= 16 => (stem, Some(ext)),
        _ => (cleaned, None),
    };
    let stem = if is_reserved_device(stem) {
        format!("_{stem}")
    } else {
        stem.to_owned()
    };
    Some(match extension {
        Some(ext) => {
            let room = MAX_NAME_BYTES - ext.len() - 1;
            format!("{}.{ext}", truncate_bytes(&stem, room))
        }
        None => truncate_bytes(&stem, MAX_NAME_BYTES)
            .trim_end_matches(['.', ' '])
            .to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for (input, expected) in [
            ("rapport.pdf", Some("rapport.pdf")),
            ("../../etc/passwd", Some("passwd")),
            ("/etc/passwd", Some("passwd")),
            ("C:\\Windows\\system32\\cmd.exe", Some("cmd.exe")),
            ("..", None),
            ("...", None),
            ("", None),
            ("  ", None),
            (".htaccess", Some("htaccess")),
            ("a\0b.txt", Some("a b.txt")),
            ("line\r\nbreak.txt", Some("line break.txt")),
            ("CON", Some("_CON")),
            ("con.txt", Some("_con.txt")),
            ("LPT1.log", Some("_LPT1.log")),
            ("COM10.log", Some("COM10.log")),
            ("what?.pdf", Some("what_.pdf")),
            ("report.pdf.", Some("report.pdf")),
            ("évaluation été.pdf", Some("évaluation été.pdf")),
            ("invoice\u{202e}fdp.exe", Some("invoice fdp.exe")),
            ("***", None),
        ] {
            assert_eq!(safe_filename(input).as_deref(), expected, "{input:?}");
        }
    }

    #[test]
    fn parts_without_a_name_get_their_usual_one() {
        assert_eq!(usual_name("application/vnd.ms-tnef"), Some("winmail.dat"));
        assert_eq!(usual_name("application/ms-tnef"), Some("winmail.dat"));
        assert_eq!(usual_name("application/x-pkcs7-mime"), Some("smime.p7m"));
        assert_eq!(usual_name("application/pkcs7-signature"), Some("smime.p7s"));
        assert_eq!(usual_name("application/pdf"), None);
        assert_eq!(extension_for("application/pkcs7-mime"), "p7m");
        assert_eq!(content_type_for("smime.p7m"), "application/pkcs7-mime");
        assert_eq!(
            content_type_for("encrypted.asc"),
            "application/pgp-encrypted"
        );
    }

    #[test]
    fn long_names_keep_their_extension_within_255_bytes() {
        let long = format!("{}.pdf", "é".repeat(2000));
        let safe = safe_filename(&long).unwrap();
        assert!(safe.len() <= MAX_NAME_BYTES);
        assert!(safe.ends_with("é.pdf"));
        let no_ext = "x".repeat(4000);
        assert_eq!(safe_filename(&no_ext).unwrap().len(), MAX_NAME_BYTES);
    }
}
