//! The free tier's monthly call quota per account, exact across replicas.
//!
//! The database holds how many calls of the month each account has been
//! granted ([`QuotaLedger`], one atomic update per reservation). A replica
//! reserves a small batch at a time and spends it locally, so most calls
//! touch no database; the grants of all replicas never add up to more than
//! the quota. A batch is at most 1/1000 of the quota (1 for small quotas,
//! at most [`MAX_BATCH`]), so calls stranded on other replicas near the end
//! of a month are at most `(replicas - 1) × batch`, and a stopping replica
//! gives its unspent grants back.

use super::limits::Refusal;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The most calls a replica reserves at once.
pub const MAX_BATCH: u64 = 10;
/// How long an account found exhausted is refused without asking the database again.
const EXHAUSTED_RECHECK: Duration = Duration::from_secs(10);

/// The shared count of granted calls (the database).
#[async_trait::async_trait]
pub trait QuotaLedger: Send + Sync + 'static {
    /// Grants up to `want` more calls of `month` to `owner` without passing
    /// `quota`; returns how many were granted (0: the quota is spent).
    async fn reserve(&self, owner: &str, month: &str, want: u64, quota: u64) -> Result<u64, String>;
    /// Hands back calls granted but not made.
    async fn give_back(&self, owner: &str, month: &str, calls: u64) -> Result<(), String>;
}

#[derive(Default)]
struct Local {
    month: String,
    /// Granted to this replica, not yet spent.
    left: u64,
    exhausted_at: Option<Instant>,
}

/// This replica's share of each account's quota.
#[derive(Default)]
pub struct Quota {
    ledger: OnceLock<Arc<dyn QuotaLedger>>,
    accounts: Mutex<HashMap<String, Local>>,
    /// Calls granted per (account, month) when there is no ledger.
    here: Mutex<HashMap<(String, String), u64>>,
}

fn batch_for(quota: u64) -> u64 {
    (quota / 1000).clamp(1, MAX_BATCH)
}

impl Quota {
    /// Connects the shared ledger (once, at start-up). Without one, grants
    /// are counted in this process only (single-process tools and tests).
    pub fn set_ledger(&self, ledger: Arc<dyn QuotaLedger>) {
        if self.ledger.set(ledger).is_err() {
            tracing::warn!("the quota ledger was set twice; the first one stays");
        }
    }

    /// Takes one call of `month` for `owner`, or refuses when `quota` is spent.
    /// A ledger failure refuses the call (never lets it through uncounted).
    pub async fn take(&self, owner: &str, month: &str, quota: Option<u64>) -> Result<(), Refusal> {
        let Some(quota) = quota else { return Ok(()) };
        if self.spend_local(owner, month) {
            return Ok(());
        }
        if self.recently_exhausted(owner, month) {
            return Err(Refusal::QuotaExhausted(quota));
        }
        let granted = match self.ledger.get() {
            Some(ledger) => ledger.reserve(owner, month, batch_for(quota), quota).await.map_err(|error| {
                tracing::error!(%error, %owner, "could not reserve quota; the call is refused");
                Refusal::QuotaUnavailable
            })?,
            None => self.count_here(owner, month, quota),
        };
        let mut accounts = self.accounts.lock().expect("quota lock is never poisoned");
        let local = accounts.entry(owner.to_owned()).or_default();
        if local.month != month {
            *local = Local { month: month.to_owned(), ..Local::default() };
        }
        if granted == 0 {
            local.exhausted_at = Some(Instant::now());
            return Err(Refusal::QuotaExhausted(quota));
        }
        local.left += granted - 1;
        local.exhausted_at = None;
        Ok(())
    }

    /// Spends a local grant; false when there is none (or the account was
    /// found exhausted a moment ago, which refuses without asking again).
    fn spend_local(&self, owner: &str, month: &str) -> bool {
        let mut accounts = self.accounts.lock().expect("quota lock is never poisoned");
        let Some(local) = accounts.get_mut(owner).filter(|local| local.month == month) else { return false };
        if local.left > 0 {
            local.left -= 1;
            return true;
        }
        false
    }

    /// Whether `owner` was refused for `month` within the recheck window.
    fn recently_exhausted(&self, owner: &str, month: &str) -> bool {
        let accounts = self.accounts.lock().expect("quota lock is never poisoned");
        accounts
            .get(owner)
            .filter(|local| local.month == month)
            .and_then(|local| local.exhausted_at)
            .is_some_and(|at| at.elapsed() < EXHAUSTED_RECHECK)
    }

    /// Without a ledger: this process's own count (in `granted` terms).
    fn count_here(&self, owner: &str, month: &str, quota: u64) -> u64 {
        let mut used = self.here.lock().expect("quota lock is never poisoned");
        let count = used.entry((owner.to_owned(), month.to_owned())).or_default();
        if *count >= quota {
            return 0;
        }
        *count += 1;
        1
    }

    /// Hands every unspent grant back to the ledger (at shutdown).
    pub async fn give_back_all(&self) {
        let Some(ledger) = self.ledger.get() else { return };
        let unspent: Vec<(String, String, u64)> = {
            let mut accounts = self.accounts.lock().expect("quota lock is never poisoned");
            accounts
                .iter_mut()
                .filter(|(_, local)| local.left > 0)
                .map(|(owner, local)| (owner.clone(), local.month.clone(), std::mem::take(&mut local.left)))
                .collect()
        };
        for (owner, month, calls) in unspent {
            if let Err(error) = ledger.give_back(&owner, &month, calls).await {
                tracing::warn!(%error, %owner, calls, "could not give unspent quota back");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn without_a_ledger_the_quota_counts_per_owner_and_month() {
        let quota = Quota::default();
        for _ in 0..3 {
            quota.take("ada", "2026-11", Some(3)).await.unwrap();
        }
        assert_eq!(quota.take("ada", "2026-11", Some(3)).await.unwrap_err(), Refusal::QuotaExhausted(3));
        assert!(quota.take("bob", "2026-11", Some(3)).await.is_ok());
        assert!(quota.take("ada", "2026-12", Some(3)).await.is_ok(), "a new month starts at zero");
        assert!(quota.take("ada", "2026-12", None).await.is_ok());
    }

    #[test]
    fn batches_are_small_parts_of_the_quota() {
        assert_eq!(batch_for(3), 1);
        assert_eq!(batch_for(2_500), 2);
        assert_eq!(batch_for(10_000), 10);
        assert_eq!(batch_for(1_000_000), MAX_BATCH);
    }
}
