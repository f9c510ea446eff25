//! How many users a search lexeme covers, from PostgreSQL's own statistics on the search
//! vector (the most common lexemes and their frequencies, kept by `ANALYZE`), so the search
//! can choose its plan before touching the index. Read at most once a minute per process, and
//! again after a large load; an estimate only ever chooses a plan, never an answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rollcall_store::StoreResult;
use sqlx::PgPool;

use crate::db_error;

/// How long statistics read from the catalog are used before being read again.
const FRESH_FOR: Duration = Duration::from_mins(1);

/// Lexeme frequencies of `user_account.search_vector`.
#[derive(Debug, Default)]
pub(crate) struct LexemeStats {
    /// The table's rows, as the planner last counted them.
    rows: f64,
    /// The share of rows holding each of the most common lexemes.
    frequency: HashMap<String, f64>,
    /// The lowest share listed: a lexeme not listed holds less.
    floor: f64,
}

impl LexemeStats {
    pub(crate) fn rows(&self) -> f64 {
        self.rows
    }

    /// The users holding `lexeme`: a lexeme not listed is taken at half the lowest share
    /// listed, as PostgreSQL's own planner takes it (a table never analysed: none).
    pub(crate) fn users(&self, lexeme: &str) -> f64 {
        self.frequency
            .get(lexeme)
            .copied()
            .unwrap_or(self.floor / 2.0)
            * self.rows
    }

    /// Statistics as `ANALYZE` would leave them: `rows`, the share of each listed lexeme, and
    /// the lowest share listed.
    #[cfg(test)]
    pub(crate) fn of(rows: f64, frequency: &[(&str, f64)], floor: f64) -> Self {
        Self {
            rows,
            frequency: frequency
                .iter()
                .map(|(lexeme, share)| ((*lexeme).to_owned(), *share))
                .collect(),
            floor,
        }
    }
}

/// The statistics last read, and when.
#[derive(Debug, Default)]
pub(crate) struct StatsCache {
    read: Mutex<Option<(Instant, Arc<LexemeStats>)>>,
}

impl StatsCache {
    /// The statistics, read again when older than a minute.
    /// Two requests that find them stale together both read them: a catalog read, no harm.
    pub(crate) async fn get(&self, pool: &PgPool) -> StoreResult<Arc<LexemeStats>> {
        if let Some((at, stats)) = self.lock().as_ref()
            && at.elapsed() < FRESH_FOR
        {
            return Ok(stats.clone());
        }
        let stats = Arc::new(read_stats(pool).await?);
        *self.lock() = Some((Instant::now(), stats.clone()));
        Ok(stats)
    }

    /// Forgets what was read (after a large load, whose `ANALYZE` changed them).
    pub(crate) fn forget(&self) {
        *self.lock() = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(Instant, Arc<LexemeStats>)>> {
        // What a panicking holder left is a whole value or none: still usable.
        self.read.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The table's rows, its most common lexemes and their frequencies (none before `ANALYZE`).
type CatalogRow = (f32, Option<Vec<String>>, Option<Vec<f32>>);

async fn read_stats(pool: &PgPool) -> StoreResult<LexemeStats> {
    let row: Option<CatalogRow> = sqlx::query_as(
        "select c.reltuples, s.most_common_elems::text::text[], s.most_common_elem_freqs
           from pg_class c
           left join pg_stats s on s.schemaname = current_schema()
                and s.tablename = 'user_account' and s.attname = 'search_vector'
          where c.oid = 'user_account'::regclass",
    )
    .fetch_optional(pool)
    .await
    .map_err(db_error)?;
    let Some((rows, Some(lexemes), Some(freqs))) = row else {
        return Ok(LexemeStats::default());
    };
    // The frequencies list each lexeme's, then the lowest, the highest and the share of
    // empty vectors.
    let floor = freqs.get(lexemes.len()).copied().unwrap_or(0.0);
    Ok(LexemeStats {
        rows: f64::from(rows.max(0.0)),
        frequency: lexemes
            .into_iter()
            .zip(freqs.iter().map(|f| f64::from(*f)))
            .collect(),
        floor: f64::from(floor),
    })
}
