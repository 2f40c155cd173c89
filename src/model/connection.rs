//! How a connection to a mail server is secured.

use crate::closed_set;

closed_set! {
    /// TLS for IMAP and SMTP connections (`tls` keys).
    pub enum TlsMode ("tls") {
        /// TLS from the first byte (IMAPS 993, SMTPS 465).
        Implicit = "implicit",
        /// Plain text upgraded by STARTTLS (RFC 2595, RFC 3207).
        StartTls = "starttls",
        /// Plain text: loopback hosts only, unless allowed.
        None = "none",
    }
}
