//! What customers write about: the support topics, a subject and a first
//! sentence in each language.

pub(crate) struct Topic {
    pub(crate) product: usize,
    pub(crate) feature: bool,
    pub(crate) subject: [&'static str; 2],
    pub(crate) body: [&'static str; 2],
}

pub(crate) const fn topic(
    product: usize,
    feature: bool,
    subject: [&'static str; 2],
    body: [&'static str; 2],
) -> Topic {
    Topic {
        product,
        feature,
        subject,
        body,
    }
}

pub(crate) const SUPPORT_TOPICS: &[Topic] = &[
    topic(
        0,
        false,
        [
            "Erreur 500 lors de l'export des factures en PDF",
            "Invoice PDF export fails with error 500",
        ],
        [
            "Depuis la mise à jour en version {v}, l'export des factures au format PDF échoue avec une erreur 500. Le problème ne concerne que les factures de plus de deux cents lignes.",
            "Since the upgrade to version {v}, exporting invoices to PDF fails with an error 500. It only happens for invoices with more than two hundred lines.",
        ],
    ),
    topic(
        0,
        false,
        [
            "Écart de stock après l'inventaire",
            "Stock levels wrong after the inventory count",
        ],
        [
            "Après la validation de l'inventaire de {day}, les quantités en stock affichées dans Atlas ne correspondent plus au comptage pour {n} références.",
            "After we validated the inventory count on {day}, the stock levels shown in Atlas no longer match what we counted for {n} items.",
        ],
    ),
    topic(
        0,
        false,
        [
            "Lenteurs importantes sur la saisie des commandes",
            "Order entry has become very slow",
        ],
        [
            "La validation d'une commande client prend maintenant plus d'une minute dans Atlas, alors qu'elle était quasi instantanée la semaine dernière.",
            "Confirming a customer order in Atlas now takes more than a minute, while it was almost instant last week.",
        ],
    ),
    topic(
        0,
        false,
        [
            "Impossible de clôturer l'exercice comptable",
            "Cannot close the financial year",
        ],
        [
            "La clôture de l'exercice s'arrête à l'étape de contrôle des écritures et nous ne pouvons pas aller plus loin.",
            "The year-end closing stops at the journal check step and we cannot get any further.",
        ],
    ),
    topic(
        0,
        false,
        [
            "Les bons de commande ne partent plus par e-mail",
            "Purchase orders are no longer emailed to suppliers",
        ],
        [
            "Les bons de commande validés dans Atlas restent au statut « en attente d'envoi » et nos fournisseurs ne les reçoivent pas.",
            "Purchase orders approved in Atlas stay in the \"waiting to be sent\" state and our suppliers never receive them.",
        ],
    ),
    topic(
        0,
        false,
        [
            "Arrondi incorrect sur la TVA des avoirs",
            "VAT rounding is wrong on credit notes",
        ],
        [
            "Sur les avoirs, le montant de TVA calculé par Atlas diffère d'un centime du montant attendu, ce qui bloque le rapprochement comptable.",
            "On credit notes, the VAT amount calculated by Atlas is one cent off, which blocks our reconciliation.",
        ],
    ),
    topic(
        1,
        false,
        [
            "Synchronisation des contacts Outlook bloquée",
            "Outlook contact sync stuck",
        ],
        [
            "La synchronisation des contacts entre Helios et Outlook est bloquée depuis {day} pour {n} commerciaux.",
            "Contact synchronisation between Helios and Outlook has been stuck since {day} for {n} of our sales reps.",
        ],
    ),
    topic(
        1,
        false,
        [
            "Message « Licence expirée » au démarrage d'Helios",
            "Licence expired message when starting Helios",
        ],
        [
            "Au démarrage d'Helios, plusieurs postes affichent le message « Licence expirée » alors que notre contrat a été renouvelé le mois dernier.",
            "When Helios starts, several machines show a \"Licence expired\" message although our contract was renewed last month.",
        ],
    ),
    topic(
        1,
        false,
        [
            "Les campagnes e-mail partent en double",
            "Email campaigns are sent twice",
        ],
        [
            "Notre dernière campagne e-mail programmée dans Helios a été envoyée deux fois à toute la liste, soit plus de {n} cents contacts.",
            "Our last email campaign scheduled in Helios was sent twice to the whole list, which is more than {n} hundred contacts.",
        ],
    ),
    topic(
        1,
        false,
        [
            "Tableau de bord du pipeline vide",
            "Pipeline dashboard shows no data",
        ],
        [
            "Le tableau de bord du pipeline commercial n'affiche plus aucune donnée, alors que les opportunités sont bien visibles dans la liste.",
            "The sales pipeline dashboard no longer shows any data, although the opportunities are still visible in the list.",
        ],
    ),
    topic(
        1,
        false,
        [
            "Import CSV des prospects refusé",
            "Lead CSV import rejected",
        ],
        [
            "L'import de notre fichier de prospects est refusé avec le message « {err} », alors que le même fichier passait sans problème le mois dernier.",
            "Importing our leads file is rejected with the message \"{err}\", although the same file went through fine last month.",
        ],
    ),
    topic(
        1,
        false,
        [
            "Droits d'accès perdus pour l'équipe commerciale",
            "Sales team lost their access rights",
        ],
        [
            "Depuis ce matin, les membres de l'équipe commerciale ne voient plus les fiches clients de leur secteur dans Helios.",
            "Since this morning, the members of our sales team can no longer see the customer records of their region in Helios.",
        ],
    ),
    topic(
        2,
        false,
        [
            "L'application Nova plante au démarrage",
            "Nova app crashes on launch",
        ],
        [
            "L'application Nova se ferme dès l'ouverture sur les téléphones de nos techniciens depuis la version {v}.",
            "The Nova app closes as soon as it is opened on our technicians' phones since version {v}.",
        ],
    ),
    topic(
        2,
        false,
        [
            "Les notifications n'arrivent plus sur iPhone",
            "Push notifications no longer arrive on iPhone",
        ],
        [
            "Les notifications de nouvelles interventions n'arrivent plus sur les iPhone, alors qu'elles fonctionnent toujours sur Android.",
            "Notifications for new jobs no longer arrive on iPhones, while they still work on Android.",
        ],
    ),
    topic(
        2,
        false,
        [
            "Synchronisation hors ligne incomplète",
            "Offline sync loses data",
        ],
        [
            "Quand les techniciens travaillent hors ligne, une partie des rapports saisis dans Nova disparaît à la synchronisation suivante.",
            "When our technicians work offline, some of the reports they enter in Nova are lost at the next sync.",
        ],
    ),
    topic(
        2,
        false,
        [
            "Connexion impossible après changement de mot de passe",
            "Cannot log in after a password change",
        ],
        [
            "Après le changement de mot de passe imposé {day}, {n} utilisateurs ne peuvent plus se connecter à l'application Nova.",
            "After the password change we enforced on {day}, {n} users can no longer log in to the Nova app.",
        ],
    ),
    topic(
        2,
        false,
        [
            "Photos des bons de livraison illisibles",
            "Photos of delivery notes are unreadable",
        ],
        [
            "Les photos des bons de livraison prises depuis Nova arrivent floues et très compressées dans le dossier client.",
            "Photos of delivery notes taken from Nova arrive blurry and heavily compressed in the customer file.",
        ],
    ),
    topic(
        2,
        false,
        ["Écran blanc sur Android 15", "Blank screen on Android 15"],
        [
            "Sur les téléphones passés sous Android 15, Nova reste bloquée sur un écran blanc après l'écran de connexion.",
            "On phones upgraded to Android 15, Nova gets stuck on a blank screen right after the login screen.",
        ],
    ),
    topic(
        3,
        false,
        [
            "Timeouts sur l'API de facturation",
            "Billing API calls time out",
        ],
        [
            "Une partie des appels à l'API de facturation via Orbit échoue avec l'erreur « {err} » depuis {day}.",
            "Some of our calls to the billing API through Orbit fail with \"{err}\" since {day}.",
        ],
    ),
    topic(
        3,
        false,
        [
            "Certificat TLS expiré sur la passerelle",
            "TLS certificate expired on the gateway",
        ],
        [
            "Nos partenaires nous signalent que le certificat présenté par la passerelle Orbit a expiré, et leurs appels sont refusés.",
            "Our partners tell us that the certificate presented by the Orbit gateway has expired, and their calls are refused.",
        ],
    ),
    topic(
        3,
        false,
        ["Webhooks reçus en double", "Webhooks delivered twice"],
        [
            "Depuis la mise à jour {v} d'Orbit, chaque webhook de paiement est reçu deux fois par notre serveur.",
            "Since the Orbit {v} update, every payment webhook reaches our server twice.",
        ],
    ),
    topic(
        3,
        false,
        [
            "Erreur 429 alors que le quota n'est pas atteint",
            "Error 429 although we are under the quota",
        ],
        [
            "Orbit renvoie des erreurs 429 alors que nous sommes très loin du quota prévu dans notre contrat.",
            "Orbit returns 429 errors although we are far below the quota in our contract.",
        ],
    ),
    topic(
        3,
        false,
        [
            "Les journaux d'audit ne sont plus alimentés",
            "Audit logs are no longer written",
        ],
        [
            "Les journaux d'audit de la passerelle sont vides depuis {day}, alors que le trafic est normal.",
            "The gateway audit logs have been empty since {day}, although the traffic is normal.",
        ],
    ),
    topic(
        3,
        false,
        ["Redirection OAuth en boucle", "OAuth redirect loops"],
        [
            "La connexion de nos utilisateurs via OAuth part en boucle de redirection entre Orbit et notre fournisseur d'identité.",
            "Our users' OAuth login goes into a redirect loop between Orbit and our identity provider.",
        ],
    ),
];
