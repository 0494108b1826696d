//! The job queue's SQL: enqueue (inside the caller's transaction), a fair
//! claim, the holder check, hand-back and close.

use super::{Db, Tx};
use crate::{on_db, on_tx};

/// A claimed job: for a wizard (a generation) or for an operation on a machine.
#[derive(sqlx::FromRow, Debug)]
pub struct ClaimRow {
    pub id: String,
    pub wizard_id: Option<String>,
    pub operation_id: Option<String>,
    pub owner_id: Option<String>,
    pub attempts: i64,
}

/// How a claim is decided.
pub struct ClaimRule<'a> {
    /// This instance.
    pub me: &'a str,
    pub now: i64,
    pub lease_until: i64,
    /// Instances whose heartbeat is older than this (ms) are gone.
    pub alive_since_ms: i64,
    /// Jobs one account may have running at once.
    pub per_account: i64,
}

/// Where a job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "succeeded" => JobState::Succeeded,
            _ => JobState::Failed,
        }
    }
}

/// Why an insert did not happen.
#[derive(Debug, PartialEq, Eq)]
pub enum Enqueued {
    Done,
    /// The wizard already has an open job.
    AlreadyOpen,
}

/// The claim: queued jobs, and running ones whose holder is gone or whose
/// lease passed, from the account with the fewest live jobs, oldest first.
/// `{lock}` is PostgreSQL's row lock, so concurrent replicas skip each
/// other's candidates instead of waiting.
macro_rules! claim_sql {
    ($lock:literal) => {
        concat!(
            "with live as (
                 select r.owner_id, count(*) as n from jobs r join instances i on i.id = r.claimed_by
                 where r.state = 'running' and r.lease_until >= $1 and i.heartbeat_at >= $2
                 group by r.owner_id)
             update jobs set state = 'running', attempts = attempts + 1, claimed_by = $3, lease_until = $4,
                             updated_at = $5
             where id = (
                 select j.id from jobs j left join live on live.owner_id = j.owner_id
                 where (j.state = 'queued'
                        or (j.state = 'running' and (j.lease_until < $6 or not exists (
                                select 1 from instances i where i.id = j.claimed_by and i.heartbeat_at >= $7))))
                   and coalesce(live.n, 0) < $8
                 order by coalesce(live.n, 0), j.created_at
                 limit 1 ",
            $lock,
            ")
             returning id, wizard_id, operation_id, owner_id, attempts"
        )
    };
}

#[derive(Clone)]
pub struct JobStore {
    db: Db,
}

impl JobStore {
    pub fn new(db: Db) -> Self {
        JobStore { db }
    }

    /// Jobs queued or running for an account.
    pub async fn open_for(&self, tx: &mut Tx, owner_id: &str) -> sqlx::Result<i64> {
        on_tx!(tx, conn => sqlx::query_scalar(
            "select count(*) from jobs where owner_id = $1 and state in ('queued', 'running')",
        )
        .bind(owner_id)
        .fetch_one(conn)
        .await)
    }

    /// Queues a job unless the wizard has an open one. The partial unique
    /// index decides, without an error: on PostgreSQL an error would abort
    /// the caller's transaction.
    pub async fn enqueue(&self, tx: &mut Tx, wizard_id: &str, owner_id: &str, at: i64) -> sqlx::Result<Enqueued> {
        let inserted = on_tx!(tx, conn => sqlx::query(
            "insert into jobs (id, kind, wizard_id, owner_id, state, attempts, created_at, updated_at)
             values ($1, 'generate', $2, $3, 'queued', 0, $4, $5)
             on conflict (wizard_id) where state in ('queued', 'running') do nothing",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(wizard_id)
        .bind(owner_id)
        .bind(at)
        .bind(at)
        .execute(conn)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(if inserted == 1 { Enqueued::Done } else { Enqueued::AlreadyOpen })
    }

    /// Queues the job that runs operation `operation_id`.
    pub async fn enqueue_operation(
        &self,
        tx: &mut Tx,
        operation_id: &str,
        owner_id: &str,
        at: i64,
    ) -> sqlx::Result<()> {
        on_tx!(tx, conn => sqlx::query(
            "insert into jobs (id, kind, operation_id, owner_id, state, attempts, created_at, updated_at)
             values ($1, 'operation', $2, $3, 'queued', 0, $4, $4)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(operation_id)
        .bind(owner_id)
        .bind(at)
        .execute(conn)
        .await
        .map(drop))
    }

    /// Extends the lease of a job `me` still holds; `false`: it does not.
    pub async fn renew(&self, job_id: &str, me: &str, lease_until: i64) -> sqlx::Result<bool> {
        on_db!(&self.db, pool => sqlx::query(
            "update jobs set lease_until = $1 where id = $2 and state = 'running' and claimed_by = $3",
        )
        .bind(lease_until)
        .bind(job_id)
        .bind(me)
        .execute(pool)
        .await
        .map(|done| done.rows_affected() == 1))
    }

    /// Claims the next job for `rule.me`, if any.
    pub async fn claim(&self, rule: &ClaimRule<'_>) -> sqlx::Result<Option<ClaimRow>> {
        macro_rules! run {
            ($sql:expr, $pool:expr) => {
                sqlx::query_as($sql)
                    .bind(rule.now)
                    .bind(rule.alive_since_ms)
                    .bind(rule.me)
                    .bind(rule.lease_until)
                    .bind(rule.now)
                    .bind(rule.now)
                    .bind(rule.alive_since_ms)
                    .bind(rule.per_account)
                    .fetch_optional($pool)
                    .await
            };
        }
        match &self.db {
            Db::Sqlite(pool) => run!(claim_sql!(""), pool),
            Db::Postgres(pool) => run!(claim_sql!("for update of j skip locked"), pool),
        }
    }

    /// The job's state and holder.
    pub async fn holder(&self, job_id: &str) -> sqlx::Result<Option<(JobState, Option<String>)>> {
        let row: Option<(String, Option<String>)> = on_db!(&self.db, pool => sqlx::query_as("select state, claimed_by from jobs where id = $1")
                .bind(job_id)
                .fetch_optional(pool)
                .await)?;
        Ok(row.map(|(state, holder)| (JobState::parse(&state), holder)))
    }

    /// Puts a job `me` holds back in the queue, its attempt not counted.
    pub async fn hand_back(&self, job_id: &str, me: &str, at: i64) -> sqlx::Result<()> {
        on_db!(&self.db, pool => sqlx::query(
            "update jobs set state = 'queued', attempts = attempts - 1, claimed_by = null, lease_until = null,
                             updated_at = $1
             where id = $2 and state = 'running' and claimed_by = $3",
        )
        .bind(at)
        .bind(job_id)
        .bind(me)
        .execute(pool)
        .await
        .map(|_| ()))
    }

    /// Ends a job `me` still holds; `false`: it does not.
    pub async fn close(
        &self,
        tx: &mut Tx,
        job_id: &str,
        me: &str,
        state: JobState,
        error: Option<&str>,
        at: i64,
    ) -> sqlx::Result<bool> {
        on_tx!(tx, conn => sqlx::query(
            "update jobs set state = $1, last_error = $2, lease_until = null, updated_at = $3
             where id = $4 and state = 'running' and claimed_by = $5",
        )
        .bind(state.as_str())
        .bind(error)
        .bind(at)
        .bind(job_id)
        .bind(me)
        .execute(conn)
        .await
        .map(|done| done.rows_affected() == 1))
    }
}
