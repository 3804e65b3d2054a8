//! The operator guide's configuration of one node, command for command and
//! in the guide's order (`config create`, `config set -k storage.secretKey`,
//! `secret set -k metastore.postgres.connectionString`, `config set -k
//! api.canonicalUri`, `node setup …`), shared by the tests that follow it
//! with different harnesses.

#![allow(dead_code)]

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

/// Runs the guide's commands through `ok` (which runs `skein ARGS`, must
/// succeed and answers its standard output); `node setup`'s output.
pub fn configure(ok: impl Fn(&[&str]) -> String, node: &GuideNode) -> String {
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
