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

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, FixedOffset, TimeZone, Timelike, Utc};
use rand::seq::SliceRandom;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::intake::Language;

/// The support address every message is sent to (plus-addressed variants
/// included).
pub const SUPPORT_ADDRESS: &str = "support@example.com";

// ---------------------------------------------------------------------------
// Public API

/// What a generated set is made of. Shares are of the whole set and are
/// met exactly (rounded), not drawn message by message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mix {
    /// Customers' messages (tickets and replies) with at least one
    /// attachment.
    pub attachments: f64,
    /// Customers' messages with an HTML body and no text alternative.
    pub html_only: f64,
    /// Auto-replies and bounces (three to two).
    pub robots: f64,
    /// Replies to an earlier message of the set, to be filed as comments.
    pub replies: f64,
    /// Messages without any sender address, to be rejected.
    pub no_sender: f64,
    /// Customers writing in French (the others write in English).
    pub french: f64,
    /// Attachment sizes, in bytes, drawn log-uniformly in this range.
    pub min_attachment: usize,
    pub max_attachment: usize,
}

impl Mix {
    /// The benchmark's mix: ~20% with attachments of 2 KiB to 2 MiB, ~5%
    /// HTML-only, ~5% robots, ~10% replies, French and English half and half.
    pub fn standard() -> Self {
        Mix {
            attachments: 0.20,
            html_only: 0.05,
            robots: 0.05,
            replies: 0.10,
            no_sender: 0.0,
            french: 0.5,
            min_attachment: 2 * 1024,
            max_attachment: 2 * 1024 * 1024,
        }
    }

    /// The standard mix with attachments of at most 64 KiB: quick runs.
    pub fn light() -> Self {
        Mix {
            max_attachment: 64 * 1024,
            ..Mix::standard()
        }
    }

    /// The standard mix plus 2% of messages without a sender (rejected).
    pub fn chaos() -> Self {
        Mix {
            no_sender: 0.02,
            ..Mix::standard()
        }
    }

    /// The names [`Mix::named`] knows.
    pub const NAMES: &'static [&'static str] = &["standard", "light", "chaos"];

    pub fn named(name: &str) -> Option<Self> {
        match name {
            "standard" => Some(Mix::standard()),
            "light" => Some(Mix::light()),
            "chaos" => Some(Mix::chaos()),
            _ => None,
        }
    }
}

impl Default for Mix {
    fn default() -> Self {
        Mix::standard()
    }
}

/// What a message should become.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Expect {
    /// A new ticket with these fields (canonical vocabulary names).
    Ticket {
        severity: String,
        products: Vec<String>,
        request_type: String,
        language: Language,
    },
    /// A comment on the ticket of message `of` (an index of the same set):
    /// intake decides it as a ticket, the store threads it by `In-Reply-To`.
    Comment { of: usize },
    /// A robot's message: `auto-reply` or `bounce`.
    Ignored { reason: &'static str },
    /// Refused: `no-sender`.
    Rejected { reason: &'static str },
}

impl Expect {
    /// `ticket`, `comment`, `ignored` or `rejected`.
    pub fn class(&self) -> &'static str {
        match self {
            Expect::Ticket { .. } => "ticket",
            Expect::Comment { .. } => "comment",
            Expect::Ignored { .. } => "ignored",
            Expect::Rejected { .. } => "rejected",
        }
    }
}

/// One generated message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Generated {
    /// Position in the set, from 0 (`mailgate-gen` names it
    /// `{index + 1:06}.eml`).
    pub index: usize,
    /// Its Message-ID in canonical form (no angle brackets, domain in lower
    /// case), as intake reads it.
    pub message_id: String,
    /// For a reply, the index of the message its `In-Reply-To` names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<usize>,
    /// The decoded subject.
    pub subject: String,
    /// The envelope sender (`MAILER-DAEMON` for bounces and messages
    /// without a sender), for mbox separator lines.
    pub sender: String,
    pub date: DateTime<FixedOffset>,
    /// Files attached (none inline).
    pub attachments: usize,
    pub html_only: bool,
    /// The MIME structure, for people: `multipart/mixed [multipart/alternative]
    /// windows-1252 quoted-printable`.
    pub mime: String,
    /// The message, CRLF line endings.
    #[serde(skip)]
    pub raw: Vec<u8>,
    pub expect: Expect,
}

/// Generates `count` messages. The same seed and count give the same bytes.
pub fn generate(seed: u64, count: usize, mix: &Mix) -> Vec<Generated> {
    Generator::new(seed, count, mix).collect()
}

/// The messages of [`generate`] one at a time, holding only what later
/// replies need of earlier messages (not their attachments).
pub struct Generator {
    seed: u64,
    mix: Mix,
    slots: Vec<Slot>,
    customers: Vec<Customer>,
    sent: Vec<Option<Sent>>,
    next: usize,
}

impl Generator {
    pub fn new(seed: u64, count: usize, mix: &Mix) -> Self {
        let mut mix = mix.clone();
        mix.min_attachment = mix.min_attachment.max(1);
        mix.max_attachment = mix.max_attachment.max(mix.min_attachment);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (slots, customers) = plan(&mut rng, count, &mix);
        Generator {
            seed,
            mix,
            slots,
            customers,
            sent: vec![None; count],
            next: 0,
        }
    }
}

impl Iterator for Generator {
    type Item = Generated;

    fn next(&mut self) -> Option<Generated> {
        let index = self.next;
        if index >= self.slots.len() {
            return None;
        }
        self.next += 1;
        // Each message has its own stream: it depends on the seed, its index
        // and the plan only.
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(index as u64 + 1);
        let generated = match self.slots[index].kind {
            Kind::Ticket | Kind::Reply => {
                let (generated, sent) = self.person(&mut rng, index);
                self.sent[index] = Some(sent);
                generated
            }
            Kind::AutoReply => self.auto_reply(&mut rng, index),
            Kind::Bounce => self.bounce(&mut rng, index),
            Kind::NoSender => self.no_sender(&mut rng, index),
        };
        Some(generated)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.slots.len() - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Generator {}

/// The file name `mailgate-gen` gives a message: `000001.eml` for index 0.
pub fn file_name(index: usize) -> String {
    format!("{:06}.eml", index + 1)
}

/// A message as an mbox entry (mboxrd): a `From ` separator line, the
/// message with LF line endings and `>From ` escaping, an empty line.
pub fn mbox_entry(message: &Generated) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.raw.len() + 128);
    let when = message.date.with_timezone(&Utc);
    out.extend_from_slice(
        format!(
            "From {} {}\n",
            message.sender,
            when.format("%a %b %e %H:%M:%S %Y")
        )
        .as_bytes(),
    );
    let text = &message.raw;
    let mut start = 0;
    while start < text.len() {
        let end = text[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(text.len(), |p| start + p + 1);
        let mut line = &text[start..end];
        line = line.strip_suffix(b"\n").unwrap_or(line);
        line = line.strip_suffix(b"\r").unwrap_or(line);
        let quotes = line.iter().take_while(|&&b| b == b'>').count();
        if line[quotes..].starts_with(b"From ") {
            out.push(b'>');
        }
        out.extend_from_slice(line);
        out.push(b'\n');
        start = end;
    }
    out.push(b'\n');
    out
}

/// The manifest `mailgate-gen` writes beside the messages.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub seed: u64,
    pub count: usize,
    pub mix: Mix,
    /// Messages by expected outcome: `ticket`, `comment`, `ignored`,
    /// `rejected`.
    pub totals: BTreeMap<&'static str, usize>,
    /// Ignored and rejected messages by reason.
    pub reasons: BTreeMap<&'static str, usize>,
    pub with_attachments: usize,
    pub attachments: usize,
    pub html_only: usize,
    pub total_bytes: u64,
    pub messages: Vec<ManifestEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ManifestEntry {
    pub file: String,
    pub index: usize,
    pub size: usize,
    pub message_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<usize>,
    pub attachments: usize,
    pub mime: String,
    pub expect: Expect,
}

impl Manifest {
    pub fn new(seed: u64, mix: &Mix) -> Self {
        Manifest {
            seed,
            count: 0,
            mix: mix.clone(),
            totals: ["ticket", "comment", "ignored", "rejected"]
                .into_iter()
                .map(|k| (k, 0))
                .collect(),
            reasons: BTreeMap::new(),
            with_attachments: 0,
            attachments: 0,
            html_only: 0,
            total_bytes: 0,
            messages: Vec::new(),
        }
    }

    /// Records a message stored as `file`.
    pub fn push(&mut self, file: String, message: &Generated) {
        self.count += 1;
        *self.totals.entry(message.expect.class()).or_default() += 1;
        if let Expect::Ignored { reason } | Expect::Rejected { reason } = message.expect {
            *self.reasons.entry(reason).or_default() += 1;
        }
        self.with_attachments += usize::from(message.attachments > 0);
        self.attachments += message.attachments;
        self.html_only += usize::from(message.html_only);
        self.total_bytes += message.raw.len() as u64;
        self.messages.push(ManifestEntry {
            file,
            index: message.index,
            size: message.raw.len(),
            message_id: message.message_id.clone(),
            in_reply_to: message.in_reply_to,
            attachments: message.attachments,
            mime: message.mime.clone(),
            expect: message.expect.clone(),
        });
    }
}

// ---------------------------------------------------------------------------
// The plan: what each index is, who writes it, what it replies to.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ticket,
    Reply,
    AutoReply,
    Bounce,
    NoSender,
}

#[derive(Debug, Clone)]
struct Slot {
    kind: Kind,
    html_only: bool,
    attachments: usize,
    customer: usize,
    parent: Option<usize>,
    root: Option<usize>,
}

fn plan(rng: &mut ChaCha8Rng, count: usize, mix: &Mix) -> (Vec<Slot>, Vec<Customer>) {
    let share = |p: f64| -> usize { (count as f64 * p.clamp(0.0, 1.0)).round() as usize };
    let robots = share(mix.robots).min(count);
    let rejects = share(mix.no_sender).min(count - robots);
    let replies = share(mix.replies).min(count - robots - rejects);
    let bounces = robots * 2 / 5;
    let mut kinds = Vec::with_capacity(count);
    kinds.extend(std::iter::repeat_n(Kind::AutoReply, robots - bounces));
    kinds.extend(std::iter::repeat_n(Kind::Bounce, bounces));
    kinds.extend(std::iter::repeat_n(Kind::NoSender, rejects));
    kinds.extend(std::iter::repeat_n(Kind::Reply, replies));
    kinds.resize(count, Kind::Ticket);
    kinds.shuffle(rng);
    // A reply needs an earlier ticket.
    let mut seen_ticket = false;
    for i in 0..count {
        if kinds[i] == Kind::Reply && !seen_ticket {
            match (i + 1..count).find(|&j| kinds[j] == Kind::Ticket) {
                Some(j) => kinds.swap(i, j),
                None => kinds[i] = Kind::Ticket,
            }
        }
        seen_ticket |= kinds[i] == Kind::Ticket;
    }

    let customers: Vec<Customer> = (0..(count / 4).clamp(8, 5000))
        .map(|_| Customer::random(rng, mix.french))
        .collect();
    let mut slots: Vec<Slot> = kinds
        .iter()
        .map(|&kind| Slot {
            kind,
            html_only: false,
            attachments: 0,
            customer: 0,
            parent: None,
            root: None,
        })
        .collect();

    // Who writes what: a few customers write often.
    let mut earlier: Vec<usize> = Vec::new();
    for i in 0..count {
        match slots[i].kind {
            Kind::Ticket => {
                let u: f64 = rng.r#gen();
                slots[i].customer =
                    ((u * u * customers.len() as f64) as usize).min(customers.len() - 1);
                earlier.push(i);
            }
            Kind::Reply => {
                let parent = if rng.gen_bool(0.6) {
                    let recent = earlier.len().min(30);
                    earlier[earlier.len() - recent + rng.gen_range(0..recent)]
                } else {
                    earlier[rng.gen_range(0..earlier.len())]
                };
                let root = slots[parent].root.unwrap_or(parent);
                slots[i].parent = Some(parent);
                slots[i].root = Some(root);
                slots[i].customer = slots[root].customer;
                earlier.push(i);
            }
            Kind::AutoReply | Kind::Bounce | Kind::NoSender => {
                slots[i].customer = rng.gen_range(0..customers.len());
            }
        }
    }

    let mut people = earlier;
    people.shuffle(rng);
    for &i in people.iter().take(share(mix.attachments)) {
        slots[i].attachments = weighted(rng, &[(1, 0.8), (2, 0.15), (3, 0.05)]);
    }
    people.shuffle(rng);
    for &i in people.iter().take(share(mix.html_only)) {
        slots[i].html_only = true;
    }
    (slots, customers)
}

/// What a reply needs of the message it answers.
#[derive(Debug, Clone)]
struct Sent {
    /// With angle brackets.
    id: String,
    references: Vec<String>,
    /// The subject without reply prefix.
    subject: String,
    date: DateTime<FixedOffset>,
    text: String,
    to: String,
}

// ---------------------------------------------------------------------------
// People

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Client {
    Gmail,
    Outlook,
    Thunderbird,
    AppleMail,
    Zimbra,
}

struct Company {
    name: &'static str,
    domain: &'static str,
    /// UTC offset in hours.
    offset: i32,
}

#[derive(Debug, Clone)]
struct Customer {
    lang: Language,
    first: &'static str,
    name: String,
    email: String,
    domain: String,
    company: Option<&'static str>,
    client: Client,
    /// Outlook on Exchange Online (Message-IDs `…@….prod.outlook.com`).
    exchange_online: bool,
    offset: i32,
    title: &'static str,
    phone: String,
    signature: bool,
}

impl Customer {
    fn random(rng: &mut ChaCha8Rng, french: f64) -> Self {
        let lang = if rng.gen_bool(french.clamp(0.0, 1.0)) {
            Language::Fr
        } else {
            Language::En
        };
        let l = li(lang);
        let first = *pick(rng, FIRST_NAMES[l]);
        let last = *pick(rng, LAST_NAMES[l]);
        let (company, domain, offset) = if rng.gen_bool(0.75) {
            let c = pick(rng, COMPANIES[l]);
            (Some(c.name), c.domain.to_owned(), c.offset)
        } else {
            let domain = *pick(rng, PUBLIC_DOMAINS[l]);
            let offset = if lang == Language::Fr {
                1
            } else {
                *pick(rng, &[0, -5, -8])
            };
            (None, domain.to_owned(), offset)
        };
        let (f, s) = (ascii_fold(first), ascii_fold(last));
        let initial = &f[..1];
        let local = if company.is_some() {
            match rng.gen_range(0..3) {
                0 => format!("{f}.{s}"),
                1 => format!("{initial}.{s}"),
                _ => format!("{initial}{s}"),
            }
        } else {
            format!("{f}.{s}{}", rng.gen_range(10..99))
        };
        let client = match domain.as_str() {
            "gmail.com" => Client::Gmail,
            "outlook.fr" | "outlook.com" | "hotmail.com" => Client::Outlook,
            "yahoo.com" => Client::AppleMail,
            "orange.fr" | "free.fr" | "laposte.net" => {
                if rng.gen_bool(0.5) {
                    Client::Zimbra
                } else {
                    Client::Thunderbird
                }
            }
            _ => weighted(
                rng,
                &[
                    (Client::Outlook, 0.45),
                    (Client::Thunderbird, 0.15),
                    (Client::AppleMail, 0.15),
                    (Client::Gmail, 0.15),
                    (Client::Zimbra, 0.10),
                ],
            ),
        };
        let phone = match (lang, offset) {
            (Language::Fr, _) => format!(
                "+33 {} {:02} {:02} {:02} {:02}",
                rng.gen_range(1..6),
                rng.gen_range(10..99),
                rng.gen_range(0..99),
                rng.gen_range(0..99),
                rng.gen_range(0..99)
            ),
            (Language::En, 0) => format!("+44 20 7946 0{:03}", rng.gen_range(0..1000)),
            (Language::En, _) => format!("+1 202 555 01{:02}", rng.gen_range(0..100)),
        };
        let exchange_online = client == Client::Outlook && (company.is_none() || rng.gen_bool(0.5));
        Customer {
            exchange_online,
            lang,
            first,
            name: format!("{first} {last}"),
            email: format!("{local}@{domain}"),
            domain,
            company,
            client,
            offset,
            title: pick_str(rng, TITLES[l]),
            phone,
            signature: company.is_some() && rng.gen_bool(0.45),
        }
    }
}

// ---------------------------------------------------------------------------
// Customers' messages: tickets and replies

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    Nowhere,
    Body,
    Subject,
    Plus,
    Own,
}

/// What a new request states, and where.
struct Fields {
    severity: usize,
    products: Vec<usize>,
    feature: bool,
    severity_at: At,
    products_at: At,
    type_at: At,
}

impl Fields {
    fn choose(rng: &mut ChaCha8Rng, topic: &Topic) -> Self {
        let feature = topic.feature;
        let severity = if feature {
            weighted(rng, &[(3, 0.45), (2, 0.55)])
        } else {
            weighted(rng, &[(0, 0.12), (1, 0.28), (2, 0.40), (3, 0.20)])
        };
        let mut severity_at = match severity {
            2 => weighted(
                rng,
                &[(At::Nowhere, 0.6), (At::Body, 0.25), (At::Subject, 0.15)],
            ),
            0 => weighted(rng, &[(At::Body, 0.5), (At::Subject, 0.4), (At::Plus, 0.1)]),
            _ => weighted(rng, &[(At::Body, 0.55), (At::Subject, 0.45)]),
        };
        let count = weighted(rng, &[(0usize, 0.12), (1, 0.76), (2, 0.12)]);
        let mut products = Vec::new();
        if count > 0 {
            products.push(topic.product);
        }
        if count > 1 {
            let other = (topic.product + rng.gen_range(1..4)) % 4;
            products.push(other);
        }
        let products_at = match count {
            0 => At::Nowhere,
            1 => weighted(
                rng,
                &[(At::Body, 0.45), (At::Subject, 0.35), (At::Plus, 0.2)],
            ),
            _ => weighted(rng, &[(At::Body, 0.7), (At::Subject, 0.3)]),
        };
        let mut type_at = if feature {
            weighted(
                rng,
                &[
                    (At::Subject, 0.35),
                    (At::Body, 0.3),
                    (At::Own, 0.15),
                    (At::Plus, 0.05),
                    (At::Nowhere, 0.15),
                ],
            )
        } else {
            weighted(
                rng,
                &[(At::Nowhere, 0.85), (At::Body, 0.1), (At::Subject, 0.05)],
            )
        };
        // One plus tag per address.
        if products_at == At::Plus && type_at == At::Plus {
            type_at = At::Subject;
        }
        if severity_at == At::Plus && (products_at == At::Plus || type_at == At::Plus) {
            severity_at = At::Body;
        }
        Fields {
            severity,
            products,
            feature,
            severity_at,
            products_at,
            type_at,
        }
    }

    fn expect(&self, lang: Language) -> Expect {
        Expect::Ticket {
            severity: if self.severity_at == At::Nowhere {
                "medium".into()
            } else {
                SEVERITIES[self.severity].into()
            },
            products: if self.products_at == At::Nowhere {
                Vec::new()
            } else {
                self.products
                    .iter()
                    .map(|&p| PRODUCTS[p].to_owned())
                    .collect()
            },
            request_type: if self.feature && self.type_at != At::Nowhere {
                "feature".into()
            } else {
                "support".into()
            },
            language: lang,
        }
    }
}

/// Everything a customer's message is rendered from.
struct Mail<'a> {
    customer: &'a Customer,
    date: DateTime<FixedOffset>,
    id: String,
    to: String,
    to_name: Option<&'static str>,
    cc: Option<(String, String)>,
    subject: String,
    in_reply_to: Option<String>,
    references: Vec<String>,
    doc: Doc,
    html_only: bool,
    alternative: bool,
    charset: Charset,
    cte: Cte,
    files: Vec<File>,
}

impl Generator {
    fn date(&self, rng: &mut ChaCha8Rng, index: usize, offset_hours: i32) -> DateTime<FixedOffset> {
        let base = Utc
            .with_ymd_and_hms(2025, 3, 3, 7, 30, 0)
            .single()
            .expect("a valid date");
        let at = base + Duration::seconds(index as i64 * 180 + rng.gen_range(0..180));
        at.with_timezone(&FixedOffset::east_opt(offset_hours * 3600).expect("a valid offset"))
    }

    fn person(&self, rng: &mut ChaCha8Rng, index: usize) -> (Generated, Sent) {
        let slot = self.slots[index].clone();
        let customer = &self.customers[slot.customer];
        let lang = customer.lang;
        let l = li(lang);
        let client = customer.client;
        let date = self.date(rng, index, customer.offset);
        let id = message_id(rng, customer, date);
        let (charset, cte) = encoding(rng, client, lang);
        let alternative = match client {
            Client::Gmail | Client::Outlook => true,
            Client::Thunderbird => rng.gen_bool(0.15),
            Client::AppleMail => rng.gen_bool(0.6),
            Client::Zimbra => rng.gen_bool(0.7),
        };
        let files: Vec<File> = (0..slot.attachments)
            .map(|_| File::random(rng, lang, &self.mix))
            .collect();
        let typographic =
            matches!(client, Client::Outlook | Client::AppleMail) && lang == Language::Fr;
        let cc = (customer.company.is_some() && rng.gen_bool(0.1)).then(|| {
            let first = *pick(rng, FIRST_NAMES[l]);
            let last = *pick(rng, LAST_NAMES[l]);
            (
                format!("{first} {last}"),
                format!(
                    "{}.{}@{}",
                    ascii_fold(first),
                    ascii_fold(last),
                    customer.domain
                ),
            )
        });

        let (subject, doc, to, in_reply_to, references, expect, parent) = match slot.kind {
            Kind::Ticket => {
                let (subject, doc, to, expect) = ticket_content(rng, customer, &files, typographic);
                (subject, doc, to, None, Vec::new(), expect, None)
            }
            _ => {
                let parent_index = slot.parent.expect("a reply has a parent");
                let parent = self.sent[parent_index]
                    .as_ref()
                    .expect("the parent came first");
                let (subject, doc) = reply_content(rng, customer, parent, &files, typographic);
                let mut references = parent.references.clone();
                references.push(parent.id.clone());
                (
                    subject,
                    doc,
                    parent.to.clone(),
                    Some(parent.id.clone()),
                    references,
                    Expect::Comment {
                        of: slot.root.expect("a reply has a root"),
                    },
                    Some(parent_index),
                )
            }
        };
        let subject = charset.prepare(&subject);
        let base_subject = match parent {
            Some(p) => self.sent[p].as_ref().expect("sent").subject.clone(),
            None => subject.clone(),
        };
        let mail = Mail {
            customer,
            date,
            id: id.clone(),
            to: to.clone(),
            to_name: *pick(rng, &[Some("Support"), None, Some("Support Example")]),
            cc,
            subject: subject.clone(),
            in_reply_to,
            references: references.clone(),
            doc,
            html_only: slot.html_only,
            alternative,
            charset,
            cte,
            files,
        };
        let (raw, mime, text) = render(rng, &mail);
        let generated = Generated {
            index,
            message_id: canonical_id(&id),
            in_reply_to: parent,
            subject,
            sender: customer.email.clone(),
            date,
            attachments: mail.files.len(),
            html_only: slot.html_only,
            mime,
            raw,
            expect,
        };
        let sent = Sent {
            id: format!("<{id}>"),
            references,
            subject: base_subject,
            date,
            text,
            to,
        };
        (generated, sent)
    }
}

/// A new request: subject, body, recipient and what it should become.
fn ticket_content(
    rng: &mut ChaCha8Rng,
    customer: &Customer,
    files: &[File],
    typographic: bool,
) -> (String, Doc, String, Expect) {
    let lang = customer.lang;
    let l = li(lang);
    let feature = rng.gen_bool(0.15);
    let topic = if feature {
        pick(rng, FEATURE_TOPICS)
    } else {
        pick(rng, SUPPORT_TOPICS)
    };
    let fields = Fields::choose(rng, topic);
    let vars = Vars::random(rng, topic.product);

    // Subject: the summary with its tags before or after it.
    let mut tags: Vec<String> = Vec::new();
    if fields.products_at == At::Subject {
        tags.push(if fields.products.len() == 1 && rng.gen_bool(0.7) {
            format!("[{}]", pick(rng, PRODUCT_ALIASES[fields.products[0]]))
        } else {
            let label = if fields.products.len() > 1 {
                ["Produits", "Products"][l]
            } else {
                ["Produit", "Product"][l]
            };
            let value = product_list(rng, lang, &fields.products);
            format!("[{}]", keyword(rng, lang, label, &value))
        });
    }
    if fields.severity_at == At::Subject {
        let word = *pick(rng, SEVERITY_TAGS[l][fields.severity]);
        tags.push(if rng.gen_bool(0.6) {
            format!("[{word}]")
        } else {
            let label = pick(rng, &[["Gravité", "Severity"], ["Priorité", "Priority"]])[l];
            format!("[{}]", keyword(rng, lang, label, word))
        });
    }
    if fields.type_at == At::Subject {
        let words = if fields.feature {
            FEATURE_TAGS
        } else {
            SUPPORT_TAGS
        };
        tags.push(format!("[{}]", pick(rng, words[l])));
    }
    tags.shuffle(rng);
    let summary = topic.subject[l].to_owned();
    let mut leading = Vec::new();
    let mut trailing = Vec::new();
    for tag in tags {
        if rng.gen_bool(0.7) {
            leading.push(tag);
        } else {
            trailing.push(tag);
        }
    }
    let mut subject = leading.join(if rng.gen_bool(0.5) { " " } else { "" });
    if !subject.is_empty() {
        subject.push(' ');
    }
    subject.push_str(&summary);
    for tag in trailing {
        subject.push(' ');
        subject.push_str(&tag);
    }

    // Keyword lines.
    let mut keywords: Vec<String> = Vec::new();
    if fields.products_at == At::Body {
        let label = if fields.products.len() > 1 {
            *pick(rng, PRODUCTS_LABELS[l])
        } else {
            *pick(rng, PRODUCT_LABELS[l])
        };
        let value = product_list(rng, lang, &fields.products);
        keywords.push(keyword(rng, lang, label, &value));
    }
    if fields.severity_at == At::Body {
        let label = *pick(rng, SEVERITY_LABELS[l]);
        let value = *pick(rng, SEVERITY_WORDS[l][fields.severity]);
        keywords.push(keyword(rng, lang, label, value));
    }
    if fields.type_at == At::Body {
        let label = *pick(rng, TYPE_LABELS[l]);
        let words = if fields.feature {
            FEATURE_WORDS
        } else {
            SUPPORT_WORDS
        };
        let value = *pick(rng, words[l]);
        keywords.push(keyword(rng, lang, label, value));
    }
    if !keywords.is_empty() && rng.gen_bool(0.3) {
        keywords.push(keyword(rng, lang, "Version", &vars.version));
    }
    keywords.shuffle(rng);
    if rng.gen_bool(0.2) {
        for line in &mut keywords {
            line.insert_str(0, "- ");
        }
    }

    // Body.
    let prose = |text: String| {
        if typographic {
            text.replace('\'', "’")
        } else {
            text
        }
    };
    let mut blocks = vec![Block::Para(vec![pick(rng, GREETINGS[l]).to_string()])];
    let keywords_first = !keywords.is_empty() && rng.gen_bool(0.2);
    if keywords_first {
        blocks.push(Block::Para(keywords.clone()));
    }
    let mut first = vec![vars.fill(topic.body[l], lang)];
    let mut from_paragraph = None;
    if !fields.feature {
        let mut details: Vec<&str> = DETAILS[l].to_vec();
        details.shuffle(rng);
        for detail in details.into_iter().take(rng.gen_range(1..3)) {
            let sentence = vars.fill(detail, lang);
            if sentence.starts_with("From ") {
                from_paragraph = Some(sentence);
            } else {
                first.push(sentence);
            }
        }
    }
    blocks.push(Block::Para(vec![prose(first.join(" "))]));
    if let Some(sentence) = from_paragraph {
        blocks.push(Block::Para(vec![prose(sentence)]));
    }
    let impact = if fields.feature {
        pick(rng, FEATURE_IMPACT[l])
    } else {
        pick(rng, IMPACT[l][fields.severity])
    };
    let request = if fields.feature {
        pick(rng, FEATURE_REQUESTS[l])
    } else {
        pick(rng, REQUESTS[l])
    };
    blocks.push(Block::Para(vec![prose(format!("{impact} {request}"))]));
    if !files.is_empty() {
        blocks.push(Block::Para(vec![prose(
            pick(rng, FILES_ATTACHED[l]).to_string(),
        )]));
    }
    if !keywords.is_empty() && !keywords_first {
        blocks.push(Block::Para(keywords));
    }
    sign(rng, customer, &mut blocks, typographic);

    // Recipient.
    let local = if fields.type_at == At::Own {
        "feature"
    } else {
        "support"
    };
    let plus = if fields.products_at == At::Plus {
        Some(*pick(rng, PRODUCT_PLUS[fields.products[0]]))
    } else if fields.type_at == At::Plus {
        Some("feature")
    } else if fields.severity_at == At::Plus {
        Some("urgent")
    } else {
        None
    };
    let to = match plus {
        Some(tag) => format!("{local}+{tag}@example.com"),
        None => format!("{local}@example.com"),
    };
    (subject, Doc(blocks), to, fields.expect(lang))
}

/// The sign-off, the signature block or the phone's footer.
fn sign(rng: &mut ChaCha8Rng, customer: &Customer, blocks: &mut Vec<Block>, typographic: bool) {
    let l = li(customer.lang);
    let mut sign_off = pick(rng, SIGN_OFFS[l]).to_string();
    if typographic {
        sign_off = sign_off.replace('\'', "’");
    }
    let name = if rng.gen_bool(0.6) {
        customer.first.to_owned()
    } else {
        customer.name.clone()
    };
    blocks.push(Block::Para(vec![sign_off, name]));
    if customer.signature {
        let company = customer.company.unwrap_or_default();
        blocks.push(Block::Signature(vec![
            customer.name.clone(),
            match customer.lang {
                Language::Fr => format!("{} – {company}", customer.title),
                Language::En => format!("{}, {company}", customer.title),
            },
            match customer.lang {
                Language::Fr => format!("Tél. {}", customer.phone),
                Language::En => format!("Tel. {}", customer.phone),
            },
        ]));
    } else if customer.client == Client::AppleMail && rng.gen_bool(0.4) {
        blocks.push(Block::Footer(
            ["Envoyé de mon iPhone", "Sent from my iPhone"][l].to_owned(),
        ));
    }
}

/// A follow-up: subject and body quoting the message it answers.
fn reply_content(
    rng: &mut ChaCha8Rng,
    customer: &Customer,
    parent: &Sent,
    files: &[File],
    typographic: bool,
) -> (String, Doc) {
    let lang = customer.lang;
    let l = li(lang);
    let prefix = match (customer.client, lang) {
        (Client::Outlook, Language::Fr) => "RE : ",
        (Client::Outlook, Language::En) => "RE: ",
        _ => "Re: ",
    };
    let subject = format!("{prefix}{}", parent.subject);
    let vars = Vars::random(rng, 0);
    let prose = |text: String| {
        if typographic {
            text.replace('\'', "’")
        } else {
            text
        }
    };
    let mut blocks = Vec::new();
    if rng.gen_bool(0.7) {
        blocks.push(Block::Para(vec![pick(rng, GREETINGS[l]).to_string()]));
    }
    let mut sentences = Vec::new();
    if !files.is_empty() {
        sentences.push(REPLY_FILES[l].to_owned());
    }
    let mut follow: Vec<&str> = FOLLOW_UPS[l].to_vec();
    follow.shuffle(rng);
    for sentence in follow.into_iter().take(rng.gen_range(1..3)) {
        sentences.push(vars.fill(sentence, lang));
    }
    blocks.push(Block::Para(vec![prose(sentences.join(" "))]));
    sign(rng, customer, &mut blocks, typographic);
    blocks.push(quote(customer, parent));
    (subject, Doc(blocks))
}

/// The quoted history as the customer's mail client writes it.
fn quote(customer: &Customer, parent: &Sent) -> Block {
    let d = parent.date;
    let (name, email) = (&customer.name, &customer.email);
    let lines: Vec<String> = parent.text.lines().map(str::to_owned).collect();
    let fr = customer.lang == Language::Fr;
    let hm = d.format("%H:%M");
    let prefixed = |intro: String| Block::Quote {
        intro: vec![intro],
        lines: lines.clone(),
        prefixed: true,
    };
    match customer.client {
        Client::Gmail if fr => prefixed(format!(
            "Le {} {} {} {} à {hm}, {name} <{email}> a écrit :",
            FR_DAYS_SHORT[d.weekday().num_days_from_monday() as usize],
            d.day(),
            FR_MONTHS[d.month0() as usize],
            d.year()
        )),
        Client::Gmail => prefixed(format!(
            "On {}, {name} <{email}> wrote:",
            d.format("%a, %-d %b %Y at %H:%M")
        )),
        Client::Thunderbird if fr => prefixed(format!(
            "Le {} à {hm}, {name} a écrit :",
            d.format("%d/%m/%Y")
        )),
        Client::Thunderbird => prefixed(format!("On {} {hm}, {name} wrote:", d.format("%d/%m/%Y"))),
        Client::AppleMail if fr => prefixed(format!(
            "Le {} {} {} à {hm}, {name} <{email}> a écrit :",
            d.day(),
            FR_MONTHS[d.month0() as usize],
            d.year()
        )),
        Client::AppleMail => prefixed(format!(
            "On {}, at {hm}, {name} <{email}> wrote:",
            d.format("%-d %b %Y")
        )),
        Client::Outlook => {
            let intro = if fr {
                vec![
                    "-----Message d'origine-----".to_owned(),
                    format!("De : {name} <{email}>"),
                    format!("Envoyé : {}", french_date(d)),
                    format!("À : Support <{}>", parent.to),
                    format!("Objet : {}", parent.subject),
                ]
            } else {
                vec![
                    "-----Original Message-----".to_owned(),
                    format!("From: {name} <{email}>"),
                    format!("Sent: {}", d.format("%A, %B %-d, %Y %-I:%M %p")),
                    format!("To: Support <{}>", parent.to),
                    format!("Subject: {}", parent.subject),
                ]
            };
            Block::Quote {
                intro,
                lines,
                prefixed: false,
            }
        }
        Client::Zimbra => {
            let intro = if fr {
                vec![
                    "----- Mail original -----".to_owned(),
                    format!("De: \"{name}\" <{email}>"),
                    format!("À: \"Support\" <{}>", parent.to),
                    format!("Envoyé: {}", french_date(d)),
                    format!("Objet: {}", parent.subject),
                ]
            } else {
                vec![
                    "----- Original Message -----".to_owned(),
                    format!("From: \"{name}\" <{email}>"),
                    format!("To: \"Support\" <{}>", parent.to),
                    format!("Sent: {}", d.format("%A, %B %-d, %Y %-I:%M:%S %p")),
                    format!("Subject: {}", parent.subject),
                ]
            };
            Block::Quote {
                intro,
                lines,
                prefixed: false,
            }
        }
    }
}

fn french_date(d: DateTime<FixedOffset>) -> String {
    format!(
        "{} {} {} {} {:02}:{:02}",
        FR_DAYS[d.weekday().num_days_from_monday() as usize],
        d.day(),
        FR_MONTHS[d.month0() as usize],
        d.year(),
        d.hour(),
        d.minute()
    )
}

// ---------------------------------------------------------------------------
// Robots and broken senders

impl Generator {
    /// A confirmation we could have sent the customer: its key, subject and
    /// Message-ID.
    fn confirmation(
        &self,
        rng: &mut ChaCha8Rng,
        index: usize,
        lang: Language,
    ) -> (String, String, String) {
        let key = format!("SUP-{}", rng.gen_range(1..=index.max(1) as u32));
        let subject = match lang {
            Language::Fr => format!("[{key}] Votre demande a bien été enregistrée"),
            Language::En => format!("[{key}] We have received your request"),
        };
        let id = format!(
            "<{}.confirmation.{}@example.com>",
            key.to_lowercase(),
            hex(rng, 24)
        );
        (key, subject, id)
    }

    fn auto_reply(&self, rng: &mut ChaCha8Rng, index: usize) -> Generated {
        let customer = &self.customers[self.slots[index].customer];
        let lang = customer.lang;
        let fr = lang == Language::Fr;
        let date = self.date(rng, index, customer.offset);
        let (_, confirmation, confirmation_id) = self.confirmation(rng, index, lang);
        let back = date + Duration::days(rng.gen_range(3..15));
        let back_text = if fr {
            format!(
                "{} {} {}",
                FR_DAYS[back.weekday().num_days_from_monday() as usize],
                back.day(),
                FR_MONTHS[back.month0() as usize]
            )
        } else {
            back.format("%A %-d %B").to_string()
        };
        let l = li(lang);
        let colleague_first = *pick(rng, FIRST_NAMES[l]);
        let colleague_last = *pick(rng, LAST_NAMES[l]);
        let colleague = format!("{colleague_first} {colleague_last}");
        let colleague_email = format!(
            "{}.{}@{}",
            ascii_fold(colleague_first),
            ascii_fold(colleague_last),
            customer.domain
        );
        let text = if fr {
            format!(
                "Bonjour,\n\nJe suis absent du bureau jusqu'au {back_text} inclus, avec un accès limité à mes e-mails.\nPour toute urgence, merci de contacter {colleague} ({colleague_email}).\n\nCordialement,\n{}\n",
                customer.name
            )
        } else {
            format!(
                "Hello,\n\nI am out of the office until {back_text} with limited access to email.\nFor anything urgent please contact {colleague} at {colleague_email}.\n\nBest regards,\n{}\n",
                customer.name
            )
        };
        let id = message_id(rng, customer, date);
        // Outlook rules, Gmail's vacation responder, server-side Sieve
        // vacation or an old autoresponder, as the customer's setup has.
        let variant = match customer.client {
            Client::Outlook => *pick(rng, &[0, 0, 1]),
            Client::Gmail => 3,
            Client::Zimbra => *pick(rng, &[2, 3]),
            Client::Thunderbird | Client::AppleMail => *pick(rng, &[2, 4]),
        };
        let mut headers: Vec<(String, String)> = Vec::new();
        let h = |headers: &mut Vec<(String, String)>, n: &str, v: String| {
            headers.push((n.to_owned(), v));
        };
        let return_path = if variant == 2 {
            "<>".to_owned()
        } else {
            format!("<{}>", customer.email)
        };
        h(&mut headers, "Return-Path", return_path);
        h(
            &mut headers,
            "Received",
            received(rng, customer.client, &customer.domain, date),
        );
        let subject = match variant {
            0 | 1 => format!(
                "{}{confirmation}",
                if fr {
                    "Réponse automatique : "
                } else {
                    "Automatic reply: "
                }
            ),
            2 => format!("Auto: {confirmation}"),
            3 => {
                if fr {
                    format!("Absent jusqu'au {back_text}")
                } else {
                    format!("Away until {back_text}")
                }
            }
            _ => format!("Re: {confirmation}"),
        };
        let charset = if variant == 4 {
            Charset::Latin1
        } else {
            Charset::Utf8
        };
        let subject = charset.prepare(&subject);
        h(&mut headers, "Date", rfc2822(date));
        h(
            &mut headers,
            "From",
            mailbox(&customer.name, &customer.email, charset, false),
        );
        h(&mut headers, "To", format!("Support <{SUPPORT_ADDRESS}>"));
        h(
            &mut headers,
            "Subject",
            header_text(&subject, charset, rng.gen_bool(0.5)),
        );
        h(&mut headers, "Message-ID", format!("<{id}>"));
        h(&mut headers, "In-Reply-To", confirmation_id.clone());
        h(&mut headers, "References", confirmation_id);
        match variant {
            0 => {
                h(&mut headers, "Auto-Submitted", "auto-generated".into());
                h(&mut headers, "X-Auto-Response-Suppress", "All".into());
                h(
                    &mut headers,
                    "X-MS-Exchange-Inbox-Rules-Loop",
                    customer.email.clone(),
                );
                h(
                    &mut headers,
                    "Content-Language",
                    if fr { "fr-FR" } else { "en-US" }.into(),
                );
            }
            1 => {
                h(&mut headers, "X-MS-Has-Attach", String::new());
            }
            2 => {
                h(
                    &mut headers,
                    "Auto-Submitted",
                    "auto-replied (vacation)".into(),
                );
                h(&mut headers, "Precedence", "bulk".into());
            }
            3 => {
                h(&mut headers, "Auto-Submitted", "auto-replied".into());
            }
            _ => {
                h(&mut headers, "X-Autoreply", "yes".into());
            }
        }
        let cte = if variant == 4 { Cte::EightBit } else { Cte::Qp };
        let plain = text_entity("plain", &text, charset, cte, customer.client);
        let entity = if variant <= 1 {
            let doc = Doc(text
                .trim_end()
                .split("\n\n")
                .map(|p| Block::Para(p.lines().map(str::to_owned).collect()))
                .collect());
            let html = text_entity(
                "html",
                &doc.html(customer.client, charset),
                charset,
                cte,
                customer.client,
            );
            multipart(
                "alternative",
                boundary(rng, customer.client),
                vec![plain, html],
                "",
            )
        } else {
            plain
        };
        let mime = describe(&entity, charset, cte);
        let mut raw = Vec::new();
        finish(&mut raw, headers, entity);
        Generated {
            index,
            message_id: canonical_id(&id),
            in_reply_to: None,
            subject,
            sender: customer.email.clone(),
            date,
            attachments: 0,
            html_only: false,
            mime,
            raw,
            expect: Expect::Ignored {
                reason: "auto-reply",
            },
        }
    }

    fn bounce(&self, rng: &mut ChaCha8Rng, index: usize) -> Generated {
        let customer = &self.customers[self.slots[index].customer];
        let lang = customer.lang;
        let fr = lang == Language::Fr;
        let l = li(lang);
        let date = self.date(rng, index, 1);
        let (key, confirmation, confirmation_id) = self.confirmation(rng, index, lang);
        // The address that bounced: the customer's, or a colleague who left.
        let recipient = if rng.gen_bool(0.5) {
            customer.email.clone()
        } else {
            format!(
                "{}.{}@{}",
                ascii_fold(pick_str(rng, FIRST_NAMES[l])),
                ascii_fold(pick_str(rng, LAST_NAMES[l])),
                customer.domain
            )
        };
        let sent_at = date - Duration::seconds(rng.gen_range(2..600));
        let original = format!(
            "Return-Path: <{SUPPORT_ADDRESS}>\nDate: {}\nFrom: Example Support <{SUPPORT_ADDRESS}>\nTo: {recipient}\nSubject: {}\nMessage-ID: {confirmation_id}\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n",
            rfc2822(sent_at),
            header_text(&confirmation, Charset::Utf8, false)
        );
        let original_body = if fr {
            format!(
                "Bonjour,\n\nVotre demande a été enregistrée sous la référence {key}.\nRépondez à ce message pour compléter votre demande.\n\nLe support Example\n"
            )
        } else {
            format!(
                "Hello,\n\nYour request has been filed as {key}.\nReply to this message to add information.\n\nExample Support\n"
            )
        };
        let queue_id = format!("4Z{}", alnum(rng, 10));
        let variant = rng.gen_range(0..3);
        let mut headers: Vec<(String, String)> = vec![("Return-Path".into(), "<>".into())];
        let (from, subject, mut entity, sender) = match variant {
            0 => {
                // Postfix, our own relay.
                headers.push((
                    "Received".into(),
                    format!(
                        "by mx1.example.com (Postfix) id {queue_id}; {}",
                        rfc2822(date)
                    ),
                ));
                let notice = format!(
                    "This is the mail system at host mx1.example.com.\n\nI'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients. It's attached below.\n\nFor further assistance, please send mail to postmaster.\n\nIf you do so, please include this problem report. You can\ndelete your own text from the attached returned message.\n\n                   The mail system\n\n<{recipient}>: host mail.{}[203.0.113.{}] said: 550 5.1.1\n    <{recipient}>: Recipient address rejected: User unknown in virtual\n    mailbox table (in reply to RCPT TO command)\n",
                    customer.domain,
                    rng.gen_range(2..250)
                );
                let status = format!(
                    "Reporting-MTA: dns; mx1.example.com\nX-Postfix-Queue-ID: {queue_id}\nX-Postfix-Sender: rfc822; {SUPPORT_ADDRESS}\nArrival-Date: {}\n\nFinal-Recipient: rfc822; {recipient}\nOriginal-Recipient: rfc822;{recipient}\nAction: failed\nStatus: 5.1.1\nRemote-MTA: dns; mail.{}\nDiagnostic-Code: smtp; 550 5.1.1 <{recipient}>: Recipient address\n    rejected: User unknown in virtual mailbox table\n",
                    rfc2822(sent_at),
                    customer.domain
                );
                let parts = vec![
                    raw_entity(
                        &[
                            ("Content-Description", "Notification"),
                            ("Content-Type", "text/plain; charset=us-ascii"),
                        ],
                        &notice,
                    ),
                    raw_entity(
                        &[
                            ("Content-Description", "Delivery report"),
                            ("Content-Type", "message/delivery-status"),
                        ],
                        &status,
                    ),
                    raw_entity(
                        &[
                            ("Content-Description", "Undelivered Message"),
                            ("Content-Type", "message/rfc822"),
                            ("Content-Transfer-Encoding", "8bit"),
                        ],
                        &format!("{original}\n{original_body}"),
                    ),
                ];
                (
                    "MAILER-DAEMON@mx1.example.com (Mail Delivery System)".to_owned(),
                    "Undelivered Mail Returned to Sender".to_owned(),
                    multipart(
                        "report",
                        format!("{queue_id}.{}/mx1.example.com", date.timestamp()),
                        parts,
                        "; report-type=delivery-status",
                    ),
                    "MAILER-DAEMON".to_owned(),
                )
            }
            1 => {
                // Exchange Online at the customer's.
                headers.push((
                    "Received".into(),
                    format!(
                        "from mail-{}.outbound.protection.outlook.com (mail-{0}.outbound.protection.outlook.com [52.100.{}.{}])\n\tby mx1.example.com (Postfix) with ESMTPS id {queue_id}\n\tfor <{SUPPORT_ADDRESS}>; {}",
                        alnum(rng, 6).to_lowercase(),
                        rng.gen_range(0..255),
                        rng.gen_range(1..255),
                        rfc2822(date)
                    ),
                ));
                let notice = if fr {
                    format!(
                        "Impossible de remettre votre message à {recipient}, car l'adresse est introuvable ou ne peut pas recevoir de courrier.\n\nCe que vous devez faire :\nLe destinataire n'existe plus dans l'organisation {}. Vérifiez l'adresse ou contactez le destinataire par un autre moyen.\n\nDiagnostic pour les administrateurs :\nServeur de génération : {}.prod.outlook.com\n{recipient}\nRemote server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'\n",
                        customer.domain,
                        alnum(rng, 12).to_uppercase()
                    )
                } else {
                    format!(
                        "Your message to {recipient} couldn't be delivered.\n{recipient} wasn't found at {}.\n\nAction required\nThe recipient may have left the organisation. Check the address and try again.\n\nDiagnostic information for administrators:\nGenerating server: {}.prod.outlook.com\n{recipient}\nRemote server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'\n",
                        customer.domain,
                        alnum(rng, 12).to_uppercase()
                    )
                };
                let status = format!(
                    "Reporting-MTA: dns;{}.prod.outlook.com\nReceived-From-MTA: dns;mx1.example.com\nArrival-Date: {}\n\nFinal-Recipient: rfc822;{recipient}\nAction: failed\nStatus: 5.1.10\nDiagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup\n",
                    alnum(rng, 12).to_uppercase(),
                    rfc2822(sent_at)
                );
                let parts = vec![
                    text_entity("plain", &notice, Charset::Utf8, Cte::Qp, Client::Outlook),
                    raw_entity(&[("Content-Type", "message/delivery-status")], &status),
                    raw_entity(&[("Content-Type", "text/rfc822-headers")], &original),
                ];
                let subject = format!(
                    "{}{confirmation}",
                    if fr {
                        "Non remis : "
                    } else {
                        "Undeliverable: "
                    }
                );
                (
                    format!("Microsoft Outlook <postmaster@{}>", customer.domain),
                    subject,
                    multipart(
                        "report",
                        boundary(rng, Client::Outlook),
                        parts,
                        "; report-type=delivery-status",
                    ),
                    "MAILER-DAEMON".to_owned(),
                )
            }
            _ => {
                // qmail: plain text from MAILER-DAEMON.
                headers.push((
                    "Received".into(),
                    format!(
                        "from mail.{} (mail.{0} [198.51.100.{}])\n\tby mx1.example.com (Postfix) with ESMTP id {queue_id}\n\tfor <{SUPPORT_ADDRESS}>; {}",
                        customer.domain,
                        rng.gen_range(2..250),
                        rfc2822(date)
                    ),
                ));
                let text = format!(
                    "Hi. This is the qmail-send program at mail.{}.\nI'm afraid I wasn't able to deliver your message to the following addresses.\nThis is a permanent error; I've given up. Sorry it didn't work out.\n\n<{recipient}>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n--- Below this line is a copy of the message.\n\n{original}\n{original_body}",
                    customer.domain
                );
                (
                    format!("MAILER-DAEMON@mail.{}", customer.domain),
                    "failure notice".to_owned(),
                    text_entity(
                        "plain",
                        &text,
                        Charset::Utf8,
                        Cte::EightBit,
                        Client::Thunderbird,
                    ),
                    "MAILER-DAEMON".to_owned(),
                )
            }
        };
        let id = format!(
            "{}.{}@{}",
            date.format("%Y%m%d%H%M%S"),
            queue_id,
            if variant == 0 {
                "mx1.example.com".to_owned()
            } else {
                format!("mail.{}", customer.domain)
            }
        );
        let subject = Charset::Utf8.prepare(&subject);
        headers.push(("Date".into(), rfc2822(date)));
        headers.push(("From".into(), from));
        headers.push((
            "Subject".into(),
            header_text(&subject, Charset::Utf8, false),
        ));
        headers.push(("To".into(), SUPPORT_ADDRESS.into()));
        headers.push(("Auto-Submitted".into(), "auto-replied".into()));
        headers.push(("Message-ID".into(), format!("<{id}>")));
        if variant == 2 {
            entity
                .headers
                .retain(|(n, _)| n != "Content-Transfer-Encoding");
        }
        let mime = describe(&entity, Charset::Utf8, Cte::EightBit);
        let mut raw = Vec::new();
        finish(&mut raw, headers, entity);
        Generated {
            index,
            message_id: canonical_id(&id),
            in_reply_to: None,
            subject,
            sender,
            date,
            attachments: 0,
            html_only: false,
            mime,
            raw,
            expect: Expect::Ignored { reason: "bounce" },
        }
    }

    /// A report from a customer's misconfigured script: no From, no Sender,
    /// no Reply-To, no Return-Path.
    fn no_sender(&self, rng: &mut ChaCha8Rng, index: usize) -> Generated {
        let customer = &self.customers[self.slots[index].customer];
        let fr = customer.lang == Language::Fr;
        let date = self.date(rng, index, customer.offset);
        let product = rng.gen_range(0..4);
        let (subject, text) = if fr {
            (
                format!("Échec de la sauvegarde nocturne {}", PRODUCTS[product]),
                format!(
                    "Le traitement planifié s'est terminé en erreur (code {}) à {}.\n\nFichier : /var/backups/{}/{}.tar.gz\nEspace libre : {} Go\n\nCe message est envoyé automatiquement par le serveur de sauvegarde.\n",
                    rng.gen_range(1..9),
                    date.format("%H:%M"),
                    PRODUCTS[product].to_lowercase(),
                    date.format("%Y-%m-%d"),
                    rng.gen_range(0..4)
                ),
            )
        } else {
            (
                format!("Nightly {} backup failed", PRODUCTS[product]),
                format!(
                    "The scheduled job ended with an error (exit code {}) at {}.\n\nFile: /var/backups/{}/{}.tar.gz\nFree space: {} GB\n\nThis message is sent automatically by the backup server.\n",
                    rng.gen_range(1..9),
                    date.format("%H:%M"),
                    PRODUCTS[product].to_lowercase(),
                    date.format("%Y-%m-%d"),
                    rng.gen_range(0..4)
                ),
            )
        };
        let host = format!("srv-batch{:02}.{}", rng.gen_range(1..20), customer.domain);
        let id = format!("{}.{}@{host}", date.timestamp(), hex(rng, 16));
        let headers = vec![
            ("To".to_owned(), SUPPORT_ADDRESS.to_owned()),
            (
                "Subject".to_owned(),
                header_text(&subject, Charset::Utf8, false),
            ),
            ("Date".to_owned(), rfc2822(date)),
            ("Message-ID".to_owned(), format!("<{id}>")),
            (
                "X-Mailer".to_owned(),
                "PHPMailer 6.8.1 (https://github.com/PHPMailer/PHPMailer)".to_owned(),
            ),
        ];
        let entity = text_entity(
            "plain",
            &text,
            Charset::Utf8,
            Cte::EightBit,
            Client::Thunderbird,
        );
        let mime = describe(&entity, Charset::Utf8, Cte::EightBit);
        let mut raw = Vec::new();
        finish(&mut raw, headers, entity);
        Generated {
            index,
            message_id: canonical_id(&id),
            in_reply_to: None,
            subject,
            sender: "MAILER-DAEMON".to_owned(),
            date,
            attachments: 0,
            html_only: false,
            mime,
            raw,
            expect: Expect::Rejected {
                reason: "no-sender",
            },
        }
    }
}

// ---------------------------------------------------------------------------
// Bodies

#[derive(Debug, Clone)]
enum Block {
    Para(Vec<String>),
    /// After a `-- ` line.
    Signature(Vec<String>),
    /// "Sent from my iPhone".
    Footer(String),
    /// Quoted history: `> ` lines under an attribution, or an unprefixed
    /// copy under a header block.
    Quote {
        intro: Vec<String>,
        lines: Vec<String>,
        prefixed: bool,
    },
}

#[derive(Debug, Clone)]
struct Doc(Vec<Block>);

impl Doc {
    fn text(&self) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|block| match block {
                Block::Para(lines) => lines.join("\n"),
                Block::Signature(lines) => format!("-- \n{}", lines.join("\n")),
                Block::Footer(line) => line.clone(),
                Block::Quote {
                    intro,
                    lines,
                    prefixed: true,
                } => {
                    let quoted: Vec<String> = lines
                        .iter()
                        .map(|l| {
                            if l.is_empty() {
                                ">".to_owned()
                            } else {
                                format!("> {l}")
                            }
                        })
                        .collect();
                    format!("{}\n{}", intro.join("\n"), quoted.join("\n"))
                }
                Block::Quote { intro, lines, .. } => {
                    format!("{}\n\n{}", intro.join("\n"), lines.join("\n"))
                }
            })
            .collect();
        let mut text = parts.join("\n\n");
        text.push('\n');
        text
    }

    fn html(&self, client: Client, charset: Charset) -> String {
        let (open, close) = match client {
            Client::Outlook => ("<p class=\"MsoNormal\">", "</p>"),
            Client::Gmail => ("<div dir=\"ltr\">", "</div>"),
            Client::Zimbra => ("<p>", "</p>"),
            Client::Thunderbird | Client::AppleMail => ("<div>", "</div>"),
        };
        let lines_html = |lines: &[String]| -> String {
            lines
                .iter()
                .map(|l| escape_html(l))
                .collect::<Vec<_>>()
                .join("<br>\n")
        };
        let mut h = format!(
            "<html><head>\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset={}\">\n</head>\n<body>\n",
            charset.label(client)
        );
        for block in &self.0 {
            match block {
                Block::Para(lines) => {
                    h.push_str(open);
                    h.push_str(&lines_html(lines));
                    h.push_str(close);
                    h.push('\n');
                    if client == Client::Gmail {
                        h.push_str("<div><br></div>\n");
                    }
                }
                Block::Signature(lines) => {
                    h.push_str("<div class=\"signature\">-- <br>\n");
                    h.push_str(&lines_html(lines));
                    h.push_str("</div>\n");
                }
                Block::Footer(line) => {
                    h.push_str(&format!("<div>{}</div>\n", escape_html(line)));
                }
                Block::Quote {
                    intro,
                    lines,
                    prefixed: true,
                } => {
                    h.push_str(&format!(
                        "<div class=\"gmail_quote\"><div class=\"gmail_attr\">{}<br></div>\n<blockquote type=\"cite\" style=\"margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex\">\n{}\n</blockquote></div>\n",
                        escape_html(&intro.join(" ")),
                        lines_html(lines)
                    ));
                }
                Block::Quote { intro, lines, .. } => {
                    h.push_str("<div style=\"border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm\">\n");
                    for line in intro {
                        match line.split_once(':') {
                            Some((label, rest)) if !line.starts_with('-') => {
                                h.push_str(&format!(
                                    "<b>{}:</b>{}<br>\n",
                                    escape_html(label),
                                    escape_html(rest)
                                ));
                            }
                            _ => h.push_str(&format!("{}<br>\n", escape_html(line))),
                        }
                    }
                    h.push_str("</div>\n<div>\n");
                    h.push_str(&lines_html(lines));
                    h.push_str("\n</div>\n");
                }
            }
        }
        h.push_str("</body></html>\n");
        h
    }
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// Wraps lines longer than `width` characters at spaces, as mail clients
/// sending 8bit text do; quoted lines keep their `> ` prefix.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for line in text.split('\n') {
        if line.chars().count() <= width || line == "-- " {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let prefix_len = if line.starts_with('>') {
            line.len() - line.trim_start_matches(['>', ' ']).len()
        } else {
            0
        };
        let (prefix, rest) = line.split_at(prefix_len);
        let mut current = String::from(prefix);
        let mut current_len = prefix.chars().count();
        let mut empty = true;
        for word in rest.split(' ') {
            let word_len = word.chars().count();
            if !empty && current_len + 1 + word_len > width {
                out.push_str(&current);
                out.push('\n');
                current = String::from(prefix);
                current_len = prefix.chars().count();
                empty = true;
            }
            if !empty {
                current.push(' ');
                current_len += 1;
            }
            current.push_str(word);
            current_len += word_len;
            empty = false;
        }
        out.push_str(&current);
        out.push('\n');
    }
    out.pop();
    out
}

// ---------------------------------------------------------------------------
// Attachments

#[derive(Debug, Clone, Copy)]
enum FileKind {
    Pdf,
    Png,
    Jpeg,
    Csv,
    Log,
    Xlsx,
    Zip,
}

#[derive(Debug, Clone)]
struct File {
    name: String,
    content_type: &'static str,
    data: Vec<u8>,
}

impl File {
    fn random(rng: &mut ChaCha8Rng, lang: Language, mix: &Mix) -> Self {
        let kind = weighted(
            rng,
            &[
                (FileKind::Png, 0.25),
                (FileKind::Pdf, 0.2),
                (FileKind::Log, 0.15),
                (FileKind::Csv, 0.12),
                (FileKind::Jpeg, 0.1),
                (FileKind::Xlsx, 0.1),
                (FileKind::Zip, 0.08),
            ],
        );
        let (lo, hi) = (
            (mix.min_attachment as f64).ln(),
            (mix.max_attachment as f64).ln(),
        );
        let size = (lo + rng.r#gen::<f64>() * (hi - lo))
            .exp()
            .round()
            .clamp(mix.min_attachment as f64, mix.max_attachment as f64)
            as usize;
        let fr = lang == Language::Fr;
        let stamp = format!(
            "2025-03-{:02} {} {:02}.{:02}.{:02}",
            rng.gen_range(1..28),
            if fr { "à" } else { "at" },
            rng.gen_range(8..19),
            rng.gen_range(0..60),
            rng.gen_range(0..60)
        );
        let (name, content_type) = match kind {
            FileKind::Pdf => (
                pick(
                    rng,
                    if fr {
                        &[
                            "facture-F2025-00312.pdf",
                            "rapport-erreur.pdf",
                            "Procédure d'export.pdf",
                        ]
                    } else {
                        &[
                            "invoice-F2025-00312.pdf",
                            "error-report.pdf",
                            "Export procedure.pdf",
                        ]
                    },
                )
                .to_string(),
                "application/pdf",
            ),
            FileKind::Png => (
                if rng.gen_bool(0.5) {
                    if fr {
                        format!("Capture d’écran {stamp}.png")
                    } else {
                        format!("Screenshot {stamp}.png")
                    }
                } else {
                    pick(rng, &["capture.png", "screenshot.png", "image001.png"]).to_string()
                },
                "image/png",
            ),
            FileKind::Jpeg => (
                format!("IMG_{:04}.jpg", rng.gen_range(1000..9999)),
                "image/jpeg",
            ),
            FileKind::Csv => (
                if fr {
                    "export-clients.csv"
                } else {
                    "customers-export.csv"
                }
                .to_owned(),
                "text/csv",
            ),
            FileKind::Log => (
                pick(
                    rng,
                    &["server.log", "sync-error.log", "gateway-2025-03-04.log"],
                )
                .to_string(),
                "text/plain",
            ),
            FileKind::Xlsx => (
                if fr {
                    "Relevé des écarts.xlsx"
                } else {
                    "stock-differences.xlsx"
                }
                .to_owned(),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            FileKind::Zip => (
                if fr { "journaux.zip" } else { "logs.zip" }.to_owned(),
                "application/zip",
            ),
        };
        File {
            name,
            content_type,
            data: file_bytes(rng, kind, size, fr),
        }
    }
}

/// Bytes that look like the kind of file at a glance: its signature, then
/// random bytes (or lines of text), `size` bytes in all.
fn file_bytes(rng: &mut ChaCha8Rng, kind: FileKind, size: usize, fr: bool) -> Vec<u8> {
    let mut data = Vec::with_capacity(size + 200);
    let random_tail = |rng: &mut ChaCha8Rng, data: &mut Vec<u8>, trailer: &[u8]| {
        let start = data.len();
        let fill = size.saturating_sub(start + trailer.len());
        data.resize(start + fill, 0);
        rng.fill_bytes(&mut data[start..]);
        data.extend_from_slice(trailer);
    };
    match kind {
        FileKind::Pdf => {
            data.extend_from_slice(
                b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n3 0 obj\n<< /Length 0 /Filter /FlateDecode >>\nstream\n",
            );
            random_tail(rng, &mut data, b"\nendstream\nendobj\n%%EOF\n");
        }
        FileKind::Png => {
            data.extend_from_slice(b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR");
            data.extend_from_slice(&(rng.gen_range(320u32..2560)).to_be_bytes());
            data.extend_from_slice(&(rng.gen_range(240u32..1440)).to_be_bytes());
            data.extend_from_slice(b"\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x01\x00\x00IDAT");
            random_tail(rng, &mut data, b"\x00\x00\x00\x00IEND\xaeB`\x82");
        }
        FileKind::Jpeg => {
            data.extend_from_slice(
                b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x48\x00\x48\x00\x00",
            );
            random_tail(rng, &mut data, b"\xff\xd9");
        }
        FileKind::Xlsx | FileKind::Zip => {
            data.extend_from_slice(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00");
            random_tail(
                rng,
                &mut data,
                b"PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00",
            );
        }
        FileKind::Csv => {
            data.extend_from_slice(if fr {
                b"date;numero;client;montant_ht;tva;devise\r\n".as_slice()
            } else {
                b"date,invoice,customer,net_amount,vat,currency\r\n".as_slice()
            });
            let customers = [
                "Durand SARL",
                "Martin et Fils",
                "Petit Transports",
                "Garage Lefort",
                "Acme Retail",
                "Blue Harbor Ltd",
            ];
            while data.len() < size {
                let (net, cents) = (rng.gen_range(10..20000), rng.gen_range(0..100));
                let line = if fr {
                    format!(
                        "2025-03-{:02};F2025-{:05};{};{net},{cents:02};{},{:02};EUR\r\n",
                        rng.gen_range(1..29),
                        rng.gen_range(1..99999),
                        customers[rng.gen_range(0..customers.len())],
                        net / 5,
                        cents
                    )
                } else {
                    format!(
                        "2025-03-{:02},INV-{:05},{},{net}.{cents:02},{}.{:02},GBP\r\n",
                        rng.gen_range(1..29),
                        rng.gen_range(1..99999),
                        customers[rng.gen_range(0..customers.len())],
                        net / 5,
                        cents
                    )
                };
                data.extend_from_slice(line.as_bytes());
            }
            data.truncate(size);
        }
        FileKind::Log => {
            let messages = [
                "request completed",
                "upstream request timeout after 30000 ms",
                "retrying job export-invoices (attempt 2)",
                "connection reset by peer",
                "sync batch committed",
                "HTTP 500 on POST /api/v2/invoices/export",
                "token refreshed",
            ];
            let levels = ["INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG"];
            let modules = ["export", "sync", "auth", "gateway", "worker"];
            let mut seconds = rng.gen_range(0..86_400u32);
            while data.len() < size {
                seconds = (seconds + rng.gen_range(0..4)) % 86_400;
                let line = format!(
                    "2025-03-04T{:02}:{:02}:{:02}.{:03}Z {:5} [{}] {}-{}: {}\n",
                    seconds / 3600,
                    seconds / 60 % 60,
                    seconds % 60,
                    rng.gen_range(0..1000),
                    levels[rng.gen_range(0..levels.len())],
                    modules[rng.gen_range(0..modules.len())],
                    "worker",
                    rng.gen_range(1..9),
                    messages[rng.gen_range(0..messages.len())]
                );
                data.extend_from_slice(line.as_bytes());
            }
            data.truncate(size);
        }
    }
    data.truncate(size);
    data
}

fn file_entity(file: &File) -> Entity {
    let (type_param, disposition) = if file.name.is_ascii() {
        (
            format!("name=\"{}\"", file.name),
            format!("attachment; filename=\"{}\"", file.name),
        )
    } else {
        (
            format!(
                "name=\"{}\"",
                encoded_words(&file.name, Charset::Utf8, false)
            ),
            format!(
                "attachment; filename*=UTF-8''{}",
                percent_encode(&file.name)
            ),
        )
    };
    Entity {
        headers: vec![
            (
                "Content-Type".into(),
                format!("{}; {type_param}", file.content_type),
            ),
            ("Content-Disposition".into(), disposition),
            ("Content-Transfer-Encoding".into(), "base64".into()),
        ],
        body: base64_lines(&file.data),
    }
}

fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// ---------------------------------------------------------------------------
// MIME

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Charset {
    Utf8,
    Latin1,
    Cp1252,
}

impl Charset {
    /// The text as this charset can carry it: ISO-8859-1 has no curly
    /// quotes, euro sign nor ligatures.
    fn prepare(self, text: &str) -> String {
        if self != Charset::Latin1 {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            match c {
                '’' | '‘' => out.push('\''),
                '“' | '”' => out.push('"'),
                '–' | '—' => out.push('-'),
                '…' => out.push_str("..."),
                '€' => out.push_str("EUR"),
                'œ' => out.push_str("oe"),
                'Œ' => out.push_str("OE"),
                c if (c as u32) < 0x80 || (0xA0..=0xFF).contains(&(c as u32)) => out.push(c),
                _ => out.push('?'),
            }
        }
        out
    }

    fn encode(self, text: &str) -> Vec<u8> {
        match self {
            Charset::Utf8 => text.as_bytes().to_vec(),
            // Latin-1 text is the same bytes in Windows-1252.
            Charset::Latin1 => encoding_rs::WINDOWS_1252
                .encode(&self.prepare(text))
                .0
                .into_owned(),
            Charset::Cp1252 => encoding_rs::WINDOWS_1252.encode(text).0.into_owned(),
        }
    }

    /// The name in encoded words.
    fn mime_name(self) -> &'static str {
        match self {
            Charset::Utf8 => "UTF-8",
            Charset::Latin1 => "ISO-8859-1",
            Charset::Cp1252 => "windows-1252",
        }
    }

    /// The name as each client writes it in Content-Type.
    fn label(self, client: Client) -> &'static str {
        match (self, client) {
            (Charset::Utf8, Client::Gmail | Client::Thunderbird) => "UTF-8",
            (Charset::Utf8, _) => "utf-8",
            (Charset::Latin1, Client::Thunderbird) => "ISO-8859-1",
            (Charset::Latin1, _) => "iso-8859-1",
            (Charset::Cp1252, _) => "windows-1252",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cte {
    EightBit,
    Qp,
    Base64,
}

fn encoding(rng: &mut ChaCha8Rng, client: Client, lang: Language) -> (Charset, Cte) {
    match client {
        Client::Gmail => (
            Charset::Utf8,
            weighted(rng, &[(Cte::Qp, 0.8), (Cte::Base64, 0.2)]),
        ),
        Client::Outlook => (
            match lang {
                Language::Fr => weighted(rng, &[(Charset::Cp1252, 0.7), (Charset::Latin1, 0.3)]),
                Language::En => weighted(rng, &[(Charset::Cp1252, 0.6), (Charset::Utf8, 0.4)]),
            },
            weighted(rng, &[(Cte::Qp, 0.85), (Cte::Base64, 0.15)]),
        ),
        Client::Thunderbird => (
            weighted(rng, &[(Charset::Utf8, 0.8), (Charset::Latin1, 0.2)]),
            weighted(
                rng,
                &[(Cte::EightBit, 0.85), (Cte::Qp, 0.1), (Cte::Base64, 0.05)],
            ),
        ),
        Client::AppleMail => (
            Charset::Utf8,
            weighted(rng, &[(Cte::Qp, 0.9), (Cte::EightBit, 0.1)]),
        ),
        Client::Zimbra => (
            weighted(rng, &[(Charset::Utf8, 0.7), (Charset::Latin1, 0.3)]),
            weighted(
                rng,
                &[(Cte::Qp, 0.6), (Cte::Base64, 0.2), (Cte::EightBit, 0.2)],
            ),
        ),
    }
}

/// A MIME entity: its header fields and its encoded body (CRLF).
#[derive(Debug, Clone)]
struct Entity {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// A text part: the text (LF) in canonical form, in the charset, with the
/// transfer encoding.
fn text_entity(subtype: &str, text: &str, charset: Charset, cte: Cte, client: Client) -> Entity {
    let bytes = charset.encode(&text.replace('\n', "\r\n"));
    let (label, body) = match cte {
        Cte::EightBit if bytes.is_ascii() => ("7bit", bytes),
        Cte::EightBit => ("8bit", bytes),
        Cte::Qp => ("quoted-printable", quoted_printable(&bytes)),
        Cte::Base64 => ("base64", base64_lines(&bytes)),
    };
    let content_type = match client {
        Client::Gmail | Client::Outlook => {
            format!("text/{subtype}; charset=\"{}\"", charset.label(client))
        }
        _ => format!("text/{subtype}; charset={}", charset.label(client)),
    };
    Entity {
        headers: vec![
            ("Content-Type".into(), content_type),
            ("Content-Transfer-Encoding".into(), label.into()),
        ],
        body,
    }
}

/// A part written as is (7bit or 8bit text, LF line endings).
fn raw_entity(headers: &[(&str, &str)], text: &str) -> Entity {
    Entity {
        headers: headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect(),
        body: text.replace('\n', "\r\n").into_bytes(),
    }
}

fn multipart(subtype: &str, boundary: String, parts: Vec<Entity>, params: &str) -> Entity {
    let mut body = Vec::new();
    body.extend_from_slice(b"This is a multi-part message in MIME format.\r\n");
    for part in parts {
        body.extend_from_slice(format!("\r\n--{boundary}\r\n").as_bytes());
        for (name, value) in &part.headers {
            push_header(&mut body, name, value);
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(&part.body);
    }
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Entity {
        headers: vec![(
            "Content-Type".into(),
            format!("multipart/{subtype}{params}; boundary=\"{boundary}\""),
        )],
        body,
    }
}

fn boundary(rng: &mut ChaCha8Rng, client: Client) -> String {
    match client {
        Client::Gmail => format!("000000000000{}", hex(rng, 12)),
        Client::Outlook => format!("_000_{}_", alnum(rng, 40)),
        Client::Thunderbird => format!("------------{}", alnum(rng, 24)),
        Client::AppleMail => format!("Apple-Mail={}", uuid(rng).to_uppercase()),
        Client::Zimbra => format!(
            "----=_Part_{}_{}.{}",
            rng.gen_range(100_000..999_999),
            rng.gen_range(100_000..999_999),
            rng.gen_range(1_700_000_000_000u64..1_800_000_000_000)
        ),
    }
}

/// The MIME structure in a few words.
fn describe(entity: &Entity, charset: Charset, cte: Cte) -> String {
    let content_type = |e: &Entity| {
        e.headers
            .iter()
            .find(|(n, _)| n == "Content-Type")
            .map(|(_, v)| v.split(';').next().unwrap_or_default().to_owned())
            .unwrap_or_default()
    };
    let top = content_type(entity);
    let cte = match cte {
        Cte::EightBit => "8bit",
        Cte::Qp => "quoted-printable",
        Cte::Base64 => "base64",
    };
    format!("{top} {} {cte}", charset.mime_name().to_lowercase())
}

/// Writes the message: its header fields, the entity's, the body.
fn finish(out: &mut Vec<u8>, headers: Vec<(String, String)>, entity: Entity) {
    for (name, value) in &headers {
        push_header(out, name, value);
    }
    if !headers.iter().any(|(n, _)| n == "MIME-Version") {
        push_header(out, "MIME-Version", "1.0");
    }
    for (name, value) in &entity.headers {
        push_header(out, name, value);
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&entity.body);
}

/// A header field, folded at spaces to keep lines near 78 characters.
/// Line breaks already in the value (LF) are kept as folds.
fn push_header(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b":");
    let mut line_len = name.len() + 1;
    for (i, segment) in value.split('\n').enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\r\n");
            line_len = 0;
        }
        for (j, word) in segment.split(' ').enumerate() {
            let first_of_value = i == 0 && j == 0;
            if i > 0 && j == 0 {
                // The segment brings its own leading white space (a tab).
                out.extend_from_slice(word.as_bytes());
                line_len += word.len();
                continue;
            }
            if !first_of_value && line_len + 1 + word.len() > 78 && line_len > 1 {
                out.extend_from_slice(b"\r\n");
                line_len = 0;
            }
            out.push(b' ');
            out.extend_from_slice(word.as_bytes());
            line_len += 1 + word.len();
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// Renders a customer's message; returns the bytes, the MIME description
/// and the plain text as sent (for later quoting).
fn render(rng: &mut ChaCha8Rng, mail: &Mail<'_>) -> (Vec<u8>, String, String) {
    let c = mail.customer;
    let client = c.client;
    let fr = c.lang == Language::Fr;
    let mut headers: Vec<(String, String)> = vec![
        ("Return-Path".into(), format!("<{}>", c.email)),
        (
            "Received".into(),
            received(rng, client, &c.domain, mail.date),
        ),
    ];
    let h = |headers: &mut Vec<(String, String)>, n: &str, v: String| {
        headers.push((n.to_owned(), v));
    };
    let b_words = match client {
        Client::Thunderbird => true,
        Client::Gmail | Client::AppleMail => rng.gen_bool(0.5),
        Client::Outlook | Client::Zimbra => false,
    };
    if client == Client::Gmail {
        h(&mut headers, "MIME-Version", "1.0".into());
    }
    h(&mut headers, "Date", rfc2822(mail.date));
    h(
        &mut headers,
        "From",
        mailbox(&c.name, &c.email, mail.charset, client == Client::Outlook),
    );
    h(
        &mut headers,
        "To",
        match mail.to_name {
            Some(name) => format!("{name} <{}>", mail.to),
            None => mail.to.clone(),
        },
    );
    if let Some((name, email)) = &mail.cc {
        h(
            &mut headers,
            "Cc",
            mailbox(name, email, mail.charset, false),
        );
    }
    h(
        &mut headers,
        "Subject",
        header_text(&mail.subject, mail.charset, b_words),
    );
    h(&mut headers, "Message-ID", format!("<{}>", mail.id));
    if let Some(parent) = &mail.in_reply_to {
        h(&mut headers, "In-Reply-To", parent.clone());
        h(&mut headers, "References", mail.references.join(" "));
    }
    match client {
        Client::Outlook => {
            h(&mut headers, "X-Mailer", "Microsoft Outlook 16.0".into());
            h(
                &mut headers,
                "Thread-Index",
                format!("AQ{}", alnum(rng, 30)),
            );
            h(
                &mut headers,
                "Content-Language",
                if fr { "fr-FR" } else { "en-US" }.into(),
            );
        }
        Client::Thunderbird => {
            h(&mut headers, "User-Agent", "Mozilla Thunderbird".into());
            if rng.gen_bool(0.5) {
                h(
                    &mut headers,
                    "Content-Language",
                    if fr { "fr" } else { "en-US" }.into(),
                );
            }
        }
        Client::AppleMail => {
            h(
                &mut headers,
                "X-Mailer",
                if rng.gen_bool(0.5) {
                    "Apple Mail (2.3826.400.131.1.6)"
                } else {
                    "iPhone Mail (22D72)"
                }
                .into(),
            );
        }
        Client::Zimbra => {
            h(
                &mut headers,
                "X-Mailer",
                "Zimbra 9.0.0_GA_4583 (ZimbraWebClient - FF136 (Win)/9.0.0_GA_4583)".into(),
            );
            h(
                &mut headers,
                "X-Originating-IP",
                format!(
                    "[10.{}.{}.{}]",
                    rng.gen_range(0..255),
                    rng.gen_range(0..255),
                    rng.gen_range(1..255)
                ),
            );
        }
        Client::Gmail => {}
    }

    let sent_text = {
        let text = mail.doc.text();
        if mail.cte == Cte::EightBit {
            wrap(&text, 76)
        } else {
            text
        }
    };
    let body = if mail.html_only {
        text_entity(
            "html",
            &mail.doc.html(client, mail.charset),
            mail.charset,
            mail.cte,
            client,
        )
    } else if mail.alternative {
        multipart(
            "alternative",
            boundary(rng, client),
            vec![
                text_entity("plain", &sent_text, mail.charset, mail.cte, client),
                text_entity(
                    "html",
                    &mail.doc.html(client, mail.charset),
                    mail.charset,
                    mail.cte,
                    client,
                ),
            ],
            "",
        )
    } else {
        text_entity("plain", &sent_text, mail.charset, mail.cte, client)
    };
    let body_type = describe(&body, mail.charset, mail.cte);
    let entity = if mail.files.is_empty() {
        body
    } else {
        let mut parts = vec![body];
        parts.extend(mail.files.iter().map(file_entity));
        multipart("mixed", boundary(rng, client), parts, "")
    };
    let mime = if mail.files.is_empty() {
        body_type
    } else {
        format!("multipart/mixed [{body_type}] +{} files", mail.files.len())
    };
    let mut raw = Vec::new();
    finish(&mut raw, headers, entity);
    (raw, mime, sent_text)
}

/// An address with its display name, encoded when it is not ASCII.
fn mailbox(name: &str, email: &str, charset: Charset, quote: bool) -> String {
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
fn header_text(text: &str, charset: Charset, b: bool) -> String {
    if text.is_ascii() {
        text.to_owned()
    } else {
        encoded_words(text, charset, b)
    }
}

/// RFC 2047 encoded words of at most 75 characters, whole characters in
/// each, separated by spaces (where the header folds).
fn encoded_words(text: &str, charset: Charset, b: bool) -> String {
    let prefix = format!("=?{}?{}?", charset.mime_name(), if b { "B" } else { "Q" });
    let room = 75 - prefix.len() - 2;
    let mut words = Vec::new();
    let mut bytes: Vec<u8> = Vec::new();
    let mut q = String::new();
    let mut utf8 = [0u8; 4];
    for c in text.chars() {
        let encoded = charset.encode(c.encode_utf8(&mut utf8));
        if b {
            if !bytes.is_empty() && (bytes.len() + encoded.len()).div_ceil(3) * 4 > room {
                words.push(format!("{prefix}{}?=", base64(&bytes)));
                bytes.clear();
            }
            bytes.extend_from_slice(&encoded);
        } else {
            let piece: String = encoded
                .iter()
                .map(|&byte| match byte {
                    b' ' => "_".to_owned(),
                    b'!' | b'*' | b'+' | b'-' | b'/' => (byte as char).to_string(),
                    byte if byte.is_ascii_alphanumeric() => (byte as char).to_string(),
                    byte => format!("={byte:02X}"),
                })
                .collect();
            if !q.is_empty() && q.len() + piece.len() > room {
                words.push(format!("{prefix}{q}?="));
                q.clear();
            }
            q.push_str(&piece);
        }
    }
    if b && !bytes.is_empty() {
        words.push(format!("{prefix}{}?=", base64(&bytes)));
    }
    if !b && !q.is_empty() {
        words.push(format!("{prefix}{q}?="));
    }
    words.join(" ")
}

/// Quoted-printable (RFC 2045 6.7) of CRLF text: lines of at most 76
/// characters with soft breaks, trailing white space encoded.
fn quoted_printable(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 8);
    let mut lines = bytes.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let mut column = 0;
        for (i, &b) in line.iter().enumerate() {
            let last = i + 1 == line.len();
            let literal =
                ((b == b' ' || b == b'\t') && !last) || ((33..=126).contains(&b) && b != b'=');
            let width = if literal { 1 } else { 3 };
            if column + width > 75 {
                out.extend_from_slice(b"=\r\n");
                column = 0;
            }
            if literal {
                out.push(b);
            } else {
                out.extend_from_slice(format!("={b:02X}").as_bytes());
            }
            column += width;
        }
        if lines.peek().is_some() {
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = match chunk.len() {
            3 => (u32::from(chunk[0]) << 16) | (u32::from(chunk[1]) << 8) | u32::from(chunk[2]),
            2 => (u32::from(chunk[0]) << 16) | (u32::from(chunk[1]) << 8),
            _ => u32::from(chunk[0]) << 16,
        };
        out.push(BASE64[(n >> 18) as usize & 63] as char);
        out.push(BASE64[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            BASE64[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            BASE64[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// Base64 in lines of 76 characters, each ending with CRLF.
fn base64_lines(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() / 3 * 4 + bytes.len() / 28 + 8);
    for chunk in bytes.chunks(57) {
        out.extend_from_slice(base64(chunk).as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

// ---------------------------------------------------------------------------
// Headers and identifiers

fn rfc2822(date: DateTime<FixedOffset>) -> String {
    date.format("%a, %-d %b %Y %H:%M:%S %z").to_string()
}

fn received(
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
fn message_id(rng: &mut ChaCha8Rng, customer: &Customer, date: DateTime<FixedOffset>) -> String {
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

fn canonical_id(id: &str) -> String {
    crate::intake::MessageId::parse(id)
        .map(|m| m.to_string())
        .unwrap_or_else(|| id.to_owned())
}

fn hex(rng: &mut ChaCha8Rng, n: usize) -> String {
    const DIGITS: &[u8] = b"0123456789abcdef";
    (0..n)
        .map(|_| DIGITS[rng.gen_range(0..16)] as char)
        .collect()
}

fn alnum(rng: &mut ChaCha8Rng, n: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..n)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

fn uuid(rng: &mut ChaCha8Rng) -> String {
    let h = hex(rng, 32);
    format!(
        "{}-{}-4{}-{}{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        pick(rng, &['8', '9', 'a', 'b']),
        &h[17..20],
        &h[20..]
    )
}

// ---------------------------------------------------------------------------
// Small helpers

fn li(lang: Language) -> usize {
    match lang {
        Language::Fr => 0,
        Language::En => 1,
    }
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

fn pick_str(rng: &mut ChaCha8Rng, items: &[&'static str]) -> &'static str {
    items[rng.gen_range(0..items.len())]
}

fn weighted<T: Copy>(rng: &mut ChaCha8Rng, items: &[(T, f64)]) -> T {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.r#gen::<f64>() * total;
    for &(item, w) in items {
        if x < w {
            return item;
        }
        x -= w;
    }
    items[items.len() - 1].0
}

/// An address's local part from a name: lower case, no accents, no
/// apostrophes.
fn ascii_fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'â' | 'ä' => out.push('a'),
            'ç' => out.push('c'),
            'é' | 'è' | 'ê' | 'ë' => out.push('e'),
            'î' | 'ï' => out.push('i'),
            'ô' | 'ö' => out.push('o'),
            'ù' | 'û' | 'ü' => out.push('u'),
            'ÿ' => out.push('y'),
            'œ' => out.push_str("oe"),
            c if c.is_ascii_alphanumeric() || c == '-' => out.push(c),
            _ => {}
        }
    }
    out
}

/// `Label : value` in French (a space, sometimes a no-break one, before the
/// colon), `Label: value` in English.
fn keyword(rng: &mut ChaCha8Rng, lang: Language, label: &str, value: &str) -> String {
    match lang {
        Language::Fr => match rng.gen_range(0..10) {
            0 => format!("{label}: {value}"),
            1 => format!("{label}\u{a0}: {value}"),
            _ => format!("{label} : {value}"),
        },
        Language::En => format!("{label}: {value}"),
    }
}

/// Products as people list them: `Atlas et Nova`, `Atlas ERP, Nova app`.
fn product_list(rng: &mut ChaCha8Rng, lang: Language, products: &[usize]) -> String {
    let names: Vec<&str> = products
        .iter()
        .map(|&p| *pick(rng, PRODUCT_ALIASES[p]))
        .collect();
    if names.len() < 2 {
        return names.concat();
    }
    let joiner = match (lang, rng.gen_range(0..3)) {
        (Language::Fr, 0) => " et ",
        (Language::En, 0) => " and ",
        (_, 1) => " / ",
        _ => ", ",
    };
    names.join(joiner)
}

/// Values filled into sentence templates.
struct Vars {
    version: String,
    n: u32,
    day: usize,
    browser: &'static str,
    error: &'static str,
}

impl Vars {
    fn random(rng: &mut ChaCha8Rng, product: usize) -> Self {
        Vars {
            version: format!(
                "{}.{}.{}",
                rng.gen_range(3..9),
                rng.gen_range(0..10),
                rng.gen_range(0..6)
            ),
            n: rng.gen_range(2..40),
            day: rng.gen_range(0..5),
            browser: pick_str(rng, &["Firefox 128", "Chrome 124", "Edge 125"]),
            error: pick_str(rng, ERRORS[product]),
        }
    }

    fn fill(&self, template: &str, lang: Language) -> String {
        template
            .replace("{v}", &self.version)
            .replace("{n}", &self.n.to_string())
            .replace("{day}", DAYS[li(lang)][self.day])
            .replace("{browser}", self.browser)
            .replace("{err}", self.error)
    }
}

// ---------------------------------------------------------------------------
// Vocabulary and phrases. Index 0 is French, 1 English.

const PRODUCTS: [&str; 4] = ["Atlas", "Helios", "Nova", "Orbit"];
const PRODUCT_ALIASES: [&[&str]; 4] = [
    &["Atlas", "Atlas", "Atlas ERP", "atlas-erp"],
    &["Helios", "Helios", "Helios CRM"],
    &["Nova", "Nova", "Nova mobile", "Nova app"],
    &["Orbit", "Orbit", "Orbit gateway"],
];
const PRODUCT_PLUS: [&[&str]; 4] = [&["atlas", "atlas-erp"], &["helios"], &["nova"], &["orbit"]];
const SEVERITIES: [&str; 4] = ["critical", "high", "medium", "low"];

/// Values after a severity keyword (read with comments after them).
const SEVERITY_WORDS: [[&[&str]; 4]; 2] = [
    [
        &[
            "critique",
            "bloquant",
            "urgent",
            "Critique (production arrêtée)",
            "P1",
        ],
        &[
            "haute",
            "majeure",
            "élevée",
            "Haute, plusieurs utilisateurs touchés",
            "P2",
        ],
        &["normale", "moyenne", "P3"],
        &["basse", "mineure", "faible", "P4"],
    ],
    [
        &[
            "critical",
            "blocker",
            "urgent",
            "P1 - blocking everyone",
            "Critical (production down)",
        ],
        &["high", "major", "P2", "High, several users affected"],
        &["medium", "normal", "moderate", "P3"],
        &["low", "minor", "trivial", "P4"],
    ],
];
/// Severity words that are whole vocabulary terms, for subject tags.
const SEVERITY_TAGS: [[&[&str]; 4]; 2] = [
    [
        &["Urgent", "Critique", "Bloquant", "P1"],
        &["Haute", "Majeure", "P2"],
        &["Normale", "P3"],
        &["Basse", "Mineure", "P4"],
    ],
    [
        &["Urgent", "Critical", "Blocker", "P1"],
        &["High", "Major", "P2"],
        &["Medium", "Normal", "P3"],
        &["Low", "Minor", "P4"],
    ],
];
const SEVERITY_LABELS: [&[&str]; 2] = [
    &[
        "Gravité",
        "Priorité",
        "Urgence",
        "Criticité",
        "Sévérité",
        "GRAVITÉ",
    ],
    &["Severity", "Priority", "Urgency", "Impact"],
];
const PRODUCT_LABELS: [&[&str]; 2] = [
    &["Produit", "Produit concerné", "Logiciel", "Produit(s)"],
    &["Product", "Software", "Product(s)"],
];
const PRODUCTS_LABELS: [&[&str]; 2] = [
    &["Produits", "Produits concernés", "Produit(s)"],
    &["Products", "Product(s)"],
];
const TYPE_LABELS: [&[&str]; 2] = [
    &["Type de demande", "Type", "Nature de la demande"],
    &["Request type", "Type"],
];
const FEATURE_WORDS: [&[&str]; 2] = [
    &[
        "évolution",
        "Nouvelle fonctionnalité",
        "demande d'évolution",
        "amélioration",
        "suggestion",
    ],
    &["feature request", "enhancement", "feature", "suggestion"],
];
const FEATURE_TAGS: [&[&str]; 2] = [
    &[
        "Évolution",
        "Suggestion",
        "Nouvelle fonctionnalité",
        "Amélioration",
    ],
    &["Feature", "Feature request", "Enhancement"],
];
const SUPPORT_TAGS: [&[&str]; 2] = [
    &["Bug", "Incident", "Anomalie"],
    &["Bug", "Incident", "Question"],
];
const SUPPORT_WORDS: [&[&str]; 2] = [
    &["incident", "anomalie", "assistance", "problème", "bug"],
    &["incident", "bug", "support request", "question", "problem"],
];

struct Topic {
    product: usize,
    feature: bool,
    subject: [&'static str; 2],
    body: [&'static str; 2],
}

const fn topic(
    product: usize,
    feature: bool,
    subject: [&'static str; 2],
    body: [&'static str; 2],
) -> Topic {
    Topic {
        product,
        feature,
        subject,
        body,
    }
}

const SUPPORT_TOPICS: &[Topic] = &[
    topic(
        0,
        false,
        [
            "Erreur 500 lors de l'export des factures en PDF",
            "Invoice PDF export fails with error 500",
        ],
        [
            "Depuis la mise à jour en version {v}, l'export des factures au format PDF échoue avec une erreur 500. Le problème ne concerne que les factures de plus de deux cents lignes.",
            "Since the upgrade to version {v}, exporting invoices to PDF fails with an error 500. It only happens for invoices with more than two hundred lines.",
        ],
    ),
    topic(
        0,
        false,
        [
            "Écart de stock après l'inventaire",
            "Stock levels wrong after the inventory count",
        ],
        [
            "Après la validation de l'inventaire de {day}, les quantités en stock affichées dans Atlas ne correspondent plus au comptage pour {n} références.",
            "After we validated the inventory count on {day}, the stock levels shown in Atlas no longer match what we counted for {n} items.",
        ],
    ),
    topic(
        0,
        false,
        [
            "Lenteurs importantes sur la saisie des commandes",
            "Order entry has become very slow",
        ],
        [
            "La validation d'une commande client prend maintenant plus d'une minute dans Atlas, alors qu'elle était quasi instantanée la semaine dernière.",
            "Confirming a customer order in Atlas now takes more than a minute, while it was almost instant last week.",
        ],
    ),
    topic(
        0,
        false,
        [
            "Impossible de clôturer l'exercice comptable",
            "Cannot close the financial year",
        ],
        [
            "La clôture de l'exercice s'arrête à l'étape de contrôle des écritures et nous ne pouvons pas aller plus loin.",
            "The year-end closing stops at the journal check step and we cannot get any further.",
        ],
    ),
    topic(
        0,
        false,
        [
            "Les bons de commande ne partent plus par e-mail",
            "Purchase orders are no longer emailed to suppliers",
        ],
        [
            "Les bons de commande validés dans Atlas restent au statut « en attente d'envoi » et nos fournisseurs ne les reçoivent pas.",
            "Purchase orders approved in Atlas stay in the \"waiting to be sent\" state and our suppliers never receive them.",
        ],
    ),
    topic(
        0,
        false,
        [
            "Arrondi incorrect sur la TVA des avoirs",
            "VAT rounding is wrong on credit notes",
        ],
        [
            "Sur les avoirs, le montant de TVA calculé par Atlas diffère d'un centime du montant attendu, ce qui bloque le rapprochement comptable.",
            "On credit notes, the VAT amount calculated by Atlas is one cent off, which blocks our reconciliation.",
        ],
    ),
    topic(
        1,
        false,
        [
            "Synchronisation des contacts Outlook bloquée",
            "Outlook contact sync stuck",
        ],
        [
            "La synchronisation des contacts entre Helios et Outlook est bloquée depuis {day} pour {n} commerciaux.",
            "Contact synchronisation between Helios and Outlook has been stuck since {day} for {n} of our sales reps.",
        ],
    ),
    topic(
        1,
        false,
        [
            "Message « Licence expirée » au démarrage d'Helios",
            "Licence expired message when starting Helios",
        ],
        [
            "Au démarrage d'Helios, plusieurs postes affichent le message « Licence expirée » alors que notre contrat a été renouvelé le mois dernier.",
            "When Helios starts, several machines show a \"Licence expired\" message although our contract was renewed last month.",
        ],
    ),
    topic(
        1,
        false,
        [
            "Les campagnes e-mail partent en double",
            "Email campaigns are sent twice",
        ],
        [
            "Notre dernière campagne e-mail programmée dans Helios a été envoyée deux fois à toute la liste, soit plus de {n} cents contacts.",
            "Our last email campaign scheduled in Helios was sent twice to the whole list, which is more than {n} hundred contacts.",
        ],
    ),
    topic(
        1,
        false,
        [
            "Tableau de bord du pipeline vide",
            "Pipeline dashboard shows no data",
        ],
        [
            "Le tableau de bord du pipeline commercial n'affiche plus aucune donnée, alors que les opportunités sont bien visibles dans la liste.",
            "The sales pipeline dashboard no longer shows any data, although the opportunities are still visible in the list.",
        ],
    ),
    topic(
        1,
        false,
        [
            "Import CSV des prospects refusé",
            "Lead CSV import rejected",
        ],
        [
            "L'import de notre fichier de prospects est refusé avec le message « {err} », alors que le même fichier passait sans problème le mois dernier.",
            "Importing our leads file is rejected with the message \"{err}\", although the same file went through fine last month.",
        ],
    ),
    topic(
        1,
        false,
        [
            "Droits d'accès perdus pour l'équipe commerciale",
            "Sales team lost their access rights",
        ],
        [
            "Depuis ce matin, les membres de l'équipe commerciale ne voient plus les fiches clients de leur secteur dans Helios.",
            "Since this morning, the members of our sales team can no longer see the customer records of their region in Helios.",
        ],
    ),
    topic(
        2,
        false,
        [
            "L'application Nova plante au démarrage",
            "Nova app crashes on launch",
        ],
        [
            "L'application Nova se ferme dès l'ouverture sur les téléphones de nos techniciens depuis la version {v}.",
            "The Nova app closes as soon as it is opened on our technicians' phones since version {v}.",
        ],
    ),
    topic(
        2,
        false,
        [
            "Les notifications n'arrivent plus sur iPhone",
            "Push notifications no longer arrive on iPhone",
        ],
        [
            "Les notifications de nouvelles interventions n'arrivent plus sur les iPhone, alors qu'elles fonctionnent toujours sur Android.",
            "Notifications for new jobs no longer arrive on iPhones, while they still work on Android.",
        ],
    ),
    topic(
        2,
        false,
        [
            "Synchronisation hors ligne incomplète",
            "Offline sync loses data",
        ],
        [
            "Quand les techniciens travaillent hors ligne, une partie des rapports saisis dans Nova disparaît à la synchronisation suivante.",
            "When our technicians work offline, some of the reports they enter in Nova are lost at the next sync.",
        ],
    ),
    topic(
        2,
        false,
        [
            "Connexion impossible après changement de mot de passe",
            "Cannot log in after a password change",
        ],
        [
            "Après le changement de mot de passe imposé {day}, {n} utilisateurs ne peuvent plus se connecter à l'application Nova.",
            "After the password change we enforced on {day}, {n} users can no longer log in to the Nova app.",
        ],
    ),
    topic(
        2,
        false,
        [
            "Photos des bons de livraison illisibles",
            "Photos of delivery notes are unreadable",
        ],
        [
            "Les photos des bons de livraison prises depuis Nova arrivent floues et très compressées dans le dossier client.",
            "Photos of delivery notes taken from Nova arrive blurry and heavily compressed in the customer file.",
        ],
    ),
    topic(
        2,
        false,
        ["Écran blanc sur Android 15", "Blank screen on Android 15"],
        [
            "Sur les téléphones passés sous Android 15, Nova reste bloquée sur un écran blanc après l'écran de connexion.",
            "On phones upgraded to Android 15, Nova gets stuck on a blank screen right after the login screen.",
        ],
    ),
    topic(
        3,
        false,
        [
            "Timeouts sur l'API de facturation",
            "Billing API calls time out",
        ],
        [
            "Une partie des appels à l'API de facturation via Orbit échoue avec l'erreur « {err} » depuis {day}.",
            "Some of our calls to the billing API through Orbit fail with \"{err}\" since {day}.",
        ],
    ),
    topic(
        3,
        false,
        [
            "Certificat TLS expiré sur la passerelle",
            "TLS certificate expired on the gateway",
        ],
        [
            "Nos partenaires nous signalent que le certificat présenté par la passerelle Orbit a expiré, et leurs appels sont refusés.",
            "Our partners tell us that the certificate presented by the Orbit gateway has expired, and their calls are refused.",
        ],
    ),
    topic(
        3,
        false,
        ["Webhooks reçus en double", "Webhooks delivered twice"],
        [
            "Depuis la mise à jour {v} d'Orbit, chaque webhook de paiement est reçu deux fois par notre serveur.",
            "Since the Orbit {v} update, every payment webhook reaches our server twice.",
        ],
    ),
    topic(
        3,
        false,
        [
            "Erreur 429 alors que le quota n'est pas atteint",
            "Error 429 although we are under the quota",
        ],
        [
            "Orbit renvoie des erreurs 429 alors que nous sommes très loin du quota prévu dans notre contrat.",
            "Orbit returns 429 errors although we are far below the quota in our contract.",
        ],
    ),
    topic(
        3,
        false,
        [
            "Les journaux d'audit ne sont plus alimentés",
            "Audit logs are no longer written",
        ],
        [
            "Les journaux d'audit de la passerelle sont vides depuis {day}, alors que le trafic est normal.",
            "The gateway audit logs have been empty since {day}, although the traffic is normal.",
        ],
    ),
    topic(
        3,
        false,
        ["Redirection OAuth en boucle", "OAuth redirect loops"],
        [
            "La connexion de nos utilisateurs via OAuth part en boucle de redirection entre Orbit et notre fournisseur d'identité.",
            "Our users' OAuth login goes into a redirect loop between Orbit and our identity provider.",
        ],
    ),
];

const FEATURE_TOPICS: &[Topic] = &[
    topic(
        0,
        true,
        [
            "Export des écritures au format FEC",
            "Export journal entries for our accountant",
        ],
        [
            "Nous aimerions pouvoir exporter les écritures comptables au format FEC directement depuis Atlas, sans passer par un tableur.",
            "We would like to export the journal entries in a format our accountant can import, directly from Atlas and without a spreadsheet.",
        ],
    ),
    topic(
        0,
        true,
        ["Pouvoir dupliquer un devis", "Allow duplicating a quote"],
        [
            "Il serait très pratique de pouvoir dupliquer un devis existant pour un autre client au lieu de tout ressaisir.",
            "It would be very handy to duplicate an existing quote for another customer instead of typing everything again.",
        ],
    ),
    topic(
        0,
        true,
        [
            "Filtre par entrepôt dans les états de stock",
            "Filter stock reports by warehouse",
        ],
        [
            "Nous avons maintenant trois entrepôts et il nous faudrait un filtre par entrepôt dans les états de stock.",
            "We now have three warehouses and we need a warehouse filter in the stock reports.",
        ],
    ),
    topic(
        1,
        true,
        [
            "Intégration de Helios avec Teams",
            "Microsoft Teams integration for Helios",
        ],
        [
            "Nos commerciaux aimeraient recevoir les rappels d'Helios directement dans Microsoft Teams.",
            "Our sales reps would like to get the Helios reminders directly in Microsoft Teams.",
        ],
    ),
    topic(
        1,
        true,
        [
            "Champs personnalisés sur les opportunités",
            "Custom fields on opportunities",
        ],
        [
            "Nous aurions besoin d'ajouter nos propres champs sur les opportunités, par exemple le canal d'acquisition.",
            "We need to add our own fields to opportunities, for example the acquisition channel.",
        ],
    ),
    topic(
        1,
        true,
        [
            "Rappels automatiques avant échéance des contrats",
            "Automatic reminders before contract renewals",
        ],
        [
            "Ce serait utile que Helios envoie un rappel au commercial un mois avant l'échéance de chaque contrat.",
            "It would be useful if Helios reminded the account owner one month before each contract renewal.",
        ],
    ),
    topic(
        2,
        true,
        [
            "Mode sombre dans l'application Nova",
            "Dark mode in the Nova app",
        ],
        [
            "Nos techniciens travaillent souvent de nuit et demandent un mode sombre dans l'application Nova.",
            "Our technicians often work at night and are asking for a dark mode in the Nova app.",
        ],
    ),
    topic(
        2,
        true,
        [
            "Signature du client sur le bon d'intervention",
            "Customer signature on the job report",
        ],
        [
            "Nous voudrions que le client puisse signer le bon d'intervention directement sur le téléphone du technicien.",
            "We would like the customer to sign the job report directly on the technician's phone.",
        ],
    ),
    topic(
        2,
        true,
        [
            "Scan des codes-barres en continu",
            "Continuous barcode scanning",
        ],
        [
            "Pour les inventaires, il faudrait pouvoir scanner plusieurs codes-barres à la suite sans revenir à l'écran précédent.",
            "For stock counts we need to scan several barcodes in a row without going back to the previous screen.",
        ],
    ),
    topic(
        3,
        true,
        ["Signature HMAC des webhooks", "HMAC signatures on webhooks"],
        [
            "Pour des raisons de sécurité, nous souhaiterions que les webhooks envoyés par Orbit soient signés avec HMAC.",
            "For security reasons we would like the webhooks sent by Orbit to carry an HMAC signature.",
        ],
    ),
    topic(
        3,
        true,
        [
            "Limites de débit par client API",
            "Per-client API rate limits",
        ],
        [
            "Nous aimerions pouvoir fixer une limite de débit différente pour chacun de nos clients API.",
            "We would like to set a different rate limit for each of our API clients.",
        ],
    ),
    topic(
        3,
        true,
        [
            "Export des métriques vers Prometheus",
            "Prometheus metrics export",
        ],
        [
            "Ce serait bien de pouvoir collecter les métriques de la passerelle Orbit avec notre Prometheus.",
            "It would be great to scrape the Orbit gateway metrics with our Prometheus.",
        ],
    ),
];

const ERRORS: [&[&str]; 4] = [
    &[
        "HTTP 500 Internal Server Error",
        "Deadlock found when trying to get lock",
        "ORA-01555 snapshot too old",
    ],
    &[
        "Invalid column count on line 2",
        "LicenseCheckFailed",
        "Sync token expired",
    ],
    &[
        "NullPointerException in SyncWorker",
        "Session expired",
        "Unable to reach server",
    ],
    &[
        "504 Gateway Timeout",
        "upstream request timeout",
        "certificate has expired",
    ],
];

const DETAILS: [&[&str]; 2] = [
    &[
        "Le problème touche {n} utilisateurs sur nos deux sites.",
        "Nous avons déjà redémarré les postes et vidé le cache du navigateur, sans effet.",
        "Le message d'erreur affiché est « {err} ».",
        "Cela fonctionnait encore correctement {day} dernier.",
        "Nous utilisons la version {v} sous Windows 11 avec {browser}.",
        "Le souci apparaît aussi bien sur les postes fixes que sur les portables.",
        "Un collègue rencontre exactement le même comportement depuis ce matin.",
        "Nous n'avons fait aucune modification de paramétrage de notre côté.",
        "Le problème est intermittent, environ une tentative sur trois échoue.",
        "Nous avons essayé avec un autre compte utilisateur et le résultat est le même.",
        "D'après nos premières constatations, le problème a commencé après la maintenance de cette nuit.",
        "Je peux vous donner un accès à distance si besoin.",
    ],
    &[
        "It affects {n} users across both of our sites.",
        "We have already restarted the machines and cleared the browser cache, with no change.",
        "The error message says \"{err}\".",
        "It was still working fine last {day}.",
        "We are on version {v} on Windows 11 with {browser}.",
        "The problem happens on desktops and laptops alike.",
        "A colleague has been seeing exactly the same behaviour since this morning.",
        "We have not changed any settings on our side.",
        "It is intermittent, roughly one attempt in three fails.",
        "We tried with another user account and got the same result.",
        "From what we can see, the problem started after last night's maintenance window.",
        "I can give you remote access if needed.",
    ],
];

const IMPACT: [[&[&str]; 4]; 2] = [
    [
        &[
            "La production est complètement arrêtée, c'est bloquant pour toute l'équipe.",
            "Nous ne pouvons plus facturer nos clients, merci de traiter ce problème en priorité.",
        ],
        &[
            "Cela ralentit fortement notre activité.",
            "Plusieurs commandes sont en attente à cause de ce problème.",
        ],
        &[
            "Nous avons un contournement pour le moment, mais ce n'est pas tenable longtemps.",
            "Ce n'est pas bloquant mais cela nous fait perdre du temps.",
        ],
        &[
            "Ce n'est pas urgent, mais c'est assez gênant au quotidien.",
            "Rien de bloquant, c'est surtout un souci de confort.",
        ],
    ],
    [
        &[
            "Production is completely stopped, this is blocking the whole team.",
            "We cannot invoice our customers any more, please treat this as a priority.",
        ],
        &[
            "This is slowing our work down a lot.",
            "Several orders are on hold because of this.",
        ],
        &[
            "We have a workaround for now, but it will not hold for long.",
            "It is not blocking but it is costing us time.",
        ],
        &[
            "This is not urgent, but it is quite annoying day to day.",
            "Nothing blocking, it is mostly a comfort issue.",
        ],
    ],
];

const FEATURE_IMPACT: [&[&str]; 2] = [
    &[
        "Cela nous ferait gagner beaucoup de temps au quotidien.",
        "Plusieurs de nos utilisateurs nous le demandent régulièrement.",
    ],
    &[
        "It would save our team a lot of time every week.",
        "Several of our users keep asking for it.",
    ],
];

const REQUESTS: [&[&str]; 2] = [
    &[
        "Pourriez-vous regarder ce qui se passe ?",
        "Pouvez-vous nous indiquer un correctif ou un contournement ?",
        "Merci de me tenir informé de l'avancement.",
        "Pouvez-vous nous rappeler dès que possible ?",
    ],
    &[
        "Could you take a look?",
        "Can you suggest a fix or a workaround?",
        "Please keep me posted.",
        "Could someone call me back as soon as possible?",
    ],
];

const FEATURE_REQUESTS: [&[&str]; 2] = [
    &[
        "Serait-il possible d'ajouter cette fonctionnalité dans une prochaine version ?",
        "Pouvez-vous nous dire si c'est prévu ?",
    ],
    &[
        "Would it be possible to add this in a future release?",
        "Could you tell us whether this is on the roadmap?",
    ],
];

const FILES_ATTACHED: [&[&str]; 2] = [
    &[
        "Vous trouverez en pièce jointe les éléments utiles.",
        "Je joins une capture d'écran et le journal d'erreurs.",
        "Ci-joint le fichier concerné.",
    ],
    &[
        "Please find the relevant files attached.",
        "I have attached a screenshot and the error log.",
        "The file in question is attached.",
    ],
];

const FOLLOW_UPS: [&[&str]; 2] = [
    &[
        "Je me permets de revenir vers vous, le problème est toujours présent ce matin.",
        "Avez-vous du nouveau sur ce sujet ? Nous sommes toujours bloqués.",
        "Petite précision, le problème ne se produit que sur les postes sous Windows 11.",
        "J'ai oublié de préciser que nous sommes en version {v}.",
        "Le problème s'est reproduit cette nuit, avec le même message d'erreur.",
        "Merci pour votre retour, nous attendons le correctif avec impatience.",
    ],
    &[
        "Just following up, the problem is still there this morning.",
        "Any news on this? We are still stuck.",
        "A quick clarification, it only happens on the Windows 11 machines.",
        "I forgot to mention that we are on version {v}.",
        "It happened again last night, with the same error message.",
        "Thanks for getting back to me, we are looking forward to the fix.",
    ],
];

const REPLY_FILES: [&str; 2] = [
    "Vous trouverez ci-joint le fichier demandé.",
    "Please find attached the file you asked for.",
];

const GREETINGS: [&[&str]; 2] = [
    &[
        "Bonjour,",
        "Bonjour à tous,",
        "Bonjour Madame, Monsieur,",
        "Bonjour l'équipe support,",
    ],
    &[
        "Hello,",
        "Hi,",
        "Hi team,",
        "Dear support team,",
        "Good morning,",
    ],
];

const SIGN_OFFS: [&[&str]; 2] = [
    &[
        "Cordialement,",
        "Bien cordialement,",
        "Merci d'avance,",
        "Bonne journée,",
        "Bien à vous,",
    ],
    &[
        "Best regards,",
        "Kind regards,",
        "Thanks,",
        "Many thanks,",
        "Regards,",
    ],
];

const TITLES: [&[&str]; 2] = [
    &[
        "Responsable informatique",
        "Comptable",
        "Directrice administrative",
        "Chef de projet",
        "Assistante de direction",
        "Technicien support",
        "Gérant",
    ],
    &[
        "IT Manager",
        "Accountant",
        "Operations Director",
        "Project Manager",
        "Office Manager",
        "Systems Administrator",
        "Sales Director",
    ],
];

const FIRST_NAMES: [&[&str]; 2] = [
    &[
        "Camille",
        "Julien",
        "Hélène",
        "François",
        "Émilie",
        "Nicolas",
        "Sophie",
        "Thierry",
        "Léa",
        "Mathieu",
        "Céline",
        "Stéphane",
        "Aurélie",
        "Jérôme",
        "Chloé",
        "Benoît",
        "Manon",
        "Grégoire",
        "Isabelle",
        "Loïc",
    ],
    &[
        "Jane", "Michael", "Sarah", "David", "Emily", "James", "Olivia", "Daniel", "Laura",
        "Robert", "Priya", "Thomas", "Hannah", "Kevin", "Rachel", "Andrew", "Megan", "Samuel",
        "Grace", "Owen",
    ],
];

const LAST_NAMES: [&[&str]; 2] = [
    &[
        "Martin",
        "Bernard",
        "Dubois",
        "Lefèvre",
        "Moreau",
        "Girard",
        "Roux",
        "Fournier",
        "Mercier",
        "Lambert",
        "Faure",
        "Rousseau",
        "Blanc",
        "Guérin",
        "Chevalier",
        "Gauthier",
        "Perrin",
        "Masson",
        "Lemoine",
        "Noël",
    ],
    &[
        "Cooper", "Smith", "Patel", "Johnson", "Walker", "Hughes", "O'Neill", "Bennett", "Clarke",
        "Foster", "Turner", "Morgan", "Reed", "Hayes", "Ward", "Price", "Shaw", "Fletcher",
        "Brooks", "Chen",
    ],
];

const fn company(name: &'static str, domain: &'static str, offset: i32) -> Company {
    Company {
        name,
        domain,
        offset,
    }
}

const COMPANIES: [&[Company]; 2] = [
    &[
        company("Boulangeries Marchand", "boulangeries-marchand.fr", 1),
        company("Transports Lemoine", "transports-lemoine.fr", 1),
        company("Clinique du Parc", "clinique-duparc.fr", 1),
        company("Mairie de Saint-Genis", "mairie-saintgenis.fr", 1),
        company("Lumière Optique", "lumiere-optique.fr", 1),
        company("Cabinet Rousseau & Associés", "cabinet-rousseau.fr", 1),
        company("Coopérative agricole du Val", "coop-duval.fr", 1),
        company("Éditions Garnier-Petit", "editions-garnierpetit.fr", 1),
        company("Hôtel Beau Rivage", "hotel-beaurivage.fr", 1),
        company("Menuiserie Perrin", "menuiserie-perrin.fr", 1),
    ],
    &[
        company("Northwind Logistics", "northwind-logistics.com", -5),
        company("Globex Corporation", "globex.com", -5),
        company("Brightwater Dental", "brightwaterdental.co.uk", 0),
        company("Kestrel Analytics", "kestrel-analytics.io", 0),
        company("Maple Leaf Staffing", "mapleleafstaffing.ca", -5),
        company("Riverside Health Group", "riversidehealth.org", -5),
        company("Copperfield Books", "copperfieldbooks.co.uk", 0),
        company("Summit Outdoor Supply", "summitoutdoor.com", -8),
        company("Bluebird Energy", "bluebird-energy.com", -6),
        company("Harbour & Finch", "harbourfinch.co.uk", 0),
    ],
];

const PUBLIC_DOMAINS: [&[&str]; 2] = [
    &[
        "gmail.com",
        "orange.fr",
        "free.fr",
        "outlook.fr",
        "laposte.net",
    ],
    &["gmail.com", "outlook.com", "yahoo.com", "hotmail.com"],
];

const DAYS: [[&str; 5]; 2] = [
    ["lundi", "mardi", "mercredi", "jeudi", "vendredi"],
    ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
];
const FR_DAYS: [&str; 7] = [
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
];
const FR_DAYS_SHORT: [&str; 7] = ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."];
const FR_MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::path::Path;
    use std::sync::LazyLock;

    use super::*;
    use crate::intake::{self, MailboxDefaults, MessageId, Outcome};

    /// The benchmark's set: seed 1, 1,000 messages, the standard mix.
    static STANDARD: LazyLock<Vec<Generated>> =
        LazyLock::new(|| generate(1, 1000, &Mix::standard()));

    static RULES: LazyLock<intake::IntakeRules> = LazyLock::new(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/intake/mailgate.toml");
        crate::config::load(Some(&path), Some(Default::default()))
            .expect("the fixture configuration is valid")
            .intake
    });

    fn small_files(mix: Mix) -> Mix {
        Mix {
            max_attachment: 48 * 1024,
            ..mix
        }
    }

    #[test]
    fn the_same_seed_and_count_give_the_same_bytes() {
        let mix = small_files(Mix::standard());
        let a = generate(42, 200, &mix);
        let b = generate(42, 200, &mix);
        assert_eq!(a, b);
        let streamed: Vec<Generated> = Generator::new(42, 200, &mix).collect();
        assert_eq!(a, streamed);
        let other = generate(43, 200, &mix);
        assert!(a.iter().zip(&other).all(|(x, y)| x.raw != y.raw));
    }

    #[test]
    fn message_ids_are_unique_within_and_across_seeds() {
        let mut seen = HashSet::new();
        for g in STANDARD.iter() {
            assert!(seen.insert(g.message_id.clone()), "{} twice", g.message_id);
        }
        for seed in [2, 3] {
            for g in generate(seed, 1000, &small_files(Mix::standard())) {
                assert!(
                    seen.insert(g.message_id.clone()),
                    "{} again with seed {seed}",
                    g.message_id
                );
            }
        }
    }

    #[test]
    fn the_standard_mix_has_its_proportions() {
        let n = STANDARD.len() as f64;
        let share =
            |f: &dyn Fn(&Generated) -> bool| STANDARD.iter().filter(|g| f(g)).count() as f64 / n;
        let close = |name: &str, got: f64, want: f64| {
            assert!(
                (got - want).abs() <= 0.01,
                "{name}: {got} instead of {want}"
            );
        };
        close("attachments", share(&|g| g.attachments > 0), 0.20);
        close("html-only", share(&|g| g.html_only), 0.05);
        close(
            "robots",
            share(&|g| matches!(g.expect, Expect::Ignored { .. })),
            0.05,
        );
        close(
            "replies",
            share(&|g| matches!(g.expect, Expect::Comment { .. })),
            0.10,
        );
        close(
            "bounces",
            share(&|g| g.expect == Expect::Ignored { reason: "bounce" }),
            0.02,
        );
        let french = share(&|g| match &g.expect {
            Expect::Ticket { language, .. } => *language == Language::Fr,
            _ => false,
        });
        assert!((0.3..0.6).contains(&french), "French tickets: {french}");
        // Variety: every charset and transfer encoding, several products,
        // both request types, every severity.
        for needle in [
            "utf-8",
            "iso-8859-1",
            "windows-1252",
            "8bit",
            "quoted-printable",
            "base64",
        ] {
            assert!(
                STANDARD.iter().filter(|g| g.mime.contains(needle)).count() >= 10,
                "few {needle} messages"
            );
        }
        let mut severities = HashSet::new();
        let mut products = HashSet::new();
        let mut types = HashSet::new();
        for g in STANDARD.iter() {
            if let Expect::Ticket {
                severity,
                products: p,
                request_type,
                ..
            } = &g.expect
            {
                severities.insert(severity.clone());
                products.extend(p.iter().cloned());
                types.insert(request_type.clone());
            }
        }
        assert_eq!(severities.len(), 4);
        assert_eq!(products.len(), 4);
        assert_eq!(types.len(), 2);
        // Sizes: a few KB to 2 MB.
        let sizes: Vec<usize> = STANDARD.iter().map(|g| g.raw.len()).collect();
        assert!(sizes.iter().any(|&s| s > 1_500_000), "no large message");
        assert!(sizes.iter().all(|&s| s < 8 * 1024 * 1024));
    }

    /// Decides every message with the fixture rules and compares with what
    /// the generator promised.
    fn check_against_intake(set: &[Generated], min_attachment: usize, max_attachment: usize) {
        let rules = &*RULES;
        let mut failures = Vec::new();
        let mut replies_text = HashMap::new();
        for g in set {
            let decision = intake::decide(&g.raw, rules, &MailboxDefaults::default());
            let mut fail =
                |what: String| failures.push(format!("#{} ({}): {what}", g.index, g.mime));
            if decision.message.message_id.as_ref().map(MessageId::as_str)
                != Some(g.message_id.as_str())
            {
                fail(format!("message id {:?}", decision.message.message_id));
            }
            if decision.message.subject.as_deref() != Some(g.subject.as_str()) {
                fail(format!(
                    "subject {:?} instead of {:?}",
                    decision.message.subject, g.subject
                ));
            }
            match (&g.expect, &decision.outcome) {
                (
                    Expect::Ticket {
                        severity,
                        products,
                        request_type,
                        language,
                    },
                    Outcome::Ticket { ticket },
                ) => {
                    if (
                        &ticket.severity,
                        &ticket.products,
                        &ticket.request_type,
                        ticket.language,
                    ) != (severity, products, request_type, Some(*language))
                    {
                        fail(format!(
                            "fields {} {:?} {} {:?}, expected {severity} {products:?} {request_type} {language:?}; unrecognised {:?}",
                            ticket.severity,
                            ticket.products,
                            ticket.request_type,
                            ticket.language,
                            ticket.unrecognized
                        ));
                    }
                    if !ticket.unrecognized.is_empty() {
                        fail(format!("unrecognised values {:?}", ticket.unrecognized));
                    }
                    replies_text.insert(g.index, ticket.reply.clone());
                }
                (Expect::Comment { of }, Outcome::Ticket { ticket }) => {
                    let parent = g.in_reply_to.expect("a reply names its parent");
                    let named: Vec<&str> = decision
                        .message
                        .in_reply_to
                        .iter()
                        .map(MessageId::as_str)
                        .collect();
                    if named != [set[parent].message_id.as_str()] {
                        fail(format!("In-Reply-To {named:?}, parent #{parent}"));
                    }
                    if !decision
                        .message
                        .references
                        .iter()
                        .any(|r| r.as_str() == set[*of].message_id)
                    {
                        fail(format!("References do not name the first message #{of}"));
                    }
                    let mut root = parent;
                    while let Some(up) = set[root].in_reply_to {
                        root = up;
                    }
                    if root != *of
                        || !matches!(set[*of].expect, Expect::Ticket { .. })
                        || *of >= g.index
                    {
                        fail(format!("continues #{of} but its thread starts at #{root}"));
                    }
                    // The quoted history is cut: the comment is what the
                    // customer wrote now, not the earlier message.
                    // (A reply to a reply may repeat one of its sentences:
                    // only the whole earlier text counts then.)
                    let earlier = replies_text.get(&parent).cloned().unwrap_or_default();
                    let quoted = if parent == *of {
                        earlier.lines().max_by_key(|l| l.len()).unwrap_or_default()
                    } else {
                        earlier.as_str()
                    };
                    if quoted.len() > 40 && ticket.reply.contains(quoted) {
                        fail(format!("the comment quotes #{parent}: {:?}", ticket.reply));
                    }
                    if ticket.reply.trim().is_empty() {
                        fail("empty comment".into());
                    }
                    replies_text.insert(g.index, ticket.reply.clone());
                }
                (Expect::Ignored { reason }, Outcome::Ignored { reason: got, .. })
                    if got.as_str() == *reason => {}
                (Expect::Rejected { reason }, Outcome::Rejected { reason: got, .. })
                    if got.as_str() == *reason => {}
                (expect, outcome) => fail(format!("expected {expect:?}, decided {outcome:?}")),
            }
            if let Outcome::Ticket { ticket } = &decision.outcome {
                if ticket.attachments.len() != g.attachments {
                    fail(format!(
                        "{} attachments instead of {}",
                        ticket.attachments.len(),
                        g.attachments
                    ));
                }
                for a in &ticket.attachments {
                    if a.size < min_attachment || a.size > max_attachment || a.inline {
                        fail(format!("attachment {} of {} bytes", a.filename, a.size));
                    }
                }
                if ticket.description.contains("=?") || ticket.description.contains("=C3") {
                    fail(format!("undecoded text in {:?}", ticket.description));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} messages differ:\n{}",
            failures.len(),
            set.len(),
            failures[..failures.len().min(15)].join("\n")
        );
    }

    use std::collections::HashMap;

    #[test]
    fn intake_decides_what_the_manifest_promises() {
        let mix = Mix::standard();
        check_against_intake(&STANDARD, mix.min_attachment, mix.max_attachment);
    }

    #[test]
    fn other_seeds_and_the_chaos_mix_keep_the_promise() {
        for seed in [2, 3, 4] {
            let mix = small_files(Mix::standard());
            check_against_intake(
                &generate(seed, 400, &mix),
                mix.min_attachment,
                mix.max_attachment,
            );
        }
        let mix = small_files(Mix::chaos());
        let set = generate(5, 500, &mix);
        assert_eq!(
            set.iter()
                .filter(|g| g.expect
                    == Expect::Rejected {
                        reason: "no-sender"
                    })
                .count(),
            10
        );
        check_against_intake(&set, mix.min_attachment, mix.max_attachment);
    }

    #[test]
    fn small_sets_are_well_formed() {
        for count in 0..12 {
            let set = generate(9, count, &small_files(Mix::chaos()));
            assert_eq!(set.len(), count);
            for g in &set {
                if let Expect::Comment { of } = g.expect {
                    assert!(of < g.index);
                }
            }
        }
    }

    #[test]
    fn an_mbox_reads_back_as_the_same_messages() {
        let set = generate(11, 120, &small_files(Mix::standard()));
        let mut mbox = Vec::new();
        for g in &set {
            mbox.extend(mbox_entry(g));
        }
        // The English detail sentence starting with "From " is escaped.
        assert!(
            mbox.windows(6).any(|w| w == b"\n>From"),
            "no escaped From line"
        );
        let read: Vec<Vec<u8>> = crate::replay::Mbox::new(std::io::Cursor::new(mbox))
            .map(|m| m.expect("readable"))
            .collect();
        assert_eq!(read.len(), set.len());
        for (g, back) in set.iter().zip(&read) {
            let lf: Vec<u8> = String::from_utf8_lossy(&g.raw)
                .replace("\r\n", "\n")
                .into_bytes();
            if !g.raw.is_ascii() && std::str::from_utf8(&g.raw).is_err() {
                // 8-bit Latin-1: compare bytes without CR.
                let lf: Vec<u8> = g.raw.iter().copied().filter(|&b| b != b'\r').collect();
                assert_eq!(&lf, back, "#{}", g.index);
            } else {
                assert_eq!(&lf, back, "#{}", g.index);
            }
        }
    }

    #[test]
    fn encoders() {
        // Base64 against the crate the project already uses.
        use base64::Engine as _;
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for len in [0, 1, 2, 3, 4, 56, 57, 58, 1000] {
            let mut data = vec![0u8; len];
            rng.fill_bytes(&mut data);
            assert_eq!(
                base64(&data),
                base64::engine::general_purpose::STANDARD.encode(&data)
            );
            let lines = base64_lines(&data);
            for line in lines.split(|&b| b == b'\n') {
                assert!(line.len() <= 77);
            }
        }
        // Quoted-printable: short lines, decodes back.
        let text = "Très long texte avec des accents éèà et un signe = qui revient, répété plusieurs fois pour dépasser la limite de soixante-seize caractères.   \r\nFrom here\r\n";
        for charset in [Charset::Utf8, Charset::Latin1, Charset::Cp1252] {
            let bytes = charset.encode(text);
            let qp = quoted_printable(&bytes);
            for line in qp.split(|&b| b == b'\n') {
                assert!(line.len() <= 77, "{:?}", String::from_utf8_lossy(line));
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                assert!(!line.ends_with(b" "));
            }
            let raw = [
                format!(
                    "Content-Type: text/plain; charset={}\r\n",
                    charset.mime_name()
                )
                .as_bytes(),
                b"Content-Transfer-Encoding: quoted-printable\r\n\r\n",
                &qp,
            ]
            .concat();
            let message = mail_parser::MessageParser::default().parse(&raw).unwrap();
            assert_eq!(
                message.body_text(0).unwrap().replace("\r\n", "\n"),
                charset.prepare(text).replace("\r\n", "\n"),
                "{charset:?}"
            );
        }
        // Encoded words: every length, both encodings, decoded back.
        for charset in [Charset::Utf8, Charset::Latin1, Charset::Cp1252] {
            for b in [false, true] {
                for len in [1, 10, 30, 70, 120] {
                    let subject: String = "[Gravité : haute] Écran blanc – l’export "
                        .chars()
                        .cycle()
                        .take(len)
                        .collect();
                    let subject = charset.prepare(&subject);
                    let mut raw = Vec::new();
                    push_header(&mut raw, "Subject", &header_text(&subject, charset, b));
                    raw.extend_from_slice(b"\r\nbody\r\n");
                    for line in raw.split(|&x| x == b'\n') {
                        assert!(line.len() <= 86, "{:?}", String::from_utf8_lossy(line));
                    }
                    let message = mail_parser::MessageParser::default().parse(&raw).unwrap();
                    assert_eq!(message.subject(), Some(subject.as_str()), "{charset:?} {b}");
                }
            }
        }
    }

    #[test]
    fn wrapping_keeps_quote_prefixes() {
        let long = format!("> > {}", "word ".repeat(40));
        let wrapped = wrap(&format!("short\n{long}\n-- \nend"), 30);
        for line in wrapped.lines() {
            assert!(line.chars().count() <= 30 || !line.contains(' '), "{line}");
        }
        assert!(
            wrapped
                .lines()
                .filter(|l| l.starts_with("> > word"))
                .count()
                > 3
        );
        assert!(wrapped.contains("\n-- \n"));
    }
}
