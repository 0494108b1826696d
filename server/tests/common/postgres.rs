//! A real PostgreSQL for the tests: Debian's `postgresql` package, a fresh
//! cluster (`initdb`) in a temporary directory, listening on a free loopback
//! port (its socket in that directory too), stopped when dropped. Run as
//! root (CI containers), the server runs as the `postgres` user, since
//! PostgreSQL refuses to run as root.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Postgres {
    pub port: u16,
    bin: PathBuf,
    dir: tempfile::TempDir,
}

/// The newest `/usr/lib/postgresql/<version>/bin`.
fn bin_dir() -> PathBuf {
    let mut versions: Vec<u32> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("Debian's postgresql package is installed (run .ci/setup)")
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    versions.sort();
    let version = versions.last().expect("a PostgreSQL version under /usr/lib/postgresql");
    PathBuf::from(format!("/usr/lib/postgresql/{version}/bin"))
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0).unwrap_or(false)
}

impl Postgres {
    pub fn start() -> Self {
        let dir = tempfile::Builder::new().prefix("automcp-pg").tempdir().unwrap();
        let bin = bin_dir();
        let port = super::interop::free_port();
        let pg = Postgres { port, bin, dir };
        if is_root() {
            let status = Command::new("chown").args(["-R", "postgres:postgres"]).arg(pg.dir.path()).status().unwrap();
            assert!(status.success(), "chown the cluster directory to postgres");
        }
        let data = pg.dir.path().join("data");
        pg.run("initdb", &["-D", path(&data), "-U", "automcp", "--auth=trust", "-E", "UTF8", "--no-sync"]);
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=200",
            path(pg.dir.path())
        );
        let log = pg.dir.path().join("server.log");
        pg.run("pg_ctl", &["-D", path(&data), "-o", &options, "-l", path(&log), "-w", "-t", "30", "start"]);
        pg
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let program = self.bin.join(tool);
        let output = if is_root() {
            Command::new("runuser").args(["-u", "postgres", "--"]).arg(&program).args(args).output()
        } else {
            Command::new(&program).args(args).output()
        }
        .unwrap_or_else(|e| panic!("{tool} runs: {e}"));
        assert!(
            output.status.success(),
            "{tool} {args:?} failed: {}{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
        );
    }

    /// Creates a database; returns its URL.
    pub fn database(&self, name: &str) -> String {
        let port = self.port.to_string();
        self.run("createdb", &["-h", "127.0.0.1", "-p", &port, "-U", "automcp", name]);
        self.url(name)
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://automcp@127.0.0.1:{}/{database}", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let program = self.bin.join("pg_ctl");
        let args = ["-D", path(&data), "-m", "immediate", "stop"];
        let _ = if is_root() {
            Command::new("runuser").args(["-u", "postgres", "--"]).arg(&program).args(args).output()
        } else {
            Command::new(&program).args(args).output()
        };
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

/// Creates database `name` on the server at `base` (`postgres://user@host:port`).
pub async fn create_database(base: &str, name: &str) {
    use sqlx::Connection;
    let url = format!("{}/postgres", base.trim_end_matches('/'));
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap_or_else(|e| panic!("connect to {url}: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}"))).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}
