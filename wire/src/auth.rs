//! Challenge–response authentication with the cluster key (HMAC-SHA256).
//!
//! The follower sends a random nonce (`nonce_f`) with its name; the leader
//! answers with its own (`nonce_l`). The follower proves knowledge of the key
//! with `HMAC(key, "follower" ‖ nonce_l ‖ nonce_f ‖ node)`, the leader with
//! `HMAC(key, "leader" ‖ nonce_l ‖ nonce_f ‖ node)`. Every part is length
//! prefixed, the role labels keep one side's proof from being replayed as the
//! other's, and fresh nonces keep an old proof from being replayed at all.
//! The key never crosses the wire; proofs are compared in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::WireError;

/// Length of the random nonces each side contributes.
pub const NONCE_LEN: usize = 32;

/// The shared cluster authentication key (never printed).
#[derive(Clone)]
pub struct ClusterKey(Vec<u8>);

impl ClusterKey {
    /// The key as configured (`cluster.authenticationKey`).
    pub fn new(key: &str) -> Result<ClusterKey, WireError> {
        if key.trim().is_empty() {
            return Err(WireError::Config(
                "the cluster authentication key is empty".into(),
            ));
        }
        Ok(ClusterKey(key.as_bytes().to_vec()))
    }

    fn mac(&self, label: &[u8], nonce_l: &[u8], nonce_f: &[u8], node: &str) -> Hmac<Sha256> {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        for part in [label, nonce_l, nonce_f, node.as_bytes()] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac
    }

    /// The follower's proof for a session.
    pub fn follower_proof(&self, nonce_l: &[u8], nonce_f: &[u8], node: &str) -> Vec<u8> {
        self.mac(b"skein follower", nonce_l, nonce_f, node)
            .finalize()
            .into_bytes()
            .to_vec()
    }

    /// The leader's proof for a session.
    pub fn leader_proof(&self, nonce_l: &[u8], nonce_f: &[u8], node: &str) -> Vec<u8> {
        self.mac(b"skein leader", nonce_l, nonce_f, node)
            .finalize()
            .into_bytes()
            .to_vec()
    }

    /// Whether `proof` is the follower's proof for this session (constant time).
    pub fn verify_follower(
        &self,
        nonce_l: &[u8],
        nonce_f: &[u8],
        node: &str,
        proof: &[u8],
    ) -> bool {
        self.mac(b"skein follower", nonce_l, nonce_f, node)
            .verify_slice(proof)
            .is_ok()
    }

    /// The key that seals one session's frames (see [`crate::seal`]).
    pub(crate) fn session_key(&self, nonce_l: &[u8], nonce_f: &[u8], node: &str) -> Vec<u8> {
        self.mac(b"skein session", nonce_l, nonce_f, node)
            .finalize()
            .into_bytes()
            .to_vec()
    }

    /// A forwarding node's proof over `fields` (see the binary's
    /// `api::peer_proof`): HMAC(key, "skein forward" ‖ fields…).
    pub fn forward_proof(&self, fields: &[&str]) -> Vec<u8> {
        self.forward_mac(fields).finalize().into_bytes().to_vec()
    }

    /// Whether `proof` is [`ClusterKey::forward_proof`] of `fields`
    /// (constant time).
    pub fn verify_forward(&self, fields: &[&str], proof: &[u8]) -> bool {
        self.forward_mac(fields).verify_slice(proof).is_ok()
    }

    fn forward_mac(&self, fields: &[&str]) -> Hmac<Sha256> {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        for part in
            std::iter::once(&b"skein forward"[..]).chain(fields.iter().map(|f| f.as_bytes()))
        {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac
    }

    /// Whether `proof` is the leader's proof for this session (constant time).
    pub fn verify_leader(&self, nonce_l: &[u8], nonce_f: &[u8], node: &str, proof: &[u8]) -> bool {
        self.mac(b"skein leader", nonce_l, nonce_f, node)
            .verify_slice(proof)
            .is_ok()
    }
}

impl std::fmt::Debug for ClusterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClusterKey(<redacted>)")
    }
}

/// A fresh random nonce.
pub fn new_nonce() -> Result<Vec<u8>, WireError> {
    let mut n = vec![0u8; NONCE_LEN];
    getrandom::fill(&mut n).map_err(|e| WireError::Config(format!("no randomness: {e}")))?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> ClusterKey {
        ClusterKey::new(k).unwrap()
    }

    #[test]
    fn the_right_key_is_accepted_both_ways() {
        let (nl, nf) = (new_nonce().unwrap(), new_nonce().unwrap());
        let follower = key("secret-key");
        let leader = key("secret-key");
        let proof = follower.follower_proof(&nl, &nf, "b");
        assert!(leader.verify_follower(&nl, &nf, "b", &proof));
        let proof_l = leader.leader_proof(&nl, &nf, "b");
        assert!(follower.verify_leader(&nl, &nf, "b", &proof_l));
    }

    #[test]
    fn a_wrong_key_is_refused() {
        let (nl, nf) = (new_nonce().unwrap(), new_nonce().unwrap());
        let proof = key("wrong").follower_proof(&nl, &nf, "b");
        assert!(!key("secret-key").verify_follower(&nl, &nf, "b", &proof));
        let proof_l = key("wrong").leader_proof(&nl, &nf, "b");
        assert!(!key("secret-key").verify_leader(&nl, &nf, "b", &proof_l));
    }

    #[test]
    fn a_replayed_proof_is_refused() {
        let k = key("secret-key");
        let (nl, nf) = (new_nonce().unwrap(), new_nonce().unwrap());
        let proof = k.follower_proof(&nl, &nf, "b");
        // Another session: the leader chose a new nonce.
        let nl2 = new_nonce().unwrap();
        assert!(!k.verify_follower(&nl2, &nf, "b", &proof));
        // Same nonces, another node name.
        assert!(!k.verify_follower(&nl, &nf, "c", &proof));
        // A leader's proof is not a follower's.
        let proof_l = k.leader_proof(&nl, &nf, "b");
        assert!(!k.verify_follower(&nl, &nf, "b", &proof_l));
        // Truncated or empty proofs.
        assert!(!k.verify_follower(&nl, &nf, "b", &proof[..16]));
        assert!(!k.verify_follower(&nl, &nf, "b", &[]));
    }

    #[test]
    fn the_key_is_never_printed() {
        assert_eq!(format!("{:?}", key("secret-key")), "ClusterKey(<redacted>)");
        assert!(ClusterKey::new("  ").is_err());
    }
}
