//! The people's words: first and last names, job titles, companies and
//! public mail domains.

pub(crate) struct Company {
    pub(crate) name: &'static str,
    pub(crate) domain: &'static str,
    /// UTC offset in hours.
    pub(crate) offset: i32,
}

pub(crate) const TITLES: [&[&str]; 2] = [
    &[
        "Responsable informatique",
        "Comptable",
        "Directrice administrative",
        "Chef de projet",
        "Assistante de direction",
        "Technicien support",
        "Gérant",
    ],
    &[
        "IT Manager",
        "Accountant",
        "Operations Director",
        "Project Manager",
        "Office Manager",
        "Systems Administrator",
        "Sales Director",
    ],
];

pub(crate) const FIRST_NAMES: [&[&str]; 2] = [
    &[
        "Camille",
        "Julien",
        "Hélène",
        "François",
        "Émilie",
        "Nicolas",
        "Sophie",
        "Thierry",
        "Léa",
        "Mathieu",
        "Céline",
        "Stéphane",
        "Aurélie",
        "Jérôme",
        "Chloé",
        "Benoît",
        "Manon",
        "Grégoire",
        "Isabelle",
        "Loïc",
    ],
    &[
        "Jane", "Michael", "Sarah", "David", "Emily", "James", "Olivia", "Daniel", "Laura",
        "Robert", "Priya", "Thomas", "Hannah", "Kevin", "Rachel", "Andrew", "Megan", "Samuel",
        "Grace", "Owen",
    ],
];

pub(crate) const LAST_NAMES: [&[&str]; 2] = [
    &[
        "Martin",
        "Bernard",
        "Dubois",
        "Lefèvre",
        "Moreau",
        "Girard",
        "Roux",
        "Fournier",
        "Mercier",
        "Lambert",
        "Faure",
        "Rousseau",
        "Blanc",
        "Guérin",
        "Chevalier",
        "Gauthier",
        "Perrin",
        "Masson",
        "Lemoine",
        "Noël",
    ],
    &[
        "Cooper", "Smith", "Patel", "Johnson", "Walker", "Hughes", "O'Neill", "Bennett", "Clarke",
        "Foster", "Turner", "Morgan", "Reed", "Hayes", "Ward", "Price", "Shaw", "Fletcher",
        "Brooks", "Chen",
    ],
];

pub(crate) const fn company(name: &'static str, domain: &'static str, offset: i32) -> Company {
    Company {
        name,
        domain,
        offset,
    }
}

pub(crate) const COMPANIES: [&[Company]; 2] = [
    &[
        company("Boulangeries Marchand", "boulangeries-marchand.fr", 1),
        company("Transports Lemoine", "transports-lemoine.fr", 1),
        company("Clinique du Parc", "clinique-duparc.fr", 1),
        company("Mairie de Saint-Genis", "mairie-saintgenis.fr", 1),
        company("Lumière Optique", "lumiere-optique.fr", 1),
        company("Cabinet Rousseau & Associés", "cabinet-rousseau.fr", 1),
        company("Coopérative agricole du Val", "coop-duval.fr", 1),
        company("Éditions Garnier-Petit", "editions-garnierpetit.fr", 1),
        company("Hôtel Beau Rivage", "hotel-beaurivage.fr", 1),
        company("Menuiserie Perrin", "menuiserie-perrin.fr", 1),
    ],
    &[
        company("Northwind Logistics", "northwind-logistics.com", -5),
        company("Globex Corporation", "globex.com", -5),
        company("Brightwater Dental", "brightwaterdental.co.uk", 0),
        company("Kestrel Analytics", "kestrel-analytics.io", 0),
        company("Maple Leaf Staffing", "mapleleafstaffing.ca", -5),
        company("Riverside Health Group", "riversidehealth.org", -5),
        company("Copperfield Books", "copperfieldbooks.co.uk", 0),
        company("Summit Outdoor Supply", "summitoutdoor.com", -8),
        company("Bluebird Energy", "bluebird-energy.com", -6),
        company("Harbour & Finch", "harbourfinch.co.uk", 0),
    ],
];

pub(crate) const PUBLIC_DOMAINS: [&[&str]; 2] = [
    &[
        "gmail.com",
        "orange.fr",
        "free.fr",
        "outlook.fr",
        "laposte.net",
    ],
    &["gmail.com", "outlook.com", "yahoo.com", "hotmail.com"],
];
