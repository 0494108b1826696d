//! Per-server rate limit and concurrency cap (the monthly quota is in
//! [`super::quota`]).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A server's limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerLimits {
    pub calls_per_minute: u32,
    pub burst: u32,
    pub max_concurrency: u32,
}

impl ServerLimits {
    pub const FREE: ServerLimits = ServerLimits { calls_per_minute: 60, burst: 10, max_concurrency: 4 };
    pub const PAID: ServerLimits = ServerLimits { calls_per_minute: 600, burst: 100, max_concurrency: 16 };
}

/// Why a call was not admitted. Each becomes a JSON-RPC error naming the limit.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "rate limit exceeded: this server allows {per_minute} calls a minute (bursts of {burst}); retry in {retry_secs} s"
    )]
    RateLimited { per_minute: u32, burst: u32, retry_secs: u64 },
    #[error("this server is busy: {0} calls are already in progress, the most it runs at once; retry shortly")]
    Busy(u32),
    #[error(
        "monthly quota exhausted: this account may make {0} tool calls a month on the free tier; it renews next month or with the paid tier"
    )]
    QuotaExhausted(u64),
    #[error("the monthly quota cannot be checked right now (the database is unavailable); retry shortly")]
    QuotaUnavailable,
}

impl Refusal {
    /// JSON-RPC error code (implementation-defined server error range).
    pub fn code(&self) -> i32 {
        match self {
            Refusal::RateLimited { .. } => -32029,
            Refusal::Busy(_) => -32030,
            Refusal::QuotaExhausted(_) | Refusal::QuotaUnavailable => -32031,
        }
    }
}

/// How many replicas share each server's rate limit (1 with SQLite). Each
/// replica admits `1/replicas` of the rate and of the burst, so all of
/// them together admit at most the server's limit (if the load balancer
/// spreads calls unevenly, a client meets the limit a little early). The
/// concurrency cap is per replica: at most `replicas × cap` calls run at once.
#[derive(Clone, Debug)]
pub struct Replicas(Arc<AtomicU32>);

impl Default for Replicas {
    fn default() -> Self {
        Replicas(Arc::new(AtomicU32::new(1)))
    }
}

impl Replicas {
    pub fn set(&self, live: u32) {
        self.0.store(live.max(1), Ordering::Relaxed);
    }

    pub fn get(&self) -> u32 {
        self.0.load(Ordering::Relaxed).max(1)
    }
}

/// A token bucket plus a semaphore.
pub struct Limiter {
    limits: ServerLimits,
    replicas: Replicas,
    bucket: Mutex<Bucket>,
    running: Arc<Semaphore>,
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl Limiter {
    pub fn new(limits: ServerLimits, replicas: Replicas) -> Self {
        Limiter {
            limits,
            replicas,
            bucket: Mutex::new(Bucket { tokens: f64::from(limits.burst.max(1)), updated: Instant::now() }),
            running: Arc::new(Semaphore::new(limits.max_concurrency.max(1) as usize)),
        }
    }

    pub fn limits(&self) -> ServerLimits {
        self.limits
    }

    /// Takes a concurrency slot and a rate token, or says which limit stops the call.
    pub fn admit(&self) -> Result<OwnedSemaphorePermit, Refusal> {
        let permit =
            self.running.clone().try_acquire_owned().map_err(|_| Refusal::Busy(self.limits.max_concurrency))?;
        let share = f64::from(self.replicas.get());
        let per_second = f64::from(self.limits.calls_per_minute.max(1)) / 60.0 / share;
        let burst = (f64::from(self.limits.burst.max(1)) / share).max(1.0);
        let mut bucket = self.bucket.lock().expect("limiter lock is never poisoned");
        let now = Instant::now();
        bucket.tokens = (bucket.tokens + now.duration_since(bucket.updated).as_secs_f64() * per_second).min(burst);
        bucket.updated = now;
        if bucket.tokens < 1.0 {
            let retry_secs = ((1.0 - bucket.tokens) / per_second).ceil() as u64;
            return Err(Refusal::RateLimited {
                per_minute: self.limits.calls_per_minute,
                burst: self.limits.burst,
                retry_secs: retry_secs.max(1),
            });
        }
        bucket.tokens -= 1.0;
        Ok(permit)
    }
}

/// `YYYY-MM` (UTC) of a Unix time in seconds.
pub fn month_of(unix_secs: i64) -> String {
    // Howard Hinnant's days-to-civil algorithm.
    let days = unix_secs.div_euclid(86_400) + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_pass_then_the_rate_applies() {
        let limiter =
            Limiter::new(ServerLimits { calls_per_minute: 60, burst: 3, max_concurrency: 10 }, Replicas::default());
        let permits: Vec<_> = (0..3).map(|_| limiter.admit().unwrap()).collect();
        let refusal = limiter.admit().unwrap_err();
        assert!(matches!(refusal, Refusal::RateLimited { per_minute: 60, burst: 3, .. }), "{refusal:?}");
        assert!(refusal.to_string().contains("60 calls a minute"));
        drop(permits);
    }

    #[test]
    fn replicas_share_the_rate_and_the_burst() {
        let replicas = Replicas::default();
        replicas.set(3);
        let limiter = Limiter::new(ServerLimits { calls_per_minute: 60, burst: 9, max_concurrency: 10 }, replicas);
        let permits: Vec<_> = (0..3).map(|_| limiter.admit().unwrap()).collect();
        let refusal = limiter.admit().unwrap_err();
        assert!(matches!(refusal, Refusal::RateLimited { retry_secs: 3, .. }), "a third of one a second: {refusal:?}");
        drop(permits);
    }

    #[test]
    fn concurrency_is_capped() {
        let limiter =
            Limiter::new(ServerLimits { calls_per_minute: 6000, burst: 100, max_concurrency: 2 }, Replicas::default());
        let a = limiter.admit().unwrap();
        let _b = limiter.admit().unwrap();
        assert_eq!(limiter.admit().unwrap_err(), Refusal::Busy(2));
        drop(a);
        assert!(limiter.admit().is_ok());
    }

    #[test]
    fn months_are_computed_in_utc() {
        assert_eq!(month_of(0), "1970-01");
        assert_eq!(month_of(1_795_219_200), "2026-11"); // 2026-11-21
        assert_eq!(month_of(1_798_761_599), "2026-12"); // 2026-12-31 23:59:59
        assert_eq!(month_of(1_798_761_600), "2027-01");
    }
}
