//! What the benchmark programs share: a release `automcp` (or a helper
//! process) on loopback, killed when dropped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A child process listening at `addr`.
pub struct Proc {
    pub child: Child,
    pub addr: String,
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// `AUTOMCP_BIN`, or `automcp` beside this program's directory.
pub fn automcp_bin() -> PathBuf {
    std::env::var_os("AUTOMCP_BIN").map(Into::into).unwrap_or_else(|| {
        let exe = std::env::current_exe().unwrap();
        exe.parent().unwrap().parent().unwrap().join("automcp")
    })
}

/// `automcp` on `data`, a free loopback port, JSON logs, loopback upstreams allowed.
pub fn automcp_command(data: &Path) -> Command {
    let mut command = Command::new(automcp_bin());
    command
        .env("AUTOMCP_DATA_DIR", data)
        .env("AUTOMCP_BIND", "127.0.0.1:0")
        .env("AUTOMCP_LOG_FORMAT", "json")
        .env("AUTOMCP_LOG", "warn,automcp=info")
        .env("AUTOMCP_ALLOW_PRIVATE_UPSTREAMS", "true");
    command
}

/// Runs `automcp serve` as `command` sets it up, once it listens.
pub fn serve(mut command: Command) -> Proc {
    let mut child =
        command.arg("serve").stderr(Stdio::piped()).spawn().expect("run the release automcp (set AUTOMCP_BIN)");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("automcp exited").unwrap();
        if line.contains("AutoMCP is listening") {
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            break v["addr"].as_str().unwrap().to_owned();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    Proc { child, addr }
}
