//! The `automcp` server: configuration, storage, accounts, the MCP engine
//! and the HTTP surface. `main.rs` only parses the command line and calls in here, so the
//! tests drive exactly what the binary runs.

#![recursion_limit = "512"]

pub mod accounts;
pub mod auth;
pub mod backend;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod db;
pub mod engine;
pub mod error;
pub mod generate;
pub mod http;
pub mod jobs;
pub mod machines;
pub mod oauth;
pub mod secret;
pub mod servers;
pub mod services;
pub mod sources;
pub mod standalone;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod throttle;
pub mod vps;
pub mod wizards;
