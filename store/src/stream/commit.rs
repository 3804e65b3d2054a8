//! Group commit: appends that arrive while an fsync is in flight share the next one.
//!
//! The first caller to find no commit running becomes the committer: it takes
//! every pending block (up to a byte budget), writes and fsyncs them as one
//! group, hands each waiter its receipt, and wakes the others; one of those
//! still pending becomes the next committer. No thread is dedicated to it.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex};

use super::error::StoreError;
use super::writer::{AppendReceipt, Writer};
use crate::block::EncodedBlock;

/// Pending appends and their outcomes.
#[derive(Default)]
struct Queue {
    pending: Vec<(u64, EncodedBlock)>,
    next_ticket: u64,
    results: HashMap<u64, Result<AppendReceipt, StoreError>>,
    busy: bool,
}

/// The group-commit rendezvous in front of the [`Writer`].
#[derive(Default)]
pub(crate) struct GroupCommit {
    queue: Mutex<Queue>,
    done: Condvar,
}

impl GroupCommit {
    /// Appends `block` durably, sharing the fsync with concurrent callers;
    /// returns only once the block is fsynced (or failed).
    pub fn append(
        &self,
        writer: &Mutex<Writer>,
        block: EncodedBlock,
        max_group_bytes: usize,
    ) -> Result<AppendReceipt, StoreError> {
        let mut q = self.queue.lock().expect("commit queue lock");
        let ticket = q.next_ticket;
        q.next_ticket += 1;
        q.pending.push((ticket, block));
        loop {
            if let Some(result) = q.results.remove(&ticket) {
                return result;
            }
            if q.busy {
                q = self.done.wait(q).expect("commit queue lock");
                continue;
            }
            q.busy = true;
            let group = take_group(&mut q.pending, max_group_bytes);
            drop(q);
            let (tickets, blocks): (Vec<u64>, Vec<EncodedBlock>) = group.into_iter().unzip();
            let outcome = writer.lock().expect("writer lock").commit_group(&blocks);
            q = self.queue.lock().expect("commit queue lock");
            match outcome {
                Ok(receipts) => {
                    for (t, r) in tickets.into_iter().zip(receipts) {
                        q.results.insert(t, Ok(r));
                    }
                }
                Err(e) => {
                    for t in tickets {
                        q.results.insert(t, Err(e.duplicate()));
                    }
                }
            }
            q.busy = false;
            self.done.notify_all();
        }
    }
}

/// Takes pending blocks from the front while they fit in `max_bytes` (at least one).
fn take_group(
    pending: &mut Vec<(u64, EncodedBlock)>,
    max_bytes: usize,
) -> Vec<(u64, EncodedBlock)> {
    let mut bytes = 0;
    let n = pending
        .iter()
        .take_while(|(_, b)| {
            bytes += b.payload.len();
            bytes <= max_bytes
        })
        .count()
        .max(1);
    pending.drain(..n.min(pending.len())).collect()
}
