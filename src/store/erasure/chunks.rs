//! Statements run over a list of ids (or digests) a chunk at a time, so
//! that no statement binds more arguments than a backend allows.

use std::collections::BTreeSet;

use crate::store::StoreError;
use crate::store::sql::{self, WriteTx};

/// Ids (or digests) bound per statement: far below both backends' limits
/// on arguments, and PostgreSQL plans a short `IN` list well.
const IDS_PER_STATEMENT: usize = 500;

/// Arguments of a statement run once per chunk of ids.
pub(in crate::store) fn ints(ids: &[i64]) -> Vec<sql::Arg<'static>> {
    ids.iter().map(|id| sql::Arg::from(*id)).collect()
}

/// Runs `template` once per chunk of `ids`: `lead` binds `$1…`, the
/// chunk the placeholders after them, which replace `{ids}`. The rows, or
/// the count of rows changed.
pub(in crate::store) async fn each_chunk(
    tx: &mut WriteTx,
    template: &str,
    lead: &[sql::Arg<'_>],
    ids: &[sql::Arg<'_>],
) -> Result<(Vec<sql::Row>, u64), StoreError> {
    let (mut rows, mut changed) = (Vec::new(), 0);
    let select = template.trim_start().starts_with("SELECT");
    for chunk in ids.chunks(IDS_PER_STATEMENT) {
        let text = template.replace("{ids}", &sql::placeholders(lead.len() + 1, chunk.len()));
        let mut query = sql::query(text);
        for arg in lead.iter().chain(chunk) {
            query = query.bind(arg.clone());
        }
        if select {
            rows.extend(query.fetch_all(tx).await?);
        } else {
            changed += query.execute(tx).await?;
        }
    }
    Ok((rows, changed))
}

/// The first column of every row, as ids.
pub(in crate::store) fn ids_of(rows: &[sql::Row]) -> Result<Vec<i64>, StoreError> {
    rows.iter().map(|r| r.try_get::<i64>(0)).collect()
}

pub(in crate::store) async fn select_ids(
    tx: &mut WriteTx,
    template: &str,
    lead: &[sql::Arg<'_>],
    ids: &[i64],
) -> Result<Vec<i64>, StoreError> {
    let (rows, _) = each_chunk(tx, template, lead, &ints(ids)).await?;
    ids_of(&rows)
}

pub(in crate::store) async fn change(
    tx: &mut WriteTx,
    template: &str,
    lead: &[sql::Arg<'_>],
    ids: &[i64],
) -> Result<u64, StoreError> {
    Ok(each_chunk(tx, template, lead, &ints(ids)).await?.1)
}

pub(in crate::store) fn sorted(ids: impl IntoIterator<Item = i64>) -> Vec<i64> {
    ids.into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}
