//! OAuth 2.0 access tokens for IMAP XOAUTH2 (Microsoft 365, Gmail): from a
//! refresh token exchanged at the provider's token endpoint, from a file, or
//! from a command's output. A rotated refresh token is saved at once:
//! providers invalidate the old one, and a gateway that forgets the new one
//! stops working when the old one expires.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;
use tracing::{info, warn};

use crate::config::{Secret, TokenSourceSettings};

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error(
        "token endpoint refused the refresh token ({0}): it may have expired or been revoked; get a new one and write it to the refresh token file"
    )]
    Refused(String),
    #[error("token endpoint: {0}")]
    Endpoint(String),
    #[error("{0}: {1}")]
    File(PathBuf, std::io::Error),
    #[error("token command failed: {0}")]
    Command(String),
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<String>,
}

/// Hands out access tokens, refreshing them before they expire.
#[derive(Debug)]
pub struct TokenSource {
    settings: TokenSourceSettings,
    cached: Mutex<Option<(Secret, Instant)>>,
    /// When the current access token expires, in Unix seconds (0: unknown),
    /// for the metrics.
    expiry: std::sync::atomic::AtomicU64,
    http: reqwest::Client,
}

/// Refresh a little before the provider's expiry, so a token never dies
/// between being handed out and being used.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

fn read_secret(path: &Path) -> Result<Secret, OAuthError> {
    let text = std::fs::read_to_string(path).map_err(|e| OAuthError::File(path.to_owned(), e))?;
    Ok(Secret::new(text.trim().to_owned()))
}

/// Replaces a file's content atomically (write beside it, then rename),
/// readable by its owner only: a crash never leaves a half-written token.
fn write_secret(path: &Path, value: &str) -> Result<(), OAuthError> {
    let tmp = path.with_extension("tmp");
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(value.as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| OAuthError::File(path.to_owned(), e))
}

impl TokenSource {
    pub fn new(settings: TokenSourceSettings) -> Self {
        TokenSource {
            settings,
            cached: Mutex::new(None),
            expiry: std::sync::atomic::AtomicU64::new(0),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap_or_default(),
        }
    }

    /// A valid access token.
    pub async fn access_token(&self) -> Result<Secret, OAuthError> {
        match &self.settings {
            TokenSourceSettings::File(path) => read_secret(path),
            TokenSourceSettings::Command(command) => run_command(command).await,
            TokenSourceSettings::Refresh { .. } => {
                let mut cached = self.cached.lock().await;
                if let Some((token, valid_until)) = cached.as_ref()
                    && Instant::now() < *valid_until
                {
                    return Ok(token.clone());
                }
                let (token, valid_until) = self.refresh().await?;
                *cached = Some((token.clone(), valid_until));
                Ok(token)
            }
        }
    }

    /// When the access token last obtained by refresh expires, in Unix
    /// seconds.
    pub fn expiry_unix(&self) -> Option<u64> {
        match self.expiry.load(std::sync::atomic::Ordering::Relaxed) {
            0 => None,
            at => Some(at),
        }
    }

    /// Forgets the cached token (after the server refused it).
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }

    async fn refresh(&self) -> Result<(Secret, Instant), OAuthError> {
        let TokenSourceSettings::Refresh {
            token_url,
            client_id,
            client_secret,
            refresh_token_file,
            scope,
        } = &self.settings
        else {
            unreachable!("refresh is only called for the refresh grant");
        };
        let refresh_token = read_secret(refresh_token_file)?;
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
            ("client_id", client_id.as_str()),
        ];
        if let Some(secret) = client_secret {
            form.push(("client_secret", secret.expose()));
        }
        if let Some(scope) = scope {
            form.push(("scope", scope.as_str()));
        }
        let response = self
            .http
            .post(token_url)
            .form(&form)
            .send()
            .await
            .map_err(|e| OAuthError::Endpoint(e.without_url().to_string()))?;
        let status = response.status();
        if status.is_client_error() {
            // The body names the error (`invalid_grant`); it carries no secret.
            let body = response.text().await.unwrap_or_default();
            return Err(OAuthError::Refused(format!(
                "HTTP {status}: {}",
                crate::model::text::truncate_chars(&body, 200)
            )));
        }
        if !status.is_success() {
            return Err(OAuthError::Endpoint(format!("HTTP {status}")));
        }
        let token: TokenResponse = response
            .json()
            .await
            .map_err(|e| OAuthError::Endpoint(format!("unreadable answer: {}", e.without_url())))?;
        if let Some(rotated) = token
            .refresh_token
            .as_deref()
            .filter(|r| *r != refresh_token.expose())
        {
            write_secret(refresh_token_file, rotated)?;
            info!(file = %refresh_token_file.display(), "saved the rotated refresh token");
        }
        let lifetime = Duration::from_secs(token.expires_in.unwrap_or(3600));
        let valid_until = Instant::now() + lifetime.saturating_sub(EXPIRY_MARGIN);
        let expires = std::time::SystemTime::now() + lifetime;
        if let Ok(unix) = expires.duration_since(std::time::UNIX_EPOCH) {
            self.expiry
                .store(unix.as_secs(), std::sync::atomic::Ordering::Relaxed);
        }
        Ok((Secret::new(token.access_token), valid_until))
    }
}

async fn run_command(command: &str) -> Result<Secret, OAuthError> {
    let output = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| OAuthError::Command(e.to_string()))?;
    if !output.status.success() {
        warn!(status = ?output.status.code(), "token command failed");
        return Err(OAuthError::Command(format!(
            "exit status {:?}",
            output.status.code()
        )));
    }
    let token = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if token.is_empty() {
        return Err(OAuthError::Command("printed nothing".into()));
    }
    Ok(Secret::new(token))
}

/// The SASL XOAUTH2 initial response (before base64, which the IMAP client
/// adds): `user=<user>^Aauth=Bearer <token>^A^A`.
pub fn xoauth2_response(user: &str, token: &str) -> String {
    format!("user={user}\x01auth=Bearer {token}\x01\x01")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xoauth2_initial_response() {
        assert_eq!(
            xoauth2_response("a@b.com", "tok"),
            "user=a@b.com\u{1}auth=Bearer tok\u{1}\u{1}"
        );
    }

    #[test]
    fn secrets_are_replaced_atomically_and_privately() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("refresh");
        write_secret(&path, "one").unwrap();
        write_secret(&path, "two").unwrap();
        assert_eq!(read_secret(&path).unwrap().expose(), "two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
}
