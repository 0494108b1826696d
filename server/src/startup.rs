//! Serving: bind, run, and stop cleanly on SIGTERM or Ctrl-C.

use crate::config::Config;
use crate::services::Services;
use anyhow::Context;
use axum::serve::ListenerExt;
use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// A bound, ready-to-run server. Binding first lets tests use port 0 and
/// learn the address before serving.
pub struct Server {
    listener: TcpListener,
    router: axum::Router,
}

impl Server {
    /// Binds `config.bind`, then opens the services with the bound address
    /// recorded in the configuration.
    pub async fn bind(mut config: Config) -> anyhow::Result<(Self, Services)> {
        let addr = config.bind;
        let listener = TcpListener::bind(addr).await.with_context(|| format!("could not listen on {addr}"))?;
        config.bound_to(listener.local_addr().context("bound listener without an address")?);
        let services = Services::open(config).await?;
        let mounted =
            services.servers.mount_all().await.map_err(|e| anyhow::anyhow!("could not mount servers: {e}"))?;
        tracing::info!(mounted, "mounted the active servers");
        services.start_background().await;
        if let Some(path) = &services.config.addr_file {
            crate::standalone::write_addr_file(path, services.config.bind)?;
        }
        Ok((Server { listener, router: crate::http::router(services.clone()) }, services))
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let listener = self.listener.tap_io(|stream| {
            if let Err(error) = stream.set_nodelay(true) {
                tracing::warn!(%error, "could not set TCP_NODELAY");
            }
        });
        // `into_make_service` finalizes the routes once; serving the Router
        // itself would rebuild every route for every connection. The peer
        // address is kept for throttling.
        axum::serve(listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await
            .context("server error")
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("received Ctrl-C, shutting down"),
        () = terminate => tracing::info!("received SIGTERM, shutting down"),
    }
}
