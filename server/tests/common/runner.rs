//! `automcp run-spec` as a separate process: a real MCP server for tests.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

#[derive(Debug)]
pub struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `automcp run-spec` and returns it with its address (or its error output).
pub fn run_spec(spec: &serde_json::Value, env: &[(&str, &str)], args: &[&str]) -> Result<(Running, String), String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.json");
    std::fs::write(&path, serde_json::to_vec(spec).unwrap()).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_automcp"));
    command
        .args(["run-spec", "--spec"])
        .arg(&path)
        .args(args)
        .env("AUTOMCP_BIND", "127.0.0.1:0")
        .env("AUTOMCP_LOG_FORMAT", "json")
        .env("AUTOMCP_ALLOW_PRIVATE_UPSTREAMS", "true")
        .env_remove("AUTOMCP_SERVER_TOKEN_SHA256")
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    while let Some(Ok(line)) = lines.next() {
        if line.contains("standalone server is listening") {
            let log: serde_json::Value = serde_json::from_str(&line).unwrap();
            let addr = log["addr"].as_str().unwrap().to_owned();
            std::thread::spawn(move || lines.for_each(drop));
            return Ok((Running(child), addr));
        }
        seen.push(line);
    }
    let _ = child.wait();
    Err(seen.join("\n"))
}
