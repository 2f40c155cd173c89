//! What every section's validation shares: the list of problems, each with
//! its key, and the checks of values that have rules (closed sets,
//! durations, sizes, addresses, secrets, a source's default fields).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::Problem;
use super::intake::MailboxDefaults;
use super::secret::{Secret, resolve_secret_path};
use crate::model::{EmailAddress, Language, Named, Vocabulary};

/// Collects the problems of one validation pass.
#[derive(Default)]
pub(super) struct Checker {
    pub problems: Vec<Problem>,
}

impl Checker {
    pub fn problem(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            key: key.into(),
            message: message.into(),
        });
    }

    /// A value of a closed set, or `fallback` with a problem naming the
    /// accepted forms.
    pub fn named<T: Named>(&mut self, key: &str, value: &str, fallback: T) -> T {
        T::parse(value).unwrap_or_else(|| {
            self.problem(key, format!("{value:?} is not one of {}", T::listed()));
            fallback
        })
    }

    pub fn duration(&mut self, key: impl Into<String>, text: &str, fallback: Duration) -> Duration {
        humantime::parse_duration(text).unwrap_or_else(|_| {
            self.problem(key, format!("{text:?} is not a duration like \"60s\""));
            fallback
        })
    }

    /// An email address, lower case; `None` with a problem when it is not
    /// one.
    pub fn address(&mut self, key: impl Into<String>, text: &str) -> Option<String> {
        match EmailAddress::parse(text) {
            Ok(address) => Some(address.into_string()),
            Err(e) => {
                self.problem(key, e.to_string());
                None
            }
        }
    }

    /// A language code (`en`, `fr`).
    pub fn language(&mut self, key: impl Into<String>, text: &str) -> Option<Language> {
        let parsed = Language::parse(text);
        if parsed.is_none() {
            self.problem(key, format!("{text:?} is not one of en, fr"));
        }
        parsed
    }

    /// A password given inline or read from a file (`*_file` keys), or from
    /// `$CREDENTIALS_DIRECTORY` when the path is relative and systemd
    /// provides credentials.
    pub fn secret(
        &mut self,
        key: &str,
        inline: Option<&String>,
        file: Option<&PathBuf>,
        base: Option<&Path>,
    ) -> Option<Secret> {
        match (inline, file) {
            (Some(_), Some(_)) => {
                self.problem(key, format!("give either {key} or {key}_file, not both"));
                None
            }
            (Some(value), None) => Some(Secret::new(value.clone())),
            (None, Some(path)) => {
                let resolved = resolve_secret_path(path, base);
                match std::fs::read_to_string(&resolved) {
                    Ok(text) => Some(Secret::new(text.trim_end_matches(['\n', '\r']).to_owned())),
                    Err(e) => {
                        self.problem(
                            format!("{key}_file"),
                            format!("cannot read {}: {e}", resolved.display()),
                        );
                        None
                    }
                }
            }
            (None, None) => None,
        }
    }

    /// A source's default field values, checked against the vocabulary.
    pub fn defaults(
        &mut self,
        prefix: &str,
        vocabulary: &Vocabulary,
        given: &super::raw::DefaultsText<'_>,
    ) -> MailboxDefaults {
        if let Some(sev) = given.severity
            && vocabulary.severities.exact(sev).is_none()
        {
            self.problem(
                format!("{prefix}.default_severity"),
                format!("{sev:?} is not a configured severity"),
            );
        }
        for product in given.products {
            if vocabulary.products.exact(product).is_none() {
                self.problem(
                    format!("{prefix}.default_products"),
                    format!("{product:?} is not a configured product"),
                );
            }
        }
        if let Some(rt) = given.request_type
            && vocabulary.request_types.exact(rt).is_none()
        {
            self.problem(
                format!("{prefix}.default_request_type"),
                format!("{rt:?} is not a configured request type"),
            );
        }
        let language =
            (given.language).and_then(|l| self.language(format!("{prefix}.default_language"), l));
        MailboxDefaults {
            severity: given.severity.cloned(),
            products: given.products.to_vec(),
            request_type: given.request_type.cloned(),
            language,
        }
    }
}

/// Parses `25MiB`, `10 MB`, `512k`, `1000`.
pub fn parse_byte_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        _ => return None,
    };
    number.checked_mul(factor)
}

/// Whether a host is this machine, where plain text cannot be overheard.
pub fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
