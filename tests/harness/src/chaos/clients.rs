//! Continuous ingestion from several client threads, each sending small
//! CLEF batches straight to the nodes' public APIs and recording every
//! acknowledged (201) event by its unique `ChaosId`, which node acked it
//! and when. A batch that was not acknowledged (connection error, 503, …)
//! is never counted and never resent: its ids may or may not be stored,
//! and the next attempt uses fresh ids, so an id can only be stored twice
//! if the server stored it twice.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::http::ingest_clef_answer;

use skein_store::dataset::Rng;

/// Events per batch.
const PER_BATCH: usize = 4;

/// One acknowledged event.
#[derive(Clone, Debug)]
pub struct Ack {
    /// The event's `ChaosId`.
    pub id: String,
    /// Index of the node whose API answered 201.
    pub node: usize,
    /// When the request was sent.
    pub sent: Instant,
    /// When the 201 arrived.
    pub acked: Instant,
    /// The term the answer says the event was stored in
    /// (`X-Skein-Acked-Term`; None when the header was missing).
    pub term: Option<u64>,
    /// The node the answer says stored it (`X-Skein-Acked-By`; empty when missing).
    pub by: String,
}

/// What the clients saw.
#[derive(Default)]
pub struct History {
    /// Every acknowledged event.
    pub acks: Vec<Ack>,
    /// Batches answered with a status other than 201, 503 or no answer
    /// (each a line: node, status, body).
    pub unexpected: Vec<String>,
    /// Batches not acknowledged (no answer or 503).
    pub refused: usize,
}

/// The `Check` property of the event `id`: derived from the id, so an
/// altered event shows.
pub fn check_of(id: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The message template every chaos event carries.
pub const TEMPLATE: &str = "chaos {ChaosId} from {Client}";

fn batch(ids: &[String], client: usize) -> String {
    ids.iter()
        .map(|id| {
            format!(
                "{{\"@t\":\"2026-01-01T00:00:00Z\",\"@mt\":\"{TEMPLATE}\",\"ChaosId\":\"{id}\",\"Client\":{client},\"Check\":\"{}\"}}\n",
                check_of(id)
            )
        })
        .collect()
}

/// Running client threads.
pub struct Clients {
    stop: Arc<AtomicBool>,
    history: Arc<Mutex<History>>,
    threads: Vec<JoinHandle<()>>,
}

impl Clients {
    /// Starts `n` clients sending to randomly chosen `ports` (node index =
    /// position in `ports`); ids start with `tag`.
    pub fn start(ports: Vec<u16>, n: usize, seed: u64, tag: &str) -> Clients {
        let stop = Arc::new(AtomicBool::new(false));
        let history = Arc::new(Mutex::new(History::default()));
        let threads = (0..n)
            .map(|c| {
                let (stop, history, ports) = (stop.clone(), history.clone(), ports.clone());
                let tag = format!("{tag}-c{c}");
                std::thread::spawn(move || {
                    let mut rng = Rng::new(seed ^ (c as u64 + 1).wrapping_mul(0x51ed));
                    let mut n = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        let ids: Vec<String> =
                            (0..PER_BATCH).map(|i| format!("{tag}-{n}-{i}")).collect();
                        n += 1;
                        let node = rng.below(ports.len() as u64) as usize;
                        let sent = Instant::now();
                        let answer = ingest_clef_answer(ports[node], &batch(&ids, c));
                        let acked = Instant::now();
                        let term = answer
                            .header("x-skein-acked-term")
                            .and_then(|t| t.parse().ok());
                        let by = answer.header("x-skein-acked-by").unwrap_or("").to_owned();
                        let status = answer.status;
                        let mut h = history.lock().unwrap();
                        match status {
                            201 => h.acks.extend(ids.into_iter().map(|id| Ack {
                                id,
                                node,
                                sent,
                                acked,
                                term,
                                by: by.clone(),
                            })),
                            0 | 503 => h.refused += 1,
                            s => h
                                .unexpected
                                .push(format!("node {node}: {s} {}", answer.body)),
                        }
                        drop(h);
                        let pause = if status == 201 { 10 } else { 100 };
                        std::thread::sleep(Duration::from_millis(pause));
                    }
                })
            })
            .collect();
        Clients {
            stop,
            history,
            threads,
        }
    }

    /// Stops every client (after its request in flight) and returns the history.
    pub fn finish(self) -> History {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            let _ = t.join();
        }
        std::mem::take(&mut *self.history.lock().unwrap())
    }
}
