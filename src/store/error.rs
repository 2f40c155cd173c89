//! Storage errors, sorted by what the caller should do about them, and
//! how a database's own errors map onto them.

/// A storage failure, sorted by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found: {0}")]
    NotFound(String),
    /// Another writer got there first (a unique key); trying again resolves it.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database cannot be reached or is busy: try again later, nothing
    /// was written.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database configuration: {0}")]
    Config(String),
    /// The request itself is wrong (an unknown status); nothing was written.
    #[error("{0}")]
    Invalid(String),
    #[error("database error: {0}")]
    Other(String),
}

impl StoreError {
    /// Whether the same operation may succeed later (an MTA should retry).
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Unavailable(_) | StoreError::Conflict(_))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::RowNotFound => StoreError::NotFound(error.to_string()),
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(error.to_string()),
            sqlx::Error::Database(db) => {
                classify_database_error(&db.code().unwrap_or_default(), error.to_string())
            }
            _ => StoreError::Other(error.to_string()),
        }
    }
}

/// What a database's error code means for the caller (SQLite's extended
/// result codes, PostgreSQL's SQLSTATEs).
pub(super) fn classify_database_error(code: &str, message: String) -> StoreError {
    if matches!(code, "2067" | "1555" | "23505") {
        // SQLite CONSTRAINT_UNIQUE and _PRIMARYKEY, PostgreSQL
        // unique_violation.
        StoreError::Conflict(message)
    } else if matches!(code, "5" | "6" | "261" | "262" | "517" | "14")
        || code.starts_with("08")
        || code.starts_with("57P")
        || code.starts_with("53")
        || code == "40001"
        || code == "40P01"
    {
        // SQLite BUSY/LOCKED/CANTOPEN; PostgreSQL connection
        // exceptions, shutdown, resources, serialization.
        StoreError::Unavailable(message)
    } else {
        StoreError::Other(message)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        match error {
            sqlx::migrate::MigrateError::Execute(e) => e.into(),
            other => StoreError::Other(other.to_string()),
        }
    }
}

impl From<crate::model::NotInSet> for StoreError {
    /// A stored word outside its set: the database was written by something
    /// else than this version.
    fn from(error: crate::model::NotInSet) -> Self {
        StoreError::Other(format!("stored value: {error}"))
    }
}
