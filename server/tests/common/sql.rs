//! Statements a test needs to set a scene or check what was stored, run on
//! whichever backend the app uses (SQL with `$N` placeholders).

use server::store::Db;

/// A bound value.
pub enum Bind {
    Text(String),
    Int(i64),
}

impl From<&str> for Bind {
    fn from(text: &str) -> Self {
        Bind::Text(text.to_owned())
    }
}

impl From<&String> for Bind {
    fn from(text: &String) -> Self {
        Bind::Text(text.clone())
    }
}

impl From<String> for Bind {
    fn from(text: String) -> Self {
        Bind::Text(text)
    }
}

impl From<i64> for Bind {
    fn from(value: i64) -> Self {
        Bind::Int(value)
    }
}

macro_rules! bound {
    ($query:expr, $binds:expr) => {{
        let mut query = $query;
        for bind in $binds {
            query = match bind {
                Bind::Text(text) => query.bind(text.clone()),
                Bind::Int(value) => query.bind(*value),
            };
        }
        query
    }};
}

/// Runs a statement; returns the rows it changed.
pub async fn exec(db: &Db, sql: &'static str, binds: &[Bind]) -> u64 {
    server::on_db!(db, pool => bound!(sqlx::query(sql), binds).execute(pool).await.map(|done| done.rows_affected()))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The first column of every row, as integers.
pub async fn ints(db: &Db, sql: &'static str, binds: &[Bind]) -> Vec<Option<i64>> {
    server::on_db!(db, pool => bound!(sqlx::query_scalar(sql), binds).fetch_all(pool).await)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The first column of the only row, as an integer.
pub async fn int(db: &Db, sql: &'static str, binds: &[Bind]) -> i64 {
    let rows = ints(db, sql, binds).await;
    assert_eq!(rows.len(), 1, "{sql}: one row expected");
    rows[0].unwrap_or_else(|| panic!("{sql}: null"))
}

/// The first column of every row, as text.
pub async fn texts(db: &Db, sql: &'static str, binds: &[Bind]) -> Vec<Option<String>> {
    server::on_db!(db, pool => bound!(sqlx::query_scalar(sql), binds).fetch_all(pool).await)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The first column of every row, as text, none of them null.
pub async fn strings(db: &Db, sql: &'static str, binds: &[Bind]) -> Vec<String> {
    texts(db, sql, binds).await.into_iter().map(|text| text.unwrap_or_else(|| panic!("{sql}: null"))).collect()
}
