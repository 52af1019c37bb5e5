//! `cenacle`: the Cénacle community server.

mod cli;
mod database;
mod mailer;
mod periodic;
mod serve;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    fix_malloc_thresholds();
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

/// Blocks of 1 MiB or more get a mapping of their own, given back to the system when freed.
///
/// glibc's default raises its mmap threshold to the size of the largest mapped block freed so
/// far (up to 32 MiB), and its trim threshold to twice that: after the first password hash
/// (argon2, a 19 MiB block, freed at once) the next hash's block came from a thread's heap,
/// whose free top is then kept up to 38 MiB (and `malloc_trim` trims no thread heap's top) —
/// 19 MiB held for good after one sign-up and one log-in, a third of the server's resident
/// set in issue 10's fan-out benchmark (docs/benchmarks.md). A threshold set here is never
/// raised. The trim threshold is set with it at the default's own ratio (twice): left at its
/// 128 KiB start, thread heaps were shrunk and grown again all through a fan-out (≈ 300
/// `madvise` calls and 4,400 more page faults to 10,000 instances).
///
/// The price: every block of 1 MiB or more is mapped and unmapped (its pages faulted in
/// afresh) instead of reused from the heap — a hash's 19 MiB (≈ 4,900 page faults, a few
/// percent of its time), a large inbox body or media file read whole. An operator who tunes
/// malloc themself (`MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`, `glibc.malloc.*` in
/// `GLIBC_TUNABLES`) keeps their settings: none are set here then.
fn fix_malloc_thresholds() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let set = |name: &str| std::env::var_os(name);
        let tuned = set("MALLOC_MMAP_THRESHOLD_").is_some()
            || set("MALLOC_TRIM_THRESHOLD_").is_some()
            || set("GLIBC_TUNABLES")
                .is_some_and(|tunables| tunables.to_string_lossy().contains("glibc.malloc."));
        if tuned {
            return;
        }
        // SAFETY: `mallopt` only sets malloc's parameters (under malloc's own lock); this
        // runs first in `main`, before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 2 << 20);
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
