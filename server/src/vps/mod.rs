//! Paid-tier hosting on the user's own machine over SSH: [`ssh`] is the
//! client, [`plan`] the pure deploy plan (paths, scripts, the systemd unit).

pub mod deploy;
pub mod plan;
pub mod ssh;
