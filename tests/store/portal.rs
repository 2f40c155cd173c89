//! The customer portal's records on SQLite and PostgreSQL: sign-in links
//! (used once, lapsing, limited per address and per client, their mail in
//! the outbox), sessions (idle lifetime, ending), consents, and a
//! customer's own tickets. Time is passed in, so expiry needs no sleep.

use chrono::{Duration, TimeZone, Utc};
use mailgate::store::{Admission, LoginLink, LoginQueued, OutgoingMail, StatusFilter, StoreError};

use super::{REQUEST, SECOND, TestDb, file, settings};

fn mail(to: &str, n: u32) -> OutgoingMail {
    OutgoingMail {
        kind: "portal-login".into(),
        message_id: format!("portal-login-{n}@example.com"),
        sender: "support@example.com".into(),
        recipients: vec![to.into()],
        raw: format!(
            "From: support@example.com\r\nTo: {to}\r\nSubject: link {n}\r\n\r\nlink {n}\r\n"
        )
        .into_bytes(),
        automatic: false,
        suppressed: None,
    }
}

fn link<'a>(email: &'a str, client: &'a str, sha: &'a str, n: u32) -> LoginLink<'a> {
    LoginLink {
        email,
        client,
        token_sha256: sha,
        lifetime: Duration::minutes(15),
        per_address: 3,
        per_client: 5,
        mail: mail(email, n),
    }
}

async fn portal_story(url: &str) {
    let mut settings = settings();
    settings.database.url = url.to_owned();
    let store = mailgate::wiring::open_store(&settings).await.unwrap();
    let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();

    // A link is written with its mail, used once, before it lapses.
    assert_eq!(
        store
            .queue_portal_login(&link("marie@acme.fr", "192.0.2.1", "aa01", 1), t0)
            .await
            .unwrap(),
        LoginQueued::Queued
    );
    let outbox = store.list_outbox().await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].kind, "portal-login");
    assert_eq!(outbox[0].recipients, "marie@acme.fr");
    assert_eq!(outbox[0].ticket, None);
    assert_eq!(store.use_portal_login("ffff", t0).await.unwrap(), None);
    assert_eq!(
        store
            .use_portal_login("aa01", t0 + Duration::minutes(14))
            .await
            .unwrap()
            .as_deref(),
        Some("marie@acme.fr")
    );
    assert_eq!(
        store
            .use_portal_login("aa01", t0 + Duration::minutes(14))
            .await
            .unwrap(),
        None
    );
    // Expired: 15 minutes and one second later.
    store
        .queue_portal_login(&link("marie@acme.fr", "192.0.2.1", "aa02", 2), t0)
        .await
        .unwrap();
    assert_eq!(
        store
            .use_portal_login("aa02", t0 + Duration::seconds(15 * 60 + 1))
            .await
            .unwrap(),
        None
    );

    // Three links per address within the hour; the fourth is held back and
    // writes nothing; an hour later it goes again.
    store
        .queue_portal_login(&link("marie@acme.fr", "192.0.2.1", "aa03", 3), t0)
        .await
        .unwrap();
    assert_eq!(
        store
            .queue_portal_login(&link("marie@acme.fr", "192.0.2.9", "aa04", 4), t0)
            .await
            .unwrap(),
        LoginQueued::Limited
    );
    assert_eq!(store.use_portal_login("aa04", t0).await.unwrap(), None);
    assert_eq!(store.list_outbox().await.unwrap().len(), 3);
    assert_eq!(
        store
            .queue_portal_login(
                &link("marie@acme.fr", "192.0.2.9", "aa05", 5),
                t0 + Duration::minutes(61)
            )
            .await
            .unwrap(),
        LoginQueued::Queued
    );
    // Five per client, whatever the addresses.
    for (n, sha) in ["b1", "b2", "b3", "b4", "b5"].iter().enumerate() {
        let email = format!("user{n}@example.org");
        assert_eq!(
            store
                .queue_portal_login(&link(&email, "198.51.100.7", sha, 10 + n as u32), t0)
                .await
                .unwrap(),
            LoginQueued::Queued
        );
    }
    assert_eq!(
        store
            .queue_portal_login(&link("late@example.org", "198.51.100.7", "b6", 20), t0)
            .await
            .unwrap(),
        LoginQueued::Limited
    );

    // Sessions: alive while used within their lifetime, pushed on by use,
    // gone after signing out.
    let life = Duration::days(30);
    store
        .open_portal_session("s1", "marie@acme.fr", "csrf1", life, t0)
        .await
        .unwrap();
    let session = store
        .portal_session("s1", life, t0 + Duration::days(29))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (session.email.as_str(), session.csrf.as_str()),
        ("marie@acme.fr", "csrf1")
    );
    // Used on day 29: alive until day 59.
    assert!(
        store
            .portal_session("s1", life, t0 + Duration::days(58))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .portal_session("s1", life, t0 + Duration::days(89))
            .await
            .unwrap()
            .is_none()
    );
    store
        .open_portal_session("s2", "marie@acme.fr", "csrf2", life, t0)
        .await
        .unwrap();
    assert!(
        store
            .portal_session("s2", life, t0)
            .await
            .unwrap()
            .is_some()
    );
    store.end_portal_session("s2").await.unwrap();
    assert!(
        store
            .portal_session("s2", life, t0)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .portal_session("nope", life, t0)
            .await
            .unwrap()
            .is_none()
    );
    // `customers remove` ends the person's sessions.
    store
        .register_customer("gone@example.org", None, None, None)
        .await
        .unwrap();
    store
        .open_portal_session("s3", "gone@example.org", "csrf3", life, t0)
        .await
        .unwrap();
    assert!(
        store
            .portal_session("s3", life, t0)
            .await
            .unwrap()
            .is_some()
    );
    assert!(store.unregister_customer("Gone@example.org").await.unwrap());
    assert!(
        store
            .portal_session("s3", life, t0)
            .await
            .unwrap()
            .is_none()
    );

    // Consents: per version, with time and client.
    assert!(!store.portal_consented("marie@acme.fr", "1").await.unwrap());
    store
        .record_portal_consent("marie@acme.fr", "1", "192.0.2.1", t0)
        .await
        .unwrap();
    assert!(store.portal_consented("marie@acme.fr", "1").await.unwrap());
    assert!(!store.portal_consented("marie@acme.fr", "2").await.unwrap());
    assert!(!store.portal_consented("paul@acme.fr", "1").await.unwrap());
    assert_eq!(
        store.portal_consents("marie@acme.fr").await.unwrap(),
        vec![(
            "1".to_owned(),
            "2026-03-01T09:00:00.000Z".to_owned(),
            "192.0.2.1".to_owned()
        )]
    );

    // A customer's tickets: as reporter (Marie) or watcher (Paul, in Cc),
    // never another's.
    file(&store, &settings, REQUEST, None).await;
    file(&store, &settings, SECOND, None).await;
    let (mine, more) = store
        .portal_tickets("marie.dupont@acme.fr", StatusFilter::All, 0, 50)
        .await
        .unwrap();
    assert!(!more);
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].key, "SUP-1");
    assert_eq!(mine[0].products, ["Atlas"]);
    let (watched, _) = store
        .portal_tickets("paul@acme.fr", StatusFilter::Open, 0, 50)
        .await
        .unwrap();
    assert_eq!(
        watched.iter().map(|t| t.key.as_str()).collect::<Vec<_>>(),
        ["SUP-1"]
    );
    let (closed, _) = store
        .portal_tickets("paul@acme.fr", StatusFilter::Closed, 0, 50)
        .await
        .unwrap();
    assert!(closed.is_empty());
    assert_eq!(
        store
            .portal_ticket("paul@acme.fr", "SUP-1")
            .await
            .unwrap()
            .key,
        "SUP-1"
    );
    assert!(matches!(
        store.portal_ticket("marie.dupont@acme.fr", "SUP-2").await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.portal_ticket("marie.dupont@acme.fr", "SUP-99").await,
        Err(StoreError::NotFound(_))
    ));
    // Pages: one a page, newest first, and whether more follow.
    file(
        &store,
        &settings,
        "From: marie.dupont@acme.fr\nTo: support@example.com\nSubject: Another one\nMessage-ID: <req-3@acme.fr>\n\nPlease look.\n",
        None,
    )
    .await;
    let (first, more) = store
        .portal_tickets("marie.dupont@acme.fr", StatusFilter::All, 0, 1)
        .await
        .unwrap();
    assert_eq!((first[0].key.as_str(), more), ("SUP-3", true));
    let (second, more) = store
        .portal_tickets("marie.dupont@acme.fr", StatusFilter::All, 1, 1)
        .await
        .unwrap();
    assert_eq!((second[0].key.as_str(), more), ("SUP-1", false));
    let (all, more) = store
        .portal_tickets("marie.dupont@acme.fr", StatusFilter::Open, 0, 50)
        .await
        .unwrap();
    assert_eq!((all.len(), more), (2, false));

    // Who may sign in under `registered`: registered customers and the
    // allowed domains only.
    let strict = store.clone().with_admission(Admission {
        policy: Some(mailgate::model::SenderPolicy::Registered),
        allowed_domains: vec!["acme.fr".into()],
    });
    assert!(strict.portal_may_sign_in("anyone@acme.fr").await.unwrap());
    assert!(!strict.portal_may_sign_in("x@globex.com").await.unwrap());
    strict
        .register_customer("x@globex.com", None, None, Some("fr"))
        .await
        .unwrap();
    assert!(strict.portal_may_sign_in("x@globex.com").await.unwrap());
    assert_eq!(
        strict
            .customer_language("x@globex.com")
            .await
            .unwrap()
            .as_deref(),
        Some("fr")
    );
    assert!(
        store
            .portal_may_sign_in("stranger@example.net")
            .await
            .unwrap()
    );
    store.close().await;
}

#[tokio::test]
async fn portal_records_on_sqlite() {
    let db = TestDb::sqlite();
    portal_story(&db.url).await;
}

#[tokio::test]
async fn portal_records_on_postgres() {
    let Some(db) = TestDb::postgres("portal").await else {
        return;
    };
    portal_story(&db.url).await;
    db.drop_pg().await;
}
