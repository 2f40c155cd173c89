//! Ticket fields (severity, products, request type) from the places a
//! customer can set them, strongest first: keyword lines in the body, tags in
//! the subject, the recipient address, the mailbox defaults, the configured
//! defaults.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use crate::model::Vocabulary;
use crate::model::text::fold;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Severity,
    Products,
    RequestType,
}

impl Field {
    /// The name used in JSON and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Severity => "severity",
            Field::Products => "products",
            Field::RequestType => "request_type",
        }
    }

    /// What the field is called for people: in mails, on pages.
    pub fn label(self, language: crate::model::Language) -> &'static str {
        use crate::model::Language::{En, Fr};
        match (self, language) {
            (Field::Severity, Fr) => "Gravité",
            (Field::Severity, En) => "Severity",
            (Field::Products, Fr) => "Produits",
            (Field::Products, En) => "Products",
            (Field::RequestType, Fr) => "Type de demande",
            (Field::RequestType, En) => "Request type",
        }
    }

    /// The field named `name` in JSON and the database.
    pub fn parse(name: &str) -> Option<Field> {
        [Field::Severity, Field::Products, Field::RequestType]
            .into_iter()
            .find(|f| f.as_str() == name)
    }

    /// The terms of this field in `vocabulary`.
    pub fn terms(self, vocabulary: &crate::model::Vocabulary) -> &crate::model::Terms {
        match self {
            Field::Severity => &vocabulary.severities,
            Field::Products => &vocabulary.products,
            Field::RequestType => &vocabulary.request_types,
        }
    }
}

/// Where a field value was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Body,
    Subject,
    Address,
    Mailbox,
}

impl Source {
    /// The name used in JSON and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Body => "body",
            Source::Subject => "subject",
            Source::Address => "address",
            Source::Mailbox => "mailbox",
        }
    }
}

/// A value a customer wrote for a field that matches nothing in the
/// vocabulary. The default applies and the text is kept on the ticket, so the
/// customer can be told which values are accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unrecognized {
    pub field: Field,
    pub value: String,
    pub source: Source,
}

/// The field a keyword names, in French or English (`Gravité`, `Priority`,
/// `Produit(s)`, `Type de demande`), compared folded.
pub fn field_for_label(label: &str) -> Option<Field> {
    let folded = fold(&label.replace("(s)", "s"));
    match folded.as_str() {
        "severity" | "severite" | "gravite" | "impact" | "priority" | "priorite" | "urgency"
        | "urgence" | "criticite" | "criticality" => Some(Field::Severity),
        "product" | "products" | "produit" | "produits" | "produits concernes"
        | "produit concerne" | "logiciel" | "software" => Some(Field::Products),
        "type"
        | "request type"
        | "type de demande"
        | "type de requete"
        | "demande"
        | "nature de la demande"
        | "kind" => Some(Field::RequestType),
        _ => None,
    }
}

/// One statement of a field value found somewhere in the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub field: Field,
    pub value: String,
    pub source: Source,
}

/// The fields decided for a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fields {
    pub severity: String,
    pub products: Vec<String>,
    pub request_type: String,
    pub unrecognized: Vec<Unrecognized>,
}

/// Splits a product list as people write it: `Atlas, Nova`, `Atlas et Nova`,
/// `Atlas and Nova`, `Atlas; Nova`, `Atlas / Nova`, `Atlas + Nova`.
pub fn split_products(value: &str) -> Vec<&str> {
    static SEPARATORS: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)\s*(?:[,;/+&]|\bet\b|\band\b)\s*").expect("valid regex"));
    SEPARATORS
        .split(value)
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

/// The values statements set, where any is recognised: what a follow-up
/// may change on its ticket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StatedFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub products: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_type: Option<String>,
}

impl StatedFields {
    pub fn is_empty(&self) -> bool {
        self.severity.is_none() && self.products.is_none() && self.request_type.is_none()
    }
}

/// Reads the statements against the vocabulary, strongest first: the first
/// recognised value of each field wins, and products from the strongest
/// statement that names any are kept together.
pub fn stated(statements: &[Statement], vocabulary: &Vocabulary) -> StatedFields {
    let mut fields = StatedFields::default();
    for statement in statements {
        match statement.field {
            Field::Severity if fields.severity.is_none() => {
                fields.severity = vocabulary
                    .severities
                    .find(&statement.value)
                    .map(str::to_owned);
            }
            Field::RequestType if fields.request_type.is_none() => {
                fields.request_type = vocabulary
                    .request_types
                    .find(&statement.value)
                    .map(str::to_owned);
            }
            Field::Products if fields.products.is_none() => {
                let mut found: Vec<String> = Vec::new();
                for name in split_products(&statement.value)
                    .into_iter()
                    .filter_map(|piece| vocabulary.products.find(piece))
                {
                    if !found.iter().any(|f| f == name) {
                        found.push(name.to_owned());
                    }
                }
                fields.products = (!found.is_empty()).then_some(found);
            }
            _ => {}
        }
    }
    fields
}

/// The values of statements that match nothing in the vocabulary, each once.
fn unrecognized(statements: &[Statement], vocabulary: &Vocabulary) -> Vec<Unrecognized> {
    let mut out: Vec<Unrecognized> = Vec::new();
    for statement in statements {
        let values = match statement.field {
            Field::Severity if vocabulary.severities.find(&statement.value).is_none() => {
                vec![statement.value.as_str()]
            }
            Field::RequestType if vocabulary.request_types.find(&statement.value).is_none() => {
                vec![statement.value.as_str()]
            }
            Field::Products => split_products(&statement.value)
                .into_iter()
                .filter(|piece| vocabulary.products.find(piece).is_none())
                .collect(),
            _ => Vec::new(),
        };
        for value in values {
            let entry = Unrecognized {
                field: statement.field,
                value: value.to_owned(),
                source: statement.source,
            };
            if !out.contains(&entry) {
                out.push(entry);
            }
        }
    }
    out
}

/// Resolves the statements against the vocabulary (see [`stated`]), with
/// the configured defaults for fields nobody set.
pub fn resolve(statements: &[Statement], vocabulary: &Vocabulary) -> Fields {
    let fields = stated(statements, vocabulary);
    Fields {
        severity: fields
            .severity
            .unwrap_or_else(|| vocabulary.default_severity.clone()),
        products: fields.products.unwrap_or_default(),
        request_type: fields
            .request_type
            .unwrap_or_else(|| vocabulary.default_request_type.clone()),
        unrecognized: unrecognized(statements, vocabulary),
    }
}

/// The statements made by the addresses a message was sent to, in two
/// strengths: the tag of plus-addressing (`support+atlas@example.com`), which
/// the customer chose, and the name of one of our own addresses
/// (`feature@example.com`), a routing hint weaker than a mailbox's
/// configured defaults. A word counts when it is a product, a request type
/// or a severity. `is_own` tells our addresses (plus tags ignored).
pub fn address_statements(
    recipients: &[String],
    vocabulary: &Vocabulary,
    is_own: impl Fn(&str) -> bool,
) -> AddressStatements {
    let mut out = AddressStatements::default();
    for address in recipients {
        let Some(local) = address.split('@').next() else {
            continue;
        };
        let (name, tag) = match local.split_once('+') {
            Some((name, tag)) => (name, Some(tag)),
            None => (local, None),
        };
        out.plus_tags
            .extend(tag.and_then(|t| address_word(t, vocabulary)));
        if is_own(address) {
            out.own_names.extend(address_word(name, vocabulary));
        }
    }
    out
}

/// See [`address_statements`].
#[derive(Debug, Default, PartialEq, Eq)]
pub struct AddressStatements {
    pub plus_tags: Vec<Statement>,
    pub own_names: Vec<Statement>,
}

fn address_word(tag: &str, vocabulary: &Vocabulary) -> Option<Statement> {
    let field = if vocabulary.products.exact(tag).is_some() {
        Field::Products
    } else if vocabulary.request_types.exact(tag).is_some() {
        Field::RequestType
    } else if vocabulary.severities.exact(tag).is_some() {
        Field::Severity
    } else {
        // A tag that names nothing is a routing detail, not a customer's
        // statement: nothing to tell them about.
        return None;
    };
    Some(Statement {
        field,
        value: tag.to_owned(),
        source: Source::Address,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::vocabulary::{Term, Terms};

    pub(crate) fn vocabulary() -> Vocabulary {
        Vocabulary {
            severities: Terms::new(Vocabulary::default_severities()),
            products: Terms::new(vec![
                Term::new("Atlas", &["atlas erp", "atlas-erp"]),
                Term::new("Helios", &["helios crm"]),
                Term::new("Nova", &["nova mobile", "nova app"]),
                Term::new("Orbit", &["orbit gateway"]),
            ]),
            request_types: Terms::new(Vocabulary::default_request_types()),
            default_severity: "medium".into(),
            default_request_type: "support".into(),
        }
    }

    fn st(field: Field, value: &str, source: Source) -> Statement {
        Statement {
            field,
            value: value.into(),
            source,
        }
    }

    #[test]
    fn names_are_the_serde_names() {
        for field in [Field::Severity, Field::Products, Field::RequestType] {
            assert_eq!(serde_json::to_value(field).unwrap(), field.as_str());
        }
        for source in [
            Source::Body,
            Source::Subject,
            Source::Address,
            Source::Mailbox,
        ] {
            assert_eq!(serde_json::to_value(source).unwrap(), source.as_str());
        }
    }

    #[test]
    fn labels_in_both_languages() {
        for (label, expected) in [
            ("Gravité", Some(Field::Severity)),
            ("GRAVITE", Some(Field::Severity)),
            ("Priorité", Some(Field::Severity)),
            ("Impact", Some(Field::Severity)),
            ("Severity", Some(Field::Severity)),
            ("Produit(s)", Some(Field::Products)),
            ("Product(s)", Some(Field::Products)),
            ("Produits", Some(Field::Products)),
            ("Type", Some(Field::RequestType)),
            ("Type de demande", Some(Field::RequestType)),
            ("Version", None),
            ("Bonjour", None),
        ] {
            assert_eq!(field_for_label(label), expected, "{label}");
        }
    }

    #[test]
    fn strongest_source_wins_and_defaults_fill_the_rest() {
        let f = resolve(
            &[
                st(Field::Severity, "Haute", Source::Body),
                st(Field::Severity, "Critique", Source::Subject),
                st(Field::Products, "Nova", Source::Subject),
            ],
            &vocabulary(),
        );
        assert_eq!(f.severity, "high");
        assert_eq!(f.products, ["Nova"]);
        assert_eq!(f.request_type, "support");
        assert!(f.unrecognized.is_empty());
    }

    #[test]
    fn several_products_in_one_line() {
        for value in [
            "Atlas, Nova",
            "Atlas et Nova",
            "atlas-erp and nova app",
            "Atlas; Nova",
            "Atlas / Nova",
            "Atlas + Nova, Atlas",
        ] {
            let f = resolve(&[st(Field::Products, value, Source::Body)], &vocabulary());
            assert_eq!(f.products, ["Atlas", "Nova"], "{value}");
        }
    }

    #[test]
    fn unknown_values_are_kept_and_defaults_apply() {
        let f = resolve(
            &[
                st(Field::Severity, "super-urgent", Source::Body),
                st(Field::Products, "Atlas, Zephyr", Source::Body),
                st(Field::RequestType, "Réclamation", Source::Subject),
            ],
            &vocabulary(),
        );
        assert_eq!(f.severity, "medium");
        assert_eq!(f.products, ["Atlas"]);
        assert_eq!(f.request_type, "support");
        let values: Vec<_> = f.unrecognized.iter().map(|u| u.value.as_str()).collect();
        assert_eq!(values, ["super-urgent", "Zephyr", "Réclamation"]);
    }

    #[test]
    fn a_later_recognised_value_still_applies_after_an_unknown_one() {
        let f = resolve(
            &[
                st(Field::Severity, "asap", Source::Body),
                st(Field::Severity, "P2", Source::Subject),
            ],
            &vocabulary(),
        );
        assert_eq!(f.severity, "high");
        assert_eq!(f.unrecognized.len(), 1);
    }

    #[test]
    fn plus_addressing_names_a_product_or_a_type() {
        let v = vocabulary();
        let s = address_statements(
            &[
                "support+helios@example.com".into(),
                "feature+feature@example.com".into(),
                "support+routing42@example.com".into(),
                "plain@example.com".into(),
                "feature@example.com".into(),
                "nova@customer.fr".into(),
            ],
            &v,
            |a| a.ends_with("@example.com"),
        );
        assert_eq!(
            s.plus_tags,
            [
                st(Field::Products, "helios", Source::Address),
                st(Field::RequestType, "feature", Source::Address),
            ]
        );
        assert_eq!(
            s.own_names,
            [
                st(Field::RequestType, "support", Source::Address),
                st(Field::RequestType, "feature", Source::Address),
                st(Field::RequestType, "support", Source::Address),
                st(Field::RequestType, "feature", Source::Address),
            ]
        );
    }
}
