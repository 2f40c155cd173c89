//! Secrets never reach the logs, at any level: every command that holds one
//! (`check`, `run --once`, `ingest`, the daemon serving the API) runs with
//! `RUST_LOG=trace`, in text and in JSON, once with every credential right
//! and once with every one wrong (failure paths say more), and its output
//! is searched for each secret: as written, by its distinctive core, URL-
//! encoded (the token request is a form), and inside anything that decodes
//! as base64 (AUTHENTICATE PLAIN, XOAUTH2 and SMTP AUTH carry credentials
//! base64-encoded).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::database::TestDb;
use crate::support::http::{Requests, http_server};
use crate::support::{Daemon, Dovecot, dovecot_available, message};
use crate::{Run, Sink, trace_run};

// Each secret ends with a distinctive core, searched for on its own too.
const IMAP_LOGIN_PASSWORD: &str = "imapLogin-Kq7Vx2Lp9Z";
const IMAP_PLAIN_PASSWORD: &str = "imapPlain-Rw4Ty8Nb3M";
const SMTP_PASSWORD: &str = "smtpAuth-Hd6Js1Qc5X";
/// With characters a form encodes (`+`, `/`, `=`).
const OAUTH_CLIENT_SECRET: &str = "oauthClient-Fz3+Gm7/Wy=Tq";
const REFRESH_TOKEN: &str = "refreshTok-Pn2Lk8Vb4C";
const API_TOKEN: &str = "apiTok-Bc4Nm8Zx2Qw6";
const DB_PASSWORD: &str = "dbPass-Tg5Yu1Io9P";
const WRONG_IMAP_PASSWORD: &str = "wrongImap-Aq1Sw2De3F";
const WRONG_PLAIN_PASSWORD: &str = "wrongPlain-Zx8Cv7Bn6M";
const WRONG_SMTP_PASSWORD: &str = "wrongSmtp-Lk4Jh3Gf2D";
const WRONG_API_TOKEN: &str = "wrongApi-Po9Iu8Yt7R";
/// Refused by the token endpoint (`invalid_grant`).
const REFUSED_REFRESH_TOKEN: &str = "refusedRefresh-Mn5Bv4Cx3Z";
/// Accepted by the token endpoint, which answers with an access token
/// Dovecot then refuses.
const STALE_REFRESH_TOKEN: &str = "staleRefresh-Qa2Ws3Ed4R";
const STALE_ACCESS_TOKEN: &str = "staleAccess-Rf5Tg6Yh7U";
/// The password of the user the OAuth mailbox logs in as, for the test's
/// own sessions only (mailgate never has it).
const OTHER_PASSWORD: &str = "harnessOnly-Ik8Ol9Pp0A";

/// The token endpoint and Dovecot's introspection endpoint. `/token`
/// issues `accessTokN-…` and rotates the refresh token; `/token-refused`
/// refuses every grant; `/token-stale` issues [`STALE_ACCESS_TOKEN`].
/// Introspection accepts only the latest token `/token` issued, for user
/// `other`. Returns the base URL, the requests, and every token issued.
async fn oauth_server() -> (String, Requests, Arc<Mutex<Vec<String>>>) {
    let issued = Arc::new(Mutex::new(Vec::<String>::new()));
    let valid = Arc::new(Mutex::new(String::new()));
    let (issuer, checker) = (Arc::clone(&issued), Arc::clone(&valid));
    let counter = Mutex::new(0);
    let (base, requests) = http_server(Box::new(move |path, body| match path {
        "/token" => {
            let mut n = counter.lock().unwrap();
            *n += 1;
            let access = format!("accessTok{n}-Ue5Ha7Rj");
            let refresh = format!("refreshRot{n}-Xs9Dq3Lm");
            issuer
                .lock()
                .unwrap()
                .extend([access.clone(), refresh.clone()]);
            *checker.lock().unwrap() = access.clone();
            (
                200,
                format!(
                    r#"{{"access_token":"{access}","expires_in":3600,"refresh_token":"{refresh}","token_type":"Bearer"}}"#
                ),
            )
        }
        "/token-refused" => (
            400,
            r#"{"error":"invalid_grant","error_description":"AADSTS70000: the grant is expired"}"#
                .into(),
        ),
        "/token-stale" => (
            200,
            format!(r#"{{"access_token":"{STALE_ACCESS_TOKEN}","expires_in":3600}}"#),
        ),
        _ => {
            let current = checker.lock().unwrap().clone();
            let active = !current.is_empty() && body.contains(&format!("token={current}"));
            (
                200,
                if active {
                    r#"{"active":true,"username":"other"}"#.into()
                } else {
                    r#"{"active":false}"#.into()
                },
            )
        }
    }))
    .await;
    (base, requests, issued)
}

/// Appends a message to a user's INBOX with the test's own session.
async fn append(dovecot: &Dovecot, user: &str, password: &str, raw: &str) {
    let mut session =
        mailgate::source::imap::connect(&dovecot.mailbox("test", user, password), None)
            .await
            .expect("test login");
    session
        .append("INBOX", None, None, raw.replace('\n', "\r\n").as_bytes())
        .await
        .unwrap();
    session.logout().await.unwrap();
}

async fn inbox_count(dovecot: &Dovecot, user: &str, password: &str) -> u32 {
    let mut session =
        mailgate::source::imap::connect(&dovecot.mailbox("test", user, password), None)
            .await
            .expect("test login");
    let n = session.examine("INBOX").await.unwrap().exists;
    session.logout().await.unwrap();
    n
}

/// The credentials of one configuration.
struct Credentials<'a> {
    database_url: &'a str,
    imap_password: &'a str,
    plain_password: &'a str,
    smtp_password: &'a str,
    /// (mailbox name, token URL path, refresh token) of each XOAUTH2 mailbox.
    oauth: &'a [(&'a str, &'a str, &'a str)],
}

/// A configuration with every kind of secret: an IMAP mailbox with LOGIN
/// (inline password), one with AUTHENTICATE PLAIN (password file), XOAUTH2
/// mailboxes (client secret, refresh token file), SMTP AUTH, an API token.
fn write_config(
    dir: &std::path::Path,
    dovecot: &Dovecot,
    sink: &Sink,
    c: &Credentials,
) -> std::path::PathBuf {
    std::fs::write(
        dir.join("plain-password"),
        format!("{}\n", c.plain_password),
    )
    .unwrap();
    let mut oauth = String::new();
    for (name, path, refresh) in c.oauth {
        let file = dir.join(format!("{name}-refresh-token"));
        std::fs::write(&file, format!("{refresh}\n")).unwrap();
        oauth.push_str(&format!(
            "[[mailboxes]]\nname = \"{name}\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nusername = \"other\"\nauth = \"xoauth2\"\ntimeout = \"20s\"\noauth_token_url = \"{path}\"\noauth_client_id = \"mailgate-client\"\noauth_client_secret = \"{OAUTH_CLIENT_SECRET}\"\noauth_refresh_token_file = \"{file}\"\n",
            port = dovecot.port,
            file = file.display(),
        ));
    }
    let text = format!(
        r#"[database]
url = "{url}"
[outbox]
directory = "{dir}/outbox"
[intake]
own_addresses = ["support@example.com"]
[http]
listen = "127.0.0.1:0"
ops_listen = "127.0.0.1:0"
[[http.api_tokens]]
name = "desk"
sha256 = "{api}"
[smtp]
host = "127.0.0.1"
port = {smtp_port}
tls = "none"
username = "mailgate"
password = "{smtp_password}"
from = "support@example.com"
[[mailboxes]]
name = "login"
host = "127.0.0.1"
port = {imap_port}
tls = "none"
username = "support"
password = "{imap_password}"
timeout = "20s"
[[mailboxes]]
name = "plain"
host = "127.0.0.1"
port = {imap_port}
tls = "none"
auth = "plain"
username = "feature"
password_file = "{dir}/plain-password"
timeout = "20s"
{oauth}"#,
        url = c.database_url,
        dir = dir.display(),
        api = hex::encode(Sha256::digest(API_TOKEN.as_bytes())),
        smtp_port = sink.port,
        smtp_password = c.smtp_password,
        imap_port = dovecot.port,
        imap_password = c.imap_password,
    );
    let path = dir.join("mailgate.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// Text hidden in base64 runs of a line: each run of base64 characters
/// decoded from each of its first four offsets, as far as whole quanta go.
fn decoded_base64(line: &str) -> Vec<String> {
    let mut decoded = Vec::new();
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || c == '+' || c == '/';
    for run in line.split(|c: char| !is_b64(c)).filter(|r| r.len() >= 12) {
        for start in 0..4 {
            let part = &run[start..];
            let part = &part[..part.len() - part.len() % 4];
            if let Ok(bytes) = base64::engine::general_purpose::STANDARD_NO_PAD.decode(part) {
                decoded.push(String::from_utf8_lossy(&bytes).into_owned());
            }
        }
    }
    decoded
}

/// The ways a secret can show: as written, URL-encoded, escaped (Debug,
/// JSON), and its distinctive core alone.
fn needles(value: &str) -> Vec<(String, &'static str)> {
    let core = value.rsplit('-').next().unwrap_or(value);
    let mut needles = vec![
        (value.to_owned(), "as written"),
        (
            url::form_urlencoded::byte_serialize(value.as_bytes()).collect(),
            "URL-encoded",
        ),
        (format!("{value:?}").trim_matches('"').to_owned(), "escaped"),
    ];
    if core.len() >= 8 {
        needles.push((core.to_owned(), "its core"));
    }
    needles
}

/// Every line where a secret shows, as `command: secret (how) in: line`,
/// one per (command, secret, line).
fn leaks(runs: &[Run], secrets: &[(String, String)], encoded: &[(String, String)]) -> Vec<String> {
    let mut found = Vec::new();
    for run in runs {
        for line in run.output().lines() {
            let decoded = decoded_base64(line);
            let short: String = line.chars().take(400).collect();
            for (name, value) in secrets {
                let mut hows: Vec<&str> = needles(value)
                    .into_iter()
                    .filter(|(needle, _)| line.contains(needle.as_str()))
                    .map(|(_, how)| how)
                    .collect();
                if decoded
                    .iter()
                    .any(|d| needles(value).iter().any(|(n, _)| d.contains(n.as_str())))
                {
                    hows.push("inside base64");
                }
                if !hows.is_empty() {
                    found.push(format!(
                        "{}: {name} ({}) in: {short}",
                        run.label,
                        hows.join(", ")
                    ));
                }
            }
            for (name, value) in encoded {
                if line.contains(value.as_str()) {
                    found.push(format!("{}: {name} in: {short}", run.label));
                }
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

fn line_with<'a>(output: &'a str, start: &str) -> &'a str {
    output
        .lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no line starting with {start:?} in:\n{output}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_the_logs_at_trace_level() {
    if !dovecot_available("security_secrets_in_logs") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let Some(sink) = Sink::start(
        &dir.path().join("sink"),
        0,
        Some(&format!("mailgate:{SMTP_PASSWORD}")),
    ) else {
        return;
    };
    let (base, requests, issued) = oauth_server().await;
    let dovecot = Dovecot::start_with_env(&[
        (
            "DOVECOT_USERS",
            &format!(
                "support:{IMAP_LOGIN_PASSWORD} feature:{IMAP_PLAIN_PASSWORD} other:{OTHER_PASSWORD}"
            ),
        ),
        (
            "DOVECOT_OAUTH2_INTROSPECTION_URL",
            &format!("{base}/introspect"),
        ),
    ]);
    for (n, (user, password)) in [
        ("support", IMAP_LOGIN_PASSWORD),
        ("feature", IMAP_PLAIN_PASSWORD),
        ("other", OTHER_PASSWORD),
    ]
    .into_iter()
    .enumerate()
    {
        append(&dovecot, user, password, &message(n + 1)).await;
    }
    // A PostgreSQL URL with a password when the server is there (it trusts
    // loopback, so the password is never asked for, only carried around).
    let pg = TestDb::postgres("security_secrets").await;
    let good_dir = dir.path().join("good");
    std::fs::create_dir_all(&good_dir).unwrap();
    let database_url = match &pg {
        Some(db) => db
            .url
            .replacen("postgres@", &format!("postgres:{DB_PASSWORD}@"), 1),
        None => format!("sqlite://{}/mailgate.db", good_dir.display()),
    };
    let mut runs = Vec::new();

    // Every credential right.
    let oauth_good = [("oauth", &*format!("{base}/token"), REFRESH_TOKEN)];
    let good = write_config(
        &good_dir,
        &dovecot,
        &sink,
        &Credentials {
            database_url: &database_url,
            imap_password: IMAP_LOGIN_PASSWORD,
            plain_password: IMAP_PLAIN_PASSWORD,
            smtp_password: SMTP_PASSWORD,
            oauth: &oauth_good,
        },
    );
    let json = ["--log-format", "json"];
    let check = trace_run(&good, &["check"], &[], b"");
    assert_eq!(check.code, 0, "{}", check.output());
    for name in ["login", "plain", "oauth"] {
        line_with(&check.stdout, &format!("✓ mailbox {name}: logged in as "));
    }
    line_with(
        &check.stdout,
        &format!("✓ smtp 127.0.0.1:{}: AUTH PLAIN as mailgate", sink.port),
    );
    runs.push(check);
    runs.push(trace_run(
        &good,
        &[&json[..], &["check", "--json"]].concat(),
        &[],
        b"",
    ));
    let once = trace_run(&good, &["run", "--once"], &[], b"");
    assert_eq!(once.code, 0, "{}", once.output());
    runs.push(once);
    for (user, password) in [
        ("support", IMAP_LOGIN_PASSWORD),
        ("feature", IMAP_PLAIN_PASSWORD),
        ("other", OTHER_PASSWORD),
    ] {
        assert_eq!(inbox_count(&dovecot, user, password).await, 0, "{user}");
    }
    let ingest = trace_run(
        &good,
        &[&json[..], &["ingest"]].concat(),
        &[],
        message(4).as_bytes(),
    );
    assert_eq!(ingest.code, 0, "{}", ingest.output());
    runs.push(ingest);
    let once = trace_run(&good, &[&json[..], &["run", "--once"]].concat(), &[], b"");
    assert_eq!(once.code, 0, "{}", once.output());
    runs.push(once);
    let envelopes = sink.envelopes();
    assert_eq!(envelopes.len(), 4, "one confirmation per ticket");
    assert!(envelopes.iter().all(|e| e["auth_user"] == "mailgate"));
    assert!(
        requests
            .lock()
            .unwrap()
            .iter()
            .any(|(path, body)| path == "/token"
                && body.contains(
                    &url::form_urlencoded::byte_serialize(OAUTH_CLIENT_SECRET.as_bytes())
                        .collect::<String>()
                )),
        "the client secret was sent"
    );

    // The daemon, serving the API to a right, a wrong and no bearer token.
    let daemon = Daemon::start_with_env(&good, &good_dir, &[("RUST_LOG", "trace")]);
    daemon.ready().await;
    let log = daemon.log();
    let line = log
        .lines()
        .find(|l| l.contains("HTTP listening") && l.contains("http.listen"))
        .unwrap_or_else(|| panic!("no public listener in the log:\n{log}"));
    let at = line.find("listen=").expect("listen= field") + "listen=".len();
    let api = format!(
        "http://{}/api/tickets",
        line[at..].split_whitespace().next().unwrap()
    );
    let http = reqwest::Client::new();
    for (token, status) in [
        (Some(API_TOKEN), 200),
        (Some(WRONG_API_TOKEN), 401),
        (None, 401),
    ] {
        let mut request = http.get(&api);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        assert_eq!(request.send().await.unwrap().status().as_u16(), status);
    }
    let log_path = daemon.log.clone();
    // The IMAP sessions settle into IDLE before the daemon stops.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (code, _) = daemon.terminate();
    assert_eq!(code, 0);
    runs.push(Run {
        label: "mailgate run (daemon)".into(),
        code,
        stdout: String::new(),
        stderr: std::fs::read_to_string(&log_path).unwrap(),
    });

    // Every credential wrong, and one access token issued but refused.
    let bad_dir = dir.path().join("bad");
    std::fs::create_dir_all(&bad_dir).unwrap();
    let bad_url = format!("sqlite://{}/mailgate.db", bad_dir.display());
    let oauth_bad = [
        (
            "oauth-refused",
            &*format!("{base}/token-refused"),
            REFUSED_REFRESH_TOKEN,
        ),
        (
            "oauth-stale",
            &*format!("{base}/token-stale"),
            STALE_REFRESH_TOKEN,
        ),
    ];
    let bad = write_config(
        &bad_dir,
        &dovecot,
        &sink,
        &Credentials {
            database_url: &bad_url,
            imap_password: WRONG_IMAP_PASSWORD,
            plain_password: WRONG_PLAIN_PASSWORD,
            smtp_password: WRONG_SMTP_PASSWORD,
            oauth: &oauth_bad,
        },
    );
    let check = trace_run(&bad, &["check"], &[], b"");
    assert_eq!(check.code, 1, "{}", check.output());
    for name in ["login", "plain", "oauth-stale"] {
        line_with(&check.stdout, &format!("✗ mailbox {name}: login refused"));
    }
    assert!(
        check
            .stdout
            .lines()
            .any(|l| l.starts_with("✗ mailbox oauth-refused") && l.contains("invalid_grant")),
        "{}",
        check.stdout
    );
    line_with(
        &check.stdout,
        &format!("✗ smtp 127.0.0.1:{}: AUTH refused", sink.port),
    );
    runs.push(check);
    // (`check` takes some 20 s on this path: the JSON format is run on it
    // by `run --once` below only.)
    append(&dovecot, "support", IMAP_LOGIN_PASSWORD, &message(5)).await;
    let ingest = trace_run(&bad, &["ingest"], &[], message(6).as_bytes());
    assert_eq!(ingest.code, 0, "{}", ingest.output());
    runs.push(ingest);
    let once = trace_run(&bad, &["run", "--once"], &[], b"");
    assert_eq!(once.code, 75, "{}", once.output());
    runs.push(once);
    runs.push(trace_run(
        &bad,
        &[&json[..], &["run", "--once"]].concat(),
        &[],
        b"",
    ));
    assert_eq!(
        sink.envelopes().len(),
        4,
        "nothing sent with a wrong password"
    );
    assert!(
        requests
            .lock()
            .unwrap()
            .iter()
            .any(|(path, body)| path == "/introspect" && body.contains(STALE_ACCESS_TOKEN)),
        "the stale access token reached Dovecot"
    );

    // A database that cannot be reached, its URL with a password.
    let unreachable = dir.path().join("unreachable.toml");
    std::fs::write(
        &unreachable,
        std::fs::read_to_string(&good).unwrap().replace(
            &format!("url = \"{database_url}\""),
            &format!("url = \"postgres://mailgate:{DB_PASSWORD}@127.0.0.1:1/mailgate\""),
        ),
    )
    .unwrap();
    let check = trace_run(&unreachable, &["check"], &[], b"");
    assert_eq!(check.code, 1, "{}", check.output());
    assert!(
        check
            .stdout
            .contains("✗ database postgres://mailgate:***@127.0.0.1:1/mailgate"),
        "{}",
        check.stdout
    );
    runs.push(check);
    runs.push(trace_run(&unreachable, &["run", "--once"], &[], b""));
    if let Some(db) = &pg {
        db.drop_pg().await;
    }

    // Nothing anywhere.
    let mut secrets: Vec<(String, String)> = [
        ("IMAP password", IMAP_LOGIN_PASSWORD),
        ("IMAP PLAIN password", IMAP_PLAIN_PASSWORD),
        ("SMTP password", SMTP_PASSWORD),
        ("OAuth client secret", OAUTH_CLIENT_SECRET),
        ("OAuth refresh token", REFRESH_TOKEN),
        ("API token", API_TOKEN),
        ("database password", DB_PASSWORD),
        ("wrong IMAP password", WRONG_IMAP_PASSWORD),
        ("wrong IMAP PLAIN password", WRONG_PLAIN_PASSWORD),
        ("wrong SMTP password", WRONG_SMTP_PASSWORD),
        ("wrong API token", WRONG_API_TOKEN),
        ("refused refresh token", REFUSED_REFRESH_TOKEN),
        ("stale refresh token", STALE_REFRESH_TOKEN),
        ("stale access token", STALE_ACCESS_TOKEN),
    ]
    .iter()
    .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
    .collect();
    let issued = issued.lock().unwrap().clone();
    assert!(issued.len() >= 4, "tokens were issued: {issued:?}");
    secrets.extend(
        issued
            .iter()
            .map(|t| (format!("issued OAuth token {t}"), t.clone())),
    );
    // What the protocols carry, encoded as they carry it.
    let mut encoded = vec![
        (
            "AUTHENTICATE PLAIN".to_owned(),
            b64(&format!("\0feature\0{IMAP_PLAIN_PASSWORD}")),
        ),
        (
            "wrong AUTHENTICATE PLAIN".to_owned(),
            b64(&format!("\0feature\0{WRONG_PLAIN_PASSWORD}")),
        ),
        (
            "SMTP AUTH PLAIN".to_owned(),
            b64(&format!("\0mailgate\0{SMTP_PASSWORD}")),
        ),
        (
            "wrong SMTP AUTH PLAIN".to_owned(),
            b64(&format!("\0mailgate\0{WRONG_SMTP_PASSWORD}")),
        ),
        ("SMTP AUTH LOGIN".to_owned(), b64(SMTP_PASSWORD)),
        ("wrong SMTP AUTH LOGIN".to_owned(), b64(WRONG_SMTP_PASSWORD)),
    ];
    for token in issued
        .iter()
        .filter(|t| t.starts_with("access"))
        .chain([&STALE_ACCESS_TOKEN.to_owned()])
    {
        encoded.push((
            format!("XOAUTH2 with {token}"),
            b64(&mailgate::source::oauth::xoauth2_response("other", token)),
        ));
    }
    // There was something to search: every command said something, and
    // the most verbose levels were on.
    for run in &runs {
        assert!(
            !run.output().trim().is_empty(),
            "{} printed nothing",
            run.label
        );
    }
    let all: String = runs.iter().map(Run::output).collect();
    assert!(all.contains("TRACE") && all.contains("DEBUG"));
    let found = leaks(&runs, &secrets, &encoded);
    assert!(
        found.is_empty(),
        "{} secret(s) in the output of mailgate at RUST_LOG=trace, the first:\n{}",
        found.len(),
        found[..found.len().min(30)].join("\n")
    );
}
