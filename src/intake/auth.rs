//! Whether the `From:` address is the sender's, as the receiving mail
//! server checked it: its `Authentication-Results` headers (RFC 8601).
//!
//! Anyone can write such a header, so only those stamped with one of our
//! own servers' ids (`intake.trusted_authserv_ids`) are read; the receiving
//! server is expected to remove or rename copies of its own id arriving
//! from outside (RFC 8601 section 5), as Postfix with OpenDMARC, rspamd and
//! Exchange do.
//!
//! Only a failure acts ([`AuthVerdict::Fail`]): DMARC `fail` for the From
//! domain, or, where no DMARC result is given, SPF `fail` with no DKIM
//! `pass` for a domain aligned with the From domain (RFC 7489 section 3.1,
//! relaxed alignment). A message without a trusted result is read as
//! before; so is one that passes.

use serde::Serialize;

use super::parse::ParsedMail;
use crate::closed_set;

closed_set! {
    /// What the receiving server's checks say of the From address.
    pub enum AuthVerdict ("sender authentication verdict") {
        /// DMARC, or an aligned DKIM or SPF, passed.
        Pass = "pass",
        /// DMARC failed, or SPF failed with no aligned DKIM pass: the From
        /// address is probably forged.
        Fail = "fail",
        /// Trusted results, but none that says either way.
        None = "none",
    }
}

/// The verdict with the results it was drawn from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SenderAuth {
    pub verdict: AuthVerdict,
    /// The results read, e.g. `dmarc=fail (mx.example.com)`.
    pub detail: String,
}

/// One `method=result` of a header, with its properties.
#[derive(Debug, Clone, PartialEq, Eq)]
struct MethodResult {
    method: String,
    result: String,
    /// `ptype.property` and value, lower case (`header.d`, `smtp.mailfrom`).
    properties: Vec<(String, String)>,
}

impl MethodResult {
    fn property(&self, name: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The verdict of the trusted `Authentication-Results` headers on the From
/// address; `None` when no id is trusted, the message has no From address,
/// or no header comes from a trusted server.
pub fn sender_auth(mail: &ParsedMail, trusted_ids: &[String]) -> Option<SenderAuth> {
    if trusted_ids.is_empty() {
        return None;
    }
    let from_domain = mail
        .from
        .first()?
        .email
        .rsplit_once('@')?
        .1
        .to_ascii_lowercase();
    let mut results = Vec::new();
    let mut servers = Vec::new();
    for (name, value) in &mail.headers {
        if name != "authentication-results" {
            continue;
        }
        let Some((server, found)) = parse_header(value) else {
            continue;
        };
        if trusted_ids.iter().any(|t| t.eq_ignore_ascii_case(&server)) {
            if !servers.contains(&server) {
                servers.push(server);
            }
            results.extend(found);
        }
    }
    if servers.is_empty() {
        return None;
    }
    let verdict = judge(&results, &from_domain);
    let shown: Vec<String> = results
        .iter()
        .filter(|r| matches!(r.method.as_str(), "dmarc" | "dkim" | "spf"))
        .map(|r| format!("{}={}", r.method, r.result))
        .collect();
    let detail = format!(
        "{} ({})",
        if shown.is_empty() {
            "no result".to_owned()
        } else {
            shown.join(", ")
        },
        servers.join(", ")
    );
    Some(SenderAuth { verdict, detail })
}

fn judge(results: &[MethodResult], from_domain: &str) -> AuthVerdict {
    let of = |method: &'static str| results.iter().filter(move |r| r.method == method);
    // DMARC speaks for the From domain when it names it (or names nothing).
    let dmarc: Vec<&MethodResult> = of("dmarc")
        .filter(|r| {
            r.property("header.from")
                .is_none_or(|d| d.eq_ignore_ascii_case(from_domain))
        })
        .collect();
    if dmarc.iter().any(|r| r.result == "pass") {
        return AuthVerdict::Pass;
    }
    if dmarc.iter().any(|r| r.result == "fail") {
        return AuthVerdict::Fail;
    }
    let aligned_dkim = of("dkim").any(|r| {
        r.result == "pass"
            && r.property("header.d")
                .or_else(|| {
                    r.property("header.i")
                        .and_then(|i| i.rsplit_once('@').map(|p| p.1))
                })
                .is_some_and(|d| aligned(d, from_domain))
    });
    let spf_domain = |r: &MethodResult| {
        r.property("smtp.mailfrom")
            .map(|m| m.rsplit_once('@').map_or(m, |p| p.1))
            .map(str::to_owned)
    };
    let aligned_spf = of("spf")
        .any(|r| r.result == "pass" && spf_domain(r).is_some_and(|d| aligned(&d, from_domain)));
    if aligned_dkim || aligned_spf {
        AuthVerdict::Pass
    } else if of("spf").any(|r| r.result == "fail") {
        AuthVerdict::Fail
    } else {
        AuthVerdict::None
    }
}

/// Relaxed alignment without the public suffix list: the same domain, or
/// one a subdomain of the other, neither being a bare top-level domain.
fn aligned(a: &str, b: &str) -> bool {
    let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    short.contains('.') && (short == long || long.ends_with(&format!(".{short}")))
}

/// The authserv-id and the results of one header value; `None` when it is
/// not one.
fn parse_header(value: &str) -> Option<(String, Vec<MethodResult>)> {
    let text = without_comments(value);
    let mut parts = split_outside_quotes(&text, ';').into_iter();
    // `authserv-id [version]`.
    let server = parts
        .next()?
        .split_whitespace()
        .next()?
        .to_ascii_lowercase();
    let mut results = Vec::new();
    for part in parts {
        let tokens = tokens(&part);
        let Some((method, result)) = tokens.first().and_then(|t| t.split_once('=')) else {
            continue;
        };
        // `dkim/1`: the method's version does not matter here.
        let method = method.split('/').next().unwrap_or(method).trim();
        let properties = tokens[1..]
            .iter()
            .filter_map(|t| t.split_once('='))
            .filter(|(name, _)| name.contains('.'))
            .map(|(name, v)| (name.to_ascii_lowercase(), unquote(v).to_ascii_lowercase()))
            .collect();
        results.push(MethodResult {
            method: method.to_ascii_lowercase(),
            result: unquote(result).to_ascii_lowercase(),
            properties,
        });
    }
    Some((server, results))
}

/// The text with its comments, `(…)` possibly nested, taken out (outside
/// quoted strings).
fn without_comments(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    for c in value.chars() {
        if escaped {
            escaped = false;
            if depth == 0 {
                out.push(c);
            }
            continue;
        }
        match c {
            '\\' => {
                escaped = true;
                if depth == 0 {
                    out.push(c);
                }
            }
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => {
                depth -= 1;
                out.push(' ');
            }
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

fn split_outside_quotes(text: &str, separator: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut quoted = false;
    for c in text.chars() {
        if c == '"' {
            quoted = !quoted;
        }
        if c == separator && !quoted {
            parts.push(String::new());
        } else if let Some(last) = parts.last_mut() {
            last.push(c);
        }
    }
    parts
}

/// `name=value` tokens of a result, white space around `=` and `.` (which
/// RFC 8601 allows) removed first.
fn tokens(part: &str) -> Vec<String> {
    let mut joined = String::with_capacity(part.len());
    let mut quoted = false;
    let chars: Vec<char> = part.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == '"' {
            quoted = !quoted;
        }
        if !quoted && c.is_whitespace() {
            let next = chars[i..].iter().find(|c| !c.is_whitespace());
            let previous = joined.chars().last();
            if matches!(next, Some('=' | '.')) || matches!(previous, Some('=' | '.')) {
                continue;
            }
        }
        joined.push(c);
    }
    split_outside_quotes(&joined, ' ')
        .into_iter()
        .flat_map(|t| {
            split_outside_quotes(&t, '\t')
                .into_iter()
                .map(|t| t.trim().to_owned())
        })
        .filter(|t| !t.is_empty())
        .collect()
}

fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::parse::parse;

    fn verdict(headers: &str, from: &str) -> Option<SenderAuth> {
        let raw = format!("{headers}From: {from}\nSubject: x\n\nbody\n");
        sender_auth(&parse(raw.as_bytes()), &["mx.example.com".to_owned()])
    }

    #[test]
    fn dmarc_decides_for_the_from_domain() {
        let fail = verdict(
            "Authentication-Results: mx.example.com;\n dkim=none;\n spf=softfail smtp.mailfrom=bank.example;\n dmarc=fail (p=reject dis=none) header.from=bank.example\n",
            "Bank <security@bank.example>",
        )
        .unwrap();
        assert_eq!(fail.verdict, AuthVerdict::Fail);
        assert_eq!(
            fail.detail,
            "dkim=none, spf=softfail, dmarc=fail (mx.example.com)"
        );
        let pass = verdict(
            "Authentication-Results: MX.Example.COM 1; dmarc=pass header.from=acme.fr\n",
            "marie@acme.fr",
        )
        .unwrap();
        assert_eq!(pass.verdict, AuthVerdict::Pass);
        // A DMARC result about another domain says nothing of this From.
        let other = verdict(
            "Authentication-Results: mx.example.com; dmarc=fail header.from=else.example\n",
            "marie@acme.fr",
        )
        .unwrap();
        assert_eq!(other.verdict, AuthVerdict::None);
    }

    #[test]
    fn without_dmarc_spf_fails_unless_an_aligned_dkim_passes() {
        let h = |results: &str| format!("Authentication-Results: mx.example.com; {results}\n");
        let v = |results: &str| verdict(&h(results), "marie@acme.fr").unwrap().verdict;
        assert_eq!(v("spf=fail smtp.mailfrom=acme.fr"), AuthVerdict::Fail);
        assert_eq!(
            v("spf=fail smtp.mailfrom=acme.fr; dkim=pass header.d=mail.acme.fr"),
            AuthVerdict::Pass
        );
        // A signature of some other domain does not vouch for acme.fr.
        assert_eq!(
            v("spf=fail smtp.mailfrom=acme.fr; dkim=pass header.d=mailer.example"),
            AuthVerdict::Fail
        );
        assert_eq!(
            v("spf = pass smtp . mailfrom = bounce@acme.fr"),
            AuthVerdict::Pass
        );
        assert_eq!(v("spf=softfail smtp.mailfrom=acme.fr"), AuthVerdict::None);
        assert_eq!(v("dkim=pass header.i=@acme.fr"), AuthVerdict::Pass);
        // A bare top-level domain aligns with nothing.
        assert_eq!(
            v("spf=fail smtp.mailfrom=acme.fr; dkim=pass header.d=fr"),
            AuthVerdict::Fail
        );
    }

    #[test]
    fn only_trusted_servers_count() {
        // Written by the sender: ignored, whatever it says.
        assert_eq!(
            verdict(
                "Authentication-Results: mx.attacker.example; dmarc=pass header.from=bank.example\n",
                "security@bank.example"
            ),
            None
        );
        let raw = "Authentication-Results: mx.example.com; dmarc=fail header.from=bank.example\n\
                   From: security@bank.example\n\nx\n";
        assert_eq!(sender_auth(&parse(raw.as_bytes()), &[]), None);
        // Both a forged pass and the trusted fail: the trusted one decides.
        let both = verdict(
            "Authentication-Results: mx.attacker.example; dmarc=pass\n\
             Authentication-Results: mx.example.com; dmarc=fail header.from=bank.example\n",
            "security@bank.example",
        )
        .unwrap();
        assert_eq!(both.verdict, AuthVerdict::Fail);
    }

    #[test]
    fn comments_quotes_and_odd_forms_are_read() {
        let tricky = verdict(
            "Authentication-Results: mx.example.com (Postfix; \"quoted; text\" (nested)) ;\n\
             \tdkim=pass reason=\"good; signature\" header.d=acme.fr header.s=sel (comment = here)\n",
            "marie@acme.fr",
        )
        .unwrap();
        assert_eq!(tricky.verdict, AuthVerdict::Pass);
        assert_eq!(
            verdict(
                "Authentication-Results: mx.example.com; none\n",
                "marie@acme.fr"
            )
            .unwrap()
            .verdict,
            AuthVerdict::None
        );
        for junk in ["", ";;;", "=", "mx.example.com; =fail", "((("] {
            let raw = format!("Authentication-Results: {junk}\nFrom: a@b.example\n\nx\n");
            let _ = sender_auth(&parse(raw.as_bytes()), &["mx.example.com".to_owned()]);
        }
    }
}
