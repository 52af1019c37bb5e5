//! The command line: `serve`, `migrate`, `admin …`, `config check`.

use crate::{database::Database, serve};
use anyhow::Context as _;
use cenacle_config::Settings;
use cenacle_core::{accounts, admin, points, Context, ScopedFutureExt};
use cenacle_domain::Role;
use clap::{Args, Parser, Subcommand};
use std::{net::SocketAddr, path::PathBuf};

#[derive(Parser)]
#[command(
    name = "cenacle",
    version,
    about = "Cénacle: a federated community server"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args)]
pub struct GlobalArgs {
    /// Configuration file laid over the built-in defaults (see config/defaults.toml).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where the instance keeps its files (overrides server.data_dir).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the HTTP server (and, with no database URL, its embedded PostgreSQL).
    Serve(ServeArgs),
    /// Run a delivery worker: send queued federation activities (beside or instead of the
    /// workers inside `serve`; any number of them can share one database).
    Deliver(FederationArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Account administration from the command line.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Args)]
pub struct ServeArgs {
    /// Address and port to listen on (overrides server.bind). Port 0 picks a free port.
    #[arg(long, value_name = "ADDR:PORT")]
    pub bind: Option<SocketAddr>,
    /// The instance's public URL (overrides server.public_url).
    #[arg(long, value_name = "URL")]
    pub public_url: Option<url::Url>,
    #[command(flatten)]
    pub federation: FederationArgs,
}

#[derive(Args)]
pub struct FederationArgs {
    /// Local tests and demos only: federate over plain http with peers on loopback addresses
    /// (refused unless the public URL is on loopback too).
    #[arg(long)]
    pub allow_insecure_loopback_federation: bool,
}

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create an account with a role (active at once, whatever the registration mode).
    CreateUser {
        #[arg(long)]
        username: String,
        /// admin, community_manager, moderator, staff or member.
        #[arg(long, default_value = "member")]
        role: Role,
        #[arg(long)]
        email: Option<String>,
        /// The password; when absent it is read from the first line of standard input (keeps it
        /// out of the process list and shell history).
        #[arg(long)]
        password: Option<String>,
    },
    /// Change the role of an existing account.
    SetRole {
        #[arg(long)]
        username: String,
        #[arg(long)]
        role: Role,
    },
    /// Check that every points balance (debts included) and reputation equals exactly what its
    /// ledger adds up to (reputation from 1; its floor of 1 applies only to what is shown), as
    /// do likes received and today's capped earnings. Prints each difference naming its person
    /// and exits non-zero when there is any.
    Audit,
}

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration and print the effective values, secrets masked.
    Check,
}

impl Cli {
    /// Defaults < `--config` file < environment < flags.
    pub fn settings(&self) -> Result<Settings, cenacle_config::ConfigError> {
        Settings::load_with(
            self.global.config.as_deref(),
            std::env::vars(),
            |settings| {
                if let Some(dir) = &self.global.data_dir {
                    settings.server.data_dir = dir.clone();
                }
                let federation_args = match &self.command {
                    Command::Serve(args) => {
                        if let Some(bind) = args.bind {
                            settings.server.bind = bind;
                        }
                        if let Some(url) = &args.public_url {
                            settings.server.public_url = url.clone();
                        }
                        Some(&args.federation)
                    }
                    Command::Deliver(args) => Some(args),
                    _ => None,
                };
                if federation_args.is_some_and(|f| f.allow_insecure_loopback_federation) {
                    settings.federation.allow_insecure_loopback_federation = true;
                }
            },
        )
    }
}

pub async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve(_) => serve::serve(settings).await,
        Command::Deliver(_) => serve::deliver(settings).await,
        Command::Config(ConfigCommand::Check) => {
            print!("{}", settings.to_masked_toml());
            Ok(())
        }
        Command::Migrate => {
            let db = Database::open(&settings, false).await?;
            println!("migrations applied; database is up to date");
            db.close().await
        }
        Command::Admin(cmd) => {
            // Shared: the server may be running on the same embedded cluster.
            let db = Database::open(&settings, true).await?;
            let ctx = Context::new(db.pool.clone(), settings);
            let result = run_admin(&ctx, cmd).await;
            db.close().await?;
            result
        }
    }
}

async fn run_admin(ctx: &Context, cmd: AdminCommand) -> anyhow::Result<()> {
    match cmd {
        AdminCommand::CreateUser {
            username,
            role,
            email,
            password,
        } => {
            let password = match password {
                Some(p) => p,
                None => {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .context("reading the password from stdin")?;
                    line.trim_end_matches(['\n', '\r']).to_owned()
                }
            };
            let account = async {
                // Hashed and keyed before the transaction opens.
                let prepared = accounts::PreparedAccount::prepare(
                    &ctx.settings,
                    &username,
                    &password,
                    email.as_deref(),
                    role,
                )
                .await?;
                ctx.transaction(|conn| {
                    async move { accounts::create_account(conn, &prepared).await }.scope_boxed()
                })
                .await
            }
            .await
            .with_context(|| format!("creating account `{username}`"))?;
            println!(
                "created {} `{}` (id {})",
                account.role, account.username, account.person_id
            );
        }
        AdminCommand::SetRole { username, role } => {
            let account = ctx
                .transaction(|conn| admin::set_role(conn, None, &username, role).scope_boxed())
                .await
                .with_context(|| format!("changing the role of `{username}`"))?;
            println!("`{}` is now {}", account.username, account.role);
        }
        AdminCommand::Audit => {
            // One statement: the totals and their ledgers are read from one snapshot.
            let differences = ctx
                .transaction(|conn| points::audit(conn).scope_boxed())
                .await
                .context("auditing the ledgers")?;
            for d in &differences {
                let whose = match d.person_id {
                    Some(person) => format!("{} (person {person})", d.handle),
                    None => d.handle.clone(),
                };
                println!(
                    "{whose}: {} is {}, its ledger says {}",
                    d.total, d.cached, d.ledger
                );
            }
            if !differences.is_empty() {
                anyhow::bail!(
                    "{} total(s) differ from their ledger (listed above)",
                    differences.len()
                );
            }
            println!("every balance and reputation equals its ledger, every hold its live bid, and every reward's stock its movements");
        }
    }
    Ok(())
}
