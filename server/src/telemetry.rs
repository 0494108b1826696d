//! Logging: `tracing` to stderr, as text or JSON, filtered by `AUTOMCP_LOG`.
//!
//! Logging never takes the service down: when stderr cannot be written (a
//! full disk under a redirected log, a closed pipe), the line is dropped and
//! counted ([`write_errors`], shown by `/healthz`), instead of the subscriber
//! printing its own error to that same stderr, which panics.

use crate::config::LogFormat;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use tracing_subscriber::EnvFilter;

/// Log lines that could not be written since the process started.
static WRITE_ERRORS: AtomicU64 = AtomicU64::new(0);

pub fn write_errors() -> u64 {
    WRITE_ERRORS.load(Ordering::Relaxed)
}

pub fn init(filter: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|error| {
        let _ = writeln!(io::stderr(), "AUTOMCP_LOG `{filter}` is not a valid filter ({error}); using `info`");
        EnvFilter::new("info")
    });
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(|| Stderr).log_internal_errors(false);
    // `try_init` fails only if a subscriber is already set (tests); that is fine.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
    };
}

/// Standard error that counts failed writes instead of reporting them.
struct Stderr;

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match io::stderr().write(buf) {
            Ok(n) => Ok(n),
            Err(_) => {
                WRITE_ERRORS.fetch_add(1, Ordering::Relaxed);
                Ok(buf.len()) // dropped: there is nowhere to say so
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        let _ = io::stderr().flush();
        Ok(())
    }
}
