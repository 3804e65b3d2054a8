//! The operator guide's configuration of one node, command for command and
//! in the guide's order (`config create`, `config set -k storage.secretKey`,
//! `secret set -k metastore.postgres.connectionString`, `config set -k
//! api.canonicalUri`, `node setup …`), shared by the tests that follow it:
//! [`configure`] with every value given, [`configure_machine`] for the
//! guide's two machines (listeners on `localhost`, the peer by its name).

use crate::node::Node;

/// What the guide's commands set on one node.
pub struct GuideNode<'a> {
    /// `storage.secretKey` (the same on both nodes).
    pub secret_key: &'a str,
    /// The shared metastore's connection string.
    pub connection_string: &'a str,
    /// `api.canonicalUri`: the load balancer's address.
    pub canonical_uri: &'a str,
    /// `--cluster-listen`.
    pub cluster_listen: &'a str,
    /// `--internal-api`.
    pub internal_api: &'a str,
    /// `--peer-cluster`.
    pub peer_cluster: &'a str,
    /// `--peer-internal-api`.
    pub peer_internal_api: &'a str,
    /// `-k`: the cluster authentication key.
    pub cluster_key: &'a str,
    /// `--node-name`.
    pub node_name: &'a str,
}

/// Runs the guide's commands on `on` (each must succeed); `node setup`'s
/// output.
pub fn configure(on: &Node, node: &GuideNode) -> String {
    let ok = |args: &[&str]| on.ok(args);
    ok(&["config", "create"]);
    ok(&[
        "config",
        "set",
        "-k",
        "storage.secretKey",
        "-v",
        node.secret_key,
    ]);
    ok(&[
        "secret",
        "set",
        "-k",
        "metastore.postgres.connectionString",
        "-v",
        node.connection_string,
    ]);
    ok(&[
        "config",
        "set",
        "-k",
        "api.canonicalUri",
        "-v",
        node.canonical_uri,
    ]);
    ok(&[
        "node",
        "setup",
        "--cluster-listen",
        node.cluster_listen,
        "--internal-api",
        node.internal_api,
        "--peer-cluster",
        node.peer_cluster,
        "--peer-internal-api",
        node.peer_internal_api,
        "-k",
        node.cluster_key,
        "--node-name",
        node.node_name,
    ])
}

/// One of the guide's two machines, as [`configure_machine`] sets it up.
pub struct Machine<'a> {
    /// `wss://` and `https://` listeners and peer URIs (else `ws://` and
    /// `http://`).
    pub tls: bool,
    /// The name or address the node reaches its peer's machine by.
    pub peer_host: &'a str,
    /// `storage.secretKey` (the same on both nodes).
    pub secret_key: &'a str,
    /// The shared metastore's connection string.
    pub connection_string: &'a str,
    /// `api.canonicalUri`: the load balancer's address.
    pub canonical_uri: &'a str,
    /// `-k`: the cluster authentication key.
    pub cluster_key: &'a str,
}

/// The guide's commands for `node` on its own machine, whose peer `peer`
/// is reached as `machine.peer_host`: the cluster and internal API listen
/// on `localhost` at the node's ports, as the guide's do. Then, not a
/// guide step, `api.listenUris` on the node's own port (`localhost`): both
/// nodes share this machine's ports (the harness's `skein run` passes the
/// same value in its environment).
pub fn configure_machine(node: &Node, peer: &Node, machine: &Machine) {
    let (ws, http) = match machine.tls {
        true => ("wss", "https"),
        false => ("ws", "http"),
    };
    let host = machine.peer_host;
    configure(
        node,
        &GuideNode {
            secret_key: machine.secret_key,
            connection_string: machine.connection_string,
            canonical_uri: machine.canonical_uri,
            cluster_listen: &format!("{ws}://localhost:{}", node.cluster),
            internal_api: &format!("{http}://localhost:{}", node.internal),
            peer_cluster: &format!("{ws}://{host}:{}", peer.cluster),
            peer_internal_api: &format!("{http}://{host}:{}", peer.internal),
            cluster_key: machine.cluster_key,
            node_name: &node.name,
        },
    );
    node.config_set("api.listenUris", &localhost_api(node));
}

/// `http://localhost:API`: the node's public API on this machine, which
/// [`configure_machine`] configures and `skein run` is to be given as
/// `SKEIN_API_LISTENURIS` (the harness's default is 127.0.0.1).
pub fn localhost_api(node: &Node) -> String {
    format!("http://localhost:{}", node.api)
}
