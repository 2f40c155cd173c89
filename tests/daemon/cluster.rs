//! Scale-out: three `mailgate run` on one PostgreSQL database share four
//! mailboxes under leases and one outbox, while 2,000 messages arrive; one
//! instance is killed with SIGKILL in the middle, later a second one. Every
//! message is filed once, every key is unique, every confirmation is sent
//! (twice only for a send accepted by the SMTP server whose record died
//! with its instance, counted), and the takeover time is printed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use sqlx::{Connection, Row};

use crate::database::TestDb;
use crate::support::sink::Sink;
use crate::support::{Daemon, Dovecot, dovecot_available, mailbox_toml, message, wait_until};

const MAILBOXES: [&str; 4] = ["north", "south", "east", "west"];
const MESSAGES: usize = 2000;
const ROUNDS: usize = 20;

fn config(dir: &Path, url: &str, dovecot: &Dovecot, smtp_port: u16) -> std::path::PathBuf {
    let mailboxes: String = MAILBOXES
        .iter()
        .map(|m| mailbox_toml(m, dovecot.port, m, "secret", ""))
        .collect();
    let text = format!(
        "[database]\nurl = \"{url}\"\nlease_timeout = \"12s\"\n\
         [intake]\nown_addresses = [\"support@example.com\"]\n\
         [http]\nlisten = \"127.0.0.1:0\"\nops_listen = \"127.0.0.1:0\"\n\
         [outbox]\ndirectory = \"{dir}/outbox\"\nretry_initial = \"2s\"\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\ntls = \"none\"\nfrom = \"support@example.com\"\n\
         {mailboxes}",
        dir = dir.display()
    );
    let path = dir.join("mailgate.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Leases held now in the test's database.
async fn leases_held(db: &mut sqlx::PgConnection) -> i64 {
    sqlx::query(
        "SELECT COUNT(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
         WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND d.datname = current_database()",
    )
    .fetch_one(&mut *db)
    .await
    .unwrap()
    .get(0)
}

async fn count(db: &mut sqlx::PgConnection, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(&mut *db).await.unwrap().get(0)
}

/// Polls `check` every 100 ms until it holds, for at most `limit`.
async fn poll<F>(db: &mut sqlx::PgConnection, limit: Duration, mut check: F) -> Option<Duration>
where
    F: AsyncFnMut(&mut sqlx::PgConnection) -> bool,
{
    let started = Instant::now();
    while started.elapsed() < limit {
        if check(db).await {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

/// Kills an instance and returns how long until the four mailboxes are
/// held again (by the others).
async fn kill_and_time_takeover(daemon: Daemon, db: &mut sqlx::PgConnection) -> Duration {
    let killed = Instant::now();
    daemon.kill9();
    // Its sessions end with it, and its locks with them...
    let released = poll(db, Duration::from_secs(5), async |db| {
        leases_held(db).await < MAILBOXES.len() as i64
    })
    .await;
    assert!(
        released.is_some(),
        "the killed instance's leases stayed held"
    );
    // ...and the others take its mailboxes.
    let taken = poll(db, Duration::from_secs(30), async |db| {
        leases_held(db).await == MAILBOXES.len() as i64
    })
    .await;
    assert!(taken.is_some(), "no takeover within 30 s");
    killed.elapsed()
}

#[tokio::test(flavor = "multi_thread")]
async fn three_instances_share_four_mailboxes_and_survive_two_kills() {
    if !dovecot_available("cluster") {
        return;
    }
    let Some(db) = TestDb::postgres("cluster").await else {
        return;
    };
    let users = MAILBOXES.map(|m| format!("{m}:secret")).join(" ");
    let dovecot = Dovecot::start_with_env(&[("DOVECOT_USERS", &users)]);
    let work = tempfile::tempdir().unwrap();
    let Some(sink) = Sink::start(&work.path().join("sink"), 0, None) else {
        return;
    };
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();

    let mut daemons: Vec<Option<Daemon>> = (0..3)
        .map(|i| {
            let dir = work.path().join(format!("node{i}"));
            std::fs::create_dir_all(&dir).unwrap();
            let cfg = config(&dir, &db.url, &dovecot, sink.port);
            Some(Daemon::start(&cfg, &dir))
        })
        .collect();
    for d in daemons.iter().flatten() {
        d.ready().await;
    }
    let spread = poll(&mut conn, Duration::from_secs(30), async |db| {
        leases_held(db).await == MAILBOXES.len() as i64
    })
    .await;
    assert!(
        spread.is_some(),
        "the four mailboxes were not all taken:\n{}",
        daemons
            .iter()
            .flatten()
            .map(Daemon::log)
            .collect::<String>()
    );

    // Each instance says which mailboxes it watches, and between them they
    // watch the four (an instance with none would be ready too).
    let mut watched = Vec::new();
    for d in daemons.iter().flatten() {
        // A mailbox just taken is "not processed yet" until its first
        // round ends: ready within a few seconds.
        let url = format!("http://{}/readyz", d.ops_address());
        let ready = wait_until(Duration::from_secs(30), || async {
            reqwest::get(&url).await.is_ok_and(|r| r.status() == 200)
        })
        .await;
        let body = reqwest::get(&url).await.unwrap().text().await.unwrap();
        assert!(ready.is_some(), "not ready:\n{body}");
        let line = body
            .lines()
            .find(|l| l.starts_with("instance ") && l.contains(" watches: "))
            .unwrap_or_else(|| panic!("no lease line in /readyz:\n{body}"));
        watched.extend(
            line.split(" watches: ")
                .nth(1)
                .unwrap()
                .split(", ")
                .filter(|s| s.starts_with("imap:"))
                .map(str::to_owned),
        );
    }
    watched.sort();
    assert_eq!(
        watched,
        ["imap:east", "imap:north", "imap:south", "imap:west"]
    );

    // 2,000 messages arrive in 20 rounds; two instances are killed on the
    // way.
    let per_round = MESSAGES / ROUNDS;
    let mut takeovers = Vec::new();
    for round in 0..ROUNDS {
        for (i, mailbox) in MAILBOXES.iter().enumerate() {
            let batch: Vec<String> = (0..per_round / MAILBOXES.len())
                .map(|k| message(round * per_round + i * (per_round / MAILBOXES.len()) + k))
                .collect();
            dovecot.append(mailbox, "INBOX", &batch).await;
        }
        if round == 7 || round == 14 {
            let victim = daemons
                .iter_mut()
                .find_map(Option::take)
                .expect("an instance to kill");
            takeovers.push(kill_and_time_takeover(victim, &mut conn).await);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    let all_filed = poll(&mut conn, Duration::from_secs(120), async |db| {
        count(db, "SELECT COUNT(*) FROM inbound_messages").await >= MESSAGES as i64
            && count(db, "SELECT COUNT(*) FROM outbox WHERE status = 'sent'").await
                >= MESSAGES as i64
    })
    .await;
    let survivor_log = daemons
        .iter()
        .flatten()
        .map(Daemon::log)
        .collect::<String>();
    assert!(
        all_filed.is_some(),
        "not everything filed and sent:\n{}",
        survivor_log
            .lines()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .join("\n")
    );
    // A little longer, for anything sent twice to arrive.
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Every message filed exactly once, every key unique.
    let inbound = count(&mut conn, "SELECT COUNT(*) FROM inbound_messages").await;
    let distinct = count(
        &mut conn,
        "SELECT COUNT(*) FROM (SELECT DISTINCT mailbox, uid FROM inbound_messages) d",
    )
    .await;
    let tickets = count(&mut conn, "SELECT COUNT(*) FROM tickets").await;
    let keys = count(&mut conn, "SELECT COUNT(DISTINCT key) FROM tickets").await;
    assert_eq!(inbound, MESSAGES as i64);
    assert_eq!(distinct, MESSAGES as i64);
    assert_eq!(tickets, MESSAGES as i64, "one ticket per message");
    assert_eq!(keys, tickets, "ticket keys are unique");
    for mailbox in MAILBOXES {
        assert_eq!(
            dovecot.count(mailbox, "INBOX").await,
            0,
            "{mailbox} drained"
        );
    }

    // Every confirmation sent; sent twice only in the counted window.
    let mut received: BTreeMap<String, usize> = BTreeMap::new();
    for raw in sink.messages() {
        let text = String::from_utf8_lossy(&raw);
        let id = text
            .lines()
            .find_map(|l| {
                l.strip_prefix("Message-ID: ")
                    .or_else(|| l.strip_prefix("Message-Id: "))
            })
            .expect("a Message-ID")
            .trim()
            .to_owned();
        *received.entry(id).or_default() += 1;
    }
    let sent: BTreeSet<String> = sqlx::query("SELECT message_id FROM outbox")
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| format!("<{}>", r.get::<String, _>(0)))
        .collect();
    assert_eq!(sent.len(), MESSAGES, "one confirmation per ticket");
    let missing: Vec<_> = sent
        .iter()
        .filter(|id| !received.contains_key(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "confirmations never received: {missing:?}"
    );
    let duplicates: usize = received.values().map(|n| n - 1).sum();
    // At most what two killed instances had accepted by the server but not
    // yet recorded: their connections' sends and one unrecorded batch each.
    assert!(
        duplicates <= 2 * (4 + 16),
        "{duplicates} confirmations sent twice"
    );

    let log: String = survivor_log;
    let lease_lines = log.matches("lease taken").count();
    eprintln!(
        "cluster: {MESSAGES} messages over {} mailboxes, 3 instances, 2 killed; \
         takeover after the kills: {:?}; confirmations sent twice: {duplicates}; \
         leases taken by the survivors: {lease_lines}",
        MAILBOXES.len(),
        takeovers
    );
    for t in &takeovers {
        assert!(
            *t <= Duration::from_secs(12),
            "takeover took {t:?}, over lease_timeout"
        );
    }
    drop(daemons);
    drop(conn);
    db.drop_pg().await;
}

#[tokio::test]
async fn a_second_instance_on_one_sqlite_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = crate::support::write_config(dir.path(), "");
    let first = Daemon::start(&cfg, dir.path());
    first.ready().await;
    let second = crate::support::mailgate(&cfg, &["run"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(75), "{stderr}");
    assert!(
        stderr.contains("another mailgate is already running on")
            && stderr.contains("use PostgreSQL to run several"),
        "{stderr}"
    );
    // The lock dies with its process, however it ends.
    first.kill9();
    let third = Daemon::start(&cfg, dir.path());
    third.ready().await;
    assert_eq!(third.terminate().0, 0);
}
