//! XOAUTH2 access tokens against a token endpoint served on loopback by the
//! test: the refresh grant, the rotated refresh token saved, the cache, a
//! refused refresh token, and tokens from a file or a command.

use std::sync::{Arc, Mutex};

use crate::support::http::http_server;
use mailgate::config::Secret;
use mailgate::config::TokenSourceSettings;
use mailgate::source::oauth::{OAuthError, TokenSource};

/// A token endpoint answering each request with the next scripted
/// (status, body); returns its URL and the form bodies received.
async fn token_endpoint(script: Vec<(u16, String)>) -> (String, Arc<Mutex<Vec<String>>>) {
    let script = Mutex::new(script.into_iter());
    let (base, received) = http_server(Box::new(move |_, _| {
        script.lock().unwrap().next().unwrap_or((500, "{}".into()))
    }))
    .await;
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let view = Arc::clone(&bodies);
    // Mirror the bodies for the assertions below, in request order.
    tokio::spawn(async move {
        loop {
            let all: Vec<String> = received
                .lock()
                .unwrap()
                .iter()
                .map(|(_, b)| b.clone())
                .collect();
            *view.lock().unwrap() = all;
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    });
    (format!("{base}/token"), bodies)
}

fn refresh_settings(url: &str, file: &std::path::Path) -> TokenSourceSettings {
    TokenSourceSettings::Refresh {
        token_url: url.to_owned(),
        client_id: "mailgate-client".into(),
        client_secret: Some(Secret::new("client-secret")),
        refresh_token_file: file.to_owned(),
        scope: Some("https://outlook.office.com/IMAP.AccessAsUser.All offline_access".into()),
    }
}

#[tokio::test]
async fn refresh_grant_saves_the_rotated_refresh_token_and_caches_the_access_token() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("refresh-token");
    std::fs::write(&file, "refresh-1\n").unwrap();
    let (url, received) = token_endpoint(vec![
        (200, r#"{"access_token":"access-1","expires_in":3600,"refresh_token":"refresh-2","token_type":"Bearer"}"#.into()),
        (200, r#"{"access_token":"access-2","expires_in":3600}"#.into()),
    ])
    .await;
    let tokens = TokenSource::new(refresh_settings(&url, &file));

    assert_eq!(tokens.access_token().await.unwrap().expose(), "access-1");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap().trim(),
        "refresh-2",
        "rotated token saved"
    );
    // Cached until it nears expiry: no second request.
    assert_eq!(tokens.access_token().await.unwrap().expose(), "access-1");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert_eq!(received.lock().unwrap().len(), 1);

    // After the server refused it, a new one is fetched with the new refresh token.
    tokens.invalidate().await;
    assert_eq!(tokens.access_token().await.unwrap().expose(), "access-2");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let bodies = received.lock().unwrap().clone();
    assert!(
        bodies[0].contains("grant_type=refresh_token")
            && bodies[0].contains("refresh_token=refresh-1"),
        "{}",
        bodies[0]
    );
    assert!(
        bodies[0].contains("client_id=mailgate-client")
            && bodies[0].contains("client_secret=client-secret")
    );
    assert!(
        bodies[1].contains("refresh_token=refresh-2"),
        "the rotated token is the one used next: {}",
        bodies[1]
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap().trim(),
        "refresh-2",
        "unchanged when not rotated"
    );
}

#[tokio::test]
async fn a_refused_refresh_token_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("refresh-token");
    std::fs::write(&file, "stale").unwrap();
    let (url, _) = token_endpoint(vec![(
        400,
        r#"{"error":"invalid_grant","error_description":"AADSTS70000: expired"}"#.into(),
    )])
    .await;
    let tokens = TokenSource::new(refresh_settings(&url, &file));
    let error = tokens.access_token().await.unwrap_err();
    assert!(matches!(error, OAuthError::Refused(_)), "{error}");
    let text = error.to_string();
    assert!(
        text.contains("invalid_grant") && text.contains("refresh token file"),
        "{text}"
    );
    assert!(
        !text.contains("client-secret") && !text.contains("stale"),
        "secret in the message: {text}"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "stale",
        "left as it was"
    );
}

#[tokio::test]
async fn tokens_from_a_file_or_a_command() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("access");
    std::fs::write(&file, "from-file\n").unwrap();
    let tokens = TokenSource::new(TokenSourceSettings::File(file.clone()));
    assert_eq!(tokens.access_token().await.unwrap().expose(), "from-file");
    std::fs::write(&file, "updated\n").unwrap();
    assert_eq!(
        tokens.access_token().await.unwrap().expose(),
        "updated",
        "read at every connection"
    );

    let tokens = TokenSource::new(TokenSourceSettings::Command(
        "printf ' from-command\\n'".into(),
    ));
    assert_eq!(
        tokens.access_token().await.unwrap().expose(),
        "from-command"
    );
    let failing = TokenSource::new(TokenSourceSettings::Command("exit 3".into()));
    assert!(matches!(
        failing.access_token().await,
        Err(OAuthError::Command(_))
    ));
}

/// The whole flow against Dovecot: its oauth2 passdb asks our loopback
/// introspection endpoint whether the token mailgate got from our token
/// endpoint is valid.
// Two threads: the endpoints keep answering while the test waits for the
// mailgate process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xoauth2_login_to_dovecot_with_a_refreshed_token() {
    if !crate::support::dovecot_available("xoauth2") {
        return;
    }
    use crate::support::*;
    // The token endpoint issues access-N and rotates the refresh token;
    // introspection accepts only the latest access token, for user support.
    let issued = Arc::new(Mutex::new(String::new()));
    let (issuer, checker) = (Arc::clone(&issued), Arc::clone(&issued));
    let counter = Arc::new(Mutex::new(0));
    let (base, requests) = http_server(Box::new(move |path, body| {
        if path == "/token" {
            let mut n = counter.lock().unwrap();
            *n += 1;
            let access = format!("access-{n}");
            *issuer.lock().unwrap() = access.clone();
            (200, format!(r#"{{"access_token":"{access}","expires_in":3600,"refresh_token":"refresh-{n}"}}"#))
        } else {
            let valid = !checker.lock().unwrap().is_empty() && body.contains(&format!("token={}", checker.lock().unwrap()));
            (200, if valid { r#"{"active":true,"username":"support"}"#.into() } else { r#"{"active":false}"#.into() })
        }
    }))
    .await;
    let dovecot = Dovecot::start_with_env(&[(
        "DOVECOT_OAUTH2_INTROSPECTION_URL",
        &format!("{base}/introspect"),
    )]);
    dovecot.append("support", "INBOX", &[message(1)]).await;

    let dir = tempfile::tempdir().unwrap();
    let refresh = dir.path().join("refresh-token");
    std::fs::write(&refresh, "refresh-0\n").unwrap();
    let mailbox = format!(
        "[[mailboxes]]\nname = \"m365\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nusername = \"support\"\nauth = \"xoauth2\"\ntimeout = \"20s\"\noauth_token_url = \"{base}/token\"\noauth_client_id = \"client\"\noauth_client_secret = \"very-secret-value\"\noauth_refresh_token_file = \"{}\"\n",
        dovecot.port,
        refresh.display()
    );
    let config = write_config(dir.path(), &mailbox);
    let out = mailgate(&config, &["run", "--once"])
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        db_counts(dir.path()).await.0,
        1,
        "{}",
        stderr
            .lines()
            .filter(|l| l.contains("mailgate"))
            .take(40)
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(dovecot.count("support", "INBOX").await, 0);
    assert_eq!(
        std::fs::read_to_string(&refresh).unwrap().trim(),
        "refresh-1",
        "rotated refresh token saved"
    );
    assert!(
        dovecot.log().contains("method=XOAUTH2"),
        "{}",
        dovecot.log()
    );
    for secret in ["access-1", "refresh-0", "refresh-1", "very-secret-value"] {
        assert!(
            !stderr.contains(secret),
            "{secret} appears in the trace logs"
        );
    }
    assert!(
        requests
            .lock()
            .unwrap()
            .iter()
            .any(|(p, _)| p == "/introspect")
    );

    // A token the server refuses: a clear error, nothing filed, mail kept.
    dovecot.append("support", "INBOX", &[message(2)]).await;
    *issued.lock().unwrap() = "nothing-valid".into();
    let config_text = std::fs::read_to_string(&config)
        .unwrap()
        .replace(&format!("{base}/token"), &format!("{base}/token-broken"));
    std::fs::write(&config, config_text).unwrap();
    let (code, stderr) = run_once(&config);
    assert_eq!(code, 75, "{stderr}");
    assert!(stderr.contains("login refused"), "{stderr}");
    assert_eq!(dovecot.count("support", "INBOX").await, 1);
}
