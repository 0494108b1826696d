//! Operations on a machine as durable jobs. Asking for one checks it at once
//! (so mistakes are answered in the request), stores the operation with
//! what was asked and queues its job in one transaction; any replica's
//! worker runs it, checking again from the stored state, with its steps
//! stored as they happen. A replica that dies mid-operation leaves a job
//! whose holder's heartbeat goes stale: the replica that takes it over
//! closes the operation as interrupted (an SSH session cut halfway is not
//! resumed blindly), within the queue's takeover time.

use super::Machines;
use crate::db::now;
use crate::error::ResultExt;
use crate::jobs::{Claim, Finish};
use crate::store::Insert;
use crate::store::machines::OperationStatus;
use crate::vps::deploy::{Failed, Progress, StepEvent};
use app::model::{AppError, UserView};
use app::vps::OperationView;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// What an operation does (stored with it as JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Operation {
    /// A new release on the machine `target_id`.
    Deploy { target_id: String },
    /// The release before the serving one serves again.
    Rollback,
    /// The serving release stops.
    Stop,
    /// The current release starts again.
    Start,
    /// Every release and file of the server leaves the machine.
    Remove,
}

impl Operation {
    pub fn kind(&self) -> &'static str {
        match self {
            Operation::Deploy { .. } => "deploy",
            Operation::Rollback => "rollback",
            Operation::Stop => "stop",
            Operation::Start => "start",
            Operation::Remove => "remove",
        }
    }
}

/// The work of a checked operation, run by the job that holds it.
pub(super) type Work =
    Box<dyn FnOnce(Machines, Progress) -> Pin<Box<dyn Future<Output = Result<(), Failed>> + Send>> + Send>;

/// Boxes an operation's work.
pub(super) fn work<F, Fut>(run: F) -> Work
where
    F: FnOnce(Machines, Progress) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), Failed>> + Send + 'static,
{
    Box::new(move |machines, progress| Box::pin(run(machines, progress)))
}

const INTERRUPTED: &str =
    "interrupted: the AutoMCP process running this operation stopped; check the machine's state and run it again";

impl Machines {
    /// Checks `operation` now, then stores and queues it; returns it at once
    /// (its steps fill in as a worker runs it).
    pub(super) async fn start(
        &self,
        owner: &UserView,
        server_id: &str,
        operation: Operation,
    ) -> Result<OperationView, AppError> {
        drop(self.plan(owner, server_id, &operation).await?);
        let id = uuid::Uuid::now_v7().to_string();
        let params = serde_json::to_string(&operation).or_internal("serialize operation")?;
        let mut tx = self.store.db().begin().await.or_internal("begin")?;
        let begun = self
            .store
            .begin_operation(&mut tx, &id, server_id, &owner.id, operation.kind(), &params, now())
            .await
            .or_internal("insert operation")?;
        if begun == Insert::Taken {
            return Err(AppError::conflict(
                "operation",
                "another operation on this server is still running; wait for it to finish",
            ));
        }
        self.queue.enqueue_operation(&mut tx, &id, &owner.id).await?;
        tx.commit().await.or_internal("commit operation")?;
        self.queue.wake();
        tracing::info!(%server_id, operation_id = %id, operation = operation.kind(), "operation queued");
        self.operation(owner, &id).await
    }

    /// Runs a claimed operation job to its end (or closes it as interrupted
    /// when a previous holder died running it, or when `cancel` stops it).
    pub(crate) async fn run_job(&self, claim: Claim, operation_id: String, cancel: CancellationToken) {
        let result = if claim.attempts > 1 {
            Err(Failed { step: "resume".into(), message: INTERRUPTED.into() })
        } else {
            self.run_operation(&operation_id, cancel).await
        };
        match &result {
            Ok(()) => tracing::info!(%operation_id, "operation succeeded"),
            Err(failed) => tracing::warn!(%operation_id, %failed, "operation failed"),
        }
        if let Err(error) = self.close(&claim, &operation_id, &result).await {
            tracing::error!(%operation_id, %error, "could not close an operation");
        }
    }

    async fn run_operation(&self, operation_id: &str, cancel: CancellationToken) -> Result<(), Failed> {
        let failed = |message: String| Failed { step: "check".into(), message };
        let stored = self.store.operation_to_run(operation_id).await.map_err(|e| failed(e.to_string()))?;
        let Some((row, owner_id, params)) = stored else {
            return Err(failed("the operation is gone".into()));
        };
        let operation: Operation = serde_json::from_str(params.as_deref().unwrap_or("null"))
            .map_err(|e| failed(format!("the stored operation cannot be read: {e}")))?;
        let owner = self
            .accounts
            .user_by_id(&owner_id)
            .await
            .map_err(|e| failed(e.to_string()))?
            .ok_or_else(|| failed("the account is gone".into()))?
            .view();
        let work = self.plan(&owner, &row.server_id, &operation).await.map_err(|e| failed(e.to_string()))?;
        let (progress, writer) = self.progress(operation_id);
        let result = tokio::select! {
            result = work(self.clone(), progress) => result,
            () = cancel.cancelled() => Err(Failed { step: "stop".into(), message: INTERRUPTED.into() }),
        };
        let _ = writer.await;
        result
    }

    /// Ends the operation with its job, in one transaction, only while this
    /// replica still holds the job (one taken over is closed by its new holder).
    async fn close(&self, claim: &Claim, operation_id: &str, result: &Result<(), Failed>) -> Result<(), AppError> {
        let (status, error, finish) = match result {
            Ok(()) => (OperationStatus::Succeeded, None, Finish::Succeeded),
            Err(failed) => (OperationStatus::Failed, Some(failed.to_string()), Finish::Failed(failed.to_string())),
        };
        let mut tx = self.store.db().begin().await.or_internal("begin")?;
        if !self.queue.close(&mut tx, claim, &finish).await? {
            tracing::info!(%operation_id, "the operation's job is no longer ours; its outcome is dropped");
            return Ok(());
        }
        self.store
            .finish_operation(&mut tx, operation_id, status, error.as_deref(), now())
            .await
            .or_internal("finish operation")?;
        tx.commit().await.or_internal("commit operation")
    }

    /// Stores each step event as it happens.
    fn progress(&self, operation_id: &str) -> (Progress, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<StepEvent>();
        let store = self.store.clone();
        let id = operation_id.to_owned();
        let writer = tokio::spawn(async move {
            let mut steps: Vec<StepEvent> = Vec::new();
            while let Some(event) = rx.recv().await {
                match steps.iter_mut().rev().find(|s| s.step == event.step && s.status == "running") {
                    Some(step) => *step = event,
                    None => steps.push(event),
                }
                let json = serde_json::to_string(&steps).unwrap_or_else(|_| "[]".into());
                if let Err(error) = store.set_steps(&id, &json).await {
                    tracing::error!(%error, "could not store an operation step");
                }
            }
        });
        (Arc::new(move |event| drop(tx.send(event))), writer)
    }
}
