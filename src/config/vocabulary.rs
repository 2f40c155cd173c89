//! `[[severities]]`, `[[products]]`, `[[request_types]]` and the
//! `[tickets]` defaults among them: the vocabulary intake reads fields with.

use std::collections::HashMap;

use super::checker::Checker;
use super::raw::{RawSettings, RawTerm};
use crate::model::vocabulary::term_key;
use crate::model::{Labels, Term, Terms, Vocabulary};

fn to_terms(raw: &[RawTerm]) -> Vec<Term> {
    raw.iter()
        .map(|t| Term {
            name: t.name.trim().to_owned(),
            aliases: t.aliases.clone(),
            labels: Labels {
                fr: t.labels.fr.clone().filter(|l| !l.trim().is_empty()),
                en: t.labels.en.clone().filter(|l| !l.trim().is_empty()),
            },
        })
        .collect()
}

/// A name used once, and no word naming two terms.
fn check_terms(c: &mut Checker, key: &str, terms: &[RawTerm]) {
    let mut seen: HashMap<String, &str> = HashMap::new();
    for (i, term) in terms.iter().enumerate() {
        if term.name.trim().is_empty() {
            c.problem(format!("{key}[{i}].name"), "must not be empty");
        }
        let labels = [&term.labels.fr, &term.labels.en];
        let words = std::iter::once(&term.name)
            .chain(&term.aliases)
            .chain(labels.into_iter().flatten());
        for word in words {
            if let Some(other) = seen.insert(term_key(word), &term.name)
                && other != term.name
            {
                c.problem(
                    format!("{key}[{i}]"),
                    format!("{word:?} names both {other:?} and {:?}", term.name),
                );
            }
        }
    }
}

pub(super) fn vocabulary(c: &mut Checker, raw: &RawSettings) -> Vocabulary {
    for (key, terms) in [
        ("severities", raw.severities.as_deref()),
        ("request_types", raw.request_types.as_deref()),
        ("products", Some(raw.products.as_slice())),
    ] {
        if let Some(terms) = terms {
            check_terms(c, key, terms);
        }
    }
    let severities =
        (raw.severities.as_deref()).map_or_else(Vocabulary::default_severities, to_terms);
    let request_types =
        (raw.request_types.as_deref()).map_or_else(Vocabulary::default_request_types, to_terms);
    let vocabulary = Vocabulary {
        severities: Terms::new(severities),
        products: Terms::new(to_terms(&raw.products)),
        request_types: Terms::new(request_types),
        default_severity: raw.tickets.default_severity.clone(),
        default_request_type: raw.tickets.default_request_type.clone(),
    };
    if (vocabulary.severities)
        .exact(&raw.tickets.default_severity)
        .is_none()
    {
        c.problem(
            "tickets.default_severity",
            format!(
                "{:?} is not a configured severity",
                raw.tickets.default_severity
            ),
        );
    }
    if (vocabulary.request_types)
        .exact(&raw.tickets.default_request_type)
        .is_none()
    {
        c.problem(
            "tickets.default_request_type",
            format!(
                "{:?} is not a configured request type",
                raw.tickets.default_request_type
            ),
        );
    }
    vocabulary
}
