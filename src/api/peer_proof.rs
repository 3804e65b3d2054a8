//! Proof of cluster membership on forwarded requests.
//!
//! A follower forwarding a request signs it: `X-Skein-Peer-Proof:
//! <node>;<unix ms>;<hex nonce>;<hex HMAC>` where the HMAC (the cluster key,
//! see [`ClusterKey::forward_proof`]) covers the node name, the time, a
//! random nonce, the method, the path and query, the crossing headers
//! (`X-Skein-Proxied`, `X-Skein-Term`) and the `X-Forwarded-For` it sends —
//! so none of them can be altered. A proof is good for [`MAX_SKEW`] and for
//! one request: the receiver remembers every proof it accepted for as long
//! as it could be accepted again ([`ReplayCache`]), so a captured proof
//! cannot be replayed, with the same or another client address.
//!
//! The receiving node trusts a request's crossing headers and its forwarded
//! client address only when the proof verifies; otherwise they are removed,
//! the request is handled as any client's, the attempt is logged and
//! counted ([`skein_actors::replication::RefusalCounts::forged_forwarding`]).

use std::collections::{HashSet, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::dev::ServiceRequest;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::HttpMessage as _;
use skein_actors::replication::{ClusterKey, ReplicationState};

/// The header carrying the proof.
pub const PROOF_HEADER: &str = "x-skein-peer-proof";
/// How far a proof's time may be from the receiver's clock.
pub const MAX_SKEW: Duration = Duration::from_secs(30);
/// Proofs remembered at most; beyond it (more than this many forwarded
/// requests within a validity window) proofs are refused rather than
/// forgotten, so none can be replayed.
pub const MAX_REMEMBERED: usize = 1 << 20;
/// Bytes of a proof's random nonce.
const NONCE_LEN: usize = 16;

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
    seen: Arc<Mutex<ReplayCache>>,
    state: Option<ReplicationState>,
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
            seen: Arc::new(Mutex::new(ReplayCache::default())),
            state: None,
        }
    }

    /// Counts refused proofs in `state`'s refusal counters.
    pub fn counting_in(mut self, state: ReplicationState) -> PeerProof {
        self.state = Some(state);
        self
    }

    /// The header value for `request`, forwarded now.
    pub fn sign(&self, request: &Crossing<'_>) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        // Without randomness the time still varies; the replay cache then
        // refuses the rare duplicate rather than accepting it twice.
        if let Err(e) = getrandom::fill(&mut nonce) {
            log::warn!("no random nonce for a forwarding proof: {e}");
        }
        self.sign_at(now_ms(), &hex::encode(nonce), request)
    }

    fn sign_at(&self, ms: u64, nonce: &str, r: &Crossing<'_>) -> String {
        let ms = ms.to_string();
        let fields = r.fields(&self.node, &ms, nonce);
        format!(
            "{};{ms};{nonce};{}",
            self.node,
            hex::encode(self.key.forward_proof(&fields))
        )
    }

    /// The forwarding node's name when `proof` signs `request`, is fresh
    /// and was not seen before; why not otherwise.
    pub fn verify(&self, proof: &str, request: &Crossing<'_>) -> Result<String, &'static str> {
        self.verify_at(now_ms(), proof, request)
    }

    fn verify_at(&self, now: u64, proof: &str, r: &Crossing<'_>) -> Result<String, &'static str> {
        let mut parts = proof.splitn(4, ';');
        let (Some(node), Some(ms), Some(nonce), Some(mac)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("malformed proof");
        };
        let sent: u64 = ms.parse().map_err(|_| "malformed proof time")?;
        if now.abs_diff(sent) > MAX_SKEW.as_millis() as u64 {
            return Err("stale proof");
        }
        let mac = hex::decode(mac).map_err(|_| "malformed proof")?;
        if !self.key.verify_forward(&r.fields(node, ms, nonce), &mac) {
            return Err("the proof does not verify with the cluster key");
        }
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.admit(&mac, sent, now)?;
        Ok(node.to_owned())
    }

    fn refused(&self) {
        if let Some(state) = &self.state {
            state.refusals().forged_forwarding();
        }
    }
}

/// A remembered proof: the first 128 bits of its (verified) MAC.
type Seen = [u8; 16];

/// The proofs accepted within their validity window, to refuse them a
/// second time; bounded by [`MAX_REMEMBERED`] (about 64 MiB at most).
#[derive(Debug, Default)]
pub struct ReplayCache {
    macs: HashSet<Seen>,
    /// `(signed at, MAC)` in order of acceptance, to forget the expired.
    order: VecDeque<(u64, Seen)>,
}

impl ReplayCache {
    /// Remembers `mac` (signed at `sent`), refusing it if already seen.
    fn admit(&mut self, mac: &[u8], sent: u64, now: u64) -> Result<(), &'static str> {
        let mut seen = Seen::default();
        let n = mac.len().min(seen.len());
        seen[..n].copy_from_slice(&mac[..n]);
        let window = MAX_SKEW.as_millis() as u64;
        // A proof signed before `now - window` can no longer be accepted;
        // proofs arrive roughly in time order, so the front expires first.
        while let Some((at, _)) = self.order.front() {
            if at.saturating_add(window) >= now {
                break;
            }
            let (_, old) = self.order.pop_front().expect("front exists");
            self.macs.remove(&old);
        }
        if self.macs.contains(&seen) {
            return Err("replayed proof (already used once)");
        }
        if self.macs.len() >= MAX_REMEMBERED {
            return Err("too many forwarded requests in flight to remember another proof");
        }
        self.macs.insert(seen);
        self.order.push_back((sent, seen));
        Ok(())
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
    /// The `X-Forwarded-For` value, as sent (empty when none).
    pub forwarded_for: &'a str,
}

impl<'a> Crossing<'a> {
    /// The signed fields, in order.
    fn fields(&self, node: &'a str, ms: &'a str, nonce: &'a str) -> [&'a str; 8] {
        [
            node,
            ms,
            nonce,
            self.method,
            self.path_and_query,
            self.hops,
            self.term,
            self.forwarded_for,
        ]
    }
}

/// Whether the request claims to be forwarded (crossing headers or a proof).
fn claims_forwarding(headers: &HeaderMap, crossing: &[&str]) -> bool {
    headers.contains_key(PROOF_HEADER) || crossing.iter().any(|h| headers.contains_key(*h))
}

/// A header's values joined as one (`, `), as a proxy sends them.
pub fn joined(headers: &HeaderMap, name: &str) -> String {
    headers
        .get_all(name)
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(", ")
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
    let value = |name: &str| joined(req.headers(), name);
    let pq = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let forwarded_for = value("x-forwarded-for");
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
                forwarded_for: &forwarded_for,
            };
            p.verify(&value(PROOF_HEADER), &request)
        }
    };
    match verdict {
        Ok(node) => {
            let client = forwarded_for
                .rsplit(',')
                .next()
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
            if let Some(p) = proof {
                p.refused();
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
            forwarded_for: "203.0.113.9",
        }
    }

    #[test]
    fn a_proof_verifies_only_for_what_it_signed() {
        let (p, now) = (proof("cluster-key"), 1_700_000_000_000);
        let ingest = crossing("POST", "/ingest/clef", "1", "3");
        let signed = p.sign_at(now, "0a0b", &ingest);
        let other_client = Crossing {
            forwarded_for: "198.51.100.1",
            ..ingest
        };
        for other in [
            crossing("GET", "/ingest/clef", "1", "3"),
            crossing("POST", "/api/events", "1", "3"),
            crossing("POST", "/ingest/clef", "2", "3"),
            crossing("POST", "/ingest/clef", "1", "4"),
            other_client,
        ] {
            assert!(p.verify_at(now, &signed, &other).is_err(), "{other:?}");
        }
        let other = proof("another-key");
        assert!(other.verify_at(now, &signed, &ingest).is_err());
        let forged = signed.replacen(';', "x;", 1);
        assert!(p.verify_at(now, &forged, &ingest).is_err());
        let nonce_changed = signed.replacen(";0a0b;", ";0a0c;", 1);
        assert!(p.verify_at(now, &nonce_changed, &ingest).is_err());
        let late = now + MAX_SKEW.as_millis() as u64 + 1;
        assert_eq!(p.verify_at(late, &signed, &ingest), Err("stale proof"));
        for junk in ["", ";;", "b;x;00;00", "b;1;00;zz", "b;1700000000000;00;abc"] {
            assert!(p.verify_at(now, junk, &ingest).is_err(), "{junk}");
        }
        assert_eq!(p.verify_at(now, &signed, &ingest), Ok("b".into()));
    }

    #[test]
    fn a_proof_is_accepted_once_and_forgotten_only_once_stale() {
        let (p, now) = (proof("cluster-key"), 1_700_000_000_000);
        let ingest = crossing("POST", "/ingest/clef", "1", "3");
        let signed = p.sign_at(now, "01", &ingest);
        assert_eq!(p.verify_at(now, &signed, &ingest), Ok("b".into()));
        let replayed = p.verify_at(now + 1, &signed, &ingest);
        assert_eq!(replayed, Err("replayed proof (already used once)"));
        // The same request signed again (another nonce) is a new proof.
        let again = p.sign_at(now, "02", &ingest);
        assert_eq!(p.verify_at(now + 2, &again, &ingest), Ok("b".into()));
        // Proofs past their window are forgotten: they are stale anyway.
        let later = now + MAX_SKEW.as_millis() as u64 + 10;
        let fresh = p.sign_at(later, "03", &ingest);
        assert_eq!(p.verify_at(later, &fresh, &ingest), Ok("b".into()));
        assert_eq!(p.seen.lock().unwrap().macs.len(), 1);
        // Two signatures made now never collide.
        let (x, y) = (p.sign(&ingest), p.sign(&ingest));
        assert_ne!(x, y);
    }

    #[test]
    fn unproven_crossing_headers_are_removed_and_counted() {
        let state = ReplicationState::default();
        let p = proof("cluster-key").counting_in(state.clone());
        let headers = ["x-skein-proxied", "x-skein-term"];
        let mut req = actix_web::test::TestRequest::post()
            .uri("/ingest/clef")
            .insert_header(("x-skein-proxied", "2"))
            .insert_header(("x-skein-term", "9"))
            .insert_header((PROOF_HEADER, "b;1;00;00"))
            .to_srv_request();
        assert!(!check(&mut req, Some(&p), &headers));
        assert!(!req.headers().contains_key("x-skein-proxied"));
        assert!(!req.headers().contains_key(PROOF_HEADER));
        assert!(req.extensions().get::<ForwardedByPeer>().is_none());
        assert_eq!(state.refusals().counts().forged_forwarding, 1);

        let signed = p.sign(&Crossing {
            forwarded_for: "203.0.113.9, 10.0.0.7",
            ..crossing("POST", "/ingest/clef", "1", "9")
        });
        let forwarded = |proof: &str, xff: &str| {
            actix_web::test::TestRequest::post()
                .uri("/ingest/clef")
                .insert_header(("x-skein-proxied", "1"))
                .insert_header(("x-skein-term", "9"))
                .insert_header(("x-forwarded-for", xff.to_owned()))
                .insert_header((PROOF_HEADER, proof.to_owned()))
                .to_srv_request()
        };
        // Another client address under a good proof: refused.
        let mut req = forwarded(&signed, "203.0.113.9, 10.0.0.8");
        assert!(!check(&mut req, Some(&p), &headers));
        assert!(req.extensions().get::<ForwardedByPeer>().is_none());
        let mut req = forwarded(&signed, "203.0.113.9, 10.0.0.7");
        assert!(check(&mut req, Some(&p), &headers));
        assert_eq!(req.headers().get("x-skein-proxied").unwrap(), "1");
        let by = req.extensions().get::<ForwardedByPeer>().cloned().unwrap();
        assert_eq!(
            (by.node.as_str(), by.client),
            ("b", Some("10.0.0.7".parse().unwrap()))
        );
        // The same proof once more: a replay.
        let mut req = forwarded(&signed, "203.0.113.9, 10.0.0.7");
        assert!(!check(&mut req, Some(&p), &headers));
        assert_eq!(state.refusals().counts().forged_forwarding, 3);
        // Without a cluster key nothing is trusted.
        let mut req = actix_web::test::TestRequest::post()
            .uri("/ingest/clef")
            .insert_header(("x-skein-proxied", "1"))
            .to_srv_request();
        assert!(!check(&mut req, None, &headers));
        assert!(!req.headers().contains_key("x-skein-proxied"));
    }
}
