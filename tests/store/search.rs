//! Lists by page with filters, and full-text search, on SQLite and
//! PostgreSQL: pages that neither repeat nor skip, every filter, words found
//! whatever their case and accents, by prefix, in comments and attachment
//! names, ranked with the summary first; the index kept by its triggers and
//! built for a database filed before it existed.

use mailgate::config::Settings;
use mailgate::model::{SearchTerms, TicketStatus};
use mailgate::store::{Cursor, Store, TicketFilter, TicketPage};
use sqlx::Connection;

use super::{TestDb, file, settings};

fn message(n: usize, from: &str, to: &str, subject: &str, body: &str) -> String {
    format!(
        "From: {from}\nTo: {to}\nSubject: {subject}\nMessage-ID: <search-{n}@example.org>\n\
         MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n{body}\n"
    )
}

const WITH_FILE: &str = "From: marie.dupont@acme.fr\nTo: support+atlas@example.com\n\
Subject: Facture de novembre\nMessage-ID: <search-file@acme.fr>\nMIME-Version: 1.0\n\
Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; charset=utf-8\n\n\
Question sur la facture, voir la pièce jointe.\n--b\n\
Content-Type: application/pdf; name=rapport-erreur.pdf\n\
Content-Disposition: attachment; filename=rapport-erreur.pdf\n\n%PDF-1.4\n--b--\n";

fn keys(page: &TicketPage) -> Vec<&str> {
    page.tickets.iter().map(|t| t.key.as_str()).collect()
}

async fn search(store: &Store, words: &str, filter: &TicketFilter) -> Vec<String> {
    let terms = SearchTerms::parse(words).unwrap();
    let page = store
        .search_tickets(&terms, filter, 50, None)
        .await
        .unwrap();
    page.tickets.into_iter().map(|t| t.key).collect()
}

/// Seven tickets and a note: SUP-1 … SUP-7.
async fn fill(store: &Store, settings: &Settings) {
    let messages = [
        message(
            1,
            "marie.dupont@acme.fr",
            "support+atlas@example.com",
            "Export planté",
            "L'export CSV a planté après la mise à jour.",
        ),
        message(
            2,
            "j.smith@globex.com",
            "support+nova@example.com",
            "Login loop",
            "The app keeps asking for my password.",
        ),
        WITH_FILE.to_owned(),
        message(
            4,
            "paul@acme.fr",
            "support+helios@example.com",
            "[Gravité : haute] Synchronisation lente",
            "Les EXPORTS nocturnes durent des heures.",
        ),
        message(
            5,
            "a@example.org",
            "support+orbit@example.com",
            "Question 5",
            "Rien.",
        ),
        message(
            6,
            "b@example.org",
            "support+orbit@example.com",
            "Question 6",
            "Rien.",
        ),
        message(
            7,
            "c@example.org",
            "support+orbit@example.com",
            "Question 7",
            "Rien.",
        ),
    ];
    for (n, raw) in messages.iter().enumerate() {
        let filed = file(store, settings, raw, None).await;
        assert_eq!(
            filed,
            mailgate::store::Filed::Ticket {
                key: format!("SUP-{}", n + 1)
            }
        );
    }
    store
        .add_note(
            "SUP-2",
            "agent@example.com",
            "It crashes right after the export step.",
        )
        .await
        .unwrap();
}

async fn story(db: &TestDb) {
    let mut settings = settings();
    settings.database.url = db.url.clone();
    let store = mailgate::wiring::open_store(&settings).await.unwrap();
    fill(&store, &settings).await;
    let all = TicketFilter::default();

    // Pages of three, newest first, each starting where the last ended.
    let first = store.ticket_page(&all, 3, None).await.unwrap();
    assert_eq!(keys(&first), ["SUP-7", "SUP-6", "SUP-5"]);
    let second = store.ticket_page(&all, 3, first.next_cursor).await.unwrap();
    assert_eq!(keys(&second), ["SUP-4", "SUP-3", "SUP-2"]);
    // A ticket filed meanwhile does not shift the pages being read.
    file(
        &store,
        &settings,
        &message(
            8,
            "d@example.org",
            "support@example.com",
            "Question 8",
            "Rien.",
        ),
        None,
    )
    .await;
    let last = store
        .ticket_page(&all, 3, second.next_cursor)
        .await
        .unwrap();
    assert_eq!(keys(&last), ["SUP-1"]);
    assert_eq!(last.next_cursor, None);
    // Loaded whole, as `tickets show` has them.
    let sup2 = &second.tickets[2];
    assert_eq!(sup2.products, ["Nova"]);
    assert_eq!(sup2.comments.len(), 1);
    assert_eq!(
        second.tickets[1].attachments[0].filename,
        "rapport-erreur.pdf"
    );
    assert_eq!(*sup2, store.ticket("SUP-2").await.unwrap());

    // Filters, alone and together.
    let by = |filter: TicketFilter| {
        let store = store.clone();
        async move { keys(&store.ticket_page(&filter, 50, None).await.unwrap()).join(" ") }
    };
    let atlas = TicketFilter {
        product: Some("Atlas".into()),
        ..TicketFilter::default()
    };
    assert_eq!(by(atlas.clone()).await, "SUP-3 SUP-1");
    let marie = TicketFilter {
        reporter: Some("Marie.Dupont@acme.fr".into()),
        ..TicketFilter::default()
    };
    assert_eq!(by(marie).await, "SUP-3 SUP-1");
    let high = TicketFilter {
        severity: Some("high".into()),
        ..TicketFilter::default()
    };
    assert_eq!(by(high).await, "SUP-4");
    let closed_atlas = TicketFilter {
        status: Some(TicketStatus::Closed),
        ..atlas.clone()
    };
    assert_eq!(by(closed_atlas).await, "");
    let open_orbit = TicketFilter {
        status: Some(TicketStatus::Open),
        product: Some("Orbit".into()),
        ..TicketFilter::default()
    };
    assert_eq!(by(open_orbit).await, "SUP-7 SUP-6 SUP-5");

    // Words: accents and case do not matter, prefixes match, every word
    // must be there; the summary ranks before the body and the comments.
    assert_eq!(search(&store, "PLANTE", &all).await, ["SUP-1"]);
    assert_eq!(search(&store, "gravité", &all).await, Vec::<String>::new());
    let export = search(&store, "export", &all).await;
    assert_eq!(export[0], "SUP-1", "{export:?}");
    let mut found = export.clone();
    found.sort();
    assert_eq!(
        found,
        ["SUP-1", "SUP-2", "SUP-4"],
        "the note and EXPORTS count"
    );
    assert_eq!(search(&store, "export csv", &all).await, ["SUP-1"]);
    assert_eq!(search(&store, "rapport erreur", &all).await, ["SUP-3"]);
    let helios = TicketFilter {
        product: Some("Helios".into()),
        ..TicketFilter::default()
    };
    assert_eq!(search(&store, "export", &helios).await, ["SUP-4"]);
    // By page too.
    let terms = SearchTerms::parse("export").unwrap();
    let page = store.search_tickets(&terms, &all, 2, None).await.unwrap();
    assert_eq!(page.tickets.len(), 2);
    assert!(matches!(page.next_cursor, Some(Cursor::Skip(2))));
    let rest = store
        .search_tickets(&terms, &all, 2, page.next_cursor)
        .await
        .unwrap();
    assert_eq!(rest.tickets.len(), 1);
    assert_eq!(rest.next_cursor, None);
    // The line shown beside a hit comes from where the word is.
    let sup2 = store.ticket("SUP-2").await.unwrap();
    let snippet = mailgate::view::snippet(&sup2, &SearchTerms::parse("crash").unwrap());
    assert_eq!(
        snippet.as_deref(),
        Some("It crashes right after the export step.")
    );

    // Changed text is found as it now reads: the triggers keep the index.
    sqlx_execute(
        db,
        &[
            "UPDATE comments SET body = 'Nothing to add.'",
            "UPDATE tickets SET description = 'Corrigé.' WHERE key = 'SUP-4'",
        ],
    )
    .await;
    let mut found = search(&store, "export", &all).await;
    found.sort();
    assert_eq!(found, ["SUP-1"]);
    assert_eq!(search(&store, "corrige", &all).await, ["SUP-4"]);
    store.close().await;

    // A database of the version before: no index, no triggers. Opening it
    // migrates, and the migration indexes what is there.
    let before = if db.url.starts_with("sqlite") {
        vec![
            "DROP TRIGGER ticket_search_ticket_insert",
            "DROP TRIGGER ticket_search_ticket_update",
            "DROP TRIGGER ticket_search_ticket_delete",
            "DROP TRIGGER ticket_search_comment_insert",
            "DROP TRIGGER ticket_search_comment_update",
            "DROP TRIGGER ticket_search_comment_delete",
            "DROP TRIGGER ticket_search_attachment_insert",
            "DROP TRIGGER ticket_search_attachment_update",
            "DROP TRIGGER ticket_search_attachment_delete",
            "DROP TABLE ticket_search",
            "DROP VIEW ticket_search_text",
            "DROP INDEX ticket_products_product",
            "DELETE FROM _sqlx_migrations WHERE version = 10",
        ]
    } else {
        vec![
            "DROP TRIGGER ticket_search_ticket ON tickets",
            "DROP TRIGGER ticket_search_comment ON comments",
            "DROP TRIGGER ticket_search_attachment ON attachments",
            "DROP TABLE ticket_search",
            "DROP FUNCTION mailgate_search_ticket_changed(), mailgate_search_part_changed(), mailgate_index_ticket(bigint), mailgate_fold(text)",
            "DROP INDEX ticket_products_product",
            "DELETE FROM _sqlx_migrations WHERE version = 10",
        ]
    };
    sqlx_execute(db, &before).await;
    let store = mailgate::wiring::open_store(&settings).await.unwrap();
    assert_eq!(search(&store, "plante", &all).await, ["SUP-1"]);
    assert_eq!(search(&store, "rapport", &all).await, ["SUP-3"]);
    store.close().await;
}

/// Statements run beside the store, as another tool would.
async fn sqlx_execute(db: &TestDb, statements: &[&str]) {
    if db.url.starts_with("sqlite") {
        let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        for statement in statements {
            sqlx::query(statement).execute(&mut conn).await.unwrap();
        }
        conn.close().await.unwrap();
    } else {
        let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
        for statement in statements {
            sqlx::query(statement).execute(&mut conn).await.unwrap();
        }
        conn.close().await.unwrap();
    }
}

#[tokio::test]
async fn lists_and_search_on_sqlite() {
    story(&TestDb::sqlite()).await;
}

#[tokio::test]
async fn lists_and_search_on_postgres() {
    let Some(db) = TestDb::postgres("search").await else {
        return;
    };
    story(&db).await;
    db.drop_pg().await;
}
