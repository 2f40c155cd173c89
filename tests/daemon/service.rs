//! `mailgate run` as systemd sees it: sd_notify messages on a test
//! `NOTIFY_SOCKET` (READY, STATUS, WATCHDOG, RELOADING, STOPPING), a reload
//! with a valid then an invalid configuration while mail flows, `/readyz`
//! turning 503 when Dovecot goes away, and the metrics after a known batch.

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::time::Duration;

use super::support::*;

/// The datagrams mailgate sent to the notify socket, as they come.
struct NotifySocket {
    socket: UnixDatagram,
    seen: Vec<String>,
}

impl NotifySocket {
    fn bind(path: &Path) -> NotifySocket {
        let socket = UnixDatagram::bind(path).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        NotifySocket {
            socket,
            seen: Vec::new(),
        }
    }

    /// Waits for a datagram with this line; returns everything seen.
    fn wait_for(&mut self, line: &str, limit: Duration) -> &[String] {
        let started = std::time::Instant::now();
        let mut buf = [0u8; 4096];
        let from = self.seen.len();
        while started.elapsed() < limit {
            if let Ok(n) = self.socket.recv(&mut buf) {
                self.seen
                    .push(String::from_utf8_lossy(&buf[..n]).into_owned());
                if self.seen[from..]
                    .iter()
                    .any(|d| d.lines().any(|l| l == line))
                {
                    return &self.seen;
                }
            }
        }
        panic!("no {line} within {limit:?}; got {:?}", self.seen);
    }
}

fn config_text(dir: &Path, mailboxes: &str) -> String {
    std::fs::read_to_string(write_config(dir, mailboxes)).unwrap()
}

async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn systemd_sees_ready_status_watchdog_reload_and_stop() {
    if !dovecot_available("systemd_sees_ready_status_watchdog_reload_and_stop") {
        return;
    }
    let dovecot = Dovecot::start();
    let dir = tempfile::tempdir().unwrap();
    // Readiness allows three poll intervals since the last success: short
    // here, so that losing Dovecot shows within seconds.
    let support_box = mailbox_toml(
        "support",
        dovecot.port,
        "support",
        "secret",
        "poll_interval = \"2s\"",
    );
    let config = write_config(dir.path(), &support_box);
    let socket_path = dir.path().join("notify.sock");
    let mut notify = NotifySocket::bind(&socket_path);
    let daemon = Daemon::start_with_env(
        &config,
        dir.path(),
        &[
            ("NOTIFY_SOCKET", socket_path.to_str().unwrap()),
            ("WATCHDOG_USEC", "2000000"),
        ],
    );
    let seen = notify.wait_for("READY=1", Duration::from_secs(20));
    let ready = seen.iter().find(|d| d.contains("READY=1")).unwrap();
    assert!(ready.contains("STATUS="), "{ready}");
    notify.wait_for("WATCHDOG=1", Duration::from_secs(5));

    // Health, readiness, and metrics after a known batch.
    let ops = format!("http://{}", daemon.ops_address());
    assert_eq!(get(&format!("{ops}/healthz")).await.0, 200);
    let ready = wait_until(Duration::from_secs(10), || async {
        get(&format!("{ops}/readyz")).await.0 == 200
    })
    .await;
    assert!(ready.is_some(), "{}", get(&format!("{ops}/readyz")).await.1);
    let vacation =
        "From: away@acme.fr\nAuto-Submitted: auto-replied\nSubject: Absent\n\nBack Monday\n";
    dovecot
        .append(
            "support",
            "INBOX",
            &[message(1), message(2), message(3), vacation.to_owned()],
        )
        .await;
    let filed = wait_until(Duration::from_secs(20), || async {
        db_counts(dir.path()).await == (3, 4)
    })
    .await;
    assert!(filed.is_some(), "{}", daemon.log());
    let metrics = get(&format!("{ops}/metrics")).await.1;
    let value = |name: &str, labels: &[&str]| -> f64 {
        metrics
            .lines()
            .find(|l| l.starts_with(name) && labels.iter().all(|x| l.contains(x)))
            .and_then(|l| l.rsplit(' ').next()?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} {labels:?} in\n{metrics}"))
    };
    assert_eq!(
        value(
            "mailgate_messages_filed_total{",
            &["outcome=\"ticket\"", "mailbox=\"support\""]
        ),
        3.0
    );
    assert_eq!(
        value(
            "mailgate_messages_filed_total{",
            &["outcome=\"ignored\"", "reason=\"auto-reply\""]
        ),
        1.0
    );
    assert_eq!(value("mailgate_tickets_created_total", &[]), 3.0);
    assert_eq!(
        value("mailgate_mailbox_connected{", &["mailbox=\"support\""]),
        1.0
    );
    assert_eq!(
        value("mailgate_outbox_messages{", &["status=\"pending\""])
            + value("mailgate_outbox_messages{", &["status=\"sent\""]),
        3.0,
        "one confirmation per ticket"
    );
    assert!(metrics.contains("mailgate_message_processing_seconds_bucket"));

    // A valid reload adds a mailbox; mail keeps flowing.
    let feature_box = mailbox_toml("feature", dovecot.port, "feature", "secret", "");
    let text = config_text(dir.path(), &format!("{support_box}\n{feature_box}"));
    std::fs::write(&config, text).unwrap();
    daemon.signal("HUP");
    notify.wait_for("RELOADING=1", Duration::from_secs(10));
    notify.wait_for("READY=1", Duration::from_secs(10));
    dovecot.append("feature", "INBOX", &[message(10)]).await;
    let filed = wait_until(Duration::from_secs(20), || async {
        db_counts(dir.path()).await == (4, 5)
    })
    .await;
    assert!(
        filed.is_some(),
        "the added mailbox is watched:\n{}",
        daemon.log()
    );

    // An invalid one is refused; the running configuration stays.
    let good = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        good.replace(
            "[database]",
            "[tickets]\nkey_prefix = \"not a prefix\"\n[database]",
        ),
    )
    .unwrap();
    daemon.signal("HUP");
    notify.wait_for("RELOADING=1", Duration::from_secs(10));
    let after = notify.wait_for("READY=1", Duration::from_secs(10));
    assert!(
        after.iter().any(|d| d.contains("reload refused")),
        "{after:?}"
    );
    dovecot.append("support", "INBOX", &[message(11)]).await;
    dovecot.append("feature", "INBOX", &[message(12)]).await;
    let filed = wait_until(Duration::from_secs(20), || async {
        db_counts(dir.path()).await == (6, 7)
    })
    .await;
    assert!(
        filed.is_some(),
        "both mailboxes still run:\n{}",
        daemon.log()
    );
    assert!(daemon.log().contains("reload refused"));

    // Dovecot goes away: not ready, with the reason.
    dovecot.stop_with_sessions();
    let unready = wait_until(Duration::from_secs(30), || async {
        get(&format!("{ops}/readyz")).await.0 == 503
    })
    .await;
    let (_, body) = get(&format!("{ops}/readyz")).await;
    assert!(unready.is_some(), "{body}");
    assert!(body.contains("mailbox support"), "{body}");
    assert_eq!(get(&format!("{ops}/healthz")).await.0, 200, "still alive");

    let (code, _) = daemon.terminate();
    assert_eq!(code, 0);
    notify.wait_for("STOPPING=1", Duration::from_secs(2));
}
