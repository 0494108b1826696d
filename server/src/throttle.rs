//! Throttling of log-ins and sign-ups, so passwords cannot be guessed at
//! speed and accounts cannot be mass-created from one address.
//!
//! - Per client address: a token bucket for log-in attempts and one for
//!   sign-ups.
//! - Per account: after [`FREE_FAILURES`] wrong passwords in a row, the
//!   account is locked for 30 s, doubling with each further failure up to 15
//!   minutes. A success resets it. The real user can always log in once the
//!   window has passed.
//!
//! Kept in memory, per process (with several replicas each counts its own).
//! Bounded: at most [`MAX_KEYS`] addresses and accounts are remembered; the
//! idle ones are forgotten first.

use app::model::AppError;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Wrong passwords in a row before an account is locked.
pub const FREE_FAILURES: u32 = 5;
const FIRST_LOCK: Duration = Duration::from_secs(30);
const LONGEST_LOCK: Duration = Duration::from_secs(15 * 60);
/// Addresses and accounts remembered at most (each map).
const MAX_KEYS: usize = 100_000;

/// How many attempts an address may make.
#[derive(Clone, Copy, Debug)]
pub struct Rates {
    /// Log-in attempts per minute per address (also the burst).
    pub log_ins_per_minute: u32,
    /// Sign-ups per hour per address (also the burst).
    pub sign_ups_per_hour: u32,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    locked_until: Option<Instant>,
    at: Instant,
}

pub struct Throttle {
    rates: Rates,
    log_ins: Mutex<HashMap<IpAddr, Bucket>>,
    sign_ups: Mutex<HashMap<IpAddr, Bucket>>,
    accounts: Mutex<HashMap<String, Failures>>,
}

impl Throttle {
    pub fn new(rates: Rates) -> Self {
        Throttle { rates, log_ins: Mutex::default(), sign_ups: Mutex::default(), accounts: Mutex::default() }
    }

    /// Checks (and counts) a log-in attempt for `email` from `addr`.
    pub fn log_in_attempt(&self, addr: Option<IpAddr>, email: &str) -> Result<(), AppError> {
        let now = Instant::now();
        if let Some(until) = self.locked_until(email, now) {
            let wait = (until - now).as_secs().max(1) as u32;
            return Err(AppError::throttled(
                format!("too many wrong passwords for this account; try again in {}", duration_text(wait)),
                wait,
            ));
        }
        if let Some(addr) = addr {
            let rate = f64::from(self.rates.log_ins_per_minute) / 60.0;
            take(&self.log_ins, addr, f64::from(self.rates.log_ins_per_minute), rate, now).map_err(|wait| {
                AppError::throttled(
                    format!("too many log-in attempts from your address; try again in {}", duration_text(wait)),
                    wait,
                )
            })?;
        }
        Ok(())
    }

    /// Records a wrong password for `email`.
    pub fn log_in_failed(&self, email: &str) {
        let now = Instant::now();
        let mut accounts = lock(&self.accounts);
        forget_idle(&mut accounts, now, |f| f.at);
        let entry = accounts.entry(email.to_owned()).or_insert(Failures { count: 0, locked_until: None, at: now });
        entry.count += 1;
        entry.at = now;
        if entry.count >= FREE_FAILURES {
            let doublings = (entry.count - FREE_FAILURES).min(16);
            let lock = FIRST_LOCK.saturating_mul(1 << doublings).min(LONGEST_LOCK);
            entry.locked_until = Some(now + lock);
            tracing::warn!(failures = entry.count, lock_secs = lock.as_secs(), "account locked after wrong passwords");
        }
    }

    /// Records a successful log-in: the account's failures are forgotten.
    pub fn log_in_succeeded(&self, email: &str) {
        lock(&self.accounts).remove(email);
    }

    /// Checks (and counts) a sign-up from `addr`.
    pub fn sign_up_attempt(&self, addr: Option<IpAddr>) -> Result<(), AppError> {
        let Some(addr) = addr else { return Ok(()) };
        let rate = f64::from(self.rates.sign_ups_per_hour) / 3600.0;
        take(&self.sign_ups, addr, f64::from(self.rates.sign_ups_per_hour), rate, Instant::now()).map_err(|wait| {
            AppError::throttled(
                format!("too many accounts were created from your address; try again in {}", duration_text(wait)),
                wait,
            )
        })
    }

    fn locked_until(&self, email: &str, now: Instant) -> Option<Instant> {
        lock(&self.accounts).get(email).and_then(|f| f.locked_until).filter(|until| *until > now)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Takes a token from `key`'s bucket, or says how many seconds until one is free.
fn take<K: Hash + Eq + Copy>(
    buckets: &Mutex<HashMap<K, Bucket>>,
    key: K,
    capacity: f64,
    per_second: f64,
    now: Instant,
) -> Result<(), u32> {
    let capacity = capacity.max(1.0);
    let mut buckets = lock(buckets);
    forget_idle(&mut buckets, now, |b| b.at);
    let bucket = buckets.entry(key).or_insert(Bucket { tokens: capacity, at: now });
    let refilled = bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * per_second;
    bucket.tokens = refilled.min(capacity);
    bucket.at = now;
    if bucket.tokens >= 1.0 {
        bucket.tokens -= 1.0;
        return Ok(());
    }
    Err(((1.0 - bucket.tokens) / per_second.max(f64::MIN_POSITIVE)).ceil().max(1.0) as u32)
}

/// Keeps a map under [`MAX_KEYS`]: when full, drops the idlest half.
fn forget_idle<K: Hash + Eq + Clone, V>(map: &mut HashMap<K, V>, now: Instant, at: impl Fn(&V) -> Instant) {
    if map.len() < MAX_KEYS {
        return;
    }
    let mut ages: Vec<Duration> = map.values().map(|v| now.duration_since(at(v))).collect();
    ages.sort_unstable();
    let cutoff = ages[ages.len() / 2];
    map.retain(|_, v| now.duration_since(at(v)) < cutoff);
}

fn duration_text(seconds: u32) -> String {
    match seconds {
        0..=89 => format!("{seconds} s"),
        _ => format!("{} min", seconds.div_ceil(60)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> Throttle {
        Throttle::new(Rates { log_ins_per_minute: 10, sign_ups_per_hour: 2 })
    }

    #[test]
    fn an_address_gets_its_burst_then_waits() {
        let t = throttle();
        let addr = Some("192.0.2.1".parse().unwrap());
        for i in 0..10 {
            t.log_in_attempt(addr, &format!("u{i}@example.com")).unwrap();
        }
        let refused = t.log_in_attempt(addr, "other@example.com").unwrap_err();
        assert_eq!(refused.status(), 429);
        assert_eq!(refused.retry_after(), Some(6));
        // Another address is not affected.
        t.log_in_attempt(Some("192.0.2.2".parse().unwrap()), "u0@example.com").unwrap();
    }

    #[test]
    fn wrong_passwords_lock_the_account_for_a_growing_window() {
        let t = throttle();
        for _ in 0..FREE_FAILURES {
            t.log_in_attempt(None, "ada@example.com").unwrap();
            t.log_in_failed("ada@example.com");
        }
        let locked = t.log_in_attempt(None, "ada@example.com").unwrap_err();
        assert!(locked.to_string().contains("too many wrong passwords"), "{locked}");
        assert!(matches!(locked.retry_after(), Some(29..=30)), "{:?}", locked.retry_after());
        t.log_in_failed("ada@example.com");
        assert!(t.locked_until("ada@example.com", Instant::now()).unwrap() > Instant::now() + Duration::from_secs(55));
        t.log_in_attempt(None, "grace@example.com").unwrap();
        t.log_in_succeeded("ada@example.com");
        t.log_in_attempt(None, "ada@example.com").unwrap();
    }

    #[test]
    fn sign_ups_per_address_are_limited() {
        let t = throttle();
        let addr = Some("198.51.100.7".parse().unwrap());
        t.sign_up_attempt(addr).unwrap();
        t.sign_up_attempt(addr).unwrap();
        let refused = t.sign_up_attempt(addr).unwrap_err();
        assert!(refused.to_string().contains("30 min"), "{refused}");
        t.sign_up_attempt(None).unwrap();
    }

    #[test]
    fn the_maps_stay_bounded() {
        let mut map: HashMap<u32, Instant> = HashMap::new();
        let now = Instant::now();
        for i in 0..MAX_KEYS as u32 {
            map.insert(i, now - Duration::from_secs(u64::from(i)));
        }
        forget_idle(&mut map, now, |v| *v);
        assert!(map.len() <= MAX_KEYS / 2 + 1, "{}", map.len());
        assert!(map.contains_key(&0));
    }
}
