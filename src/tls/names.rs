//! Which names a listener's certificate may be for.
//!
//! The operator guide listens on `localhost` (`--cluster-listen
//! wss://localhost:5344 --internal-api https://localhost`) while peers and
//! clients reach the node by its real name, for which its certificate is
//! issued. So a listener's certificate is accepted when it names any of
//! the names the node is reached by ([`candidates`]):
//!
//! 1. the listener's own host (`localhost`, `127.0.0.1`, `seq001.example.local`);
//! 2. the host of `api.canonicalUri` (the load balancer's name);
//! 3. the node name (`--node-name`, which the guide sets to the node's DNS
//!    name, e.g. `seq001.example.local`);
//! 4. the machine's host name (`/proc/sys/kernel/hostname`).
//!
//! The names the *peer's* configuration dials this node by are not known
//! here; the node's own names stand for them. This check only catches a
//! certificate for the wrong machine early: the peer still verifies the
//! name it dials against the certificate (see [`super::client`]), so a
//! certificate that passes here but not there fails that handshake.
//!
//! A listener on an unspecified address (`0.0.0.0`, `[::]`, `*`) is not
//! checked: it names no one. Certificate names match case-insensitively;
//! `*.example.com` covers exactly one label; IP addresses match as
//! addresses.

use std::net::IpAddr;
use std::path::Path;

use url::Url;

use super::certificates::TlsError;

/// The names the node is reached by, besides a listener's own host:
/// the canonical URI's host, the node name and the machine's host name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeNames(Vec<String>);

impl NodeNames {
    /// The node's names from `api.canonicalUri`, `cluster.nodeName` and the
    /// machine's host name (each when present), normalised and without
    /// repeats.
    pub fn new(canonical: Option<&Url>, node_name: Option<&str>, host_name: Option<&str>) -> Self {
        let canonical = canonical.and_then(Url::host_str);
        let mut names = Vec::new();
        for name in [canonical, node_name, host_name].into_iter().flatten() {
            push_unique(&mut names, name);
        }
        NodeNames(names)
    }

    /// The machine's host name, as the kernel has it.
    pub fn host_name() -> Option<String> {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
    }
}

/// The names a listener on `host` is reached by: `host` first, then the
/// node's names; empty for an unspecified address (nothing to check).
pub fn candidates(host: &str, node: &NodeNames) -> Vec<String> {
    if host_is_unspecified(host) {
        return Vec::new();
    }
    let mut names = Vec::new();
    for name in std::iter::once(host).chain(node.0.iter().map(String::as_str)) {
        push_unique(&mut names, name);
    }
    names
}

/// Accepts a certificate for `cert_names` (its subject alternative names,
/// or its common name) when one of them covers one of `candidates`
/// (none: accepted); else a [`TlsError::NameMismatch`] for `path` that
/// lists both.
pub fn check(path: &Path, cert_names: &[String], candidates: &[String]) -> Result<(), TlsError> {
    let covered = candidates
        .iter()
        .any(|host| cert_names.iter().any(|name| name_matches(name, host)));
    if candidates.is_empty() || covered {
        return Ok(());
    }
    let listed = match cert_names.is_empty() {
        true => "no name".to_owned(),
        false => cert_names.join(", "),
    };
    Err(TlsError::NameMismatch(
        path.to_owned(),
        candidates.join(", "),
        listed,
    ))
}

fn push_unique(names: &mut Vec<String>, name: &str) {
    let name = name.trim_matches(['[', ']']).to_ascii_lowercase();
    if !name.is_empty() && !names.contains(&name) {
        names.push(name);
    }
}

fn host_is_unspecified(host: &str) -> bool {
    let bare = host.trim_matches(['[', ']']);
    host == "*" || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_unspecified())
}

/// Whether certificate name `name` covers `host` (`*.example.com` covers
/// one label).
fn name_matches(name: &str, host: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let host = host.trim_matches(['[', ']']).to_ascii_lowercase();
    if let (Ok(a), Ok(b)) = (name.parse::<IpAddr>(), host.parse::<IpAddr>()) {
        return a == b;
    }
    match name.strip_prefix("*.") {
        Some(suffix) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
        None => name == host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    /// The guide's node: `localhost` listeners, the load balancer as the
    /// canonical URI, its DNS name as the node name, host name `seq001`.
    fn guide_node() -> NodeNames {
        let canonical = Url::parse("https://logs.example.com/seq").unwrap();
        NodeNames::new(
            Some(&canonical),
            Some("seq001.example.local"),
            Some("seq001"),
        )
    }

    #[test]
    fn a_certificate_for_any_of_the_nodes_names_is_accepted() {
        let node = guide_node();
        // (listener host, certificate names, accepted)
        let table: &[(&str, &[&str], bool)] = &[
            ("localhost", &["localhost"], true),
            ("LOCALHOST", &["localhost"], true),
            ("127.0.0.1", &["127.0.0.1"], true),
            ("[::1]", &["::1"], true),
            ("localhost", &["logs.example.com"], true),
            ("localhost", &["seq001.example.local"], true),
            ("localhost", &["SEQ001.Example.Local"], true),
            ("localhost", &["seq001"], true),
            ("localhost", &["*.example.local"], true),
            ("127.0.0.1", &["other.test", "*.example.com"], true),
            ("0.0.0.0", &["anything.test"], true),
            ("[::]", &["anything.test"], true),
            ("localhost", &["seq002.example.local"], false),
            ("localhost", &["*.seq001.example.local"], false),
            ("localhost", &["*.local"], false),
            ("localhost", &["127.0.0.1"], false),
            ("localhost", &[], false),
        ];
        for (host, names, accepted) in table {
            let got = check(
                Path::new("c.pfx"),
                &strings(names),
                &candidates(host, &node),
            );
            assert_eq!(got.is_ok(), *accepted, "{host} with {names:?}: {got:?}");
        }
    }

    #[test]
    fn a_refusal_names_every_candidate_and_every_certificate_name() {
        let node = guide_node();
        let cert = strings(&["seq009.example.local", "10.0.0.9"]);
        let err = check(
            Path::new("/s/5344.pfx"),
            &cert,
            &candidates("localhost", &node),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "/s/5344.pfx: the certificate is for seq009.example.local, 10.0.0.9, none of the \
             names this node is reached by (localhost, logs.example.com, seq001.example.local, \
             seq001): issue it for one of them, or set api.canonicalUri or --node-name to the \
             name it is issued for"
        );
        let err = check(Path::new("c.pfx"), &[], &candidates("localhost", &node)).unwrap_err();
        assert!(err.to_string().contains("is for no name"), "{err}");
    }

    #[test]
    fn candidates_start_with_the_listener_and_do_not_repeat() {
        let node = NodeNames::new(None, Some("Seq001"), Some("seq001"));
        assert_eq!(candidates("[::1]", &node), ["::1", "seq001"]);
        assert_eq!(candidates("seq001", &node), ["seq001"]);
        assert!(candidates("0.0.0.0", &node).is_empty());
        let none = NodeNames::new(None, None, None);
        assert_eq!(candidates("localhost", &none), ["localhost"]);
        let canonical = Url::parse("http://[::1]:8080").unwrap();
        let node = NodeNames::new(Some(&canonical), None, Some(""));
        assert_eq!(candidates("localhost", &node), ["localhost", "::1"]);
    }

    #[test]
    fn names_match_exactly_or_by_one_wildcard_label() {
        assert!(name_matches("seq001.example.com", "SEQ001.example.com"));
        assert!(name_matches("*.example.com", "seq001.example.com"));
        assert!(!name_matches("*.example.com", "a.b.example.com"));
        assert!(!name_matches("*.example.com", "example.com"));
        assert!(name_matches("127.0.0.1", "127.0.0.1"));
        assert!(name_matches("::1", "[::1]"));
        assert!(!name_matches("127.0.0.1", "127.0.0.2"));
        assert!(host_is_unspecified("0.0.0.0") && host_is_unspecified("[::]"));
        assert!(!host_is_unspecified("localhost"));
    }
}
