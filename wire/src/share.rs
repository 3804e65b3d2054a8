//! The scale-out query exchange: the leader asks an up-to-date follower to
//! run one [`Share`] of an aggregating query (`POST` [`SHARE_PATH`], a
//! MessagePack [`ShareRequest`]), and the follower answers with its
//! [`PartialQuery`] (MessagePack), which the leader merges.
//!
//! The request rides the internal API, signed as a forwarded request is
//! (the peer proof covers the method, path and query); the body is bound
//! to the signature by its SHA-256 in the query ([`DIGEST_PARAM`],
//! [`body_digest`]), so no part of it can be altered on the way.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use skein_store::query::PartialQuery;
use skein_store::search::Share;

use crate::WireError;

/// Where a follower takes share requests (served by every node itself,
/// never forwarded, as every path under `/cluster/`).
pub const SHARE_PATH: &str = "/cluster/share";
/// The query parameter carrying the request body's [`body_digest`].
pub const DIGEST_PARAM: &str = "digest";
/// The content type of both bodies.
pub const CONTENT_TYPE: &str = "application/msgpack";
/// The largest request accepted: a query text is at most 64 KiB, a share's
/// ranges a few hundred bytes.
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;

/// One share of an aggregating query, as the leader sends it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareRequest {
    /// The leader's term: a follower runs the share only while it follows
    /// that leader in that term.
    pub term: u64,
    /// The plan's snapshot: the follower waits until it holds every event
    /// with a lower arrival number.
    pub below: u64,
    /// The query's `Now()`, in nanoseconds since the Unix epoch.
    pub now: i64,
    /// The query text (`select … from stream …`).
    pub query: String,
    /// The range's start, inclusive (nanoseconds).
    pub from: Option<i64>,
    /// The range's end, exclusive (nanoseconds).
    pub to: Option<i64>,
    /// The arrival numbers to scan.
    pub share: Share,
}

impl ShareRequest {
    /// The request as MessagePack.
    pub fn encode(&self) -> Result<Vec<u8>, WireError> {
        rmp_serde::to_vec_named(self).map_err(|e| WireError::Encode(e.to_string()))
    }

    /// Decodes a request, refusing one larger than [`MAX_REQUEST_BYTES`].
    pub fn decode(bytes: &[u8]) -> Result<ShareRequest, WireError> {
        if bytes.len() > MAX_REQUEST_BYTES {
            return Err(WireError::Malformed(format!(
                "a share request of {} bytes is larger than {MAX_REQUEST_BYTES}",
                bytes.len()
            )));
        }
        rmp_serde::from_slice(bytes).map_err(|e| WireError::Malformed(e.to_string()))
    }
}

/// A follower's answer as MessagePack.
pub fn encode_answer(partial: &PartialQuery) -> Result<Vec<u8>, WireError> {
    rmp_serde::to_vec(partial).map_err(|e| WireError::Encode(e.to_string()))
}

/// Decodes a follower's answer (checked against the query when merged).
pub fn decode_answer(bytes: &[u8]) -> Result<PartialQuery, WireError> {
    rmp_serde::from_slice(bytes).map_err(|e| WireError::Malformed(e.to_string()))
}

/// The hex SHA-256 of a request body, for [`DIGEST_PARAM`].
pub fn body_digest(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use skein_store::query::{EvalContext, Query};
    use skein_store::{Store, StoreOptions, Timestamp};

    fn request() -> ShareRequest {
        ShareRequest {
            term: 7,
            below: 1_000,
            now: 1_735_689_600_000_000_000,
            query: "select count(*) from stream group by @Level".into(),
            from: Some(1),
            to: None,
            share: Share::new(vec![(0, 10), (20, 1_000)]).unwrap(),
        }
    }

    #[test]
    fn a_request_decodes_to_itself() {
        let r = request();
        assert_eq!(ShareRequest::decode(&r.encode().unwrap()).unwrap(), r);
    }

    #[test]
    fn malformed_requests_are_refused() {
        let bytes = request().encode().unwrap();
        for cut in 0..bytes.len() {
            assert!(ShareRequest::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        assert!(ShareRequest::decode(&vec![0x90; MAX_REQUEST_BYTES + 1]).is_err());
        // Ranges out of order are refused by the share itself.
        let mut value = rmp_serde::to_vec_named(&request()).unwrap();
        let good = rmp_serde::to_vec(&vec![(0u64, 10u64), (20u64, 1000u64)]).unwrap();
        let bad = rmp_serde::to_vec(&vec![(20u64, 1000u64), (0u64, 10u64)]).unwrap();
        let at = value
            .windows(good.len())
            .position(|w| w == good.as_slice())
            .unwrap();
        value.splice(at..at + good.len(), bad);
        let e = ShareRequest::decode(&value).unwrap_err().to_string();
        assert!(e.contains("sorted and disjoint"), "{e}");
    }

    #[test]
    fn an_answer_with_large_integers_decodes_to_itself() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
        let body = "{\"@t\":\"2025-01-01T00:00:00Z\",\"@mt\":\"x\",\"Big\":170141183460469231731687303715884105727}\n\
                    {\"@t\":\"2025-01-01T00:00:01Z\",\"@mt\":\"x\",\"Big\":-3.5}\n";
        store
            .append_events(&skein_store::event::parse_clef(body.as_bytes()).unwrap())
            .unwrap();
        let q = Query::parse("select max(Big), min(Big), distinct(Big) from stream group by Big")
            .unwrap();
        let ctx = EvalContext::new(Timestamp(0));
        let all = Share::new(vec![(0, u64::MAX)]).unwrap();
        let part = skein_store::search::query_share(&store, &q, (None, None), &ctx, &all).unwrap();
        let back = decode_answer(&encode_answer(&part).unwrap()).unwrap();
        assert_eq!(back, part);
        let mut runner = q.runner(&ctx);
        runner.absorb(back).unwrap();
        assert_eq!(runner.finish().rows.len(), 2);
    }

    #[test]
    fn the_digest_is_sha256() {
        assert_eq!(
            body_digest(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
