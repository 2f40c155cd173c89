//! One notice for every refusal, on SQLite and PostgreSQL: a message too
//! large gets one, never twice (the same IMAP message again, a duplicate,
//! a retry), never through the MTA pipe, never to a robot or a forged
//! sender; and the start of each IMAP mailbox (`initial`), recorded once.

use mailgate::intake::{self, Decision, MailboxDefaults};
use mailgate::store::{Filed, Inbound, MailboxStart, SourceKind, Store};

use super::{TestDb, settings};

const LIMIT: usize = 1024;

fn header(from: &str, id: &str, extra: &str) -> String {
    format!(
        "From: {from}\nTo: support@example.com\nSubject: Les journaux de la semaine\nMessage-ID: <{id}>\n{extra}\n"
    )
}

async fn too_large(
    store: &Store,
    source: SourceKind,
    uid: Option<u32>,
    header: &str,
    settings: &mailgate::config::Settings,
) -> (Filed, Decision) {
    let decision = intake::decide_oversize(
        header.as_bytes(),
        50_000,
        &settings.intake,
        &MailboxDefaults::default(),
    );
    let inbound = Inbound {
        source,
        mailbox: uid.map(|_| "support"),
        uidvalidity: uid.map(|_| 7),
        uid,
        raw: header.as_bytes(),
        digest: None,
    };
    let filed = store.file_message(&inbound, &decision).await.unwrap();
    (filed, decision)
}

/// The too-large notices queued: recipient and status.
async fn notices(store: &Store) -> Vec<(String, String)> {
    (store.list_outbox().await.unwrap().into_iter())
        .filter(|r| r.kind == "too-large")
        .map(|r| (r.recipients, r.status.to_string()))
        .collect()
}

fn rejected(answered: bool) -> Filed {
    Filed::Rejected {
        reason: "too-large".into(),
        answered,
    }
}

async fn story(db: &TestDb) {
    let mut settings = settings();
    settings.database.url = db.url.clone();
    settings.intake.max_message_size = LIMIT;
    settings.intake.trusted_authserv_ids = vec!["mx.example.com".into()];
    settings.auto_reply_limit = 2;
    let store = mailgate::wiring::open_store(&settings).await.unwrap();

    // Over IMAP: one notice, pending.
    let marie = header("Marie <marie@acme.fr>", "big-1@acme.fr", "");
    let (filed, decision) = too_large(&store, SourceKind::Imap, Some(1), &marie, &settings).await;
    assert_eq!(filed, rejected(true));
    let intake::Outcome::Rejected { notice, .. } = &decision.outcome else {
        panic!("{decision:?}");
    };
    assert_eq!(notice.as_ref().unwrap().limit, LIMIT);
    assert_eq!(
        notices(&store).await,
        [("marie@acme.fr".to_owned(), "pending".to_owned())]
    );
    // The same IMAP message fetched again, then delivered again under
    // another UID: nothing more.
    let (filed, _) = too_large(&store, SourceKind::Imap, Some(1), &marie, &settings).await;
    assert!(
        matches!(filed, Filed::AlreadyStored { rejected: true, .. }),
        "{filed:?}"
    );
    let (filed, _) = too_large(&store, SourceKind::Imap, Some(2), &marie, &settings).await;
    assert!(matches!(filed, Filed::Duplicate { .. }), "{filed:?}");
    assert_eq!(notices(&store).await.len(), 1);
    // A retry that rejects it again does not tell her again.
    let id = (store.list_inbound(None).await.unwrap().iter())
        .filter(|m| m.message_id.as_deref() == Some("big-1@acme.fr"))
        .map(|m| m.id)
        .min()
        .unwrap();
    let retried = store.refile(id, &decision).await.unwrap();
    assert!(format!("{retried:?}").contains("too-large"), "{retried:?}");
    assert_eq!(notices(&store).await.len(), 1);

    // Through the MTA pipe: the MTA's bounce after exit 65 is the notice.
    let piped = header("Marie <marie@acme.fr>", "big-2@acme.fr", "");
    let (filed, _) = too_large(&store, SourceKind::Stdin, None, &piped, &settings).await;
    assert_eq!(filed, rejected(false));
    // Robots and forged senders are never answered.
    let robot = header(
        "daemon@acme.fr",
        "big-3@acme.fr",
        "Auto-Submitted: auto-generated",
    );
    let (filed, _) = too_large(&store, SourceKind::Imap, Some(3), &robot, &settings).await;
    assert_eq!(filed, rejected(false));
    let forged = header(
        "paul@acme.fr",
        "big-4@acme.fr",
        "Authentication-Results: mx.example.com; spf=fail smtp.mailfrom=acme.fr; dkim=none; dmarc=fail header.from=acme.fr",
    );
    let (filed, _) = too_large(&store, SourceKind::Maildir, None, &forged, &settings).await;
    assert_eq!(filed, rejected(false));
    assert_eq!(notices(&store).await.len(), 1);

    // The hourly limit counts the notices: the third to Marie is kept.
    for (uid, id) in [(5, "big-5@acme.fr"), (6, "big-6@acme.fr")] {
        let again = header("Marie <marie@acme.fr>", id, "");
        let (filed, _) = too_large(&store, SourceKind::Imap, Some(uid), &again, &settings).await;
        assert_eq!(filed, rejected(true), "planned, sent or not");
    }
    let mut statuses: Vec<String> = notices(&store).await.into_iter().map(|(_, s)| s).collect();
    statuses.sort();
    assert_eq!(statuses, ["pending", "pending", "suppressed"]);

    // Mailbox starts: the first SELECT's UIDNEXT, once.
    assert_eq!(store.recorded_start("new-box").await.unwrap(), None);
    let first = store.mailbox_start("new-box", 9, 41).await.unwrap();
    assert_eq!(
        first,
        MailboxStart {
            first_uid: 41,
            recorded: true
        }
    );
    let again = store.mailbox_start("new-box", 9, 60).await.unwrap();
    assert_eq!(
        again,
        MailboxStart {
            first_uid: 41,
            recorded: false
        }
    );
    assert_eq!(store.recorded_start("new-box").await.unwrap(), Some(41));
    // Renumbered: nothing is initial from then on.
    let renumbered = store.mailbox_start("new-box", 10, 5).await.unwrap();
    assert_eq!(renumbered.first_uid, 0);
    assert_eq!(
        store
            .mailbox_start("new-box", 10, 8)
            .await
            .unwrap()
            .first_uid,
        0
    );
    // A mailbox filed from before starts had been recorded: started.
    assert_eq!(store.recorded_start("support").await.unwrap(), Some(0));
    let support = store.mailbox_start("support", 7, 100).await.unwrap();
    assert_eq!(
        support,
        MailboxStart {
            first_uid: 0,
            recorded: true
        }
    );
    store.close().await;
}

#[tokio::test]
async fn one_notice_per_refusal_on_sqlite() {
    story(&TestDb::sqlite()).await;
}

#[tokio::test]
async fn one_notice_per_refusal_on_postgres() {
    let Some(db) = TestDb::postgres("refusals").await else {
        return;
    };
    story(&db).await;
    db.drop_pg().await;
}
