//! The SQL of mailbox leases (`crate::lease`): one dedicated PostgreSQL
//! session per instance, whose session advisory locks are its leases.
//!
//! The session is not taken from the store's pool: its locks live as long
//! as it does, and closing it (or the server dropping it when the instance
//! goes silent) must release every lease at once.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection, Row};

/// Advisory lock namespace of mailgate's leases (the first key of the
/// two-key form; the second is the hash of the source's name).
const LOCK_SPACE: i32 = 0x6d67_6c65;

/// What lease sessions fail with: their log lines show the driver's own
/// words.
pub type LeaseError = sqlx::Error;

/// Where an instance opens its lease session, and under which name (other
/// instances count the sessions named `mailgate-lease …`).
#[derive(Debug, Clone)]
pub struct LeaseTarget {
    options: PgConnectOptions,
}

impl LeaseTarget {
    /// The database at `url` (PostgreSQL), for the instance named
    /// `instance` (the store's).
    pub fn new(url: &str, instance: &str) -> Result<Self, String> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| format!("database.url: {e}"))?
            .application_name(&format!("mailgate-lease {instance}"))
            .disable_statement_logging();
        Ok(LeaseTarget { options })
    }

    /// Opens the session, within `within`. The server drops it when the
    /// instance goes silent, so that its leases pass to another within
    /// about `lease_timeout`.
    pub async fn connect(
        &self,
        lease_timeout: Duration,
        within: Duration,
    ) -> Result<LeaseSession, LeaseError> {
        let mut c = tokio::time::timeout(within, self.options.connect())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)??;
        let idle = (lease_timeout / 3).as_secs().max(1);
        let interval = (lease_timeout / 6).as_secs().max(1);
        for setting in [
            format!("SET tcp_keepalives_idle = {idle}"),
            format!("SET tcp_keepalives_interval = {interval}"),
            "SET tcp_keepalives_count = 3".to_owned(),
        ] {
            sqlx::query(&setting).execute(&mut c).await?;
        }
        Ok(LeaseSession { conn: c })
    }
}

/// An open lease session. A source is named to the database by the hash of
/// its name (`hashtext`), which is the lock's second key.
pub struct LeaseSession {
    conn: PgConnection,
}

impl LeaseSession {
    /// The hashes of the sources this session holds.
    pub async fn locked(&mut self) -> Result<Vec<i32>, LeaseError> {
        // Two-key advisory locks show their keys as oids (unsigned).
        sqlx::query(
            "SELECT objid::bigint FROM pg_locks
             WHERE locktype = 'advisory' AND classid::bigint = $1 AND objsubid = 2
               AND pid = pg_backend_pid()",
        )
        .bind(i64::from(LOCK_SPACE))
        .fetch_all(&mut self.conn)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>(0).map(|v| v as u32 as i32))
        .collect()
    }

    /// How many instances have a lease session open on this database.
    pub async fn instances(&mut self) -> Result<i64, LeaseError> {
        sqlx::query(
            "SELECT COUNT(DISTINCT application_name) FROM pg_stat_activity
             WHERE application_name LIKE 'mailgate-lease %' AND datname = current_database()",
        )
        .fetch_one(&mut self.conn)
        .await?
        .try_get(0)
    }

    /// Each source's hash, as the server computes it.
    pub async fn hashes(
        &mut self,
        sources: &[String],
    ) -> Result<BTreeMap<String, i32>, LeaseError> {
        sqlx::query("SELECT s, hashtext(s) FROM unnest($1::text[]) s")
            .bind(sources)
            .fetch_all(&mut self.conn)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Gives back the lease on the source of this hash.
    pub async fn unlock(&mut self, hash: i32) -> Result<(), LeaseError> {
        sqlx::query("SELECT pg_advisory_unlock($1, $2)")
            .bind(LOCK_SPACE)
            .bind(hash)
            .execute(&mut self.conn)
            .await?;
        Ok(())
    }

    /// Takes the lease on the source of this hash if it is free; whether
    /// it was.
    pub async fn try_lock(&mut self, hash: i32) -> Result<bool, LeaseError> {
        sqlx::query("SELECT pg_try_advisory_lock($1, $2)")
            .bind(LOCK_SPACE)
            .bind(hash)
            .fetch_one(&mut self.conn)
            .await?
            .try_get(0)
    }

    /// Ends the session, which releases every lease it holds.
    pub async fn close(self) -> Result<(), LeaseError> {
        self.conn.close().await
    }
}
