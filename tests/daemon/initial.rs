//! `[[mailboxes]] initial` against a real Dovecot: the mail already in a
//! folder at the first watch is left there (`new`), filed without its mail
//! being sent (`silent`) or filed and answered (`all`, the default); what
//! arrives later is taken as usual, and a second run does not take the
//! mailbox for new again.

use std::path::Path;

use super::support::*;

/// The outbox: recipient and status of every mail, sorted.
async fn outbox(dir: &Path) -> Vec<(String, String)> {
    let url = format!("sqlite://{}/mailgate.db", dir.display());
    let store = mailgate::store::Store::open(&url, "SUP").await.unwrap();
    let mut rows: Vec<(String, String)> = (store.list_outbox().await.unwrap().into_iter())
        .map(|r| (r.recipients, r.status.to_string()))
        .collect();
    store.close().await;
    rows.sort();
    rows
}

fn check_line(config: &Path, mailbox: &str) -> String {
    let out = mailgate(config, &["check"]).output().unwrap();
    let out = String::from_utf8_lossy(&out.stdout).into_owned();
    let prefix = format!("mailbox {mailbox}: folder INBOX:");
    out.lines()
        .find(|l| l.contains(&prefix))
        .unwrap_or_else(|| panic!("no {prefix} in {out}"))
        .to_owned()
}

fn pair(to: &str, status: &str) -> (String, String) {
    (to.to_owned(), status.to_owned())
}

#[tokio::test]
async fn initial_new_silent_and_all() {
    if !dovecot_available("initial") {
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
    dovecot.append("other", "INBOX", &[message(5)]).await;
    let config = write_config(
        dir.path(),
        &[
            mailbox_toml(
                "fresh",
                dovecot.port,
                "support",
                "secret",
                "initial = \"new\"",
            ),
            mailbox_toml(
                "quiet",
                dovecot.port,
                "feature",
                "secret",
                "initial = \"silent\"",
            ),
            mailbox_toml("as-before", dovecot.port, "other", "secret", ""),
        ]
        .concat(),
    );
    assert!(check_line(&config, "fresh").ends_with(
        "folder INBOX: 2 message(s) waiting; first watch: 2 will be left in the folder; \
             only mail arriving later is taken (initial = \"new\")"
    ));
    assert!(check_line(&config, "quiet").contains("2 will be filed without their mail"));

    let (code, stderr) = run_once(&config);
    assert_eq!(code, 0, "{stderr}");
    // new: untouched, no ticket, no post-action.
    assert_eq!(dovecot.count("support", "INBOX").await, 2);
    assert_eq!(dovecot.count("support", "Processed").await, 0);
    // silent: filed and moved; their confirmations kept, not sent. all:
    // answered.
    assert_eq!(dovecot.count("feature", "Processed").await, 2);
    assert_eq!(db_counts(dir.path()).await, (3, 3));
    assert_eq!(
        outbox(dir.path()).await,
        [
            pair("client3@acme.fr", "suppressed"),
            pair("client4@acme.fr", "suppressed"),
            pair("client5@acme.fr", "sent"),
        ]
    );
    let written = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .count();
    assert_eq!(written, 1, "only the confirmation of the `all` mailbox");

    // What arrives later is taken as usual, and answered.
    dovecot.append("support", "INBOX", &[message(6)]).await;
    dovecot.append("feature", "INBOX", &[message(7)]).await;
    let (code, stderr) = run_once(&config);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        dovecot.count("support", "INBOX").await,
        2,
        "the old ones stay"
    );
    assert_eq!(dovecot.count("support", "Processed").await, 1);
    assert_eq!(db_counts(dir.path()).await, (5, 5));
    let rows = outbox(dir.path()).await;
    assert!(rows.contains(&pair("client6@acme.fr", "sent")), "{rows:?}");
    assert!(rows.contains(&pair("client7@acme.fr", "sent")), "{rows:?}");

    // A second run does not take the mailbox for new again.
    let (code, stderr) = run_once(&config);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(db_counts(dir.path()).await, (5, 5));
    assert_eq!(dovecot.count("support", "INBOX").await, 2);
    assert!(check_line(&config, "fresh").ends_with(
        "folder INBOX: 0 message(s) waiting, and 2 from before the first watch left there \
             (initial = \"new\")"
    ));
}
