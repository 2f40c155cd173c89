//! `[smtp]`: the server outgoing mail goes through.

use std::path::Path;

use super::Secret;
use super::checker::{Checker, is_loopback_host};
use super::raw::RawSmtp;
use crate::model::TlsMode;

#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub from: String,
    /// Messages sent at once, each over its own connection.
    pub connections: usize,
}

pub(super) const PLAINTEXT_REFUSED: &str = "\"none\" sends passwords in clear: allowed only for a loopback host or with allow_plaintext = true";

pub(super) fn smtp(c: &mut Checker, s: &RawSmtp, base: Option<&Path>) -> SmtpSettings {
    let tls = c.named("smtp.tls", &s.tls, TlsMode::Implicit);
    if tls == TlsMode::None && !s.allow_plaintext && !is_loopback_host(&s.host) {
        c.problem("smtp.tls", PLAINTEXT_REFUSED);
    }
    let from = c.address("smtp.from", &s.from).unwrap_or_default();
    if !(1..=64).contains(&s.connections) {
        c.problem(
            "smtp.connections",
            format!("{} is not between 1 and 64", s.connections),
        );
    }
    SmtpSettings {
        host: s.host.clone(),
        port: s.port.unwrap_or(match tls {
            TlsMode::Implicit => 465,
            TlsMode::StartTls => 587,
            TlsMode::None => 25,
        }),
        tls,
        username: s.username.clone(),
        password: c.secret(
            "smtp.password",
            s.password.as_ref(),
            s.password_file.as_ref(),
            base,
        ),
        from,
        connections: s.connections,
    }
}
