//! `automcp serve` as a separate process, for what an in-process server
//! cannot show: its memory, kill -9, SIGTERM, a full disk under its log.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

pub struct Process {
    pub addr: SocketAddr,
    child: Child,
    pub data_dir: PathBuf,
}

/// How a process is started.
#[derive(Clone, Default)]
pub struct Options {
    /// Extra `AUTOMCP_*` settings.
    pub env: Vec<(String, String)>,
    /// Where standard error goes (default: discarded).
    pub stderr: Option<PathBuf>,
}

impl Options {
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }
}

impl Process {
    /// Starts `automcp serve` on a free loopback port with `data_dir`, and
    /// waits until it listens.
    pub async fn start(data_dir: &Path, options: &Options) -> Self {
        let addr_dir = tempfile::tempdir().unwrap();
        let addr_file = addr_dir.path().join("addr");
        let stderr = match &options.stderr {
            Some(path) => Stdio::from(std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap()),
            None => Stdio::null(),
        };
        let mut command = Command::new(env!("CARGO_BIN_EXE_automcp"));
        command
            .arg("serve")
            .env("AUTOMCP_BIND", "127.0.0.1:0")
            .env("AUTOMCP_DATA_DIR", data_dir)
            .env("AUTOMCP_ADDR_FILE", &addr_file)
            .env("AUTOMCP_LOG", "warn")
            .env("AUTOMCP_SITE_ROOT", data_dir.join("no-site"))
            .env_remove("AUTOMCP_DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .kill_on_drop(true);
        if let Some(url) = super::test_database_url(data_dir).await {
            command.env("AUTOMCP_DATABASE_URL", url).env("AUTOMCP_SECRET_KEY", super::TEST_SECRET_KEY);
        }
        for (key, value) in &options.env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("automcp starts");
        let started = Instant::now();
        loop {
            if let Ok(text) = std::fs::read_to_string(&addr_file) {
                let addr = text.trim().parse().unwrap();
                return Process { addr, child, data_dir: data_dir.to_owned() };
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("automcp exited before listening: {status}");
            }
            assert!(started.elapsed() < Duration::from_secs(30), "automcp did not listen within 30 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("the process runs")
    }

    /// A field of `/proc/<pid>/status` in KiB (`VmRSS`, `VmHWM`).
    pub fn memory_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc status"))
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// kill -9, and waits for it to be gone.
    pub async fn kill9(mut self) {
        self.child.start_kill().unwrap();
        self.child.wait().await.unwrap();
    }

    /// SIGTERM; waits (at most 30 s) for a clean exit and returns how long it took.
    pub async fn terminate(mut self) -> Duration {
        let started = Instant::now();
        let status = std::process::Command::new("kill").args(["-TERM", &self.pid().to_string()]).status().unwrap();
        assert!(status.success());
        let exit = tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await;
        let exit = exit.expect("automcp stops within 30 s of SIGTERM").unwrap();
        assert!(exit.success(), "automcp exited with {exit}");
        started.elapsed()
    }
}

/// A browser-less client of a process: signs up (the session makes a token)
/// and then speaks `/api/v1` with the token.
pub struct Account {
    pub token: String,
    http: reqwest::Client,
    base: String,
}

impl Account {
    pub async fn sign_up(process: &Process, email: &str) -> Self {
        let browser = reqwest::Client::builder().cookie_store(true).timeout(super::REQUEST_TIMEOUT).build().unwrap();
        let origin = format!("http://{}", process.addr);
        let signed_up = browser
            .post(process.url("/api/fn/sign_up"))
            .header("origin", &origin)
            .header("accept", "application/json")
            .form(&[("email", email), ("password", super::PASSWORD)])
            .send()
            .await
            .unwrap();
        assert!(signed_up.status().is_success() || signed_up.status().is_redirection(), "{}", signed_up.status());
        let created = browser
            .post(process.url("/api/v1/tokens"))
            .header("origin", &origin)
            .json(&serde_json::json!({"name": "tests"}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), reqwest::StatusCode::CREATED);
        let token = super::json(created).await["token"].as_str().unwrap().to_owned();
        Account {
            token,
            http: reqwest::Client::builder().timeout(super::REQUEST_TIMEOUT).build().unwrap(),
            base: format!("http://{}", process.addr),
        }
    }

    /// The same account against another process (a restart on the same data).
    pub fn on(&self, process: &Process) -> Self {
        Account { token: self.token.clone(), http: self.http.clone(), base: format!("http://{}", process.addr) }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> reqwest::Response {
        let mut request = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> serde_json::Value {
        let response = self.send(reqwest::Method::GET, path, None).await;
        assert!(response.status().is_success(), "GET {path}: {}", response.status());
        super::json(response).await
    }

    /// Starts a wizard; returns its id.
    pub async fn start_wizard(&self, body: serde_json::Value) -> String {
        let response = self.send(reqwest::Method::POST, "/api/v1/wizard", Some(body)).await;
        let status = response.status();
        let view = super::json(response).await;
        assert_eq!(status, reqwest::StatusCode::ACCEPTED, "{view}");
        view["id"].as_str().unwrap().to_owned()
    }

    /// Polls a wizard until it leaves `processing` (at most `limit`);
    /// returns the view and how long it took.
    pub async fn settle(&self, id: &str, limit: Duration) -> (serde_json::Value, Duration) {
        let started = Instant::now();
        loop {
            let response = self.send(reqwest::Method::GET, &format!("/api/v1/wizard/{id}"), None).await;
            if response.status().is_success() {
                let view = super::json(response).await;
                if view["processing_status"] != "processing" {
                    return (view, started.elapsed());
                }
            }
            assert!(started.elapsed() < limit, "wizard {id} still processing after {limit:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
