//! Rows a statement of a write transaction returned, read the same way
//! from either backend.

use rusqlite::types::Value;
use sqlx::Any;

use crate::store::StoreError;

/// A row a statement returned.
pub(in crate::store) struct Row(pub(super) RowInner);

pub(super) enum RowInner {
    Any(sqlx::any::AnyRow),
    Sqlite(Vec<Value>),
}

impl Row {
    /// Column `index`, as `T`.
    pub(in crate::store) fn try_get<T: Column>(&self, index: usize) -> Result<T, StoreError> {
        match &self.0 {
            RowInner::Any(row) => Ok(sqlx::Row::try_get(row, index)?),
            RowInner::Sqlite(values) => {
                let value = values.get(index).ok_or_else(|| {
                    StoreError::Other(format!("no column {index} in a row of {}", values.len()))
                })?;
                T::from_sqlite(value).ok_or_else(|| {
                    StoreError::Other(format!(
                        "column {index} holds {:?}, not {}",
                        value.data_type(),
                        std::any::type_name::<T>()
                    ))
                })
            }
        }
    }
}

impl Row {
    /// Column `index`, a word of a closed set (a status, an outcome).
    pub(in crate::store) fn named<T: crate::model::Named>(
        &self,
        index: usize,
    ) -> Result<T, StoreError> {
        Ok(crate::model::parse_named(&self.try_get::<String>(index)?)?)
    }
}

/// A type a column is read as.
pub(in crate::store) trait Column:
    Sized + for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any>
{
    fn from_sqlite(value: &Value) -> Option<Self>;
}

impl Column for i64 {
    fn from_sqlite(value: &Value) -> Option<Self> {
        match value {
            Value::Integer(v) => Some(*v),
            _ => None,
        }
    }
}

impl Column for String {
    fn from_sqlite(value: &Value) -> Option<Self> {
        match value {
            Value::Text(v) => Some(v.clone()),
            _ => None,
        }
    }
}

impl Column for Vec<u8> {
    fn from_sqlite(value: &Value) -> Option<Self> {
        match value {
            Value::Blob(v) => Some(v.clone()),
            _ => None,
        }
    }
}

impl<T: Column> Column for Option<T> {
    fn from_sqlite(value: &Value) -> Option<Self> {
        match value {
            Value::Null => Some(None),
            other => T::from_sqlite(other).map(Some),
        }
    }
}
