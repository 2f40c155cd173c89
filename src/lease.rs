//! Mailbox leases between instances sharing one PostgreSQL database.
//!
//! Each mailbox is watched by one instance at a time. An instance holds its
//! mailboxes as session advisory locks on one dedicated connection, which
//! it checks every sixth of `lease_timeout`:
//! - an instance that dies closes that connection, and PostgreSQL releases
//!   its locks at once;
//! - an instance that loses the connection stops its mailboxes at its next
//!   check, and PostgreSQL drops the silent session through TCP keepalives
//!   (set on it to notice within `lease_timeout`), after which another
//!   instance takes the mailboxes over.
//!
//! Instances spread the mailboxes: each takes at most one free mailbox per
//! round, and none while it holds its fair share (mailboxes divided by the
//! instances that have a lease connection open).
//!
//! A lease is not the only guard: a message is filed at most once whatever
//! happens, because the database refuses a second record of the same
//! (mailbox, UIDVALIDITY, UID), so two instances briefly watching the same
//! mailbox file nothing twice.
//!
//! The SQL (the session, its locks) is the store's (`store/leases.rs`);
//! here is when to check, what to take and who is told.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tracing::{info, warn};

use crate::service::names;
use crate::store::{LeaseError, LeaseSession, LeaseTarget};

/// What the instance wants and holds.
struct Wanted {
    /// Per source: whether this instance holds it now.
    held: watch::Sender<bool>,
}

struct Inner {
    target: LeaseTarget,
    instance: String,
    timeout: Duration,
    wanted: Mutex<BTreeMap<String, Wanted>>,
}

/// The leases of this instance. Clones share them.
#[derive(Clone)]
pub struct Leases {
    inner: Arc<Inner>,
}

impl Leases {
    /// Leases on the database at `url` (PostgreSQL), for the instance
    /// named `instance` (the store's).
    pub fn new(url: &str, instance: &str, timeout: Duration) -> Result<Self, String> {
        let target = LeaseTarget::new(url, instance)?;
        Ok(Leases {
            inner: Arc::new(Inner {
                target,
                instance: instance.to_owned(),
                timeout,
                wanted: Mutex::new(BTreeMap::new()),
            }),
        })
    }

    fn wanted(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Wanted>> {
        self.inner
            .wanted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// This instance wants to watch `source`; the receiver tells whether it
    /// holds it, from now on.
    pub fn want(&self, source: &str) -> watch::Receiver<bool> {
        let mut wanted = self.wanted();
        let entry = wanted.entry(source.to_owned()).or_insert_with(|| Wanted {
            held: watch::channel(false).0,
        });
        entry.held.subscribe()
    }

    /// This instance no longer watches `source` (removed by a reload): its
    /// lease is released at the next round.
    pub fn forget(&self, source: &str) {
        if let Some(w) = self.wanted().remove(source) {
            let _ = w.held.send(false);
        }
    }

    /// The sources held now, for `/readyz` and the status line.
    pub fn held(&self) -> Vec<String> {
        self.wanted()
            .iter()
            .filter(|(_, w)| *w.held.borrow())
            .map(|(k, _)| k.clone())
            .collect()
    }

    fn set_held(&self, source: &str, held: bool) {
        if let Some(w) = self.wanted().get(source) {
            w.held
                .send_if_modified(|h| std::mem::replace(h, held) != held);
        }
        metrics::gauge!(names::LEASE_HELD, "source" => source.to_owned()).set(if held {
            1.0
        } else {
            0.0
        });
    }

    fn lose_all(&self) {
        let held = self.held();
        for source in &held {
            self.set_held(source, false);
        }
        if !held.is_empty() {
            warn!(sources = ?held, "leases lost with the database connection: those sources stop");
        }
    }

    /// How often leases are checked and taken.
    fn round_every(&self) -> Duration {
        self.inner.timeout / 6
    }

    /// Keeps the leases until shutdown, then gives them back.
    pub async fn keep(self, mut shutdown: watch::Receiver<bool>) {
        let mut connection: Option<LeaseSession> = None;
        let mut failing = false;
        loop {
            if connection.is_none() {
                match self.connect().await {
                    Ok(c) => {
                        if failing {
                            info!("lease connection working again");
                            failing = false;
                        }
                        connection = Some(c);
                    }
                    Err(e) => {
                        if !failing {
                            warn!(error = %e, "no lease connection: this instance watches no mailbox until it has one");
                            failing = true;
                        }
                        self.lose_all();
                    }
                }
            }
            if let Some(c) = connection.as_mut() {
                let round = tokio::time::timeout(self.round_every(), self.round(c)).await;
                let error = match round {
                    Ok(Ok(())) => None,
                    Ok(Err(e)) => Some(e.to_string()),
                    Err(_) => Some(format!("no answer within {:?}", self.round_every())),
                };
                if let Some(error) = error {
                    warn!(%error, "lease connection failed");
                    failing = true;
                    connection = None;
                    self.lose_all();
                }
            }
            if crate::service::sleep_or_shutdown(self.round_every(), &mut shutdown).await {
                break;
            }
        }
        // Closing the session releases every lock at once.
        self.lose_all();
        if let Some(c) = connection {
            let _ = tokio::time::timeout(Duration::from_secs(2), c.close()).await;
        }
    }

    async fn connect(&self) -> Result<LeaseSession, LeaseError> {
        self.inner
            .target
            .connect(self.inner.timeout, self.round_every())
            .await
    }

    /// One round: check the connection, give back what is no longer
    /// wanted, take one free source if this instance holds less than its
    /// share.
    async fn round(&self, c: &mut LeaseSession) -> Result<(), LeaseError> {
        let started = Instant::now();
        let locked = c.locked().await?;
        let instances = c.instances().await?;
        let wanted: Vec<String> = self.wanted().keys().cloned().collect();
        let hashes = c.hashes(&wanted).await?;
        // Locks of sources no longer wanted go back.
        for hash in &locked {
            if !hashes.values().any(|h| h == hash) {
                c.unlock(*hash).await?;
            }
        }
        let mut held = 0;
        for (source, hash) in &hashes {
            let holds = locked.contains(hash);
            self.set_held(source, holds);
            held += usize::from(holds);
        }
        let share = wanted
            .len()
            .div_ceil(usize::try_from(instances.max(1)).unwrap_or(1));
        if held < share {
            // Start at a place of our own, so that instances starting
            // together try different sources first.
            let offset = self.inner.instance.bytes().map(usize::from).sum::<usize>();
            let free: Vec<&String> = hashes
                .iter()
                .filter(|(_, h)| !locked.contains(h))
                .map(|(s, _)| s)
                .collect();
            for i in 0..free.len() {
                let source = free[(offset + i) % free.len()];
                if c.try_lock(hashes[source]).await? {
                    info!(source = %source, instances, share, "lease taken: watching this source");
                    self.set_held(source, true);
                    break;
                }
            }
        }
        tracing::trace!(took = ?started.elapsed(), held, share, "lease round");
        Ok(())
    }
}
