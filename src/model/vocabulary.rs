//! The configured vocabulary: severities, products and request types, each a
//! canonical name with aliases, matched case- and accent-insensitively.

use std::collections::HashMap;

use super::Language;
use super::text::fold;

/// One entry of a vocabulary: the canonical `name` shown in JSON output and
/// stored, the aliases customers may write instead (French and English),
/// and what people read in each language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub name: String,
    pub aliases: Vec<String>,
    pub labels: Labels,
}

/// A term's display label per language; a missing one falls back to the
/// other language, then to the name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Labels {
    pub fr: Option<String>,
    pub en: Option<String>,
}

impl Term {
    pub fn new(name: &str, aliases: &[&str]) -> Self {
        Term {
            name: name.to_owned(),
            aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
            labels: Labels::default(),
        }
    }

    /// The same term, read as `fr` by French customers and `en` by English ones.
    #[must_use]
    pub fn labelled(mut self, fr: &str, en: &str) -> Self {
        self.labels = Labels {
            fr: Some(fr.to_owned()),
            en: Some(en.to_owned()),
        };
        self
    }

    /// What a person reads for this term in `language`.
    pub fn label(&self, language: Language) -> &str {
        let (first, second) = match language {
            Language::Fr => (&self.labels.fr, &self.labels.en),
            Language::En => (&self.labels.en, &self.labels.fr),
        };
        first.as_deref().or(second.as_deref()).unwrap_or(&self.name)
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
    /// Builds the index over names, aliases and labels (what customers read
    /// is also what they may write back). When two terms claim the same word
    /// the first one keeps it; configuration validation reports such clashes beforehand.
    pub fn new(terms: Vec<Term>) -> Self {
        let mut index = HashMap::new();
        for (i, term) in terms.iter().enumerate() {
            let labels = [&term.labels.fr, &term.labels.en];
            let words = std::iter::once(&term.name)
                .chain(&term.aliases)
                .chain(labels.into_iter().flatten());
            for word in words {
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

    /// What a person reads in `language` for the stored `name`: its label,
    /// or the name itself when no term has it (a term since removed from
    /// the configuration).
    pub fn label<'a>(&'a self, name: &'a str, language: Language) -> &'a str {
        self.terms
            .iter()
            .find(|t| t.name == name)
            .map_or(name, |t| t.label(language))
    }

    /// The labels of stored names, in their order.
    pub fn labels(&self, names: &[String], language: Language) -> Vec<String> {
        names
            .iter()
            .map(|n| self.label(n, language).to_owned())
            .collect()
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

impl Default for Vocabulary {
    /// The built-in vocabulary: what applies with no `[[severities]]`,
    /// `[[request_types]]` nor `[[products]]` configured.
    fn default() -> Self {
        Vocabulary {
            severities: Terms::new(Vocabulary::default_severities()),
            products: Terms::default(),
            request_types: Terms::new(Vocabulary::default_request_types()),
            default_severity: "medium".into(),
            default_request_type: "support".into(),
        }
    }
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
            )
            .labelled("Critique", "Critical"),
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
            )
            .labelled("Haute", "High"),
            Term::new(
                "medium",
                &[
                    "normale", "normal", "moyenne", "moyen", "modere", "moderee", "moderate", "p3",
                    "sev3",
                ],
            )
            .labelled("Moyenne", "Medium"),
            Term::new(
                "low",
                &[
                    "basse", "bas", "mineur", "mineure", "minor", "faible", "trivial", "p4", "sev4",
                ],
            )
            .labelled("Basse", "Low"),
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
            )
            .labelled("Assistance", "Support request"),
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
            )
            .labelled("Nouvelle fonctionnalité", "Feature request"),
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
    fn labels_follow_the_language_and_fall_back() {
        let severities = severities();
        assert_eq!(severities.label("high", Language::Fr), "Haute");
        assert_eq!(severities.label("high", Language::En), "High");
        let types = Terms::new(Vocabulary::default_request_types());
        assert_eq!(types.label("support", Language::Fr), "Assistance");
        assert_eq!(types.label("feature", Language::En), "Feature request");
        // A term with one label reads it in both; none, its name; an
        // unknown stored name stays as stored.
        let mut only_fr = Term::new("Atlas", &[]);
        only_fr.labels.fr = Some("Atlas ERP".into());
        let products = Terms::new(vec![only_fr, Term::new("Borealis", &[])]);
        assert_eq!(products.label("Atlas", Language::En), "Atlas ERP");
        assert_eq!(products.label("Borealis", Language::Fr), "Borealis");
        assert_eq!(products.label("Gone", Language::Fr), "Gone");
    }

    #[test]
    fn french_request_types_match() {
        let types = Terms::new(Vocabulary::default_request_types());
        assert_eq!(types.exact("Nouvelle fonctionnalité"), Some("feature"));
        assert_eq!(types.exact("Évolution"), Some("feature"));
        assert_eq!(types.exact("Incident"), Some("support"));
    }
}
