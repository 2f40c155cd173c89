//! `mailgate check`: the database, opened as `run` opens it (a SQLite file
//! is created, pending migrations applied), and what to do when it cannot
//! be.

use std::time::Duration;

use super::{Item, Report};
use crate::config::{Settings, redact_url};
use crate::store::{Store, StoreError};

/// Limit on opening the database (its pool waits 10 s for a connection).
const DATABASE_TIMEOUT: Duration = Duration::from_secs(30);

/// Checks the database; gives the store when it opened, for what the
/// other items ask of it.
pub(super) async fn check_database(settings: &Settings, report: &mut Report) -> Option<Store> {
    let subject = format!("database {}", redact_url(&settings.database.url));
    let opened = tokio::time::timeout(
        DATABASE_TIMEOUT,
        Store::open(&settings.database.url, &settings.tickets.key_prefix),
    )
    .await;
    match opened {
        Ok(Ok(store)) => {
            report.push(Item::pass(&subject, "connected, schema up to date"));
            if let Ok(Some(false)) = store.autovacuum().await {
                report.push(autovacuum_off());
            }
            return Some(store);
        }
        Ok(Err(e)) => report.push(Item::fail(&subject, e.to_string(), database_hint(&e))),
        Err(_) => report.push(Item::fail(
            &subject,
            format!(
                "no answer within {}",
                humantime::format_duration(DATABASE_TIMEOUT)
            ),
            Some("check database.url (host and port) and that the server runs".into()),
        )),
    }
    None
}

/// PostgreSQL without autovacuum: works, but slows as it grows.
fn autovacuum_off() -> Item {
    Item::warn(
        "database autovacuum",
        "off on this PostgreSQL server: statistics are never refreshed, and filing slows \
         as the tables grow (the daily maintenance runs ANALYZE, which is not enough \
         during a large import)",
        "turn autovacuum on (postgresql.conf), or run ANALYZE after importing many messages",
    )
}

/// What to do about a database that cannot be opened.
pub fn database_hint(error: &StoreError) -> Option<String> {
    let text = error.to_string().to_lowercase();
    let hint = if text.contains("password authentication failed")
        || text.contains("authentication failed")
    {
        "wrong database username or password (database.url)"
    } else if text.contains("connection refused") {
        "nothing answers at the host and port of database.url: is the server running?"
    } else if text.contains("does not exist") && text.contains("database") {
        "the database does not exist: create it (createdb), then run again"
    } else if text.contains("unable to open database file")
        || text.contains("cannot create the folder")
        || text.contains("readonly")
        || text.contains("permission denied")
    {
        "the SQLite file or its folder cannot be written: check the path and permissions"
    } else if text.contains("previously applied but is missing")
        || text.contains("was previously applied")
    {
        "the database was upgraded by a newer mailgate: run that version"
    } else {
        match error {
            StoreError::Config(_) => "check database.url",
            StoreError::Unavailable(_) => "the database cannot be reached: check database.url",
            _ => return None,
        }
    };
    Some(hint.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_hints() {
        let e = StoreError::Other(
            "error returned from database: password authentication failed for user \"x\"".into(),
        );
        assert_eq!(
            database_hint(&e).unwrap(),
            "wrong database username or password (database.url)"
        );
        let e = StoreError::Unavailable("Connection refused (os error 111)".into());
        assert!(database_hint(&e).unwrap().starts_with("nothing answers"));
    }
}
