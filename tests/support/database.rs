//! A database per test: a SQLite file in a temporary folder, or a fresh
//! database on the machine's PostgreSQL server, dropped at the end.

#![allow(dead_code)]

use sqlx::Connection;

pub const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

pub struct TestDb {
    pub url: String,
    _dir: tempfile::TempDir,
    pg_name: Option<String>,
}

impl TestDb {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/sub/mailgate.db", dir.path().display());
        TestDb {
            url,
            _dir: dir,
            pg_name: None,
        }
    }

    /// A fresh PostgreSQL database named after the test, or `None` (said
    /// loudly) when the server is not there. In CI its absence is a failure.
    pub async fn postgres(test: &str) -> Option<Self> {
        let mut admin = match sqlx::PgConnection::connect(ADMIN_URL).await {
            Ok(conn) => conn,
            Err(e) => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "PostgreSQL is required in CI: {e}"
                );
                eprintln!(
                    "\n*** SKIPPED PostgreSQL half of {test}: cannot connect to {ADMIN_URL}: {e} ***\n"
                );
                return None;
            }
        };
        let name = format!("mailgate_{test}_{}", std::process::id());
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        Some(TestDb {
            url: format!("postgres://postgres@127.0.0.1:5432/{name}"),
            _dir: tempfile::tempdir().unwrap(),
            pg_name: Some(name),
        })
    }

    pub async fn drop_pg(&self) {
        if let Some(name) = &self.pg_name {
            let mut admin = sqlx::PgConnection::connect(ADMIN_URL).await.unwrap();
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await
                .unwrap();
        }
    }
}
