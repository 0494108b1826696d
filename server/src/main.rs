use clap::Parser;
use server::cli::{Cli, Command};
use server::services::Services;
use server::startup::{Server, shutdown_signal};
use std::io::Write;

/// mimalloc: the hosted call path allocates from many tasks on every worker
/// thread, where glibc's arenas contend (see `examples/bench_mcp.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    server::telemetry::init(&cli.config.log, cli.config.log_format);
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // Not eprintln!: it panics when stderr cannot be written.
            let _ = writeln!(std::io::stderr(), "error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    cli.config.validate()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::RunSpec(args) => {
            let mut config = cli.config;
            let listener = tokio::net::TcpListener::bind(config.bind)
                .await
                .map_err(|e| anyhow::anyhow!("could not listen on {}: {e}", config.bind))?;
            let addr = listener.local_addr()?;
            config.bound_to(addr);
            let (engine, slug) = server::standalone::prepare(&config, &args, |name| std::env::var(name).ok())?;
            if let Some(path) = &args.addr_file {
                server::standalone::write_addr_file(path, addr)?;
            }
            tracing::info!(%addr, %slug, "AutoMCP standalone server is listening at /mcp");
            let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
                if let Err(error) = stream.set_nodelay(true) {
                    tracing::warn!(%error, "could not set TCP_NODELAY");
                }
            });
            axum::serve(listener, server::standalone::router(engine, slug).into_make_service())
                .with_graceful_shutdown(shutdown_signal())
                .await?;
            tracing::info!("stopped");
            Ok(())
        }
        Command::Serve => {
            let (server, services) = Server::bind(cli.config).await?;
            tracing::info!(
                addr = %server.local_addr(),
                public_url = %services.config.public_url(),
                site_root = %services.config.site_root().display(),
                "AutoMCP is listening"
            );
            // On the signal, running jobs are handed back at once, while
            // requests in flight finish.
            let stopping = tokio_util::sync::CancellationToken::new();
            let (signalled, background) = (stopping.clone(), services.clone());
            tokio::spawn(async move {
                shutdown_signal().await;
                signalled.cancel();
                background.stop_workers().await;
            });
            server.run_until(stopping.cancelled_owned()).await?;
            services.shutdown().await;
            tracing::info!("stopped");
            Ok(())
        }
        Command::Migrate => {
            let url = cli.config.database_url();
            let db = server::store::Db::connect(&url, cli.config.db_busy_timeout()).await?;
            let version = db.schema_version().await?;
            println!("the {} database is up to date (migration {version})", db.backend());
            db.close().await;
            Ok(())
        }
        command => {
            let services = Services::open(cli.config).await?;
            let output = server::cli::run_command(&services, command, &mut std::io::stdin()).await?;
            println!("{output}");
            Ok(())
        }
    }
}
