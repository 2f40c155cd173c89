//! Sources of messages: IMAP mailboxes and local folders. A source fetches
//! raw bytes, has them decided and filed, and only then marks them done
//! where they came from.

pub mod imap;
pub mod maildir;
pub mod oauth;

use std::sync::Arc;
use std::time::Duration;

use crate::intake::{self, IntakeRules, MailboxDefaults};
use crate::store::{Filed, Inbound, Store, StoreError};

/// What every source needs to file messages.
#[derive(Clone)]
pub struct Context {
    pub store: Store,
    pub rules: Arc<IntakeRules>,
}

impl Context {
    /// Decides a message on the blocking pool (parsing a large message must
    /// not stall the other sources) and files it in one transaction.
    pub async fn file(
        &self,
        inbound: Inbound<'_>,
        defaults: &MailboxDefaults,
    ) -> Result<Filed, StoreError> {
        let raw = inbound.raw.to_vec();
        let rules = Arc::clone(&self.rules);
        let defaults = defaults.clone();
        let decision = tokio::task::spawn_blocking(move || intake::decide(&raw, &rules, &defaults))
            .await
            .map_err(|e| StoreError::Other(format!("intake task failed: {e}")))?;
        self.store.file_message(&inbound, &decision).await
    }
}

/// Exponential back-off with jitter, for reconnecting: 1 s doubling up to
/// 5 min, each wait drawn between half and all of the current step, so that
/// many gateways restarted together do not reconnect in step.
#[derive(Debug, Clone)]
pub struct Backoff {
    step: Duration,
    min: Duration,
    max: Duration,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Self {
        Backoff {
            step: min,
            min,
            max,
        }
    }

    pub fn next_wait(&mut self) -> Duration {
        use rand::Rng;
        let step = self.step;
        self.step = (self.step * 2).min(self.max);
        let millis = u64::try_from(step.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::thread_rng().gen_range(millis / 2..=millis))
    }

    pub fn reset(&mut self) {
        self.step = self.min;
    }
}

/// Waits for `duration` or until shutdown is asked; true when shutting down.
pub async fn sleep_or_shutdown(
    duration: Duration,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
) -> bool {
    if *shutdown.borrow() {
        return true;
    }
    tokio::select! {
        () = tokio::time::sleep(duration) => false,
        _ = shutdown.changed() => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(300));
        let waits: Vec<_> = (0..12).map(|_| b.next_wait()).collect();
        assert!(waits[0] >= Duration::from_millis(500) && waits[0] <= Duration::from_secs(1));
        assert!(waits[3] >= Duration::from_secs(4) && waits[3] <= Duration::from_secs(8));
        assert!(waits.iter().all(|w| *w <= Duration::from_secs(300)));
        assert!(waits[11] >= Duration::from_secs(150));
        b.reset();
        assert!(b.next_wait() <= Duration::from_secs(1));
    }
}
