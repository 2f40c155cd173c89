//! Header values and identifiers: dates, `Received` lines, Message-IDs as
//! each client makes them, addresses and unstructured text.

use chrono::{DateTime, Duration, FixedOffset};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::SUPPORT_ADDRESS;
use crate::charset::Charset;
use crate::encode::encoded_words;
use crate::people::{Client, Customer};
use crate::rng::{alnum, hex, pick, uuid};

pub(crate) fn rfc2822(date: DateTime<FixedOffset>) -> String {
    date.format("%a, %-d %b %Y %H:%M:%S %z").to_string()
}

pub(crate) fn received(
    rng: &mut ChaCha8Rng,
    client: Client,
    domain: &str,
    date: DateTime<FixedOffset>,
) -> String {
    let relay = match client {
        Client::Gmail => format!(
            "mail-{}{}-f{}.google.com",
            pick(rng, &["wr", "ej", "lf", "pl"]),
            rng.gen_range(1..3),
            rng.gen_range(41..99)
        ),
        Client::Outlook => format!(
            "mail-{}{}.outbound.protection.outlook.com",
            pick(rng, &["db8eur05", "am0eur02", "par02", "nam12"]),
            pick(rng, &["on2101", "on2084", "obe"])
        ),
        _ => format!("smtp.{domain}"),
    };
    let queue_id = format!("4Z{}", alnum(rng, 10));
    let at = date.with_timezone(&FixedOffset::east_opt(3600).expect("a valid offset"))
        + Duration::seconds(rng.gen_range(1..5));
    format!(
        "from {relay} ({relay} [{}.{}])\n\tby mx1.example.com (Postfix) with ESMTPS id {queue_id}\n\tfor <{SUPPORT_ADDRESS}>; {}",
        pick(rng, &["192.0.2", "198.51.100", "203.0.113"]),
        rng.gen_range(2..250),
        rfc2822(at)
    )
}

/// A Message-ID as the client makes them (without angle brackets).
pub(crate) fn message_id(
    rng: &mut ChaCha8Rng,
    customer: &Customer,
    date: DateTime<FixedOffset>,
) -> String {
    let domain = &customer.domain;
    match customer.client {
        Client::Gmail => format!("CA{}@mail.gmail.com", alnum(rng, 44)),
        Client::Outlook if customer.exchange_online => format!(
            "{}@{}{}MB{}.{}.prod.outlook.com",
            hex(rng, 32).to_uppercase(),
            pick(rng, &["PR3PR", "DB9PR", "AM6PR", "BN8PR"]),
            rng.gen_range(10..99),
            rng.gen_range(1000..9999),
            pick(rng, &["eurprd01", "eurprd04", "namprd11"])
        ),
        Client::Outlook => format!(
            "00{}01db{}${}${}$@{domain}",
            hex(rng, 2),
            hex(rng, 4),
            hex(rng, 8),
            hex(rng, 8)
        ),
        Client::Thunderbird => format!("{}@{domain}", uuid(rng)),
        Client::AppleMail => format!("{}@{domain}", uuid(rng).to_uppercase()),
        Client::Zimbra => format!(
            "{}.{}.{}.JavaMail.zimbra@{domain}",
            rng.gen_range(1_000_000_000u64..9_999_999_999),
            rng.gen_range(1_000_000..9_999_999),
            date.timestamp_millis() + rng.gen_range(0..1000)
        ),
    }
}

pub(crate) fn canonical_id(id: &str) -> String {
    mailgate::intake::MessageId::parse(id).map_or_else(|| id.to_owned(), |m| m.to_string())
}

/// An address with its display name, encoded when it is not ASCII.
pub(crate) fn mailbox(name: &str, email: &str, charset: Charset, quote: bool) -> String {
    let name = charset.prepare(name);
    if !name.is_ascii() {
        format!("{} <{email}>", encoded_words(&name, charset, false))
    } else if quote || name.contains(|c: char| "()<>[]:;@\\,.\"'".contains(c)) {
        format!(
            "\"{}\" <{email}>",
            name.replace('\\', "\\\\").replace('"', "\\\"")
        )
    } else {
        format!("{name} <{email}>")
    }
}

/// Unstructured header text: as is when ASCII, else RFC 2047 encoded words.
pub(crate) fn header_text(text: &str, charset: Charset, b: bool) -> String {
    if text.is_ascii() {
        text.to_owned()
    } else {
        encoded_words(text, charset, b)
    }
}
