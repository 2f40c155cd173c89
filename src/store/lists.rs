//! Tickets by page, filtered, and found by their words: what `tickets
//! list|search` and `GET /api/tickets` show.
//!
//! A page costs the same number of queries whatever its size: one for the
//! ids of the page, then `tickets_by_ids`. Lists go newest first and page by
//! ticket number (a cursor says "before number N"), so that tickets filed
//! meanwhile neither shift nor repeat a page. Searches go by rank and page
//! by position. The index is migration 0010's: FTS5 on SQLite, a tsvector on
//! PostgreSQL, both kept by triggers.

use super::{Backend, Store, StoreError, TicketRecord};
use crate::model::{SearchTerms, TicketStatus};

/// Most tickets on one page.
pub const MAX_PAGE: usize = 200;

/// Which tickets: every condition given must hold. Values are canonical
/// names (the callers check them against the vocabulary).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketFilter {
    pub status: Option<TicketStatus>,
    pub product: Option<String>,
    pub severity: Option<String>,
    pub request_type: Option<String>,
    /// The reporter's address, any case.
    pub reporter: Option<String>,
    pub assignee: Option<AssigneeFilter>,
}

/// Whose tickets: nobody's, or one person's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssigneeFilter {
    Nobody,
    /// An address, any case.
    Person(String),
}

/// Where a page starts: after the last ticket of the previous one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// Lists: tickets numbered below this.
    Before(i64),
    /// Searches: the hits after this many.
    Skip(u32),
}

impl Cursor {
    /// The cursor from its text (`next_cursor` of a previous page); `None`
    /// when it is not one.
    pub fn parse(text: &str) -> Option<Cursor> {
        if let Some(n) = text.strip_prefix('n') {
            return n.parse().ok().filter(|n| *n > 0).map(Cursor::Before);
        }
        text.strip_prefix('s')?.parse().ok().map(Cursor::Skip)
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cursor::Before(n) => write!(f, "n{n}"),
            Cursor::Skip(n) => write!(f, "s{n}"),
        }
    }
}

/// A page of tickets.
#[derive(Debug, Clone)]
pub struct TicketPage {
    pub tickets: Vec<TicketRecord>,
    /// For the next page; `None` on the last one.
    pub next_cursor: Option<Cursor>,
}

/// Statement text and its arguments, `$1` first.
struct Sql {
    text: String,
    args: Vec<Arg>,
}

enum Arg {
    Text(String),
    Int(i64),
}

impl Sql {
    fn push_arg(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    /// `AND …` for every condition of the filter, on tickets `t`.
    fn filter(&mut self, filter: &TicketFilter) {
        if let Some(status) = filter.status {
            let p = self.push_arg(Arg::Text(status.as_str().to_owned()));
            self.text.push_str(&format!(" AND t.status = {p}"));
        }
        for (column, value) in [
            ("t.severity", &filter.severity),
            ("t.request_type", &filter.request_type),
        ] {
            if let Some(value) = value {
                let p = self.push_arg(Arg::Text(value.clone()));
                self.text.push_str(&format!(" AND {column} = {p}"));
            }
        }
        if let Some(reporter) = &filter.reporter {
            let p = self.push_arg(Arg::Text(reporter.trim().to_lowercase()));
            self.text.push_str(&format!(" AND t.reporter_email = {p}"));
        }
        match &filter.assignee {
            None => {}
            Some(AssigneeFilter::Nobody) => self.text.push_str(" AND t.assignee IS NULL"),
            Some(AssigneeFilter::Person(email)) => {
                let p = self.push_arg(Arg::Text(email.trim().to_lowercase()));
                self.text.push_str(&format!(" AND t.assignee = {p}"));
            }
        }
        if let Some(product) = &filter.product {
            let p = self.push_arg(Arg::Text(product.clone()));
            self.text.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM ticket_products p WHERE p.ticket_id = t.id AND p.product = {p})"
            ));
        }
    }
}

impl Store {
    /// A page of tickets, newest first.
    pub async fn ticket_page(
        &self,
        filter: &TicketFilter,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> Result<TicketPage, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let mut sql = Sql {
            text: "SELECT t.id, t.number FROM tickets t WHERE 1 = 1".into(),
            args: Vec::new(),
        };
        sql.filter(filter);
        if let Some(Cursor::Before(number)) = cursor {
            let p = sql.push_arg(Arg::Int(number));
            sql.text.push_str(&format!(" AND t.number < {p}"));
        }
        let p = sql.push_arg(Arg::Int(limit as i64 + 1));
        sql.text
            .push_str(&format!(" ORDER BY t.number DESC LIMIT {p}"));
        let rows = self.ids_of(&sql).await?;
        let next_cursor = (rows.len() > limit).then(|| Cursor::Before(rows[limit - 1].1));
        let ids: Vec<i64> = rows.iter().take(limit).map(|r| r.0).collect();
        Ok(TicketPage {
            tickets: self.tickets_by_ids(&ids).await?,
            next_cursor,
        })
    }

    /// A page of the tickets whose summary, description, comments or
    /// attachment names hold every word of `terms`, best first.
    pub async fn search_tickets(
        &self,
        terms: &SearchTerms,
        filter: &TicketFilter,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> Result<TicketPage, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let skip = match cursor {
            Some(Cursor::Skip(n)) => i64::from(n),
            _ => 0,
        };
        let mut sql = Sql {
            text: String::new(),
            args: Vec::new(),
        };
        match self.backend {
            // bm25 counts a word in the summary ten times one in the body.
            Backend::Sqlite => {
                let q = sql.push_arg(Arg::Text(terms.fts5()));
                sql.text = format!(
                    "SELECT t.id, t.number FROM ticket_search
                     JOIN tickets t ON t.id = ticket_search.rowid
                     WHERE ticket_search MATCH {q}"
                );
                sql.filter(filter);
                sql.text
                    .push_str(" ORDER BY bm25(ticket_search, 10.0, 1.0), t.number DESC");
            }
            Backend::Postgres => {
                let q = sql.push_arg(Arg::Text(terms.tsquery()));
                sql.text = format!(
                    "SELECT t.id, t.number FROM ticket_search s
                     JOIN tickets t ON t.id = s.ticket_id
                     WHERE s.document @@ to_tsquery('simple', {q})"
                );
                sql.filter(filter);
                sql.text.push_str(&format!(
                    " ORDER BY ts_rank(s.document, to_tsquery('simple', {q})) DESC, t.number DESC"
                ));
            }
        }
        let p = sql.push_arg(Arg::Int(limit as i64 + 1));
        let o = sql.push_arg(Arg::Int(skip));
        sql.text.push_str(&format!(" LIMIT {p} OFFSET {o}"));
        let rows = self.ids_of(&sql).await?;
        let next_cursor = (rows.len() > limit)
            .then(|| Cursor::Skip(u32::try_from(skip + limit as i64).unwrap_or(u32::MAX)));
        let ids: Vec<i64> = rows.iter().take(limit).map(|r| r.0).collect();
        Ok(TicketPage {
            tickets: self.tickets_by_ids(&ids).await?,
            next_cursor,
        })
    }

    /// `(id, number)` rows of a statement.
    async fn ids_of(&self, sql: &Sql) -> Result<Vec<(i64, i64)>, StoreError> {
        let mut query = sqlx::query_as::<_, (i64, i64)>(&sql.text);
        for arg in &sql.args {
            query = match arg {
                Arg::Text(text) => query.bind(text.clone()),
                Arg::Int(n) => query.bind(*n),
            };
        }
        Ok(query.fetch_all(&self.pool).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_what_they_print() {
        for cursor in [Cursor::Before(42), Cursor::Skip(0), Cursor::Skip(150)] {
            assert_eq!(Cursor::parse(&cursor.to_string()), Some(cursor));
        }
        for bad in ["", "n", "n0", "n-3", "s-1", "x12", "n12abc", "42"] {
            assert_eq!(Cursor::parse(bad), None, "{bad}");
        }
    }
}
