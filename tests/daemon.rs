//! `mailgate run` against a real Dovecot started for each test.

#[path = "daemon/initial.rs"]
mod initial;
#[path = "daemon/oauth.rs"]
mod oauth;
mod support;

use std::time::{Duration, Instant};

use support::*;

#[tokio::test]
async fn run_once_files_everything_moves_it_and_quarantines_the_rest() {
    if !dovecot_available("run_once") {
        return;
    }
    let dovecot = Dovecot::start();
    let dir = tempfile::tempdir().unwrap();
    let no_sender = "Subject: who am I\n\nno From, no Sender\n".to_owned();
    let big = format!(
        "From: big@acme.fr\nSubject: big\n\n{}\n",
        "x".repeat(40_000)
    );
    let vacation =
        "From: away@acme.fr\nAuto-Submitted: auto-replied\nSubject: Absent\n\nBack Monday\n"
            .to_owned();
    dovecot
        .append(
            "support",
            "INBOX",
            &[message(1), message(2), no_sender, big, vacation, message(3)],
        )
        .await;
    // No Processed nor Quarantine folder yet: mailgate creates them.
    assert_eq!(dovecot.count("support", "Processed").await, 0);
    let config = write_config(
        dir.path(),
        &format!(
            "{}\n",
            mailbox_toml("support", dovecot.port, "support", "secret", "")
        ),
    );
    std::fs::write(
        &config,
        std::fs::read_to_string(&config)
            .unwrap()
            .replace("[intake]\n", "[intake]\nmax_message_size = \"20KiB\"\n"),
    )
    .unwrap();

    let (code, stderr) = run_once(&config);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(dovecot.count("support", "INBOX").await, 0, "inbox emptied");
    assert_eq!(
        dovecot.count("support", "Processed").await,
        4,
        "3 tickets and 1 ignored"
    );
    assert_eq!(
        dovecot.count("support", "Quarantine").await,
        2,
        "no sender and too large"
    );
    assert_eq!(db_counts(dir.path()).await, (3, 6));
    // The oversize message was quarantined undownloaded: only its header is kept.
    let url = format!("sqlite://{}/mailgate.db", dir.path().display());
    let store = mailgate::store::Store::open(&url, "SUP").await.unwrap();
    let rejected = store.list_inbound(Some("rejected")).await.unwrap();
    let big_one = rejected
        .iter()
        .find(|m| m.reason.as_deref() == Some("too-large"))
        .expect("too-large recorded");
    let kept = store.inbound_raw(big_one.id).await.unwrap();
    assert!(kept.len() < 1000 && String::from_utf8_lossy(&kept).contains("Subject: big"));
    store.close().await;

    // A second run finds nothing new.
    let (code, _) = run_once(&config);
    assert_eq!(code, 0);
    assert_eq!(db_counts(dir.path()).await, (3, 6));
}

#[tokio::test]
async fn post_actions_seen_and_delete() {
    if !dovecot_available("post_actions") {
        return;
    }
    let dovecot = Dovecot::start();
    let dir = tempfile::tempdir().unwrap();
    dovecot
        .append("support", "INBOX", &[message(1), message(2)])
        .await;
    dovecot
        .append("feature", "INBOX", &[message(3), message(4)])
        .await;
    let config = write_config(
        dir.path(),
        &format!(
            "{}{}",
            mailbox_toml(
                "seen",
                dovecot.port,
                "support",
                "secret",
                "post_action = \"seen\""
            ),
            mailbox_toml(
                "delete",
                dovecot.port,
                "feature",
                "secret",
                "post_action = \"delete\"\ndefault_request_type = \"feature\"\ndefault_severity = \"high\""
            )
        ),
    );
    let (code, stderr) = run_once(&config);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        dovecot.count("support", "INBOX").await,
        2,
        "seen: left in place"
    );
    assert_eq!(dovecot.count_flagged("support", "INBOX", "SEEN").await, 2);
    assert_eq!(
        dovecot.count("support", "Processed").await,
        0,
        "seen: no processed folder needed"
    );
    assert_eq!(dovecot.count("feature", "INBOX").await, 0, "delete: gone");
    assert_eq!(dovecot.count("feature", "Processed").await, 0);
    assert_eq!(db_counts(dir.path()).await.0, 4);
    // Each mailbox gives its own defaults to its tickets.
    let url = format!("sqlite://{}/mailgate.db", dir.path().display());
    let store = mailgate::store::Store::open(&url, "SUP").await.unwrap();
    for t in store.list_tickets(None).await.unwrap() {
        let from_feature =
            t.reporter_email == "client3@acme.fr" || t.reporter_email == "client4@acme.fr";
        let expected = if from_feature {
            ("feature", "high")
        } else {
            ("support", "medium")
        };
        assert_eq!(
            (t.request_type.as_str(), t.severity.as_str()),
            expected,
            "{}",
            t.key
        );
    }
    store.close().await;

    // Seen mode fetches only unseen mail: a new message is the only one filed.
    dovecot.append("support", "INBOX", &[message(5)]).await;
    let (code, _) = run_once(&config);
    assert_eq!(code, 0);
    assert_eq!(db_counts(dir.path()).await, (5, 5));
}

#[tokio::test]
async fn idle_picks_up_new_mail_and_sigterm_stops_cleanly() {
    if !dovecot_available("idle") {
        return;
    }
    let dovecot = Dovecot::start();
    let dir = tempfile::tempdir().unwrap();
    // A one-hour poll: only IDLE can bring the message in time.
    let config = write_config(
        dir.path(),
        &mailbox_toml(
            "support",
            dovecot.port,
            "support",
            "secret",
            "poll_interval = \"1h\"",
        ),
    );
    let daemon = Daemon::start(&config, dir.path());
    daemon.ready().await;
    // Let the daemon reach IDLE.
    wait_until(Duration::from_secs(20), || async {
        daemon.log().contains("connected")
    })
    .await
    .expect("connected");
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut delays = Vec::new();
    for n in 1..=5 {
        let appended = Instant::now();
        dovecot.append("support", "INBOX", &[message(n)]).await;
        let waited = wait_until(Duration::from_secs(15), || async {
            db_counts(dir.path()).await.0 >= n
        })
        .await;
        assert!(
            waited.is_some(),
            "message {n} not picked up:\n{}",
            daemon.log()
        );
        delays.push(appended.elapsed());
    }
    delays.sort();
    eprintln!(
        "IDLE pick-up delay (append to ticket committed): median {:?}, max {:?}",
        delays[2], delays[4]
    );
    assert!(
        delays[4] < Duration::from_secs(10),
        "IDLE is not working: {delays:?}"
    );
    assert_eq!(dovecot.count("support", "Processed").await, 5);

    let log_before = daemon.log();
    let (code, took) = daemon.terminate();
    assert_eq!(code, 0, "{log_before}");
    assert!(took < Duration::from_secs(10), "shutdown took {took:?}");
}

#[tokio::test]
async fn polling_mode_without_idle() {
    if !dovecot_available("polling") {
        return;
    }
    let dovecot = Dovecot::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &mailbox_toml(
            "support",
            dovecot.port,
            "support",
            "secret",
            "idle = false\npoll_interval = \"1s\"\nauth = \"plain\"",
        ),
    );
    let daemon = Daemon::start(&config, dir.path());
    daemon.ready().await;
    dovecot.append("support", "INBOX", &[message(1)]).await;
    let waited = wait_until(Duration::from_secs(15), || async {
        db_counts(dir.path()).await.0 == 1
    })
    .await;
    assert!(
        waited.is_some(),
        "not picked up by polling:\n{}",
        daemon.log()
    );
    assert!(daemon.log().contains("mode=\"poll\""), "{}", daemon.log());
    assert!(
        dovecot.log().contains("method=PLAIN"),
        "AUTHENTICATE PLAIN was used"
    );
    assert_eq!(daemon.terminate().0, 0);
}

#[tokio::test]
async fn kill_9_in_a_backlog_then_restart_files_each_message_once() {
    if !dovecot_available("kill9") {
        return;
    }
    let dovecot = Dovecot::start();
    let dir = tempfile::tempdir().unwrap();
    // Large enough that the kill falls in the middle: filing takes about
    // a millisecond a message.
    const BACKLOG: usize = 1500;
    let backlog: Vec<String> = (1..=BACKLOG).map(message).collect();
    dovecot.append("support", "INBOX", &backlog).await;
    let config = write_config(
        dir.path(),
        &mailbox_toml("support", dovecot.port, "support", "secret", ""),
    );

    let daemon = Daemon::start(&config, dir.path());
    daemon.ready().await;
    let seen = wait_until(Duration::from_secs(60), || async {
        db_counts(dir.path()).await.0 >= 60
    })
    .await;
    assert!(seen.is_some(), "{}", daemon.log());
    daemon.kill9();
    let (tickets_at_kill, _) = db_counts(dir.path()).await;
    eprintln!("killed with {tickets_at_kill} of {BACKLOG} filed");
    assert!(
        tickets_at_kill < BACKLOG,
        "the kill came too late to test anything"
    );

    let (code, stderr) = run_once(&config);
    assert_eq!(code, 0, "{stderr}");
    let (tickets, inbound) = db_counts(dir.path()).await;
    assert_eq!(tickets, BACKLOG, "every message filed exactly once");
    assert_eq!(dovecot.count("support", "INBOX").await, 0, "inbox empty");
    assert_eq!(
        dovecot.count("support", "Processed").await as usize,
        BACKLOG
    );
    // A message filed but not yet moved when killed is recognised, not refiled.
    assert!(inbound <= BACKLOG + 50, "{inbound} inbound records");
}

#[tokio::test]
async fn dovecot_restart_while_running_reconnects() {
    if !dovecot_available("restart") {
        return;
    }
    let dovecot = Dovecot::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &mailbox_toml(
            "support",
            dovecot.port,
            "support",
            "secret",
            "poll_interval = \"2s\"",
        ),
    );
    let daemon = Daemon::start(&config, dir.path());
    daemon.ready().await;
    dovecot.append("support", "INBOX", &[message(1)]).await;
    wait_until(Duration::from_secs(15), || async {
        db_counts(dir.path()).await.0 == 1
    })
    .await
    .expect("first message");

    dovecot.stop_with_sessions();
    tokio::time::sleep(Duration::from_secs(2)).await;
    dovecot.restart();
    dovecot.append("support", "INBOX", &[message(2)]).await;
    let waited = wait_until(Duration::from_secs(30), || async {
        db_counts(dir.path()).await.0 == 2
    })
    .await;
    assert!(
        waited.is_some(),
        "no recovery after the restart:\n{}",
        daemon.log()
    );
    let log = daemon.log();
    assert_eq!(
        log.matches("mailbox failing").count(),
        1,
        "one warning per change of state:\n{log}"
    );
    assert_eq!(daemon.terminate().0, 0);
}

#[tokio::test]
async fn uidvalidity_change_does_not_refile() {
    if !dovecot_available("uidvalidity") {
        return;
    }
    let dovecot = Dovecot::start();
    let dir = tempfile::tempdir().unwrap();
    dovecot
        .append("support", "INBOX", &[message(1), message(2), message(3)])
        .await;
    let config = write_config(
        dir.path(),
        &mailbox_toml(
            "support",
            dovecot.port,
            "support",
            "secret",
            "post_action = \"seen\"",
        ),
    );
    assert_eq!(run_once(&config).0, 0);
    assert_eq!(db_counts(dir.path()).await, (3, 3));

    // The server forgets its UIDs: new UIDVALIDITY, messages unseen again.
    let mut s = dovecot.session("support").await;
    s.select("INBOX").await.unwrap();
    use futures::TryStreamExt;
    let _: Vec<_> = s
        .store("1:*", "-FLAGS.SILENT (\\Seen)")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    s.logout().await.unwrap();
    dovecot.doveadm(&[
        "mailbox",
        "update",
        "-u",
        "support",
        "--uid-validity",
        "4242",
        "INBOX",
    ]);

    let (code, stderr) = run_once(&config);
    assert_eq!(code, 0, "{stderr}");
    let (tickets, inbound) = db_counts(dir.path()).await;
    assert_eq!(tickets, 3, "no ticket filed twice");
    assert_eq!(inbound, 6, "the three recorded as duplicates");
    assert_eq!(dovecot.count_flagged("support", "INBOX", "SEEN").await, 3);
}

#[tokio::test]
async fn a_failing_mailbox_does_not_stop_the_others() {
    if !dovecot_available("two_mailboxes") {
        return;
    }
    let dovecot = Dovecot::start();
    let dir = tempfile::tempdir().unwrap();
    dovecot.append("support", "INBOX", &[message(1)]).await;
    let config = write_config(
        dir.path(),
        &format!(
            "{}{}",
            mailbox_toml(
                "good",
                dovecot.port,
                "support",
                "secret",
                "poll_interval = \"1s\""
            ),
            mailbox_toml(
                "bad",
                dovecot.port,
                "feature",
                "wrong-password",
                "poll_interval = \"1s\""
            )
        ),
    );
    // --once: the good one is processed; the exit status says one failed.
    let (code, stderr) = run_once(&config);
    assert_eq!(code, 75, "{stderr}");
    assert!(stderr.contains("login refused"), "{stderr}");
    assert!(
        !stderr.contains("wrong-password"),
        "password in the logs:\n{stderr}"
    );
    assert_eq!(db_counts(dir.path()).await.0, 1);

    // As a daemon: the bad one backs off without flooding, the good one works.
    let daemon = Daemon::start(&config, dir.path());
    daemon.ready().await;
    dovecot.append("support", "INBOX", &[message(2)]).await;
    wait_until(Duration::from_secs(15), || async {
        db_counts(dir.path()).await.0 == 2
    })
    .await
    .expect("good mailbox works");
    tokio::time::sleep(Duration::from_secs(4)).await;
    let log = daemon.log();
    assert_eq!(log.matches("mailbox failing").count(), 1, "{log}");
    let attempts = dovecot.log().matches("user=<feature>").count();
    assert!(
        attempts < 10,
        "{attempts} login attempts in a few seconds: no back-off?"
    );
    assert_eq!(daemon.terminate().0, 0);
}

#[tokio::test]
async fn tls_with_a_trusted_ca_and_refused_without() {
    if !dovecot_available("tls") {
        return;
    }
    let dovecot = Dovecot::start();
    let dir = tempfile::tempdir().unwrap();
    dovecot
        .append("support", "INBOX", &[message(1), message(2)])
        .await;
    let ca = dovecot.ca_file();
    let implicit = format!(
        "[[mailboxes]]\nname = \"tls\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"implicit\"\nusername = \"support\"\npassword = \"secret\"\nca_file = \"{}\"\n",
        dovecot.tls_port,
        ca.display()
    );
    let config = write_config(dir.path(), &implicit);
    let (code, stderr) = run_once(&config);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(db_counts(dir.path()).await.0, 2);

    // STARTTLS on the plain port, same CA.
    dovecot.append("support", "INBOX", &[message(3)]).await;
    let starttls = implicit
        .replace(
            &format!("port = {}", dovecot.tls_port),
            &format!("port = {}", dovecot.port),
        )
        .replace("\"implicit\"", "\"starttls\"");
    let config = write_config(dir.path(), &starttls);
    let (code, stderr) = run_once(&config);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(db_counts(dir.path()).await.0, 3);

    // tls_insecure accepts it without the CA, saying so at every connection.
    let insecure = write_config(
        dir.path(),
        &implicit.replace(
            &format!("ca_file = \"{}\"\n", ca.display()),
            "tls_insecure = true\n",
        ),
    );
    let (code, stderr) = run_once(&insecure);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("NOT verified"), "{stderr}");

    // Without the CA the self-signed certificate is refused.
    dovecot.append("support", "INBOX", &[message(4)]).await;
    let config = write_config(
        dir.path(),
        &implicit.replace(&format!("ca_file = \"{}\"\n", ca.display()), ""),
    );
    let (code, stderr) = run_once(&config);
    assert_eq!(code, 75, "{stderr}");
    assert!(stderr.to_lowercase().contains("certificate"), "{stderr}");
    assert_eq!(db_counts(dir.path()).await.0, 3);
    assert_eq!(
        dovecot.count("support", "INBOX").await,
        1,
        "left on the server"
    );
}

#[tokio::test]
async fn zero_configuration_watches_data_inbox() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("data/inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    std::fs::write(inbox.join("a.eml"), message(1)).unwrap();
    std::fs::write(inbox.join("b.eml"), "Subject: nobody\n\nno sender\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mailgate"))
        .args(["run", "--once"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(inbox.join("processed/a.eml").exists());
    assert!(inbox.join("quarantine/b.eml").exists());
    assert!(!inbox.join("a.eml").exists());
    assert!(dir.path().join("data/mailgate.db").exists());
}
#[path = "daemon/faults.rs"]
mod faults;

#[path = "daemon/check.rs"]
mod check;
#[path = "daemon/cluster.rs"]
mod cluster;
#[path = "support/database.rs"]
mod database;
#[path = "daemon/service.rs"]
mod service;
