//! The words of the fields: product names and aliases, severities, labels
//! of keyword lines, subject tags, request types.

pub(crate) const PRODUCTS: [&str; 4] = ["Atlas", "Helios", "Nova", "Orbit"];
pub(crate) const PRODUCT_ALIASES: [&[&str]; 4] = [
    &["Atlas", "Atlas", "Atlas ERP", "atlas-erp"],
    &["Helios", "Helios", "Helios CRM"],
    &["Nova", "Nova", "Nova mobile", "Nova app"],
    &["Orbit", "Orbit", "Orbit gateway"],
];
pub(crate) const PRODUCT_PLUS: [&[&str]; 4] =
    [&["atlas", "atlas-erp"], &["helios"], &["nova"], &["orbit"]];
pub(crate) const SEVERITIES: [&str; 4] = ["critical", "high", "medium", "low"];

/// Values after a severity keyword (read with comments after them).
pub(crate) const SEVERITY_WORDS: [[&[&str]; 4]; 2] = [
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
pub(crate) const SEVERITY_TAGS: [[&[&str]; 4]; 2] = [
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
pub(crate) const SEVERITY_LABELS: [&[&str]; 2] = [
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
pub(crate) const PRODUCT_LABELS: [&[&str]; 2] = [
    &["Produit", "Produit concerné", "Logiciel", "Produit(s)"],
    &["Product", "Software", "Product(s)"],
];
pub(crate) const PRODUCTS_LABELS: [&[&str]; 2] = [
    &["Produits", "Produits concernés", "Produit(s)"],
    &["Products", "Product(s)"],
];
pub(crate) const TYPE_LABELS: [&[&str]; 2] = [
    &["Type de demande", "Type", "Nature de la demande"],
    &["Request type", "Type"],
];
pub(crate) const FEATURE_WORDS: [&[&str]; 2] = [
    &[
        "évolution",
        "Nouvelle fonctionnalité",
        "demande d'évolution",
        "amélioration",
        "suggestion",
    ],
    &["feature request", "enhancement", "feature", "suggestion"],
];
pub(crate) const FEATURE_TAGS: [&[&str]; 2] = [
    &[
        "Évolution",
        "Suggestion",
        "Nouvelle fonctionnalité",
        "Amélioration",
    ],
    &["Feature", "Feature request", "Enhancement"],
];
pub(crate) const SUPPORT_TAGS: [&[&str]; 2] = [
    &["Bug", "Incident", "Anomalie"],
    &["Bug", "Incident", "Question"],
];
pub(crate) const SUPPORT_WORDS: [&[&str]; 2] = [
    &["incident", "anomalie", "assistance", "problème", "bug"],
    &["incident", "bug", "support request", "question", "problem"],
];
