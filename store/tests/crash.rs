//! Crash test: a writer process is killed with SIGKILL at random moments while
//! several threads append; after every kill the store is reopened and every
//! batch the child reported as acknowledged must be there, intact, exactly once.
//!
//! The child is this same test binary re-run with `--ignored --exact crash_child`.

use std::io::{BufRead, BufReader};
use std::ops::ControlFlow;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use skein_store::event::{parse_clef, view::to_event};
use skein_store::stream::Order;
use skein_store::{Event, EventView, Store, StoreOptions};

const ITERATIONS: u64 = 40;
const EVENTS_PER_BATCH: usize = 40;

fn options() -> StoreOptions {
    // Small segments, so kills also land during seals and new segments.
    StoreOptions {
        segment_max_bytes: 256 << 10,
        disk_floor_bytes: 0,
        ..StoreOptions::default()
    }
}

/// The events of batch `id`: recognisable by their `Batch` and `I` properties.
fn batch(id: u64) -> Vec<Event> {
    let body: String = (0..EVENTS_PER_BATCH)
        .map(|i| {
            format!(
                "{{\"@t\":\"2025-01-01T00:{:02}:{:02}.{:07}Z\",\"@mt\":\"batch {{Batch}} item {{I}}\",\"Batch\":{id},\"I\":{i},\"Pad\":\"{}\"}}\n",
                (id / 60) % 60,
                id % 60,
                i,
                "x".repeat((id as usize * 7 + i) % 200)
            )
        })
        .collect();
    parse_clef(body.as_bytes()).expect("valid test events")
}

#[test]
#[ignore = "entry point of the crash test's child process, run by kill_9_never_loses_an_acknowledged_batch"]
fn crash_child() {
    let dir = std::env::var("SKEIN_CRASH_DIR").expect("SKEIN_CRASH_DIR");
    let base: u64 = std::env::var("SKEIN_CRASH_BASE").unwrap().parse().unwrap();
    let store = Arc::new(Store::open(&dir, options()).unwrap());
    let out = Arc::new(Mutex::new(std::io::stdout()));
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let (store, out) = (store.clone(), out.clone());
            std::thread::spawn(move || {
                for k in 0.. {
                    let id = base + t * 10_000 + k;
                    let r = store.append_events(&batch(id)).unwrap();
                    use std::io::Write;
                    let mut o = out.lock().unwrap();
                    writeln!(o, "ack {id} {}", r.first_arrival).unwrap();
                    o.flush().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// (batch id, arrival number, the event) as read back.
type StoredEvent = (u64, u64, Event);

/// Reads the store back: (batch id, arrival) of every event, and the full
/// events of the batches in `full`.
fn read_all(
    dir: &Path,
    full: &std::collections::HashSet<u64>,
) -> (Vec<(u64, u64)>, Vec<StoredEvent>) {
    let store = Store::open(dir, options()).expect("store reopens after a crash");
    let (mut ids, mut events) = (Vec::new(), Vec::new());
    store
        .visit(None, None, Order::OldestFirst, &mut |e| {
            let b = e
                .property_raw("Batch")
                .and_then(|v| v.parse().ok())
                .expect("Batch property");
            let arrival = e.id().unwrap().arrival;
            ids.push((b, arrival));
            if full.contains(&b) {
                events.push((b, arrival, to_event(e)));
            }
            ControlFlow::Continue(())
        })
        .expect("nothing corrupt is read");
    (ids, events)
}

#[test]
fn kill_9_never_loses_an_acknowledged_batch() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut acked: Vec<(u64, u64)> = Vec::new();
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    for iteration in 0..ITERATIONS {
        let mut child = Command::new(&exe)
            .args([
                "--ignored",
                "--exact",
                "crash_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("SKEIN_CRASH_DIR", dir.path())
            .env("SKEIN_CRASH_BASE", (iteration * 1_000_000).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| {
                    let mut p = l.strip_prefix("ack ")?.split(' ');
                    Some((p.next()?.parse().ok()?, p.next()?.parse().ok()?))
                })
                .collect::<Vec<(u64, u64)>>()
        });
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(Duration::from_millis(30 + rng % 250));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let acked_before = acked.len();
        acked.extend(reader.join().unwrap());

        let (ids, _) = read_all(dir.path(), &Default::default());
        let mut arrivals: Vec<u64> = ids.iter().map(|s| s.1).collect();
        arrivals.dedup();
        assert_eq!(arrivals.len(), ids.len(), "no event is stored twice");
        let mut per_batch = std::collections::HashMap::<u64, usize>::new();
        for (b, _) in &ids {
            *per_batch.entry(*b).or_default() += 1;
        }
        for &(id, _) in &acked {
            assert_eq!(
                per_batch.get(&id),
                Some(&EVENTS_PER_BATCH),
                "iteration {iteration}: acknowledged batch {id} lost"
            );
        }
        // Every batch acknowledged in this iteration, compared field by field.
        let fresh: std::collections::HashSet<u64> =
            acked[acked_before..].iter().map(|a| a.0).collect();
        let (_, stored) = read_all(dir.path(), &fresh);
        for &(id, first_arrival) in &acked[acked_before..] {
            let got: Vec<&Event> = stored
                .iter()
                .filter(|(b, a, _)| {
                    *b == id && *a >= first_arrival && *a < first_arrival + EVENTS_PER_BATCH as u64
                })
                .map(|(_, _, e)| e)
                .collect();
            let expected = batch(id);
            assert!(
                got.into_iter().eq(expected.iter()),
                "iteration {iteration}: batch {id} altered"
            );
        }
    }
    assert!(
        acked.len() > ITERATIONS as usize,
        "the child acknowledged batches before being killed"
    );
}
