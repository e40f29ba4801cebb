//! The `openrouter-connector` binary: read settings, start telemetry, serve.

use clap::Parser;

/// jemalloc rather than glibc's allocator: it gives memory back after a burst of connections
/// (its background thread purges pages unused for a while), where glibc kept all of it; see the
/// README's "Performance" section for what each allocator measured.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use openrouter_connector::settings::{Command, Settings};
use openrouter_connector::{connector, openapi, startup::Application, telemetry};

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    let settings = match Settings::try_parse() {
        Ok(settings) => settings.effective(),
        Err(error) => error.exit(),
    };
    if let Some(Command::WriteOpenapi { path }) = &settings.command {
        return match openapi::write_document(path) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("could not write {}: {error}", path.display());
                std::process::ExitCode::FAILURE
            }
        };
    }
    if let Some(Command::WriteConnector { public_url, dir }) = &settings.command {
        let dir = Command::connector_dir(public_url.as_ref(), dir.as_ref());
        return match connector::write_folder(&dir, public_url.as_ref()) {
            Ok(()) => {
                println!("wrote the connector files to {}", dir.display());
                std::process::ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("could not write {}: {error}", dir.display());
                std::process::ExitCode::FAILURE
            }
        };
    }
    telemetry::init(settings.log_format, &settings.rust_log);
    if let Err(error) = give_memory_back() {
        tracing::warn!(%error, "jemalloc's background purging could not be set up");
    }
    let result = match Application::build(&settings).await {
        Ok(app) => {
            tracing::info!(address = %app.address(), "serving");
            app.run_until_signalled().await
        }
        Err(error) => Err(error),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "the service stopped");
            eprintln!("openrouter-connector: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// How long freed pages stay with jemalloc before they go back to the system (its default is
/// 10 s): a second keeps the pages of a burst at hand for the next one without holding them.
const DIRTY_DECAY_MS: isize = 1_000;

/// Sets jemalloc up to give unused memory back: freed pages return to the system after
/// [`DIRTY_DECAY_MS`], purged by one background thread of its own (without it, pages are purged
/// only while something allocates, so an idle service would keep its peak for good).
fn give_memory_back() -> tikv_jemalloc_ctl::Result<()> {
    use tikv_jemalloc_ctl::{Access, AsName};
    tikv_jemalloc_ctl::max_background_threads::write(1)?;
    tikv_jemalloc_ctl::background_thread::write(true)?;
    // The default for arenas made from now on, then each arena made so far.
    b"arenas.dirty_decay_ms\0".name().write(DIRTY_DECAY_MS)?;
    b"arenas.muzzy_decay_ms\0".name().write(0isize)?;
    let arenas = tikv_jemalloc_ctl::arenas::narenas::read()?;
    for arena in 0..arenas {
        for (option, value) in [("dirty_decay_ms", DIRTY_DECAY_MS), ("muzzy_decay_ms", 0)] {
            let name = format!("arena.{arena}.{option}\0");
            // An arena not made yet has nothing to set; it takes the default above.
            let _ = name.as_bytes().name().write(value);
        }
    }
    Ok(())
}
