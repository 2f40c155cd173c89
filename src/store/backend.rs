//! The database behind a store: which backend a URL names, connecting
//! (the pool, the SQLite writer), migrating, write transactions, closing.

use std::str::FromStr;
use std::time::Duration;

use rand::RngCore;
use sqlx::Executor;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};

use super::sql::{self, Durability, WriteTx};
use super::{Admission, Store, StoreError};
use crate::config::ConversationRules;

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Config(format!(
                "database.url {url:?} must start with sqlite: or postgres://"
            )))
        }
    }
}

/// A name for this process among instances sharing a database: host, pid
/// and a random part (a pid can come back after a reboot).
fn instance_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let host: String = host
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
        // PostgreSQL keeps 63 bytes of an application_name.
        .take(30)
        .collect();
    let mut random = [0u8; 3];
    rand::rngs::OsRng.fill_bytes(&mut random);
    format!(
        "{}-{}-{}",
        if host.is_empty() { "host" } else { &host },
        std::process::id(),
        hex::encode(random)
    )
}

impl Store {
    /// Connects and applies pending migrations. A SQLite file and its folder
    /// are created when missing.
    pub async fn open(url: &str, key_prefix: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let instance: std::sync::Arc<str> = instance_name().into();
        let url = match backend {
            Backend::Sqlite => prepare_sqlite_url(url)?,
            // Every session says which instance it belongs to: claims of an
            // instance without any session left are those of a dead one.
            Backend::Postgres => {
                let separator = if url.contains('?') { '&' } else { '?' };
                format!("{url}{separator}application_name=mailgate%20{instance}")
            }
        };
        let options = AnyConnectOptions::from_str(&url)
            .map_err(|e| StoreError::Config(format!("database.url: {e}")))?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                // One writer at a time anyway; a few readers beside it.
                Backend::Sqlite => 4,
                Backend::Postgres => 8,
            })
            // PostgreSQL: one session always open, which shows this instance
            // alive to the others (see `claim_outbox`).
            .min_connections(match backend {
                Backend::Sqlite => 0,
                Backend::Postgres => 1,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // The page size counts only for a new file, before
                        // it turns to WAL (see `sql::SQLITE_CONNECTION`).
                        conn.execute("PRAGMA page_size = 16384").await?;
                        for pragma in sql::SQLITE_CONNECTION {
                            conn.execute(pragma).await?;
                        }
                        conn.execute("PRAGMA wal_autocheckpoint = 4096").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let store = Store {
            pool,
            backend,
            key_prefix: key_prefix.to_owned(),
            replies: None,
            auto_reply_limit: i64::MAX,
            admission: Admission::default(),
            conversations: ConversationRules::default(),
            retention: crate::config::RetentionRules::default(),
            routes: std::sync::Arc::default(),
            team_address: None,
            webhooks: std::sync::Arc::default(),
            webhooks_ready: std::sync::Arc::default(),
            robot_patterns: std::sync::Arc::default(),
            outbox_ready: std::sync::Arc::default(),
            sqlite_writer: None,
            instance,
            stored_ahead: std::sync::Arc::default(),
        };
        store.migrate().await?;
        let sqlite_writer = match sqlite_file(&url) {
            Some(path) if backend == Backend::Sqlite => Some(std::sync::Arc::new(
                tokio::sync::Mutex::new(sql::SqliteWriter::open(&path)?),
            )),
            _ => None,
        };
        Ok(Store {
            sqlite_writer,
            ..store
        })
    }

    /// Starts a transaction that will write. On SQLite it holds the
    /// process's writer until it ends, so writers of this process queue
    /// here: SQLite's busy handler polls with sleeps of up to 100 ms, which
    /// made the sender and the filer slow each other down a hundredfold.
    pub(super) async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        self.begin_write_with(Durability::Flushed).await
    }

    pub(super) async fn begin_write_with(
        &self,
        durability: Durability,
    ) -> Result<WriteTx, StoreError> {
        match &self.sqlite_writer {
            Some(writer) => {
                WriteTx::sqlite(std::sync::Arc::clone(writer).lock_owned().await, durability)
            }
            None => WriteTx::postgres(self.pool.begin().await?, durability).await,
        }
    }

    /// Starts the transaction of an erasure. On SQLite, with
    /// `secure_delete` (deleted rows are overwritten with zeros, not left
    /// in the pages) and without enforcing foreign keys: every row deleted
    /// made SQLite scan each table referring to its table, whose columns
    /// have no index (40 s for a customer's 1,000 messages among 21,000 in
    /// a debug build, the writer held all along; 1.3 s without). The
    /// erasure checks the keys itself before it commits (`PRAGMA
    /// foreign_key_check`). Both settings are put back when the
    /// transaction ends, whichever way.
    pub(super) async fn begin_erasure(&self) -> Result<WriteTx, StoreError> {
        match &self.sqlite_writer {
            Some(writer) => {
                let writer = std::sync::Arc::clone(writer).lock_owned().await;
                let secure_delete = writer.pragma("secure_delete")?;
                WriteTx::sqlite_with(
                    writer,
                    "PRAGMA foreign_keys = OFF; PRAGMA secure_delete = ON",
                    format!("PRAGMA foreign_keys = ON; PRAGMA secure_delete = {secure_delete}"),
                )
            }
            None => self.begin_write().await,
        }
    }

    /// Applies the migrations of this backend that are not applied yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => {
                sqlx::migrate!("./migrations/sqlite")
                    .run(&self.pool)
                    .await?;
            }
            Backend::Postgres => {
                sqlx::migrate!("./migrations/postgres")
                    .run(&self.pool)
                    .await?;
            }
        }
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// PostgreSQL: whether the server runs autovacuum; `None` on SQLite.
    ///
    /// Without it no table's statistics are ever refreshed, and a session
    /// keeps the plans it made while the tables were empty: the foreign key
    /// checks on `blobs` then read the whole table for every row filed, and
    /// filing 100,000 messages slowed to 13 msg/s at 47,000 (128 msg/s
    /// right after an `ANALYZE`).
    pub async fn autovacuum(&self) -> Result<Option<bool>, StoreError> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        use sqlx::Row as _;
        let on: String = sqlx::query("SELECT current_setting('autovacuum')")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        Ok(Some(on == "on"))
    }

    /// PostgreSQL: refreshes the statistics of every table (`ANALYZE`),
    /// which also makes every session plan its statements again; nothing
    /// on SQLite. What autovacuum does by itself, for servers without it.
    pub async fn analyze(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres {
            sqlx::query("ANALYZE").execute(&self.pool).await?;
        }
        Ok(())
    }
}

/// The file of a `sqlite:` URL.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}

/// Makes `sqlite://PATH` create its file (and folder) when missing.
fn prepare_sqlite_url(url: &str) -> Result<String, StoreError> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = sqlite_file(url)
        .ok_or_else(|| StoreError::Config("database.url must name a SQLite file".into()))?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| {
            StoreError::Unavailable(format!(
                "cannot create the folder {}: {e}",
                parent.display()
            ))
        })?;
    }
    Ok(if rest.contains("mode=") {
        format!("sqlite://{rest}")
    } else if rest.contains('?') {
        format!("sqlite://{rest}&mode=rwc")
    } else {
        format!("sqlite://{rest}?mode=rwc")
    })
}
