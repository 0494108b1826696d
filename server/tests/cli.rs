//! The `automcp` binary itself: operator commands and graceful shutdown.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_automcp");

fn automcp(data: &std::path::Path, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .env("AUTOMCP_DATA_DIR", data)
        .env("AUTOMCP_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn operator_commands_manage_users_and_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();

    let (ok, out, err) = automcp(
        data,
        &["user", "create", "--email", "ops@example.com", "--password-stdin", "--tier", "paid"],
        "correct horse battery\n",
    );
    assert!(ok, "{err}");
    assert!(out.contains("ops@example.com") && out.contains("paid") && out.contains("admin"), "{out}");

    let (ok, _, err) =
        automcp(data, &["user", "create", "--email", "ops@example.com", "--password-stdin"], "correct horse battery\n");
    assert!(!ok);
    assert!(err.contains("already exists"), "{err}");

    let (ok, _, err) = automcp(data, &["user", "create", "--email", "weak@example.com", "--password-stdin"], "short\n");
    assert!(!ok);
    assert!(err.contains("at least 10"), "{err}");

    let (ok, out, err) = automcp(data, &["user", "set-tier", "--email", "ops@example.com", "--tier", "free"], "");
    assert!(ok, "{err}");
    assert!(out.contains("free tier"), "{out}");

    let (ok, out, err) = automcp(data, &["token", "create", "--email", "ops@example.com"], "");
    assert!(ok, "{err}");
    let token = out.trim();
    assert!(token.starts_with("amcp_pat_") && token.len() > 40, "{out}");

    let (ok, _, err) = automcp(data, &["token", "create", "--email", "ghost@example.com"], "");
    assert!(!ok);
    assert!(err.contains("no account"), "{err}");

    let args = ["token", "create", "--email", "ops@example.com", "--name", "ci", "--expires-in-days", "7"];
    let (ok, out, err) = automcp(data, &args, "");
    assert!(ok, "{err}");
    assert!(out.trim().starts_with("amcp_pat_"), "{out}");
    let args = ["token", "create", "--email", "ops@example.com", "--expires-in-days", "0"];
    let (ok, _, err) = automcp(data, &args, "");
    assert!(!ok);
    assert!(err.contains("1 to 3650 days"), "{err}");

    let (ok, _, err) = automcp(data, &["user", "set-tier", "--email", "ops@example.com", "--tier", "gold"], "");
    assert!(!ok);
    assert!(err.contains("gold"), "{err}");
}

#[test]
fn serve_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .arg("serve")
        .env("AUTOMCP_DATA_DIR", dir.path())
        .env("AUTOMCP_BIND", "127.0.0.1:0")
        .env("AUTOMCP_LOG_FORMAT", "json")
        .env("AUTOMCP_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("server exited before listening").unwrap();
        if line.contains("AutoMCP is listening") {
            let log: serde_json::Value = serde_json::from_str(&line).unwrap();
            break log["addr"].as_str().unwrap().to_owned();
        }
    };
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    write!(stream, "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    std::io::Read::read_to_string(&mut stream, &mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    let started = Instant::now();
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("SIGTERM")), "{rest:?}");
}

#[test]
fn migrate_brings_the_database_up_to_date_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = automcp(dir.path(), &["migrate"], "");
    assert!(ok, "{err}");
    let newest = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations"))
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.split('_').next()?.parse::<i64>().ok())
        .max()
        .unwrap();
    assert_eq!(out.trim(), format!("the sqlite database is up to date (migration {newest})"));
    let (ok, again, _) = automcp(dir.path(), &["migrate"], "");
    assert!(ok && again == out, "running it again changes nothing: {again}");
}
