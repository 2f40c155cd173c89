//! The words of the pages, in English and French.

use serde::Serialize;

use crate::model::Language;

/// The words of the pages in one language.
#[derive(Debug, Serialize)]
pub struct Strings {
    pub(super) request: &'static str,
    pub(super) details: &'static str,
    pub(super) status: &'static str,
    pub(super) severity: &'static str,
    pub(super) products: &'static str,
    pub(super) request_type: &'static str,
    pub(super) created: &'static str,
    pub(super) updated: &'static str,
    pub(super) timeline: &'static str,
    pub(super) team: &'static str,
    pub(super) first_message: &'static str,
    pub(super) no_text: &'static str,
    pub(super) attachments: &'static str,
    pub(super) follow_up: &'static str,
    pub(super) none: &'static str,
    /// The link to the page in the other language: its name and code.
    pub(super) switch_to: &'static str,
    pub(super) switch_code: &'static str,
    pub(super) private: &'static str,
    pub(super) home_title: &'static str,
    pub(super) home_text: &'static str,
    pub(super) not_found_title: &'static str,
    pub(super) not_found_text: &'static str,
    pub(super) unavailable_title: &'static str,
    pub(super) unavailable_text: &'static str,
    pub(super) error_title: &'static str,
    pub(super) error_text: &'static str,
    #[serde(skip)]
    pub(super) months: [&'static str; 12],
    #[serde(skip)]
    pub(super) at: &'static str,
}

const EN: Strings = Strings {
    request: "Support request",
    details: "Details",
    status: "Status",
    severity: "Severity",
    products: "Products",
    request_type: "Request type",
    created: "Opened",
    updated: "Last update",
    timeline: "Conversation",
    team: "Support team",
    first_message: "original request",
    no_text: "(no text)",
    attachments: "Attachments",
    follow_up: "Continued in a new request:",
    none: "—",
    switch_to: "Français",
    switch_code: "fr",
    private: "This page is private: anyone who has its link can read it, so keep it to yourself. To add information, reply to our emails.",
    home_title: "Support request tracking",
    home_text: "This server shows how support requests are progressing. Each request has its own private link, sent by email when the request was received.",
    not_found_title: "Page not found",
    not_found_text: "This link does not lead to a request. Check that the whole address from our email was copied, or reply to that email to reach us.",
    unavailable_title: "Temporarily unavailable",
    unavailable_text: "This page cannot be shown right now. Please try again in a few minutes.",
    error_title: "Something went wrong",
    error_text: "This page cannot be shown. Please try again later.",
    months: [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ],
    at: ",",
};

const FR: Strings = Strings {
    request: "Demande d'assistance",
    details: "Détails",
    status: "État",
    severity: "Gravité",
    products: "Produits",
    request_type: "Type de demande",
    created: "Ouverte le",
    updated: "Mise à jour",
    timeline: "Échanges",
    team: "Équipe support",
    first_message: "demande initiale",
    no_text: "(sans texte)",
    attachments: "Pièces jointes",
    follow_up: "Suite dans une nouvelle demande :",
    none: "—",
    switch_to: "English",
    switch_code: "en",
    private: "Cette page est privée : toute personne qui a son lien peut la lire, ne le partagez pas. Pour ajouter des informations, répondez à nos courriels.",
    home_title: "Suivi des demandes d'assistance",
    home_text: "Ce serveur montre l'avancement des demandes d'assistance. Chaque demande a son propre lien privé, envoyé par courriel à sa réception.",
    not_found_title: "Page introuvable",
    not_found_text: "Ce lien ne mène à aucune demande. Vérifiez que l'adresse de notre courriel a été copiée en entier, ou répondez à ce courriel pour nous joindre.",
    unavailable_title: "Momentanément indisponible",
    unavailable_text: "Cette page ne peut pas être affichée pour le moment. Merci de réessayer dans quelques minutes.",
    error_title: "Une erreur est survenue",
    error_text: "Cette page ne peut pas être affichée. Merci de réessayer plus tard.",
    months: [
        "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
        "déc.",
    ],
    at: " à",
};

pub(super) fn strings(language: Language) -> &'static Strings {
    match language {
        Language::En => &EN,
        Language::Fr => &FR,
    }
}
