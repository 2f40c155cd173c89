//! XOAUTH2 access tokens against a token endpoint served on loopback by the
//! test: the refresh grant, the rotated refresh token saved, the cache, a
//! refused refresh token, and tokens from a file or a command.

use std::sync::{Arc, Mutex};

use mailgate::config::Secret;
use mailgate::source::oauth::{OAuthError, TokenSource, TokenSourceSettings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A token endpoint that answers each request with the next scripted
/// (status, JSON body) and records the form bodies it received.
async fn token_endpoint(script: Vec<(u16, String)>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    let received = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&received);
    tokio::spawn(async move {
        for (status, body) in script {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            // Read the head, then as many body bytes as Content-Length says.
            loop {
                let n = stream.read(&mut buf).await.unwrap();
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request).into_owned();
                if let Some(head_end) = text.find("\r\n\r\n") {
                    let length = text[..head_end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap())
                        })
                        .unwrap_or(0);
                    if request.len() >= head_end + 4 + length || n == 0 {
                        log.lock().unwrap().push(text[head_end + 4..].to_owned());
                        break;
                    }
                }
            }
            let reply = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(reply.as_bytes()).await.unwrap();
            let _ = stream.shutdown().await;
        }
    });
    (url, received)
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
    assert_eq!(received.lock().unwrap().len(), 1);

    // After the server refused it, a new one is fetched with the new refresh token.
    tokens.invalidate().await;
    assert_eq!(tokens.access_token().await.unwrap().expose(), "access-2");
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
