//! A conversation through the store, on SQLite and PostgreSQL: follow-ups
//! found by each threading layer, strangers kept out, reopening, field
//! changes by the reporter, the team's replies, notes and status changes by
//! mail and by call, a follow-up after the reopen window, and a bounce.

use mailgate::config::Settings;
use mailgate::intake::thread::find_markers;
use mailgate::store::{FieldUpdate, Filed, Store, StoreError};
use sqlx::Connection;

use super::{TestDb, file, settings};

fn conversation_settings(url: &str) -> Settings {
    let mut settings = settings();
    settings.database.url = url.to_owned();
    settings.tickets.team_address = Some("team@example.com".into());
    settings.tickets.conversations.team_addresses = vec!["alice@vendor.example".into()];
    settings
}

fn comment(key: &str) -> Filed {
    Filed::Comment { key: key.into() }
}

fn ticket(key: &str) -> Filed {
    Filed::Ticket { key: key.into() }
}

/// The outbox rows of a ticket: (kind, recipients), oldest first.
async fn mails(store: &Store, key: &str) -> Vec<(String, String)> {
    let mut rows: Vec<_> = store
        .list_outbox()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.ticket.as_deref() == Some(key))
        .map(|r| (r.kind, r.recipients))
        .collect();
    rows.reverse();
    rows
}

async fn message_id_of(store: &Store, key: &str, kind: &str) -> String {
    store
        .list_outbox()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.ticket.as_deref() == Some(key) && r.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} for {key}"))
        .message_id
}

/// The decoded text of a mail, for checking what it says.
fn text_of(raw: &str) -> String {
    mailgate::intake::parse::parse(raw.as_bytes())
        .text_body
        .unwrap_or_default()
}

async fn raw_of(store: &Store, key: &str, kind: &str) -> String {
    let row = store
        .list_outbox()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.ticket.as_deref() == Some(key) && r.kind == kind)
        .unwrap();
    String::from_utf8(store.blob(&row.raw_sha256).await.unwrap()).unwrap()
}

const REQUEST: &str = "From: Marie Dupont <marie.dupont@acme.fr>\n\
To: support@example.com\n\
Cc: Paul <paul@acme.fr>\n\
Subject: Export planté\n\
Message-ID: <conv-1@acme.fr>\n\
\n\
Bonjour,\nL'export CSV est vide depuis la mise à jour.\nMarie\n";

async fn story(url: &str) {
    let settings = conversation_settings(url);
    let store = mailgate::wiring::open_store(&settings).await.unwrap();
    assert_eq!(
        file(&store, &settings, REQUEST, None).await,
        ticket("SUP-1")
    );
    let confirmation = message_id_of(&store, "SUP-1", "confirmation").await;
    let notification = message_id_of(&store, "SUP-1", "notification").await;

    // 1. Headers: a reply to the confirmation, with a quote, a keyword line
    //    and an attachment. The reporter's keyword line changes the severity.
    let reply = format!(
        "From: Marie Dupont <marie.dupont@acme.fr>\nTo: support@example.com\n\
         Subject: Re: [SUP-1] Export planté\nMessage-ID: <conv-2@acme.fr>\n\
         In-Reply-To: <{confirmation}>\nReferences: <conv-1@acme.fr> <{confirmation}>\n\
         MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n\
         --b\nContent-Type: text/plain; charset=utf-8\n\n\
         Voici la capture.\nGravité : critique\n\n\
         Le lun. 23 nov. 2026 à 10:02, Support <support@example.com> a écrit :\n\
         > Nous avons bien reçu votre demande.\n\
         --b\nContent-Type: image/png; name=capture.png\nContent-Transfer-Encoding: base64\n\n\
         iVBORw0KGgo=\n--b--\n"
    );
    assert_eq!(
        file(&store, &settings, &reply, None).await,
        comment("SUP-1")
    );
    let t = store.ticket("SUP-1").await.unwrap();
    assert_eq!(t.comments.len(), 1);
    assert_eq!(t.comments[0].body, "Voici la capture.\nGravité : critique");
    assert_eq!(
        (
            t.comments[0].author_role.as_str(),
            t.comments[0].visibility.as_str()
        ),
        ("customer", "public")
    );
    assert_eq!(t.severity, "critical");
    assert_eq!(t.attachments.len(), 1);
    assert!(t.attachments[0].comment_id.is_some());
    let change = t.events.iter().find(|e| e.kind == "field").unwrap();
    assert_eq!(
        (change.old_value.as_deref(), change.new_value.as_deref()),
        (Some("medium"), Some("critical"))
    );
    // The team hears of it; the customer gets no confirmation by default.
    assert_eq!(
        mails(&store, "SUP-1").await,
        [
            ("confirmation".into(), "marie.dupont@acme.fr".into()),
            ("notification".into(), "team@example.com".into()),
            ("comment-notification".into(), "team@example.com".into()),
        ]
    );
    let told = raw_of(&store, "SUP-1", "comment-notification").await;
    // In the team's language (outbox.language, English), in words.
    assert!(
        text_of(&told).contains("Severity: Medium → Critical"),
        "{told}"
    );
    assert!(told.contains("In-Reply-To: <conv-2@acme.fr>"), "{told}");

    // 2. Subject tag: a stranger naming the ticket opens a ticket of their
    //    own; the watcher and a colleague of the reporter's domain write in.
    let tagged = |from: &str, id: &str| {
        format!(
            "From: {from}\nTo: support@example.com\nSubject: RE: [SUP-1] Export\n\
             Message-ID: <{id}>\n\nPlus d'informations de {from}.\n"
        )
    };
    assert_eq!(
        file(
            &store,
            &settings,
            &tagged("eve@evil.example", "t1@evil.example"),
            None
        )
        .await,
        ticket("SUP-2")
    );
    assert_eq!(
        file(
            &store,
            &settings,
            &tagged("paul@acme.fr", "t2@acme.fr"),
            None
        )
        .await,
        comment("SUP-1")
    );
    assert_eq!(
        file(
            &store,
            &settings,
            &tagged("jeanne@acme.fr", "t3@acme.fr"),
            None
        )
        .await,
        comment("SUP-1")
    );
    // A tag naming no ticket is no thread either.
    assert!(matches!(
        file(
            &store,
            &settings,
            &tagged("paul@acme.fr", "t4@acme.fr").replace("SUP-1", "SUP-404"),
            None
        )
        .await,
        Filed::Ticket { .. }
    ));

    // 3. Marker: no headers, no tag, but our mail quoted in the body; a
    //    made-up code is no proof.
    let confirmation_raw = raw_of(&store, "SUP-1", "confirmation").await;
    let marker = find_markers(&confirmation_raw)
        .into_iter()
        .next()
        .expect("the confirmation carries a marker");
    let quoted = |code: &str, id: &str| {
        format!(
            "From: marie.dupont@acme.fr\nTo: support@example.com\nSubject: RE: export\n\
             Message-ID: <{id}>\n\nEncore un détail.\n\n\
             ________________________________\nDe : Support\nEnvoyé : lundi\nÀ : Marie\nObjet : export\n\n\
             Nous avons bien reçu votre demande.\n[ref:{}:{code}]\n",
            marker.key
        )
    };
    assert_eq!(
        file(&store, &settings, &quoted(&marker.code, "m1@acme.fr"), None).await,
        comment("SUP-1")
    );
    assert!(matches!(
        file(&store, &settings, &quoted("0000000000", "m2@acme.fr"), None).await,
        Filed::Ticket { .. }
    ));
    let t = store.ticket("SUP-1").await.unwrap();
    assert_eq!(t.comments.len(), 4);
    assert_eq!(t.comments[3].body, "Encore un détail.");

    // The team resolves it by call, with a message to the customer.
    let done = store
        .update_ticket(
            "SUP-1",
            "alice@vendor.example",
            &FieldUpdate {
                status: Some("resolved".into()),
                ..FieldUpdate::default()
            },
            Some("Corrigé dans la 4.2.1."),
        )
        .await
        .unwrap();
    assert_eq!(done.mails, 1);
    let status_mail = raw_of(&store, "SUP-1", "status").await;
    assert!(
        text_of(&status_mail).contains("Corrigé dans la 4.2.1."),
        "{status_mail}"
    );
    assert!(status_mail.contains("Cc: paul@acme.fr"), "{status_mail}");
    assert!(
        status_mail.contains("In-Reply-To: <m1@acme.fr>"),
        "{status_mail}"
    );
    assert!(
        status_mail.contains("References: <conv-1@acme.fr>"),
        "{status_mail}"
    );
    assert_eq!(store.ticket("SUP-1").await.unwrap().status, "resolved");

    // A reply to the resolved ticket reopens it.
    let status_id = message_id_of(&store, "SUP-1", "status").await;
    let reopen = format!(
        "From: marie.dupont@acme.fr\nSubject: Re: [SUP-1] Export planté\nMessage-ID: <conv-3@acme.fr>\n\
         In-Reply-To: <{status_id}>\n\nToujours vide chez moi.\n"
    );
    assert_eq!(
        file(&store, &settings, &reopen, None).await,
        comment("SUP-1")
    );
    let t = store.ticket("SUP-1").await.unwrap();
    assert_eq!(t.status, "open");
    let statuses: Vec<_> = t
        .events
        .iter()
        .filter(|e| e.kind == "status")
        .map(|e| (e.old_value.clone().unwrap(), e.new_value.clone().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("open".to_owned(), "resolved".to_owned()),
            ("resolved".to_owned(), "open".to_owned())
        ]
    );
    assert!(
        raw_of(&store, "SUP-1", "comment-notification")
            .await
            .contains("Export")
    );

    // An agent answers the team notification by mail: a public reply to the
    // customer; with #note, an internal note that sends nothing.
    let before = mails(&store, "SUP-1").await.len();
    let agent = |id: &str, text: &str| {
        format!(
            "From: Alice <alice@vendor.example>\nTo: support@example.com\n\
             Subject: Re: [SUP-1] Export planté\nMessage-ID: <{id}>\nIn-Reply-To: <{notification}>\n\n\
             {text}\n\nOn Mon, Nov 23, 2026 at 10:02 AM Support <support@example.com> wrote:\n> New ticket\n"
        )
    };
    assert_eq!(
        file(
            &store,
            &settings,
            &agent("a1@vendor.example", "Nous regardons."),
            None
        )
        .await,
        comment("SUP-1")
    );
    assert_eq!(
        file(
            &store,
            &settings,
            &agent("a2@vendor.example", "#note\nBug connu, voir JIRA-12."),
            None
        )
        .await,
        comment("SUP-1")
    );
    let t = store.ticket("SUP-1").await.unwrap();
    let last: Vec<_> = t
        .comments
        .iter()
        .rev()
        .take(2)
        .map(|c| {
            (
                c.author_role.as_str(),
                c.visibility.as_str(),
                c.body.as_str(),
            )
        })
        .collect();
    assert_eq!(
        last,
        [
            ("team", "internal", "Bug connu, voir JIRA-12."),
            ("team", "public", "Nous regardons.")
        ]
    );
    let after = mails(&store, "SUP-1").await;
    assert_eq!(after.len(), before + 1, "{after:?}");
    assert_eq!(
        after.last().unwrap(),
        &(
            "reply".to_owned(),
            "marie.dupont@acme.fr,paul@acme.fr".to_owned()
        )
    );
    let team_reply = raw_of(&store, "SUP-1", "reply").await;
    let team_text = text_of(&team_reply);
    assert!(team_text.contains("Nous regardons."), "{team_reply}");
    assert!(team_text.contains(&format!("[ref:SUP-1:{}]", marker.code)));

    // The team's actions by call: a reply with a file, a note.
    let file_to_send = mailgate::intake::Attachment {
        filename: "patch.txt".into(),
        content_type: "text/plain".into(),
        size: 5,
        sha256: mailgate::intake::sha256_hex(b"patch"),
        content_id: None,
        inline: false,
        data: b"patch".to_vec(),
        place: None,
    };
    let done = store
        .team_reply(
            "SUP-1",
            "bob@vendor.example",
            "Voici le correctif.",
            &[file_to_send],
        )
        .await
        .unwrap();
    assert_eq!(done.mails, 1);
    store
        .add_note("SUP-1", "bob@vendor.example", "Client important.")
        .await
        .unwrap();
    let t = store.ticket("SUP-1").await.unwrap();
    assert_eq!(t.comments.last().unwrap().visibility, "internal");
    assert!(t.attachments.iter().any(|a| a.filename == "patch.txt"));
    assert!(matches!(
        store
            .update_ticket(
                "SUP-1",
                "cli",
                &FieldUpdate {
                    status: Some("gone".into()),
                    ..FieldUpdate::default()
                },
                None
            )
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.add_note("SUP-999", "cli", "x").await,
        Err(StoreError::NotFound(_))
    ));

    // The tracking page sees public attachments only.
    let by_token = store.ticket_by_token(&t.tracking_token).await.unwrap();
    assert_eq!(by_token.key, "SUP-1");
    assert!(
        store
            .ticket_by_token("0000000000000000000000000000000000000000")
            .await
            .is_err()
    );
    assert!(store.ticket_by_token("not-a-token").await.is_err());

    // A bounce of the status mail is recorded on it and on the ticket.
    let bounce = format!(
        "From: MAILER-DAEMON@mx.acme.fr\nTo: support@example.com\nSubject: Undelivered Mail Returned to Sender\n\
         Message-ID: <b1@mx.acme.fr>\nMIME-Version: 1.0\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=r\n\n\
         --r\nContent-Type: text/plain\n\nI could not deliver your message.\n\
         --r\nContent-Type: message/delivery-status\n\n\
         Reporting-MTA: dns; mx.acme.fr\n\nFinal-Recipient: rfc822; paul@acme.fr\nAction: failed\n\
         Status: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\n\n\
         --r\nContent-Type: text/rfc822-headers\n\n\
         From: support@example.com\nMessage-ID: <{status_id}>\nSubject: Re: [SUP-1] Export planté\n\n--r--\n"
    );
    assert_eq!(
        file(&store, &settings, &bounce, None).await,
        Filed::Ignored {
            reason: "bounce".into()
        }
    );
    let t = store.ticket("SUP-1").await.unwrap();
    let failure = t
        .events
        .iter()
        .find(|e| e.kind == "delivery-failure")
        .unwrap();
    let detail = failure.detail.as_deref().unwrap();
    assert!(
        detail.contains("paul@acme.fr") && detail.contains("5.1.1"),
        "{detail}"
    );
    assert!(!failure.public.0);
    let status_row = t.replies.iter().find(|r| r.kind == "status").unwrap();
    assert!(
        status_row
            .last_error
            .as_deref()
            .unwrap()
            .contains("user unknown")
    );
    assert!(
        !mails(&store, "SUP-1")
            .await
            .iter()
            .any(|(k, _)| k.contains("bounce")),
        "no answer to a bounce"
    );

    // Closed longer than the reopen window: a follow-up opens a new ticket
    // that continues the old one.
    store
        .update_ticket(
            "SUP-1",
            "cli",
            &FieldUpdate {
                status: Some("closed".into()),
                ..FieldUpdate::default()
            },
            None,
        )
        .await
        .unwrap();
    age_status(url, "SUP-1", 40).await;
    let late = format!(
        "From: marie.dupont@acme.fr\nSubject: Re: [SUP-1] Export planté\nMessage-ID: <conv-9@acme.fr>\n\
         In-Reply-To: <{status_id}>\n\nLe problème revient.\n"
    );
    let Filed::Ticket { key } = file(&store, &settings, &late, None).await else {
        panic!("a new ticket");
    };
    let new = store.ticket(&key).await.unwrap();
    assert_eq!(new.follows.as_deref(), Some("SUP-1"));
    assert_eq!(new.description, "Le problème revient.");
    let old = store.ticket("SUP-1").await.unwrap();
    assert_eq!(old.status, "closed");
    assert!(
        old.events
            .iter()
            .any(|e| e.kind == "follow-up" && e.new_value.as_deref() == Some(key.as_str()))
    );
    store.close().await;
}

/// Makes a ticket's last status change `days` old.
async fn age_status(url: &str, key: &str, days: i64) {
    let at = (chrono::Utc::now() - chrono::Duration::days(days))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    sqlx::query("UPDATE tickets SET status_changed_at = $1 WHERE key = $2")
        .bind(at)
        .bind(key)
        .execute(&mut conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn conversation_on_sqlite() {
    let db = TestDb::sqlite();
    story(&db.url).await;
}

#[tokio::test]
async fn conversation_on_postgres() {
    let Some(db) = TestDb::postgres("conversation").await else {
        return;
    };
    story(&db.url).await;
    db.drop_pg().await;
}
