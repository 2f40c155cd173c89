//! A deterministic generator of realistic support mail, each message with
//! what it should become under the rules of `fixtures/intake/mailgate.toml`
//! (the products Atlas, Helios, Nova and Orbit, the built-in severities and
//! request types, `support@example.com` and `feature@example.com` as our
//! own addresses).
//!
//! French and English customers write from Gmail, Outlook, Thunderbird,
//! Apple Mail and Zimbra: plain, `multipart/alternative` and HTML-only
//! bodies in UTF-8, ISO-8859-1 or Windows-1252, sent 8bit, quoted-printable
//! or base64; fields as subject tags (`[Gravité : haute]`, `[Atlas]`), body
//! keyword lines (`Produit : Nova`), plus-addressing
//! (`support+atlas@example.com`) or `feature@example.com`; attachments of a
//! few KB to a few MB; replies quoting an earlier message of the same set
//! (`In-Reply-To` names it); auto-replies (RFC 3834 headers, Outlook
//! subjects) and bounces (`multipart/report` from MAILER-DAEMON, qmail).
//!
//! Pure: everything happens in memory, and the same seed and count always
//! give the same bytes. The chaos suite and the benchmark use it through
//! `mailgate-gen`.
//!
//! One job a file: [`Mix`] says what a set is made of, `plan` turns it into
//! a kind, a sender and a parent for every index, and [`Generator`] renders
//! each message from its own random stream (`person` for customers, with
//! `ticket`, `reply`, `fields`, `body`, `html`, `attachments` and `render`;
//! `auto_reply`, `bounce` and `no_sender` for the others), over the MIME
//! pieces of `mime`, `charset`, `encode` and `headers`. `vocab` holds the
//! words and sentences, `rng` the draws everything shares. [`Expect`] is what
//! a message should become; `corpus` is what `mailgate-gen` writes.

mod attachments;
mod auto_reply;
mod body;
mod bounce;
mod charset;
mod corpus;
mod encode;
mod expect;
mod fields;
mod generator;
mod headers;
mod html;
mod mime;
mod mix;
mod no_sender;
mod people;
mod person;
mod plan;
mod render;
mod reply;
mod rng;
mod ticket;
mod vocab;

pub use corpus::{Manifest, ManifestEntry, file_name, mbox_entry};
pub use expect::Expect;
pub use generator::{Generated, Generator, generate};
pub use mix::Mix;

/// The support address every message is sent to (plus-addressed variants
/// included).
pub const SUPPORT_ADDRESS: &str = "support@example.com";
