//! Both backends for the store tests: a fresh SQLite file and a fresh
//! PostgreSQL database in a throwaway cluster, each with its migrations.

use super::postgres::Postgres;
use server::store::Db;
use std::time::Duration;

/// A migrated database and what must outlive it.
pub struct TestDb {
    pub db: Db,
    pub backend: &'static str,
    _dir: Option<tempfile::TempDir>,
    _cluster: Option<Postgres>,
}

/// One of each backend.
pub async fn both() -> [TestDb; 2] {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("automcp.db").display());
    let sqlite = Db::connect(&url, Duration::from_secs(1)).await.unwrap();
    let cluster = Postgres::start();
    let postgres = Db::connect(&cluster.database("automcp"), Duration::from_secs(1)).await.unwrap();
    [
        TestDb { db: sqlite, backend: "sqlite", _dir: Some(dir), _cluster: None },
        TestDb { db: postgres, backend: "postgres", _dir: None, _cluster: Some(cluster) },
    ]
}

impl TestDb {
    /// Runs a statement a scenario needs (making things expire, adding rows).
    pub async fn exec(&self, sql: &'static str, binds: &[&str]) {
        server::on_db!(&self.db, pool => {
            let mut query = sqlx::query(sql);
            for bind in binds {
                query = query.bind(*bind);
            }
            query.execute(pool).await.map(|_| ())
        })
        .unwrap_or_else(|e| panic!("{}: {sql}: {e}", self.backend));
    }
}
