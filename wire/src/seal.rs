//! [`SessionSeal`]: binds every frame after the handshake to its session.
//!
//! Once the leader has sent `Welcome`, both sides derive a session key from
//! the cluster key and the session's two nonces
//! (HMAC(key, "skein session" ‖ nonce_l ‖ nonce_f ‖ node)) and append to
//! every frame its sequence number and HMAC-SHA256(session key, direction ‖
//! sequence ‖ frame). A frame injected, altered, reordered, replayed or
//! taken from another session (even over plain `ws://`) fails the check and
//! ends the session; `wss://` adds confidentiality on top.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{ClusterKey, WireError};

const SEQ_LEN: usize = 8;
const MAC_LEN: usize = 32;
const TO_FOLLOWER: &[u8] = b"leader to follower";
const TO_LEADER: &[u8] = b"follower to leader";

/// One side's sealing state for one session.
pub struct SessionSeal {
    key: Vec<u8>,
    outgoing: &'static [u8],
    incoming: &'static [u8],
    sent: u64,
    received: u64,
}

impl std::fmt::Debug for SessionSeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionSeal")
            .field("sent", &self.sent)
            .field("received", &self.received)
            .finish_non_exhaustive()
    }
}

impl SessionSeal {
    /// The leader's seal for the session with `node`.
    pub fn leader(key: &ClusterKey, nonce_l: &[u8], nonce_f: &[u8], node: &str) -> SessionSeal {
        SessionSeal::new(
            key.session_key(nonce_l, nonce_f, node),
            TO_FOLLOWER,
            TO_LEADER,
        )
    }

    /// The follower's seal for its session as `node`.
    pub fn follower(key: &ClusterKey, nonce_l: &[u8], nonce_f: &[u8], node: &str) -> SessionSeal {
        SessionSeal::new(
            key.session_key(nonce_l, nonce_f, node),
            TO_LEADER,
            TO_FOLLOWER,
        )
    }

    fn new(key: Vec<u8>, outgoing: &'static [u8], incoming: &'static [u8]) -> SessionSeal {
        SessionSeal {
            key,
            outgoing,
            incoming,
            sent: 0,
            received: 0,
        }
    }

    fn mac(&self, direction: &[u8], seq: u64, frame: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .expect("HMAC takes keys of any length");
        mac.update(direction);
        mac.update(&seq.to_be_bytes());
        mac.update(frame);
        mac
    }

    /// `frame` with its sequence number and MAC appended.
    pub fn seal(&mut self, mut frame: Vec<u8>) -> Vec<u8> {
        let seq = self.sent;
        self.sent += 1;
        let tag = self.mac(self.outgoing, seq, &frame).finalize().into_bytes();
        frame.extend_from_slice(&seq.to_be_bytes());
        frame.extend_from_slice(&tag);
        frame
    }

    /// The frame inside `sealed`, when it is the next one of this session.
    pub fn open<'a>(&mut self, sealed: &'a [u8]) -> Result<&'a [u8], WireError> {
        let forged =
            |why: &str| WireError::Malformed(format!("frame not sealed by this session: {why}"));
        if sealed.len() < SEQ_LEN + MAC_LEN {
            return Err(forged("too short"));
        }
        let (rest, tag) = sealed.split_at(sealed.len() - MAC_LEN);
        let (frame, seq) = rest.split_at(rest.len() - SEQ_LEN);
        let seq = u64::from_be_bytes(seq.try_into().expect("8 bytes"));
        if seq != self.received {
            return Err(forged("out of sequence"));
        }
        self.mac(self.incoming, seq, frame)
            .verify_slice(tag)
            .map_err(|_| forged("wrong MAC"))?;
        self.received += 1;
        Ok(frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(key: &str, nonce_l: &[u8]) -> (SessionSeal, SessionSeal) {
        let key = ClusterKey::new(key).unwrap();
        (
            SessionSeal::leader(&key, nonce_l, b"nf", "b"),
            SessionSeal::follower(&key, nonce_l, b"nf", "b"),
        )
    }

    #[test]
    fn sealed_frames_open_in_order_on_the_other_side_only() {
        let (mut l, mut f) = pair("k", b"nl");
        for i in 0..3u8 {
            let sealed = l.seal(vec![i; 10]);
            assert_eq!(f.open(&sealed).unwrap(), &[i; 10]);
            let back = f.seal(vec![i]);
            assert_eq!(l.open(&back).unwrap(), &[i]);
        }
        // Reflected back at its sender: the direction differs.
        let (mut l, _) = pair("k", b"nl");
        let own = l.seal(b"x".to_vec());
        assert!(l.open(&own).is_err());
    }

    #[test]
    fn tampered_replayed_reordered_and_foreign_frames_are_refused() {
        let (mut l, mut f) = pair("k", b"nl");
        let first = l.seal(b"first".to_vec());
        let second = l.seal(b"second".to_vec());
        assert!(f.open(&second).is_err(), "reordered");
        let mut tampered = first.clone();
        tampered[0] ^= 1;
        assert!(f.open(&tampered).is_err(), "tampered");
        assert!(f.open(&first).is_ok());
        assert!(f.open(&first).is_err(), "replayed");
        assert!(f.open(b"short").is_err());
        let (mut other, _) = pair("k", b"another session");
        let (_, mut f2) = pair("k", b"nl");
        assert!(
            f2.open(&other.seal(b"first".to_vec())).is_err(),
            "another session's"
        );
    }

    #[test]
    fn garbage_never_opens_and_says_why() {
        let (_, mut f) = pair("k", b"nl");
        let noise: Vec<u8> = (0..1000u32).map(|i| (i * 7919 % 251) as u8).collect();
        for bytes in [&[][..], &[0; 39], &[0; 40], &noise] {
            match f.open(bytes) {
                Err(WireError::Malformed(why)) => {
                    assert!(why.contains("not sealed by this session"), "{why}")
                }
                other => panic!("{} bytes gave {other:?}", bytes.len()),
            }
        }
        // Garbage does not move the session on: the leader's first frame opens.
        let (mut l, _) = pair("k", b"nl");
        assert_eq!(f.open(&l.seal(b"first".to_vec())).unwrap(), b"first");
    }
}
