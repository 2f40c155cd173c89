//! The words of the portal, in English and French, and the built-in terms.

use serde::Serialize;

use crate::model::Language;

/// The portal's words in one language.
#[derive(Debug, Serialize)]
pub(super) struct Strings {
    pub portal: &'static str,
    pub sign_in: &'static str,
    pub sign_in_text: &'static str,
    pub email: &'static str,
    pub send_link: &'static str,
    pub link_sent_title: &'static str,
    pub link_sent_text: &'static str,
    pub mail_subject: &'static str,
    pub mail_text: &'static str,
    pub terms_title: &'static str,
    pub terms_text: &'static [&'static str],
    /// Before the link to `portal.terms_url`.
    pub terms_elsewhere: &'static str,
    pub terms_link: &'static str,
    pub accept: &'static str,
    pub my_requests: &'static str,
    pub all: &'static str,
    pub open: &'static str,
    pub closed: &'static str,
    pub none_yet: &'static str,
    pub next_page: &'static str,
    pub new_request: &'static str,
    pub sign_out: &'static str,
    pub key: &'static str,
    pub summary: &'static str,
    pub status: &'static str,
    pub severity: &'static str,
    pub products: &'static str,
    pub request_type: &'static str,
    pub updated: &'static str,
    pub description: &'static str,
    pub attachments: &'static str,
    pub reply: &'static str,
    pub your_reply: &'static str,
    pub send: &'static str,
    pub back: &'static str,
    pub timeline: &'static str,
    pub team: &'static str,
    pub no_text: &'static str,
    pub follow_up: &'static str,
    pub unknown_value: &'static str,
    pub required: &'static str,
    pub empty_reply: &'static str,
}

const EN: Strings = Strings {
    portal: "Customer portal",
    sign_in: "Sign in",
    sign_in_text: "Enter your email address: we will send you a link to sign in, valid for 15 minutes.",
    email: "Email address",
    send_link: "Send me a link",
    link_sent_title: "Check your mailbox",
    link_sent_text: "If this address may sign in, a link is on its way. It can be used once, within 15 minutes.",
    mail_subject: "Your sign-in link",
    mail_text: "Hello,\r\n\r\nTo sign in to the customer portal, open this link (valid for 15 minutes, once):\r\n\r\n{link}\r\n\r\nIf you did not ask for it, ignore this message.\r\n",
    terms_title: "Terms of use",
    terms_text: &[
        "This portal shows the support requests you made or follow, and lets you answer them and file new ones.",
        "What you write here is sent to our support team as an email would be, and kept with your request.",
        "We record when you accept these terms, their version and the address you accepted them from.",
        "Keep your sign-in links to yourself: anyone who opens one can act in your name until signing out.",
    ],
    terms_elsewhere: "Please read our terms of use before you go on; they open on our website.",
    terms_link: "Read the terms of use",
    accept: "I accept",
    my_requests: "My requests",
    all: "All",
    open: "Open",
    closed: "Closed",
    none_yet: "No request here.",
    next_page: "Next page",
    new_request: "New request",
    sign_out: "Sign out",
    key: "Request",
    summary: "Summary",
    status: "Status",
    severity: "Severity",
    products: "Products",
    request_type: "Request type",
    updated: "Last update",
    description: "Description",
    attachments: "Attachments",
    reply: "Reply",
    your_reply: "Your message",
    send: "Send",
    back: "Back to my requests",
    timeline: "Conversation",
    team: "Support team",
    no_text: "(no text)",
    follow_up: "Continued in a new request:",
    unknown_value: "is not one of the accepted values",
    required: "is required",
    empty_reply: "Write a message or attach a file.",
};

const FR: Strings = Strings {
    portal: "Espace client",
    sign_in: "Connexion",
    sign_in_text: "Indiquez votre adresse électronique : nous vous enverrons un lien de connexion, valable 15 minutes.",
    email: "Adresse électronique",
    send_link: "M'envoyer un lien",
    link_sent_title: "Consultez votre messagerie",
    link_sent_text: "Si cette adresse peut se connecter, un lien est en route. Il ne sert qu'une fois, dans les 15 minutes.",
    mail_subject: "Votre lien de connexion",
    mail_text: "Bonjour,\r\n\r\nPour vous connecter à l'espace client, ouvrez ce lien (valable 15 minutes, une seule fois) :\r\n\r\n{link}\r\n\r\nSi vous ne l'avez pas demandé, ignorez ce message.\r\n",
    terms_title: "Conditions d'utilisation",
    terms_text: &[
        "Cet espace montre les demandes d'assistance que vous avez faites ou suivez, et vous permet d'y répondre et d'en déposer de nouvelles.",
        "Ce que vous écrivez ici est transmis à notre équipe support comme un courriel, et conservé avec votre demande.",
        "Nous enregistrons la date de votre acceptation de ces conditions, leur version et l'adresse depuis laquelle vous les avez acceptées.",
        "Gardez vos liens de connexion pour vous : quiconque en ouvre un peut agir en votre nom jusqu'à la déconnexion.",
    ],
    terms_elsewhere: "Merci de lire nos conditions d'utilisation avant de continuer ; elles s'ouvrent sur notre site.",
    terms_link: "Lire les conditions d'utilisation",
    accept: "J'accepte",
    my_requests: "Mes demandes",
    all: "Toutes",
    open: "Ouvertes",
    closed: "Fermées",
    none_yet: "Aucune demande ici.",
    next_page: "Page suivante",
    new_request: "Nouvelle demande",
    sign_out: "Se déconnecter",
    key: "Demande",
    summary: "Résumé",
    status: "État",
    severity: "Gravité",
    products: "Produits",
    request_type: "Type de demande",
    updated: "Mise à jour",
    description: "Description",
    attachments: "Pièces jointes",
    reply: "Répondre",
    your_reply: "Votre message",
    send: "Envoyer",
    back: "Retour à mes demandes",
    timeline: "Échanges",
    team: "Équipe support",
    no_text: "(sans texte)",
    follow_up: "Suite dans une nouvelle demande :",
    unknown_value: "n'est pas une valeur acceptée",
    required: "est obligatoire",
    empty_reply: "Écrivez un message ou joignez un fichier.",
};

pub(super) fn strings(language: Language) -> &'static Strings {
    match language {
        Language::En => &EN,
        Language::Fr => &FR,
    }
}

/// The small pages: (title, text).
pub(super) fn notice_words(
    notice: super::Notice,
    language: Language,
) -> (&'static str, &'static str) {
    use super::Notice;
    let fr = language == Language::Fr;
    match (notice, fr) {
        (Notice::NotFound, false) => (
            "Page not found",
            "This page does not exist, or is not yours.",
        ),
        (Notice::NotFound, true) => (
            "Page introuvable",
            "Cette page n'existe pas, ou n'est pas la vôtre.",
        ),
        (Notice::LinkUsed, false) => (
            "Link expired",
            "This link has expired or was used. Ask for a new one.",
        ),
        (Notice::LinkUsed, true) => (
            "Lien expiré",
            "Ce lien a expiré ou a déjà servi. Demandez-en un nouveau.",
        ),
        (Notice::Forbidden, false) => (
            "Form expired",
            "This form is no longer valid. Go back, reload the page and try again.",
        ),
        (Notice::Forbidden, true) => (
            "Formulaire expiré",
            "Ce formulaire n'est plus valable. Revenez en arrière, rechargez la page et réessayez.",
        ),
        (Notice::TooLarge, false) => (
            "Too large",
            "What you sent is over the size limit; nothing was filed. Send smaller or fewer files.",
        ),
        (Notice::TooLarge, true) => (
            "Trop volumineux",
            "Votre envoi dépasse la taille permise ; rien n'a été enregistré. Envoyez des fichiers plus petits ou moins nombreux.",
        ),
        (Notice::NotFiled, false) => (
            "Not filed",
            "Your message could not be filed. Please write to us by email.",
        ),
        (Notice::NotFiled, true) => (
            "Non enregistré",
            "Votre message n'a pas pu être enregistré. Merci de nous écrire par courriel.",
        ),
        (Notice::Unavailable, false) => (
            "Temporarily unavailable",
            "This page cannot be shown right now. Please try again in a few minutes.",
        ),
        (Notice::Unavailable, true) => (
            "Momentanément indisponible",
            "Cette page ne peut pas être affichée pour le moment. Merci de réessayer dans quelques minutes.",
        ),
        (Notice::Error, false) => (
            "Something went wrong",
            "This page cannot be shown. Please try again later.",
        ),
        (Notice::Error, true) => (
            "Une erreur est survenue",
            "Cette page ne peut pas être affichée. Merci de réessayer plus tard.",
        ),
    }
}
