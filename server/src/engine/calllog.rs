//! The call log: one row per tool call, written off the request path.
//!
//! Calls are sent to a background writer over a bounded channel and stored
//! in batches, together with the monthly usage counters. Rows never hold
//! arguments, results or secrets. Entries older than 14 days are pruned.

use crate::store::Db;
use crate::store::calls::CallStore;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub const RETENTION_DAYS: i64 = 14;

/// One finished tool call.
#[derive(Clone, Debug)]
pub struct CallRecord {
    pub server_id: String,
    pub owner_id: String,
    pub tool: String,
    /// Milliseconds since the Unix epoch.
    pub started_at_ms: i64,
    pub duration_ms: i64,
    pub outcome: &'static str,
    pub upstream_status: Option<u16>,
    pub error: Option<String>,
    /// `YYYY-MM` the call counts against.
    pub month: String,
    /// Whether the call counted towards the monthly quota.
    pub counted: bool,
    /// For a call made with an OAuth token: the client's name and the
    /// account that connected it.
    pub oauth_client: Option<String>,
    pub oauth_user: Option<String>,
}

/// Where call records go.
#[derive(Clone)]
pub enum CallSink {
    /// Batched into the database by a background writer.
    Db(mpsc::Sender<CallRecord>, Arc<Writer>),
    /// Logged only (standalone mode has no database).
    Log,
}

/// The background writer's controls: stop it, and know when it has written
/// everything it was given.
pub struct Writer {
    stop: CancellationToken,
    done: tokio::sync::Mutex<Option<tokio::sync::oneshot::Receiver<()>>>,
}

/// How long the writer lets records accumulate before a commit: under load
/// one transaction carries many calls instead of one each.
const GATHER: Duration = Duration::from_millis(100);

impl CallSink {
    pub fn record(&self, record: CallRecord) {
        match self {
            CallSink::Db(tx, _) => {
                if let Err(error) = tx.try_send(record) {
                    tracing::warn!(%error, "call log is backed up; a call record was dropped");
                }
            }
            CallSink::Log => tracing::info!(
                tool = %record.tool,
                outcome = record.outcome,
                duration_ms = record.duration_ms,
                upstream_status = ?record.upstream_status,
                error = ?record.error,
                "tool call"
            ),
        }
    }
}

/// Starts the writer and the pruner; returns the sink to record into.
pub fn start(db: Db) -> CallSink {
    let store = CallStore::new(db);
    let (tx, rx) = mpsc::channel(10_000);
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let writer = Arc::new(Writer { stop: CancellationToken::new(), done: tokio::sync::Mutex::new(Some(done_rx)) });
    tokio::spawn(write_loop(store.clone(), rx, writer.stop.clone(), done_tx));
    tokio::spawn(prune_loop(store));
    CallSink::Db(tx, writer)
}

impl CallSink {
    /// Writes what is still queued and stops the writer (at shutdown).
    pub async fn flush_and_stop(&self) {
        if let CallSink::Db(_, writer) = self {
            writer.stop.cancel();
            if let Some(done) = writer.done.lock().await.take() {
                let _ = done.await; // the writer dropped it: nothing more to wait for
            }
        }
    }
}

/// Records kept for a retry while the database cannot be written; past
/// this the oldest rows are dropped, but their usage counts are kept, so
/// quotas stay right.
const MAX_RETAINED: usize = 50_000;
/// Pause after a failed write before trying again.
const RETRY_PAUSE: Duration = Duration::from_secs(1);

type Usage = std::collections::BTreeMap<(String, String), i64>;

async fn write_loop(
    store: CallStore,
    mut rx: mpsc::Receiver<CallRecord>,
    stop: CancellationToken,
    done: tokio::sync::oneshot::Sender<()>,
) {
    let mut batch = Vec::with_capacity(1024);
    // Usage of records dropped while the database was unwritable.
    let mut carried = Usage::new();
    loop {
        let got = tokio::select! {
            got = rx.recv_many(&mut batch, 1024) => got,
            () = stop.cancelled() => 0,
        };
        if got == 0 && batch.is_empty() && carried.is_empty() && !stop.is_cancelled() {
            break; // every sender is gone
        }
        if !stop.is_cancelled() {
            tokio::select! {
                () = tokio::time::sleep(GATHER) => {}
                () = stop.cancelled() => {}
            }
        }
        while let Ok(record) = rx.try_recv() {
            batch.push(record);
        }
        if !batch.is_empty() || !carried.is_empty() {
            match write_batch(&store, &batch, &carried).await {
                Ok(()) => {
                    batch.clear();
                    carried.clear();
                }
                Err(error) => {
                    tracing::warn!(%error, records = batch.len(), "could not store call records; keeping them to retry");
                    shed(&mut batch, &mut carried);
                    if !stop.is_cancelled() {
                        tokio::select! {
                            () = tokio::time::sleep(RETRY_PAUSE) => {}
                            () = stop.cancelled() => {}
                        }
                    }
                }
            }
        }
        if stop.is_cancelled() {
            if !batch.is_empty() || !carried.is_empty() {
                tracing::error!(records = batch.len(), "call records could not be stored before shutdown");
            }
            break;
        }
    }
    let _ = done.send(());
}

/// Keeps the retained batch under [`MAX_RETAINED`]: the oldest records go,
/// their usage is carried.
fn shed(batch: &mut Vec<CallRecord>, carried: &mut Usage) {
    if batch.len() <= MAX_RETAINED {
        return;
    }
    let excess = batch.len() - MAX_RETAINED;
    for record in batch.drain(..excess) {
        if record.counted {
            *carried.entry((record.owner_id, record.month)).or_default() += 1;
        }
    }
    tracing::warn!(dropped = excess, "call log rows dropped while the database cannot be written (usage kept)");
}

/// Stores a batch in one transaction: the calls, and one usage update per
/// account and month (plus `carried` usage).
async fn write_batch(store: &CallStore, batch: &[CallRecord], carried: &Usage) -> sqlx::Result<()> {
    let mut usage: std::collections::BTreeMap<(&str, &str), i64> = std::collections::BTreeMap::new();
    for r in batch.iter().filter(|r| r.counted) {
        *usage.entry((r.owner_id.as_str(), r.month.as_str())).or_default() += 1;
    }
    for ((owner, month), calls) in carried {
        *usage.entry((owner.as_str(), month.as_str())).or_default() += calls;
    }
    store.write(batch, &usage).await
}

/// Deletes entries older than the retention period.
pub async fn prune(store: &CallStore) -> sqlx::Result<u64> {
    store.prune((crate::db::now() - RETENTION_DAYS * 86_400) * 1000).await
}

async fn prune_loop(store: CallStore) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        match prune(&store).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "pruned old call log entries"),
            Err(error) => tracing::error!(%error, "could not prune the call log"),
        }
    }
}
