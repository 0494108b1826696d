//! Runs the deploy plan over SSH, one step at a time, reporting each step
//! as it starts and ends. A failure names its step and the remote error
//! text; whatever was serving before keeps serving.

use super::plan::{Layout, Supervisor, check_platform, run_script, systemd_unit};
use super::ssh::{Ssh, Target};
use crate::engine::mcp::Remote;
use crate::engine::outbound::Outbound;
use std::sync::Arc;
use std::time::Duration;

const STEP_TIMEOUT: Duration = Duration::from_secs(60);
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(600);

/// The steps of a deploy, in order.
pub const STEPS: [&str; 6] = ["connect", "upload", "install", "start", "health", "switch"];

/// One step's progress, as shown to the user.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StepEvent {
    pub step: String,
    /// `running`, `done` or `failed`.
    pub status: String,
    pub detail: String,
}

/// Receives step events as they happen.
pub type Progress = Arc<dyn Fn(StepEvent) + Send + Sync>;

fn report(progress: &Progress, step: &str, status: &str, detail: impl Into<String>) {
    progress(StepEvent { step: step.into(), status: status.into(), detail: detail.into() });
}

/// A failed operation: which step, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{step} failed: {message}")]
pub struct Failed {
    pub step: String,
    pub message: String,
}

fn failed(progress: &Progress, step: &str, message: impl Into<String>) -> Failed {
    let message = message.into();
    report(progress, step, "failed", message.clone());
    Failed { step: step.into(), message }
}

/// The binary to run on the machine.
#[derive(Clone)]
pub struct Binary {
    pub bytes: Arc<Vec<u8>>,
    pub sha256: String,
    /// Its gzip stream, made on the first upload and kept.
    gzip: Arc<tokio::sync::OnceCell<Arc<Vec<u8>>>>,
}

impl Binary {
    /// This very executable (the machine runs what we run).
    pub fn current() -> std::io::Result<Binary> {
        Self::from_file(&std::env::current_exe()?)
    }

    pub fn from_file(path: &std::path::Path) -> std::io::Result<Binary> {
        use sha2::{Digest, Sha256};
        let bytes = std::fs::read(path)?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        Ok(Binary { bytes: Arc::new(bytes), sha256, gzip: Arc::default() })
    }

    /// The gzip stream that is sent (compressed once, off the async threads).
    pub async fn gzip(&self) -> Result<Arc<Vec<u8>>, String> {
        let bytes = self.bytes.clone();
        let compress = || async move {
            let gzip = tokio::task::spawn_blocking(move || gzip(&bytes)).await.map_err(|e| e.to_string())?;
            gzip.map(Arc::new).map_err(|e| format!("compress the binary: {e}"))
        };
        self.gzip.get_or_try_init(compress).await.cloned()
    }
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 2), flate2::Compression::new(6));
    encoder.write_all(bytes)?;
    encoder.finish()
}

/// Everything a deploy of one release needs.
pub struct Release {
    pub target: Target,
    pub layout: Layout,
    pub number: u32,
    pub spec_json: Vec<u8>,
    /// The env file's variables (token hash, credentials, bind address).
    pub env: Vec<(String, String)>,
    /// The token the main instance sends to this release.
    pub runner_token: String,
}

/// A release that serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Serving {
    pub number: u32,
    pub supervisor: Supervisor,
    /// `host:port` the main instance reaches it at.
    pub endpoint: String,
    /// How many tools it listed in the health check.
    pub tools: usize,
}

/// Sends the binary unless the machine has it: gzip-compressed, resumed
/// where an interrupted upload of the same version stopped, unpacked and
/// checked against its SHA-256 on the machine. A resumed upload that does not
/// check out is sent again whole, once. Says what it did.
async fn upload_binary(ssh: &Ssh, layout: &Layout, binary: &Binary) -> Result<String, String> {
    let present = ssh.check(&layout.has_binary(&binary.sha256), None, STEP_TIMEOUT).await?;
    if present.trim() == "present" {
        return Ok("binary already on the machine".to_owned());
    }
    let gzip = binary.gzip().await?;
    let offset: usize =
        ssh.check(&layout.upload_offset(&binary.sha256), None, STEP_TIMEOUT).await?.trim().parse().unwrap_or(0);
    let resumed = offset > 0 && offset < gzip.len();
    let start = if resumed { offset } else { 0 };
    ssh.check(&layout.append_upload(&binary.sha256, start == 0), Some(&gzip[start..]), UPLOAD_TIMEOUT).await?;
    match ssh.check(&layout.unpack_binary(&binary.sha256), None, UPLOAD_TIMEOUT).await {
        Ok(_) if resumed => Ok(format!(
            "resumed an interrupted upload: sent {} of {} compressed ({} unpacked)",
            human_size(gzip.len() - start),
            human_size(gzip.len()),
            human_size(binary.bytes.len())
        )),
        Ok(_) => {
            Ok(format!("uploaded {} compressed ({} unpacked)", human_size(gzip.len()), human_size(binary.bytes.len())))
        }
        Err(_) if resumed => {
            ssh.check(&layout.append_upload(&binary.sha256, true), Some(&gzip), UPLOAD_TIMEOUT).await?;
            ssh.check(&layout.unpack_binary(&binary.sha256), None, UPLOAD_TIMEOUT).await?;
            Ok(format!("uploaded {} compressed (the interrupted upload was unusable)", human_size(gzip.len())))
        }
        Err(error) => Err(error),
    }
}

/// Connects (the first step of every operation).
pub async fn connect(target: &Target, progress: &Progress) -> Result<Ssh, Failed> {
    report(progress, "connect", "running", format!("{}@{}", target.user, target.addr()));
    let ssh = Ssh::connect(target).await.map_err(|e| failed(progress, "connect", e.to_string()))?;
    report(progress, "connect", "done", format!("host key {}", ssh.host_key));
    Ok(ssh)
}

/// Checks the platform and finds the supervisor to use.
pub async fn probe(ssh: &Ssh) -> Result<(String, Supervisor), String> {
    let out = ssh.check(Layout::probe(), None, STEP_TIMEOUT).await?;
    let mut lines = out.lines();
    let uname = lines.next().unwrap_or_default().trim().to_owned();
    check_platform(&uname)?;
    let supervisor = Supervisor::parse(lines.next().unwrap_or_default().trim());
    Ok((uname, supervisor))
}

/// Uploads, installs, starts and health-checks a new release, then points
/// `current` at it and stops `previous`. On failure the new release is
/// stopped and `previous` keeps serving.
pub async fn deploy(
    ssh: &Ssh,
    release: &Release,
    binary: &Binary,
    previous: Option<(u32, Supervisor)>,
    outbound: &Outbound,
    progress: &Progress,
) -> Result<Serving, Failed> {
    let layout = &release.layout;
    let n = release.number;
    let (_, supervisor) = probe(ssh).await.map_err(|e| failed(progress, "connect", e))?;

    // Upload: the binary once per version, then this release's files.
    report(progress, "upload", "running", format!("automcp binary, {}", human_size(binary.bytes.len())));
    ssh.check(&layout.prepare(n), None, STEP_TIMEOUT).await.map_err(|e| failed(progress, "upload", e))?;
    let uploaded = upload_binary(ssh, layout, binary).await.map_err(|e| failed(progress, "upload", e))?;
    let env = super::plan::env_file(&release.env);
    for (name, bytes) in
        [("spec.json", release.spec_json.as_slice()), ("env", env.as_bytes()), ("run.sh", run_script().as_bytes())]
    {
        ssh.check(&layout.write_file(n, name), Some(bytes), STEP_TIMEOUT)
            .await
            .map_err(|e| failed(progress, "upload", format!("{name}: {e}")))?;
    }
    report(progress, "upload", "done", format!("{uploaded}; spec, env file (0600) and run script written"));

    report(progress, "install", "running", format!("release {n}"));
    ssh.check(&layout.install(n, &binary.sha256), None, STEP_TIMEOUT)
        .await
        .map_err(|e| failed(progress, "install", e))?;
    report(progress, "install", "done", format!("release {n} in {}", layout.release_dir(n)));

    let (endpoint, tools) =
        bring_up(ssh, layout, n, supervisor, &release.target.host, &release.runner_token, outbound, progress).await?;

    switch(ssh, layout, n, previous, &endpoint, progress).await?;
    Ok(Serving { number: n, supervisor, endpoint, tools })
}

/// Starts release `n`, waits for its address and health-checks it; stops it
/// again when that fails. Returns `host:port` and the tool count.
#[allow(clippy::too_many_arguments)]
async fn bring_up(
    ssh: &Ssh,
    layout: &Layout,
    n: u32,
    supervisor: Supervisor,
    host: &str,
    token: &str,
    outbound: &Outbound,
    progress: &Progress,
) -> Result<(String, usize), Failed> {
    report(progress, "start", "running", format!("release {n} with {}", supervisor.as_str()));
    let unit = systemd_unit(layout, n);
    let stdin = (supervisor == Supervisor::Systemd).then_some(unit.as_bytes());
    if let Err(error) = ssh.check(&layout.start(n, supervisor), stdin, STEP_TIMEOUT).await {
        let _ = ssh.run(&layout.stop(n, supervisor), None, STEP_TIMEOUT).await;
        return Err(failed(progress, "start", error));
    }
    let log_tail = || async {
        ssh.run(&layout.logs(n, 20), None, STEP_TIMEOUT).await.map(|o| last_lines(&o.stdout, 8)).unwrap_or_default()
    };
    let addr = match ssh.check(&layout.wait_addr(n), None, Duration::from_secs(30)).await {
        Ok(addr) => addr.trim().to_owned(),
        Err(_) => {
            let log = log_tail().await;
            let _ = ssh.run(&layout.stop(n, supervisor), None, STEP_TIMEOUT).await;
            return Err(failed(
                progress,
                "start",
                format!("the server did not start listening within 20 s; its log says: {log}"),
            ));
        }
    };
    let port = addr.rsplit(':').next().unwrap_or_default().to_owned();
    let endpoint = format!("{}:{port}", bracket(host));
    report(progress, "start", "done", format!("listening on port {port}"));

    report(progress, "health", "running", format!("listing tools at http://{endpoint}/mcp"));
    match health(outbound, &endpoint, token).await {
        Ok(tools) => {
            report(progress, "health", "done", format!("{tools} tool(s) listed by an MCP client"));
            Ok((endpoint, tools))
        }
        Err(error) => {
            let log = log_tail().await;
            let _ = ssh.run(&layout.stop(n, supervisor), None, STEP_TIMEOUT).await;
            let message = if log.is_empty() { error } else { format!("{error}; the server's log says: {log}") };
            Err(failed(progress, "health", message))
        }
    }
}

/// Serves the previous release again: start it, health-check it, point
/// `current` at it, stop the one that served.
#[allow(clippy::too_many_arguments)]
pub async fn rollback(
    ssh: &Ssh,
    layout: &Layout,
    host: &str,
    token: &str,
    to: (u32, Supervisor),
    from: (u32, Supervisor),
    outbound: &Outbound,
    progress: &Progress,
) -> Result<Serving, Failed> {
    let (endpoint, tools) = bring_up(ssh, layout, to.0, to.1, host, token, outbound, progress).await?;
    switch(ssh, layout, to.0, Some(from), &endpoint, progress).await?;
    Ok(Serving { number: to.0, supervisor: to.1, endpoint, tools })
}

/// Starts the current release again (after a stop).
pub async fn start(
    ssh: &Ssh,
    layout: &Layout,
    host: &str,
    token: &str,
    current: (u32, Supervisor),
    outbound: &Outbound,
    progress: &Progress,
) -> Result<Serving, Failed> {
    let (endpoint, tools) = bring_up(ssh, layout, current.0, current.1, host, token, outbound, progress).await?;
    Ok(Serving { number: current.0, supervisor: current.1, endpoint, tools })
}

async fn switch(
    ssh: &Ssh,
    layout: &Layout,
    n: u32,
    previous: Option<(u32, Supervisor)>,
    endpoint: &str,
    progress: &Progress,
) -> Result<(), Failed> {
    report(progress, "switch", "running", format!("current -> release {n}"));
    ssh.check(&layout.switch(n), None, STEP_TIMEOUT).await.map_err(|e| failed(progress, "switch", e))?;
    if let Some((old, old_supervisor)) = previous.filter(|(old, _)| *old != n) {
        ssh.check(&layout.stop(old, old_supervisor), None, STEP_TIMEOUT)
            .await
            .map_err(|e| failed(progress, "switch", format!("stopping release {old}: {e}")))?;
    }
    report(progress, "switch", "done", format!("release {n} serves at http://{endpoint}/mcp"));
    Ok(())
}

/// Stops a release.
pub async fn stop(ssh: &Ssh, layout: &Layout, release: (u32, Supervisor)) -> Result<(), String> {
    ssh.check(&layout.stop(release.0, release.1), None, STEP_TIMEOUT).await.map(drop)
}

/// Stops every release and deletes the server's files; checks nothing of it runs.
pub async fn remove(ssh: &Ssh, layout: &Layout, releases: &[(u32, Supervisor)]) -> Result<(), String> {
    for release in releases {
        stop(ssh, layout, *release).await?;
    }
    ssh.check(&layout.remove(), None, STEP_TIMEOUT).await?;
    let running = ssh.check(&layout.running(), None, STEP_TIMEOUT).await?;
    match running.trim() {
        "0" | "" => Ok(()),
        count => Err(format!("{count} process(es) of this server are still running on the machine")),
    }
}

/// The last `lines` lines of a release's log.
pub async fn logs(ssh: &Ssh, layout: &Layout, release: u32, lines: u32) -> Result<String, String> {
    ssh.check(&layout.logs(release, lines), None, STEP_TIMEOUT).await
}

/// Lists the tools of a runner with a real MCP client; returns how many.
pub async fn health(outbound: &Outbound, endpoint: &str, token: &str) -> Result<usize, String> {
    let url = format!("http://{endpoint}/mcp");
    let bearer = format!("Bearer {token}");
    let remote = Remote::new(outbound, &url, Some(("Authorization", &bearer))).map_err(|e| e.message)?;
    let mut last = String::new();
    for _ in 0..10 {
        match remote.list_tools().await {
            Ok(tools) => return Ok(tools.len()),
            Err(error) => last = error.message,
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    Err(format!("the health check failed: {last}"))
}

fn bracket(host: &str) -> String {
    if host.contains(':') { format!("[{host}]") } else { host.to_owned() }
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(n);
    lines[start..].join(" | ")
}

pub fn human_size(bytes: usize) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}
