//! Bodies whose charset is missing, wrong or UTF-7, read from the golden
//! fixtures: the exact words come out, accents and Windows-1252 punctuation
//! included, and never a replacement character.

use mailgate::intake::{NewTicket, Outcome};

use super::{decide, fixtures_dir, settings, to_crlf};

/// The ticket a fixture becomes, with LF and with CRLF line endings.
fn tickets(name: &str) -> [NewTicket; 2] {
    let settings = settings();
    let raw = std::fs::read(fixtures_dir().join(name)).unwrap();
    [raw.clone(), to_crlf(&raw)].map(|raw| match decide(&raw, &settings).outcome {
        Outcome::Ticket { ticket } => *ticket,
        other => panic!("{name}: {other:?}"),
    })
}

fn assert_readable(ticket: &NewTicket) {
    for text in [&ticket.summary, &ticket.description, &ticket.reply] {
        assert!(!text.contains('\u{fffd}'), "{text}");
        assert!(!text.contains("Ã"), "UTF-8 read as Latin-1: {text}");
    }
}

#[test]
fn latin_1_quoted_printable_without_a_charset() {
    for ticket in tickets("071-latin-1-quoted-printable-no-charset.eml") {
        assert_readable(&ticket);
        assert!(
            ticket.description.starts_with(
                "Bonjour,\n\nDepuis l'été, l'écran « Réception » d'Atlas affiche des quantités erronées : la déjà-livrée apparaît deux fois."
            ),
            "{}",
            ticket.description
        );
        assert!(ticket.description.ends_with("Aurélie Bégué"));
        // `Gravité : haute` is a keyword line only once `é` is read.
        assert_eq!(ticket.severity, "high");
        assert_eq!(ticket.products, ["Atlas"]);
        assert!(!ticket.description.contains("Gravit"));
    }
}

#[test]
fn windows_1252_base64_without_a_charset() {
    for ticket in tickets("072-windows-1252-base64-no-charset.eml") {
        assert_readable(&ticket);
        for words in [
            "Le module “Relances” d’Helios calcule des pénalités de 1 250 € au lieu de 125 €.",
            "C’est le cœur de notre procédure…",
            "Œdipe Lefort – Comptabilité",
        ] {
            assert!(
                ticket.description.contains(words),
                "{words:?} in {}",
                ticket.description
            );
        }
        assert_eq!(ticket.products, ["Helios"]);
        assert_eq!(ticket.summary, "Pénalités de relance multipliées par dix");
    }
}

#[test]
fn utf_7_body() {
    for ticket in tickets("073-utf-7-body.eml") {
        assert_readable(&ticket);
        // `+AOA jour`: the space that ends the run is text; `1+-1` is `1+1`.
        for words in [
            "ne synchronise plus les tâches depuis la mise à jour 5.3 : « échec de connexion ».",
            "Le serveur répond 1+1=2 au test de santé, donc il est joignable.",
            "Merci,\nJérôme Ñúñez",
        ] {
            assert!(
                ticket.description.contains(words),
                "{words:?} in {}",
                ticket.description
            );
        }
        assert_eq!(ticket.products, ["Nova"]);
    }
}
