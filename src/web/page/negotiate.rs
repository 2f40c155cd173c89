//! Which language a page is shown in, from the browser's
//! `Accept-Language` (RFC 9110 12.5.4).

use crate::model::Language;

/// The language of a page from an `Accept-Language` header: the French or
/// English range with the highest q-value (the first one on a tie);
/// English when neither is acceptable or the header is missing.
pub fn negotiate(accept_language: Option<&str>) -> Language {
    let mut best: Option<(u16, Language)> = None;
    for item in accept_language.unwrap_or_default().split(',').take(64) {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or_default().trim();
        let mut quality = Some(1000);
        for parameter in parts {
            let parameter = parameter.trim();
            if let Some(value) = parameter
                .strip_prefix("q=")
                .or_else(|| parameter.strip_prefix("Q="))
            {
                quality = parse_quality(value.trim());
            }
        }
        let (Some(quality), Some(language)) = (quality, Language::parse(tag)) else {
            continue;
        };
        if quality > 0 && best.is_none_or(|(q, _)| quality > q) {
            best = Some((quality, language));
        }
    }
    best.map_or(Language::En, |(_, language)| language)
}

/// A q-value (RFC 9110 12.4.2) in thousandths: `1`, `1.000`, `0`, `0.5`.
pub(super) fn parse_quality(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}
