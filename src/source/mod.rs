//! Sources of messages: IMAP mailboxes and local folders. A source fetches
//! raw bytes, has them decided and filed, and only then marks them done
//! where they came from.

pub mod imap;
pub mod maildir;
pub mod oauth;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::intake::{self, Decision, IntakeRules, MailboxDefaults};
use crate::service::{Monitor, record_filed};
use crate::store::{Filed, Inbound, RawDigest, Store, StoreError};

/// What a configuration reload replaces under running sources: the store
/// (with its templates, policies and limits) and the intake rules.
pub struct Live {
    pub store: Store,
    pub rules: Arc<IntakeRules>,
}

/// What every source needs to file messages and report on itself.
#[derive(Clone)]
pub struct Context {
    live: watch::Receiver<Arc<Live>>,
    pub monitor: Arc<Monitor>,
}

impl Context {
    /// Sources see each new `Live` sent on the channel from their next
    /// message on.
    pub fn new(live: watch::Receiver<Arc<Live>>, monitor: Arc<Monitor>) -> Self {
        Context { live, monitor }
    }

    /// A context that never changes.
    pub fn fixed(store: Store, rules: Arc<IntakeRules>) -> Self {
        let (_, live) = watch::channel(Arc::new(Live { store, rules }));
        Context::new(live, Arc::default())
    }

    pub fn store(&self) -> Store {
        self.live.borrow().store.clone()
    }

    pub fn rules(&self) -> Arc<IntakeRules> {
        Arc::clone(&self.live.borrow().rules)
    }

    /// Decides a message on the blocking pool (parsing a large message must
    /// not stall the other sources) and files it in one transaction.
    pub async fn file(
        &self,
        source: &str,
        inbound: Inbound<'_>,
        defaults: &MailboxDefaults,
    ) -> Result<Filed, StoreError> {
        let started = Instant::now();
        let raw = inbound.raw.to_vec();
        let rules = self.rules();
        let defaults = defaults.clone();
        let decision = tokio::task::spawn_blocking(move || intake::decide(&raw, &rules, &defaults))
            .await
            .map_err(|e| StoreError::Other(format!("intake task failed: {e}")))?;
        self.file_decided(source, &inbound, &decision, started)
            .await
    }

    /// Decides messages on the blocking pool, spread over the cores, and
    /// gives them back with their decisions. `raw` reads a message's bytes
    /// out of its holder, so that nothing is copied.
    /// Decides messages on every core, and computes their digests there
    /// too, so that filing does not.
    pub async fn decide_all<T: Send + Sync + 'static>(
        &self,
        messages: Vec<T>,
        raw: fn(&T) -> &[u8],
        defaults: &MailboxDefaults,
    ) -> Result<(Vec<T>, Vec<(Decision, RawDigest)>), StoreError> {
        let rules = self.rules();
        let defaults = defaults.clone();
        tokio::task::spawn_blocking(move || {
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            let per_thread = messages.len().div_ceil(threads).max(1);
            let decisions = std::thread::scope(|scope| {
                let workers: Vec<_> = messages
                    .chunks(per_thread)
                    .map(|chunk| {
                        let (rules, defaults) = (&rules, &defaults);
                        scope.spawn(move || {
                            chunk
                                .iter()
                                .map(|m| {
                                    let raw = raw(m);
                                    (intake::decide(raw, rules, defaults), RawDigest::of(raw))
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                workers
                    .into_iter()
                    .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                    .collect()
            });
            (messages, decisions)
        })
        .await
        .map_err(|e| StoreError::Other(format!("intake task failed: {e}")))
    }

    /// Files decided messages in one transaction (see
    /// `Store::file_messages`), and counts them. `started` is when the batch
    /// was received: each message counts the time it took the batch.
    pub async fn file_all(
        &self,
        source: &str,
        messages: &[(Inbound<'_>, &Decision)],
        started: Instant,
    ) -> (Vec<Filed>, Option<StoreError>) {
        let (filed, error) = self.store().file_messages(messages).await;
        for f in &filed {
            record_filed(source, f, started.elapsed());
        }
        (filed, error)
    }

    /// Files a message already decided, and counts it.
    pub async fn file_decided(
        &self,
        source: &str,
        inbound: &Inbound<'_>,
        decision: &Decision,
        started: Instant,
    ) -> Result<Filed, StoreError> {
        let filed = self.store().file_message(inbound, decision).await?;
        record_filed(source, &filed, started.elapsed());
        Ok(filed)
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
