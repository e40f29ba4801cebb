//! Builds the shared state and the App, binds the listener (port 0 in tests) and runs.

use crate::body_budget::BodyBudget;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, web};
use utoipa_swagger_ui::SwaggerUi;

use crate::actions;
use crate::connector;
use crate::jobs::{JobStore, Jobs};
use crate::lifecycle::{self, Lifecycle};
use crate::mcp;
use crate::metrics::{self, Metrics};
use crate::openapi;
use crate::openrouter::OpenRouterClient;
use crate::rate_limit::{self, InProcessStore, RateLimiter, RedisStore, Store};
use crate::redis_connection::SharedRedis;
use crate::request_id;
use crate::routes::{self, mount};
use crate::settings::Settings;
use crate::state::{AppState, Limits};

/// A bound, not yet running service.
pub struct Application {
    address: SocketAddr,
    server: Server,
    lifecycle: Arc<Lifecycle>,
    jobs: Arc<Jobs>,
    grace: Duration,
    drain: Duration,
}

impl Application {
    /// Binds `settings.bind` and builds the server.
    pub async fn build(settings: &Settings) -> std::io::Result<Application> {
        if settings.body_memory() < settings.max_body_bytes {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "BODY_MEMORY_BYTES ({}) must be at least MAX_BODY_BYTES ({}): a body of the \
                     largest size would never find room",
                    settings.body_memory(),
                    settings.max_body_bytes
                ),
            ));
        }
        let listener = listen(settings.bind).map_err(|error| {
            std::io::Error::new(
                error.kind(),
                format!(
                    "cannot listen on {} (set BIND or --bind to another address and port): {error}",
                    settings.bind
                ),
            )
        })?;
        let address = listener.local_addr()?;
        let client = Arc::new(OpenRouterClient::new(settings).map_err(std::io::Error::other)?);
        let redis = match &settings.redis_url {
            Some(url) => Some(Arc::new(
                SharedRedis::new(url, settings.redis_timeout).map_err(std::io::Error::other)?,
            )),
            None => None,
        };
        let limiter = build_limiter(settings, redis.as_ref());
        if let Some(store) = limiter.in_process() {
            tokio::spawn(sweep_idle_connections(store.clone()));
        }
        let mcp_origin = web::Data::new(mcp::PublicOrigin(settings.public_base_url.clone()));
        let connector_files = web::Data::new(connector::ConnectorFiles::new(
            settings.public_base_url.clone(),
        ));
        let document = openapi::document();
        let metrics = Arc::new(Metrics::default());
        let job_timeout = settings.job_timeout;
        let job_ttl = settings.job_ttl;
        let job_store = match &redis {
            Some(redis) => JobStore::redis(redis.clone(), job_timeout, job_ttl),
            None => JobStore::memory(job_timeout, job_ttl),
        };
        let jobs = Arc::new(Jobs::new(
            job_store,
            settings.async_after,
            job_timeout,
            settings.public_base_url.clone(),
            metrics.clone(),
            settings.max_jobs_per_connection,
        ));
        let lifecycle = Arc::new(Lifecycle::default());
        // The application state: each worker gets a copy with upstream pools of its own.
        let state = AppState {
            client,
            limiter: Arc::new(limiter),
            jobs: jobs.clone(),
            lifecycle: lifecycle.clone(),
            metrics: metrics.clone(),
            limits: Limits {
                body_bytes: settings.max_body_bytes,
                passthrough_body_bytes: settings.passthrough_max_body_bytes,
                stream_idle: settings.stream_idle_timeout,
            },
            bodies: BodyBudget::new(settings.body_memory()),
        };
        let draining = lifecycle.clone();
        let mut server = HttpServer::new(move || {
            let state = web::Data::new(state.for_this_worker().unwrap_or_else(|error| {
                // The same client was built once already above, so this does not happen; if it
                // did, the shared one still works, only across threads.
                tracing::warn!(%error, "a worker shares the first upstream client");
                state.clone()
            }));
            let measured = metrics.clone();
            let draining = draining.clone();
            App::new()
                .wrap(from_fn(move |req, next| {
                    lifecycle::close_while_draining(draining.clone(), req, next)
                }))
                .wrap(from_fn(rate_limit::add_headers))
                .wrap(from_fn(move |req, next| {
                    metrics::measure(measured.clone(), req, next)
                }))
                .wrap(from_fn(request_id::assign))
                .app_data(state.clone())
                .configure(actions::configure)
                .configure(mcp::configure(mcp_origin.clone()))
                .configure(connector::configure(connector_files.clone()))
                .service(mount(routes::METRICS, actions::health::metrics))
                .service(
                    SwaggerUi::new(routes::SWAGGER_UI.path)
                        .url(routes::OPENAPI.path, document.clone()),
                )
                // The documents answer GET only: any other method is a `405`, not a `404`.
                .service(routes::refuse_other_methods(routes::OPENAPI))
                .service(routes::refuse_other_methods(routes::SWAGGER_UI))
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
        .disable_signals()
        .tcp_nodelay(true)
        .h1_allow_half_closed(false)
        // After the drain, calls still in flight get what is left of the grace period.
        .shutdown_timeout(
            settings
                .shutdown_grace
                .saturating_sub(settings.shutdown_drain)
                .as_secs(),
        )
        .client_request_timeout(Duration::from_secs(10))
        .listen(listener)?;
        if let Some(workers) = settings.workers {
            server = server.workers(workers);
        }
        Ok(Application {
            address,
            server: server.run(),
            lifecycle,
            jobs,
            grace: settings.shutdown_grace,
            drain: settings.shutdown_drain.min(settings.shutdown_grace),
        })
    }

    /// The address the service listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Serves until the server is stopped (tests drop it; nothing listens for signals).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    /// Serves until SIGTERM or SIGINT, then drains (contract 4.11): for `SHUTDOWN_DRAIN_SECS`
    /// the listener stays open and readiness and new calls answer `503` with `Retry-After` and
    /// `Connection: close`, while calls in flight go on; then the listener closes and what is
    /// still in flight gets the rest of `SHUTDOWN_GRACE_SECS`. The process may then exit 0.
    pub async fn run_until_signalled(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let lifecycle = self.lifecycle.clone();
        let jobs = self.jobs.clone();
        let (grace, drain) = (self.grace, self.drain);
        let drained = tokio::spawn(async move {
            lifecycle::shutdown_signal().await;
            tracing::info!(
                drain_secs = drain.as_secs(),
                "shutdown signal received; draining"
            );
            lifecycle.start_draining();
            let stop_serving = async {
                tokio::time::sleep(drain).await;
                tracing::info!("drain over; closing the listener");
                handle.stop(true).await;
            };
            tokio::join!(stop_serving, jobs.drain(grace));
        });
        let served = self.server.await;
        if self.lifecycle.is_draining() {
            // The server has stopped; let the jobs finish or be recorded as failed.
            let _ = tokio::time::timeout(self.grace + Duration::from_secs(5), drained).await;
        } else {
            drained.abort();
        }
        served
    }
}

/// The limiter the settings ask for: Redis when `REDIS_URL` is set, else in process.
fn build_limiter(settings: &Settings, redis: Option<&Arc<SharedRedis>>) -> RateLimiter {
    let quota = settings.quota();
    let store = match redis {
        Some(redis) => Store::Redis(Box::new(RedisStore::new(redis.clone(), quota))),
        None => Store::InProcess(InProcessStore::new(quota)),
    };
    RateLimiter::new(store, quota, settings.redis_fail_open)
}

/// Connections the kernel queues for the service before it accepts them: actix-web's and
/// nginx's order of size, where the standard library's `bind` gives 128 and a burst of 2,000
/// new connections then loses some to a full queue (the kernel caps it at `somaxconn`).
const LISTEN_BACKLOG: i32 = 1024;

/// A listening socket on `address`, as `TcpListener::bind` makes one (`SO_REUSEADDR` on Unix)
/// but with a backlog of [`LISTEN_BACKLOG`].
fn listen(address: SocketAddr) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    socket.bind(&address.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    Ok(socket.into())
}

/// Every few seconds, drops the in-process state of connections whose burst is full again.
async fn sweep_idle_connections(store: InProcessStore) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        store.sweep();
    }
}

/// How often idle connections are swept from the in-process limiter.
const SWEEP_EVERY: Duration = Duration::from_secs(5);
