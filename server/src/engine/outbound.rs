//! The one outbound HTTP client: no proxy, TCP_NODELAY, 5 s to connect,
//! 15 s in all (MCP: per call, see `mcp::Forward`), redirects only within the same host, the SSRF guard on
//! every address, and response bodies capped at 1 MiB while streaming.

use super::ssrf::{AddressPolicy, GuardedResolver, SystemResolver, check_literal_host};
use bytes::Bytes;
use reqwest::dns::Resolve;
use std::sync::Arc;
use std::time::Duration;

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const TOTAL_TIMEOUT: Duration = Duration::from_secs(15);
/// The longest an MCP connection may stay silent (above every call timeout).
pub const MCP_READ_TIMEOUT: Duration = Duration::from_secs(app::mcps::MAX_CALL_TIMEOUT_SECS as u64 + 30);
/// The most of an upstream body we ever read.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Shared outbound client. Cheap to clone.
#[derive(Clone)]
pub struct Outbound {
    client: reqwest::Client,
    /// For MCP servers: the same guard, but only same-origin 307/308
    /// redirects (they keep the method and the JSON-RPC body).
    mcp: reqwest::Client,
    policy: AddressPolicy,
    timeout: Duration,
}

/// What came back from upstream.
#[derive(Debug)]
pub struct UpstreamResponse {
    pub status: reqwest::StatusCode,
    pub content_type: Option<String>,
    pub body: Bytes,
}

#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("{0}")]
    Forbidden(String),
    #[error("the upstream did not answer within {} s", .0.as_secs())]
    Timeout(Duration),
    #[error("the upstream's answer is larger than {} KiB", .0 / 1024)]
    TooLarge(usize),
    #[error("could not reach the upstream: {0}")]
    Connect(String),
    #[error("the upstream redirected to another host ({0}); only same-host redirects are followed")]
    CrossHostRedirect(String),
}

impl Outbound {
    /// The client the operator's settings ask for: the SSRF policy and the
    /// upstream timeout, resolving names with the system resolver.
    /// The operator's extra certificates (`extra_ca_file`) are trusted
    /// besides the system's; a file that cannot be read or parsed stops
    /// start-up.
    pub fn from_config(config: &crate::config::Config) -> anyhow::Result<Self> {
        let policy = AddressPolicy { allow_private: config.allow_private_upstreams };
        let timeout = Duration::from_secs(config.upstream_timeout_secs.max(1));
        let roots = match &config.extra_ca_file {
            None => Vec::new(),
            Some(path) => {
                let pem = std::fs::read(path)
                    .map_err(|e| anyhow::anyhow!("could not read the extra CA file {}: {e}", path.display()))?;
                reqwest::Certificate::from_pem_bundle(&pem)
                    .map_err(|e| anyhow::anyhow!("the extra CA file {} is not PEM certificates: {e}", path.display()))?
            }
        };
        Ok(Self::build(policy, Arc::new(SystemResolver), timeout, roots))
    }

    /// A client resolving names with `resolver` (then filtered by the
    /// guard). Tests use this to make names resolve to chosen addresses.
    pub fn with_resolver(policy: AddressPolicy, resolver: Arc<dyn Resolve>, timeout: Duration) -> Self {
        Self::build(policy, resolver, timeout, Vec::new())
    }

    fn build(
        policy: AddressPolicy,
        resolver: Arc<dyn Resolve>,
        timeout: Duration,
        roots: Vec<reqwest::Certificate>,
    ) -> Self {
        let guarded = Arc::new(GuardedResolver::new(resolver, policy));
        // No total timeout for MCP: a forwarded call may stream progress for
        // minutes. Each operation has its own timer; a connection silent for
        // longer than the longest call timeout is dropped.
        let mcp = reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(MCP_READ_TIMEOUT)
            .dns_resolver(guarded.clone())
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                let keeps_body = matches!(attempt.status().as_u16(), 307 | 308);
                let same_origin = attempt.previous().first().is_some_and(|u| u.origin() == attempt.url().origin());
                if !keeps_body || !same_origin {
                    attempt.stop()
                } else if attempt.previous().len() > 5 {
                    attempt.error("more than 5 redirects")
                } else {
                    attempt.follow()
                }
            }))
            .user_agent(concat!("AutoMCP/", env!("CARGO_PKG_VERSION")))
            .tls_certs_merge(roots.clone())
            .build()
            .expect("the outbound MCP client configuration is valid");
        let client = reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(timeout)
            .dns_resolver(guarded)
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                let first = attempt.previous().first().and_then(|u| u.host_str()).map(str::to_owned);
                let next = attempt.url().host_str().map(str::to_owned);
                if attempt.previous().len() > 5 {
                    attempt.error("more than 5 redirects")
                } else if first != next {
                    let to = attempt.url().to_string();
                    attempt.error(CrossHost(to))
                } else {
                    attempt.follow()
                }
            }))
            .user_agent(concat!("AutoMCP/", env!("CARGO_PKG_VERSION")))
            .tls_certs_merge(roots)
            .build()
            .expect("the outbound client configuration is valid");
        Outbound { client, mcp, policy, timeout }
    }

    pub fn policy(&self) -> AddressPolicy {
        self.policy
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The client for MCP servers; callers check IP-literal hosts first
    /// ([`check_literal_host`]), as [`Outbound::send`] does.
    pub fn mcp_client(&self) -> &reqwest::Client {
        &self.mcp
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sends `request` and reads at most [`MAX_BODY_BYTES`] of the answer.
    pub async fn send(&self, request: reqwest::Request) -> Result<UpstreamResponse, OutboundError> {
        self.send_with_limit(request, MAX_BODY_BYTES).await
    }

    /// Sends `request` and reads at most `limit` bytes of the answer.
    pub async fn send_with_limit(
        &self,
        request: reqwest::Request,
        limit: usize,
    ) -> Result<UpstreamResponse, OutboundError> {
        check_literal_host(request.url(), self.policy).map_err(OutboundError::Forbidden)?;
        // The client's total timeout runs from connecting until the body's
        // last byte, so reading the body needs no timer of its own.
        let timeout = self.timeout;
        let mut response = self.client.execute(request).await.map_err(|e| classify(e, timeout))?;
        let status = response.status();
        let content_type =
            response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(OutboundError::TooLarge(limit));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| classify(e, timeout))? {
            if body.len() + chunk.len() > limit {
                return Err(OutboundError::TooLarge(limit));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(UpstreamResponse { status, content_type, body: Bytes::from(body) })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct CrossHost(String);

fn classify(error: reqwest::Error, timeout: Duration) -> OutboundError {
    if error.is_timeout() {
        return OutboundError::Timeout(timeout);
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(cause) = source {
        if let Some(forbidden) = cause.downcast_ref::<super::ssrf::ForbiddenHost>() {
            return OutboundError::Forbidden(forbidden.to_string());
        }
        if let Some(CrossHost(to)) = cause.downcast_ref::<CrossHost>() {
            return OutboundError::CrossHostRedirect(to.clone());
        }
        source = cause.source();
    }
    OutboundError::Connect(innermost_message(&error))
}

/// The innermost message of an error chain: the useful one ("connection refused").
pub fn innermost_message(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message = cause.to_string();
        source = cause.source();
    }
    message
}

/// The first `max` characters of a body, on one line, for error messages.
pub fn excerpt(body: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max { format!("{}…", flat.chars().take(max).collect::<String>()) } else { flat }
}
