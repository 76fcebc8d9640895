//! What the fuzz targets that drive the whole server share: an in-memory
//! server and a way to send it one request through the router, without a
//! socket.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use tower::ServiceExt;

/// An in-memory server with its own single-threaded runtime.
pub struct Server {
    runtime: tokio::runtime::Runtime,
    app: Arc<tarn_server::App>,
}

impl Server {
    /// A fresh server on an in-memory engine.
    pub fn new() -> Server {
        let engine = tarn_engine::Engine::open(tarn_engine::Options {
            data_dir: None,
            durability: tarn_engine::Durability::Memory,
            ..tarn_engine::Options::default()
        })
        .expect("engine");
        let app = tarn_server::App::new(engine, "us-east-1".into(), "000000000000".into());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        Server { runtime, app }
    }

    /// Sends one request; the status and the whole body.
    pub fn send(&self, request: Request<Body>) -> (u16, Vec<u8>) {
        self.runtime.block_on(async {
            let response = tarn_server::router(Arc::clone(&self.app))
                .oneshot(request)
                .await
                .expect("infallible");
            let status = response.status().as_u16();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("body");
            (status, bytes.to_vec())
        })
    }
}

impl Default for Server {
    fn default() -> Server {
        Server::new()
    }
}
