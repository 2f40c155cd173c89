//! The sentences around a request: details, impact, requests, greetings,
//! sign-offs, follow-ups, the values filled into them, day and month names.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use mailgate::model::Language;

use super::li;
use crate::rng::pick_str;

/// Values filled into sentence templates.
pub(crate) struct Vars {
    pub(crate) version: String,
    n: u32,
    day: usize,
    browser: &'static str,
    error: &'static str,
}

impl Vars {
    pub(crate) fn random(rng: &mut ChaCha8Rng, product: usize) -> Self {
        Vars {
            version: format!(
                "{}.{}.{}",
                rng.gen_range(3..9),
                rng.gen_range(0..10),
                rng.gen_range(0..6)
            ),
            n: rng.gen_range(2..40),
            day: rng.gen_range(0..5),
            browser: pick_str(rng, &["Firefox 128", "Chrome 124", "Edge 125"]),
            error: pick_str(rng, ERRORS[product]),
        }
    }

    pub(crate) fn fill(&self, template: &str, lang: Language) -> String {
        template
            .replace("{v}", &self.version)
            .replace("{n}", &self.n.to_string())
            .replace("{day}", DAYS[li(lang)][self.day])
            .replace("{browser}", self.browser)
            .replace("{err}", self.error)
    }
}

pub(crate) const ERRORS: [&[&str]; 4] = [
    &[
        "HTTP 500 Internal Server Error",
        "Deadlock found when trying to get lock",
        "ORA-01555 snapshot too old",
    ],
    &[
        "Invalid column count on line 2",
        "LicenseCheckFailed",
        "Sync token expired",
    ],
    &[
        "NullPointerException in SyncWorker",
        "Session expired",
        "Unable to reach server",
    ],
    &[
        "504 Gateway Timeout",
        "upstream request timeout",
        "certificate has expired",
    ],
];

pub(crate) const DETAILS: [&[&str]; 2] = [
    &[
        "Le problème touche {n} utilisateurs sur nos deux sites.",
        "Nous avons déjà redémarré les postes et vidé le cache du navigateur, sans effet.",
        "Le message d'erreur affiché est « {err} ».",
        "Cela fonctionnait encore correctement {day} dernier.",
        "Nous utilisons la version {v} sous Windows 11 avec {browser}.",
        "Le souci apparaît aussi bien sur les postes fixes que sur les portables.",
        "Un collègue rencontre exactement le même comportement depuis ce matin.",
        "Nous n'avons fait aucune modification de paramétrage de notre côté.",
        "Le problème est intermittent, environ une tentative sur trois échoue.",
        "Nous avons essayé avec un autre compte utilisateur et le résultat est le même.",
        "D'après nos premières constatations, le problème a commencé après la maintenance de cette nuit.",
        "Je peux vous donner un accès à distance si besoin.",
    ],
    &[
        "It affects {n} users across both of our sites.",
        "We have already restarted the machines and cleared the browser cache, with no change.",
        "The error message says \"{err}\".",
        "It was still working fine last {day}.",
        "We are on version {v} on Windows 11 with {browser}.",
        "The problem happens on desktops and laptops alike.",
        "A colleague has been seeing exactly the same behaviour since this morning.",
        "We have not changed any settings on our side.",
        "It is intermittent, roughly one attempt in three fails.",
        "We tried with another user account and got the same result.",
        "From what we can see, the problem started after last night's maintenance window.",
        "I can give you remote access if needed.",
    ],
];

pub(crate) const IMPACT: [[&[&str]; 4]; 2] = [
    [
        &[
            "La production est complètement arrêtée, c'est bloquant pour toute l'équipe.",
            "Nous ne pouvons plus facturer nos clients, merci de traiter ce problème en priorité.",
        ],
        &[
            "Cela ralentit fortement notre activité.",
            "Plusieurs commandes sont en attente à cause de ce problème.",
        ],
        &[
            "Nous avons un contournement pour le moment, mais ce n'est pas tenable longtemps.",
            "Ce n'est pas bloquant mais cela nous fait perdre du temps.",
        ],
        &[
            "Ce n'est pas urgent, mais c'est assez gênant au quotidien.",
            "Rien de bloquant, c'est surtout un souci de confort.",
        ],
    ],
    [
        &[
            "Production is completely stopped, this is blocking the whole team.",
            "We cannot invoice our customers any more, please treat this as a priority.",
        ],
        &[
            "This is slowing our work down a lot.",
            "Several orders are on hold because of this.",
        ],
        &[
            "We have a workaround for now, but it will not hold for long.",
            "It is not blocking but it is costing us time.",
        ],
        &[
            "This is not urgent, but it is quite annoying day to day.",
            "Nothing blocking, it is mostly a comfort issue.",
        ],
    ],
];

pub(crate) const FEATURE_IMPACT: [&[&str]; 2] = [
    &[
        "Cela nous ferait gagner beaucoup de temps au quotidien.",
        "Plusieurs de nos utilisateurs nous le demandent régulièrement.",
    ],
    &[
        "It would save our team a lot of time every week.",
        "Several of our users keep asking for it.",
    ],
];

pub(crate) const REQUESTS: [&[&str]; 2] = [
    &[
        "Pourriez-vous regarder ce qui se passe ?",
        "Pouvez-vous nous indiquer un correctif ou un contournement ?",
        "Merci de me tenir informé de l'avancement.",
        "Pouvez-vous nous rappeler dès que possible ?",
    ],
    &[
        "Could you take a look?",
        "Can you suggest a fix or a workaround?",
        "Please keep me posted.",
        "Could someone call me back as soon as possible?",
    ],
];

pub(crate) const FEATURE_REQUESTS: [&[&str]; 2] = [
    &[
        "Serait-il possible d'ajouter cette fonctionnalité dans une prochaine version ?",
        "Pouvez-vous nous dire si c'est prévu ?",
    ],
    &[
        "Would it be possible to add this in a future release?",
        "Could you tell us whether this is on the roadmap?",
    ],
];

pub(crate) const FILES_ATTACHED: [&[&str]; 2] = [
    &[
        "Vous trouverez en pièce jointe les éléments utiles.",
        "Je joins une capture d'écran et le journal d'erreurs.",
        "Ci-joint le fichier concerné.",
    ],
    &[
        "Please find the relevant files attached.",
        "I have attached a screenshot and the error log.",
        "The file in question is attached.",
    ],
];

pub(crate) const FOLLOW_UPS: [&[&str]; 2] = [
    &[
        "Je me permets de revenir vers vous, le problème est toujours présent ce matin.",
        "Avez-vous du nouveau sur ce sujet ? Nous sommes toujours bloqués.",
        "Petite précision, le problème ne se produit que sur les postes sous Windows 11.",
        "J'ai oublié de préciser que nous sommes en version {v}.",
        "Le problème s'est reproduit cette nuit, avec le même message d'erreur.",
        "Merci pour votre retour, nous attendons le correctif avec impatience.",
    ],
    &[
        "Just following up, the problem is still there this morning.",
        "Any news on this? We are still stuck.",
        "A quick clarification, it only happens on the Windows 11 machines.",
        "I forgot to mention that we are on version {v}.",
        "It happened again last night, with the same error message.",
        "Thanks for getting back to me, we are looking forward to the fix.",
    ],
];

pub(crate) const REPLY_FILES: [&str; 2] = [
    "Vous trouverez ci-joint le fichier demandé.",
    "Please find attached the file you asked for.",
];

pub(crate) const GREETINGS: [&[&str]; 2] = [
    &[
        "Bonjour,",
        "Bonjour à tous,",
        "Bonjour Madame, Monsieur,",
        "Bonjour l'équipe support,",
    ],
    &[
        "Hello,",
        "Hi,",
        "Hi team,",
        "Dear support team,",
        "Good morning,",
    ],
];

pub(crate) const SIGN_OFFS: [&[&str]; 2] = [
    &[
        "Cordialement,",
        "Bien cordialement,",
        "Merci d'avance,",
        "Bonne journée,",
        "Bien à vous,",
    ],
    &[
        "Best regards,",
        "Kind regards,",
        "Thanks,",
        "Many thanks,",
        "Regards,",
    ],
];

pub(crate) const DAYS: [[&str; 5]; 2] = [
    ["lundi", "mardi", "mercredi", "jeudi", "vendredi"],
    ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
];
pub(crate) const FR_DAYS: [&str; 7] = [
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
];
pub(crate) const FR_DAYS_SHORT: [&str; 7] =
    ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."];
pub(crate) const FR_MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
