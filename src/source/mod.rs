//! Sources of messages: IMAP mailboxes and local folders. A source fetches
//! raw bytes, has them decided and filed, and only then marks them done
//! where they came from.

pub mod imap;
pub mod initial;
pub mod maildir;
pub mod mbox;
pub mod oauth;

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use tokio::sync::{oneshot, watch};

use crate::intake::{self, Decision, IntakeRules, MailboxDefaults};
use crate::service::{Monitor, record_filed, record_sender_auth};
use crate::store::{Filed, Inbound, RawDigest, Store, StoreError};

/// The threads that decide messages, one per core, for the whole life of
/// the process. They are long-lived for the sake of memory: the regex
/// crate gives each thread that runs a regex a cache of its lazily built
/// automaton (up to 8 per regex, handed out by thread id), and each grows
/// as new text is seen. With fresh threads for every batch, as before, all
/// 8 filled up: 38 MB of the 70 MB heap of a 5,000-message run.
static INTAKE_THREADS: LazyLock<rayon::ThreadPool> = LazyLock::new(|| {
    rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("intake-{i}"))
        .build()
        .expect("intake threads start")
});

/// Runs `work` on the intake threads without holding up the async
/// runtime. A panic in it becomes an error: the message stays where it
/// came from.
async fn on_intake_threads<R: Send + 'static>(
    work: impl FnOnce() -> R + Send + 'static,
) -> Result<R, StoreError> {
    let (done, result) = oneshot::channel();
    INTAKE_THREADS.spawn(move || {
        // Nobody waits any more if the caller was cancelled.
        let _ = done.send(std::panic::catch_unwind(AssertUnwindSafe(work)));
    });
    match result.await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(panic)) => {
            let what = (panic.downcast_ref::<&str>().copied())
                .or(panic.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("panic");
            Err(StoreError::Other(format!("intake task failed: {what}")))
        }
        Err(_) => Err(StoreError::Other("intake task failed".into())),
    }
}

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
    /// Every mail filing plans is kept as suppressed with this reason (see
    /// [`Context::silenced`]).
    suppressed: Option<Arc<str>>,
}

impl Context {
    /// Sources see each new `Live` sent on the channel from their next
    /// message on.
    pub fn new(live: watch::Receiver<Arc<Live>>, monitor: Arc<Monitor>) -> Self {
        Context {
            live,
            monitor,
            suppressed: None,
        }
    }

    /// The same context, whose filing keeps every mail it plans in the
    /// outbox as suppressed with `reason` (`initial = "silent"`).
    pub fn silenced(&self, reason: &str) -> Self {
        Context {
            suppressed: Some(Arc::from(reason)),
            ..self.clone()
        }
    }

    /// A context that never changes.
    pub fn fixed(store: Store, rules: Arc<IntakeRules>) -> Self {
        let (_, live) = watch::channel(Arc::new(Live { store, rules }));
        Context::new(live, Arc::default())
    }

    pub fn store(&self) -> Store {
        let store = self.live.borrow().store.clone();
        match &self.suppressed {
            Some(reason) => store.with_replies_suppressed(reason),
            None => store,
        }
    }

    pub fn rules(&self) -> Arc<IntakeRules> {
        Arc::clone(&self.live.borrow().rules)
    }

    /// Decides a message on the intake threads (parsing a large message
    /// must not stall the other sources) and files it in one transaction.
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
        let decision = on_intake_threads(move || intake::decide(&raw, &rules, &defaults)).await?;
        self.file_decided(source, &inbound, &decision, started)
            .await
    }

    /// Decides messages on the intake threads, one core each, and computes
    /// their digests there too, so that filing does not. Gives the
    /// messages back with their decisions, in order. `raw` reads a
    /// message's bytes out of its holder, so that nothing is copied.
    pub async fn decide_all<T: Send + Sync + 'static>(
        &self,
        messages: Vec<T>,
        raw: fn(&T) -> &[u8],
        defaults: &MailboxDefaults,
    ) -> Result<(Vec<T>, Vec<(Decision, RawDigest)>), StoreError> {
        let rules = self.rules();
        let defaults = defaults.clone();
        on_intake_threads(move || {
            // Work stealing, not equal shares: one message with a 2 MB
            // attachment takes as long as dozens of plain ones.
            let decisions = messages
                .par_iter()
                .map(|m| {
                    let raw = raw(m);
                    (intake::decide(raw, &rules, &defaults), RawDigest::of(raw))
                })
                .collect();
            (messages, decisions)
        })
        .await
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
        for (f, (_, decision)) in filed.iter().zip(messages) {
            record_filed(source, f, started.elapsed());
            record_sender_auth(decision);
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
        record_sender_auth(decision);
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
