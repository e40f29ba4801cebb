//! The `openrouter-connector` binary: read settings, start telemetry, serve.

use clap::Parser;
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
