//! The ticket description from the message body: HTML turned into readable
//! text, the signature removed, keyword lines read and removed.

use std::sync::LazyLock;

use html2text::render::{TaggedLine, TextDecorator};
use regex::Regex;

use super::fields::{Field, Source, Statement, field_for_label, split_products};
use crate::model::Vocabulary;
use crate::model::text::{collapse_whitespace, truncate_chars};

/// Renders links inline as `text <url>`, lists with `- ` and `1. `, quotes
/// with `> `: the way a person would type the same mail as plain text.
#[derive(Clone, Default)]
struct InlineLinks {
    links: Vec<String>,
}

impl TextDecorator for InlineLinks {
    type Annotation = ();

    fn decorate_link_start(&mut self, url: &str) -> (String, ()) {
        self.links.push(url.to_owned());
        (String::new(), ())
    }

    fn decorate_link_end(&mut self) -> String {
        match self.links.pop() {
            Some(url) if url.starts_with("http") || url.starts_with("mailto:") => {
                format!(" <{}>", url.trim_start_matches("mailto:"))
            }
            _ => String::new(),
        }
    }

    fn decorate_em_start(&self) -> (String, ()) {
        (String::new(), ())
    }
    fn decorate_em_end(&self) -> String {
        String::new()
    }
    fn decorate_strong_start(&self) -> (String, ()) {
        (String::new(), ())
    }
    fn decorate_strong_end(&self) -> String {
        String::new()
    }
    fn decorate_strikeout_start(&self) -> (String, ()) {
        (String::new(), ())
    }
    fn decorate_strikeout_end(&self) -> String {
        String::new()
    }
    fn decorate_code_start(&self) -> (String, ()) {
        (String::new(), ())
    }
    fn decorate_code_end(&self) -> String {
        String::new()
    }
    fn decorate_preformat_first(&self) {}
    fn decorate_preformat_cont(&self) {}
    fn decorate_image(&mut self, _src: &str, title: &str) -> (String, ()) {
        (title.to_owned(), ())
    }
    fn header_prefix(&self, _level: usize) -> String {
        String::new()
    }
    fn quote_prefix(&self) -> String {
        "> ".to_owned()
    }
    fn unordered_item_prefix(&self) -> String {
        "- ".to_owned()
    }
    fn ordered_item_prefix(&self, i: i64) -> String {
        format!("{i}. ")
    }
    fn make_subblock_decorator(&self) -> Self {
        InlineLinks::default()
    }
    fn finalise(&mut self, _urls: Vec<String>) -> Vec<TaggedLine<()>> {
        Vec::new()
    }
}

/// Wide enough that html2text never wraps a paragraph: the description is
/// shown in browsers and mail clients that wrap by themselves.
const NO_WRAP: usize = 10_000;

/// Turns HTML into readable text. Never fails: markup html2text cannot
/// render falls back to the text with tags stripped.
pub fn html_to_text(html: &str) -> String {
    // html2text takes time quadratic in the nesting depth (100,000 nested
    // <div> took a minute); no real message nests this deep.
    if nesting_depth(html) > MAX_NESTING {
        return strip_tags(html);
    }
    let rendered = html2text::config::with_decorator(InlineLinks::default())
        .string_from_read(html.as_bytes(), NO_WRAP);
    match rendered {
        Ok(text) => text,
        Err(_) => strip_tags(html),
    }
}

/// Deeper HTML is read with its tags stripped rather than rendered.
const MAX_NESTING: usize = 400;

/// How deep elements nest at most, roughly: opening tags count one level,
/// closing tags take one away; void elements (`<br>`, `<img>`…) and
/// self-closing tags do not count.
fn nesting_depth(html: &str) -> usize {
    const VOID: [&str; 14] = [
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr",
    ];
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        if let Some(closing) = tag.strip_prefix('/') {
            if !closing.is_empty() {
                depth = depth.saturating_sub(1);
            }
        } else if tag.starts_with(|c: char| c.is_ascii_alphabetic()) && !tag.ends_with('/') {
            let name: String = tag
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_ascii_lowercase();
            if !VOID.contains(&name.as_str()) {
                depth += 1;
                deepest = deepest.max(depth);
            }
        }
        rest = &rest[end.min(rest.len())..];
    }
    deepest
}

fn strip_tags(html: &str) -> String {
    static TAGS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?is)<(script|style)\b.*?</(script|style)\s*>|<[^>]*>").expect("valid regex")
    });
    TAGS.replace_all(html, " ").into_owned()
}

/// Line endings made `\n`, trailing spaces dropped, runs of blank lines
/// reduced to one, blank lines at both ends removed.
pub fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.replace("\r\n", "\n").replace('\r', "\n").lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_run > 0 { "\n\n" } else { "\n" });
        }
        blank_run = 0;
        out.push_str(line);
    }
    out
}

/// HTML rendering loses the trailing space of the `-- ` signature
/// delimiter (`-- <br>` becomes `--`): in text that came from HTML, a line
/// that is exactly `--` is given it back.
pub fn signature_delimiter_from_html(text: &str) -> String {
    text.lines()
        .map(|line| if line == "--" { "-- " } else { line })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The body without its signature block: RFC 3676 4.3 puts the signature
/// after a line `-- `. A bare `--` is not taken for one (people use it as a
/// separator, and the customer's text must not be lost). The last
/// delimiter is used, and only when what follows it is short enough to be a
/// signature rather than the rest of the message.
pub fn strip_signature(text: &str) -> &str {
    const MAX_SIGNATURE_LINES: usize = 15;
    let mut offset = 0;
    let mut cut = None;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare == "-- " {
            cut = Some(offset);
        }
        offset += line.len();
    }
    match cut {
        Some(at) if text[at..].lines().count() <= MAX_SIGNATURE_LINES + 1 => &text[..at],
        _ => text,
    }
}

/// A keyword line: `Gravité : haute`, `Products: Atlas, Nova`. The label
/// and value lengths are checked apart (`keyword_line`): as counted
/// repetitions (`{1,30}`, `{0,200}`) of Unicode classes they made this the
/// largest automaton of intake, and its lazily built caches the largest
/// share of the heap.
static KEYWORD_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[\s*•-]*(\p{L}[\p{L}() ']*?)[\s\u{a0}]*[:：][\s\u{a0}]*(\S.*?)\s*$")
        .expect("valid regex")
});

/// Labels of 2 to 31 letters; values of at most 201 characters (longer is
/// a sentence with a colon, not a keyword line).
const KEYWORD_LABEL_CHARS: std::ops::RangeInclusive<usize> = 2..=31;
const KEYWORD_VALUE_MAX_CHARS: usize = 201;

/// The label and value of a keyword line.
fn keyword_line(line: &str) -> Option<(&str, &str)> {
    let caps = KEYWORD_LINE.captures(line)?;
    let (label, value) = (caps.get(1)?.as_str(), caps.get(2)?.as_str());
    (KEYWORD_LABEL_CHARS.contains(&label.chars().count())
        && value.chars().count() <= KEYWORD_VALUE_MAX_CHARS)
        .then_some((label, value))
}

/// Whether a keyword line's value is understood, so the line can leave the
/// description without losing anything.
fn understood(field: Field, value: &str, vocabulary: &Vocabulary) -> bool {
    match field {
        Field::Severity => vocabulary.severities.find(value).is_some(),
        Field::RequestType => vocabulary.request_types.find(value).is_some(),
        Field::Products => split_products(value)
            .into_iter()
            .any(|p| vocabulary.products.find(p).is_some()),
    }
}

/// Reads the keyword lines outside quoted text. Returns the statements they
/// make and the text without the lines that were understood; a line whose
/// value matches nothing stays in the description (and is reported as
/// unrecognised), so what the customer wrote is never lost.
pub fn take_keyword_lines(text: &str, vocabulary: &Vocabulary) -> (Vec<Statement>, String) {
    let mut statements = Vec::new();
    let mut kept = String::with_capacity(text.len());
    for line in text.lines() {
        let statement = (!line.trim_start().starts_with('>'))
            .then(|| keyword_line(line))
            .flatten()
            .and_then(|(label, value)| {
                Some(Statement {
                    field: field_for_label(label)?,
                    value: value.to_owned(),
                    source: Source::Body,
                })
            });
        if let Some(s) = statement {
            let remove = understood(s.field, &s.value, vocabulary);
            statements.push(s);
            if remove {
                continue;
            }
        }
        kept.push_str(line);
        kept.push('\n');
    }
    (statements, kept)
}

/// Greetings that open a mail without saying anything about it.
fn is_greeting(line: &str) -> bool {
    static GREETING: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?i)^(bonjour|bonsoir|salut|hello|hi|hey|dear|good (morning|afternoon|evening)|madame|monsieur|mesdames|messieurs|cher|chère|chers)\b[^.!?]{0,40}[,!:]?$",
        )
        .expect("valid regex")
    });
    GREETING.is_match(line)
}

/// The first line of the description that says something, for a message
/// without a subject: greetings and quoted lines are skipped.
pub fn first_meaningful_line(description: &str, max_chars: usize) -> Option<String> {
    description
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('>') && !is_greeting(l))
        .find(|l| l.chars().any(char::is_alphanumeric))
        .map(|l| {
            truncate_chars(&collapse_whitespace(l), max_chars)
                .trim_end()
                .to_owned()
        })
}

#[cfg(test)]
mod tests {

    #[test]
    fn deeply_nested_html_is_stripped_not_rendered() {
        assert_eq!(nesting_depth("<p>a<br>b<img src=x/><b>c</b></p>"), 2);
        assert_eq!(
            nesting_depth("<div><div></div><div><p>x</p></div></div>"),
            3
        );
        let deep = format!(
            "{}Le serveur ne répond plus{}",
            "<div>".repeat(100_000),
            "</div>".repeat(100_000)
        );
        assert!(nesting_depth(&deep) > MAX_NESTING);
        let text = html_to_text(&deep);
        assert_eq!(text.trim(), "Le serveur ne répond plus");
    }

    use super::*;
    use crate::intake::fields::tests::vocabulary;

    #[test]
    fn html_becomes_readable_text() {
        let html = r#"<html><head><style>p { color: red }</style><script>alert('x')</script></head>
            <body><p>Bonjour,</p><p>Voir <a href="https://example.com/doc">la doc</a>.</p>
            <ul><li>un</li><li>deux</li></ul><ol><li>first</li><li>second</li></ol>
            <blockquote>old text</blockquote></body></html>"#;
        let text = html_to_text(html);
        assert!(
            text.contains("Voir la doc <https://example.com/doc>."),
            "{text}"
        );
        assert!(text.contains("- un\n- deux"), "{text}");
        assert!(text.contains("1. first\n2. second"), "{text}");
        assert!(text.contains("> old text"), "{text}");
        assert!(!text.contains("alert"), "{text}");
        assert!(!text.contains("color"), "{text}");
    }

    #[test]
    fn a_signature_written_in_html_is_recognised() {
        let text =
            html_to_text("<p>Bonjour,</p><p>Merci</p><div>-- <br>Marie Dupont<br>ACME</div>");
        let text = signature_delimiter_from_html(&text);
        assert_eq!(tidy(strip_signature(&text)), "Bonjour,\n\nMerci");
    }

    #[test]
    fn signature_is_removed_only_when_short() {
        assert_eq!(strip_signature("Hello\n-- \nJohn\nACME\n"), "Hello\n");
        assert_eq!(strip_signature("Hello\n--\nJohn\n"), "Hello\n--\nJohn\n");
        assert_eq!(strip_signature("Hello\r\n-- \r\nJohn\r\n"), "Hello\r\n");
        let long = format!("Hello\n-- \n{}", "line\n".repeat(40));
        assert_eq!(strip_signature(&long), long);
        assert_eq!(strip_signature("a -- b\n"), "a -- b\n");
    }

    #[test]
    fn keyword_lines_are_read_and_understood_ones_removed() {
        let text = "Bonjour,\nGravité : HAUTE\ngravite: haute\nProduits : Atlas, Nova\nType : Windows 10\nSeverity: super-urgent\n> Severity: low\nLe module plante.\n";
        let (statements, kept) = take_keyword_lines(text, &vocabulary());
        let found: Vec<_> = statements
            .iter()
            .map(|s| (s.field, s.value.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (Field::Severity, "HAUTE"),
                (Field::Severity, "haute"),
                (Field::Products, "Atlas, Nova"),
                (Field::RequestType, "Windows 10"),
                (Field::Severity, "super-urgent"),
            ]
        );
        assert_eq!(
            kept,
            "Bonjour,\nType : Windows 10\nSeverity: super-urgent\n> Severity: low\nLe module plante.\n"
        );
    }

    #[test]
    fn sentences_with_colons_are_not_keyword_lines() {
        let (statements, _) = take_keyword_lines(
            "Here is the type of error I get: a crash when saving the file\n",
            &vocabulary(),
        );
        assert!(statements.is_empty());
    }

    #[test]
    fn keyword_lines_have_bounded_labels_and_values() {
        let label = |n: usize| format!("S{}", "e".repeat(n - 1));
        assert_eq!(
            keyword_line(&format!("{}: x", label(31))).map(|l| l.0.len()),
            Some(31)
        );
        assert_eq!(keyword_line(&format!("{}: x", label(32))), None);
        assert_eq!(keyword_line("S: x"), None);
        // Counted in characters, not bytes.
        let value = |n: usize| format!("v{}", "é".repeat(n - 1));
        assert_eq!(
            keyword_line(&format!("- Produit : {}  ", value(201))),
            Some(("Produit", value(201).as_str()))
        );
        assert_eq!(keyword_line(&format!("Produit : {}", value(202))), None);
    }

    #[test]
    fn tidy_normalises_lines() {
        assert_eq!(tidy("\r\n\r\na  \r\n\r\n\r\n\r\nb\rc\n\n"), "a\n\nb\nc");
    }

    #[test]
    fn first_meaningful_line_skips_greetings() {
        for (text, expected) in [
            ("Bonjour,\n\nL'export plante.\n", Some("L'export plante.")),
            ("Hi John,\nExport crashes\n", Some("Export crashes")),
            ("> quoted\n\nreal\n", Some("real")),
            ("Hello\n", None),
            ("", None),
            ("----\n", None),
        ] {
            assert_eq!(
                first_meaningful_line(text, 80).as_deref(),
                expected,
                "{text:?}"
            );
        }
        assert_eq!(
            first_meaningful_line(&"x".repeat(100), 80).unwrap().len(),
            80
        );
    }
}
