//! What to do when a server cannot be reached or its TLS handshake fails:
//! the hints IMAP and SMTP items share.

/// What to do when nothing answers at host:port.
pub(super) fn connect_hint(text: &str, host: &str, port: u16, ports: &str) -> String {
    let text = text.to_lowercase();
    if text.contains("refused") {
        format!("nothing listens on {host}:{port}: check host and port ({ports})")
    } else if text.contains("lookup") || text.contains("not known") || text.contains("resolve") {
        format!("host name {host} not found: check host")
    } else {
        format!("{host}:{port} cannot be reached: check host, port and firewalls")
    }
}

/// What to do about a failed TLS handshake. `remedy` says how to trust a
/// private CA where this connection can (`ca_file` for IMAP).
pub fn tls_hint(text: &str, host: &str, remedy: &str) -> String {
    let lower = text.to_lowercase();
    if lower.contains("unknownissuer")
        || lower.contains("unknown issuer")
        || lower.contains("unknownca")
    {
        format!("certificate not trusted: {remedy}")
    } else if lower.contains("notvalidforname") || lower.contains("not valid for name") {
        format!(
            "the certificate is not issued for {host}: connect with the name on the certificate, or fix the certificate"
        )
    } else if lower.contains("expired") {
        "the server certificate has expired: renew it".to_owned()
    } else if lower.contains("not valid yet") || lower.contains("notvalidyet") {
        "the server certificate is not valid yet: check the clocks".to_owned()
    } else if lower.contains("ca_file") {
        "ca_file must hold PEM certificates".to_owned()
    } else if lower.contains("corrupt message")
        || lower.contains("invalidcontenttype")
        || lower.contains("wrong version")
        || lower.contains("invalidmessage")
    {
        "the server does not speak TLS on this port: check tls and port".to_owned()
    } else {
        "check tls and port, and the server certificate".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_failures_are_named() {
        for (error, start) in [
            (
                "invalid peer certificate: UnknownIssuer",
                "certificate not trusted",
            ),
            (
                "invalid peer certificate: certificate not valid for name \"x\"; certificate is only valid for y",
                "the certificate is not issued for h",
            ),
            (
                "invalid peer certificate: certificate expired: verification time 1",
                "the server certificate has expired",
            ),
            (
                "received corrupt message of type InvalidContentType",
                "the server does not speak TLS",
            ),
        ] {
            let hint = tls_hint(error, "h", "REMEDY");
            assert!(hint.starts_with(start), "{error} → {hint}");
        }
    }
}
