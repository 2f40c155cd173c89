//! `[outbox]`: how outgoing mail is retried, where it goes without SMTP,
//! and how it is written.

use std::path::PathBuf;
use std::time::Duration;

use super::checker::Checker;
use super::raw::RawOutbox;
use crate::model::Language;

/// How outgoing mail is retried.
#[derive(Debug, Clone)]
pub struct OutboxSettings {
    pub retry_initial: Duration,
    pub retry_max: Duration,
    pub give_up_after: Duration,
}

pub(super) struct OutboxSection {
    pub retries: OutboxSettings,
    pub directory: PathBuf,
    pub from_name: Option<String>,
    pub language: Language,
    pub templates: Option<PathBuf>,
}

pub(super) fn outbox(c: &mut Checker, raw: &RawOutbox) -> OutboxSection {
    let retries = OutboxSettings {
        retry_initial: c.duration(
            "outbox.retry_initial",
            &raw.retry_initial,
            Duration::from_secs(60),
        ),
        retry_max: c.duration(
            "outbox.retry_max",
            &raw.retry_max,
            Duration::from_secs(3600),
        ),
        give_up_after: c.duration(
            "outbox.give_up_after",
            &raw.give_up_after,
            Duration::from_secs(48 * 3600),
        ),
    };
    OutboxSection {
        retries,
        directory: raw.directory.clone(),
        from_name: raw.from_name.clone(),
        language: c
            .language("outbox.language", &raw.language)
            .unwrap_or(Language::En),
        templates: raw.templates.clone(),
    }
}
