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

/// What the retries so far came to: the exit status and the outcomes.
struct Tally {
    status: u8,
    counts: Counts,
}

impl Tally {
    /// Retries one message (`spam_verdicts`: the spam filter's verdict and
    /// the authentication results still count, for `--all-quarantined`)
    /// and counts it; false when the database failed, which stops the
    /// retries.
    async fn retry(
        &mut self,
        settings: &Settings,
        store: &Store,
        id: i64,
        spam_verdicts: bool,
    ) -> bool {
        match retry_one(settings, store, id, spam_verdicts).await {
            Retried::Filed(filed) => {
                if matches!(filed, Filed::Rejected { .. }) {
                    self.status = self.status.max(exit::DATAERR);
                }
                self.counts.add(&filed);
                true
            }
            Retried::Refused => {
                self.status = self.status.max(exit::DATAERR);
                self.counts.skipped += 1;
                true
            }
            Retried::Failed(failure) => {
                self.status = self.status.max(failure);
                self.counts.errors += 1;
                false
            }
        }
    }
}

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
    let mut tally = Tally {
        status: exit::OK,
        counts: Counts::default(),
    };
    match target {
        RetryTarget::One(id) => {
            tally.retry(settings, &store, id, false).await;
        }
        RetryTarget::AllQuarantined => {
            // The quarantine as it stands now, oldest first, a page at a
            // time, so that memory does not grow with it.
            let pages = async {
                let upto = store.newest_message_id().await?;
                let mut after = 0;
                loop {
                    let ids = store.quarantined_ids(after, upto, RETRY_PAGE).await?;
                    let Some(&last) = ids.last() else { break };
                    after = last;
                    for id in ids {
                        if !tally.retry(settings, &store, id, true).await {
                            return Ok(());
                        }
                    }
                }
                Ok::<_, StoreError>(())
            };
            if let Err(e) = pages.await {
                store.close().await;
                return failed(&e);
            }
        }
    }
    let Tally { status, counts } = tally;
    if matches!(target, RetryTarget::AllQuarantined) {
        println!("{} retried: {}", counts.total(), counts.summary());
    }
    store.close().await;
    status
}
