//! Access tokens this process has checked, remembered for a short while so
//! that a tool call does not look its token up in the database every time.
//!
//! A remembered token is forgotten when it expires, after [`REMEMBER_FOR`],
//! and at once when anything is revoked anywhere: every revocation bumps
//! [`Revocations`] (the store does it after committing; other replicas do
//! it when PostgreSQL delivers the notice the store sends with the
//! revocation, or when their notice feed reconnects), and a bump empties
//! the cache. Revocations are rare and a refill costs one query per token,
//! so forgetting everything is simpler and safer than tracking which
//! entries a revocation touched. Unknown tokens are never remembered.

use crate::engine::caller::OAuthCaller;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// The longest a token is trusted without asking the database again (the
/// bound on a revocation whose notice never arrived, e.g. one made by
/// another process on the same SQLite file).
pub const REMEMBER_FOR: Duration = Duration::from_secs(30);
/// The most tokens remembered at once; past it, stale ones are dropped and
/// then, if still full, all of them.
pub const MAX_REMEMBERED: usize = 50_000;

/// How many revocations this process has seen (made here or announced by
/// another replica). Shared by every clone.
#[derive(Clone, Debug, Default)]
pub struct Revocations(Arc<AtomicU64>);

impl Revocations {
    /// Notes a revocation: everything remembered before it is forgotten.
    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }

    pub fn seen(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}

/// A token's caller as the database answered, and until when the token is
/// valid (Unix seconds).
struct Entry {
    caller: Arc<OAuthCaller>,
    expires_at: i64,
    remembered_at: Instant,
}

impl Entry {
    fn fresh(&self, now: i64) -> bool {
        self.expires_at > now && self.remembered_at.elapsed() < REMEMBER_FOR
    }
}

/// The entries and the revocation count they were looked up under.
#[derive(Default)]
struct Remembered {
    revocations: u64,
    entries: HashMap<String, Entry>,
}

#[derive(Clone)]
pub struct AccessCache {
    remembered: Arc<RwLock<Remembered>>,
    revocations: Revocations,
}

impl AccessCache {
    pub fn new(revocations: Revocations) -> Self {
        AccessCache { remembered: Arc::default(), revocations }
    }

    /// The revocation count to pass to [`AccessCache::remember`]: read it
    /// *before* asking the database, so that a revocation committed while
    /// the query runs makes the answer stale rather than trusted.
    pub fn revocations_seen(&self) -> u64 {
        self.revocations.seen()
    }

    /// The caller behind `token_hash`, if remembered and still trusted.
    pub fn get(&self, token_hash: &str, now: i64) -> Option<Arc<OAuthCaller>> {
        let remembered = self.remembered.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        if remembered.revocations != self.revocations.seen() {
            return None;
        }
        remembered.entries.get(token_hash).filter(|entry| entry.fresh(now)).map(|entry| entry.caller.clone())
    }

    /// Remembers what the database said about `token_hash`, asked when the
    /// revocation count was `seen`.
    pub fn remember(&self, token_hash: String, caller: Arc<OAuthCaller>, expires_at: i64, seen: u64, now: i64) {
        let mut remembered = self.remembered.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        if seen != self.revocations.seen() {
            return; // something was revoked since the lookup began
        }
        if seen != remembered.revocations {
            *remembered = Remembered { revocations: seen, entries: HashMap::new() };
        }
        if remembered.entries.len() >= MAX_REMEMBERED {
            remembered.entries.retain(|_, entry| entry.fresh(now));
            if remembered.entries.len() >= MAX_REMEMBERED {
                remembered.entries.clear();
            }
        }
        remembered.entries.insert(token_hash, Entry { caller, expires_at, remembered_at: Instant::now() });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller() -> Arc<OAuthCaller> {
        Arc::new(OAuthCaller {
            grant_id: "g".into(),
            server_id: "s".into(),
            user_id: "u".into(),
            user_email: "u@x.io".into(),
            client_id: "c".into(),
            client_name: "C".into(),
        })
    }

    #[test]
    fn a_remembered_token_is_trusted_until_it_expires() {
        let cache = AccessCache::new(Revocations::default());
        let seen = cache.revocations_seen();
        cache.remember("h".into(), caller(), 1_000, seen, 900);
        assert_eq!(cache.get("h", 999).as_deref(), Some(&*caller()));
        assert_eq!(cache.get("h", 1_000), None, "expired");
        assert_eq!(cache.get("other", 999), None, "never looked up");
    }

    #[test]
    fn any_revocation_forgets_everything() {
        let revocations = Revocations::default();
        let cache = AccessCache::new(revocations.clone());
        cache.remember("h".into(), caller(), 1_000, cache.revocations_seen(), 900);
        revocations.bump();
        assert_eq!(cache.get("h", 901), None);
        // Remembering again under the new count works.
        cache.remember("h".into(), caller(), 1_000, cache.revocations_seen(), 900);
        assert!(cache.get("h", 901).is_some());
    }

    #[test]
    fn an_answer_from_before_a_revocation_is_not_remembered() {
        let revocations = Revocations::default();
        let cache = AccessCache::new(revocations.clone());
        let seen = cache.revocations_seen();
        revocations.bump(); // committed while the lookup ran
        cache.remember("h".into(), caller(), 1_000, seen, 900);
        assert_eq!(cache.get("h", 901), None);
    }

    #[test]
    fn a_full_cache_makes_room() {
        let cache = AccessCache::new(Revocations::default());
        let seen = cache.revocations_seen();
        for i in 0..MAX_REMEMBERED {
            cache.remember(format!("old{i}"), caller(), 100, seen, 50);
        }
        // All of those have expired by now, so they go and the new one stays.
        cache.remember("new".into(), caller(), 1_000, seen, 500);
        assert!(cache.get("new", 501).is_some());
        assert_eq!(cache.remembered.read().unwrap().entries.len(), 1);
    }
}
