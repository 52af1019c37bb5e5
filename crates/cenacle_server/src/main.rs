//! `cenacle`: the Cénacle community server.

mod cli;
mod database;
mod mailer;
mod periodic;
mod serve;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let settings = match cli.settings() {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    init_logging(&settings);
    // Found while the configuration was read, before its `log` section set logging up.
    settings.warn_deprecated_keys();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(cli::run(cli.command, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(settings: &cenacle_config::Settings) {
    use tracing_subscriber::EnvFilter;
    // RUST_LOG wins over the configured filter, for a one-off debugging session.
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.log.filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match settings.log.format {
        cenacle_config::LogFormat::Text => builder.init(),
        cenacle_config::LogFormat::Json => builder.json().init(),
    }
}
