//! `[portal]`: the customer portal under `/portal/` on `http.listen`: how
//! long sign-in links and sessions last, how many links may be asked for,
//! and the version of the terms customers accept.

use std::time::Duration;

use serde::Deserialize;

use super::checker::Checker;

/// The section as written.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawPortal {
    pub enabled: bool,
    pub login_link_lifetime: String,
    pub session_lifetime: String,
    pub terms_version: String,
    pub terms_url: Option<String>,
    pub links_per_address: u32,
    pub links_per_client: u32,
}

impl Default for RawPortal {
    fn default() -> Self {
        RawPortal {
            enabled: true,
            login_link_lifetime: "15m".into(),
            session_lifetime: "30days".into(),
            terms_version: "1".into(),
            terms_url: None,
            links_per_address: 3,
            links_per_client: 20,
        }
    }
}

/// The portal's settings.
#[derive(Debug, Clone)]
pub struct PortalSettings {
    pub enabled: bool,
    /// How long a sign-in link may be used.
    pub login_link_lifetime: Duration,
    /// How long a session lasts without being used.
    pub session_lifetime: Duration,
    /// Customers accept the terms again when this changes.
    pub terms_version: String,
    /// The vendor's own terms, linked from the terms page instead of the
    /// built-in text; http or https.
    pub terms_url: Option<String>,
    /// Sign-in links one address may be sent in an hour.
    pub links_per_address: u32,
    /// Sign-in links one client (IP address) may ask for in an hour.
    pub links_per_client: u32,
}

impl Default for PortalSettings {
    fn default() -> Self {
        portal(&mut Checker::default(), &RawPortal::default())
    }
}

pub(super) fn portal(c: &mut Checker, raw: &RawPortal) -> PortalSettings {
    let login_link_lifetime = c.duration(
        "portal.login_link_lifetime",
        &raw.login_link_lifetime,
        Duration::from_secs(15 * 60),
    );
    if login_link_lifetime < Duration::from_secs(60)
        || login_link_lifetime > Duration::from_secs(86_400)
    {
        c.problem(
            "portal.login_link_lifetime",
            "must be between 1 minute and 1 day",
        );
    }
    let session_lifetime = c.duration(
        "portal.session_lifetime",
        &raw.session_lifetime,
        Duration::from_secs(30 * 86_400),
    );
    if session_lifetime < Duration::from_secs(60) {
        c.problem("portal.session_lifetime", "must be at least 1 minute");
    }
    let terms_version = raw.terms_version.trim().to_owned();
    if terms_version.is_empty() || terms_version.len() > 64 {
        c.problem("portal.terms_version", "must be 1 to 64 characters");
    }
    let terms_url = raw
        .terms_url
        .as_deref()
        .map(str::trim)
        .and_then(|text| match url::Url::parse(text) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                Some(url.to_string())
            }
            _ => {
                c.problem(
                    "portal.terms_url",
                    format!("{text:?} is not an http or https URL"),
                );
                None
            }
        });
    for (key, value) in [
        ("portal.links_per_address", raw.links_per_address),
        ("portal.links_per_client", raw.links_per_client),
    ] {
        if value == 0 {
            c.problem(key, "must be at least 1");
        }
    }
    PortalSettings {
        enabled: raw.enabled,
        login_link_lifetime,
        session_lifetime,
        terms_version,
        terms_url,
        links_per_address: raw.links_per_address,
        links_per_client: raw.links_per_client,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portal_defaults_and_problems() {
        let settings = PortalSettings::default();
        assert!(settings.enabled);
        assert_eq!(settings.login_link_lifetime, Duration::from_secs(900));
        assert_eq!(settings.session_lifetime, Duration::from_secs(30 * 86_400));
        let mut c = Checker::default();
        portal(
            &mut c,
            &RawPortal {
                login_link_lifetime: "soon".into(),
                links_per_client: 0,
                terms_version: " ".into(),
                terms_url: Some("javascript:alert(1)".into()),
                ..RawPortal::default()
            },
        );
        let keys: Vec<_> = c.problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "portal.login_link_lifetime",
                "portal.terms_version",
                "portal.terms_url",
                "portal.links_per_client"
            ]
        );
    }
}
