//! The mails as rendered: headers, parts, languages, escaping.

use std::time::SystemTime;

use super::*;
use crate::intake::parse::parse;

fn ticket() -> TicketFacts {
    TicketFacts {
        key: "SUP-42".into(),
        summary: "Export planté".into(),
        description: "L'export CSV est vide.".into(),
        severity: "Haute".into(),
        products: vec!["Atlas".into(), "Nova".into()],
        request_type: "Assistance".into(),
        severity_name: "high".into(),
        product_names: vec!["Atlas".into(), "Nova".into()],
        reporter: "marie.dupont@acme.fr".into(),
        reporter_name: Some("Marie Dupont".into()),
        watchers: vec!["paul@acme.fr".into()],
        attachments: vec![AttachmentLine {
            filename: "export.csv".into(),
            content_type: "text/csv".into(),
            size: 7,
        }],
        unrecognized: vec![UnrecognizedLine {
            field: "products".into(),
            value: "Zephyr".into(),
            accepted: vec![
                "Atlas".into(),
                "Helios".into(),
                "Nova".into(),
                "Orbit".into(),
            ],
        }],
        tracking_url: "https://support.example.com/t/0123abcd".into(),
        portal_url: Some("https://support.example.com/portal/".into()),
        marker: "[ref:SUP-42:0123456789]".into(),
        queue: "default".into(),
        assignee: None,
    }
}

fn envelope(references: &[String]) -> Envelope<'_> {
    Envelope {
        from: "support@example.com",
        from_name: Some("Support ACME"),
        message_id: "sup-42.confirmation.x1y2@example.com",
        in_reply_to: Some("CAF=abc@mail.acme.fr"),
        references,
        date: SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_795_000_000),
    }
}

#[test]
fn confirmation_threads_and_says_it_is_automatic() {
    let refs = vec!["CAF=abc@mail.acme.fr".to_owned()];
    let raw = confirmation(
        &Templates::builtin(),
        &ticket(),
        Language::Fr,
        &envelope(&refs),
    )
    .unwrap();
    let mail = parse(&raw);
    assert_eq!(mail.subject.as_deref(), Some("[SUP-42] Export planté"));
    assert_eq!(mail.header("auto-submitted"), Some("auto-replied"));
    assert_eq!(mail.header("x-auto-response-suppress"), Some("All"));
    assert_eq!(
        mail.header("message-id"),
        Some("<sup-42.confirmation.x1y2@example.com>")
    );
    assert_eq!(mail.header("in-reply-to"), Some("<CAF=abc@mail.acme.fr>"));
    assert_eq!(mail.header("references"), Some("<CAF=abc@mail.acme.fr>"));
    assert_eq!(mail.to[0].email, "marie.dupont@acme.fr");
    let text = mail.text_body.unwrap();
    for expected in [
        "SUP-42",
        "Export planté",
        "Atlas, Nova",
        "export.csv (7 octets)",
        "https://support.example.com/t/0123abcd",
        "« Zephyr »",
        "Atlas, Helios, Nova, Orbit",
        "gardant [SUP-42]",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    // The link survives HTML escaping (`/` becomes `&#x2f;`).
    let html = crate::intake::body::html_to_text(&mail.html_body.unwrap());
    assert!(
        html.contains("<https://support.example.com/t/0123abcd>"),
        "{html}"
    );
}

#[test]
fn the_too_large_notice_says_the_limit_and_what_to_do() {
    let refs = vec!["CAF=abc@mail.acme.fr".to_owned()];
    let mut facts = OversizeFacts {
        reporter: "marie.dupont@acme.fr".into(),
        reporter_name: Some("Marie Dupont".into()),
        summary: Some("Les journaux".into()),
        size: "31 Mo".into(),
        limit: "26 Mo".into(),
    };
    let raw = too_large(
        &Templates::builtin(),
        &facts,
        Language::Fr,
        &envelope(&refs),
    )
    .unwrap();
    let mail = parse(&raw);
    assert_eq!(mail.subject.as_deref(), Some("Re: Les journaux"));
    assert_eq!(mail.header("auto-submitted"), Some("auto-replied"));
    assert_eq!(mail.header("in-reply-to"), Some("<CAF=abc@mail.acme.fr>"));
    let text = mail.text_body.unwrap();
    assert!(text.contains("« Les journaux »"), "{text}");
    assert!(
        text.contains("il fait 31 Mo") && text.contains("jusqu'à 26 Mo"),
        "{text}"
    );
    // Without a subject, one of ours, in the mail's language.
    facts.summary = None;
    facts.size = "31 MB".into();
    let raw = too_large(
        &Templates::builtin(),
        &facts,
        Language::En,
        &envelope(&refs),
    )
    .unwrap();
    let mail = parse(&raw);
    assert_eq!(mail.subject.as_deref(), Some("Message too large"));
    let text = mail.text_body.unwrap();
    assert!(text.starts_with("Hello Marie Dupont,"), "{text}");
    assert!(
        text.contains("Your message could not be received"),
        "{text}"
    );
    assert!(
        text.contains("it is 31 MB") && text.contains("as a link"),
        "{text}"
    );
}

#[test]
fn english_confirmation() {
    let raw = confirmation(
        &Templates::builtin(),
        &ticket(),
        Language::En,
        &envelope(&[]),
    )
    .unwrap();
    let text = parse(&raw).text_body.unwrap();
    assert!(text.contains("filed it as ticket SUP-42"), "{text}");
    assert!(text.contains("keep [SUP-42] in the subject"), "{text}");
}

#[test]
fn customer_text_cannot_inject_headers_or_markup() {
    let mut t = ticket();
    t.summary = "Hello\r\nBcc: victim@evil.example\r\nX-Injected: yes".into();
    t.reporter_name = Some("Eve\r\nBcc: other@evil.example".into());
    t.unrecognized[0].value = "<script>alert(1)</script>".into();
    let raw = confirmation(&Templates::builtin(), &t, Language::En, &envelope(&[])).unwrap();
    let mail = parse(&raw);
    assert!(
        !mail.has_header("bcc") && !mail.has_header("x-injected"),
        "{}",
        String::from_utf8_lossy(&raw)
    );
    assert_eq!(
        mail.subject.as_deref(),
        Some("[SUP-42] Hello Bcc: victim@evil.example X-Injected: yes")
    );
    let html = mail.html_body.unwrap();
    assert!(
        !html.contains("<script>") && html.contains("&lt;script&gt;"),
        "{html}"
    );
}

#[test]
fn team_notification_has_filter_headers_and_replies_to_the_reporter() {
    let raw = team_notification(
        &Templates::builtin(),
        &ticket(),
        Language::En,
        &TeamRouting {
            to: "team@example.com",
            cc: None,
            queue: "default",
            reply_to_us: false,
        },
        &envelope(&[]),
    )
    .unwrap();
    let mail = parse(&raw);
    assert_eq!(mail.header("x-mailgate-ticket"), Some("SUP-42"));
    assert_eq!(mail.header("x-mailgate-severity"), Some("high"));
    assert_eq!(mail.header("x-mailgate-products"), Some("Atlas, Nova"));
    assert_eq!(mail.header("x-mailgate-queue"), Some("default"));
    assert_eq!(mail.header("auto-submitted"), Some("auto-generated"));
    assert_eq!(mail.reply_to.unwrap().email, "marie.dupont@acme.fr");
    assert_eq!(mail.to[0].email, "team@example.com");
    let text = mail.text_body.unwrap();
    for expected in [
        "Marie Dupont <marie.dupont@acme.fr>",
        "L'export CSV est vide.",
        "paul@acme.fr",
        "export.csv (text/csv, 7 bytes)",
        "Zephyr",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
}

#[test]
fn our_own_confirmation_coming_back_is_a_loop_for_intake() {
    let raw = confirmation(
        &Templates::builtin(),
        &ticket(),
        Language::En,
        &envelope(&[]),
    )
    .unwrap();
    let robot =
        crate::intake::classify::classify(&parse(&raw), &["support@example.com".to_owned()]);
    assert!(robot.is_some());
}

#[test]
fn overrides_replace_built_ins_and_broken_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("confirmation.en.txt"),
        "Ticket {{ key }} noted.",
    )
    .unwrap();
    let templates = Templates::load(dir.path()).unwrap();
    let raw = confirmation(&templates, &ticket(), Language::En, &envelope(&[])).unwrap();
    assert_eq!(
        parse(&raw).text_body.unwrap().trim(),
        "Ticket SUP-42 noted."
    );
    std::fs::write(dir.path().join("confirmation.fr.txt"), "{% if %}").unwrap();
    assert!(matches!(
        Templates::load(dir.path()),
        Err(RenderError::Template(..))
    ));
}
