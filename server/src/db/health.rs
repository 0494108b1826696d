//! Whether the database can take writes, known at all times.
//!
//! A monitor writes this process's heartbeat (its row in `instances`) every
//! second on a connection of its own with a short busy timeout, so a lock
//! held elsewhere, a full disk or an I/O error shows within a second or so.
//! Requests that hit a storage fault report it at once (see [`report`]).
//! While the database cannot be written, requests that would write are
//! answered 503 with `Retry-After` at once instead of each waiting for a
//! lock; reads go on. The monitor keeps probing, with a write of a few pages,
//! and opens the gate again by itself when writes succeed.
//!
//! The heartbeat doubles as this process's liveness for the job queue: a
//! job held by an instance whose heartbeat is stale is taken over.

use super::fault::{Fault, classify};
use super::now_ms;
use crate::store::Db;
use crate::store::health::{Beat, ProbeConnection};
use app::model::AppError;
use serde::Serialize;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the heartbeat is written while all is well.
pub const HEARTBEAT: Duration = Duration::from_secs(1);
/// How often a degraded database is probed.
const RECOVERY_PROBE: Duration = Duration::from_millis(500);
/// An instance whose heartbeat is older than this is taken for dead.
pub const STALE_AFTER_MS: i64 = 5_000;
/// How long the probe waits for a lock before calling the database locked.
const PROBE_BUSY_TIMEOUT: Duration = Duration::from_millis(250);
/// What a recovery probe writes (and removes again): a few pages, so a disk
/// with room for a heartbeat but not for real work does not count as healthy.
const RECOVERY_PROBE_BYTES: usize = 32 * 1024;
/// How long a probe's result answers `/healthz`.
const FRESH_FOR: Duration = Duration::from_millis(250);
/// Seconds clients are told to wait.
pub const RETRY_AFTER_SECS: u32 = 2;

/// What `/healthz` says about the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DbState {
    Ok,
    /// Reads work, writes do not.
    ReadOnly,
    /// Not even reads work.
    Unavailable,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status {
    pub database: DbState,
    /// Why, when not `ok`.
    pub fault: Option<Fault>,
    /// Since when (milliseconds since the epoch).
    pub since_ms: i64,
}

/// This process, as the job queue knows it.
#[derive(Clone, Debug)]
pub struct Instance {
    pub id: String,
    pub host: String,
    pub pid: u32,
    pub started_at_ms: i64,
}

impl Instance {
    fn new() -> Self {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_else(|_| "unknown".into());
        Instance { id: uuid::Uuid::now_v7().to_string(), host, pid: std::process::id(), started_at_ms: now_ms() }
    }
}

pub struct Health {
    db: Db,
    instance: Instance,
    probe: tokio::sync::Mutex<Option<ProbeConnection>>,
    status: RwLock<Status>,
    probed_at: RwLock<Option<std::time::Instant>>,
    stop: CancellationToken,
}

tokio::task_local! {
    /// The health of the database the current request uses.
    static CURRENT: Arc<Health>;
}

/// Runs `work` with `health` as the one [`report`] tells about faults.
pub async fn scope<F: std::future::Future>(health: Arc<Health>, work: F) -> F::Output {
    CURRENT.scope(health, work).await
}

/// Tells the current request's [`Health`] (if any) that the database failed
/// with `fault`: the write gate closes at once.
pub fn report(fault: Fault) {
    let _ = CURRENT.try_with(|health| health.degrade(fault));
}

impl Health {
    pub fn new(db: Db) -> Arc<Self> {
        Arc::new(Health {
            db,
            instance: Instance::new(),
            probe: tokio::sync::Mutex::new(None),
            status: RwLock::new(Status { database: DbState::Ok, fault: None, since_ms: now_ms() }),
            probed_at: RwLock::new(None),
            stop: CancellationToken::new(),
        })
    }

    pub fn instance(&self) -> &Instance {
        &self.instance
    }

    pub fn status(&self) -> Status {
        *self.status.read().unwrap_or_else(|e| e.into_inner())
    }

    /// `Ok` while writes work; otherwise the 503 to answer with.
    pub fn writable(&self) -> Result<(), AppError> {
        let status = self.status();
        match status.database {
            DbState::Ok => Ok(()),
            _ => Err(unavailable(status.fault.unwrap_or(Fault::Unreachable))),
        }
    }

    /// Marks the database as not writable (the monitor decides when it is again).
    pub fn degrade(&self, fault: Fault) {
        let state = if fault == Fault::Unreachable { DbState::Unavailable } else { DbState::ReadOnly };
        self.set(state, Some(fault));
    }

    fn set(&self, database: DbState, fault: Option<Fault>) {
        let mut status = self.status.write().unwrap_or_else(|e| e.into_inner());
        if status.database == database && status.fault == fault {
            return;
        }
        match database {
            DbState::Ok => tracing::info!(was = ?status.database, "the database takes writes again"),
            _ => tracing::warn!(state = ?database, fault = ?fault, "the database cannot take writes"),
        }
        *status = Status { database, fault, since_ms: now_ms() };
    }

    /// Starts the heartbeat and probe loop.
    pub fn spawn(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                let status = this.probe().await;
                let pause = if status.database == DbState::Ok { HEARTBEAT } else { RECOVERY_PROBE };
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    () = this.stop.cancelled() => break,
                }
            }
        })
    }

    /// The status from a probe at most [`FRESH_FOR`] old (probing now if
    /// needed), for `/healthz`: however often it is asked, it probes at most
    /// a few times a second.
    pub async fn recent_status(&self) -> Status {
        let fresh = self.probed_at.read().unwrap_or_else(|e| e.into_inner()).is_some_and(|at| at.elapsed() < FRESH_FOR);
        if fresh { self.status() } else { self.probe().await }
    }

    /// Probes now: writes the heartbeat (plus a few pages while degraded),
    /// and when that fails, tries a read to tell read-only from unavailable.
    pub async fn probe(&self) -> Status {
        let degraded = self.status().database != DbState::Ok;
        *self.probed_at.write().unwrap_or_else(|e| e.into_inner()) = Some(std::time::Instant::now());
        let outcome = tokio::time::timeout(Duration::from_secs(2), self.write_probe(degraded)).await;
        match outcome {
            Ok(Ok(())) => self.set(DbState::Ok, None),
            Ok(Err(fault)) => self.set(self.read_state().await, Some(fault)),
            Err(_) => {
                *self.probe.lock().await = None;
                self.set(self.read_state().await, Some(Fault::Busy));
            }
        }
        self.status()
    }

    async fn write_probe(&self, with_pages: bool) -> Result<(), Fault> {
        let mut slot = self.probe.lock().await;
        if slot.is_none() {
            let conn = self.db.probe_connection(PROBE_BUSY_TIMEOUT).await;
            *slot = Some(conn.map_err(|e| classify(&e).unwrap_or(Fault::Unreachable))?);
        }
        let conn = slot.as_mut().expect("just connected");
        let beat = Beat {
            instance_id: &self.instance.id,
            host: &self.instance.host,
            pid: i64::from(self.instance.pid),
            started_at_ms: self.instance.started_at_ms,
            now_ms: now_ms(),
            scratch_bytes: if with_pages { RECOVERY_PROBE_BYTES } else { 0 },
        };
        let result = conn.beat(&beat).await;
        if let Err(error) = &result {
            tracing::debug!(%error, "database probe failed");
            // Start from a fresh connection next time: nothing half-done survives.
            if let Some(conn) = slot.take() {
                let _ = conn.close_hard().await;
            }
        }
        result.map_err(|e| classify(&e).unwrap_or(Fault::Io))
    }

    async fn read_state(&self) -> DbState {
        let read = self.db.read_instances();
        match tokio::time::timeout(Duration::from_secs(1), read).await {
            Ok(Ok(_)) => DbState::ReadOnly,
            _ => DbState::Unavailable,
        }
    }

    /// Stops the monitor and removes this instance's heartbeat (so its jobs,
    /// already handed back, are not waited for).
    pub async fn stop(&self) {
        self.stop.cancel();
        let removed = self.db.remove_instance(&self.instance.id).await;
        if let Err(error) = removed {
            tracing::warn!(%error, "could not remove this instance's heartbeat; it expires by itself");
        }
        if let Some(conn) = self.probe.lock().await.take() {
            let _ = conn.close().await;
        }
    }
}

/// The 503 for a storage fault.
pub fn unavailable(fault: Fault) -> AppError {
    let why = match fault {
        Fault::Busy => "the database is locked by another process",
        Fault::Full => "the disk is full",
        Fault::ReadOnly => "the database cannot be written",
        Fault::Io => "the storage reports I/O errors",
        Fault::Unreachable => "the database cannot be reached",
    };
    AppError::unavailable(
        format!("AutoMCP cannot save changes right now ({why}); try again in a few seconds"),
        RETRY_AFTER_SECS,
    )
}
