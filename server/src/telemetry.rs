//! Logging: `tracing` to stderr, as text or JSON, filtered by `AUTOMCP_LOG`.

use crate::config::LogFormat;
use tracing_subscriber::EnvFilter;

pub fn init(filter: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|error| {
        eprintln!("AUTOMCP_LOG `{filter}` is not a valid filter ({error}); using `info`");
        EnvFilter::new("info")
    });
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // `try_init` fails only if a subscriber is already set (tests); that is fine.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
    };
}
