//! Forged senders, read from the trusted receiving server's
//! `Authentication-Results` (`intake.trusted_authserv_ids`), on SQLite and
//! PostgreSQL: refused without an answer under `registered`, held without
//! one under `open`, never threaded onto the ticket they claim, and read as
//! before when the header is not from a trusted server.

use mailgate::model::{SenderPolicy, TicketStatus};
use mailgate::store::{Filed, Store};

use super::{TestDb, file, mailgate, settings, write_config};

fn from_marie(n: u32, results: &str, subject: &str, extra: &str) -> String {
    format!(
        "Authentication-Results: {results}\nFrom: Marie Dupont <marie.dupont@acme.fr>\n\
         To: support@example.com\nSubject: {subject}\nMessage-ID: <auth-{n}@acme.fr>\n{extra}\n\
         Gravité : critique\nL'export est vide.\n"
    )
}

const PASS: &str = "mx.example.com; spf=pass smtp.mailfrom=acme.fr; dkim=pass header.d=acme.fr; dmarc=pass header.from=acme.fr";
const FAIL: &str =
    "mx.example.com; spf=fail smtp.mailfrom=acme.fr; dkim=none; dmarc=fail header.from=acme.fr";
const FORGED_PASS: &str = "mx.attacker.example; dmarc=pass header.from=acme.fr";

async fn outbox_kinds(store: &Store) -> Vec<String> {
    let mut kinds: Vec<String> = store
        .list_outbox()
        .await
        .unwrap()
        .into_iter()
        .map(|r| format!("{} {}", r.kind, r.ticket.unwrap_or_default()))
        .collect();
    kinds.sort();
    kinds
}

async fn story(db: &TestDb) {
    let mut settings = settings();
    settings.database.url = db.url.clone();
    settings.intake.trusted_authserv_ids = vec!["mx.example.com".into()];

    // Registered: the forged Marie is refused and not answered; the real
    // one gets her ticket and its confirmation.
    settings.sender_policy = SenderPolicy::Registered;
    let store = mailgate::wiring::open_store(&settings).await.unwrap();
    store
        .register_customer("marie.dupont@acme.fr", Some("Marie"), None, Some("fr"))
        .await
        .unwrap();
    let forged = from_marie(1, FAIL, "Virement urgent", "");
    assert_eq!(
        file(&store, &settings, &forged, None).await,
        Filed::Rejected {
            reason: "unauthenticated".into(),
            answered: false,
        }
    );
    assert!(outbox_kinds(&store).await.is_empty());
    let held = store.list_inbound(None).await.unwrap();
    assert_eq!(held[0].reason.as_deref(), Some("unauthenticated"));
    // A header from a server we do not trust changes nothing.
    let untrusted = from_marie(2, FORGED_PASS, "Export vide", "");
    assert_eq!(
        file(&store, &settings, &untrusted, None).await,
        Filed::Ticket {
            key: "SUP-1".into()
        }
    );
    let real = from_marie(3, PASS, "Autre export", "");
    assert_eq!(
        file(&store, &settings, &real, None).await,
        Filed::Ticket {
            key: "SUP-2".into()
        }
    );
    assert_eq!(
        outbox_kinds(&store).await,
        ["confirmation SUP-1", "confirmation SUP-2"]
    );
    store.close().await;

    // Open: the forged Marie's message waits for the team, unanswered, and
    // does not join the ticket it names by tag and by In-Reply-To.
    settings.sender_policy = SenderPolicy::Open;
    let store = mailgate::wiring::open_store(&settings).await.unwrap();
    let ticket = store.ticket("SUP-2").await.unwrap();
    let parent = "<auth-3@acme.fr>";
    let forged_reply = from_marie(
        4,
        FAIL,
        "Re: [SUP-2] Autre export",
        &format!("In-Reply-To: {parent}\nReferences: {parent}\n"),
    );
    let filed = file(&store, &settings, &forged_reply, None).await;
    assert_eq!(
        filed,
        Filed::Ticket {
            key: "SUP-3".into()
        }
    );
    let sup3 = store.ticket("SUP-3").await.unwrap();
    assert_eq!(sup3.status, TicketStatus::Held);
    // SUP-2 is as it was: no comment, and its keyword line changed nothing.
    let after = store.ticket("SUP-2").await.unwrap();
    assert_eq!(after.comments, ticket.comments);
    assert_eq!(after.severity, ticket.severity);
    assert_eq!(
        outbox_kinds(&store).await,
        ["confirmation SUP-1", "confirmation SUP-2"],
        "no mail to an address that failed authentication"
    );
    // The real Marie's reply still threads.
    let real_reply = from_marie(
        5,
        PASS,
        "Re: [SUP-2] Autre export",
        &format!("In-Reply-To: {parent}\n"),
    );
    assert_eq!(
        file(&store, &settings, &real_reply, None).await,
        Filed::Comment {
            key: "SUP-2".into()
        }
    );
    store.close().await;
}

#[tokio::test]
async fn forged_senders_on_sqlite() {
    story(&TestDb::sqlite()).await;
}

#[tokio::test]
async fn forged_senders_on_postgres() {
    let Some(db) = TestDb::postgres("senders").await else {
        return;
    };
    story(&db).await;
    db.drop_pg().await;
}

#[test]
fn dry_run_and_check_say_what_the_servers_said() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("never.db");
    let config = write_config(
        dir.path(),
        &format!("sqlite://{}", db.display()),
        "trusted_authserv_ids = [\"MX.example.com\"]",
    );
    let forged = from_marie(1, FAIL, "Virement urgent", "");
    let (code, out, err) = mailgate(&config, &["ingest", "--dry-run"], Some(forged.as_bytes()));
    assert_eq!(code, 0, "{err}");
    let decision: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        decision["message"]["sender_auth"]["verdict"], "fail",
        "{out}"
    );
    assert_eq!(
        decision["ticket"]["held_for"]["reason"], "unauthenticated",
        "{out}"
    );
    assert!(!db.exists());
    // Filed for real (policy open): held, and `messages show` says why.
    let (code, out, err) = mailgate(&config, &["ingest"], Some(forged.as_bytes()));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("SUP-1 created"), "{out}");
    let (code, out, err) = mailgate(&config, &["messages", "show", "1"], None);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Sender:      fail (spf=fail, dkim=none, dmarc=fail (mx.example.com))"),
        "{out}"
    );

    let (_, out, _) = mailgate(&config, &["check"], None);
    assert!(
        out.contains("authenticated by the Authentication-Results of mx.example.com"),
        "{out}"
    );
    let plain = write_config(dir.path(), &format!("sqlite://{}", db.display()), "");
    let (_, out, _) = mailgate(&plain, &["check"], None);
    assert!(out.contains("! senders"), "{out}");
}
