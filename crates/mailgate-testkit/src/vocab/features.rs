//! What customers ask for: the feature-request topics.

use super::topics::{Topic, topic};

pub(crate) const FEATURE_TOPICS: &[Topic] = &[
    topic(
        0,
        true,
        [
            "Export des écritures au format FEC",
            "Export journal entries for our accountant",
        ],
        [
            "Nous aimerions pouvoir exporter les écritures comptables au format FEC directement depuis Atlas, sans passer par un tableur.",
            "We would like to export the journal entries in a format our accountant can import, directly from Atlas and without a spreadsheet.",
        ],
    ),
    topic(
        0,
        true,
        ["Pouvoir dupliquer un devis", "Allow duplicating a quote"],
        [
            "Il serait très pratique de pouvoir dupliquer un devis existant pour un autre client au lieu de tout ressaisir.",
            "It would be very handy to duplicate an existing quote for another customer instead of typing everything again.",
        ],
    ),
    topic(
        0,
        true,
        [
            "Filtre par entrepôt dans les états de stock",
            "Filter stock reports by warehouse",
        ],
        [
            "Nous avons maintenant trois entrepôts et il nous faudrait un filtre par entrepôt dans les états de stock.",
            "We now have three warehouses and we need a warehouse filter in the stock reports.",
        ],
    ),
    topic(
        1,
        true,
        [
            "Intégration de Helios avec Teams",
            "Microsoft Teams integration for Helios",
        ],
        [
            "Nos commerciaux aimeraient recevoir les rappels d'Helios directement dans Microsoft Teams.",
            "Our sales reps would like to get the Helios reminders directly in Microsoft Teams.",
        ],
    ),
    topic(
        1,
        true,
        [
            "Champs personnalisés sur les opportunités",
            "Custom fields on opportunities",
        ],
        [
            "Nous aurions besoin d'ajouter nos propres champs sur les opportunités, par exemple le canal d'acquisition.",
            "We need to add our own fields to opportunities, for example the acquisition channel.",
        ],
    ),
    topic(
        1,
        true,
        [
            "Rappels automatiques avant échéance des contrats",
            "Automatic reminders before contract renewals",
        ],
        [
            "Ce serait utile que Helios envoie un rappel au commercial un mois avant l'échéance de chaque contrat.",
            "It would be useful if Helios reminded the account owner one month before each contract renewal.",
        ],
    ),
    topic(
        2,
        true,
        [
            "Mode sombre dans l'application Nova",
            "Dark mode in the Nova app",
        ],
        [
            "Nos techniciens travaillent souvent de nuit et demandent un mode sombre dans l'application Nova.",
            "Our technicians often work at night and are asking for a dark mode in the Nova app.",
        ],
    ),
    topic(
        2,
        true,
        [
            "Signature du client sur le bon d'intervention",
            "Customer signature on the job report",
        ],
        [
            "Nous voudrions que le client puisse signer le bon d'intervention directement sur le téléphone du technicien.",
            "We would like the customer to sign the job report directly on the technician's phone.",
        ],
    ),
    topic(
        2,
        true,
        [
            "Scan des codes-barres en continu",
            "Continuous barcode scanning",
        ],
        [
            "Pour les inventaires, il faudrait pouvoir scanner plusieurs codes-barres à la suite sans revenir à l'écran précédent.",
            "For stock counts we need to scan several barcodes in a row without going back to the previous screen.",
        ],
    ),
    topic(
        3,
        true,
        ["Signature HMAC des webhooks", "HMAC signatures on webhooks"],
        [
            "Pour des raisons de sécurité, nous souhaiterions que les webhooks envoyés par Orbit soient signés avec HMAC.",
            "For security reasons we would like the webhooks sent by Orbit to carry an HMAC signature.",
        ],
    ),
    topic(
        3,
        true,
        [
            "Limites de débit par client API",
            "Per-client API rate limits",
        ],
        [
            "Nous aimerions pouvoir fixer une limite de débit différente pour chacun de nos clients API.",
            "We would like to set a different rate limit for each of our API clients.",
        ],
    ),
    topic(
        3,
        true,
        [
            "Export des métriques vers Prometheus",
            "Prometheus metrics export",
        ],
        [
            "Ce serait bien de pouvoir collecter les métriques de la passerelle Orbit avec notre Prometheus.",
            "It would be great to scrape the Orbit gateway metrics with our Prometheus.",
        ],
    ),
];
