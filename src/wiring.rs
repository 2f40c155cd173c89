//! The store a configuration describes: opened with the templates, reply
//! policies, conversation rules and sender admission of the settings, so
//! that every ticket it files writes its replies to the outbox in the same
//! transaction. Used by `mailgate run`, its reloads and the one-shot
//! commands.

use std::sync::Arc;

use crate::config::Settings;
use crate::outbox::Replies;
use crate::outbox::render::Templates;
use crate::store::{Admission, Store, StoreError, Subscription};

/// Opens the store named by the settings; every ticket it files writes its
/// replies to the outbox in the same transaction.
pub async fn open_store(settings: &Settings) -> Result<Store, StoreError> {
    // Templates first: a broken override is a configuration error, found
    // before connecting.
    let replies = replies_for(settings)?;
    let store = Store::open(&settings.database.url, &settings.tickets.key_prefix).await?;
    Ok(apply_settings(store, settings, replies))
}

/// The same store (the same connections) with the templates, policies and
/// limits of new settings: what a reload changes.
pub fn reconfigure_store(store: &Store, settings: &Settings) -> Result<Store, StoreError> {
    let replies = replies_for(settings)?;
    Ok(apply_settings(store.clone(), settings, replies))
}

fn replies_for(settings: &Settings) -> Result<Replies, StoreError> {
    let templates = match &settings.templates_dir {
        Some(dir) => Templates::load(dir)
            .map_err(|e| StoreError::Config(format!("outbox.templates: {e}")))?,
        None => Templates::builtin(),
    };
    Ok(Replies {
        templates: Arc::new(templates),
        from: settings.from_address(),
        from_name: settings.from_name.clone(),
        tracking_base: settings.tickets.tracking_url.clone(),
        portal_url: (settings.portal.enabled).then(|| {
            format!(
                "{}/portal/",
                settings.tickets.tracking_url.trim_end_matches('/')
            )
        }),
        vocabulary: settings.intake.vocabulary.clone(),
        default_language: settings.default_language,
        team_language: settings
            .tickets
            .team_language
            .unwrap_or(settings.default_language),
        no_reply_patterns: settings.no_reply_patterns.clone(),
        team_replies_through_us: !settings.tickets.conversations.team_addresses.is_empty(),
        confirm_follow_ups: settings.tickets.confirm_follow_ups,
        reopen_days: settings.tickets.conversations.reopen_window.num_days(),
    })
}

fn apply_settings(store: Store, settings: &Settings, replies: Replies) -> Store {
    store
        .with_replies(Arc::new(replies), settings.auto_reply_limit)
        .with_conversations(settings.tickets.conversations.clone())
        .with_retention(settings.retention)
        .with_webhooks(
            (settings.webhooks.iter())
                .map(|w| Subscription {
                    webhook: w.name.clone(),
                    events: w.events.clone(),
                })
                .collect(),
        )
        .with_routes(
            settings.routes.clone(),
            settings.tickets.team_address.as_deref(),
        )
        .with_robot_patterns(&settings.no_reply_patterns)
        .with_admission(Admission {
            policy: Some(settings.sender_policy),
            allowed_domains: settings.allowed_domains.clone(),
        })
}
