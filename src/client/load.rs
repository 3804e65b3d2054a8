//! Load generation for `skein bench ingest`: pre-built bodies posted over C
//! concurrent keep-alive connections ([`run`]), optionally paced to a rate,
//! with every acknowledgement's latency in an HDR histogram.
//!
//! All connections run as tasks on the calling thread's actix system (one
//! awc client each), which keeps the load generator to one core. When paced,
//! batch k is due at `events before k / rate` seconds after the start, and
//! its latency is counted from then rather than from when it was sent, so a
//! server that falls behind is charged for the wait (no coordinated
//! omission).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;

use super::batch::InputFormat;
use super::{Endpoint, HttpClient};

/// After this many failed requests a run stops sending.
pub const MAX_FAILURES: u64 = 100;

/// What to send, and how.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// The request bodies, sent in order.
    pub bodies: Vec<Bytes>,
    /// Events in each body.
    pub events: Vec<u64>,
    /// How the bodies are written.
    pub format: InputFormat,
    /// Concurrent connections (at least 1).
    pub connections: usize,
    /// Pacing, in events per second (`None`: as fast as acknowledged).
    pub rate: Option<f64>,
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// Requests acknowledged (2xx).
    pub acknowledged: u64,
    /// Requests that failed.
    pub failed: u64,
    /// The first failure's message.
    pub first_failure: Option<String>,
    /// Events in acknowledged requests.
    pub events: u64,
    /// Body bytes of acknowledged requests.
    pub bytes: u64,
    /// From the first request to the last answer.
    pub elapsed: Duration,
    /// Acknowledgement latency of the acknowledged requests, in microseconds.
    pub latency: Histogram<u64>,
}

impl LoadReport {
    /// Acknowledged events per second.
    pub fn events_per_sec(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Acknowledged megabytes (10^6 bytes) per second.
    pub fn mb_per_sec(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

struct Shared {
    plan: LoadPlan,
    /// Events before each body, for pacing.
    offsets: Vec<u64>,
    next: Cell<usize>,
    acknowledged: Cell<u64>,
    failed: Cell<u64>,
    first_failure: RefCell<Option<String>>,
    events: Cell<u64>,
    bytes: Cell<u64>,
    latency: RefCell<Histogram<u64>>,
    start: Instant,
}

/// Posts every body of `plan` to `endpoint` and measures; `on_ack` hears
/// of each acknowledged request's events (for a progress bar). Must run
/// inside an actix system (see [`super::block_on`]).
pub async fn run(
    endpoint: &Endpoint,
    plan: LoadPlan,
    on_ack: impl Fn(u64) + 'static,
) -> LoadReport {
    let offsets = plan
        .events
        .iter()
        .scan(0u64, |sum, n| {
            let before = *sum;
            *sum += n;
            Some(before)
        })
        .collect();
    let connections = plan.connections.max(1);
    // Constant, valid bounds: 1 µs to an hour, 3 significant digits.
    let latency = Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds");
    let shared = Rc::new(Shared {
        plan,
        offsets,
        next: Cell::new(0),
        acknowledged: Cell::new(0),
        failed: Cell::new(0),
        first_failure: RefCell::new(None),
        events: Cell::new(0),
        bytes: Cell::new(0),
        latency: RefCell::new(latency),
        start: Instant::now(),
    });
    let on_ack = Rc::new(on_ack);
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let client = HttpClient::new(endpoint.clone());
            actix_web::rt::spawn(connection(client, shared.clone(), on_ack.clone()))
        })
        .collect();
    for task in tasks {
        // A task that panicked has already counted what it did.
        let _ = task.await;
    }
    let elapsed = shared.start.elapsed();
    let first_failure = shared.first_failure.borrow().clone();
    let latency = shared.latency.borrow().clone();
    LoadReport {
        acknowledged: shared.acknowledged.get(),
        failed: shared.failed.get(),
        first_failure,
        events: shared.events.get(),
        bytes: shared.bytes.get(),
        elapsed,
        latency,
    }
}

/// One connection: takes the next body, waits for its time, posts it.
async fn connection<F: Fn(u64)>(client: HttpClient, shared: Rc<Shared>, on_ack: Rc<F>) {
    let (path, query, content_type) = (
        "/api/events/raw",
        shared.plan.format.query(),
        shared.plan.format.content_type(),
    );
    loop {
        let k = shared.next.get();
        if k >= shared.plan.bodies.len() || shared.failed.get() >= MAX_FAILURES {
            return;
        }
        shared.next.set(k + 1);
        let mut started = Instant::now();
        if let Some(rate) = shared.plan.rate.filter(|r| *r > 0.0) {
            let due = shared.start + Duration::from_secs_f64(shared.offsets[k] as f64 / rate);
            if due > started {
                tokio::time::sleep_until(due.into()).await;
            }
            started = due;
        }
        let body = shared.plan.bodies[k].clone();
        let size = body.len() as u64;
        match client.post(path, query, content_type, body).await {
            Ok(_) => {
                let micros = started.elapsed().as_micros().min(u64::MAX as u128) as u64;
                shared.latency.borrow_mut().saturating_record(micros.max(1));
                let events = shared.plan.events[k];
                shared.acknowledged.set(shared.acknowledged.get() + 1);
                shared.events.set(shared.events.get() + events);
                shared.bytes.set(shared.bytes.get() + size);
                on_ack(events);
            }
            Err(e) => {
                shared.failed.set(shared.failed.get() + 1);
                shared
                    .first_failure
                    .borrow_mut()
                    .get_or_insert_with(|| e.to_string());
            }
        }
    }
}
