//! The PostgreSQL test harness (Debian's server, a throwaway cluster on a
//! loopback port), and the SQL dialect the store layer will share between
//! the backends: `$N` placeholders, which both sqlx drivers bind.

mod common;

use common::postgres::Postgres;

const SHARED_SQL: &str = "select $1 + $2 as total, $3 as label";

#[tokio::test]
async fn a_throwaway_cluster_serves_the_shared_sql() {
    let pg = Postgres::start();
    let url = pg.database("smoke");
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let pg_row: (i64, String) = sqlx::query_as("select $1::bigint + $2::bigint as total, $3::text as label")
        .bind(40_i64)
        .bind(2_i64)
        .bind("pg")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(pg_row, (42, "pg".to_owned()));
    let version: String = sqlx::query_scalar("show server_version").fetch_one(&pool).await.unwrap();
    assert!(!version.is_empty());

    // The same placeholders on SQLite.
    let sqlite = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
    let sqlite_row: (i64, String) =
        sqlx::query_as(SHARED_SQL).bind(40_i64).bind(2_i64).bind("sqlite").fetch_one(&sqlite).await.unwrap();
    assert_eq!(sqlite_row, (42, "sqlite".to_owned()));
    pool.close().await;
}
