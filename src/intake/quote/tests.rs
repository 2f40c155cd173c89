//! Replies from real clients' layouts: what the sender wrote is kept, quoted history, signatures and app footers go.

use super::*;

#[test]
fn prefixed_quote_and_its_attribution_are_dropped() {
    let text = "Thanks, it works.\n\nOn Mon, Nov 23, 2026 at 10:02 AM Support <support@example.com> wrote:\n\n> Hello,\n>\n> Try 4.2.1.\n";
    assert_eq!(reply_text(text), "Thanks, it works.");
}

#[test]
fn attribution_wrapped_over_lines_is_recognised() {
    let text = "Merci.\n\nLe lun. 23 nov. 2026 à 10:02, Support Mailgate <support@example.com> a\nécrit\u{a0}:\n\n> Bonjour\n";
    assert_eq!(reply_text(text), "Merci.");
    let text = "Thanks.\n\nOn Mon, Nov 23, 2026 at 10:02 AM Support <\nsupport@example.com>\nwrote:\n\n> Hello\n";
    assert_eq!(reply_text(text), "Thanks.");
}

#[test]
fn attributions_in_other_languages() {
    for attribution in [
        "Am 23.11.2026 um 10:02 schrieb Support <support@example.com>:",
        "El lun, 23 nov 2026 a las 10:02, Support (<support@example.com>) escribió:",
        "Op ma 23 nov. 2026 om 10:02 schreef Support <support@example.com>:",
        "Il giorno lun 23 nov 2026 alle ore 10:02 Support <support@example.com> ha scritto:",
        "Le 23/11/2026 à 10:02, Support a écrit :",
        "On 23/11/2026 10:02, Support wrote:",
    ] {
        // Unprefixed history below: the attribution alone must cut it.
        let text = format!("Answer.\n\n{attribution}\nOld text\n");
        assert_eq!(reply_text(&text), "Answer.", "{attribution}");
    }
}

#[test]
fn a_sign_off_is_not_joined_with_the_attribution_below_it() {
    // As rendered from HTML: no blank line above the attribution.
    let text = "Still broken.\nRegards,\nMargaret Hughes\nOn Monday, November 23, 2026 at 10:02:41 AM GMT, Support <support@example.com> wrote:\nHello Margaret,\n";
    assert_eq!(reply_text(text), "Still broken.\nRegards,\nMargaret Hughes");
    let text = "Regards,\nMargaret\nSupport <support@example.com> wrote:\n> old\n";
    assert_eq!(reply_text(text), "Regards,\nMargaret");
    let text = "On behalf of the team,\nJohn\nOn Mon, Nov 23, 2026 at 10:02 AM Support <support@example.com> wrote:\n> old\n";
    assert_eq!(reply_text(text), "On behalf of the team,\nJohn");
}

#[test]
fn attribution_followed_by_plain_text_cuts_the_rest() {
    let text = "Hello,\nStill broken.\n\n    On Monday, November 23, 2026 at 10:02:41 AM GMT, Support <support@example.com> wrote:  \n \n Hello Margaret,\nWe have received your request.\n";
    assert_eq!(reply_text(text), "Hello,\nStill broken.");
}

#[test]
fn attribution_run_into_the_quote_cuts_the_rest() {
    let text = "Merci\n\n  Le lun., nov. 23, 2026 à 10:02, Support<support@example.com> a écrit :   Bonjour Gérard, la version...\n";
    assert_eq!(reply_text(text), "Merci");
}

#[test]
fn bottom_posted_and_inline_answers_are_kept_in_order() {
    let bottom = "On Mon, Nov 23, 2026 at 10:02:11AM +0000, Support wrote:\n> Which account?\n\nIt runs as orbit.\n";
    assert_eq!(reply_text(bottom), "It runs as orbit.");
    let inline = "Hi,\n\nOn 2026-11-23 10:02, Support wrote:\n> 1. Version?\n\n4.0.2\n\n> 2. Partners?\n\nOnly SFTP ones.\n\n> Regards\n\nThanks\n";
    assert_eq!(
        reply_text(inline),
        "Hi,\n\n4.0.2\n\nOnly SFTP ones.\n\nThanks"
    );
}

#[test]
fn separators_cut_the_rest() {
    for separator in [
        "-----Original Message-----",
        "-----Message d'origine-----",
        "-----Message d’origine-----",
        "----- Mail original -----",
        "------- Original Message -------",
        "-------- Message original --------",
        "-------- Original message --------",
        "-------- Forwarded Message --------",
        "---------- Forwarded message ---------",
        "-----Ursprüngliche Nachricht-----",
        "-----\"Support\" <support@example.com> a écrit : -----",
        "-----Support <support@example.com> wrote: -----",
        "Begin forwarded message:",
    ] {
        let text = format!("Answer.\n\n{separator}\nFrom: x\nold\n");
        assert_eq!(reply_text(&text), "Answer.", "{separator}");
    }
}

#[test]
fn outlook_header_blocks_cut_the_rest_with_the_rule_above() {
    let english = "Answer.\n________________________________\nFrom: Support <support@example.com>\nSent: Monday, November 23, 2026 10:02\nTo: Priya <p@b.com>\nSubject: Re: [SUP-19] Slow\n\nHi Priya,\n";
    assert_eq!(reply_text(english), "Answer.");
    let french = "Réponse.\n\nDe\u{a0}: Support <support@example.com>\nEnvoyé\u{a0}: lundi 23 novembre 2026 10:02\nÀ\u{a0}: Marie\nObjet\u{a0}: Re: x\n\nBonjour\n";
    assert_eq!(reply_text(french), "Réponse.");
    let notes = "Answer.\n\n\nFrom:\tSupport <support@example.com>\nTo:\tdavid@m.co.uk\nDate:\t23/11/2026 10:02\nSubject:\tRe: x\n";
    assert_eq!(reply_text(notes), "Answer.");
    let to_first = "Réponse.\nA : bernard@l.fr\nDe : \"Support\" <support@example.com>\nDate : 23/11/2026 10:02\nObjet : Re: x\nold\n";
    assert_eq!(reply_text(to_first), "Réponse.");
    let wrapped_to = "Answer.\nFrom: Support <support@example.com>\nSent: Monday\nTo: a@x.com; b@x.com;\n c@x.com\nCc: d@x.com\nSubject: x\nold\n";
    assert_eq!(reply_text(wrapped_to), "Answer.");
}

#[test]
fn lone_header_like_lines_are_the_senders_text() {
    let text =
        "From: the logs it looks like the token expires.\nTo: be honest I am not sure.\n\nThanks";
    assert_eq!(reply_text(text), text);
    let text =
        "Subject: the export\n\nFrom: Support <support@example.com>\nSent: Monday\nTo: me\nold\n";
    assert_eq!(reply_text(text), "Subject: the export");
}

#[test]
fn sentences_mentioning_wrote_are_kept() {
    let text = "Your colleague wrote: \"restart the service\".\nOn Friday my manager wrote: escalate by Tuesday.\nOn Friday my manager wrote:\nescalate.\nLe technicien a écrit : redémarrez.";
    assert_eq!(reply_text(text), text);
}

#[test]
fn a_sentence_is_not_joined_with_the_attribution_below_it() {
    let text = "On 12 November it failed again.\nOn 23/11/2026 10:02, Support wrote:\n> old\n";
    assert_eq!(reply_text(text), "On 12 November it failed again.");
}

#[test]
fn signature_goes_even_above_a_long_quote() {
    let quote = "> quoted line\n".repeat(40);
    let text = format!(
        "Confirmed.\n\n-- \nBen Walker\n+44 161 496 0321\n\nOn 23/11/2026 10:02, Support wrote:\n{quote}"
    );
    assert_eq!(reply_text(&text), "Confirmed.");
    let crlf = text.replace('\n', "\r\n");
    assert_eq!(reply_text(&crlf), "Confirmed.");
}

#[test]
fn a_plain_signature_stays() {
    let text = "Thanks,\nJohn Carter\nIT Manager\nTel: +44 20 7946 0958";
    assert_eq!(reply_text(text), text);
}

#[test]
fn app_footers_go_only_as_lines_of_their_own() {
    for footer in [
        "Sent from my iPhone",
        "Sent from my iPad",
        "Sent from my Samsung Galaxy smartphone.",
        "Sent from my Galaxy",
        "Sent from my Android device with K-9 Mail. Please excuse my brevity.",
        "Envoyé de mon iPhone",
        "Envoyé depuis mon appareil Galaxy",
        "Envoyé de mon appareil Android avec Courriel K-9 Mail. Veuillez excuser ma brièveté.",
        "Get Outlook for iOS<https://aka.ms/o0ukef>",
        "Get Outlook for Android <https://aka.ms/AAb9ysg>",
        "Obtenir Outlook pour iOS",
        "Obtenir Outlook pour Android<https://aka.ms/AAb9ysg>",
        "Envoyé depuis Outlook pour Android",
        "Sent from Yahoo Mail on Android",
        "Sent from Yahoo Mail for iPhone",
        "Envoyé de Yahoo Mail pour Android",
        "Sent with Proton Mail secure email.",
        "Sent with [Proton Mail](https://proton.me/) secure email.",
        "Envoyé avec la messagerie sécurisée Proton Mail.",
        "Sent from Mail for Windows",
        "Sent from Mail<https://go.microsoft.com/fwlink/?LinkId=550986> for Windows 10",
        "Envoyé à partir de Courrier<https://go.microsoft.com/fwlink/?LinkId=550986> pour Windows",
        // A long tracking link, as rendered from Yahoo's HTML.
        &format!(
            "Envoyé de Yahoo Mail pour Android <https://go.onelink.me/1?{}>",
            "a=b&".repeat(60)
        ),
    ] {
        assert_eq!(
            reply_text(&format!("Answer.\n\n{footer}\n")),
            "Answer.",
            "{footer}"
        );
    }
    let sentence = "I sent from my iPhone the screenshot you asked for.\nSent from my iPhone while on the road, sorry.";
    assert_eq!(reply_text(sentence), sentence);
}

#[test]
fn a_message_that_is_only_a_quote_gives_nothing() {
    assert_eq!(
        reply_text(
            "\n\nEnvoyé de mon iPhone\n\n> Le 23 nov. 2026 à 14:10, Support <support@example.com> a écrit :\n> \n> Bonjour\n"
        ),
        ""
    );
    assert_eq!(reply_text("-----Original Message-----\nFrom: a\nold\n"), "");
    assert_eq!(reply_text(""), "");
}

#[test]
fn text_is_tidied() {
    assert_eq!(reply_text("\n\n  a  \n\n\n\nb\n\n"), "  a\n\nb");
}

/// Odd inputs never panic and always come out tidy.
#[test]
fn odd_inputs_never_panic() {
    const FRAGMENTS: &[&str] = &[
        "",
        "\n",
        "\r",
        "\r\n",
        ">",
        "> ",
        "-- ",
        "--",
        "-----",
        "_____",
        "On",
        "On 1 wrote:",
        "Le 1 a écrit :",
        "wrote:",
        "From:",
        "From: x",
        "Sent:",
        "To:",
        "De :",
        "À :",
        "Objet :",
        "<",
        ">",
        "<a@b>",
        "a@b",
        "[x](https://y)",
        "<https://",
        "\u{a0}",
        "\u{202f}",
        "\u{feff}",
        "é",
        "日本",
        "🦀",
        "\u{0}",
        "\t",
        "Sent from my iPhone",
        "Envoyé de mon",
        "-----Original Message-----",
        "-----\"x\" <a@b> wrote: -----",
        "On 23/11/2026, X <a@b> wrote:   rest",
        "*From:*",
    ];
    // A small deterministic generator: no proptest needed for this.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..3000 {
        let count = (next() % 12) as usize;
        let mut text = String::new();
        for _ in 0..count {
            text.push_str(FRAGMENTS[(next() % FRAGMENTS.len() as u64) as usize]);
            if next() % 2 == 0 {
                text.push('\n');
            }
        }
        let out = reply_text(&text);
        assert!(!out.contains("\n\n\n"), "{text:?} -> {out:?}");
        assert!(
            !out.starts_with('\n') && !out.ends_with('\n'),
            "{text:?} -> {out:?}"
        );
        assert!(!out.contains('\r'), "{text:?} -> {out:?}");
    }
    for text in [
        "x".repeat(100_000),
        "On 1 ".repeat(20_000) + "wrote:",
        "> \n".repeat(20_000),
        "From: a\n".repeat(5_000),
        "Le 1\n".repeat(5_000),
    ] {
        let _ = reply_text(&text);
    }
}
