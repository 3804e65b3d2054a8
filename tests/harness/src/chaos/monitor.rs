//! Leadership history: a thread samples every node's role and term (one
//! `/health` answer carries both), so that overlapping
//! leaderships, and writes a node acknowledged in a term it already knew
//! was over, can be checked afterwards.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::http::request;

/// One observation of one node.
#[derive(Clone, Debug)]
pub struct Sample {
    /// When the answer arrived.
    pub at: Instant,
    /// Node index.
    pub node: usize,
    /// `/health`'s `role` ("Leader", "Follower", …), empty when no answer.
    pub role: String,
    /// `/health`'s `term` (0 when unknown).
    pub term: u64,
}

/// A running sampler.
pub struct Monitor {
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<Sample>>>,
    thread: Option<JoinHandle<()>>,
}

/// Samples `port`'s role and term, from one `/health` answer (so the two
/// belong together).
pub fn sample(node: usize, port: u16) -> Sample {
    let (_, health) = request(port, "GET", "/health", &[], b"");
    let health: serde_json::Value = serde_json::from_str(&health).unwrap_or_default();
    Sample {
        at: Instant::now(),
        node,
        role: health["role"].as_str().unwrap_or("").to_owned(),
        term: health["term"].as_u64().unwrap_or(0),
    }
}

impl Monitor {
    /// Samples every node (`ports[i]` is node `i`) every 150 ms, one thread per node.
    pub fn start(ports: Vec<u16>) -> Monitor {
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let (s, out) = (stop.clone(), samples.clone());
        let thread = std::thread::spawn(move || {
            let workers: Vec<_> = ports
                .into_iter()
                .enumerate()
                .map(|(node, port)| {
                    let (s, out) = (s.clone(), out.clone());
                    std::thread::spawn(move || {
                        while !s.load(Ordering::Relaxed) {
                            let x = sample(node, port);
                            out.lock().unwrap().push(x);
                            std::thread::sleep(Duration::from_millis(150));
                        }
                    })
                })
                .collect();
            for w in workers {
                let _ = w.join();
            }
        });
        Monitor {
            stop,
            samples,
            thread: Some(thread),
        }
    }

    /// Stops sampling; every sample, in arrival order.
    pub fn finish(mut self) -> Vec<Sample> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        std::mem::take(&mut *self.samples.lock().unwrap())
    }
}
