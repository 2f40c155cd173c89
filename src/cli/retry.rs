//! `mailgate messages retry ID|--all-quarantined`: quarantined messages
//! decided again from their stored bytes with the current configuration
//! and filed on their own record.

use super::counts::Counts;
use super::messages::{defaults_for, failed, header_only};
use crate::config::Settings;
use crate::exit;
use crate::intake;
use crate::model::{InboundOutcome, SpamPolicy};
use crate::store::{Filed, Retry, Store, StoreError};

/// Which messages `messages retry` files again.
#[derive(Debug, Clone, Copy)]
pub(super) enum RetryTarget {
    One(i64),
    AllQuarantined,
}

/// What retrying one message came to.
enum Retried {
    Filed(Filed),
    /// Already filed, unknown, or only its header kept.
    Refused,
    /// The database failed; the status to exit with.
    Failed(u8),
}

impl Retried {
    /// What a failed read means for the retry: refused when the message
    /// cannot be retried (unknown, its raw removed), failed otherwise.
    fn after(e: &StoreError) -> Retried {
        let status = failed(e);
        if status == exit::DATAERR {
            Retried::Refused
        } else {
            Retried::Failed(status)
        }
    }
}

async fn retry_one(settings: &Settings, store: &Store, id: i64, spam_verdicts: bool) -> Retried {
    let m = match store.message(id).await {
        Ok(m) => m,
        Err(e) => return Retried::after(&e),
    };
    let not_quarantined = |outcome: &str, ticket: Option<&str>| {
        eprintln!(
            "mailgate: message {id} is not quarantined: it was filed already ({outcome}{})",
            ticket.map(|t| format!(" {t}")).unwrap_or_default()
        );
        Retried::Refused
    };
    if m.outcome != InboundOutcome::Rejected {
        return not_quarantined(m.outcome.as_str(), m.ticket.as_deref());
    }
    let raw = match store.inbound_raw(id).await {
        Ok(raw) => raw,
        // Removed by retention: nothing to decide again from.
        Err(e) => return Retried::after(&e),
    };
    if let Some(why) = header_only(&m, &raw) {
        eprintln!("mailgate: message {id} cannot be retried: {why}");
        return Retried::Refused;
    }
    // Retrying one message by its id is the operator's word that it is no
    // spam and that its sender is who it says: neither the filter's verdict
    // nor the authentication results are read again. `--all-quarantined`
    // still honours them, or it would file every spam in quarantine.
    let mut rules = std::borrow::Cow::Borrowed(&settings.intake);
    if !spam_verdicts {
        rules.to_mut().spam.policy = SpamPolicy::Off;
        rules.to_mut().trusted_authserv_ids.clear();
    }
    let decision = intake::decide(&raw, &rules, &defaults_for(settings, m.mailbox.as_deref()));
    match store.refile(id, &decision).await {
        Ok(Retry::Refiled { filed, was }) => {
            let described = match &filed {
                // Stays quarantined, which the operator is told. (`refile`
                // never yields a duplicate or an already-stored message.)
                Filed::Rejected { reason, .. } => format!("rejected again ({reason})"),
                other => other.to_string(),
            };
            println!(
                "message {id}: {described} (was rejected: {})",
                was.as_deref().unwrap_or("-")
            );
            Retried::Filed(filed)
        }
        Ok(Retry::NotQuarantined { outcome, ticket }) => {
            not_quarantined(&outcome, ticket.as_deref())
        }
        Err(e) => Retried::Failed(failed(&e)),
    }
}

/// Quarantined messages read per page by `--all-quarantined`.
const RETRY_PAGE: i64 = 500;

/// `mailgate messages retry ID|--all-quarantined`: each message decided
/// again from its stored bytes with the current configuration and filed
/// on its own record. 0 when every one was filed, 65 when one stays
/// quarantined (rejected again, or it could not be retried) or was not
/// quarantined at all, 75 when the database failed.
pub(super) async fn execute(settings: &Settings, target: RetryTarget) -> u8 {
    let store = match super::open_store(settings).await {
        Ok(store) => store,
        Err(status) => return status,
    };
    let spam_verdicts = matches!(target, RetryTarget::AllQuarantined);
    let mut status = exit::OK;
    let mut counts = Counts::default();
    // The quarantine as it stands now, oldest first, a page at a time, so
    // that memory does not grow with it.
    let (mut after, upto) = match target {
        RetryTarget::One(id) => (id - 1, id),
        RetryTarget::AllQuarantined => match store.newest_message_id().await {
            Ok(newest) => (0, newest),
            Err(e) => {
                store.close().await;
                return failed(&e);
            }
        },
    };
    'pages: loop {
        let ids: Vec<i64> = match target {
            RetryTarget::One(id) if after < id => vec![id],
            RetryTarget::One(_) => Vec::new(),
            RetryTarget::AllQuarantined => {
                match store.quarantined_ids(after, upto, RETRY_PAGE).await {
                    Ok(ids) => ids,
                    Err(e) => {
                        store.close().await;
                        return failed(&e);
                    }
                }
            }
        };
        let Some(&last) = ids.last() else { break };
        after = last;
        for id in ids {
            match retry_one(settings, &store, id, spam_verdicts).await {
                Retried::Filed(filed) => {
                    if matches!(filed, Filed::Rejected { .. }) {
                        status = status.max(exit::DATAERR);
                    }
                    counts.add(&filed);
                }
                Retried::Refused => {
                    status = status.max(exit::DATAERR);
                    counts.skipped += 1;
                }
                Retried::Failed(failure) => {
                    status = status.max(failure);
                    counts.errors += 1;
                    break 'pages;
                }
            }
        }
    }
    if matches!(target, RetryTarget::AllQuarantined) {
        println!("{} retried: {}", counts.total(), counts.summary());
    }
    store.close().await;
    status
}
