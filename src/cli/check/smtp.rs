//! `mailgate check`, the SMTP server: connecting with the daemon's own
//! `outbox::send::SmtpPool::connect`, then STARTTLS and AUTH one at a time,
//! each with what to do when it fails.

use std::time::Duration;

use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::TlsParameters;
use lettre::transport::smtp::extension::ClientId;

use super::hints::{connect_hint, tls_hint};
use super::{Item, Report};
use crate::config::SmtpSettings;
use crate::model::TlsMode;
use crate::outbox::send::SmtpPool;

/// Limit on each SMTP step, as the daemon's transport (`outbox::send`).
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// The step of an SMTP session that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpStage {
    /// TCP, implicit TLS, greeting and EHLO.
    Connect,
    StartTls,
    Auth,
}

/// What to do about a failed SMTP step; `text` is lettre's error with its
/// sources.
pub fn smtp_hint(s: &SmtpSettings, stage: SmtpStage, text: &str) -> String {
    let lower = text.to_lowercase();
    let tls_failure = lower.contains("certificate")
        || lower.contains("unknownissuer")
        || lower.contains("tls")
        || lower.contains("corrupt message")
        || lower.contains("invalidcontenttype");
    match stage {
        SmtpStage::Auth if lower.contains("no compatible authentication mechanism") => {
            if s.tls == TlsMode::None {
                "the server offers no AUTH PLAIN or LOGIN here; many offer it only after STARTTLS: set smtp.tls = \"starttls\"".to_owned()
            } else {
                "the server offers no AUTH PLAIN or LOGIN".to_owned()
            }
        }
        SmtpStage::Auth if lower.contains("(535") || lower.contains("(534") || lower.contains("(530") => {
            format!("wrong SMTP username or password (username {})", s.username.as_deref().unwrap_or(""))
        }
        SmtpStage::Auth if lower.contains("transient") => {
            "the server refused AUTH for now: try again later".to_owned()
        }
        SmtpStage::Auth => format!(
            "AUTH failed: check smtp.username and smtp.password (username {})",
            s.username.as_deref().unwrap_or("")
        ),
        SmtpStage::StartTls if lower.contains("starttls is not supported") => {
            "the server does not offer STARTTLS: check smtp.port, or use tls = \"implicit\" with port 465".to_owned()
        }
        _ if tls_failure && !lower.contains("connection refused") => tls_hint(
            text,
            &s.host,
            "add its CA to the system's trusted certificates, or fix the server certificate",
        ),
        _ if lower.contains("timed out") || lower.contains("no answer") => {
            if s.tls == TlsMode::Implicit {
                "no answer: if this port speaks plain SMTP, set smtp.tls = \"starttls\" (587) or check the port".to_owned()
            } else {
                format!("no answer from {}:{}: a TLS port? then set smtp.tls = \"implicit\"; else check host, port and firewalls", s.host, s.port)
            }
        }
        _ => connect_hint(
            text,
            &s.host,
            s.port,
            "SMTP: 465 with tls = \"implicit\", 587 with \"starttls\", 25 with \"none\"",
        ),
    }
}

/// The error with its sources: `Connection error: …: …`.
fn error_text(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let s = e.to_string();
        if !text.contains(&s) {
            text.push_str(": ");
            text.push_str(&s);
        }
        source = e.source();
    }
    text
}

/// Runs an SMTP step with the daemon's limit.
async fn smtp_step<T>(
    fut: impl Future<Output = Result<T, lettre::transport::smtp::Error>>,
) -> Result<T, String> {
    match tokio::time::timeout(SMTP_TIMEOUT, fut).await {
        Ok(result) => result.map_err(|e| error_text(&e)),
        Err(_) => Err(format!(
            "no answer within {}",
            humantime::format_duration(SMTP_TIMEOUT)
        )),
    }
}

/// Connect, EHLO, STARTTLS and AUTH, each on its own line: the connection
/// is the daemon's (`SmtpPool::connect`: its TLS configuration and client
/// name), STARTTLS and AUTH take the parameters and mechanisms the daemon's
/// `SmtpPool::open` gives them.
pub(super) async fn check_smtp(s: &SmtpSettings, report: &mut Report) {
    let subject = format!("smtp {}:{}", s.host, s.port);
    let hello = ClientId::default();
    let tls_failed = |report: &mut Report, text: String| {
        report.push(Item::fail(&subject, format!("TLS set-up: {text}"), None));
    };
    let tls = match s.tls {
        TlsMode::StartTls => match TlsParameters::new(s.host.clone()) {
            Ok(tls) => Some(tls),
            Err(e) => return tls_failed(report, error_text(&e)),
        },
        TlsMode::None | TlsMode::Implicit => None,
    };
    let pool = match SmtpPool::new(s) {
        Ok(pool) => pool,
        Err(text) => return tls_failed(report, text),
    };
    let connected = pool.connect().await;
    let mut conn = match connected {
        Ok(conn) => conn,
        Err(e) => {
            let hint = smtp_hint(s, SmtpStage::Connect, &e.message);
            report.push(Item::fail(
                &subject,
                format!("cannot connect: {}", e.message),
                Some(hint),
            ));
            return;
        }
    };
    let transport = if s.tls == TlsMode::Implicit {
        "TLS"
    } else {
        "plain text"
    };
    report.push(Item::pass(
        &subject,
        format!(
            "connected ({transport}), EHLO answered by {}",
            conn.server_info().name()
        ),
    ));
    if s.tls == TlsMode::StartTls {
        let Some(tls) = tls else { return };
        match smtp_step(conn.starttls(tls, &hello)).await {
            Ok(()) => report.push(Item::pass(&subject, "STARTTLS, certificate verified")),
            Err(text) => {
                let hint = smtp_hint(s, SmtpStage::StartTls, &text);
                report.push(Item::fail(
                    &subject,
                    format!("STARTTLS failed: {text}"),
                    Some(hint),
                ));
                return;
            }
        }
    }
    match (&s.username, &s.password) {
        (Some(user), Some(password)) => {
            let mechanism = conn.server_info().get_auth_mechanism(DEFAULT_MECHANISMS);
            let credentials = Credentials::new(user.clone(), password.expose().to_owned());
            match smtp_step(conn.auth(DEFAULT_MECHANISMS, &credentials)).await {
                Ok(_) => report.push(Item::pass(
                    &subject,
                    format!(
                        "AUTH {} as {user}",
                        mechanism.map(|m| m.to_string()).unwrap_or_default()
                    ),
                )),
                Err(text) => {
                    let hint = smtp_hint(s, SmtpStage::Auth, &text);
                    report.push(Item::fail(
                        &subject,
                        format!("AUTH refused: {text}"),
                        Some(hint),
                    ));
                }
            }
        }
        (Some(_), None) => report.push(Item::warn(
            &subject,
            "smtp.username without a password: mail is sent without AUTH",
            "set smtp.password or smtp.password_file",
        )),
        (None, _) => report.push(Item::pass(&subject, "no AUTH (smtp.username not set)")),
    }
    let _ = tokio::time::timeout(SMTP_TIMEOUT, conn.quit()).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn smtp() -> SmtpSettings {
        SmtpSettings {
            host: "smtp.example.com".into(),
            port: 587,
            tls: TlsMode::StartTls,
            username: Some("mailgate".into()),
            password: Some(Secret::new("pw")),
            from: "support@example.com".into(),
            connections: 4,
        }
    }

    #[test]
    fn smtp_hints() {
        let s = smtp();
        assert_eq!(
            smtp_hint(
                &s,
                SmtpStage::Auth,
                "permanent error (535): 5.7.8 Authentication credentials invalid"
            ),
            "wrong SMTP username or password (username mailgate)"
        );
        let plain = SmtpSettings {
            tls: TlsMode::None,
            ..smtp()
        };
        assert!(
            smtp_hint(
                &plain,
                SmtpStage::Auth,
                "internal client error: No compatible authentication mechanism was found"
            )
            .contains("starttls")
        );
        assert!(
            smtp_hint(
                &s,
                SmtpStage::StartTls,
                "internal client error: STARTTLS is not supported on this server"
            )
            .starts_with("the server does not offer STARTTLS")
        );
        assert!(
            smtp_hint(
                &s,
                SmtpStage::StartTls,
                "Connection error: invalid peer certificate: UnknownIssuer"
            )
            .starts_with("certificate not trusted: add its CA")
        );
        assert!(
            smtp_hint(
                &s,
                SmtpStage::Connect,
                "Connection error: Connection refused (os error 111)"
            )
            .starts_with("nothing listens on smtp.example.com:587")
        );
    }
}
