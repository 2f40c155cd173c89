//! The pages as rendered: languages, escaping, what customers never see.

use super::format::human_size;
use super::negotiate::parse_quality;
use super::*;
use crate::store::{AttachmentRecord, CommentRecord, EventRecord};

#[test]
fn accept_language() {
    for (header, expected) in [
        (None, Language::En),
        (Some(""), Language::En),
        (Some("fr"), Language::Fr),
        (Some("fr-FR"), Language::Fr),
        (Some("FR-ca"), Language::Fr),
        (Some("en-US,en;q=0.9,fr;q=0.8"), Language::En),
        (Some("fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7"), Language::Fr),
        (Some("de-DE,de;q=0.9,fr;q=0.5,en;q=0.4"), Language::Fr),
        (Some("en;q=0.5, fr;q=0.8"), Language::Fr),
        (Some("fr;q=0, en;q=0.1"), Language::En),
        (Some("fr;q=0"), Language::En),
        (Some("de, it"), Language::En),
        (Some("*"), Language::En),
        (Some("fr;q=2, en;q=0.3"), Language::En),
        (Some("fr;q=0.x"), Language::En),
        (Some("fr ; q=0.7 , en ; q=0.6"), Language::Fr),
        (Some("fr;q=0.5, en;q=0.5"), Language::Fr),
        (Some("fr-FR;Q=1.000"), Language::Fr),
    ] {
        assert_eq!(negotiate(header), expected, "{header:?}");
    }
}

#[test]
fn qualities() {
    assert_eq!(parse_quality("1"), Some(1000));
    assert_eq!(parse_quality("1.000"), Some(1000));
    assert_eq!(parse_quality("1.5"), None);
    assert_eq!(parse_quality("0.25"), Some(250));
    assert_eq!(parse_quality("0."), Some(0));
    assert_eq!(parse_quality("0.0001"), None);
    assert_eq!(parse_quality(""), None);
}

#[test]
fn sizes_and_dates() {
    assert_eq!(human_size(812, Language::En), "812 B");
    assert_eq!(human_size(12_345, Language::En), "12 KB");
    assert_eq!(human_size(3_400_000, Language::Fr), "3,4 Mo");
    assert_eq!(
        when("2024-05-03T14:02:07.123Z", Language::En).text,
        "3 May 2024, 14:02 UTC"
    );
    assert_eq!(
        when("2024-08-13T09:05:00Z", Language::Fr).text,
        "13 août 2024 à 09:05 UTC"
    );
    assert_eq!(when("yesterday", Language::Fr).text, "yesterday");
}

fn comment(id: i64, role: &str, visibility: &str, body: &str, at: &str) -> CommentRecord {
    CommentRecord {
        id,
        author_email: if role == "team" {
            "api:deploy-bot".into()
        } else {
            "marie@acme.fr".into()
        },
        author_name: None,
        author_role: role.parse().unwrap(),
        body: body.into(),
        visibility: visibility.parse().unwrap(),
        created_at: at.into(),
    }
}

fn attachment(id: i64, name: &str, comment_id: Option<i64>) -> AttachmentRecord {
    AttachmentRecord {
        id,
        filename: name.into(),
        content_type: "text/plain".into(),
        size: 1234,
        sha256: "0".repeat(64),
        content_id: None,
        comment_id,
    }
}

fn ticket() -> TicketRecord {
    TicketRecord {
        id: 1,
        key: "SUP-7".into(),
        tracking_token: "ab".repeat(20),
        status: TicketStatus::Resolved,
        summary: "Export <script>document.title='pwned'</script> broken".into(),
        description: "Line one\n<b>not bold</b>\n\nLine & three".into(),
        severity: "high".into(),
        products: vec!["Atlas".into(), "Nova".into()],
        request_type: "support".into(),
        reporter_email: "marie@acme.fr".into(),
        reporter_name: Some("Marie Dupont".into()),
        reply_to: None,
        language: Some("fr".into()),
        watchers: Vec::new(),
        unrecognized: Vec::new(),
        attachments: vec![
            attachment(10, "first.csv", None),
            attachment(11, "internal-secret.log", Some(2)),
            attachment(12, "screenshot.png", Some(3)),
        ],
        comments: vec![
            comment(
                1,
                "team",
                "public",
                "We are looking into it.",
                "2024-05-03T10:00:00.000Z",
            ),
            comment(
                2,
                "team",
                "internal",
                "Customer is on the old build",
                "2024-05-03T10:05:00.000Z",
            ),
            comment(
                3,
                "customer",
                "public",
                "Here is a screenshot.",
                "2024-05-03T11:00:00.000Z",
            ),
        ],
        events: vec![
            EventRecord {
                kind: "status".into(),
                field: Some("status".into()),
                old_value: Some("open".into()),
                new_value: Some("resolved".into()),
                detail: None,
                actor: "api:deploy-bot".into(),
                public: 1_i64.into(),
                created_at: "2024-05-03T12:00:00.000Z".into(),
            },
            EventRecord {
                kind: "delivery-failure".into(),
                field: None,
                old_value: None,
                new_value: None,
                detail: Some("reply: 550 mailbox unknown".into()),
                actor: "mailgate".into(),
                public: 0_i64.into(),
                created_at: "2024-05-03T12:30:00.000Z".into(),
            },
        ],
        follows: None,
        queue: None,
        assignee: None,
        merged_into: None,
        replies: Vec::new(),
        created_at: "2024-05-03T09:00:00.000Z".into(),
        updated_at: "2024-05-03T12:00:00.000Z".into(),
    }
}

#[test]
fn the_page_escapes_and_shows_only_what_is_public() {
    let html = render_ticket(&ticket(), &Vocabulary::default(), Language::En).unwrap();
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("SUP-7"));
    assert!(!html.contains("<script"), "{html}");
    assert!(html.contains("&lt;script&gt;"));
    assert!(!html.contains("<b>not bold"));
    assert!(html.contains("&lt;b&gt;not bold"));
    assert!(html.contains("Line &amp; three"));
    // Line breaks are kept as they are, inside a pre-wrap block.
    assert!(html.contains("Line one\n"));
    assert!(html.contains("We are looking into it."));
    assert!(html.contains("Here is a screenshot."));
    assert!(!html.contains("old build"));
    assert!(!html.contains("internal-secret"));
    assert!(!html.contains("550 mailbox"));
    assert!(!html.contains("deploy-bot"));
    assert!(html.contains(&format!("href=\"{}/attachments/10\"", "ab".repeat(20))));
    assert!(html.contains("/attachments/12\""));
    assert!(!html.contains("/attachments/11\""));
    assert!(html.contains("Resolved"));
    assert!(html.contains("Atlas, Nova"));
    assert!(html.contains("Support team"));
    assert!(!html.contains("Support team</span> <span class=\"tag\">· Support team"));
    assert_eq!(html.matches("Support team").count(), 1, "{html}");
    // Order: the first message, the team's reply, the customer's, then
    // the status change.
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("{s} missing"));
    assert!(at("Line one") < at("We are looking"));
    assert!(at("We are looking") < at("Here is a screenshot"));
    assert!(at("Here is a screenshot") < at("Open →"));
}

#[test]
fn the_page_speaks_french() {
    let html = render_ticket(&ticket(), &Vocabulary::default(), Language::Fr).unwrap();
    assert!(html.contains("<html lang=\"fr\">"));
    assert!(html.contains("Résolue"));
    assert!(html.contains("Ouverte →"));
    assert!(html.contains("Équipe support"));
    assert!(html.contains("Gravité"));
    assert!(html.contains("3 mai 2024 à 09:00 UTC"));
    // The terms in the reader's words, and a way to the other language.
    assert!(html.contains("<dd>Haute</dd>"), "{html}");
    assert!(html.contains("<dd>Assistance</dd>"), "{html}");
    assert!(!html.contains("<dd>high</dd>"), "{html}");
    assert!(html.contains("href=\"?lang=en\""), "{html}");
    let english = render_ticket(&ticket(), &Vocabulary::default(), Language::En).unwrap();
    assert!(english.contains("<dd>High</dd>") && english.contains("<dd>Support request</dd>"));
    assert!(english.contains("href=\"?lang=fr\""));
}

#[test]
fn notices() {
    let html = render_notice(Notice::NotFound, Language::Fr);
    assert!(html.contains("Page introuvable"));
    assert!(html.contains("name=\"viewport\""));
    assert!(render_notice(Notice::Home, Language::En).contains("Support request tracking"));
}
