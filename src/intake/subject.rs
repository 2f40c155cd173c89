//! The ticket summary from the subject line: reply and forward prefixes,
//! list tags, ticket tags and field tags removed; field tags and ticket keys
//! collected on the way.

use std::sync::LazyLock;

use regex::Regex;

use super::fields::{Field, Source, Statement, field_for_label};
use crate::model::TicketKey;
use crate::model::Vocabulary;
use crate::model::text::{collapse_whitespace, truncate_chars};

/// The longest summary kept, in characters.
pub const MAX_SUMMARY_CHARS: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubjectAnalysis {
    /// The cleaned subject; empty when nothing meaningful is left.
    pub summary: String,
    /// Field tags, in the order they appear.
    pub statements: Vec<Statement>,
    /// Our own ticket keys found in tags (`[SUP-42]`), leftmost first.
    pub ticket_refs: Vec<TicketKey>,
}

/// Reply and forward prefixes in the languages our customers' mail clients
/// use: English, French (`TR`, `Réf`), German (`AW`, `WG`), Nordic (`SV`,
/// `VS`), Dutch (`Antw`), Italian (`Rif`, `I`), Spanish and Portuguese
/// (`RV`, `Enc`, `Res`), Polish (`Odp`, `PD`), each with an optional counter
/// (`Re[2]:`, `Re(3):`) and a space or non-breaking space before the colon.
static REPLY_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^\s*
        (?:re|fwd?|tr|aw|wg|sv|vs|r[ée]f|rif|antw|doorst|odp|pd|enc|res|rv|reenv)
        (?:\s*\[\d+\]|\s*\(\d+\))?
        [\s\u{a0}]*[:：]",
    )
    .expect("valid regex")
});

/// Whether a subject is a forward (`Fwd:`, `TR:`, `WG:`…) rather than a
/// reply: the text below a forward is shared on purpose, not quoted history.
pub fn is_forward(subject: &str) -> bool {
    static FORWARD: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)^\s*(?:fwd?|tr|wg|doorst|pd|enc|rv|reenv|i)(?:\s*\[\d+\]|\s*\(\d+\))?[\s\u{a0}]*[:：]")
            .expect("valid regex")
    });
    FORWARD.is_match(subject)
}

/// A bracketed tag anywhere in the subject.
static TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[([^\[\]]{1,120})\]").expect("valid regex"));

/// Characters left dangling at the ends once tags are removed
/// (`[Severity: High] - Server down`).
fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '-' | '–' | '—' | ':' | '|' | ',')
}

fn trim_separators(text: &str) -> &str {
    text.trim_matches(is_separator)
}

/// What a bracketed tag means to us.
enum TagMeaning {
    Ticket(TicketKey),
    Field(Statement),
    Other,
}

fn classify_tag(inner: &str, vocabulary: &Vocabulary, key_prefix: &str) -> TagMeaning {
    if let Some(key) = TicketKey::parse(inner)
        && key.prefix() == key_prefix
    {
        return TagMeaning::Ticket(key);
    }
    if let Some((label, value)) = inner.split_once([':', '：']) {
        if let Some(field) = field_for_label(label) {
            return TagMeaning::Field(Statement {
                field,
                value: value.trim().to_owned(),
                source: Source::Subject,
            });
        }
        return TagMeaning::Other;
    }
    // A bare tag counts only when it is a whole vocabulary word: `[Feature]`,
    // `[Urgent]`, `[Atlas]`; `[acme-users]` is a list tag.
    let field = if vocabulary.request_types.exact(inner).is_some() {
        Field::RequestType
    } else if vocabulary.severities.exact(inner).is_some() {
        Field::Severity
    } else if vocabulary.products.exact(inner).is_some() {
        Field::Products
    } else {
        return TagMeaning::Other;
    };
    TagMeaning::Field(Statement {
        field,
        value: inner.trim().to_owned(),
        source: Source::Subject,
    })
}

/// Cleans a decoded subject into a summary and collects its tags.
pub fn analyze(subject: &str, vocabulary: &Vocabulary, key_prefix: &str) -> SubjectAnalysis {
    let mut analysis = SubjectAnalysis::default();
    let note = |meaning: TagMeaning, analysis: &mut SubjectAnalysis| match meaning {
        TagMeaning::Ticket(key) => {
            if !analysis.ticket_refs.contains(&key) {
                analysis.ticket_refs.push(key);
            }
        }
        TagMeaning::Field(statement) => analysis.statements.push(statement),
        TagMeaning::Other => {}
    };

    // Leading prefixes and tags, however they are interleaved
    // (`RE: [list] TR: [SUP-4] Fwd:`): every leading tag goes, list tags
    // included.
    let subject = collapse_whitespace(subject);
    let mut rest = subject.as_str();
    loop {
        rest = rest.trim_start_matches(is_separator);
        if let Some(m) = REPLY_PREFIX.find(rest) {
            rest = &rest[m.end()..];
            continue;
        }
        if let Some(caps) = TAG
            .captures(rest)
            .filter(|c| c.get(0).is_some_and(|m| m.start() == 0))
        {
            note(
                classify_tag(&caps[1], vocabulary, key_prefix),
                &mut analysis,
            );
            rest = &rest[caps.get(0).map_or(0, |m| m.end())..];
            continue;
        }
        break;
    }

    // Tags further in: ours and field tags go, others stay
    // (`Error in [module X]`).
    let mut summary = String::with_capacity(rest.len());
    let mut last = 0;
    for caps in TAG.captures_iter(rest) {
        let whole = caps.get(0).expect("group 0 always matches");
        match classify_tag(&caps[1], vocabulary, key_prefix) {
            TagMeaning::Other => {}
            meaning => {
                note(meaning, &mut analysis);
                summary.push_str(&rest[last..whole.start()]);
                summary.push(' ');
                last = whole.end();
            }
        }
    }
    summary.push_str(&rest[last..]);
    let summary = collapse_whitespace(trim_separators(&summary));
    analysis.summary = truncate_chars(&summary, MAX_SUMMARY_CHARS)
        .trim_end()
        .to_owned();
    analysis
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwards_are_told_from_replies_by_the_first_prefix() {
        for forward in ["Fwd: x", "FW: x", "TR : x", "WG: x", "Fwd[2]: Re: x"] {
            assert!(is_forward(forward), "{forward}");
        }
        for other in ["Re: Fwd: x", "RE: x", "Transfert de fichiers", "x"] {
            assert!(!is_forward(other), "{other}");
        }
    }
    use crate::intake::fields::tests::vocabulary;

    fn check(subject: &str, expected: &str) {
        let got = analyze(subject, &vocabulary(), "SUP");
        assert_eq!(got.summary, expected, "subject {subject:?}");
    }

    #[test]
    fn summaries() {
        let nbsp = '\u{a0}';
        let cases: Vec<(String, &str)> = vec![
            ("Server down".into(), "Server down"),
            ("Re: Server down".into(), "Server down"),
            ("RE: Server down".into(), "Server down"),
            ("re: re: RE: Server down".into(), "Server down"),
            ("RE : Serveur en panne".into(), "Serveur en panne"),
            (format!("RE{nbsp}: Serveur en panne"), "Serveur en panne"),
            (format!("TR{nbsp}:{nbsp}Facture"), "Facture"),
            ("Re[2]: Server down".into(), "Server down"),
            ("Re(3): Server down".into(), "Server down"),
            ("Re [2]: Server down".into(), "Server down"),
            ("Fwd: Server down".into(), "Server down"),
            ("FW: Server down".into(), "Server down"),
            ("Fw: Fwd: FW: Server down".into(), "Server down"),
            (
                "TR: Impossible de se connecter".into(),
                "Impossible de se connecter",
            ),
            (
                "Tr : Impossible de se connecter".into(),
                "Impossible de se connecter",
            ),
            ("RE: TR: Fwd: Export CSV vide".into(), "Export CSV vide"),
            ("AW: WG: Lizenzfehler".into(), "Lizenzfehler"),
            ("SV: VS: Fel vid inloggning".into(), "Fel vid inloggning"),
            ("Réf : Commande 1234".into(), "Commande 1234"),
            (format!("Réf{nbsp}: Commande 1234"), "Commande 1234"),
            ("REF: Commande 1234".into(), "Commande 1234"),
            ("[acme-users] Export fails".into(), "Export fails"),
            ("Re: [acme-users] Re: Export fails".into(), "Export fails"),
            ("[SUP-42] Export fails".into(), "Export fails"),
            ("Re: [SUP-42] Export fails".into(), "Export fails"),
            ("RE: Export fails [SUP-42]".into(), "Export fails"),
            ("[Severity: High] Server down".into(), "Server down"),
            (
                "[Sévérité : Critique] Serveur en panne".into(),
                "Serveur en panne",
            ),
            (
                "Serveur en panne [Gravité : haute]".into(),
                "Serveur en panne",
            ),
            (
                "[Produit : Atlas, Nova] Synchronisation lente".into(),
                "Synchronisation lente",
            ),
            ("[Feature] Dark mode".into(), "Dark mode"),
            (
                "[Nouvelle fonctionnalité] Mode sombre".into(),
                "Mode sombre",
            ),
            ("[Severity: High] - Server down".into(), "Server down"),
            (
                "Error in [module X] on save".into(),
                "Error in [module X] on save",
            ),
            ("Regarding: the invoice".into(), "Regarding: the invoice"),
            ("Reunion: planning".into(), "Reunion: planning"),
            ("Response time too slow".into(), "Response time too slow"),
            ("Tracking: numbers wrong".into(), "Tracking: numbers wrong"),
            ("  Server\t\tdown  again ".into(), "Server down again"),
            ("Re:".into(), ""),
            (String::new(), ""),
            ("[SUP-42]".into(), ""),
            (
                "RE: [SUP-7] RE: [Gravité : haute] TR: Problème".into(),
                "Problème",
            ),
            ("Re: Re[2]: AW: [list] Fwd: x".into(), "x"),
            ("Re:Server down".into(), "Server down"),
            (
                "Question: how to export?".into(),
                "Question: how to export?",
            ),
            ("[OTHER-12] Export".into(), "Export"),
            ("Export [OTHER-12]".into(), "Export [OTHER-12]"),
            ("Enc: Pedido".into(), "Pedido"),
            ("Antw: Vraag".into(), "Vraag"),
            ("Odp: Pytanie".into(), "Pytanie"),
        ];
        assert!(cases.len() >= 40);
        for (subject, expected) in cases {
            check(&subject, expected);
        }
    }

    #[test]
    fn long_subjects_are_cut_on_a_character_boundary() {
        let subject = "é".repeat(400);
        let got = analyze(&subject, &vocabulary(), "SUP");
        assert_eq!(got.summary.chars().count(), MAX_SUMMARY_CHARS);
    }

    #[test]
    fn tags_become_statements_and_ticket_refs() {
        let got = analyze(
            "Re: [SUP-42] [Sévérité : Critique] [Produit : Atlas, Nova] [SUP-7] Panne",
            &vocabulary(),
            "SUP",
        );
        assert_eq!(got.summary, "Panne");
        assert_eq!(
            got.ticket_refs,
            [TicketKey::new("SUP", 42), TicketKey::new("SUP", 7)]
        );
        let fields: Vec<_> = got
            .statements
            .iter()
            .map(|s| (s.field, s.value.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                (Field::Severity, "Critique"),
                (Field::Products, "Atlas, Nova")
            ]
        );
    }

    #[test]
    fn bare_vocabulary_tags_set_fields_only_when_whole() {
        let got = analyze("[Urgent] [Atlas] [atlas-users] Login", &vocabulary(), "SUP");
        assert_eq!(got.summary, "Login");
        let fields: Vec<_> = got.statements.iter().map(|s| s.field).collect();
        assert_eq!(fields, [Field::Severity, Field::Products]);
    }

    #[test]
    fn a_recognised_label_with_an_unknown_value_is_still_a_statement() {
        let got = analyze("[Severity: whenever] Login", &vocabulary(), "SUP");
        assert_eq!(got.summary, "Login");
        assert_eq!(got.statements.len(), 1);
        assert_eq!(got.statements[0].value, "whenever");
    }
}
