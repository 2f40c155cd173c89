//! The words of a ticket: closed sets (statuses, outcomes, policies) with
//! their string forms and labels per language, and the value types with
//! rules (`EmailAddress`, `TicketKey`, the vocabulary of severities,
//! products and request types). Depends on nothing else of the crate;
//! every other module may use it.

mod connection;
mod email;
mod erasure;
mod language;
mod named;
mod policy;
mod search;
pub mod slice;
mod status;
pub mod text;
mod ticket_key;
pub mod vocabulary;
mod webhook;

pub use connection::TlsMode;
pub use email::{EmailAddress, NotAnAddress, no_reply_match};
pub use erasure::TicketsOnErasure;
pub use language::Language;
pub use named::{Named, NotInSet, parse_named};
pub use policy::{FieldChangePolicy, SenderPolicy, SpamPolicy};
pub use search::SearchTerms;
pub use status::{AuthorRole, InboundOutcome, OutboxStatus, SourceKind, TicketStatus, Visibility};
pub use ticket_key::{TicketKey, valid_prefix};
pub use vocabulary::{Labels, Term, Terms, Vocabulary};
pub use webhook::{DeliveryStatus, WebhookEvent, WebhookFormat};
