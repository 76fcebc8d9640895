//! Function instances' own Runtime API endpoints: one loopback listener
//! per instance, so that `AWS_LAMBDA_RUNTIME_API` is a bare `host:port`
//! as on Lambda (`docs/research/lambda.md`). Each listener serves only
//! its instance's Runtime API ([`crate::protocol::runtime_router`]) and
//! is a runner task that ends when the instance's guard is dropped or
//! Tarn stops.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Weak};

use tarn_lambda::{Endpoint, RuntimeEndpoints};

use crate::app::App;

/// Opens instances' endpoints on the server's runner.
pub struct Endpoints {
    app: Weak<App>,
}

impl Endpoints {
    /// Endpoints of `app` (held weakly: the Lambda service it owns holds
    /// this).
    pub fn new(app: Weak<App>) -> Endpoints {
        Endpoints { app }
    }
}

impl std::fmt::Debug for Endpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoints").finish_non_exhaustive()
    }
}

impl RuntimeEndpoints for Endpoints {
    fn open(&self, token: &str) -> Result<Endpoint, String> {
        let app = self.app.upgrade().ok_or("Tarn is stopping")?;
        let cannot = |e: std::io::Error| format!("cannot open the Runtime API endpoint: {e}");
        let listener = std::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .map_err(cannot)?;
        listener.set_nonblocking(true).map_err(cannot)?;
        let address = listener.local_addr().map_err(cannot)?.to_string();
        // Needs the tokio runtime: instances start from invocations.
        let listener = tokio::net::TcpListener::from_std(listener).map_err(cannot)?;
        let router = crate::protocol::runtime_router(Arc::clone(&app), token);
        let (close, closed) = tokio::sync::oneshot::channel::<()>();
        let started = app
            .runner
            .spawn("lambda-runtime-endpoint", move |mut stop| async move {
                let done = async move {
                    tokio::select! {
                        _ = closed => {}
                        () = stop.wait() => {}
                    }
                };
                // The listener is closed as soon as `done` resolves; the
                // open connections end with their instance.
                if let Err(e) = axum::serve(listener, router)
                    .with_graceful_shutdown(done)
                    .await
                {
                    tracing::warn!(error = %e, "a Runtime API endpoint failed");
                }
            });
        if !started {
            return Err("Tarn is stopping".into());
        }
        Ok(Endpoint {
            address,
            guard: Box::new(close),
        })
    }
}
