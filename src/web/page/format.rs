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

/// Shared with the mail that tells a sender their message was too large.
pub(super) use crate::model::text::human_size;
