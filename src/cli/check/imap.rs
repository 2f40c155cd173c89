//! `mailgate check`, one IMAP mailbox: the OAuth token, then connecting
//! and logging in with the daemon's own `source::imap::connect`, then the
//! capabilities (the folders are in `folders.rs`), each with what to do
//! when it fails.

use crate::config::{ImapAuth, MailboxSettings};
use crate::model::TlsMode;
use crate::source::imap::{self, ImapError};
use crate::source::oauth::{OAuthError, TokenSource};

use super::capabilities::{Capabilities, capability_items};
use super::folders::{Watched, check_folders};
use super::hints::{connect_hint, tls_hint};
use super::{Item, Options, Report};

/// Where a connection attempt stopped: before the server accepted the
/// connection (TCP, TLS, greeting, STARTTLS) or at the login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImapStage {
    Connect,
    Login,
}

/// The stage, text and hint for a failed `imap::connect`.
pub fn imap_failure(m: &MailboxSettings, error: &ImapError) -> (ImapStage, String, Option<String>) {
    let address = format!("{}:{}", m.host, m.port);
    match error {
        ImapError::Connect(text) => (
            ImapStage::Connect,
            format!("cannot connect to {text}"),
            Some(connect_hint(
                text,
                &m.host,
                m.port,
                "IMAP: 993 with tls = \"implicit\", 143 with \"starttls\" or \"none\"",
            )),
        ),
        ImapError::Tls(text) => (
            ImapStage::Connect,
            format!("TLS with {address} failed: {text}"),
            Some(tls_hint(
                text,
                &m.host,
                "set ca_file or fix the server certificate",
            )),
        ),
        ImapError::Timeout(limit, what) => {
            let text = format!(
                "no answer from {address} within {} ({what})",
                humantime::format_duration(*limit)
            );
            let hint = match (*what, m.tls) {
                ("login", _) => {
                    return (
                        ImapStage::Login,
                        text,
                        Some("the server took the connection but not the login: try again, or raise timeout".into()),
                    );
                }
                ("greeting", TlsMode::None | TlsMode::StartTls) => {
                    "the server says nothing: a TLS port? then set tls = \"implicit\""
                }
                ("TLS handshake", _) => {
                    "no TLS answer: if the port speaks plain IMAP, set tls = \"starttls\""
                }
                _ => "check host, port and firewalls, or raise timeout",
            };
            (ImapStage::Connect, text, Some(hint.to_owned()))
        }
        ImapError::Auth(text) if text.starts_with("no OAuth access token") => {
            (ImapStage::Login, text.clone(), None)
        }
        ImapError::Auth(text) => {
            let hint = if m.auth == ImapAuth::XOAuth2 {
                format!(
                    "token refused: the access token is not valid for {} (wrong user, expired, or without the IMAP scope)",
                    m.username
                )
            } else {
                format!("wrong username or password (username {})", m.username)
            };
            (
                ImapStage::Login,
                format!("login refused: {}", server_says(text)),
                Some(hint),
            )
        }
        ImapError::Protocol(text) if m.tls == TlsMode::StartTls && text.contains("STARTTLS") => (
            ImapStage::Connect,
            format!("STARTTLS refused: {text}"),
            Some("the server offers no STARTTLS: use its TLS port with tls = \"implicit\"".into()),
        ),
        other => (
            ImapStage::Connect,
            server_says(&other.to_string()),
            Some(format!(
                "{address} does not behave like an IMAP server: check host, port and tls"
            )),
        ),
    }
}

/// `watched`: what the database says of the mailbox's first watch (see
/// `folders::waiting_line`).
pub(super) async fn check_mailbox(
    m: &MailboxSettings,
    options: Options,
    watched: Watched,
    report: &mut Report,
) {
    let subject = format!("mailbox {}", m.name);
    let tokens = m.oauth.clone().map(TokenSource::new);
    if let Some(tokens) = &tokens {
        match tokio::time::timeout(m.timeout, tokens.access_token()).await {
            Ok(Ok(_)) => report.push(Item::pass(&subject, "OAuth access token obtained")),
            Ok(Err(e)) => {
                report.push(Item::fail(
                    &subject,
                    format!("no OAuth access token: {e}"),
                    oauth_hint(&e),
                ));
                return;
            }
            Err(_) => {
                report.push(Item::fail(
                    &subject,
                    format!(
                        "no OAuth access token within {}",
                        humantime::format_duration(m.timeout)
                    ),
                    Some("the token endpoint or command does not answer".into()),
                ));
                return;
            }
        }
    }
    let transport = match m.tls {
        TlsMode::Implicit => "TLS",
        TlsMode::StartTls => "STARTTLS",
        TlsMode::None => "plain text",
    };
    let connected = Item::pass(
        &subject,
        format!("connected to {}:{} ({transport})", m.host, m.port),
    );
    let mut session = match imap::connect(m, tokens.as_ref()).await {
        Ok(session) => {
            report.push(connected);
            let how = match m.auth {
                ImapAuth::Login => "LOGIN",
                ImapAuth::Plain => "AUTHENTICATE PLAIN",
                ImapAuth::XOAuth2 => "AUTHENTICATE XOAUTH2",
            };
            report.push(Item::pass(
                &subject,
                format!("logged in as {} ({how})", m.username),
            ));
            session
        }
        Err(e) => {
            let (stage, text, hint) = imap_failure(m, &e);
            if stage == ImapStage::Login {
                report.push(connected);
            }
            report.push(Item::fail(&subject, text, hint));
            return;
        }
    };
    if m.tls_insecure && m.tls != TlsMode::None {
        report.push(Item::warn(
            &subject,
            "the server certificate is NOT verified (tls_insecure = true)",
            "anyone on the path can read the password: set ca_file instead",
        ));
    }
    let t = m.timeout;
    let caps = match tokio::time::timeout(t, session.capabilities()).await {
        Ok(Ok(caps)) => Capabilities {
            idle: caps.has_str("IDLE"),
            mv: caps.has_str("MOVE"),
            uidplus: caps.has_str("UIDPLUS"),
        },
        Ok(Err(e)) => {
            report.push(Item::fail(
                &subject,
                format!("CAPABILITY failed: {e}"),
                None,
            ));
            return;
        }
        Err(_) => {
            report.push(Item::fail(
                &subject,
                "no answer to CAPABILITY",
                Some("raise timeout".into()),
            ));
            return;
        }
    };
    for item in capability_items(m, caps) {
        report.push(item);
    }
    check_folders(m, options, watched, &mut session, report).await;
    let _ = tokio::time::timeout(t, session.logout()).await;
}

fn oauth_hint(error: &OAuthError) -> Option<String> {
    Some(
        match error {
            OAuthError::Refused(_) => return None,
            OAuthError::Endpoint(_) => {
                "the token endpoint cannot be reached: check oauth_token_url"
            }
            OAuthError::File(..) => "the token file cannot be read: check the path and permissions",
            OAuthError::Command(_) => "run oauth_access_token_command by hand to see why it fails",
        }
        .to_owned(),
    )
}

/// What the server said, out of async-imap's renderings of a NO or BAD
/// (`code: …, info: Some("…")`, `outcome: Outcome { …, information:
/// Some("…") }`); other text as it is.
pub fn server_says(text: &str) -> String {
    let found = ["info: Some(\"", "information: Some(\""]
        .iter()
        .find_map(|start| text.find(start).map(|at| at + start.len()));
    let Some(at) = found else {
        return text.to_owned();
    };
    let rest = &text[at..];
    let said = rest.rfind("\")").map_or(rest, |end| &rest[..end]);
    said.replace("\\\"", "\"").replace("\\\\", "\\")
}

#[cfg(test)]
mod tests {
    use super::super::test_mailbox as mailbox;
    use super::*;
    use std::time::Duration;

    #[test]
    fn imap_failures_say_where_and_what_to_do() {
        let m = mailbox();
        let (stage, text, hint) = imap_failure(
            &m,
            &ImapError::Auth(
                "code: None, info: Some(\"[AUTHENTICATIONFAILED] Authentication failed.\")".into(),
            ),
        );
        assert_eq!(stage, ImapStage::Login);
        assert_eq!(
            text,
            "login refused: [AUTHENTICATIONFAILED] Authentication failed."
        );
        assert_eq!(
            hint.unwrap(),
            "wrong username or password (username support@example.com)"
        );

        let oauth = MailboxSettings {
            auth: ImapAuth::XOAuth2,
            ..mailbox()
        };
        let (_, _, hint) = imap_failure(&oauth, &ImapError::Auth("AUTHENTICATE failed".into()));
        assert!(hint.unwrap().starts_with("token refused"));

        let (stage, _, hint) = imap_failure(
            &m,
            &ImapError::Tls("invalid peer certificate: UnknownIssuer".into()),
        );
        assert_eq!(stage, ImapStage::Connect);
        assert_eq!(
            hint.unwrap(),
            "certificate not trusted: set ca_file or fix the server certificate"
        );

        let (_, _, hint) = imap_failure(
            &m,
            &ImapError::Connect("imap.example.com:993: Connection refused (os error 111)".into()),
        );
        assert!(
            hint.unwrap()
                .starts_with("nothing listens on imap.example.com:993")
        );

        let (_, _, hint) = imap_failure(
            &m,
            &ImapError::Connect("nowhere:993: failed to lookup address information".into()),
        );
        assert_eq!(
            hint.unwrap(),
            "host name imap.example.com not found: check host"
        );

        let plain = MailboxSettings {
            tls: TlsMode::None,
            ..mailbox()
        };
        let (_, text, hint) = imap_failure(
            &plain,
            &ImapError::Timeout(Duration::from_secs(20), "greeting"),
        );
        assert!(text.contains("within 20s (greeting)"), "{text}");
        assert!(hint.unwrap().contains("tls = \"implicit\""));

        let (stage, _, _) = imap_failure(&m, &ImapError::Timeout(Duration::from_secs(20), "login"));
        assert_eq!(stage, ImapStage::Login);
    }

    #[test]
    fn server_text_is_taken_out_of_async_imap_errors() {
        assert_eq!(
            server_says(
                "code: None, info: Some(\"[AUTHENTICATIONFAILED] Authentication failed.\")"
            ),
            "[AUTHENTICATIONFAILED] Authentication failed."
        );
        assert_eq!(
            server_says(
                "No Response: code: Some(TryCreate), info: Some(\"Mailbox doesn't exist: X\")"
            ),
            "Mailbox doesn't exist: X"
        );
        assert_eq!(
            server_says(
                "no response: outcome: Outcome { code: None, information: Some(\"Mailbox doesn't exist: Support\") }"
            ),
            "Mailbox doesn't exist: Support"
        );
        assert_eq!(server_says("connection lost"), "connection lost");
    }
}
