//! The deploy plan, pure: where files go on the machine and the shell
//! commands that install, start, switch, stop and remove a release. The
//! executor ([`super::deploy`]) runs these over SSH; tests read them.
//!
//! Layout under the target's base directory (default `~/.automcp`):
//!
//! ```text
//! bin/automcp-<sha256 prefix>      each uploaded binary once, shared by releases
//! servers/<slug>/releases/<n>/     automcp (hard link), spec.json, env (0600), run.sh,
//!                                  addr (written by the runner), run.log, supervisor.pid
//! servers/<slug>/current           symlink to the release serving
//! ~/.config/systemd/user/automcp-<slug>-<n>.service   (where systemd is available)
//! ```

/// How a release is kept running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Supervisor {
    /// A systemd user unit (restarts on failure).
    Systemd,
    /// A shell loop in its own session, pid file and log file beside it.
    Process,
}

impl Supervisor {
    pub fn as_str(self) -> &'static str {
        match self {
            Supervisor::Systemd => "systemd",
            Supervisor::Process => "process",
        }
    }

    pub fn parse(text: &str) -> Supervisor {
        if text == "systemd" { Supervisor::Systemd } else { Supervisor::Process }
    }
}

/// Quotes `text` for a POSIX shell (single quotes).
pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A base directory as given (`~/...` is left for the remote shell).
fn path_expr(path: &str) -> String {
    match path.strip_prefix("~/") {
        Some(rest) => format!("\"$HOME\"/{}", quote(rest)),
        None => quote(path),
    }
}

/// Paths of one server's releases on the machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The target's base directory, e.g. `~/.automcp`.
    pub base: String,
    pub slug: String,
}

impl Layout {
    pub fn server_dir(&self) -> String {
        format!("{}/servers/{}", self.base.trim_end_matches('/'), self.slug)
    }

    pub fn release_dir(&self, release: u32) -> String {
        format!("{}/releases/{release}", self.server_dir())
    }

    pub fn binary(&self, sha256: &str) -> String {
        format!("{}/bin/automcp-{}", self.base.trim_end_matches('/'), &sha256[..16.min(sha256.len())])
    }

    fn q(path: &str) -> String {
        path_expr(path)
    }

    /// Checks the machine: prints `uname -sm` and whether a user systemd runs.
    pub fn probe() -> &'static str {
        "uname -sm; if command -v systemctl >/dev/null 2>&1 && systemctl --user show-environment >/dev/null 2>&1; \
         then echo systemd; else echo process; fi"
    }

    /// Creates the release directory (private to the user).
    pub fn prepare(&self, release: u32) -> String {
        format!(
            "umask 077 && mkdir -p {} {} && rm -rf {rel}/* && mkdir -p {rel}",
            Self::q(&format!("{}/bin", self.base.trim_end_matches('/'))),
            Self::q(&self.server_dir()),
            rel = Self::q(&self.release_dir(release)),
        )
    }

    /// Prints `present` when the binary is already on the machine.
    pub fn has_binary(&self, sha256: &str) -> String {
        format!("test -x {} && echo present || echo missing", Self::q(&self.binary(sha256)))
    }

    /// The gzip stream of a binary as it arrives (kept across connections).
    fn upload_part(&self, sha256: &str) -> String {
        format!("{}.gz.part", self.binary(sha256))
    }

    /// Prints how many bytes of an interrupted upload are on the machine.
    pub fn upload_offset(&self, sha256: &str) -> String {
        let part = Self::q(&self.upload_part(sha256));
        format!("if [ -f {part} ]; then wc -c < {part}; else echo 0; fi")
    }

    /// Appends stdin to the upload (`fresh`: starts it over).
    pub fn append_upload(&self, sha256: &str, fresh: bool) -> String {
        let redirect = if fresh { ">" } else { ">>" };
        format!("umask 077 && cat {redirect} {}", Self::q(&self.upload_part(sha256)))
    }

    /// Unpacks the upload into the shared store if its SHA-256 is `sha256`;
    /// otherwise removes it and fails saying so.
    pub fn unpack_binary(&self, sha256: &str) -> String {
        let gz = Self::q(&self.upload_part(sha256));
        let bin = Self::q(&self.binary(sha256));
        let part = Self::q(&format!("{}.part", self.binary(sha256)));
        format!(
            "umask 077 && gzip -dc {gz} > {part} && [ \"$(sha256sum {part} | cut -d' ' -f1)\" = {sha256} ] \
             && chmod 700 {part} && mv -f {part} {bin} && rm -f {gz} \
             || {{ rm -f {gz} {part}; echo 'the uploaded binary is damaged (gzip or SHA-256 check failed)' >&2; exit 1; }}",
            sha256 = quote(sha256),
        )
    }

    /// Reads a file of the release from stdin (mode 0600).
    pub fn write_file(&self, release: u32, name: &str) -> String {
        format!("umask 077 && cat > {}", Self::q(&format!("{}/{name}", self.release_dir(release))))
    }

    /// Links the binary into the release.
    pub fn install(&self, release: u32, sha256: &str) -> String {
        let rel = self.release_dir(release);
        format!(
            "ln -f {bin} {dst} 2>/dev/null || cp {bin} {dst}; chmod 700 {dst} {run}",
            bin = Self::q(&self.binary(sha256)),
            dst = Self::q(&format!("{rel}/automcp")),
            run = Self::q(&format!("{rel}/run.sh")),
        )
    }

    /// Starts a release under `supervisor`.
    pub fn start(&self, release: u32, supervisor: Supervisor) -> String {
        let rel = Self::q(&self.release_dir(release));
        match supervisor {
            Supervisor::Process => format!(
                "cd {rel} && rm -f addr && (nohup setsid sh -c 'while :; do sh ./run.sh; echo \"automcp exited ($?); \
                 restarting in 2 s\" >&2; sleep 2; done' >> run.log 2>&1 < /dev/null & echo $! > supervisor.pid)"
            ),
            Supervisor::Systemd => {
                let unit = unit_name(&self.slug, release);
                format!(
                    "cd {rel} && rm -f addr && mkdir -p \"$HOME/.config/systemd/user\" && cat > \"$HOME/.config/systemd/user/{unit}\" \
                     && systemctl --user daemon-reload && systemctl --user enable --now {unit}"
                )
            }
        }
    }

    /// Prints the address the release listens on, once it does (waits up to 20 s).
    pub fn wait_addr(&self, release: u32) -> String {
        let addr = Self::q(&format!("{}/addr", self.release_dir(release)));
        format!("for i in $(seq 1 100); do test -s {addr} && cat {addr} && exit 0; sleep 0.2; done; exit 1")
    }

    /// Stops a release (harmless when it is not running).
    pub fn stop(&self, release: u32, supervisor: Supervisor) -> String {
        let rel = Self::q(&self.release_dir(release));
        match supervisor {
            Supervisor::Process => format!(
                "pid=$(cat {rel}/supervisor.pid 2>/dev/null) && kill -TERM -- -\"$pid\" 2>/dev/null; rm -f {rel}/supervisor.pid; true"
            ),
            Supervisor::Systemd => {
                let unit = unit_name(&self.slug, release);
                format!(
                    "systemctl --user disable --now {unit} 2>/dev/null; rm -f \"$HOME/.config/systemd/user/{unit}\"; \
                     systemctl --user daemon-reload 2>/dev/null; true"
                )
            }
        }
    }

    /// Points `current` at a release (atomically).
    pub fn switch(&self, release: u32) -> String {
        let dir = Self::q(&self.server_dir());
        format!("cd {dir} && ln -sfn releases/{release} current.new && mv -fT current.new current")
    }

    /// The last lines of a release's log.
    pub fn logs(&self, release: u32, lines: u32) -> String {
        format!("tail -n {lines} {} 2>&1", Self::q(&format!("{}/run.log", self.release_dir(release))))
    }

    /// Deletes everything of this server (after its releases are stopped).
    pub fn remove(&self) -> String {
        format!("rm -rf {}", Self::q(&self.server_dir()))
    }

    /// How many processes still run inside this server's directory (their
    /// working directory is there, deleted or not); waits up to 3 s for
    /// stopping ones to exit, then prints the count.
    pub fn running(&self) -> String {
        let dir = Self::q(&self.server_dir());
        format!(
            "for try in 1 2 3 4 5 6 7 8 9 10; do n=0; for p in /proc/[0-9]*; do case \"$(readlink \"$p/cwd\" 2>/dev/null)\" in \
             {dir}/*) n=$((n+1));; esac; done; [ \"$n\" -eq 0 ] && break; sleep 0.3; done; echo $n"
        )
    }
}

/// The systemd user unit of one release.
pub fn unit_name(slug: &str, release: u32) -> String {
    format!("automcp-{slug}-{release}.service")
}

/// The unit file: runs `run.sh` in the release directory, restarts on
/// failure, appends output to `run.log`.
pub fn systemd_unit(layout: &Layout, release: u32) -> String {
    let dir = layout.release_dir(release).replace("~/", "%h/");
    format!(
        "[Unit]\n\
         Description=AutoMCP server {slug} (release {release})\n\
         After=network-online.target\n\
         \n\
         [Service]\n\
         Type=simple\n\
         WorkingDirectory={dir}\n\
         ExecStart=/bin/sh {dir}/run.sh\n\
         Restart=on-failure\n\
         RestartSec=2\n\
         StandardOutput=append:{dir}/run.log\n\
         StandardError=append:{dir}/run.log\n\
         NoNewPrivileges=yes\n\
         PrivateTmp=yes\n\
         \n\
         [Install]\n\
         WantedBy=default.target\n",
        slug = layout.slug,
    )
}

/// `run.sh`: loads the env file and runs the release.
pub fn run_script() -> &'static str {
    "#!/bin/sh\n# Written by AutoMCP. Runs this release in the foreground.\ncd \"$(dirname \"$0\")\" || exit 1\n\
     set -a\n. ./env\nset +a\nexec ./automcp run-spec --spec spec.json --addr-file addr\n"
}

/// The env file (sourced by `run.sh`): one `NAME='value'` per line.
pub fn env_file(vars: &[(String, String)]) -> String {
    vars.iter().map(|(name, value)| format!("{name}={}\n", quote(value))).collect()
}

/// Checks `uname -sm` against what this binary was built for.
pub fn check_platform(uname: &str) -> Result<(), String> {
    let mut parts = uname.split_whitespace();
    let (os, arch) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let want_os = std::env::consts::OS;
    let want_arch = std::env::consts::ARCH;
    let arch_ok = arch == want_arch || (want_arch == "aarch64" && arch == "arm64");
    if os.eq_ignore_ascii_case(want_os) && arch_ok {
        Ok(())
    } else {
        Err(format!(
            "the machine runs {os} on {arch}, but this AutoMCP is built for {want_os} on {want_arch}; use a {want_os} \
             {want_arch} machine"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Layout {
        Layout { base: "~/.automcp".into(), slug: "weather".into() }
    }

    #[test]
    fn systemd_unit_snapshot() {
        assert_eq!(
            systemd_unit(&layout(), 3),
            "[Unit]
Description=AutoMCP server weather (release 3)
After=network-online.target

[Service]
Type=simple
WorkingDirectory=%h/.automcp/servers/weather/releases/3
ExecStart=/bin/sh %h/.automcp/servers/weather/releases/3/run.sh
Restart=on-failure
RestartSec=2
StandardOutput=append:%h/.automcp/servers/weather/releases/3/run.log
StandardError=append:%h/.automcp/servers/weather/releases/3/run.log
NoNewPrivileges=yes
PrivateTmp=yes

[Install]
WantedBy=default.target
"
        );
        assert_eq!(unit_name("weather", 3), "automcp-weather-3.service");
    }

    #[test]
    fn paths_and_quoting() {
        let l = layout();
        assert_eq!(l.release_dir(2), "~/.automcp/servers/weather/releases/2");
        assert_eq!(l.binary("0123456789abcdef0123"), "~/.automcp/bin/automcp-0123456789abcdef");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert!(l.switch(2).contains("\"$HOME\"/'.automcp/servers/weather'"), "{}", l.switch(2));
        let absolute = Layout { base: "/srv/a b".into(), slug: "w".into() };
        assert!(absolute.remove().ends_with("'/srv/a b/servers/w'"), "{}", absolute.remove());
    }

    #[test]
    fn env_file_quotes_every_value() {
        let text = env_file(&[("A".into(), "x y".into()), ("B".into(), "$(rm -rf /)'".into())]);
        assert_eq!(text, "A='x y'\nB='$(rm -rf /)'\\'''\n");
    }

    #[test]
    fn platform_check() {
        let here = format!("{} {}", std::env::consts::OS, std::env::consts::ARCH);
        assert!(check_platform(&here).is_ok());
        let error = check_platform("Darwin arm64").unwrap_err();
        assert!(error.contains("Darwin on arm64"), "{error}");
        assert!(check_platform("Linux riscv64").is_err());
    }
}
