//! The customers: their names, addresses, companies, time zones and mail
//! clients.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use mailgate::model::Language;

use crate::rng::{pick, pick_str, weighted};
use crate::vocab::{COMPANIES, FIRST_NAMES, LAST_NAMES, PUBLIC_DOMAINS, TITLES, li};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Client {
    Gmail,
    Outlook,
    Thunderbird,
    AppleMail,
    Zimbra,
}

#[derive(Debug, Clone)]
pub(crate) struct Customer {
    pub(crate) lang: Language,
    pub(crate) first: &'static str,
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) domain: String,
    pub(crate) company: Option<&'static str>,
    pub(crate) client: Client,
    /// Outlook on Exchange Online (Message-IDs `…@….prod.outlook.com`).
    pub(crate) exchange_online: bool,
    pub(crate) offset: i32,
    pub(crate) title: &'static str,
    pub(crate) phone: String,
    pub(crate) signature: bool,
}

impl Customer {
    pub(crate) fn random(rng: &mut ChaCha8Rng, french: f64) -> Self {
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

/// An address's local part from a name: lower case, no accents, no
/// apostrophes.
pub(crate) fn ascii_fold(text: &str) -> String {
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
