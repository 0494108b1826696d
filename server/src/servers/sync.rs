//! Keeping every replica's mount table in line with the database.
//!
//! A change made through one replica is mounted there at once and announced
//! ([`Servers::announce`]); every replica listens and re-reads the servers
//! it hears about (PostgreSQL `LISTEN/NOTIFY`, typically well under a
//! second). Notices can be lost (a dropped connection, a crash between
//! commit and notify), so each replica also reconciles on a timer: it
//! compares the revision of each active server (bumped by every change) with
//! what it has mounted and fixes the difference. Revocations of OAuth grants
//! and tokens come on the same feed: each one empties this replica's access
//! cache ([`crate::oauth::access_cache`]), as does every time the feed was
//! away (a reconnect, listening again after a failure). SQLite runs one
//! process, so it neither listens nor reconciles.

use super::Servers;
use crate::error::ResultExt;
use crate::store::servers::Change;
use app::model::AppError;
use std::collections::HashMap;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often a replica reconciles its mount table with the database.
pub const RECONCILE_EVERY: Duration = Duration::from_secs(15);
/// How often a replica counts the live replicas (who share rate limits).
pub const COUNT_REPLICAS_EVERY: Duration = Duration::from_secs(5);

/// What a reconcile changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reconciled {
    pub mounted: usize,
    pub unmounted: usize,
}

impl Servers {
    /// Listens for other replicas' changes and reconciles periodically, until
    /// `stop` is cancelled. Does nothing on SQLite.
    pub fn start_sync(&self, stop: CancellationToken) {
        if matches!(self.store.db(), crate::store::Db::Sqlite(_)) {
            return;
        }
        let servers = self.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(RECONCILE_EVERY);
            ticker.tick().await;
            let mut census = tokio::time::interval(COUNT_REPLICAS_EVERY);
            let mut feed = None;
            loop {
                if feed.is_none() {
                    feed = match servers.store.changes().await {
                        Ok(listening) => {
                            // Changes made before listening began are caught up with now.
                            servers.catch_up().await;
                            listening
                        }
                        Err(error) => {
                            tracing::warn!(%error, "could not listen for server changes; retrying");
                            None
                        }
                    };
                }
                let next = async {
                    match feed.as_mut() {
                        Some(changes) => changes.next().await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    () = stop.cancelled() => break,
                    _ = ticker.tick() => servers.reconcile_logged().await,
                    _ = census.tick() => servers.count_replicas().await,
                    change = next => match change {
                        Ok(Change::Server { origin, id }) => {
                            if origin != *servers.origin {
                                servers.refresh(&id).await;
                            }
                        }
                        Ok(Change::Revoked) => servers.oauth.revocations().bump(),
                        Ok(Change::Gap) => {
                            tracing::warn!("the change feed reconnected; reconciling in case notices were lost");
                            servers.catch_up().await;
                        }
                        Err(error) => {
                            tracing::warn!(%error, "the change feed failed; listening again");
                            feed = None;
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    },
                }
            }
        });
    }

    /// Serves server `id` here as it is stored now (mounted when active,
    /// gone otherwise). Problems are logged: a server that cannot be mounted
    /// stays unmounted here, as at start-up.
    pub async fn refresh(&self, id: &str) {
        let wanted = match self.store.by_id(id).await {
            Ok(row) => row.filter(|row| row.is_active()),
            Err(error) => return tracing::warn!(server_id = %id, %error, "could not read a changed server"),
        };
        let applied = match wanted {
            Some(_) => self.mount(id).await,
            None => self.engine.replace_server(id, None).map_err(AppError::invalid_spec),
        };
        if let Err(error) = applied {
            self.engine.replace_server(id, None).ok();
            tracing::warn!(server_id = %id, %error, "a changed server could not be mounted here");
        }
    }

    /// Counts the replicas whose heartbeat is fresh; they share rate limits.
    async fn count_replicas(&self) {
        let alive_since = crate::db::now_ms() - crate::db::health::STALE_AFTER_MS;
        match self.store.db().live_instances(alive_since).await {
            Ok(live) => self.engine.replicas.set(u32::try_from(live).unwrap_or(u32::MAX)),
            Err(error) => tracing::warn!(%error, "could not count the live replicas"),
        }
    }

    /// After a time without the feed (start, a reconnect, listening again):
    /// revocations may have been missed, so the access cache is emptied, and
    /// the mount table is reconciled.
    async fn catch_up(&self) {
        self.oauth.revocations().bump();
        self.reconcile_logged().await;
    }

    async fn reconcile_logged(&self) {
        match self.reconcile().await {
            Ok(done) if done != Reconciled::default() => {
                tracing::info!(mounted = done.mounted, unmounted = done.unmounted, "mount table reconciled");
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "could not reconcile the mount table"),
        }
    }

    /// Mounts active servers whose stored version differs from the mounted
    /// one, and unmounts servers no longer active.
    pub async fn reconcile(&self) -> Result<Reconciled, AppError> {
        let stored: HashMap<String, i64> = self
            .store
            .active()
            .await
            .or_internal("load active servers")?
            .into_iter()
            .map(|row| (row.id, row.revision))
            .collect();
        let mounted = self.engine.versions();
        let mut done = Reconciled::default();
        for (id, version) in &stored {
            if mounted.get(id) != Some(version) {
                self.refresh(id).await;
                done.mounted += 1;
            }
        }
        for id in mounted.keys().filter(|id| !stored.contains_key(*id)) {
            self.engine.replace_server(id, None).ok();
            done.unmounted += 1;
        }
        Ok(done)
    }
}
