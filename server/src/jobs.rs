//! The durable job queue and its workers.
//!
//! A job row is claimed by one instance (its id in `claimed_by`); the
//! instance's heartbeat (see [`crate::db::health`]) keeps the claim alive.
//! When a process dies, its heartbeat goes stale within seconds and any
//! worker takes its jobs over; on SIGTERM a worker stops its job and hands
//! it back at once. A job is finished only by the claim that holds it, so a
//! job taken over (or discarded) never stores a second result.
//!
//! Several workers run at once, fairly: a claim prefers the account with the
//! fewest jobs running, and no account may hold more than all workers but
//! one. How many jobs an account may have queued is limited too.

use crate::db::health::{Health, STALE_AFTER_MS};
use crate::db::{now, now_ms};
use crate::error::ResultExt;
use crate::store::jobs::{ClaimRule, Enqueued, JobState, JobStore};
use crate::store::{Db, Tx};
use app::model::AppError;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// After this many claims, a job that keeps being interrupted fails.
pub const MAX_ATTEMPTS: i64 = 3;
/// Jobs (queued or running) one account may have at once.
pub const MAX_OPEN_PER_ACCOUNT: i64 = 5;
/// How often an idle worker looks for jobs whose holder died.
const POLL: Duration = Duration::from_secs(1);
/// How often a running job checks it is still its worker's to run.
const OWNERSHIP_CHECK: Duration = Duration::from_secs(1);

/// What a job is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// Proposing tools for a wizard.
    Wizard(String),
    /// An operation on a machine (deploy, rollback, stop, start, remove).
    Operation(String),
}

/// A job this instance holds.
#[derive(Clone, Debug)]
pub struct Claim {
    pub job_id: String,
    pub subject: Subject,
    pub owner_id: String,
    /// How many times it was claimed, this time included.
    pub attempts: i64,
}

/// How a job ended.
pub enum Finish {
    Succeeded,
    Failed(String),
}

/// What the workers run: given a claim and a token that is cancelled when
/// the job must stop (shutdown, discarded, taken over), does the work and
/// stores its result through [`Queue::close`].
pub type Handler = Arc<dyn Fn(Claim, CancellationToken) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

#[derive(Clone)]
pub struct Queue {
    jobs: JobStore,
    health: Arc<Health>,
    wake: Arc<Notify>,
    workers: usize,
    stop: CancellationToken,
    running: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Queue {
    pub fn new(db: Db, health: Arc<Health>, workers: usize) -> Self {
        Queue {
            jobs: JobStore::new(db),
            health,
            wake: Arc::new(Notify::new()),
            workers: workers.max(1),
            stop: CancellationToken::new(),
            running: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Jobs one account may have running at once: every worker but one, so
    /// another account's job always finds a worker.
    pub fn per_account_running(&self) -> i64 {
        (self.workers.max(2) - 1) as i64
    }

    fn me(&self) -> &str {
        &self.health.instance().id
    }

    /// Queues a generation job for `wizard_id` inside `tx`.
    pub async fn enqueue(&self, tx: &mut Tx, wizard_id: &str, owner_id: &str) -> Result<(), AppError> {
        let open = self.jobs.open_for(tx, owner_id).await.or_internal("count open jobs")?;
        if open >= MAX_OPEN_PER_ACCOUNT {
            return Err(AppError::throttled(
                format!(
                    "you already have {open} wizards proposing tools, the most at once; wait for one to finish or \
                     discard one"
                ),
                10,
            ));
        }
        match self.jobs.enqueue(tx, wizard_id, owner_id, now()).await.or_internal("enqueue job")? {
            Enqueued::Done => Ok(()),
            Enqueued::AlreadyOpen => {
                Err(AppError::conflict("wizard_step", "tools are already being generated for this wizard"))
            }
        }
    }

    /// Queues the job that runs operation `operation_id`, inside `tx`.
    pub async fn enqueue_operation(&self, tx: &mut Tx, operation_id: &str, owner_id: &str) -> Result<(), AppError> {
        self.jobs.enqueue_operation(tx, operation_id, owner_id, now()).await.or_internal("enqueue operation")
    }

    /// Wakes a worker (after the enqueuing transaction committed).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Claims the next job, fairly: queued jobs and jobs whose holder is
    /// gone, from the account with the fewest jobs running, oldest first.
    pub async fn claim(&self, lease: Duration) -> Result<Option<Claim>, AppError> {
        let time = now();
        let rule = ClaimRule {
            me: self.me(),
            now: time,
            lease_until: time + lease.as_secs() as i64,
            alive_since_ms: now_ms() - STALE_AFTER_MS,
            per_account: self.per_account_running(),
        };
        let Some(row) = self.jobs.claim(&rule).await.or_internal("claim job")? else { return Ok(None) };
        let subject = match (row.wizard_id, row.operation_id) {
            (Some(wizard), _) => Subject::Wizard(wizard),
            (None, Some(operation)) => Subject::Operation(operation),
            (None, None) => return Err(AppError::internal(format!("job `{}` is for nothing", row.id))),
        };
        Ok(Some(Claim { job_id: row.id, subject, owner_id: row.owner_id.unwrap_or_default(), attempts: row.attempts }))
    }

    /// Whether this instance still holds `claim` (not discarded, not taken over).
    pub async fn still_held(&self, claim: &Claim) -> Result<bool, AppError> {
        let holder = self.jobs.holder(&claim.job_id).await.or_internal("check job")?;
        Ok(matches!(holder, Some((JobState::Running, Some(by))) if by == self.me()))
    }

    /// Gives a job back to the queue untouched (at shutdown): the next
    /// worker, here or elsewhere, starts it again at once.
    pub async fn hand_back(&self, claim: &Claim) -> Result<(), AppError> {
        self.jobs.hand_back(&claim.job_id, self.me(), now()).await.or_internal("hand back job")?;
        Ok(())
    }

    /// Records how a job ended, inside `tx`, if this instance still holds
    /// it. `false`: it does not (discarded or taken over), and the caller
    /// must store nothing.
    pub async fn close(&self, tx: &mut Tx, claim: &Claim, finish: &Finish) -> Result<bool, AppError> {
        let (state, error) = match finish {
            Finish::Succeeded => (JobState::Succeeded, None),
            Finish::Failed(error) => (JobState::Failed, Some(error.as_str())),
        };
        self.jobs.close(tx, &claim.job_id, self.me(), state, error, now()).await.or_internal("close job")
    }

    /// Starts the workers; each runs one job at a time with `handler`.
    pub fn start(&self, lease: Duration, handler: Handler) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        for _ in 0..self.workers {
            running.push(tokio::spawn(self.clone().work(lease, handler.clone())));
        }
    }

    async fn work(self, lease: Duration, handler: Handler) {
        while !self.stop.is_cancelled() {
            // While the database cannot be written there is nothing to claim.
            let claimed = if self.health.writable().is_err() { None } else { self.claim_logged(lease).await };
            match claimed {
                Some(claim) => self.run(claim, lease, &handler).await,
                None => {
                    tokio::select! {
                        () = self.wake.notified() => {}
                        () = tokio::time::sleep(POLL) => {}
                        () = self.stop.cancelled() => {}
                    }
                }
            }
        }
    }

    async fn claim_logged(&self, lease: Duration) -> Option<Claim> {
        match self.claim(lease).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(%error, "the job worker could not claim a job");
                None
            }
        }
    }

    async fn run(&self, claim: Claim, lease: Duration, handler: &Handler) {
        tracing::info!(job_id = %claim.job_id, subject = ?claim.subject, attempts = claim.attempts, "job claimed");
        let cancel = self.stop.child_token();
        let lost = self.watch_ownership(&claim, lease, cancel.clone());
        handler(claim.clone(), cancel.clone()).await;
        lost.abort();
        if self.stop.is_cancelled() && self.still_held(&claim).await.unwrap_or(false) {
            match self.hand_back(&claim).await {
                Ok(()) => tracing::info!(job_id = %claim.job_id, "job handed back at shutdown"),
                Err(error) => tracing::warn!(job_id = %claim.job_id, %error, "could not hand the job back"),
            }
        }
    }

    /// Renews the job's lease while it runs, and cancels `cancel` when the
    /// job is no longer this instance's (the wizard was discarded, or another
    /// instance took the job over).
    fn watch_ownership(
        &self,
        claim: &Claim,
        lease: Duration,
        cancel: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let (this, claim) = (self.clone(), claim.clone());
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = tokio::time::sleep(OWNERSHIP_CHECK) => {}
                    () = cancel.cancelled() => return,
                }
                // A storage fault is not a loss of the job: keep going.
                let until = now() + lease.as_secs() as i64;
                if let Ok(false) = this.jobs.renew(&claim.job_id, this.me(), until).await {
                    tracing::info!(job_id = %claim.job_id, "the job was discarded or taken over; stopping it");
                    cancel.cancel();
                    return;
                }
            }
        })
    }

    /// Stops the workers: running jobs are cancelled and handed back.
    pub async fn shutdown(&self) {
        self.stop.cancel();
        let handles: Vec<_> = std::mem::take(&mut *self.running.lock().unwrap_or_else(|e| e.into_inner()));
        for handle in handles {
            let _ = handle.await;
        }
    }
}
