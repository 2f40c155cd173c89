//! `[[maildirs]]`: local folders watched for messages.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use super::checker::Checker;
use super::intake::MailboxDefaults;
use super::raw::RawMaildir;
use crate::model::Vocabulary;

/// A local folder watched for messages: a Maildir (`new/`, `cur/`) or a
/// plain folder of `*.eml` files.
#[derive(Debug, Clone)]
pub struct MaildirSettings {
    pub name: String,
    pub path: PathBuf,
    pub processed_path: PathBuf,
    pub quarantine_path: PathBuf,
    pub poll_interval: Duration,
    pub defaults: MailboxDefaults,
}

/// Every maildir; their names share `names` with the mailboxes'.
pub(super) fn maildirs(
    c: &mut Checker,
    raw: &[RawMaildir],
    vocabulary: &Vocabulary,
    names: &mut HashSet<String>,
) -> Vec<MaildirSettings> {
    let mut maildirs = Vec::new();
    for (i, d) in raw.iter().enumerate() {
        let key = |field: &str| format!("maildirs[{i}].{field}");
        if d.name.trim().is_empty() || !names.insert(d.name.clone()) {
            c.problem(
                key("name"),
                format!(
                    "{:?} must be a non-empty name used once (mailboxes included)",
                    d.name
                ),
            );
        }
        let poll_interval = c.duration(
            key("poll_interval"),
            &d.poll_interval,
            Duration::from_secs(1),
        );
        let defaults = c.defaults(&format!("maildirs[{i}]"), vocabulary, &d.defaults());
        maildirs.push(MaildirSettings {
            name: d.name.clone(),
            processed_path: (d.processed_path.clone()).unwrap_or_else(|| d.path.join("processed")),
            quarantine_path: (d.quarantine_path.clone())
                .unwrap_or_else(|| d.path.join("quarantine")),
            path: d.path.clone(),
            poll_interval,
            defaults,
        });
    }
    maildirs
}
