//! Which database errors (SQLite result codes, PostgreSQL SQLSTATEs) mean "the
//! database cannot serve right now" (a full disk, a lock held elsewhere, an
//! I/O error, the server gone) rather than a bug: those are
//! answered with 503 and a `Retry-After`, and the service recovers by itself.

use std::fmt;

/// A storage fault: not the request's fault, and not permanent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Another process (or a long transaction) holds the write lock.
    Busy,
    /// The disk (or the database's quota) is full.
    Full,
    /// The database file or directory cannot be written.
    ReadOnly,
    /// The storage reported an I/O error.
    Io,
    /// No connection could be had in time, or the database is gone.
    Unreachable,
}

impl Fault {
    /// The reason as `/healthz` and the logs give it.
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Busy => "locked",
            Fault::Full => "disk_full",
            Fault::ReadOnly => "read_only",
            Fault::Io => "io_error",
            Fault::Unreachable => "unreachable",
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// SQLite primary result codes (the low byte of an extended code).
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
const SQLITE_NOMEM: i64 = 7;
const SQLITE_READONLY: i64 = 8;
const SQLITE_IOERR: i64 = 10;
const SQLITE_FULL: i64 = 13;
const SQLITE_CANTOPEN: i64 = 14;
const SQLITE_PROTOCOL: i64 = 15;

/// The fault behind `error`, or `None` for an error that is not a storage
/// fault (a constraint, a bug in a query, a row that does not decode).
pub fn classify(error: &sqlx::Error) -> Option<Fault> {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => Some(Fault::Unreachable),
        sqlx::Error::Io(_) => Some(Fault::Io),
        sqlx::Error::Database(db) => {
            if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                return classify_sqlstate(pg.code());
            }
            db.try_downcast_ref::<sqlx::sqlite::SqliteError>()?;
            let code: i64 = db.code()?.parse().ok()?;
            match code & 0xff {
                SQLITE_BUSY | SQLITE_LOCKED | SQLITE_PROTOCOL => Some(Fault::Busy),
                SQLITE_FULL => Some(Fault::Full),
                SQLITE_READONLY => Some(Fault::ReadOnly),
                SQLITE_IOERR | SQLITE_NOMEM => Some(Fault::Io),
                SQLITE_CANTOPEN => Some(Fault::Unreachable),
                _ => None,
            }
        }
        _ => None,
    }
}

/// PostgreSQL's SQLSTATE codes that are storage faults (appendix A of its manual).
fn classify_sqlstate(code: &str) -> Option<Fault> {
    match code {
        "53100" => Some(Fault::Full),
        "25006" => Some(Fault::ReadOnly),
        // lock_not_available, deadlock, serialization failure, statement timeout
        "55P03" | "40P01" | "40001" | "57014" => Some(Fault::Busy),
        // io_error, data corrupted, index corrupted, out of memory
        "58030" | "XX001" | "XX002" | "53200" => Some(Fault::Io),
        // too many connections, shutting down, cannot connect now, connection exceptions
        "53300" | "57P01" | "57P02" | "57P03" => Some(Fault::Unreachable),
        _ if code.starts_with("08") => Some(Fault::Unreachable),
        _ => None,
    }
}

/// [`classify`] for any error: finds a `sqlx::Error` in it, if there is one.
pub fn classify_any(error: &(dyn std::any::Any + 'static)) -> Option<Fault> {
    if let Some(error) = error.downcast_ref::<sqlx::Error>() {
        return classify(error);
    }
    error.downcast_ref::<anyhow::Error>().and_then(|e| e.downcast_ref::<sqlx::Error>()).and_then(classify)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_and_io_errors_are_faults_and_decode_errors_are_not() {
        assert_eq!(classify(&sqlx::Error::PoolTimedOut), Some(Fault::Unreachable));
        assert_eq!(classify(&sqlx::Error::Io(std::io::Error::other("x"))), Some(Fault::Io));
        assert_eq!(classify(&sqlx::Error::RowNotFound), None);
        assert_eq!(classify_any(&sqlx::Error::PoolTimedOut), Some(Fault::Unreachable));
        assert_eq!(classify_any(&"text"), None);
    }

    #[test]
    fn postgres_sqlstates_are_read_as_postgres_codes() {
        assert_eq!(classify_sqlstate("53100"), Some(Fault::Full));
        assert_eq!(classify_sqlstate("25006"), Some(Fault::ReadOnly));
        assert_eq!(classify_sqlstate("57014"), Some(Fault::Busy));
        assert_eq!(classify_sqlstate("08006"), Some(Fault::Unreachable));
        assert_eq!(classify_sqlstate("23505"), None, "a unique violation is not a fault");
        assert_eq!(classify_sqlstate("42P01"), None, "a bug in a query is not a fault");
    }
}
