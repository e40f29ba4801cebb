//! Builds the shared state and the App, binds the listener (port 0 in tests) and runs.

use std::net::{SocketAddr, TcpListener};

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, web};
use utoipa_swagger_ui::SwaggerUi;

use crate::actions::{self, input::BodyLimit};
use crate::openapi;
use crate::openrouter::OpenRouterClient;
use crate::request_id;
use crate::settings::Settings;

/// A bound, not yet running service.
pub struct Application {
    address: SocketAddr,
    server: Server,
}

impl Application {
    /// Binds `settings.bind` and builds the server.
    pub async fn build(settings: &Settings) -> std::io::Result<Application> {
        let listener = TcpListener::bind(settings.bind)?;
        let address = listener.local_addr()?;
        let client =
            web::Data::new(OpenRouterClient::new(settings).map_err(std::io::Error::other)?);
        let limit = web::Data::new(BodyLimit(settings.max_body_bytes));
        let document = openapi::document();
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(request_id::assign))
                .app_data(client.clone())
                .app_data(limit.clone())
                .configure(actions::configure)
                .service(
                    SwaggerUi::new("/swagger-ui/{_:.*}").url("/openapi.json", document.clone()),
                )
                .route(
                    "/swagger-ui",
                    web::get().to(|| async {
                        HttpResponse::PermanentRedirect()
                            .insert_header(("Location", "/swagger-ui/"))
                            .finish()
                    }),
                )
                .default_service(web::to(actions::not_found))
        })
        .listen(listener)?;
        if let Some(workers) = settings.workers {
            server = server.workers(workers);
        }
        Ok(Application {
            address,
            server: server.run(),
        })
    }

    /// The address the service listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Serves until the server is stopped.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
