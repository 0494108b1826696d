//! Hosting on the user's own machine over SSH, against a real OpenSSH server
//! on loopback (Debian's sshd with its own host key and authorized key):
//! deploy, redeploy, roll back, stop, start, remove, logs, and the failures.

mod common;

use common::sshd::Sshd;
use common::upstream::Upstream;
use common::{Era, call, mcp_client, text};
use serde_json::json;
use server::engine::outbound::Outbound;
use server::engine::ssrf::{AddressPolicy, SystemResolver};
use server::vps::deploy::{self, Binary, Progress, Release, StepEvent};
use server::vps::plan::{Layout, Supervisor};
use server::vps::ssh::{Ssh, SshError, Target, generate_key};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const RUNNER_TOKEN: &str = "amcp_run_test-runner-token";

fn outbound() -> Outbound {
    Outbound::with_resolver(AddressPolicy { allow_private: true }, Arc::new(SystemResolver), Duration::from_secs(5))
}

fn binary() -> Binary {
    Binary::from_file(std::path::Path::new(env!("CARGO_BIN_EXE_automcp"))).unwrap()
}

fn spec(up: &Upstream, tools: &[&str]) -> Vec<u8> {
    let tools: Vec<_> = tools
        .iter()
        .map(|name| {
            json!({"name": name, "description": format!("{name} for a city"),
                   "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
                   "action": {"method": "GET", "url": up.url(&format!("/{name}/{{city}}"))}})
        })
        .collect();
    serde_json::to_vec(&json!({"name": "Weather", "slug": "weather", "tools": tools})).unwrap()
}

fn env() -> Vec<(String, String)> {
    [
        ("AUTOMCP_SERVER_TOKEN_SHA256", hex::encode(Sha256::digest(RUNNER_TOKEN.as_bytes()))),
        ("AUTOMCP_BIND", "127.0.0.1:0".into()),
        ("AUTOMCP_PUBLIC_URL", "http://127.0.0.1:0/".into()),
        ("AUTOMCP_ALLOW_PRIVATE_UPSTREAMS", "true".into()),
        ("AUTOMCP_LOG_FORMAT", "json".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// Collects the step events of one operation.
fn recorder() -> (Progress, Arc<Mutex<Vec<StepEvent>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    (Arc::new(move |event| sink.lock().unwrap().push(event)), events)
}

struct Machine {
    sshd: Sshd,
    target: Target,
    layout: Layout,
}

fn machine() -> Machine {
    let (private, public) = generate_key("automcp-test");
    let sshd = Sshd::start(&public);
    let target = Target {
        host: "127.0.0.1".into(),
        port: sshd.port,
        user: sshd.user.clone(),
        private_key: private,
        host_key: None,
        allow_private: true,
    };
    // The default base directory, in the machine's (temporary) home.
    let layout = Layout { base: "~/.automcp".into(), slug: "weather".into() };
    Machine { sshd, target, layout }
}

async fn tools_at(endpoint: &str) -> Vec<String> {
    let client = mcp_client(&format!("http://{endpoint}/mcp"), Some(RUNNER_TOKEN), Era::Modern).await.unwrap();
    client.list_all_tools().await.unwrap().into_iter().map(|t| t.name.to_string()).collect()
}

fn refused(endpoint: &str) -> bool {
    std::net::TcpStream::connect_timeout(&endpoint.parse().unwrap(), Duration::from_secs(1)).is_err()
}

#[tokio::test]
async fn deploy_redeploy_rollback_stop_start_remove() {
    let m = machine();
    let up = Upstream::start().await;
    let binary = binary();
    let outbound = outbound();

    // First contact: the host key is reported (to be confirmed and pinned).
    let ssh = Ssh::connect(&m.target).await.unwrap();
    assert_eq!(ssh.host_key, m.sshd.host_key_fingerprint());
    let pinned = Target { host_key: Some(ssh.host_key.clone()), ..m.target.clone() };
    let (uname, supervisor) = deploy::probe(&ssh).await.unwrap();
    assert!(uname.starts_with("Linux"), "{uname}");
    assert_eq!(supervisor, Supervisor::Process, "no user systemd in the test machine");
    ssh.close().await;

    // Release 1.
    let (progress, events) = recorder();
    let ssh = deploy::connect(&pinned, &progress).await.unwrap();
    let release = |number: u32, tools: &[&str]| Release {
        target: pinned.clone(),
        layout: m.layout.clone(),
        number,
        spec_json: spec(&up, tools),
        env: env(),
        runner_token: RUNNER_TOKEN.into(),
    };
    let first =
        deploy::deploy(&ssh, &release(1, &["forecast", "alerts"]), &binary, None, &outbound, &progress).await.unwrap();
    let steps: Vec<(String, String)> =
        events.lock().unwrap().iter().map(|e| (e.step.clone(), e.status.clone())).collect();
    for step in deploy::STEPS {
        assert!(steps.contains(&(step.to_owned(), "done".to_owned())), "{step} done: {steps:?}");
    }
    let upload = events.lock().unwrap().iter().find(|e| e.step == "upload" && e.status == "running").unwrap().clone();
    assert!(upload.detail.contains("MiB"), "the upload shows its size: {}", upload.detail);
    assert_eq!(first.tools, 2);

    let client = mcp_client(&format!("http://{}/mcp", first.endpoint), Some(RUNNER_TOKEN), Era::Legacy).await.unwrap();
    let result = call(&client, "forecast", json!({"city": "Oslo"})).await.unwrap();
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    assert_eq!(up.last().path, "/forecast/Oslo");
    assert!(mcp_client(&format!("http://{}/mcp", first.endpoint), None, Era::Modern).await.is_err(), "token required");

    // The env file holds the credentials: readable by the user only.
    let release_dir = m.sshd.base_dir().join("servers/weather/releases/1");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(release_dir.join("env")).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(
        std::fs::read_link(m.sshd.base_dir().join("servers/weather/current")).unwrap(),
        std::path::Path::new("releases/1")
    );

    // Release 2 changes what is served; release 1 stops. The binary is not sent again.
    let (progress, events) = recorder();
    let second =
        deploy::deploy(&ssh, &release(2, &["radar"]), &binary, Some((1, first.supervisor)), &outbound, &progress)
            .await
            .unwrap();
    assert_eq!(tools_at(&second.endpoint).await, ["radar"]);
    assert!(refused(&first.endpoint), "release 1 is stopped");
    let upload = events.lock().unwrap().iter().find(|e| e.step == "upload" && e.status == "done").unwrap().clone();
    assert!(upload.detail.contains("already on the machine"), "{}", upload.detail);

    // Roll back to release 1.
    let (progress, _) = recorder();
    let back = deploy::rollback(
        &ssh,
        &m.layout,
        "127.0.0.1",
        RUNNER_TOKEN,
        (1, Supervisor::Process),
        (2, second.supervisor),
        &outbound,
        &progress,
    )
    .await
    .unwrap();
    assert_eq!(tools_at(&back.endpoint).await, ["forecast", "alerts"]);
    assert!(refused(&second.endpoint), "release 2 is stopped");

    // Logs, stop, start.
    let log = deploy::logs(&ssh, &m.layout, 1, 50).await.unwrap();
    assert!(log.contains("standalone server is listening"), "{log}");
    deploy::stop(&ssh, &m.layout, (1, Supervisor::Process)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(refused(&back.endpoint), "stopped");
    let (progress, _) = recorder();
    let again =
        deploy::start(&ssh, &m.layout, "127.0.0.1", RUNNER_TOKEN, (1, Supervisor::Process), &outbound, &progress)
            .await
            .unwrap();
    assert_eq!(tools_at(&again.endpoint).await, ["forecast", "alerts"]);

    // Remove: nothing left running or on disk.
    deploy::remove(&ssh, &m.layout, &[(1, Supervisor::Process), (2, Supervisor::Process)]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(refused(&again.endpoint));
    assert!(!m.sshd.base_dir().join("servers/weather").exists());
    ssh.close().await;
}

/// The upload is gzip-compressed and resumable: an interrupted upload of the
/// same version is continued where it stopped; a damaged one is sent again.
#[tokio::test]
async fn an_interrupted_upload_is_resumed_and_a_damaged_one_sent_again() {
    let m = machine();
    let up = Upstream::start().await;
    let binary = binary();
    let gzip = binary.gzip().await.unwrap();
    assert!(gzip.len() < binary.bytes.len() / 2, "compressed: {} of {}", gzip.len(), binary.bytes.len());
    let bin_dir = m.sshd.base_dir().join("bin");
    let part = bin_dir.join(format!("automcp-{}.gz.part", &binary.sha256[..16]));
    let installed = bin_dir.join(format!("automcp-{}", &binary.sha256[..16]));
    std::fs::create_dir_all(&bin_dir).unwrap();

    let release = |number: u32| Release {
        target: m.target.clone(),
        layout: m.layout.clone(),
        number,
        spec_json: spec(&up, &["forecast"]),
        env: env(),
        runner_token: RUNNER_TOKEN.into(),
    };
    let upload_detail = |events: &Arc<Mutex<Vec<StepEvent>>>| {
        events.lock().unwrap().iter().find(|e| e.step == "upload" && e.status == "done").unwrap().detail.clone()
    };

    // The first half arrived before the connection dropped.
    std::fs::write(&part, &gzip[..gzip.len() / 2]).unwrap();
    let (progress, events) = recorder();
    let ssh = deploy::connect(&m.target, &progress).await.unwrap();
    let first = deploy::deploy(&ssh, &release(1), &binary, None, &outbound(), &progress).await.unwrap();
    let detail = upload_detail(&events);
    assert!(detail.contains("resumed an interrupted upload"), "{detail}");
    assert_eq!(std::fs::read(&installed).unwrap(), *binary.bytes, "the unpacked binary is the one sent");
    assert!(!part.exists(), "the partial upload is cleaned up");
    assert_eq!(tools_at(&first.endpoint).await, ["forecast"]);

    // A partial upload that is not a prefix of this version's stream.
    std::fs::remove_file(&installed).unwrap();
    std::fs::write(&part, b"not what was sent").unwrap();
    let (progress, events) = recorder();
    let second =
        deploy::deploy(&ssh, &release(2), &binary, Some((1, first.supervisor)), &outbound(), &progress).await.unwrap();
    let detail = upload_detail(&events);
    assert!(detail.contains("the interrupted upload was unusable"), "{detail}");
    assert_eq!(std::fs::read(&installed).unwrap(), *binary.bytes);
    assert_eq!(tools_at(&second.endpoint).await, ["forecast"]);
    deploy::remove(&ssh, &m.layout, &[(1, Supervisor::Process), (2, Supervisor::Process)]).await.unwrap();
    ssh.close().await;
}

#[tokio::test]
async fn failures_are_clear_and_the_previous_release_keeps_serving() {
    let m = machine();
    let up = Upstream::start().await;
    let binary = binary();
    let outbound = outbound();

    // Wrong key.
    let (other_key, _) = generate_key("someone-else");
    let wrong = Target { private_key: other_key, ..m.target.clone() };
    let error = Ssh::connect(&wrong).await.err().unwrap();
    assert!(matches!(error, SshError::AuthRefused { .. }), "{error}");
    assert!(error.to_string().contains("authorized_keys"), "{error}");

    // Host key mismatch.
    let spoofed =
        Target { host_key: Some("SHA256:AAAAnotthekeyyoupinnedAAAAAAAAAAAAAAAAAAAAA".into()), ..m.target.clone() };
    let error = Ssh::connect(&spoofed).await.err().unwrap();
    assert!(matches!(error, SshError::HostKeyChanged { .. }), "{error}");
    assert!(error.to_string().contains(&m.sshd.host_key_fingerprint()), "{error}");

    // The SSRF guard applies to machines too (unless the operator allows private addresses).
    let error = Ssh::connect(&Target { allow_private: false, ..m.target.clone() }).await.err().unwrap();
    assert!(error.to_string().contains("refusing to connect to 127.0.0.1"), "{error}");

    // Closed port.
    let closed = { std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port() };
    let error = Ssh::connect(&Target { port: closed, ..m.target.clone() }).await.err().unwrap();
    assert!(matches!(error, SshError::Connect { .. }), "{error}");

    // A release that serves, then one that cannot start (its spec needs a
    // credential the env file lacks): the step and the remote error are
    // reported, and release 1 keeps serving.
    let (progress, _) = recorder();
    let ssh = deploy::connect(&m.target, &progress).await.unwrap();
    let good = Release {
        target: m.target.clone(),
        layout: m.layout.clone(),
        number: 1,
        spec_json: spec(&up, &["forecast"]),
        env: env(),
        runner_token: RUNNER_TOKEN.into(),
    };
    let serving = deploy::deploy(&ssh, &good, &binary, None, &outbound, &progress).await.unwrap();

    let mut bad_spec: serde_json::Value = serde_json::from_slice(&spec(&up, &["forecast"])).unwrap();
    bad_spec["tools"][0]["action"]["auth"] =
        json!({"credential": "weather-key", "placement": {"in": "query", "name": "appid"}});
    let bad = Release { number: 2, spec_json: serde_json::to_vec(&bad_spec).unwrap(), ..good };
    let (progress, events) = recorder();
    let failed =
        deploy::deploy(&ssh, &bad, &binary, Some((1, serving.supervisor)), &outbound, &progress).await.unwrap_err();
    assert_eq!(failed.step, "start", "{failed}");
    assert!(failed.message.contains("AUTOMCP_CREDENTIAL_WEATHER_KEY"), "the remote error is quoted: {failed}");
    assert!(events.lock().unwrap().iter().any(|e| e.step == "start" && e.status == "failed"));
    assert_eq!(tools_at(&serving.endpoint).await, ["forecast"], "release 1 still serves");
    assert_eq!(
        std::fs::read_link(m.sshd.base_dir().join("servers/weather/current")).unwrap(),
        std::path::Path::new("releases/1")
    );

    // A release that starts but fails its health check (it expects another
    // token than the one the check sends): stopped again, release 1 serves.
    let unhealthy = Release {
        target: m.target.clone(),
        layout: m.layout.clone(),
        number: 3,
        spec_json: spec(&up, &["radar"]),
        env: env(),
        runner_token: "amcp_run_not-the-token-in-the-env-file".into(),
    };
    let (progress, _) = recorder();
    let failed = deploy::deploy(&ssh, &unhealthy, &binary, Some((1, serving.supervisor)), &outbound, &progress)
        .await
        .unwrap_err();
    assert_eq!(failed.step, "health", "{failed}");
    assert!(failed.message.contains("refused our credentials"), "{failed}");
    assert_eq!(tools_at(&serving.endpoint).await, ["forecast"], "release 1 still serves");
    let running = ssh.check(&m.layout.running(), None, Duration::from_secs(10)).await.unwrap();
    assert_eq!(running.trim(), "2", "release 1 (supervisor and server) only: release 3 was stopped");

    deploy::remove(&ssh, &m.layout, &[(1, Supervisor::Process), (2, Supervisor::Process)]).await.unwrap();
    ssh.close().await;
}
