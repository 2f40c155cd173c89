//! Dates and sizes as the pages write them in each language.

use serde::Serialize;

use super::strings::strings;
use crate::model::Language;

/// A date as stored (RFC 3339), for `datetime` and for reading.
#[derive(Debug, Serialize)]
pub(in crate::web) struct When {
    pub(super) iso: String,
    pub(super) text: String,
}

pub(in crate::web) fn when(stored: &str, language: Language) -> When {
    use chrono::{Datelike, Timelike};
    let text = match chrono::DateTime::parse_from_rfc3339(stored) {
        Ok(at) => {
            let at = at.with_timezone(&chrono::Utc);
            let t = strings(language);
            format!(
                "{} {} {}{} {:02}:{:02} UTC",
                at.day(),
                t.months[at.month0() as usize],
                at.year(),
                t.at,
                at.hour(),
                at.minute()
            )
        }
        Err(_) => stored.to_owned(),
    };
    When {
        iso: stored.to_owned(),
        text,
    }
}

/// A size for people: `812 B`, `12 KB`, `3.4 MB` (`3,4 Mo` in French).
pub(super) fn human_size(bytes: i64, language: Language) -> String {
    let units = match language {
        Language::En => ["B", "KB", "MB", "GB"],
        Language::Fr => ["o", "ko", "Mo", "Go"],
    };
    let mut value = bytes.max(0) as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < units.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    let text = if unit == 0 || value >= 10.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    };
    let text = match language {
        Language::Fr => text.replace('.', ","),
        Language::En => text,
    };
    format!("{text} {}", units[unit])
}
