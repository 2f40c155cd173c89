//! The configured vocabulary: severities, products and request types, each a
//! canonical name with aliases, matched case- and accent-insensitively.

use std::collections::HashMap;

use super::text::fold;

/// One entry of a vocabulary: the canonical `name` shown in JSON output and
/// the aliases customers may write instead (French and English).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub name: String,
    pub aliases: Vec<String>,
}

impl Term {
    pub fn new(name: &str, aliases: &[&str]) -> Self {
        Term {
            name: name.to_owned(),
            aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
        }
    }
}

/// A list of terms with a folded index for look-ups.
#[derive(Debug, Clone, Default)]
pub struct Terms {
    terms: Vec<Term>,
    index: HashMap<String, usize>,
}

/// Folds a vocabulary word for the index: accents, case, and the usual
/// separators (`atlas-erp`, `atlas_erp`, `Atlas ERP`) all compare equal.
pub fn term_key(text: &str) -> String {
    let trimmed = text.trim_matches(|c: char| {
        c.is_whitespace() || matches!(c, '"' | '\'' | '«' | '»' | '*' | '.' | '!' | ';')
    });
    fold(&trimmed.replace(['-', '_'], " "))
}

impl Terms {
    /// Builds the index. When two terms claim the same alias the first one
    /// keeps it; configuration validation reports such clashes beforehand.
    pub fn new(terms: Vec<Term>) -> Self {
        let mut index = HashMap::new();
        for (i, term) in terms.iter().enumerate() {
            for word in std::iter::once(&term.name).chain(&term.aliases) {
                index.entry(term_key(word)).or_insert(i);
            }
        }
        Terms { terms, index }
    }

    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.terms.iter().map(|t| t.name.as_str())
    }

    /// The canonical name whose name or alias is exactly `text` (folded).
    pub fn exact(&self, text: &str) -> Option<&str> {
        self.index
            .get(&term_key(text))
            .map(|&i| self.terms[i].name.as_str())
    }

    /// The canonical name for a value a person wrote after a keyword, which
    /// often carries a comment: `Haute, la production est arrêtée`,
    /// `P1 - blocking`, `urgent (client waiting)`. Tries the whole value,
    /// then the part before the first separator, then the first word.
    pub fn find(&self, text: &str) -> Option<&str> {
        if let Some(name) = self.exact(text) {
            return Some(name);
        }
        let head = text
            .split([',', '(', '/', ';', '–', '—', ':'])
            .next()
            .unwrap_or_default();
        let head = head.split(" - ").next().unwrap_or_default();
        if let Some(name) = self.exact(head) {
            return Some(name);
        }
        let first_word = text.split_whitespace().next()?;
        self.exact(first_word)
    }
}

/// Every vocabulary intake needs, with the defaults that apply when a
/// message names nothing.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    pub severities: Terms,
    pub products: Terms,
    pub request_types: Terms,
    pub default_severity: String,
    pub default_request_type: String,
}

impl Vocabulary {
    /// Built-in severities: four levels with French and English aliases and
    /// the P1–P4 shorthand support teams use.
    pub fn default_severities() -> Vec<Term> {
        vec![
            Term::new(
                "critical",
                &[
                    "critique",
                    "bloquant",
                    "bloquante",
                    "blocker",
                    "blocking",
                    "urgent",
                    "urgente",
                    "urgence",
                    "p1",
                    "sev1",
                    "fatal",
                ],
            ),
            Term::new(
                "high",
                &[
                    "haute",
                    "haut",
                    "majeur",
                    "majeure",
                    "major",
                    "elevee",
                    "eleve",
                    "important",
                    "importante",
                    "p2",
                    "sev2",
                ],
            ),
            Term::new(
                "medium",
                &[
                    "normale", "normal", "moyenne", "moyen", "modere", "moderee", "moderate", "p3",
                    "sev3",
                ],
            ),
            Term::new(
                "low",
                &[
                    "basse", "bas", "mineur", "mineure", "minor", "faible", "trivial", "p4", "sev4",
                ],
            ),
        ]
    }

    /// Built-in request types: a support request or a feature request.
    pub fn default_request_types() -> Vec<Term> {
        vec![
            Term::new(
                "support",
                &[
                    "support request",
                    "assistance",
                    "question",
                    "incident",
                    "bug",
                    "anomalie",
                    "probleme",
                    "problem",
                    "demande d'assistance",
                    "demande de support",
                ],
            ),
            Term::new(
                "feature",
                &[
                    "feature request",
                    "nouvelle fonctionnalite",
                    "fonctionnalite",
                    "evolution",
                    "enhancement",
                    "amelioration",
                    "demande d'evolution",
                    "suggestion",
                ],
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn severities() -> Terms {
        Terms::new(Vocabulary::default_severities())
    }

    #[test]
    fn exact_matches_names_and_aliases_whatever_the_case_and_accents() {
        let s = severities();
        for (input, expected) in [
            ("HAUTE", Some("high")),
            ("Élevée", Some("high")),
            ("critical", Some("critical")),
            ("Bloquant", Some("critical")),
            ("p3", Some("medium")),
            (" Mineur. ", Some("low")),
            ("«urgent»", Some("critical")),
            ("super-urgent", None),
            ("", None),
        ] {
            assert_eq!(s.exact(input), expected, "exact({input:?})");
        }
    }

    #[test]
    fn find_reads_past_comments_after_the_value() {
        let s = severities();
        for (input, expected) in [
            ("Haute, la production est arrêtée", Some("high")),
            ("P1 - blocking everyone", Some("critical")),
            ("urgent (client waiting)", Some("critical")),
            ("Urgent please", Some("critical")),
            ("not urgent", None),
            ("whenever", None),
        ] {
            assert_eq!(s.find(input), expected, "find({input:?})");
        }
    }

    #[test]
    fn separators_in_aliases_do_not_matter() {
        let products = Terms::new(vec![Term::new("Atlas", &["atlas-erp"])]);
        assert_eq!(products.exact("Atlas ERP"), Some("Atlas"));
        assert_eq!(products.exact("atlas_erp"), Some("Atlas"));
        assert_eq!(products.exact("ATLAS"), Some("Atlas"));
    }

    #[test]
    fn french_request_types_match() {
        let types = Terms::new(Vocabulary::default_request_types());
        assert_eq!(types.exact("Nouvelle fonctionnalité"), Some("feature"));
        assert_eq!(types.exact("Évolution"), Some("feature"));
        assert_eq!(types.exact("Incident"), Some("support"));
    }
}
