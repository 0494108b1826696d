//! The command line: `automcp [serve]`, and operator commands that work on
//! the same database without a running server.

use crate::accounts::NewUser;
use crate::config::Config;
use crate::services::Services;
use anyhow::{Context, bail};
use app::model::Tier;
use clap::{Parser, Subcommand};
use std::io::Read;

#[derive(Debug, Parser)]
#[command(name = "automcp", version, about = "Turn HTTP APIs into hosted MCP servers")]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default). Applies pending migrations first.
    Serve,
    /// Apply the database's pending migrations and exit (run once before
    /// starting replicas of a new release; `serve` would apply them too).
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage personal API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Serve one server spec at /mcp without a database (standalone mode,
    /// what paid servers run on their own machines). Credentials come from
    /// AUTOMCP_CREDENTIAL_<NAME> variables.
    RunSpec(crate::standalone::RunSpec),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. The password is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        /// Read the password from standard input (required: never pass it as an argument).
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Make the account an admin.
        #[arg(long)]
        admin: bool,
        #[arg(long, value_parser = parse_tier, default_value = "free")]
        tier: Tier,
    },
    /// Change an account's tier.
    SetTier {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = parse_tier)]
        tier: Tier,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a personal API token. It is printed once and stored only as a hash.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "cli")]
        name: String,
        /// Days until the token stops working (default: never).
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
}

fn parse_tier(text: &str) -> Result<Tier, String> {
    text.parse().map_err(|e: app::model::AppError| e.to_string())
}

/// Runs an operator command; returns what to print on stdout.
pub async fn run_command(services: &Services, command: Command, stdin: &mut dyn Read) -> anyhow::Result<String> {
    let accounts = &services.accounts;
    match command {
        Command::Serve | Command::Migrate | Command::RunSpec(_) => bail!("this is not an operator command"),
        Command::User(UserCommand::Create { email, password_stdin: _, admin, tier }) => {
            let mut password = String::new();
            stdin.read_to_string(&mut password).context("could not read the password from standard input")?;
            let password = password.trim_end_matches(['\n', '\r']);
            let user = accounts.create_user(&email, password, NewUser { admin, tier }).await?;
            Ok(format!(
                "created {} (id {}, tier {}{})",
                user.email,
                user.id,
                user.tier,
                if user.is_admin { ", admin" } else { "" }
            ))
        }
        Command::User(UserCommand::SetTier { email, tier }) => {
            let user =
                accounts.user_by_email(&email).await?.with_context(|| format!("no account with email {email}"))?;
            let user = services.change_tier(None, &user.id, tier).await?;
            Ok(format!("{} is now on the {} tier", user.email, user.tier))
        }
        Command::Token(TokenCommand::Create { email, name, expires_in_days }) => {
            let user =
                accounts.user_by_email(&email).await?.with_context(|| format!("no account with email {email}"))?;
            let created = accounts.issue_token(&user.id, app::model::NewApiToken { name, expires_in_days }).await?;
            Ok(created.token)
        }
    }
}
