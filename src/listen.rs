//! Where the node's listeners bind.
//!
//! A listener binds the host its URI names, with one exception: the cluster
//! listener (`cluster.listenUri`) and the internal API
//! (`cluster.internalApiUri`) exist to be reached by the peer node, so a
//! host of `localhost` there — the operator guide's
//! `--cluster-listen ws://localhost:5344 --internal-api http://localhost` —
//! binds every interface (`0.0.0.0`, and `::` where the machine has IPv6):
//! bound to loopback only, the peer on another machine would be refused and
//! the guide's set-up would never form a cluster. `localhost` in
//! `api.listenUris` keeps its meaning (loopback only).

use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr, TcpListener, ToSocketAddrs};

use socket2::{Domain, Socket, Type};
use url::Url;

/// How long the kernel's queue of connections waiting to be accepted is.
const BACKLOG: i32 = 1024;

/// Whether `uri`, as a peer-facing URI (cluster listener, internal API),
/// binds every interface: its host is `localhost`.
pub fn peer_facing_binds_all(uri: &Url) -> bool {
    matches!(uri.host(), Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost"))
}

/// The hosts a listener for `uri` binds: every interface for a
/// peer-facing `localhost` URI (see the module docs), else the URI's host
/// (`host` as [`crate::tls::host_and_port`] read it).
pub fn bind_hosts(uri: &Url, host: &str, peer_facing: bool) -> Vec<String> {
    match peer_facing && peer_facing_binds_all(uri) {
        true => vec!["0.0.0.0".into(), "::".into()],
        false => vec![host.to_owned()],
    }
}

/// Binds `host:port` for actix's `listen`, as actix's own `bind` does:
/// every address the host resolves to, failing only when none binds. IPv6
/// sockets are IPv6-only, so that `::` can sit beside `0.0.0.0`; `::` on a
/// machine without IPv6 binds nothing (an empty list, not an error).
pub fn bind(host: &str, port: u16) -> io::Result<Vec<TcpListener>> {
    let optional = host.parse::<IpAddr>() == Ok(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    let mut bound = Vec::new();
    let mut failed = None;
    for addr in (host, port).to_socket_addrs()? {
        match bind_one(addr) {
            Ok(l) => bound.push(l),
            Err(e) => failed = Some(e),
        }
    }
    match failed {
        Some(e) if bound.is_empty() && !optional => Err(e),
        _ => Ok(bound),
    }
}

fn bind_one(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localhost_binds_everywhere_only_when_peer_facing() {
        let u = |s: &str| Url::parse(s).unwrap();
        let hosts = |s: &str, peer: bool| {
            let uri = u(s);
            let (host, _) = crate::tls::host_and_port(&uri).unwrap();
            bind_hosts(&uri, &host, peer)
        };
        assert_eq!(hosts("ws://localhost:5344", true), ["0.0.0.0", "::"]);
        assert_eq!(hosts("http://LOCALHOST", true), ["0.0.0.0", "::"]);
        assert_eq!(hosts("http://localhost:5341", false), ["localhost"]);
        assert_eq!(hosts("http://127.0.0.1:80", true), ["127.0.0.1"]);
        assert_eq!(hosts("http://[::1]:80", true), ["::1"]);
        assert_eq!(
            hosts("ws://seq001.example.local:5344", true),
            ["seq001.example.local"]
        );
    }

    #[test]
    fn both_wildcards_bind_side_by_side() {
        let v4 = bind("0.0.0.0", 0).unwrap();
        let port = v4[0].local_addr().unwrap().port();
        for v6 in bind("::", port).unwrap() {
            assert_eq!(v6.local_addr().unwrap().port(), port);
        }
        assert!(bind("0.0.0.0", port).is_err(), "a taken port is an error");
    }
}
