//! A new request: its subject with tags, its body with keyword lines, its
//! recipient (plus-addressing, `feature@`), what it should become.

use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use mailgate::model::Language;

use crate::attachments::File;
use crate::body::{Block, Doc, sign};
use crate::expect::Expect;
use crate::fields::{At, Fields};
use crate::people::Customer;
use crate::rng::pick;
use crate::vocab::{
    DETAILS, FEATURE_IMPACT, FEATURE_REQUESTS, FEATURE_TAGS, FEATURE_TOPICS, FEATURE_WORDS,
    FILES_ATTACHED, GREETINGS, IMPACT, PRODUCT_ALIASES, PRODUCT_LABELS, PRODUCT_PLUS,
    PRODUCTS_LABELS, REQUESTS, SEVERITY_LABELS, SEVERITY_TAGS, SEVERITY_WORDS, SUPPORT_TAGS,
    SUPPORT_TOPICS, SUPPORT_WORDS, TYPE_LABELS, Vars, li,
};

/// A new request: subject, body, recipient and what it should become.
pub(crate) fn ticket_content(
    rng: &mut ChaCha8Rng,
    customer: &Customer,
    files: &[File],
    typographic: bool,
) -> (String, Doc, String, Expect) {
    let lang = customer.lang;
    let l = li(lang);
    let feature = rng.gen_bool(0.15);
    let topic = if feature {
        pick(rng, FEATURE_TOPICS)
    } else {
        pick(rng, SUPPORT_TOPICS)
    };
    let fields = Fields::choose(rng, topic);
    let vars = Vars::random(rng, topic.product);

    // Subject: the summary with its tags before or after it.
    let mut tags: Vec<String> = Vec::new();
    if fields.products_at == At::Subject {
        tags.push(if fields.products.len() == 1 && rng.gen_bool(0.7) {
            format!("[{}]", pick(rng, PRODUCT_ALIASES[fields.products[0]]))
        } else {
            let label = if fields.products.len() > 1 {
                ["Produits", "Products"][l]
            } else {
                ["Produit", "Product"][l]
            };
            let value = product_list(rng, lang, &fields.products);
            format!("[{}]", keyword(rng, lang, label, &value))
        });
    }
    if fields.severity_at == At::Subject {
        let word = *pick(rng, SEVERITY_TAGS[l][fields.severity]);
        tags.push(if rng.gen_bool(0.6) {
            format!("[{word}]")
        } else {
            let label = pick(rng, &[["Gravité", "Severity"], ["Priorité", "Priority"]])[l];
            format!("[{}]", keyword(rng, lang, label, word))
        });
    }
    if fields.type_at == At::Subject {
        let words = if fields.feature {
            FEATURE_TAGS
        } else {
            SUPPORT_TAGS
        };
        tags.push(format!("[{}]", pick(rng, words[l])));
    }
    tags.shuffle(rng);
    let summary = topic.subject[l].to_owned();
    let mut leading = Vec::new();
    let mut trailing = Vec::new();
    for tag in tags {
        if rng.gen_bool(0.7) {
            leading.push(tag);
        } else {
            trailing.push(tag);
        }
    }
    let mut subject = leading.join(if rng.gen_bool(0.5) { " " } else { "" });
    if !subject.is_empty() {
        subject.push(' ');
    }
    subject.push_str(&summary);
    for tag in trailing {
        subject.push(' ');
        subject.push_str(&tag);
    }

    // Keyword lines.
    let mut keywords: Vec<String> = Vec::new();
    if fields.products_at == At::Body {
        let label = if fields.products.len() > 1 {
            *pick(rng, PRODUCTS_LABELS[l])
        } else {
            *pick(rng, PRODUCT_LABELS[l])
        };
        let value = product_list(rng, lang, &fields.products);
        keywords.push(keyword(rng, lang, label, &value));
    }
    if fields.severity_at == At::Body {
        let label = *pick(rng, SEVERITY_LABELS[l]);
        let value = *pick(rng, SEVERITY_WORDS[l][fields.severity]);
        keywords.push(keyword(rng, lang, label, value));
    }
    if fields.type_at == At::Body {
        let label = *pick(rng, TYPE_LABELS[l]);
        let words = if fields.feature {
            FEATURE_WORDS
        } else {
            SUPPORT_WORDS
        };
        let value = *pick(rng, words[l]);
        keywords.push(keyword(rng, lang, label, value));
    }
    if !keywords.is_empty() && rng.gen_bool(0.3) {
        keywords.push(keyword(rng, lang, "Version", &vars.version));
    }
    keywords.shuffle(rng);
    if rng.gen_bool(0.2) {
        for line in &mut keywords {
            line.insert_str(0, "- ");
        }
    }

    // Body.
    let prose = |text: String| {
        if typographic {
            text.replace('\'', "’")
        } else {
            text
        }
    };
    let mut blocks = vec![Block::Para(vec![pick(rng, GREETINGS[l]).to_string()])];
    let keywords_first = !keywords.is_empty() && rng.gen_bool(0.2);
    if keywords_first {
        blocks.push(Block::Para(keywords.clone()));
    }
    let mut first = vec![vars.fill(topic.body[l], lang)];
    let mut from_paragraph = None;
    if !fields.feature {
        let mut details: Vec<&str> = DETAILS[l].to_vec();
        details.shuffle(rng);
        for detail in details.into_iter().take(rng.gen_range(1..3)) {
            let sentence = vars.fill(detail, lang);
            if sentence.starts_with("From ") {
                from_paragraph = Some(sentence);
            } else {
                first.push(sentence);
            }
        }
    }
    blocks.push(Block::Para(vec![prose(first.join(" "))]));
    if let Some(sentence) = from_paragraph {
        blocks.push(Block::Para(vec![prose(sentence)]));
    }
    let impact = if fields.feature {
        pick(rng, FEATURE_IMPACT[l])
    } else {
        pick(rng, IMPACT[l][fields.severity])
    };
    let request = if fields.feature {
        pick(rng, FEATURE_REQUESTS[l])
    } else {
        pick(rng, REQUESTS[l])
    };
    blocks.push(Block::Para(vec![prose(format!("{impact} {request}"))]));
    if !files.is_empty() {
        blocks.push(Block::Para(vec![prose(
            pick(rng, FILES_ATTACHED[l]).to_string(),
        )]));
    }
    if !keywords.is_empty() && !keywords_first {
        blocks.push(Block::Para(keywords));
    }
    sign(rng, customer, &mut blocks, typographic);

    // Recipient.
    let local = if fields.type_at == At::Own {
        "feature"
    } else {
        "support"
    };
    let plus = if fields.products_at == At::Plus {
        Some(*pick(rng, PRODUCT_PLUS[fields.products[0]]))
    } else if fields.type_at == At::Plus {
        Some("feature")
    } else if fields.severity_at == At::Plus {
        Some("urgent")
    } else {
        None
    };
    let to = match plus {
        Some(tag) => format!("{local}+{tag}@example.com"),
        None => format!("{local}@example.com"),
    };
    (subject, Doc(blocks), to, fields.expect(lang))
}

/// `Label : value` in French (a space, sometimes a no-break one, before the
/// colon), `Label: value` in English.
pub(crate) fn keyword(rng: &mut ChaCha8Rng, lang: Language, label: &str, value: &str) -> String {
    match lang {
        Language::Fr => match rng.gen_range(0..10) {
            0 => format!("{label}: {value}"),
            1 => format!("{label}\u{a0}: {value}"),
            _ => format!("{label} : {value}"),
        },
        Language::En => format!("{label}: {value}"),
    }
}

/// Products as people list them: `Atlas et Nova`, `Atlas ERP, Nova app`.
pub(crate) fn product_list(rng: &mut ChaCha8Rng, lang: Language, products: &[usize]) -> String {
    let names: Vec<&str> = products
        .iter()
        .map(|&p| *pick(rng, PRODUCT_ALIASES[p]))
        .collect();
    if names.len() < 2 {
        return names.concat();
    }
    let joiner = match (lang, rng.gen_range(0..3)) {
        (Language::Fr, 0) => " et ",
        (Language::En, 0) => " and ",
        (_, 1) => " / ",
        _ => ", ",
    };
    names.join(joiner)
}
