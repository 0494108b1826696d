//! The generation job: runs [`crate::generate`] for a claimed wizard within
//! its time budget, and stores the outcome only if the job is still this
//! worker's and the wizard is still waiting for it.

use super::Wizards;
use crate::db::health::RETRY_AFTER_SECS;
use crate::error::ResultExt;
use crate::generate::{self, Generated, budget::JOB_TIME};
use crate::jobs::{Claim, Finish, MAX_ATTEMPTS};
use app::model::AppError;
use app::wizard::WizardEvent;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long a finished job keeps trying to store its outcome while the
/// database cannot be written, before leaving it to the lease.
const STORE_PATIENCE: Duration = Duration::from_secs(60);

impl Wizards {
    /// Runs one claimed job to its end, unless `cancel` stops it first
    /// (then nothing is stored: the queue hands the job back or it was
    /// discarded).
    pub(crate) async fn run_job(&self, claim: Claim, wizard_id: String, cancel: CancellationToken) {
        let mut outcome = if claim.attempts > MAX_ATTEMPTS {
            Err(format!(
                "generating was interrupted {} times (the server stopped while it ran); press Retry to try again",
                claim.attempts - 1
            ))
        } else {
            let work = tokio::time::timeout(JOB_TIME, self.generate(&wizard_id));
            tokio::select! {
                outcome = work => outcome.unwrap_or_else(|_| Err(format!(
                    "proposing tools took longer than {} minutes, the limit; try a smaller document or a shorter \
                     description", JOB_TIME.as_secs() / 60))),
                () = cancel.cancelled() => return,
            }
        };
        let started = tokio::time::Instant::now();
        loop {
            match self.finish(&claim, &wizard_id, &mut outcome).await {
                Ok(()) => return,
                Err(AppError::Unavailable { .. }) if started.elapsed() < STORE_PATIENCE && !cancel.is_cancelled() => {
                    tokio::time::sleep(Duration::from_secs(u64::from(RETRY_AFTER_SECS))).await;
                }
                Err(error) => {
                    tracing::error!(job_id = %claim.job_id, %error, "could not store a generation result");
                    return;
                }
            }
        }
    }

    async fn generate(&self, wizard_id: &str) -> Result<Generated, String> {
        let row = self
            .store
            .by_id(wizard_id)
            .await
            .map_err(|e| format!("the wizard could not be loaded: {e}"))?
            .ok_or_else(|| "the wizard was discarded".to_owned())?;
        let document = match (&row.document_sha256, row.openapi_document) {
            (Some(sha256), _) => Some(self.document_text(&row.owner_id, sha256).await?),
            (None, legacy) => legacy,
        };
        let request = generate::Request {
            description: row.description,
            openapi_url: row.openapi_url,
            openapi_document: document,
        };
        generate::generate(&request, &self.outbound, self.llm.as_ref(), &self.import_permits).await
    }

    /// Stores the outcome in one transaction: a fetched document and the
    /// document's operation index kept, the job closed (only if this worker
    /// still holds it), the proposal saved (only if it reads back within
    /// budget), and the wizard moved on (only if it is still waiting).
    async fn finish(
        &self,
        claim: &Claim,
        wizard_id: &str,
        outcome: &mut Result<Generated, String>,
    ) -> Result<(), AppError> {
        let mut tx = self.store.db().begin().await.or_internal("begin")?;
        let row = self.store.by_id_in(&mut tx, wizard_id).await.or_internal("load wizard")?;
        if let (Ok(generated), Some(row)) = (outcome.as_mut(), &row) {
            let sha256 = row.document_sha256.as_deref();
            self.keep_generated(&mut tx, &row.owner_id, wizard_id, sha256, generated).await?;
        }
        let stored = match outcome {
            Ok(generated) => generate::stored_proposal(&generated.proposal),
            Err(error) => Err(error.clone()),
        };
        let (event, finish) = match &stored {
            Ok(_) => (WizardEvent::BackgroundSucceeded, Finish::Succeeded),
            Err(error) => (WizardEvent::BackgroundFailed { error: error.clone() }, Finish::Failed(error.clone())),
        };
        if !self.queue.close(&mut tx, claim, &finish).await? {
            tracing::info!(%wizard_id, "the job is no longer ours (discarded or taken over); its result is dropped");
            return Ok(());
        }
        let Some(row) = row else { return tx.commit().await.or_internal("commit job") };
        if let Ok(text) = &stored {
            self.store.set_proposal(&mut tx, wizard_id, text).await.or_internal("store proposal")?;
        }
        if let Err(error) = &stored {
            tracing::info!(%wizard_id, %error, "generation failed");
        }
        match self.apply(&mut tx, &row, &event).await {
            Ok(_) => tx.commit().await.or_internal("commit job result"),
            Err(AppError::Unavailable { message, retry_after }) => Err(AppError::Unavailable { message, retry_after }),
            Err(error) => {
                // The wizard moved on (or never was processing): the result is dropped.
                tracing::warn!(%wizard_id, %error, "generation result not applied");
                tx.rollback().await.or_internal("rollback")?;
                let mut tx = self.store.db().begin().await.or_internal("begin")?;
                self.queue.close(&mut tx, claim, &Finish::Failed(error.to_string())).await?;
                tx.commit().await.or_internal("commit job")
            }
        }
    }
}
