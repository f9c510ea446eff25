//! A statement written once for every backend: its text, with each backend's own placeholders,
//! and the values it binds.
//!
//! sqlx's `QueryBuilder` cannot be executed from code generic over the database (its
//! arguments' lifetime is invariant there), so shared queries are built here and bound at the
//! moment they run, by the backend ([`Backend::bind`]).

use std::marker::PhantomData;

use sqlx::{Database, Executor, FromRow, IntoArguments};

use crate::backend::{Backend, Conn};
pub use crate::value::{Value, bind_value};
use crate::{StoreError, StoreResult};

/// The text of a statement and its values, for backend `B`.
pub struct Sql<B> {
    text: String,
    values: Vec<Value>,
    backend: PhantomData<B>,
}

impl<B: Backend> Sql<B> {
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            values: Vec::new(),
            backend: PhantomData,
        }
    }

    /// Appends text.
    pub fn push(&mut self, text: impl AsRef<str>) -> &mut Self {
        self.text.push_str(text.as_ref());
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        B::placeholder(&mut self.text, self.values.len());
        self
    }

    /// Makes the statement so far a part of the one `outer` writes around it (a subquery):
    /// `outer` binds nothing, so the placeholders keep their numbers.
    pub fn wrap(&mut self, outer: impl FnOnce(&str) -> String) -> &mut Self {
        self.text = outer(&self.text);
        self
    }

    /// Appends `(v1, v2, …)` for one row of a multi-row `insert … values`, preceded by a
    /// comma unless it is the first; or, first, the list of an `in`.
    pub fn row(&mut self, first: bool, values: impl IntoIterator<Item = Value>) -> &mut Self {
        self.push(if first { "(" } else { ", (" });
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(value);
        }
        self.push(")")
    }
}

impl<B: Backend> Sql<B> {
    /// The text, with the backend's placeholders, for a backend that runs the statement by
    /// other means than sqlx.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The values the placeholders stand for, in order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }
}

impl<B: Backend> Sql<B>
where
    for<'c> &'c mut Conn<B>: Executor<'c, Database = B::Db>,
    for<'q> <B::Db as Database>::Arguments<'q>: IntoArguments<'q, B::Db>,
{
    /// The values, bound by the backend. The arguments' lifetime is chosen by the caller,
    /// which must borrow the text for no longer: so the text is declared first.
    fn arguments<'q>(values: Vec<Value>) -> StoreResult<<B::Db as Database>::Arguments<'q>> {
        let mut args = <B::Db as Database>::Arguments::default();
        for value in values {
            B::bind(&mut args, value).map_err(StoreError::Database)?;
        }
        Ok(args)
    }

    /// The text and its bound values, for a statement whose rows are read as they come.
    pub fn into_parts<'q>(self) -> StoreResult<(String, <B::Db as Database>::Arguments<'q>)> {
        let args = Self::arguments(self.values)?;
        Ok((self.text, args))
    }

    /// Runs the statement; how many rows it touched.
    pub async fn execute<'e, E>(self, executor: E) -> StoreResult<u64>
    where
        E: Executor<'e, Database = B::Db>,
    {
        let text = self.text;
        let args = Self::arguments(self.values)?;
        let done = sqlx::query_with(&text, args)
            .execute(executor)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(B::rows_affected(&done))
    }

    pub async fn fetch_all<'e, T, E>(self, executor: E) -> StoreResult<Vec<T>>
    where
        E: Executor<'e, Database = B::Db>,
        T: for<'r> FromRow<'r, <B::Db as Database>::Row> + Send + Unpin,
    {
        let text = self.text;
        let args = Self::arguments(self.values)?;
        sqlx::query_as_with(&text, args)
            .fetch_all(executor)
            .await
            .map_err(StoreError::from_sqlx)
    }

    pub async fn fetch_optional<'e, T, E>(self, executor: E) -> StoreResult<Option<T>>
    where
        E: Executor<'e, Database = B::Db>,
        T: for<'r> FromRow<'r, <B::Db as Database>::Row> + Send + Unpin,
    {
        let text = self.text;
        let args = Self::arguments(self.values)?;
        sqlx::query_as_with(&text, args)
            .fetch_optional(executor)
            .await
            .map_err(StoreError::from_sqlx)
    }
}
