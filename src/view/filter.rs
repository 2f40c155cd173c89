//! A ticket list's filters as the team writes them (the options of
//! `tickets list|search`, the query of `GET /api/tickets`), checked against
//! the configured vocabulary: aliases and labels are accepted and become
//! canonical names; anything else is refused with the accepted names.

use crate::config::Settings;
use crate::model::{EmailAddress, Named, Terms, TicketStatus};
use crate::store::{AssigneeFilter, TicketFilter};

/// The filters as typed; empty values count as not given.
#[derive(Debug, Clone, Copy, Default)]
pub struct FilterText<'a> {
    pub status: Option<&'a str>,
    pub product: Option<&'a str>,
    pub severity: Option<&'a str>,
    pub request_type: Option<&'a str>,
    pub reporter: Option<&'a str>,
    /// An address, or `none` for tickets nobody is assigned to.
    pub assignee: Option<&'a str>,
}

/// A filter value that is not one: what to say, and what would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadFilter {
    pub message: String,
    /// The accepted values, when there is a list of them.
    pub accepted: Vec<String>,
}

fn given(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

fn canonical(terms: &Terms, field: &str, value: Option<&str>) -> Result<Option<String>, BadFilter> {
    let Some(value) = given(value) else {
        return Ok(None);
    };
    match terms.find(value) {
        Some(name) => Ok(Some(name.to_owned())),
        None => Err(BadFilter {
            message: format!("{field} {value:?} is not a configured {field}"),
            accepted: terms.names().map(str::to_owned).collect(),
        }),
    }
}

/// The filter, or what is wrong with it.
pub fn ticket_filter(
    settings: &Settings,
    text: &FilterText<'_>,
) -> Result<TicketFilter, BadFilter> {
    let vocabulary = &settings.intake.vocabulary;
    let status = match given(text.status) {
        None => None,
        Some(value) => Some(TicketStatus::parse(value).ok_or_else(|| {
            BadFilter {
                message: format!("status {value:?} is not a ticket status"),
                accepted: TicketStatus::ALL
                    .iter()
                    .map(|s| s.as_str().to_owned())
                    .collect(),
            }
        })?),
    };
    let address = |field: &str, value: &str| {
        EmailAddress::parse(value)
            .map(EmailAddress::into_string)
            .map_err(|e| BadFilter {
                message: format!("{field} {value:?}: {e}"),
                accepted: Vec::new(),
            })
    };
    let reporter = given(text.reporter)
        .map(|v| address("reporter", v))
        .transpose()?;
    let assignee = match given(text.assignee) {
        None => None,
        Some(v) if v.eq_ignore_ascii_case("none") => Some(AssigneeFilter::Nobody),
        Some(v) => Some(AssigneeFilter::Person(address("assignee", v)?)),
    };
    Ok(TicketFilter {
        status,
        product: canonical(&vocabulary.products, "product", text.product)?,
        severity: canonical(&vocabulary.severities, "severity", text.severity)?,
        request_type: canonical(&vocabulary.request_types, "request_type", text.request_type)?,
        reporter,
        assignee,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        crate::config::load(None, Some(Default::default())).unwrap()
    }

    #[test]
    fn aliases_and_labels_become_names_and_the_rest_is_refused() {
        let settings = settings();
        let filter = ticket_filter(
            &settings,
            &FilterText {
                status: Some("pending"),
                severity: Some("Haute"),
                request_type: Some(" "),
                reporter: Some("Marie.Dupont@ACME.fr"),
                assignee: Some("None"),
                ..FilterText::default()
            },
        )
        .unwrap();
        assert_eq!(filter.status, Some(TicketStatus::Pending));
        assert_eq!(filter.severity.as_deref(), Some("high"));
        assert_eq!(filter.request_type, None);
        assert_eq!(filter.reporter.as_deref(), Some("marie.dupont@acme.fr"));
        assert_eq!(filter.assignee, Some(AssigneeFilter::Nobody));

        let bad = ticket_filter(
            &settings,
            &FilterText {
                severity: Some("apocalyptic"),
                ..FilterText::default()
            },
        )
        .unwrap_err();
        assert!(bad.message.contains("apocalyptic"), "{}", bad.message);
        assert!(bad.accepted.contains(&"critical".to_owned()));
        let bad = ticket_filter(
            &settings,
            &FilterText {
                status: Some("asleep"),
                ..FilterText::default()
            },
        )
        .unwrap_err();
        assert!(bad.accepted.contains(&"open".to_owned()));
    }
}
