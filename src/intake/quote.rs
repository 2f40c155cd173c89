//! What a person wrote in a reply, without the earlier messages their mail
//! client quoted below (or above) it, their signature, or their phone's
//! footer. Works on plain text; HTML is turned into text first, with
//! `<blockquote>` rendered as `> ` lines.
//!
//! Mail clients mark the history in two ways, and the two need different
//! handling:
//! - prefixed: every quoted line starts with `>` (Gmail, Apple Mail,
//!   Thunderbird, mutt...). The prefix is reliable wherever it appears, so
//!   those lines are dropped one by one, which also handles answers written
//!   below the quote or between quoted lines.
//! - unprefixed: the history is pasted as is below an attribution line, a
//!   separator such as `-----Original Message-----` or a `From:`/`Sent:`
//!   header block (Outlook, Yahoo, Samsung, Zimbra, Notes...). Nothing marks
//!   where it ends, so everything from its first line on is dropped; these
//!   clients only top-post.
//!
//! The raw message is kept elsewhere, so erring towards dropping a doubtful
//! history costs less than pasting a whole thread into a comment; the rules
//! are still written so that ordinary sentences (one mentioning "wrote:",
//! or starting with "From:") survive.

use std::sync::LazyLock;

use regex::Regex;

use super::body;

/// Attribution lines longer than this are sentences, not attributions; the
/// bound also keeps the wrapped-line joins cheap on pathological input.
const MAX_ATTRIBUTION_CHARS: usize = 300;

/// How many lines a client may wrap an attribution over (Gmail wraps its
/// plain-text part at 78 columns).
const MAX_ATTRIBUTION_LINES: usize = 3;

/// How far below a `From:` line the rest of a header block is looked for;
/// a long `To:` list may wrap over a few lines.
const HEADER_BLOCK_WINDOW: usize = 6;

/// The new text of a reply: never fails, and is empty when the message was
/// nothing but a quote (someone answered with an attachment only).
pub fn reply_text(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = text.split('\n').collect();
    let own = own_lines(&lines).join("\n");
    // After the history is gone: a quoted signature could otherwise be taken
    // for the sender's, and the sender's may sit above a long quote.
    let unsigned = body::strip_signature(&own);
    body::tidy(&without_footer_lines(unsigned))
}

/// The lines the sender wrote, in order. Prefixed quotes and the
/// attribution introducing them are skipped wherever they are; an
/// unprefixed history ends the reply.
fn own_lines<'a>(lines: &[&'a str]) -> Vec<&'a str> {
    let mut kept = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if is_quoted(lines[i]) {
            i += 1;
            continue;
        }
        if let Some(len) = attribution_len(lines, i) {
            if introduces_prefixed_quote(lines, i + len) {
                i += len;
                continue;
            }
            return without_trailing_rules(kept);
        }
        if starts_unprefixed_history(lines, i) {
            return without_trailing_rules(kept);
        }
        kept.push(lines[i]);
        i += 1;
    }
    kept
}

fn is_quoted(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

/// Whether the first non-blank line from `from` on is quoted: an
/// attribution followed by plain text introduces an unprefixed history
/// (Yahoo), one followed by `>` lines only labels them.
fn introduces_prefixed_quote(lines: &[&str], from: usize) -> bool {
    lines
        .iter()
        .skip(from)
        .find(|l| !is_blank(l))
        .is_some_and(|l| is_quoted(l))
}

/// Blank lines and horizontal rules the client put above the history (the
/// underscore line of Outlook) belong to it, not to the reply.
fn without_trailing_rules(mut kept: Vec<&str>) -> Vec<&str> {
    while kept.last().is_some_and(|l| is_blank(l) || is_rule(l)) {
        kept.pop();
    }
    kept
}

fn is_rule(line: &str) -> bool {
    let line = line.trim();
    line.chars().count() >= 3 && line.chars().all(|c| "_-=─━*~".contains(c))
}

/// An attribution: "On Mon, Nov 23, 2026 at 10:02 AM Support
/// <support@example.com> wrote:" and its French, German, Spanish, Dutch,
/// Italian and Portuguese forms. Requiring a digit (the date) and the verb
/// at the very end keeps sentences like "On Friday my manager wrote: ..."
/// out.
static ATTRIBUTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^(?:
            on \s .*\d.* \s wrote
          | le \s .*\d.* \s a \s+ [ée]crit
          | am \s .*\d.* \s schrieb \b .*
          | el \s .*\d.* \s escribi[óo]
          | op \s .*\d.* \s schreef \b .*
          | il \s .*\d.* \s ha \s+ scritto
          | em \s .*\d.* \s escreveu
        )\s*:$",
    )
    .expect("valid regex")
});

/// An attribution without an opening date phrase: "Support
/// <support@example.com> wrote:". Only ever one line: joined with the line
/// above it, it would swallow a sign-off ("Regards,") rendered from HTML
/// without a blank line between them.
static ADDRESS_ATTRIBUTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^.{0,100} <[^<>\s@]+@[^<>\s]+> \s* (?:wrote|a \s+ [ée]crit|schrieb|escribi[óo]) \s*:$",
    )
    .expect("valid regex")
});

/// How many lines (1 to 3) the attribution starting at `i` spans, if one
/// does.
fn attribution_len(lines: &[&str], i: usize) -> Option<usize> {
    let last = lines.len().min(i + MAX_ATTRIBUTION_LINES);
    for end in i + 1..=last {
        let joined = joined_lines(&lines[i..end])?;
        if is_attribution(&joined, end - i) {
            // A later line that is an attribution by itself is where the
            // attribution starts; the lines above it are the sender's
            // ("On behalf of the team,\nJohn\nOn Mon, ... wrote:").
            let starts_later = (i + 1..end)
                .any(|j| joined_lines(&lines[j..end]).is_some_and(|s| is_attribution(&s, end - j)));
            return (!starts_later).then_some(end - i);
        }
    }
    None
}

fn is_attribution(joined: &str, line_count: usize) -> bool {
    ATTRIBUTION.is_match(joined) || (line_count == 1 && ADDRESS_ATTRIBUTION.is_match(joined))
}

/// Lines joined as a client that wrapped them would have written them on
/// one line, or `None` if they cannot be one attribution: blank or quoted
/// lines, too long, or an inner line ending a sentence (a client wraps
/// mid-phrase, so those are sentences of the sender's).
fn joined_lines(lines: &[&str]) -> Option<String> {
    let mut joined = String::new();
    for line in lines {
        let line = line.trim();
        if line.is_empty() || is_quoted(line) {
            return None;
        }
        if !joined.is_empty() {
            if joined.ends_with(['.', '!', '?', ':']) {
                return None;
            }
            joined.push(' ');
        }
        joined.push_str(line);
        if joined.len() > MAX_ATTRIBUTION_CHARS {
            return None;
        }
    }
    Some(joined)
}

/// Whether an unprefixed history starts at line `i`.
fn starts_unprefixed_history(lines: &[&str], i: usize) -> bool {
    is_separator(lines[i]) || is_attribution_run_into_quote(lines[i]) || header_block_at(lines, i)
}

/// A line that only ever introduces an earlier message: Outlook's
/// `-----Original Message-----`, Zimbra's `----- Mail original -----`,
/// Proton's `------- Original Message -------`, Samsung's `-------- Message
/// d'origine --------`, forwarding markers, and Notes' `-----"Support"
/// <support@example.com> wrote: -----`.
fn is_separator(line: &str) -> bool {
    static SEPARATOR: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?ix)^(?:
                -{2,} \s* (?:original \s+ message|message \s+ d['’] \s* origine|mail \s+ original
                    |message \s+ original|courriel \s+ original|forwarded \s+ message
                    |message \s+ transf[ée]r[ée]|ursprüngliche \s+ nachricht
                    |weitergeleitete \s+ nachricht|mensaje \s+ original|mensaje \s+ reenviado
                    |messaggio \s+ originale|messaggio \s+ inoltrato|oorspronkelijk \s+ bericht
                    |doorgestuurd \s+ bericht|mensagem \s+ original) \s* -{2,}
              | -{3,} .{1,160}? (?:wrote|a \s+ [ée]crit|schrieb|escribi[óo]) \s* : \s* -{3,}
              | begin \s+ forwarded \s+ message \s* :
              | d[ée]but \s+ du \s+ message \s+ r[ée]exp[ée]di[ée] \s* :
            )$",
        )
        .expect("valid regex")
    });
    SEPARATOR.is_match(line.trim())
}

/// Yahoo Mail for Android runs the quoted text into the attribution line:
/// "Le lun., nov. 23, 2026 à 10:02, Support<support@example.com> a écrit :
/// Bonjour...". The address in angle brackets and the date make it
/// specific enough to cut on.
fn is_attribution_run_into_quote(line: &str) -> bool {
    static RUN_IN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?ix)^(?:on|le|am|el) \s .*\d.* <[^<>\s@]+@[^<>\s]+> \s* (?:wrote|a \s+ [ée]crit|schrieb|escribi[óo]) \s* : \s+ \S",
        )
        .expect("valid regex")
    });
    RUN_IN.is_match(line.trim())
}

/// A `Label: value` line of the header blocks Outlook, Samsung, Zimbra and
/// Notes put above an unprefixed history. Labels may be bold (`*From:*` in
/// text rendered from HTML) and French ones take a (no-break) space before
/// the colon.
static HEADER_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^\*? (?:
            from|de|von|van|da|exp[ée]diteur
          | sent|envoy[ée]|envoy[ée] \s+ le|gesendet|enviado|inviato|verzonden
          | date|datum|fecha|data
          | to|à|a|pour|an|para|aan|destinataire
          | cc|cci|bcc
          | subject|objet|betreff|asunto|oggetto|onderwerp|assunto
        ) \s* \*? \s* : \*?",
    )
    .expect("valid regex")
});

static FROM_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?ix)^\*? (?:from|de|von|van|da|exp[ée]diteur) \s* \*? \s* : \*? \s* \S")
        .expect("valid regex")
});

/// A header block starting at line `i`: header lines leading to a sender
/// line, itself followed closely by at least two more header lines. A
/// lone "From: the logs, it looks like..." is the sender's sentence.
fn header_block_at(lines: &[&str], i: usize) -> bool {
    let is_header = |l: &str| HEADER_LINE.is_match(l.trim_start());
    let is_from = |l: &str| FROM_LINE.is_match(l.trim_start());
    if !is_header(lines[i]) {
        return false;
    }
    // Notes puts `To:` before `From:`; Outlook starts with `From:`.
    let Some(from_at) = (i..lines.len())
        .take(HEADER_BLOCK_WINDOW)
        .take_while(|&j| is_header(lines[j]))
        .find(|&j| is_from(lines[j]))
    else {
        return false;
    };
    let before = from_at - i;
    let after = lines[from_at + 1..]
        .iter()
        .take(2 * HEADER_BLOCK_WINDOW)
        .filter(|l| !is_blank(l))
        .take(HEADER_BLOCK_WINDOW)
        .filter(|l| !is_quoted(l) && is_header(l) && !is_from(l))
        .count();
    before + after >= 2
}

/// The text without the lines mail apps add on their own ("Sent from my
/// iPhone", "Get Outlook for Android"...). Only whole lines go: the same
/// words inside a sentence are the sender's.
pub fn without_footer_lines(text: &str) -> String {
    text.lines()
        .filter(|line| !is_app_footer(line))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether a line is a mail app's footer, once its links are reduced to
/// their text: Outlook writes `Get Outlook for iOS<https://aka.ms/o0ukef>`,
/// Proton `Sent with [Proton Mail](https://proton.me/) secure email.`
fn is_app_footer(line: &str) -> bool {
    static ANGLE_LINK: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\s*<(?:https?://|mailto:)[^<>]*>").expect("valid regex"));
    static MARKDOWN_LINK: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\[([^\[\]]*)\]\((?:https?://|mailto:)[^()]*\)").expect("valid regex")
    });
    static FOOTER: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?ix)^(?:
                sent \s+ from \s+ my \s+ (?:
                    iphone|ipad|ipod(?:\s+touch)?|apple \s+ watch
                  | android(?:\s+(?:phone|device|tablet|smartphone))?
                  | samsung(?:\s+[\w-]+){0,3} | galaxy(?:\s+[\w-]+){0,3}
                  | (?:blackberry|huawei|xiaomi|pixel|oneplus|motorola|nokia)(?:\s+[\w-]+){0,2}
                  | mobile(?:\s+(?:phone|device))? | smartphone | phone | tablet)
              | sent \s+ from \s+ my \s+ android \s+ device \s+ with \s+ k-9 \s+ mail\. \s+ please \s+ excuse \s+ my \s+ brevity
              | envoy[ée] \s+ (?:de|depuis) \s+ mon \s+ (?:
                    iphone|ipad|apple \s+ watch
                  | appareil(?:\s+[\w-]+){0,2} | smartphone(?:\s+[\w-]+){0,3}
                  | t[ée]l[ée]phone(?:\s+[\w-]+){0,2} | mobile
                  | (?:samsung|galaxy|huawei|xiaomi|pixel)(?:\s+[\w-]+){0,2})
              | envoy[ée] \s+ de \s+ mon \s+ appareil \s+ android \s+ avec \s+ courriel \s+ k-9 \s+ mail\. \s+ veuillez \s+ excuser \s+ ma \s+ bri[èe]vet[ée]
              | (?:get|download|obtenir|t[ée]l[ée]charger) \s+ outlook \s+ (?:for|pour) \s+ (?:ios|android)
              | (?:sent \s+ from|envoy[ée] \s+ (?:de|depuis|à \s+ partir \s+ de)) \s+ outlook
                    (?:\s+ (?:for|pour) \s+ (?:ios|android|mac))?
              | (?:sent \s+ from|envoy[ée] \s+ (?:de|depuis|à \s+ partir \s+ de)) \s+ yahoo \s+ mail
                    (?:\s+ (?:on|for|pour|sur) \s+ (?:android|iphone|ios|ipad))?
              | sent \s+ with \s+ proton \s* mail \s+ secure \s+ email
              | envoy[ée] \s+ avec \s+ la \s+ messagerie \s+ s[ée]curis[ée]e \s+ proton \s* mail
              | (?:sent \s+ from|envoy[ée] \s+ depuis) \s+ proton \s* mail \s+ (?:mobile|(?:for|pour) \s+ (?:ios|android))
              | sent \s+ from \s+ mail \s+ for \s+ windows(?:\s+1[01])?
              | envoy[ée] \s+ (?:à \s+ partir \s+ de|depuis) \s+ courrier \s+ pour \s+ windows(?:\s+1[01])?
            )[.!]?$",
        )
        .expect("valid regex")
    });
    let line = ANGLE_LINK.replace_all(line.trim(), "");
    let line = MARKDOWN_LINK.replace_all(&line, "$1");
    let line = line.trim();
    // The longest footer (K-9's) is under 100 characters.
    !line.is_empty() && line.len() <= 200 && FOOTER.is_match(line)
}

#[cfg(test)]
mod tests;
