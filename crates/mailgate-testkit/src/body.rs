//! Bodies: paragraphs, signature, footer and quoted history as blocks, the
//! plain text they make, its wrapping, and the customer's sign-off.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use mailgate::model::Language;

use crate::people::{Client, Customer};
use crate::rng::pick;
use crate::vocab::{SIGN_OFFS, li};

#[derive(Debug, Clone)]
pub(crate) enum Block {
    Para(Vec<String>),
    /// After a `-- ` line.
    Signature(Vec<String>),
    /// "Sent from my iPhone".
    Footer(String),
    /// Quoted history: `> ` lines under an attribution, or an unprefixed
    /// copy under a header block.
    Quote {
        intro: Vec<String>,
        lines: Vec<String>,
        prefixed: bool,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Doc(pub(crate) Vec<Block>);

impl Doc {
    pub(crate) fn text(&self) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|block| match block {
                Block::Para(lines) => lines.join("\n"),
                Block::Signature(lines) => format!("-- \n{}", lines.join("\n")),
                Block::Footer(line) => line.clone(),
                Block::Quote {
                    intro,
                    lines,
                    prefixed: true,
                } => {
                    let quoted: Vec<String> = lines
                        .iter()
                        .map(|l| {
                            if l.is_empty() {
                                ">".to_owned()
                            } else {
                                format!("> {l}")
                            }
                        })
                        .collect();
                    format!("{}\n{}", intro.join("\n"), quoted.join("\n"))
                }
                Block::Quote { intro, lines, .. } => {
                    format!("{}\n\n{}", intro.join("\n"), lines.join("\n"))
                }
            })
            .collect();
        let mut text = parts.join("\n\n");
        text.push('\n');
        text
    }
}

/// Wraps lines longer than `width` characters at spaces, as mail clients
/// sending 8bit text do; quoted lines keep their `> ` prefix.
pub(crate) fn wrap(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for line in text.split('\n') {
        if line.chars().count() <= width || line == "-- " {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let prefix_len = if line.starts_with('>') {
            line.len() - line.trim_start_matches(['>', ' ']).len()
        } else {
            0
        };
        let (prefix, rest) = line.split_at(prefix_len);
        let mut current = String::from(prefix);
        let mut current_len = prefix.chars().count();
        let mut empty = true;
        for word in rest.split(' ') {
            let word_len = word.chars().count();
            if !empty && current_len + 1 + word_len > width {
                out.push_str(&current);
                out.push('\n');
                current = String::from(prefix);
                current_len = prefix.chars().count();
                empty = true;
            }
            if !empty {
                current.push(' ');
                current_len += 1;
            }
            current.push_str(word);
            current_len += word_len;
            empty = false;
        }
        out.push_str(&current);
        out.push('\n');
    }
    out.pop();
    out
}

/// The sign-off, the signature block or the phone's footer.
pub(crate) fn sign(
    rng: &mut ChaCha8Rng,
    customer: &Customer,
    blocks: &mut Vec<Block>,
    typographic: bool,
) {
    let l = li(customer.lang);
    let mut sign_off = pick(rng, SIGN_OFFS[l]).to_string();
    if typographic {
        sign_off = sign_off.replace('\'', "’");
    }
    let name = if rng.gen_bool(0.6) {
        customer.first.to_owned()
    } else {
        customer.name.clone()
    };
    blocks.push(Block::Para(vec![sign_off, name]));
    if customer.signature {
        let company = customer.company.unwrap_or_default();
        blocks.push(Block::Signature(vec![
            customer.name.clone(),
            match customer.lang {
                Language::Fr => format!("{} – {company}", customer.title),
                Language::En => format!("{}, {company}", customer.title),
            },
            match customer.lang {
                Language::Fr => format!("Tél. {}", customer.phone),
                Language::En => format!("Tel. {}", customer.phone),
            },
        ]));
    } else if customer.client == Client::AppleMail && rng.gen_bool(0.4) {
        blocks.push(Block::Footer(
            ["Envoyé de mon iPhone", "Sent from my iPhone"][l].to_owned(),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_quote_prefixes() {
        let long = format!("> > {}", "word ".repeat(40));
        let wrapped = wrap(&format!("short\n{long}\n-- \nend"), 30);
        for line in wrapped.lines() {
            assert!(line.chars().count() <= 30 || !line.contains(' '), "{line}");
        }
        assert!(
            wrapped
                .lines()
                .filter(|l| l.starts_with("> > word"))
                .count()
                > 3
        );
        assert!(wrapped.contains("\n-- \n"));
    }
}
