//! Mail written by machines, which must never become a ticket nor get an
//! answer: auto-replies (RFC 3834), bounces and delivery reports (RFC 3464,
//! RFC 6522), mailing-list and bulk mail, and our own mail coming back.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use super::parse::ParsedMail;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RobotKind {
    AutoReply,
    Bounce,
    /// Read receipts and feedback reports (`multipart/report` other than
    /// delivery status).
    Report,
    MailingList,
    Bulk,
    /// Sent from an address that says it reads no answer (`no-reply@`).
    NoReplySender,
    /// Sent from one of our own addresses.
    OwnAddress,
    /// Mail that mailgate itself sent, coming back.
    Loop,
}

impl RobotKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RobotKind::AutoReply => "auto-reply",
            RobotKind::Bounce => "bounce",
            RobotKind::Report => "report",
            RobotKind::MailingList => "mailing-list",
            RobotKind::Bulk => "bulk",
            RobotKind::NoReplySender => "no-reply-sender",
            RobotKind::OwnAddress => "own-address",
            RobotKind::Loop => "loop",
        }
    }
}

/// Why a message was taken for a robot's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Robot {
    pub kind: RobotKind,
    /// The signal, for people: `Auto-Submitted: auto-replied`.
    pub detail: String,
}

// Wrapped so each rule reads `return robot(…)` where the rules return Option.
#[allow(clippy::unnecessary_wraps)]
fn robot(kind: RobotKind, detail: impl Into<String>) -> Option<Robot> {
    Some(Robot {
        kind,
        detail: detail.into(),
    })
}

/// Subjects of auto-replies from clients that send no header saying so
/// (Exchange and Outlook rules, webmail vacation messages), in the languages
/// our customers use.
static AUTO_REPLY_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^\s*(?:
            (?:automatic|auto)[\s-]?reply\s*: |
            autoreply\s*: |
            r[ée]ponse\s+automatique\s*: |
            automatische\s+antwort\s*: |
            abwesenheitsnotiz |
            risposta\s+automatica\s*: |
            respuesta\s+autom[aá]tica\s*: |
            resposta\s+autom[aá]tica\s*: |
            autosvar\s*: |
            automatisch\s+antwoord\s*: |
            out\s+of\s+(?:the\s+)?office |
            absence\s+du\s+bureau |
            absent\s+du\s+bureau |
            vacation\s+(?:reply|message|notice) |
            i\s+am\s+out\s+of\s+(?:the\s+)?office
        )",
    )
    .expect("valid regex")
});

/// Subjects of non-delivery reports from MTAs that do not use
/// `multipart/report` nor a `MAILER-DAEMON` sender.
static BOUNCE_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^\s*(?:
            undeliver(?:ed|able) |
            non\s*remis |
            non[\s-]?delivery |
            nondeliverable |
            delivery\s+(?:status\s+notification|failure|has\s+failed|notification|problem|report) |
            mail\s+delivery\s+(?:failed|failure|problem|system) |
            failure\s+notice |
            returned\s+mail |
            mail\s+system\s+error |
            message\s+(?:not\s+delivered|delivery\s+failed|could\s+not\s+be\s+delivered) |
            could\s+not\s+send\s+message |
            warning:\s+could\s+not\s+send |
            unzustellbar |
            [ée]chec\s+de\s+(?:la\s+)?(?:remise|distribution) |
            rapport\s+de\s+non-?remise |
            mensaje\s+no\s+entregado |
            delivery\s+delayed |
            unable\s+to\s+deliver
        )",
    )
    .expect("valid regex")
});

/// Local parts of the addresses MTAs send reports from.
fn is_mailer_daemon(email: &str) -> bool {
    let local = email.split('@').next().unwrap_or_default();
    matches!(
        local,
        "mailer-daemon"
            | "mailerdaemon"
            | "mail-daemon"
            | "postmaster"
            | "post_master"
            | "mailer_daemon"
    )
}

/// Local parts of addresses that announce nobody reads answers.
fn is_no_reply(email: &str) -> bool {
    let local = email
        .split('@')
        .next()
        .unwrap_or_default()
        .replace(['-', '_', '.'], "");
    matches!(
        local.as_str(),
        "noreply" | "donotreply" | "dontreply" | "nepasrepondre" | "nereponduspas"
    )
}

/// An address without its subaddress (RFC 5233: `support+atlas@example.com`
/// is `support@example.com`), lower case.
fn without_subaddress(email: &str) -> String {
    let email = email.to_lowercase();
    match email.split_once('@') {
        Some((local, domain)) => match local.split_once('+') {
            Some((base, _)) if !base.is_empty() => format!("{base}@{domain}"),
            _ => email,
        },
        None => email,
    }
}

/// Classifies a message. `own_addresses` are lower case.
pub fn classify(mail: &ParsedMail, own_addresses: &[String]) -> Option<Robot> {
    // Our own mail first: it carries our headers and may look like anything.
    if mail.has_header("x-mailgate-ticket") {
        return robot(RobotKind::Loop, "carries our X-Mailgate-Ticket header");
    }
    if let Some(loop_header) = mail.header("x-loop") {
        let value = loop_header.to_lowercase();
        if own_addresses.iter().any(|own| value.contains(own.as_str())) {
            return robot(RobotKind::Loop, format!("X-Loop: {loop_header}"));
        }
    }
    if let Some(from) =
        (mail.from.iter()).find(|p| own_addresses.contains(&without_subaddress(&p.email)))
    {
        return robot(
            RobotKind::OwnAddress,
            format!("sent from our address {}", from.email),
        );
    }

    if mail.content_type == "multipart/report" {
        let report_type = mail
            .header("content-type")
            .map(str::to_lowercase)
            .unwrap_or_default();
        return if report_type.contains("delivery-status") || report_type.is_empty() {
            robot(RobotKind::Bounce, "multipart/report delivery status")
        } else {
            robot(
                RobotKind::Report,
                format!(
                    "Content-Type: {}",
                    mail.header("content-type").unwrap_or_default()
                ),
            )
        };
    }
    if mail.has_header("x-failed-recipients") {
        return robot(RobotKind::Bounce, "X-Failed-Recipients header");
    }
    if let Some(from) = mail.from.iter().find(|p| is_mailer_daemon(&p.email)) {
        return robot(RobotKind::Bounce, format!("sent by {}", from.email));
    }
    if mail
        .from
        .iter()
        .filter_map(|p| p.name.as_deref())
        .any(|name| name.to_lowercase().starts_with("mail delivery"))
    {
        return robot(RobotKind::Bounce, "sent by a mail delivery system");
    }

    // Bounces often carry Auto-Submitted too (Postfix does); they were
    // told apart above. RFC 3834 5.: any Auto-Submitted value but "no" marks an automatic
    // message.
    if let Some(value) = mail.header("auto-submitted") {
        let value = value.trim();
        if !value.eq_ignore_ascii_case("no") {
            return robot(RobotKind::AutoReply, format!("Auto-Submitted: {value}"));
        }
    }

    if let Some(from) = mail.from.iter().find(|p| is_no_reply(&p.email)) {
        return robot(
            RobotKind::NoReplySender,
            format!("sent from {}", from.email),
        );
    }
    for header in [
        "x-autoreply",
        "x-autorespond",
        "x-autoresponder",
        "x-autoreply-from",
        "x-mail-autoreply",
        "x-autogenerated",
        "x-auto-reply",
    ] {
        if mail.has_header(header) {
            return robot(RobotKind::AutoReply, format!("{header} header"));
        }
    }
    let subject = mail.subject.as_deref().unwrap_or_default();
    if AUTO_REPLY_SUBJECT.is_match(subject) {
        return robot(
            RobotKind::AutoReply,
            format!("auto-reply subject {subject:?}"),
        );
    }
    if BOUNCE_SUBJECT.is_match(subject) {
        return robot(RobotKind::Bounce, format!("bounce subject {subject:?}"));
    }

    if let Some(precedence) = mail.header("precedence") {
        let value = precedence.trim().to_ascii_lowercase();
        match value.as_str() {
            "bulk" | "junk" => return robot(RobotKind::Bulk, format!("Precedence: {value}")),
            "list" => return robot(RobotKind::MailingList, "Precedence: list"),
            "auto_reply" | "auto-reply" => {
                return robot(RobotKind::AutoReply, format!("Precedence: {value}"));
            }
            _ => {}
        }
    }
    for header in ["list-id", "list-post", "mailing-list", "x-mailing-list"] {
        if let Some(value) = mail.header(header) {
            return robot(RobotKind::MailingList, format!("{header}: {value}"));
        }
    }
    // RFC 5321 4.5.5: the null reverse-path is for notifications that must
    // not be answered (bounces, and auto-replies following RFC 3834 3.3).
    if mail.return_path.as_deref() == Some("") {
        return robot(RobotKind::Bounce, "null return path <>");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::parse::parse;

    fn kind(headers: &str) -> Option<RobotKind> {
        let raw = format!("{headers}\n\nbody\n");
        classify(&parse(raw.as_bytes()), &["support@example.com".to_owned()]).map(|r| r.kind)
    }

    #[test]
    fn robots_and_people() {
        use RobotKind::*;
        let cases = [
            ("From: a@b.fr\nSubject: Export en panne", None),
            ("From: a@b.fr\nAuto-Submitted: no\nSubject: Export", None),
            (
                "From: a@b.fr\nAuto-Submitted: auto-replied\nSubject: Export",
                Some(AutoReply),
            ),
            (
                "From: a@b.fr\nAuto-Submitted: auto-generated\nSubject: Job done",
                Some(AutoReply),
            ),
            (
                "From: a@b.fr\nX-Autoreply: yes\nSubject: Re: Export",
                Some(AutoReply),
            ),
            (
                "From: a@b.fr\nX-Autorespond: yes\nSubject: Re: Export",
                Some(AutoReply),
            ),
            (
                "From: a@b.fr\nSubject: Automatic reply: Export",
                Some(AutoReply),
            ),
            (
                "From: a@b.fr\nSubject: Réponse automatique : Export",
                Some(AutoReply),
            ),
            (
                "From: a@b.fr\nSubject: Réponse automatique\u{a0}: Export",
                Some(AutoReply),
            ),
            (
                "From: a@b.fr\nX-Auto-Response-Suppress: All\nSubject: Automatic reply: x",
                Some(AutoReply),
            ),
            (
                "From: a@b.fr\nX-Auto-Response-Suppress: All\nSubject: Export en panne",
                None,
            ),
            (
                "From: a@b.fr\nSubject: Out of Office: back Monday",
                Some(AutoReply),
            ),
            ("From: a@b.fr\nSubject: Absence du bureau", Some(AutoReply)),
            (
                "From: a@b.fr\nSubject: Question about out of office feature",
                None,
            ),
            (
                "From: MAILER-DAEMON@mx.b.fr\nSubject: Undelivered Mail Returned to Sender",
                Some(Bounce),
            ),
            ("From: postmaster@b.fr\nSubject: Hello", Some(Bounce)),
            ("From: a@b.fr\nSubject: Undeliverable: Export", Some(Bounce)),
            ("From: a@b.fr\nSubject: Non remis : Export", Some(Bounce)),
            (
                "From: a@b.fr\nX-Failed-Recipients: x@y.fr\nSubject: x",
                Some(Bounce),
            ),
            (
                "From: \"Mail Delivery System\" <mds@b.fr>\nSubject: x",
                Some(Bounce),
            ),
            ("From: a@b.fr\nReturn-Path: <>\nSubject: x", Some(Bounce)),
            ("From: a@b.fr\nReturn-Path: <a@b.fr>\nSubject: x", None),
            (
                "From: a@b.fr\nContent-Type: multipart/report; report-type=delivery-status; boundary=x",
                Some(Bounce),
            ),
            (
                "From: a@b.fr\nContent-Type: multipart/report; report-type=disposition-notification; boundary=x",
                Some(Report),
            ),
            (
                "From: a@b.fr\nList-Id: <users.lists.b.fr>\nSubject: x",
                Some(MailingList),
            ),
            (
                "From: a@b.fr\nPrecedence: list\nSubject: x",
                Some(MailingList),
            ),
            ("From: a@b.fr\nPrecedence: bulk\nSubject: x", Some(Bulk)),
            ("From: a@b.fr\nPrecedence: junk\nSubject: x", Some(Bulk)),
            (
                "From: Support <SUPPORT@example.com>\nSubject: x",
                Some(OwnAddress),
            ),
            // Our address with a tag (RFC 5233) is ours too; a person whose
            // address merely starts the same is not.
            (
                "From: Support <support+atlas@example.com>\nSubject: x",
                Some(OwnAddress),
            ),
            ("From: support-fr@example.com\nSubject: x", None),
            ("From: +x@example.com\nSubject: x", None),
            (
                "From: a@b.fr\nX-Mailgate-Ticket: SUP-4\nSubject: x",
                Some(Loop),
            ),
            (
                "From: a@b.fr\nX-Loop: support@example.com\nSubject: x",
                Some(Loop),
            ),
            ("From: a@b.fr\nX-Loop: other@b.fr\nSubject: x", None),
            (
                "From: MAILER-DAEMON@b.fr\nAuto-Submitted: auto-replied\nSubject: Undelivered",
                Some(Bounce),
            ),
            (
                "From: a@b.fr\nAuto-Submitted: auto-replied\nContent-Type: multipart/report; report-type=delivery-status; boundary=x",
                Some(Bounce),
            ),
            ("From: post_master@b.fr\nSubject: Re:Test", Some(Bounce)),
            (
                "From: no-reply@b.fr\nSubject: Notification",
                Some(NoReplySender),
            ),
            (
                "From: NoReply@b.fr\nSubject: Notification",
                Some(NoReplySender),
            ),
            (
                "From: do_not_reply@b.fr\nSubject: Notification",
                Some(NoReplySender),
            ),
            ("From: noreen@b.fr\nSubject: Question", None),
        ];
        for (headers, expected) in cases {
            assert_eq!(kind(headers), expected, "{headers}");
        }
    }
}
