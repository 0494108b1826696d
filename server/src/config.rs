//! Settings, read from the command line or the environment.
//!
//! Every setting has an `AUTOMCP_*` variable and a default that runs AutoMCP
//! on one machine with nothing else installed. `.env.example` lists them all.

use anyhow::{Context, bail};
use std::net::SocketAddr;
use std::path::PathBuf;
use url::Url;

#[derive(Clone, Debug, clap::Args)]
pub struct Config {
    /// Address and port the HTTP server listens on.
    #[arg(long, env = "AUTOMCP_BIND", default_value = "127.0.0.1:3000", global = true)]
    pub bind: SocketAddr,

    /// The URL people and MCP clients use to reach this instance. Decides the
    /// allowed Origin for forms and whether cookies are marked Secure.
    /// Default: `http://` + the bind address.
    #[arg(long, env = "AUTOMCP_PUBLIC_URL", global = true)]
    pub public_url: Option<Url>,

    /// Directory for the SQLite database and the generated secret key.
    #[arg(long, env = "AUTOMCP_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,

    /// Database URL. Default: `sqlite://<data dir>/automcp.db`.
    #[arg(long, env = "AUTOMCP_DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// 64 hex characters (32 bytes) used to encrypt stored credentials. When
    /// unset, one is generated on first run and kept in `<data dir>/secret.key`.
    #[arg(long, env = "AUTOMCP_SECRET_KEY", hide_env_values = true, global = true)]
    pub secret_key: Option<String>,

    /// Log filter, in `RUST_LOG` syntax (e.g. `info`, `debug,sqlx=warn`).
    #[arg(long, env = "AUTOMCP_LOG", default_value = "info", global = true)]
    pub log: String,

    /// Log format: `text` for people, `json` for log collectors.
    #[arg(long, env = "AUTOMCP_LOG_FORMAT", default_value = "text", global = true)]
    pub log_format: LogFormat,

    /// Let actions call private, loopback and link-local addresses. Off by
    /// default (the SSRF guard refuses them); turn on only for self-hosted
    /// installs whose users are trusted to reach the local network.
    #[arg(long, env = "AUTOMCP_ALLOW_PRIVATE_UPSTREAMS", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub allow_private_upstreams: bool,

    /// Seconds an action's upstream has to answer, in all (connecting takes at most 5).
    #[arg(long, env = "AUTOMCP_UPSTREAM_TIMEOUT_SECS", default_value_t = 15, global = true)]
    pub upstream_timeout_secs: u64,

    /// Tool calls a free account may make per month, across its servers.
    #[arg(long, env = "AUTOMCP_FREE_MONTHLY_CALLS", default_value_t = 10_000, global = true)]
    pub free_monthly_calls: u64,

    /// The `automcp` binary uploaded to paid users' machines (default: this one).
    #[arg(long, env = "AUTOMCP_VPS_BINARY", global = true)]
    pub vps_binary: Option<PathBuf>,

    /// Base URL of an OpenAI-compatible chat-completions API used to propose
    /// tools (e.g. `https://api.openai.com/v1`, `http://localhost:11434/v1`).
    /// Without it, the wizard works from OpenAPI documents only.
    #[arg(long, env = "AUTOMCP_LLM_BASE_URL", global = true)]
    pub llm_base_url: Option<String>,

    /// API key for the LLM API, sent as a bearer token (optional for local models).
    #[arg(long, env = "AUTOMCP_LLM_API_KEY", hide_env_values = true, global = true)]
    pub llm_api_key: Option<String>,

    /// The model name to ask (e.g. `gpt-4o-mini`, `llama3.1`).
    #[arg(long, env = "AUTOMCP_LLM_MODEL", global = true)]
    pub llm_model: Option<String>,

    /// Seconds one LLM request may take.
    #[arg(long, env = "AUTOMCP_LLM_TIMEOUT_SECS", default_value_t = 60, global = true)]
    pub llm_timeout_secs: u64,

    /// Milliseconds a database write waits for a lock held by another
    /// connection or process before it is answered 503 (Retry-After).
    #[arg(long, env = "AUTOMCP_DB_BUSY_TIMEOUT_MS", default_value_t = 1000, global = true)]
    pub db_busy_timeout_ms: u64,

    /// Background job workers (tool generation). One account may use all
    /// but one of them at once.
    #[arg(long, env = "AUTOMCP_JOB_WORKERS", default_value_t = 4, global = true)]
    pub job_workers: usize,

    /// Reverse proxies in front of AutoMCP that append to `X-Forwarded-For`.
    /// 0 (the default): the client address is the connection's peer. With N,
    /// the Nth address from the right of `X-Forwarded-For` is the client's.
    #[arg(long, env = "AUTOMCP_TRUSTED_PROXIES", default_value_t = 0, global = true)]
    pub trusted_proxies: usize,

    /// Log-in attempts one client address may make per minute (also the burst).
    #[arg(long, env = "AUTOMCP_LOG_INS_PER_MINUTE", default_value_t = 20, global = true)]
    pub log_ins_per_minute: u32,

    /// Accounts one client address may create per hour (also the burst).
    #[arg(long, env = "AUTOMCP_SIGN_UPS_PER_HOUR", default_value_t = 20, global = true)]
    pub sign_ups_per_hour: u32,

    /// Host names MCP clients may use to reach `/mcp`, besides the public
    /// URL's host, `localhost` and IP addresses (comma-separated). Any other
    /// `Host` is refused, the defence against DNS rebinding.
    #[arg(long, env = "AUTOMCP_ALLOWED_HOSTS", value_delimiter = ',', global = true)]
    pub allowed_hosts: Vec<String>,

    /// Certificates (PEM) to trust for outbound https besides the system's:
    /// a private CA for upstream APIs, or a test's loopback server.
    #[arg(long, env = "AUTOMCP_EXTRA_CA_FILE", global = true)]
    pub extra_ca_file: Option<PathBuf>,

    /// Write the address the server listens on to this file once it is
    /// listening (useful with port 0).
    #[arg(long, env = "AUTOMCP_ADDR_FILE", global = true)]
    pub addr_file: Option<PathBuf>,

    /// Where the built web assets (`pkg/`, favicon) are. Default: `site` in
    /// the directory holding the executable (the build puts them there), else
    /// `target/site`.
    #[arg(long, env = "AUTOMCP_SITE_ROOT", global = true)]
    pub site_root: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl Config {
    pub fn public_url(&self) -> Url {
        self.public_url.clone().unwrap_or_else(|| {
            Url::parse(&format!("http://{}/", self.bind)).expect("a socket address makes a valid URL")
        })
    }

    /// `scheme://host[:port]` of the public URL, as browsers send it in `Origin`.
    pub fn public_origin(&self) -> String {
        self.public_url().origin().ascii_serialization()
    }

    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("automcp.db").display()))
    }

    pub fn cookie_secure(&self) -> bool {
        self.public_url().scheme() == "https"
    }

    pub fn site_root(&self) -> PathBuf {
        if let Some(root) = &self.site_root {
            return root.clone();
        }
        let beside_exe = std::env::current_exe().ok().and_then(|exe| exe.parent().map(|dir| dir.join("site")));
        match beside_exe {
            Some(dir) if dir.join("pkg").is_dir() => dir,
            _ => PathBuf::from("target/site"),
        }
    }

    /// Records the address actually bound (port 0 picks a free port), so
    /// that the default public URL names it. A public URL given with port 0
    /// (`http://host:0/`) takes the bound port too.
    pub fn bound_to(&mut self, addr: SocketAddr) {
        self.bind = addr;
        if let Some(url) = self.public_url.as_mut()
            && url.port() == Some(0)
        {
            let _ = url.set_port(Some(addr.port()));
        }
    }

    pub fn db_busy_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.db_busy_timeout_ms.clamp(10, 60_000))
    }

    /// The LLM settings, when an LLM is configured.
    pub fn llm(&self) -> Option<crate::generate::llm::LlmConfig> {
        Some(crate::generate::llm::LlmConfig {
            base_url: self.llm_base_url.clone()?,
            api_key: self.llm_api_key.clone(),
            model: self.llm_model.clone()?,
            timeout: std::time::Duration::from_secs(self.llm_timeout_secs.max(1)),
        })
    }

    /// Checks what clap cannot: values that parse but make no sense.
    pub fn validate(&self) -> anyhow::Result<()> {
        let url = self.public_url();
        if !matches!(url.scheme(), "http" | "https") {
            bail!("AUTOMCP_PUBLIC_URL must be an http:// or https:// URL, got `{url}`");
        }
        if url.host_str().is_none() {
            bail!("AUTOMCP_PUBLIC_URL must name a host, got `{url}`");
        }
        match (&self.llm_base_url, &self.llm_model) {
            (Some(url), Some(_)) => {
                let parsed = Url::parse(url).with_context(|| format!("AUTOMCP_LLM_BASE_URL `{url}` is not a URL"))?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    bail!("AUTOMCP_LLM_BASE_URL must be an http:// or https:// URL");
                }
            }
            (Some(_), None) => bail!("AUTOMCP_LLM_BASE_URL is set but AUTOMCP_LLM_MODEL is not: name the model to use"),
            (None, Some(_)) => bail!("AUTOMCP_LLM_MODEL is set but AUTOMCP_LLM_BASE_URL is not"),
            (None, None) => {}
        }
        if self.job_workers == 0 || self.job_workers > 64 {
            bail!("AUTOMCP_JOB_WORKERS must be 1 to 64, got {}", self.job_workers);
        }
        if self.log_ins_per_minute == 0 || self.sign_ups_per_hour == 0 {
            bail!("AUTOMCP_LOG_INS_PER_MINUTE and AUTOMCP_SIGN_UPS_PER_HOUR must be at least 1");
        }
        if let Some(key) = &self.secret_key {
            crate::secret::InstanceKey::from_hex(key).context("AUTOMCP_SECRET_KEY is not usable")?;
        }
        Ok(())
    }
}
