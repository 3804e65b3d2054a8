//! Proof of cluster membership on forwarded requests.
//!
//! A follower forwarding a request signs it: `X-Skein-Peer-Proof:
//! <node>;<unix ms>;<hex HMAC>` where the HMAC (the cluster key, see
//! [`ClusterKey::forward_proof`]) covers the node name, the time, the method,
//! the path and query and the crossing headers (`X-Skein-Proxied`,
//! `X-Skein-Term`) — so none of them can be altered, and a captured proof is
//! good for [`MAX_SKEW`] only. The receiving node trusts a request's
//! crossing headers and its forwarded client address only when the proof
//! verifies; otherwise they are removed and the request is handled as any
//! client's (and the attempt is logged).

use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::dev::ServiceRequest;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::HttpMessage as _;
use skein_actors::replication::ClusterKey;

/// The header carrying the proof.
pub const PROOF_HEADER: &str = "x-skein-peer-proof";
/// How far a proof's time may be from the receiver's clock.
pub const MAX_SKEW: Duration = Duration::from_secs(30);

/// Set on a request whose forwarding was proven: the peer's name.
#[derive(Clone, Debug)]
pub struct ForwardedByPeer {
    /// The forwarding node.
    pub node: String,
    /// The client's address as the forwarding node saw it.
    pub client: Option<IpAddr>,
}

/// Signs and checks forwarded requests for one node.
#[derive(Clone)]
pub struct PeerProof {
    key: ClusterKey,
    node: String,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl PeerProof {
    /// Proofs by (and for) node `node` with the cluster key.
    pub fn new(key: ClusterKey, node: impl Into<String>) -> PeerProof {
        PeerProof {
            key,
            node: node.into(),
        }
    }

    /// The header value for `request`, forwarded now.
    pub fn sign(&self, request: &Crossing<'_>) -> String {
        self.sign_at(now_ms(), request)
    }

    fn sign_at(&self, ms: u64, r: &Crossing<'_>) -> String {
        let ms = ms.to_string();
        let fields = [
            self.node.as_str(),
            &ms,
            r.method,
            r.path_and_query,
            r.hops,
            r.term,
        ];
        format!(
            "{};{ms};{}",
            self.node,
            hex::encode(self.key.forward_proof(&fields))
        )
    }

    /// The forwarding node's name when `proof` signs `request` and is
    /// fresh; why not otherwise.
    pub fn verify(&self, proof: &str, request: &Crossing<'_>) -> Result<String, &'static str> {
        self.verify_at(now_ms(), proof, request)
    }

    fn verify_at(&self, now: u64, proof: &str, r: &Crossing<'_>) -> Result<String, &'static str> {
        let mut parts = proof.splitn(3, ';');
        let (Some(node), Some(ms), Some(mac)) = (parts.next(), parts.next(), parts.next()) else {
            return Err("malformed proof");
        };
        let sent: u64 = ms.parse().map_err(|_| "malformed proof time")?;
        if now.abs_diff(sent) > MAX_SKEW.as_millis() as u64 {
            return Err("stale proof");
        }
        let mac = hex::decode(mac).map_err(|_| "malformed proof")?;
        let fields = [node, ms, r.method, r.path_and_query, r.hops, r.term];
        match self.key.verify_forward(&fields, &mac) {
            true => Ok(node.to_owned()),
            false => Err("the proof does not verify with the cluster key"),
        }
    }
}

/// What a proof covers of a forwarded request.
#[derive(Clone, Copy, Debug)]
pub struct Crossing<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// The path and query.
    pub path_and_query: &'a str,
    /// The `X-Skein-Proxied` hop count, as sent.
    pub hops: &'a str,
    /// The `X-Skein-Term` term, as sent.
    pub term: &'a str,
}

/// Whether the request claims to be forwarded (crossing headers or a proof).
fn claims_forwarding(headers: &HeaderMap, crossing: &[&str]) -> bool {
    headers.contains_key(PROOF_HEADER) || crossing.iter().any(|h| headers.contains_key(*h))
}

/// Checks a request's claim to come from a cluster peer. Proven: the
/// [`ForwardedByPeer`] extension is set. Not proven (or no cluster key):
/// the crossing headers and the proof are removed, so the request counts as
/// a client's; `false` tells the caller to log it.
pub fn check(
    req: &mut ServiceRequest,
    proof: Option<&PeerProof>,
    crossing: &[&'static str],
) -> bool {
    if !claims_forwarding(req.headers(), crossing) {
        return true;
    }
    let value = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let pq = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let verdict = match proof {
        None => Err("this node has no cluster key"),
        Some(p) => {
            let (hops, term) = (
                value(crossing[0]),
                value(crossing.get(1).copied().unwrap_or("")),
            );
            let request = Crossing {
                method: req.method().as_str(),
                path_and_query: &pq,
                hops: &hops,
                term: &term,
            };
            p.verify(&value(PROOF_HEADER), &request)
        }
    };
    match verdict {
        Ok(node) => {
            let client = req
                .headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|ip| ip.trim().parse().ok());
            req.extensions_mut()
                .insert(ForwardedByPeer { node, client });
            true
        }
        Err(why) => {
            let headers = req.headers_mut();
            for name in crossing.iter().copied().chain([PROOF_HEADER]) {
                headers.remove(HeaderName::from_static(name));
            }
            log::warn!(
                "a request claiming to be forwarded by a cluster peer was not proven ({why}); \
                 handled as a client's request"
            );
            false
        }
    }
}

/// The proof header as a value.
pub fn header_value(text: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proof(key: &str) -> PeerProof {
        PeerProof::new(ClusterKey::new(key).unwrap(), "b")
    }

    fn crossing<'a>(method: &'a str, pq: &'a str, hops: &'a str, term: &'a str) -> Crossing<'a> {
        Crossing {
            method,
            path_and_query: pq,
            hops,
            term,
        }
    }

    #[test]
    fn a_proof_verifies_only_for_what_it_signed() {
        let (p, now) = (proof("cluster-key"), 1_700_000_000_000);
        let ingest = crossing("POST", "/ingest/clef", "1", "3");
        let signed = p.sign_at(now, &ingest);
        assert_eq!(p.verify_at(now, &signed, &ingest), Ok("b".into()));
        for other in [
            crossing("GET", "/ingest/clef", "1", "3"),
            crossing("POST", "/api/events", "1", "3"),
            crossing("POST", "/ingest/clef", "2", "3"),
            crossing("POST", "/ingest/clef", "1", "4"),
        ] {
            assert!(p.verify_at(now, &signed, &other).is_err(), "{other:?}");
        }
        let other = proof("another-key");
        assert!(other.verify_at(now, &signed, &ingest).is_err());
        let forged = signed.replacen(';', "x;", 1);
        assert!(p.verify_at(now, &forged, &ingest).is_err());
        let late = now + MAX_SKEW.as_millis() as u64 + 1;
        assert_eq!(p.verify_at(late, &signed, &ingest), Err("stale proof"));
        for junk in ["", ";;", "b;x;00", "b;1;zz", "b;1700000000000;abc"] {
            assert!(p.verify_at(now, junk, &ingest).is_err(), "{junk}");
        }
    }

    #[test]
    fn unproven_crossing_headers_are_removed() {
        let p = proof("cluster-key");
        let headers = ["x-skein-proxied", "x-skein-term"];
        let mut req = actix_web::test::TestRequest::post()
            .uri("/ingest/clef")
            .insert_header(("x-skein-proxied", "2"))
            .insert_header(("x-skein-term", "9"))
            .insert_header((PROOF_HEADER, "b;1;00"))
            .to_srv_request();
        assert!(!check(&mut req, Some(&p), &headers));
        assert!(!req.headers().contains_key("x-skein-proxied"));
        assert!(!req.headers().contains_key(PROOF_HEADER));
        assert!(req.extensions().get::<ForwardedByPeer>().is_none());

        let signed = p.sign(&crossing("POST", "/ingest/clef", "1", "9"));
        let mut req = actix_web::test::TestRequest::post()
            .uri("/ingest/clef")
            .insert_header(("x-skein-proxied", "1"))
            .insert_header(("x-skein-term", "9"))
            .insert_header(("x-forwarded-for", "203.0.113.9, 10.0.0.7"))
            .insert_header((PROOF_HEADER, signed))
            .to_srv_request();
        assert!(check(&mut req, Some(&p), &headers));
        assert_eq!(req.headers().get("x-skein-proxied").unwrap(), "1");
        let by = req.extensions().get::<ForwardedByPeer>().cloned().unwrap();
        assert_eq!(
            (by.node.as_str(), by.client),
            ("b", Some("10.0.0.7".parse().unwrap()))
        );
        // Without a cluster key nothing is trusted.
        let mut req = actix_web::test::TestRequest::post()
            .uri("/ingest/clef")
            .insert_header(("x-skein-proxied", "1"))
            .to_srv_request();
        assert!(!check(&mut req, None, &headers));
        assert!(!req.headers().contains_key("x-skein-proxied"));
    }
}
