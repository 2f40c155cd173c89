//! `mailgate migrate`: creates or upgrades the database schema (opening the
//! store applies pending migrations).

use crate::config::{Settings, redact_url};
use crate::exit;

pub(super) async fn execute(settings: &Settings) -> u8 {
    match super::open_store(settings).await {
        Ok(store) => {
            println!(
                "database {} is up to date",
                redact_url(&settings.database.url)
            );
            store.close().await;
            exit::OK
        }
        Err(status) => status,
    }
}
