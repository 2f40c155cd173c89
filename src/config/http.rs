//! `[http]`: the public listener (tracking page, API), the operators'
//! listener (health, metrics) and the team API's tokens.

use std::net::SocketAddr;
use std::time::Duration;

use super::checker::Checker;
use super::raw::RawHttp;

/// A team API token: who it is, and the SHA-256 of the secret.
#[derive(Debug, Clone)]
pub struct ApiToken {
    pub name: String,
    pub sha256: [u8; 32],
}

/// What one listener grants a client: a server on the internet must not
/// let slow or numerous clients hold it (slowloris and its kin).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Connections served at once; the next ones wait in the kernel's
    /// accept queue.
    pub max_connections: usize,
    /// Time a client has to send a request's headers, and that an idle
    /// kept-alive connection stays open.
    pub header_timeout: Duration,
    /// Time from the headers to the answer, the body's upload included.
    pub request_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        http(&mut Checker::default(), &RawHttp::default()).limits
    }
}

pub(super) struct HttpSettings {
    pub listen: SocketAddr,
    pub ops_listen: SocketAddr,
    pub api_tokens: Vec<ApiToken>,
    pub limits: ConnectionLimits,
}

fn address(c: &mut Checker, key: &str, text: &str, fallback: u16) -> SocketAddr {
    text.parse().unwrap_or_else(|_| {
        c.problem(key, format!("{text:?} is not an address:port"));
        SocketAddr::from(([127, 0, 0, 1], fallback))
    })
}

pub(super) fn http(c: &mut Checker, raw: &RawHttp) -> HttpSettings {
    let mut api_tokens = Vec::new();
    for (i, token) in raw.api_tokens.iter().enumerate() {
        let mut sha256 = [0u8; 32];
        if token.name.trim().is_empty() {
            c.problem(format!("http.api_tokens[{i}].name"), "must not be empty");
        }
        match hex::decode_to_slice(token.sha256.trim(), &mut sha256) {
            Ok(()) => api_tokens.push(ApiToken {
                name: token.name.trim().to_owned(),
                sha256,
            }),
            Err(_) => c.problem(
                format!("http.api_tokens[{i}].sha256"),
                "must be 64 hex digits, the SHA-256 of the token (see `mailgate api-token`)",
            ),
        }
    }
    HttpSettings {
        listen: address(c, "http.listen", &raw.listen, 8080),
        ops_listen: address(c, "http.ops_listen", &raw.ops_listen, 8081),
        api_tokens,
        limits: limits(c, raw),
    }
}

fn limits(c: &mut Checker, raw: &RawHttp) -> ConnectionLimits {
    if raw.max_connections == 0 {
        c.problem("http.max_connections", "must be at least 1");
    }
    let mut timeout = |key: &str, text: &str, fallback: u64| {
        let duration = c.duration(key, text, Duration::from_secs(fallback));
        if duration < Duration::from_secs(1) {
            c.problem(key, "must be at least 1 second");
        }
        duration
    };
    ConnectionLimits {
        max_connections: raw.max_connections.max(1),
        header_timeout: timeout("http.header_timeout", &raw.header_timeout, 10),
        request_timeout: timeout("http.request_timeout", &raw.request_timeout, 120),
    }
}
