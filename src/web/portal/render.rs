//! The portal's pages from their templates (`config/templates/web/portal/`,
//! built in). minijinja escapes everything `.html` templates insert.

use std::sync::LazyLock;

use minijinja::Environment;
use serde::Serialize;

use super::strings::{notice_words, strings};
use crate::model::Language;

const TEMPLATES: &[(&str, &str)] = &[
    (
        "layout.html",
        include_str!("../../../config/templates/web/layout.html"),
    ),
    (
        "portal/base.html",
        include_str!("../../../config/templates/web/portal/base.html"),
    ),
    (
        "portal/notice.html",
        include_str!("../../../config/templates/web/portal/notice.html"),
    ),
    (
        "portal/login.html",
        include_str!("../../../config/templates/web/portal/login.html"),
    ),
    (
        "portal/terms.html",
        include_str!("../../../config/templates/web/portal/terms.html"),
    ),
    (
        "portal/list.html",
        include_str!("../../../config/templates/web/portal/list.html"),
    ),
    (
        "portal/ticket.html",
        include_str!("../../../config/templates/web/portal/ticket.html"),
    ),
    (
        "portal/new.html",
        include_str!("../../../config/templates/web/portal/new.html"),
    ),
];

static TEMPLATE_ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .expect("built-in portal templates are valid");
    }
    env
});

/// The small pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    NotFound,
    LinkUsed,
    Forbidden,
    TooLarge,
    NotFiled,
    Unavailable,
    Error,
}

/// A page from its template, given its own values and what every page is
/// given: the language, the words, the session's CSRF token (for the
/// sign-out form; none when signed out).
pub(super) fn page<T: Serialize>(
    template: &str,
    language: Language,
    csrf: Option<&str>,
    values: T,
) -> Result<String, minijinja::Error> {
    TEMPLATE_ENV
        .get_template(template)?
        .render(minijinja::context! {
            lang => language.as_str(),
            t => strings(language),
            csrf => csrf,
            ..minijinja::Value::from_serialize(&values)
        })
}

pub(super) fn notice(notice: Notice, language: Language) -> String {
    let (title, text) = notice_words(notice, language);
    page(
        "portal/notice.html",
        language,
        None,
        minijinja::context! { title => title, text => text },
    )
    // Fixed words in a fixed template: cannot fail, but a page is due.
    .unwrap_or_else(|_| format!("<!doctype html><title>{title}</title><p>{text}</p>"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portal_templates_render_and_escape() {
        for template in TEMPLATES.iter().map(|(name, _)| *name) {
            assert!(TEMPLATE_ENV.get_template(template).is_ok(), "{template}");
        }
        let body = page(
            "portal/notice.html",
            Language::Fr,
            Some("abc"),
            minijinja::context! { title => "<b>x</b>", text => "y" },
        )
        .unwrap();
        assert!(body.contains("&lt;b&gt;x") && !body.contains("<b>x"));
        assert!(body.contains("lang=\"fr\""));
        assert!(!body.contains("<script"));
        // The vendor's own terms are a link, escaped, instead of the text.
        let terms = |url: Option<&str>| {
            page(
                "portal/terms.html",
                Language::En,
                Some("abc"),
                minijinja::context! { version => "2", terms_url => url },
            )
            .unwrap()
        };
        let linked = terms(Some("https://vendor.example/terms?a=1&b=\"x\""));
        assert!(linked.contains("vendor.example"), "{linked}");
        assert!(linked.contains("&amp;b=&quot;x&quot;"), "{linked}");
        assert!(!linked.contains("Keep your sign-in links"));
        assert!(terms(None).contains("Keep your sign-in links"));
    }
}
