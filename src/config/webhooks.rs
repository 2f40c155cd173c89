//! `[[webhooks]]`: where events on tickets are POSTed (a chat channel,
//! another tracker), which events, signed with which secret, in which
//! format.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::checker::Checker;
use super::secret::Secret;
use crate::model::{Named, WebhookEvent, WebhookFormat};

/// A webhook as written.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default, deny_unknown_fields)]
pub struct RawWebhook {
    pub name: Option<String>,
    pub url: String,
    /// Event names; empty: every event.
    pub events: Vec<String>,
    pub secret: Option<String>,
    pub secret_file: Option<PathBuf>,
    pub format: Option<String>,
}

/// A checked webhook.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Its deliveries are recorded under this name (default: the URL's
    /// host and path).
    pub name: String,
    pub url: String,
    pub events: Vec<WebhookEvent>,
    /// Signs each body: `X-Mailgate-Signature: sha256=<hex HMAC-SHA256>`.
    pub secret: Option<Secret>,
    pub format: WebhookFormat,
}

/// Checks `[[webhooks]]`.
pub(super) fn webhooks(
    c: &mut Checker,
    raw: &[RawWebhook],
    base: Option<&Path>,
) -> Vec<WebhookSettings> {
    let mut hooks: Vec<WebhookSettings> = Vec::new();
    for (i, w) in raw.iter().enumerate() {
        let key = |field: &str| format!("webhooks[{i}].{field}");
        let url = match url::Url::parse(w.url.trim()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => u,
            _ => {
                c.problem(
                    key("url"),
                    format!("{:?} is not an http:// or https:// URL", w.url),
                );
                continue;
            }
        };
        let mut events = Vec::new();
        for name in &w.events {
            match WebhookEvent::parse(name) {
                Some(event) if !events.contains(&event) => events.push(event),
                Some(_) => {}
                None => c.problem(
                    key("events"),
                    format!("{name:?} is not one of {}", WebhookEvent::listed()),
                ),
            }
        }
        if events.is_empty() {
            events = WebhookEvent::ALL.to_vec();
        }
        let format = match &w.format {
            Some(text) => c.named(&key("format"), text, WebhookFormat::Json),
            None => WebhookFormat::Json,
        };
        let secret = c.secret(
            &key("secret"),
            w.secret.as_ref(),
            w.secret_file.as_ref(),
            base,
        );
        let name = w.name.clone().unwrap_or_else(|| {
            format!(
                "{}{}",
                url.host_str().unwrap_or_default(),
                url.path().trim_end_matches('/')
            )
        });
        if hooks.iter().any(|h| h.name == name) {
            c.problem(
                key("name"),
                format!("{name:?} names an earlier webhook too: give each a name"),
            );
        }
        hooks.push(WebhookSettings {
            name,
            url: url.to_string(),
            events,
            secret,
            format,
        });
    }
    hooks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(raw: &[RawWebhook]) -> (Vec<WebhookSettings>, Vec<String>) {
        let mut c = Checker::default();
        let hooks = webhooks(&mut c, raw, None);
        (hooks, c.problems.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn every_event_by_default_and_names_from_the_url() {
        let (hooks, problems) = checked(&[
            RawWebhook {
                url: "https://chat.example.com/hooks/abc".into(),
                format: Some("slack".into()),
                ..RawWebhook::default()
            },
            RawWebhook {
                name: Some("tracker".into()),
                url: "http://127.0.0.1:9000/in".into(),
                events: vec!["ticket.created".into(), "status.changed".into()],
                secret: Some("s3cret".into()),
                ..RawWebhook::default()
            },
        ]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(hooks[0].name, "chat.example.com/hooks/abc");
        assert_eq!(hooks[0].events, WebhookEvent::ALL);
        assert_eq!(hooks[0].format, WebhookFormat::Slack);
        assert_eq!(
            hooks[1].events,
            [WebhookEvent::TicketCreated, WebhookEvent::StatusChanged]
        );
        assert_eq!(hooks[1].secret.as_ref().unwrap().expose(), "s3cret");
    }

    #[test]
    fn mistakes_are_reported_with_their_key() {
        let (_, problems) = checked(&[
            RawWebhook {
                url: "ftp://example.com/".into(),
                ..RawWebhook::default()
            },
            RawWebhook {
                url: "https://a.example/x".into(),
                events: vec!["ticket.deleted".into()],
                format: Some("xml".into()),
                ..RawWebhook::default()
            },
            RawWebhook {
                url: "https://a.example/x".into(),
                ..RawWebhook::default()
            },
        ]);
        let joined = problems.join("\n");
        for expected in [
            "webhooks[0].url:",
            "webhooks[1].events: \"ticket.deleted\" is not one of",
            "webhooks[1].format:",
            "webhooks[2].name:",
        ] {
            assert!(joined.contains(expected), "{expected} in\n{joined}");
        }
    }
}
