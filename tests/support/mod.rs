//! Test harness: a private Dovecot per test on free loopback ports, started
//! with `tests/harness/start-dovecot.sh`, and helpers to drive the mailgate
//! binary.

#![allow(dead_code)]

pub mod http;
pub mod sink;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use mailgate::config::{ImapAuth, MailboxSettings, PostAction};
use mailgate::intake::MailboxDefaults;
use mailgate::model::TlsMode;
use mailgate::source::imap::{Session, connect};

pub fn harness(script: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/harness")
        .join(script)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether Dovecot is installed. Without it the IMAP tests say so loudly
/// and pass, except in CI, where its absence fails them.
pub fn dovecot_available(test: &str) -> bool {
    let found = Path::new("/usr/sbin/dovecot").exists();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "Dovecot (dovecot-imapd) is required in CI"
        );
        eprintln!(
            "\n*** SKIPPED {test}: Dovecot is not installed (apt-get install dovecot-imapd) ***\n"
        );
    }
    found
}

/// A running private Dovecot. Users: support, feature, other; password `secret`.
pub struct Dovecot {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub tls_port: u16,
    env: Vec<(String, String)>,
}

impl Dovecot {
    pub fn start() -> Dovecot {
        Dovecot::start_with_env(&[])
    }

    /// Starts with environment settings for start-dovecot.sh (such as
    /// `DOVECOT_OAUTH2_INTROSPECTION_URL`).
    pub fn start_with_env(env: &[(&str, &str)]) -> Dovecot {
        for _ in 0..5 {
            // Short path: Unix socket paths are limited to 107 bytes.
            let dir = tempfile::Builder::new()
                .prefix("mg")
                .tempdir_in("/tmp")
                .unwrap();
            let dovecot = Dovecot {
                dir,
                port: free_port(),
                tls_port: free_port(),
                env: env
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            };
            match dovecot.launch() {
                Ok(()) => return dovecot,
                // A port was taken meanwhile: try others.
                Err(89) => {}
                Err(code) => panic!("start-dovecot.sh failed with {code}: {}", dovecot.log()),
            }
        }
        panic!("no free ports for Dovecot after 5 tries");
    }

    fn launch(&self) -> Result<(), i32> {
        // Dovecot forks and keeps the script's stdout and stderr open:
        // they go to a file, or waiting for the script would never end.
        let out_path = self.dir.path().join("start.out");
        let out = std::fs::File::create(&out_path).unwrap();
        let status = Command::new(harness("start-dovecot.sh"))
            .arg(self.dir.path())
            .arg(self.port.to_string())
            .arg(self.tls_port.to_string())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .status()
            .unwrap();
        if status.success() {
            Ok(())
        } else {
            eprintln!("{}", std::fs::read_to_string(&out_path).unwrap_or_default());
            Err(status.code().unwrap_or(-1))
        }
    }

    pub fn stop(&self) {
        let _ = Command::new(harness("stop-dovecot.sh"))
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    /// Stops the server and cuts the open IMAP sessions, which Dovecot's own
    /// shutdown leaves running.
    pub fn stop_with_sessions(&self) {
        self.stop();
        let _ = Command::new("pkill")
            .arg("-KILL")
            .arg("-f")
            .arg(format!("dovecot-mailgate-test-{}/", self.port))
            .status();
    }

    /// Starts again on the same folder and ports (mail is kept).
    pub fn restart(&self) {
        self.stop();
        self.launch().expect("dovecot restarts");
    }

    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("tls/ca.pem")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }

    pub fn conf(&self) -> PathBuf {
        self.dir.path().join("dovecot.conf")
    }

    /// Mailbox settings for a user on the plain-text port.
    pub fn mailbox(&self, name: &str, user: &str, password: &str) -> MailboxSettings {
        MailboxSettings {
            name: name.into(),
            address: None,
            host: "127.0.0.1".into(),
            port: self.port,
            tls: TlsMode::None,
            username: user.into(),
            password: Some(mailgate::config::Secret::new(password)),
            folder: "INBOX".into(),
            processed_folder: "Processed".into(),
            quarantine_folder: "Quarantine".into(),
            idle: true,
            poll_interval: Duration::from_secs(60),
            post_action: PostAction::Move,
            initial: mailgate::config::Initial::All,
            auth: ImapAuth::Login,
            ca_file: None,
            tls_insecure: false,
            timeout: Duration::from_secs(20),
            oauth: None,
            defaults: MailboxDefaults::default(),
        }
    }

    pub async fn session(&self, user: &str) -> Session {
        connect(&self.mailbox("test", user, "secret"), None)
            .await
            .expect("test login")
    }

    pub async fn append(&self, user: &str, folder: &str, messages: &[String]) {
        let mut s = self.session(user).await;
        for m in messages {
            s.append(folder, None, None, m.replace('\n', "\r\n").as_bytes())
                .await
                .unwrap();
        }
        s.logout().await.unwrap();
    }

    /// Number of messages in a folder (0 when it does not exist).
    pub async fn count(&self, user: &str, folder: &str) -> u32 {
        let mut s = self.session(user).await;
        let n = match s.examine(folder).await {
            Ok(mailbox) => mailbox.exists,
            Err(_) => 0,
        };
        s.logout().await.unwrap();
        n
    }

    /// Number of messages in a folder carrying a flag (`\Seen`).
    pub async fn count_flagged(&self, user: &str, folder: &str, search: &str) -> usize {
        let mut s = self.session(user).await;
        s.examine(folder).await.unwrap();
        let n = s.uid_search(search).await.unwrap().len();
        s.logout().await.unwrap();
        n
    }

    pub async fn fetch_all(&self, user: &str, folder: &str) -> Vec<Vec<u8>> {
        let mut s = self.session(user).await;
        s.examine(folder).await.unwrap();
        let fetched: Vec<_> = s
            .fetch("1:*", "BODY.PEEK[]")
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        let bodies = fetched
            .iter()
            .filter_map(|f| f.body().map(<[u8]>::to_vec))
            .collect();
        drop(fetched);
        s.logout().await.unwrap();
        bodies
    }

    pub fn doveadm(&self, args: &[&str]) {
        let out = Command::new("doveadm")
            .arg("-c")
            .arg(self.conf())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "doveadm {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A customer message, unique by `n`.
pub fn message(n: usize) -> String {
    format!(
        "From: Client {n} <client{n}@acme.fr>\nTo: support@example.com\nSubject: Demande {n}\nMessage-ID: <m{n}@acme.fr>\nDate: Mon, 23 Nov 2026 10:00:00 +0100\n\nBonjour,\nle module {n} ne fonctionne pas.\n"
    )
}

/// Writes a configuration with these `[[mailboxes]]` (TOML text) and a
/// SQLite database in `dir`. The HTTP server takes any free port, so that
/// daemons of tests running at once do not fight for 8080.
pub fn write_config(dir: &Path, mailboxes: &str) -> PathBuf {
    let path = dir.join("mailgate.toml");
    let text = format!(
        "[database]\nurl = \"sqlite://{dir}/mailgate.db\"\n[outbox]\ndirectory = \"{dir}/outbox\"\n[intake]\nown_addresses = [\"support@example.com\"]\n[http]\nlisten = \"127.0.0.1:0\"\nops_listen = \"127.0.0.1:0\"\n{mailboxes}\n",
        dir = dir.display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

pub fn mailbox_toml(name: &str, port: u16, user: &str, password: &str, extra: &str) -> String {
    format!(
        "[[mailboxes]]\nname = \"{name}\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nusername = \"{user}\"\npassword = \"{password}\"\ntimeout = \"20s\"\n{extra}\n"
    )
}

pub fn mailgate(config: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mailgate"));
    cmd.arg("--config").arg(config).args(args);
    cmd
}

/// Runs `mailgate run --once` and returns (status, stderr).
pub fn run_once(config: &Path) -> (i32, String) {
    let out = mailgate(config, &["run", "--once"]).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `mailgate run` in the background, its log in a file.
pub struct Daemon {
    pub child: Child,
    pub log: PathBuf,
}

impl Daemon {
    pub fn start(config: &Path, dir: &Path) -> Daemon {
        Daemon::start_with_env(config, dir, &[])
    }

    /// Starts with extra environment variables (`NOTIFY_SOCKET`…).
    pub fn start_with_env(config: &Path, dir: &Path, env: &[(&str, &str)]) -> Daemon {
        let log = dir.join(format!(
            "daemon-{}.log",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let file = std::fs::File::create(&log).unwrap();
        let child = mailgate(config, &["run"])
            .env("RUST_LOG", "mailgate=debug,info")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap();
        Daemon { child, log }
    }

    /// Sends a signal by name (`HUP`, `TERM`).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// The address the operators' listener (`/healthz`, `/readyz`,
    /// `/metrics`) was bound to, read from the log.
    pub fn ops_address(&self) -> String {
        let log = self.log();
        let line = log
            .lines()
            .find(|l| l.contains("HTTP listening") && l.contains("http.ops_listen"))
            .unwrap_or_else(|| panic!("no ops listener in the log:\n{log}"));
        let at = line.find("listen=").expect("listen= field") + "listen=".len();
        line[at..].split_whitespace().next().unwrap().to_owned()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the daemon has opened its database and started its
    /// sources, so the test can read the database without racing the
    /// migrations.
    pub async fn ready(&self) {
        let ok = wait_until(Duration::from_secs(20), || async {
            self.log().contains("mailgate running")
        })
        .await;
        assert!(ok.is_some(), "mailgate did not start:\n{}", self.log());
    }

    /// SIGTERM, then the exit status and how long it took.
    pub fn terminate(mut self) -> (i32, Duration) {
        let started = Instant::now();
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status.code().unwrap_or(-1), started.elapsed());
            }
            if started.elapsed() > Duration::from_secs(30) {
                let _ = self.child.kill();
                panic!("mailgate did not stop within 30 s:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Counts tickets and inbound outcomes in the test database.
pub async fn db_counts(dir: &Path) -> (usize, usize) {
    let url = format!("sqlite://{}/mailgate.db", dir.display());
    let store = mailgate::store::Store::open(&url, "SUP").await.unwrap();
    let tickets = store.list_tickets(None).await.unwrap().len();
    let inbound = store.list_inbound(None).await.unwrap().len();
    store.close().await;
    (tickets, inbound)
}

/// Polls until `check` is true or the time is up; returns the time taken.
pub async fn wait_until<F, Fut>(limit: Duration, mut check: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    while started.elapsed() < limit {
        if check().await {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}
