//! Retention and reclaiming space (`[retention]`, `mailgate maintain`) on
//! SQLite and PostgreSQL, with the clock given to `Store::maintain`: each
//! rule when its time comes and not before, a dry run, contents collected
//! only when nothing refers to them and never while a filing may still
//! refer to them, a removed raw message said to be removed, and the run
//! taken once across two instances.
//!
//! The collection's grace period heeds the real clock as well as the
//! given one (a content stored ahead of a filing not yet committed is
//! never taken, whatever the caller's clock says), so the tests age the
//! stored contents by rewriting their `created_at`.

use chrono::{Duration, Utc};
use mailgate::config::{RetentionRules, Settings};
use mailgate::intake::{self, MailboxDefaults, Outcome};
use mailgate::store::{
    Attempt, EMPTY_CONTENT, FieldUpdate, Filed, Inbound, Store, StoreError, TicketsOnErasure,
};

use super::{TestDb, file, inbound, mailgate, settings, write_config};

/// A file both customers sent: stored once, kept while one ticket has it.
const SHARED: &str = "shared-logo-bytes-0815";

fn with_file(from: &str, subject: &str, id: &str, text: &str, name: &str, content: &str) -> String {
    format!(
        "From: {from}\nTo: support@example.com\nSubject: {subject}\nMessage-ID: <{id}>\n\
         MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n\
         --b\nContent-Type: text/plain; charset=utf-8\n\n{text}\n\
         --b\nContent-Type: text/csv; name={name}\n\
         Content-Disposition: attachment; filename=\"{name}\"\n\n{content}\n--b--\n"
    )
}

fn rules(mode: TicketsOnErasure) -> RetentionRules {
    RetentionRules {
        raw_messages: Some(Duration::days(90)),
        outgoing_mail: Some(Duration::days(30)),
        quarantine: Some(Duration::days(30)),
        closed_tickets: Some(Duration::days(365)),
        closed_tickets_mode: mode,
    }
}

pub(super) fn retention_settings(url: &str) -> Settings {
    let mut settings = settings();
    settings.database.url = url.to_owned();
    settings.retention = rules(TicketsOnErasure::Anonymise);
    settings
}

/// A connection of the test's own, to age contents and read what the
/// store does not show.
pub(super) async fn connect(url: &str) -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    <sqlx::AnyConnection as sqlx::Connection>::connect(url)
        .await
        .unwrap()
}

/// Every stored content as if stored long ago: past the collection's
/// grace period, which counts in real time.
pub(super) async fn age_contents(url: &str) {
    let mut conn = connect(url).await;
    sqlx::query("UPDATE blobs SET created_at = '2000-01-01T00:00:00.000Z'")
        .execute(&mut conn)
        .await
        .unwrap();
}

pub(super) async fn count(url: &str, sql: &str) -> i64 {
    let mut conn = connect(url).await;
    sqlx::Row::get(&sqlx::query(sql).fetch_one(&mut conn).await.unwrap(), 0)
}

/// Everything the team reads, to compare before and after a dry run.
async fn snapshot(store: &Store) -> String {
    let mut out = String::new();
    for t in store.list_tickets(None).await.unwrap() {
        out.push_str(&format!("{:?}\n", store.ticket(&t.key).await.unwrap()));
    }
    for m in store.messages(None, None).await.unwrap() {
        out.push_str(&format!("{m:?}\n"));
    }
    for o in store.list_outbox().await.unwrap() {
        out.push_str(&format!("{o:?}\n"));
    }
    out
}

pub(super) async fn all_mail_sent(store: &Store) -> usize {
    let due = store
        .claim_outbox(100, std::time::Duration::from_secs(60))
        .await
        .unwrap();
    let attempts: Vec<(i64, Attempt)> = due.iter().map(|m| (m.row.id, Attempt::Sent)).collect();
    store.record_attempts(&attempts).await.unwrap();
    attempts.len()
}

/// SUP-1 (Marie, open) and SUP-2 (Paul, closed), both with the shared
/// file; a team reply; an auto-reply and an empty message in quarantine.
async fn some_of_everything(store: &Store, settings: &Settings) {
    let marie = with_file(
        "Marie <marie@acme.fr>",
        "Export broken",
        "r1@acme.fr",
        "The export is empty.",
        "logo.csv",
        SHARED,
    );
    assert_eq!(
        file(store, settings, &marie, None).await,
        Filed::Ticket {
            key: "SUP-1".into()
        }
    );
    let paul = with_file(
        "Paul <paul@globex.com>",
        "Invoices",
        "r2@globex.com",
        "Invoices do not print.",
        "logo.csv",
        SHARED,
    );
    assert_eq!(
        file(store, settings, &paul, None).await,
        Filed::Ticket {
            key: "SUP-2".into()
        }
    );
    store
        .team_reply("SUP-1", "alice@vendor.example", "We are on it.", &[])
        .await
        .unwrap();
    let away = "From: marie@acme.fr\nTo: support@example.com\nAuto-Submitted: auto-replied\n\
                Subject: Away\nMessage-ID: <r3@acme.fr>\n\nAway until Monday.\n";
    assert!(matches!(
        file(store, settings, away, None).await,
        Filed::Ignored { .. }
    ));
    assert!(matches!(
        file(store, settings, "", None).await,
        Filed::Rejected { .. }
    ));
    let closed = FieldUpdate {
        status: Some("closed".into()),
        ..FieldUpdate::default()
    };
    store
        .update_ticket("SUP-2", "alice@vendor.example", &closed, None)
        .await
        .unwrap();
    assert_eq!(
        all_mail_sent(store).await,
        4,
        "two confirmations, a reply, the closing notice"
    );
}

async fn rules_story(url: &str) {
    let settings = retention_settings(url);
    let store = mailgate::wiring::open_store(&settings).await.unwrap();
    some_of_everything(&store, &settings).await;
    let t0 = Utc::now();
    // Newest first: the empty message, the auto-reply, Paul's, Marie's.
    let ids: Vec<i64> = (store.messages(None, None).await.unwrap().iter())
        .map(|m| m.id)
        .collect();
    let (sup1_message, sup2_message) = (ids[3], ids[2]);
    let sup2_raw = intake::sha256_hex(&store.inbound_raw(sup2_message).await.unwrap());

    // Nothing is old enough yet.
    let report = store.maintain(t0 + Duration::days(1), false).await.unwrap();
    assert_eq!(report.counts, Default::default(), "{report:?}");
    assert!(report.run_id.is_some());

    // A dry run says what a year would remove, and removes nothing.
    let before = snapshot(&store).await;
    let dry = store
        .maintain(t0 + Duration::days(400), true)
        .await
        .unwrap();
    assert!(dry.dry_run && dry.run_id.is_none());
    assert_eq!(dry.counts.raw_messages, 3, "with the auto-reply: {dry:?}");
    assert_eq!(dry.counts.outgoing_mail, 4, "{dry:?}");
    assert_eq!(dry.counts.quarantine, 2, "{dry:?}");
    assert_eq!(dry.counts.closed_tickets, 1, "{dry:?}");
    assert_eq!(snapshot(&store).await, before, "a dry run changes nothing");

    // After 40 days: the bodies of sent mail and the quarantine.
    let report = store
        .maintain(t0 + Duration::days(40), false)
        .await
        .unwrap();
    assert_eq!(
        (
            report.counts.raw_messages,
            report.counts.outgoing_mail,
            report.counts.quarantine,
            report.counts.closed_tickets
        ),
        (0, 4, 2, 0),
        "{report:?}"
    );
    // Their contents were stored just now: within the grace period.
    assert_eq!(report.counts.contents, 0, "{report:?}");
    for row in store.list_outbox().await.unwrap() {
        assert_eq!(row.status.as_str(), "sent");
        assert!(row.body_removed_at.is_some(), "{row:?}");
        assert_eq!(row.raw_sha256, EMPTY_CONTENT);
    }
    let left: Vec<_> = store.messages(None, None).await.unwrap();
    assert_eq!(left.len(), 2, "the quarantine is empty: {left:?}");

    // After 100 days: the raw messages; the tickets keep their text and files.
    let report = store
        .maintain(t0 + Duration::days(100), false)
        .await
        .unwrap();
    assert_eq!(report.counts.raw_messages, 2, "{report:?}");
    let removed = store.inbound_raw(sup1_message).await.unwrap_err();
    assert!(
        matches!(&removed, StoreError::Invalid(text) if text.contains("removed on") && text.contains("raw_messages")),
        "{removed:?}"
    );
    let sup1 = store.ticket("SUP-1").await.unwrap();
    assert!(sup1.description.contains("The export is empty."));
    assert_eq!(
        store.blob(&sup1.attachments[0].sha256).await.unwrap(),
        SHARED.as_bytes()
    );
    assert!(
        store
            .message(sup1_message)
            .await
            .unwrap()
            .raw_removed_at
            .is_some()
    );
    // A copy received again is still known, by what it says.
    let again = with_file(
        "Marie <marie@acme.fr>",
        "Export broken",
        "r1@acme.fr",
        "The export is empty.",
        "logo.csv",
        SHARED,
    );
    assert!(
        matches!(file(&store, &settings, &again, None).await, Filed::Duplicate { ticket: Some(ref k), .. } if k == "SUP-1")
    );

    // An hour later (in real time too): what nothing refers to goes, the
    // shared file and the copy just received stay.
    age_contents(url).await;
    let stored = store.stored_bytes().await.unwrap();
    let report = store
        .maintain(t0 + Duration::days(100), false)
        .await
        .unwrap();
    // The copy's raw was received 100 days before the clock too: removed.
    assert_eq!(report.counts.raw_messages, 1, "{report:?}");
    // Both tickets' raws, the auto-reply's, four mail bodies.
    assert_eq!(report.counts.contents, 7, "{report:?}");
    assert!(report.bytes_reclaimed > 0);
    assert_eq!(
        store.stored_bytes().await.unwrap(),
        stored - i64::try_from(report.bytes_reclaimed).unwrap()
    );
    assert!(matches!(
        store.blob(&sup2_raw).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        store.blob(&sup1.attachments[0].sha256).await.unwrap(),
        SHARED.as_bytes()
    );
    assert_eq!(store.blob(EMPTY_CONTENT).await.unwrap(), b"");
    if url.starts_with("sqlite") {
        let file = report.file.expect("the SQLite file's sizes");
        assert!(file.log_truncated, "{file:?}");
    }

    // After a year closed: SUP-2 is anonymised, SUP-1 (open) is not.
    let report = store
        .maintain(t0 + Duration::days(400), false)
        .await
        .unwrap();
    assert_eq!(report.counts.closed_tickets, 1, "{report:?}");
    let sup2 = store.ticket("SUP-2").await.unwrap();
    assert_eq!(sup2.reporter_email, "anonymised@invalid");
    assert_eq!(
        (sup2.summary.as_str(), sup2.description.as_str()),
        ("[erased]", "[erased]")
    );
    assert_eq!(sup2.status.as_str(), "closed");
    assert!(sup2.attachments.is_empty());
    assert!(!format!("{sup2:?}").contains("paul"), "{sup2:?}");
    assert_eq!(
        store.ticket("SUP-1").await.unwrap().reporter_email,
        "marie@acme.fr"
    );
    // The shared file is still SUP-1's.
    age_contents(url).await;
    store
        .maintain(t0 + Duration::days(400), false)
        .await
        .unwrap();
    assert_eq!(
        store.blob(&sup1.attachments[0].sha256).await.unwrap(),
        SHARED.as_bytes()
    );

    // Under the other mode the anonymised ticket goes too.
    let deleting = Store::open(url, "SUP")
        .await
        .unwrap()
        .with_retention(rules(TicketsOnErasure::Delete));
    let report = deleting
        .maintain(t0 + Duration::days(400), false)
        .await
        .unwrap();
    assert_eq!(report.counts.closed_tickets, 1, "{report:?}");
    assert!(matches!(
        store.ticket("SUP-2").await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.ticket("SUP-1").await.is_ok());
    deleting.close().await;

    // Runs are recorded, without what they removed being named; the
    // daemon's daily run is not due a day after the last one.
    assert_eq!(
        count(
            url,
            "SELECT COUNT(*) FROM maintenance_runs WHERE finished_at IS NOT NULL"
        )
        .await,
        7
    );
    assert!(
        store
            .maintain_if_due(t0 + Duration::days(400) + Duration::hours(23))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .maintain_if_due(t0 + Duration::days(402))
            .await
            .unwrap()
            .is_some()
    );
    store.close().await;
}

#[tokio::test]
async fn each_rule_in_its_time_on_sqlite() {
    let db = TestDb::sqlite();
    rules_story(&db.url).await;
}

#[tokio::test]
async fn each_rule_in_its_time_on_postgres() {
    let Some(db) = TestDb::postgres("retention_rules").await else {
        return;
    };
    rules_story(&db.url).await;
    db.drop_pg().await;
}

/// Closed tickets deleted with everything hanging off them.
async fn delete_story(url: &str) {
    let mut settings = retention_settings(url);
    settings.retention = rules(TicketsOnErasure::Delete);
    let store = mailgate::wiring::open_store(&settings).await.unwrap();
    some_of_everything(&store, &settings).await;
    let t0 = Utc::now();
    let report = store
        .maintain(t0 + Duration::days(400), false)
        .await
        .unwrap();
    assert_eq!(report.counts.closed_tickets, 1, "{report:?}");
    assert!(matches!(
        store.ticket("SUP-2").await,
        Err(StoreError::NotFound(_))
    ));
    let keys: Vec<String> = (store.list_tickets(None).await.unwrap().into_iter())
        .map(|t| t.key)
        .collect();
    assert_eq!(keys, ["SUP-1"]);
    for table in ["ticket_events", "comments", "attachments", "outbox"] {
        let on_deleted = count(
            url,
            &format!(
                "SELECT COUNT(*) FROM {table} WHERE ticket_id NOT IN (SELECT id FROM tickets)"
            ),
        )
        .await;
        assert_eq!(on_deleted, 0, "{table} rows of the deleted ticket");
    }
    assert!(
        !snapshot(&store).await.contains("paul@globex.com"),
        "nothing names Paul"
    );
    store.close().await;
}

#[tokio::test]
async fn closed_tickets_deleted_on_sqlite() {
    let db = TestDb::sqlite();
    delete_story(&db.url).await;
}

#[tokio::test]
async fn closed_tickets_deleted_on_postgres() {
    let Some(db) = TestDb::postgres("retention_delete").await else {
        return;
    };
    delete_story(&db.url).await;
    db.drop_pg().await;
}

/// Contents as `(sha256, bytes)`.
type Contents = Vec<(String, Vec<u8>)>;

/// A new ticket and its contents: the raw message and its one file.
fn numbered(n: usize) -> (String, Contents) {
    let raw = with_file(
        &format!("c{n}@acme.fr"),
        &format!("Question {n}"),
        &format!("race-{n}@acme.fr"),
        &format!("Question number {n}."),
        "data.csv",
        &format!("file-of-question-{n}"),
    );
    let decision = intake::decide(
        raw.as_bytes(),
        &settings().intake,
        &MailboxDefaults::default(),
    );
    let Outcome::Ticket { ticket, .. } = &decision.outcome else {
        panic!("{decision:?}");
    };
    let mut contents = vec![(intake::sha256_hex(raw.as_bytes()), raw.clone().into_bytes())];
    contents.extend((ticket.attachments.iter()).map(|a| (a.sha256.clone(), a.data.clone())));
    (raw, contents)
}

/// Contents referred to by nothing and stored long ago: what a message
/// deleted by retention leaves, and what comes back when it is sent again.
async fn orphans(url: &str, contents: &[(String, Vec<u8>)]) {
    let mut conn = connect(url).await;
    for (sha256, content) in contents {
        sqlx::query(
            "INSERT INTO blobs (sha256, size, content, created_at)
             VALUES ($1, $2, $3, '2000-01-01T00:00:00.000Z')",
        )
        .bind(sha256)
        .bind(i64::try_from(content.len()).unwrap())
        .bind(content.clone())
        .execute(&mut conn)
        .await
        .unwrap();
    }
}

/// Old unreferenced contents coming back in new mail while collections
/// run: every filing succeeds and every content it refers to is there.
/// Half the batches store their contents ahead (as IMAP does on
/// PostgreSQL), half in the filing transaction (as `ingest` does). Then,
/// without a race, a content stored ahead is never collected before its
/// filing, however old it was.
async fn racing_story(url: &str) {
    let settings = retention_settings(url);
    let store = mailgate::wiring::open_store(&settings).await.unwrap();
    // 1,200 contents: the collection takes three batches to go through them.
    const MESSAGES: usize = 600;
    const BATCH: usize = 8;
    let messages: Vec<(String, Contents)> = (0..MESSAGES).map(numbered).collect();
    let later: Contents = messages[1..].iter().flat_map(|(_, c)| c.clone()).collect();
    orphans(url, &later).await;
    let decide = |raw: &str| {
        intake::decide(
            raw.as_bytes(),
            &settings.intake,
            &MailboxDefaults::default(),
        )
    };

    let filing = async {
        let mut filed = 0;
        for (n, batch) in messages[1..].chunks(BATCH).enumerate() {
            let decisions: Vec<_> = batch.iter().map(|(raw, _)| decide(raw)).collect();
            if n % 2 == 0 {
                let contents: Vec<(&str, &[u8])> = (batch.iter())
                    .flat_map(|(_, c)| c.iter().map(|(s, b)| (s.as_str(), &b[..])))
                    .collect();
                store.store_contents_ahead(&contents).await.unwrap();
            }
            let pairs: Vec<(Inbound<'_>, &intake::Decision)> = (batch.iter())
                .zip(&decisions)
                .map(|((raw, _), d)| (inbound(raw), d))
                .collect();
            let (results, error) = store.file_messages(&pairs).await;
            assert!(error.is_none(), "batch {n}: {error:?}");
            for result in results {
                assert!(matches!(result, Filed::Ticket { .. }), "{result:?}");
                filed += 1;
            }
            tokio::task::yield_now().await;
        }
        filed
    };
    // A task of its own, as in the daemon: filing blocks its task's
    // thread while it writes (`off_runtime`).
    let collecting = tokio::spawn({
        let (store, url) = (store.clone(), url.to_owned());
        async move {
            let (mut runs, mut collected) = (0, 0);
            while count(&url, "SELECT COUNT(*) FROM tickets").await < (MESSAGES - 1) as i64 {
                let report = store.maintain(Utc::now(), false).await.unwrap();
                collected += report.counts.contents;
                runs += 1;
            }
            (runs, collected)
        }
    });
    let filed = filing.await;
    let (runs, collected) = collecting.await.unwrap();
    assert_eq!(filed, MESSAGES - 1);
    assert!(
        runs > 0 && collected > 0,
        "{runs} runs, {collected} collected"
    );
    for n in 1..MESSAGES {
        let ticket = store.ticket(&format!("SUP-{n}")).await.unwrap();
        let question: usize = ticket.summary["Question ".len()..].parse().unwrap();
        assert_eq!(
            store.blob(&ticket.attachments[0].sha256).await.unwrap(),
            format!("file-of-question-{question}").as_bytes()
        );
    }
    for m in store.messages(None, None).await.unwrap() {
        assert!(!store.inbound_raw(m.id).await.unwrap().is_empty());
    }

    // Stored ahead, an old content is dated anew: a collection between
    // storing ahead and filing leaves it.
    let (first_raw, first_contents) = &messages[0];
    orphans(url, first_contents).await;
    let ahead: Vec<(&str, &[u8])> = (first_contents.iter())
        .map(|(s, c)| (s.as_str(), &c[..]))
        .collect();
    store.store_contents_ahead(&ahead).await.unwrap();
    let report = store.maintain(Utc::now(), false).await.unwrap();
    if url.starts_with("postgres") {
        assert_eq!(report.counts.contents, 0, "{report:?}");
    }
    assert!(matches!(
        store
            .file_message(&inbound(first_raw), &decide(first_raw))
            .await,
        Ok(Filed::Ticket { .. })
    ));
    let ticket = store.ticket(&format!("SUP-{MESSAGES}")).await.unwrap();
    assert_eq!(
        store.blob(&ticket.attachments[0].sha256).await.unwrap(),
        b"file-of-question-0"
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collection_racing_filing_on_sqlite() {
    let db = TestDb::sqlite();
    racing_story(&db.url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collection_racing_filing_on_postgres() {
    let Some(db) = TestDb::postgres("retention_race").await else {
        return;
    };
    racing_story(&db.url).await;
    db.drop_pg().await;
}

/// Two instances due at once: one maintains, the other leaves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_run_across_two_instances_on_postgres() {
    let Some(db) = TestDb::postgres("retention_two").await else {
        return;
    };
    let open = || async {
        Store::open(&db.url, "SUP")
            .await
            .unwrap()
            .with_retention(rules(TicketsOnErasure::Anonymise))
    };
    let (a, b) = (open().await, open().await);
    let now = Utc::now();
    let (ran_a, ran_b) = tokio::join!(a.maintain_if_due(now), b.maintain_if_due(now));
    let ran = [ran_a.unwrap(), ran_b.unwrap()];
    assert_eq!(ran.iter().flatten().count(), 1, "{ran:?}");
    assert_eq!(
        count(&db.url, "SELECT COUNT(*) FROM maintenance_runs").await,
        1
    );
    a.close().await;
    b.close().await;
    db.drop_pg().await;
}

/// The command: what a dry run would do, the JSON report, `--vacuum`,
/// `check`'s line, and a removed raw message that says so.
async fn command_story(url: &str) {
    let settings = retention_settings(url);
    let store = mailgate::wiring::open_store(&settings).await.unwrap();
    some_of_everything(&store, &settings).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), url, "");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[retention]\nraw_messages = \"90d\"\nquarantine = \"30d\"\n");
    std::fs::write(&config, text).unwrap();

    let (code, out, err) = mailgate(&config, &["maintain", "--dry-run"], None);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("retention: raw_messages 90d, quarantine 30d\n"),
        "{out}"
    );
    assert!(out.contains("nothing was changed"), "{out}");
    let (code, out, err) = mailgate(&config, &["maintain", "--json"], None);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["dry_run"], false);
    assert_eq!(
        report["counts"]["raw_messages"], 0,
        "nothing is 90 days old"
    );
    // `check` says the rules and that a run finished.
    let (_, out, err) = mailgate(&config, &["check"], None);
    let line = out
        .lines()
        .find(|l| l.contains("retention:"))
        .unwrap_or_else(|| panic!("no retention line: {out}{err}"));
    assert!(
        line.contains("raw_messages 90d, quarantine 30d; last maintained "),
        "{line}"
    );
    // `--vacuum` rewrites a SQLite file whatever its size.
    let (code, out, err) = mailgate(&config, &["maintain", "--vacuum"], None);
    assert_eq!(code, 0, "{err}");
    if url.starts_with("sqlite:") {
        assert!(out.contains("after (rewritten)\n"), "{out}");
    } else {
        assert!(!out.contains("database file:"), "{out}");
    }

    // A raw removed by the rule: `messages show --raw` says so.
    store
        .maintain(Utc::now() + Duration::days(91), false)
        .await
        .unwrap();
    let id = store.messages(None, None).await.unwrap()[0].id.to_string();
    let (code, out, err) = mailgate(&config, &["messages", "show", &id, "--raw"], None);
    assert_eq!(code, 65, "{out}{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("was removed on") && err.contains("raw_messages"),
        "{err}"
    );
    let (code, out, err) = mailgate(&config, &["messages", "show", &id], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("removed on"), "{out}");
    store.close().await;
}

#[tokio::test]
async fn maintain_command_on_sqlite() {
    let db = TestDb::sqlite();
    command_story(&db.url).await;
}

#[tokio::test]
async fn maintain_command_on_postgres() {
    let Some(db) = TestDb::postgres("retention_command").await else {
        return;
    };
    command_story(&db.url).await;
    db.drop_pg().await;
}
