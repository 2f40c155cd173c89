//! Replies: what a reply needs of the message it answers, the follow-up's
//! subject and body, the quoted history as each mail client writes it.

use chrono::{DateTime, Datelike, FixedOffset, Timelike};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use mailgate::model::Language;

use crate::attachments::File;
use crate::body::{Block, Doc, sign};
use crate::people::{Client, Customer};
use crate::rng::pick;
use crate::vocab::{
    FOLLOW_UPS, FR_DAYS, FR_DAYS_SHORT, FR_MONTHS, GREETINGS, REPLY_FILES, Vars, li,
};

/// What a reply needs of the message it answers.
#[derive(Debug, Clone)]
pub(crate) struct Sent {
    /// With angle brackets.
    pub(crate) id: String,
    pub(crate) references: Vec<String>,
    /// The subject without reply prefix.
    pub(crate) subject: String,
    pub(crate) date: DateTime<FixedOffset>,
    pub(crate) text: String,
    pub(crate) to: String,
}

/// A follow-up: subject and body quoting the message it answers.
pub(crate) fn reply_content(
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
pub(crate) fn quote(customer: &Customer, parent: &Sent) -> Block {
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

pub(crate) fn french_date(d: DateTime<FixedOffset>) -> String {
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
