//! [`NoDelayConnector`]: awc's TCP connector with `TCP_NODELAY` set on each
//! connection it opens, so the last partial segment of a forwarded body is
//! not held back by Nagle's algorithm until the leader's delayed ACK (a
//! stall of some 40 ms on a share of requests otherwise).

use std::future::Future;
use std::pin::Pin;

use actix_tls::connect::{ConnectError, ConnectInfo, Connection, ConnectorService};
use actix_web::http::Uri;
use actix_web::rt::net::TcpStream;

/// Resolves, connects and sets `TCP_NODELAY`.
#[derive(Clone, Default)]
pub struct NoDelayConnector(ConnectorService);

type Connecting = Pin<Box<dyn Future<Output = Result<Connection<Uri, TcpStream>, ConnectError>>>>;

impl actix_service::Service<ConnectInfo<Uri>> for NoDelayConnector {
    type Response = Connection<Uri, TcpStream>;
    type Error = ConnectError;
    type Future = Connecting;

    actix_service::always_ready!();

    fn call(&self, req: ConnectInfo<Uri>) -> Self::Future {
        let connecting = self.0.call(req);
        Box::pin(async move {
            let conn = connecting.await?;
            if let Err(e) = conn.io_ref().set_nodelay(true) {
                log::debug!("cannot set TCP_NODELAY: {e}");
            }
            Ok(conn)
        })
    }
}
