//! `[[routes]]`: which team a new ticket goes to. Routes are tried in the
//! order written and the first whose conditions all hold wins; a ticket no
//! route takes goes to `tickets.team_address`, in the queue `default`.
//!
//! Conditions are read against what the ticket was filed with (its
//! canonical field values, the source it came in through, the addresses it
//! was sent to). A ticket keeps its queue afterwards: changing its product
//! later does not move it, as in the trackers whose teams own their queue.

use serde::Deserialize;

use super::checker::Checker;
use crate::model::{EmailAddress, Vocabulary};

/// A route as written.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default, deny_unknown_fields)]
pub struct RawRoute {
    pub name: Option<String>,
    pub product: Option<String>,
    pub request_type: Option<String>,
    pub severity: Option<String>,
    pub mailbox: Option<String>,
    pub recipient: Option<String>,
    pub team_address: Option<String>,
    pub assignee: Option<String>,
}

/// The queue of tickets that no route takes.
pub const DEFAULT_QUEUE: &str = "default";

/// A checked route: conditions in canonical form (vocabulary names, lower
/// case addresses), then where its tickets go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The queue's name, shown in `X-Mailgate-Queue` and stored on tickets.
    pub name: String,
    pub product: Option<String>,
    pub request_type: Option<String>,
    pub severity: Option<String>,
    /// The name of a configured mailbox or maildir.
    pub mailbox: Option<String>,
    /// An address, or `@domain` for any address of that domain.
    pub recipient: Option<String>,
    /// Where notifications go instead of `tickets.team_address`.
    pub team_address: Option<String>,
    /// Who the ticket is assigned to when filed.
    pub assignee: Option<String>,
}

/// What a route is matched against: a new ticket as filed.
#[derive(Debug, Clone, Copy)]
pub struct RouteFacts<'a> {
    pub products: &'a [String],
    pub request_type: &'a str,
    pub severity: &'a str,
    /// The source's name (mailbox or maildir), when it has one.
    pub mailbox: Option<&'a str>,
    /// The addresses the message was sent to (To and Cc).
    pub recipients: &'a [String],
}

impl Route {
    /// Whether every condition given holds for `facts`.
    pub fn matches(&self, facts: &RouteFacts<'_>) -> bool {
        let product = self
            .product
            .as_ref()
            .is_none_or(|p| facts.products.contains(p));
        let request_type = (self.request_type.as_deref()).is_none_or(|r| r == facts.request_type);
        let severity = (self.severity.as_deref()).is_none_or(|s| s == facts.severity);
        let mailbox = (self.mailbox.as_deref()).is_none_or(|m| facts.mailbox == Some(m));
        let recipient = (self.recipient.as_deref()).is_none_or(|wanted| {
            (facts.recipients.iter()).any(|address| recipient_matches(wanted, address))
        });
        product && request_type && severity && mailbox && recipient
    }
}

/// `wanted` is an address (compared without its `+tag`, in any case) or
/// `@domain`.
fn recipient_matches(wanted: &str, address: &str) -> bool {
    let address = address.trim().to_lowercase();
    match wanted.strip_prefix('@') {
        Some(domain) => address
            .rsplit_once('@')
            .is_some_and(|(_, d)| d.trim_end_matches('.') == domain),
        None => without_tag(&address) == without_tag(wanted),
    }
}

fn without_tag(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let local = local.split_once('+').map_or(local, |(name, _)| name);
            format!("{local}@{domain}")
        }
        None => address.to_owned(),
    }
}

/// The routes in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routes {
    pub routes: Vec<Route>,
}

impl Routes {
    /// The first route that takes a ticket with these facts.
    pub fn pick(&self, facts: &RouteFacts<'_>) -> Option<&Route> {
        self.routes.iter().find(|r| r.matches(facts))
    }

    /// A route by its queue's name (a ticket's stored queue).
    pub fn by_name(&self, name: &str) -> Option<&Route> {
        self.routes.iter().find(|r| r.name == name)
    }

    /// The team address of a queue: its route's, else `fallback`
    /// (`tickets.team_address`), also for a queue no longer configured.
    pub fn team_address<'a>(
        &'a self,
        queue: Option<&str>,
        fallback: Option<&'a str>,
    ) -> Option<&'a str> {
        queue
            .and_then(|q| self.by_name(q))
            .and_then(|r| r.team_address.as_deref())
            .or(fallback)
    }

    /// Every team address the routes send to.
    pub fn team_addresses(&self) -> impl Iterator<Item = &str> {
        self.routes.iter().filter_map(|r| r.team_address.as_deref())
    }
}

/// Checks `[[routes]]`. `sources` are the configured mailbox and maildir
/// names.
pub(super) fn routes(
    c: &mut Checker,
    raw: &[RawRoute],
    vocabulary: &Vocabulary,
    sources: &[String],
) -> Routes {
    let mut routes = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        let key = |field: &str| format!("routes[{i}].{field}");
        let mut term = |field: &str, terms: &crate::model::Terms, value: &Option<String>| {
            let value = value.as_ref()?;
            let found = terms.exact(value).map(str::to_owned);
            if found.is_none() {
                c.problem(
                    key(field),
                    format!("{value:?} is not a configured {}", field.replace('_', " ")),
                );
            }
            found
        };
        let product = term("product", &vocabulary.products, &r.product);
        let request_type = term("request_type", &vocabulary.request_types, &r.request_type);
        let severity = term("severity", &vocabulary.severities, &r.severity);
        if let Some(m) = &r.mailbox
            && !sources.contains(m)
        {
            c.problem(
                key("mailbox"),
                format!("{m:?} is not the name of a configured mailbox or maildir"),
            );
        }
        let recipient = r.recipient.as_ref().and_then(|text| {
            let text = text.trim().to_lowercase();
            let valid = match text.strip_prefix('@') {
                Some(domain) => EmailAddress::is_valid(&format!("x@{domain}")),
                None => EmailAddress::is_valid(&text),
            };
            if !valid {
                c.problem(
                    key("recipient"),
                    format!("{text:?} is not an address nor an @domain"),
                );
            }
            valid.then_some(text)
        });
        let team_address =
            (r.team_address.as_ref()).and_then(|a| c.address(key("team_address"), a));
        let assignee = (r.assignee.as_ref()).and_then(|a| c.address(key("assignee"), a));
        if r.team_address.is_none() && r.assignee.is_none() {
            c.problem(
                format!("routes[{i}]"),
                "a route needs a team_address, an assignee, or both",
            );
        }
        let name = match r.name.as_deref().map(str::trim) {
            Some("") => {
                c.problem(key("name"), "is empty");
                String::new()
            }
            Some(name) => name.to_owned(),
            None => team_address
                .clone()
                .or_else(|| assignee.clone())
                .unwrap_or_default(),
        };
        if name == DEFAULT_QUEUE {
            c.problem(
                key("name"),
                format!("{DEFAULT_QUEUE:?} is the queue of tickets no route takes"),
            );
        } else if routes.iter().any(|o: &Route| o.name == name) {
            c.problem(key("name"), format!("{name:?} names an earlier route too"));
        }
        routes.push(Route {
            name,
            product,
            request_type,
            severity,
            mailbox: r.mailbox.clone(),
            recipient,
            team_address,
            assignee,
        });
    }
    Routes { routes }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(product: Option<&str>, team: &str) -> RawRoute {
        RawRoute {
            product: product.map(str::to_owned),
            team_address: Some(team.to_owned()),
            ..RawRoute::default()
        }
    }

    fn vocabulary() -> Vocabulary {
        Vocabulary {
            products: crate::model::Terms::new(vec![
                crate::model::Term::new("Atlas", &["atlas-suite"]),
                crate::model::Term::new("Borealis", &[]),
            ]),
            ..Vocabulary::default()
        }
    }

    fn checked(raw: &[RawRoute], sources: &[&str]) -> (Routes, Vec<String>) {
        let mut c = Checker::default();
        let sources: Vec<String> = sources.iter().map(|s| (*s).to_owned()).collect();
        let routes = routes(&mut c, raw, &vocabulary(), &sources);
        (routes, c.problems.iter().map(ToString::to_string).collect())
    }

    fn facts<'a>(products: &'a [String], recipients: &'a [String]) -> RouteFacts<'a> {
        RouteFacts {
            products,
            request_type: "assistance",
            severity: "normal",
            mailbox: Some("support"),
            recipients,
        }
    }

    #[test]
    fn the_first_route_whose_conditions_hold_wins() {
        let (routes, problems) = checked(
            &[
                raw(Some("atlas-suite"), "atlas@vendor.example"),
                raw(None, "everyone@vendor.example"),
            ],
            &[],
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(routes.routes[0].product.as_deref(), Some("Atlas"));
        let atlas = vec!["Borealis".to_owned(), "Atlas".to_owned()];
        let other = vec!["Borealis".to_owned()];
        let pick = |products| routes.pick(&facts(products, &[])).map(|r| r.name.clone());
        assert_eq!(pick(&atlas).as_deref(), Some("atlas@vendor.example"));
        assert_eq!(pick(&other).as_deref(), Some("everyone@vendor.example"));
    }

    #[test]
    fn every_condition_given_must_hold() {
        let route = RawRoute {
            name: Some("urgent-atlas".into()),
            product: Some("Atlas".into()),
            severity: Some("critical".into()),
            mailbox: Some("support".into()),
            team_address: Some("oncall@vendor.example".into()),
            ..RawRoute::default()
        };
        let (routes, problems) = checked(&[route], &["support"]);
        assert!(problems.is_empty(), "{problems:?}");
        let atlas = vec!["Atlas".to_owned()];
        let mut f = facts(&atlas, &[]);
        assert!(routes.pick(&f).is_none(), "severity normal");
        f.severity = "critical";
        assert_eq!(routes.pick(&f).unwrap().name, "urgent-atlas");
        f.mailbox = Some("sales");
        assert!(routes.pick(&f).is_none(), "another mailbox");
        f.mailbox = None;
        assert!(routes.pick(&f).is_none(), "no mailbox (a pipe)");
    }

    #[test]
    fn recipients_match_by_address_without_tag_or_by_domain() {
        let by_address = RawRoute {
            recipient: Some("Atlas@Vendor.Example".into()),
            team_address: Some("atlas@team.example".into()),
            ..RawRoute::default()
        };
        let by_domain = RawRoute {
            recipient: Some("@borealis.example".into()),
            team_address: Some("borealis@team.example".into()),
            ..RawRoute::default()
        };
        let (routes, problems) = checked(&[by_address, by_domain], &[]);
        assert!(problems.is_empty(), "{problems:?}");
        let pick = |to: &str| {
            let to = vec![to.to_owned()];
            routes.pick(&facts(&[], &to)).map(|r| r.name.clone())
        };
        assert_eq!(
            pick("atlas+urgent@vendor.example").as_deref(),
            Some("atlas@team.example")
        );
        assert_eq!(
            pick("HELP@Borealis.Example").as_deref(),
            Some("borealis@team.example")
        );
        assert_eq!(pick("help@notborealis.example"), None);
        assert_eq!(pick("atlas@vendor.example.org"), None);
    }

    #[test]
    fn a_queue_keeps_its_team_address_and_falls_back_when_gone() {
        let (routes, _) = checked(&[raw(None, "atlas@team.example")], &[]);
        let fallback = Some("team@vendor.example");
        assert_eq!(
            routes.team_address(Some("atlas@team.example"), fallback),
            Some("atlas@team.example")
        );
        assert_eq!(
            routes.team_address(Some("removed"), fallback),
            fallback,
            "a queue no longer configured"
        );
        assert_eq!(routes.team_address(None, fallback), fallback);
    }

    #[test]
    fn mistakes_are_reported_with_their_key() {
        let bad = [
            RawRoute {
                product: Some("Nope".into()),
                mailbox: Some("sales".into()),
                recipient: Some("not an address".into()),
                team_address: Some("x@vendor.example".into()),
                ..RawRoute::default()
            },
            RawRoute::default(),
            RawRoute {
                name: Some("default".into()),
                assignee: Some("alice@vendor.example".into()),
                ..RawRoute::default()
            },
            RawRoute {
                name: Some("x@vendor.example".into()),
                assignee: Some("alice@vendor.example".into()),
                ..RawRoute::default()
            },
        ];
        let (_, problems) = checked(&bad, &["support"]);
        let joined = problems.join("\n");
        for expected in [
            "routes[0].product: \"Nope\" is not a configured product",
            "routes[0].mailbox: \"sales\" is not the name",
            "routes[0].recipient:",
            "routes[1]: a route needs a team_address",
            "routes[2].name: \"default\" is the queue",
            "routes[3].name: \"x@vendor.example\" names an earlier route",
        ] {
            assert!(joined.contains(expected), "{expected} in\n{joined}");
        }
    }
}
