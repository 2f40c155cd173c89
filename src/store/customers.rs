//! Customers: the register (`mailgate customers`) and the sender policy
//! that reads it when a new ticket is filed.

use super::sql::{self, WriteTx};
use super::{Store, StoreError, now};

/// Who may open tickets (`senders.policy`).
#[derive(Debug, Clone, Default)]
pub struct Admission {
    pub policy: Option<crate::model::SenderPolicy>,
    /// Domains whose every address counts as registered, lower case.
    pub allowed_domains: Vec<String>,
}

/// What the policy says of one sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Admitted {
    Open,
    Held,
    Refused,
}

impl Store {
    /// What the sender policy says of a new ticket's reporter: a registered
    /// customer, or an address of an allowed domain, is always let in.
    pub(super) async fn admitted(
        &self,
        tx: &mut WriteTx,
        email: &str,
    ) -> Result<Admitted, StoreError> {
        use crate::model::SenderPolicy;
        let policy = self.admission.policy.unwrap_or(SenderPolicy::Open);
        if policy == SenderPolicy::Open {
            return Ok(Admitted::Open);
        }
        let domain = email.rsplit_once('@').map_or("", |(_, d)| d);
        let known = self.admission.allowed_domains.iter().any(|d| d == domain)
            || sql::query("SELECT 1 FROM customers WHERE email = $1 AND registered = 1")
                .bind(email)
                .fetch_optional(tx)
                .await?
                .is_some();
        Ok(match (known, policy) {
            (true, _) | (_, SenderPolicy::Open) => Admitted::Open,
            (false, SenderPolicy::Hold) => Admitted::Held,
            (false, SenderPolicy::Registered) => Admitted::Refused,
        })
    }
}

/// A registered customer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct CustomerRecord {
    pub email: String,
    pub name: Option<String>,
    pub organisation: Option<String>,
    pub language: Option<String>,
    pub created_at: String,
}

/// Customers, for `mailgate customers`.
impl Store {
    /// Registers a customer, or updates one (given fields replace the old).
    pub async fn register_customer(
        &self,
        email: &str,
        name: Option<&str>,
        organisation: Option<&str>,
        language: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO customers (email, name, organisation, language, created_at, registered)
             VALUES ($1, $2, $3, $4, $5, 1)
             ON CONFLICT (email) DO UPDATE SET registered = 1,
                 name = COALESCE($2, customers.name),
                 organisation = COALESCE($3, customers.organisation),
                 language = COALESCE($4, customers.language)",
        )
        .bind(email.trim().to_lowercase())
        .bind(name)
        .bind(organisation)
        .bind(language)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Unregisters a customer; their tickets stay. Their portal sessions
    /// end and their unused sign-in links lapse with it. False when unknown.
    pub async fn unregister_customer(&self, email: &str) -> Result<bool, StoreError> {
        let email = email.trim().to_lowercase();
        let mut tx = self.pool.begin().await?;
        let done =
            sqlx::query("UPDATE customers SET registered = 0 WHERE email = $1 AND registered = 1")
                .bind(&email)
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() > 0 {
            sqlx::query("DELETE FROM portal_sessions WHERE email = $1")
                .bind(&email)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM portal_login_tokens WHERE email = $1 AND used_at IS NULL")
                .bind(&email)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn registered_customers(&self) -> Result<Vec<CustomerRecord>, StoreError> {
        Ok(sqlx::query_as::<_, CustomerRecord>(
            "SELECT email, name, organisation, language, created_at FROM customers WHERE registered = 1 ORDER BY email",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
