//! `[database]`: which database, and how soon another instance takes over.

use std::time::Duration;

use super::checker::Checker;
use super::raw::RawDatabase;

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: String,
    /// PostgreSQL: how soon another instance takes over the mailboxes of
    /// one that died or lost the database.
    pub lease_timeout: Duration,
}

pub(super) fn database(c: &mut Checker, raw: &RawDatabase) -> DatabaseSettings {
    let url = raw.url.trim().to_owned();
    if !(url.starts_with("sqlite:")
        || url.starts_with("postgres://")
        || url.starts_with("postgresql://"))
    {
        c.problem(
            "database.url",
            format!("{url:?} must start with sqlite: or postgres://"),
        );
    }
    let lease_timeout = c.duration(
        "database.lease_timeout",
        &raw.lease_timeout,
        Duration::from_secs(30),
    );
    if lease_timeout < Duration::from_secs(6) {
        c.problem(
            "database.lease_timeout",
            "must be at least 6s (leases are renewed every sixth of it)",
        );
    }
    DatabaseSettings { url, lease_timeout }
}

/// A database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}
