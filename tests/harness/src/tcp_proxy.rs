//! A fault-injecting TCP proxy for end-to-end tests: it listens on a free
//! port of 127.0.0.1 and forwards every connection to a target port, until
//! the test breaks the link.
//!
//! ```ignore
//! let link = TcpProxy::start(leader.cluster);
//! // point the follower at link.port() instead of the leader's port, then:
//! link.cut();        // live connections reset, new ones refused
//! link.heal();       // traffic flows again
//! link.blackhole();  // half-open: connections stay up (and new ones are
//!                    // accepted) but no byte moves either way
//! link.delay(Duration::from_millis(50)); // every chunk waits 50 ms
//! ```
//!
//! Threads only (one acceptor, two pumps per connection); every thread
//! stops when the proxy is dropped.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the link does with traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Bytes flow both ways (after the configured delay).
    Pass,
    /// Live connections were reset; new connections are reset at once.
    Cut,
    /// Connections are accepted and kept, but no byte moves (a half-open
    /// partition: the peers notice only through their own timeouts).
    Blackhole,
}

/// How often idle threads look at the mode.
const POLL: Duration = Duration::from_millis(20);

struct Shared {
    target: SocketAddr,
    mode: Mutex<Mode>,
    delay: Mutex<Duration>,
    stop: AtomicBool,
    next_id: AtomicU64,
    /// Live connections: the accepted side and, once connected, the target side.
    conns: Mutex<HashMap<u64, (TcpStream, Option<TcpStream>)>>,
}

impl Shared {
    fn mode(&self) -> Mode {
        *self.mode.lock().unwrap()
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Resets every live connection (both sides).
    fn reset_all(&self) {
        for (_, (client, upstream)) in self.conns.lock().unwrap().drain() {
            reset(&client);
            if let Some(u) = upstream {
                reset(&u);
            }
        }
    }
}

/// Closes `s` with an RST rather than a FIN, as a broken link would look.
fn reset(s: &TcpStream) {
    use std::os::fd::AsRawFd as _;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt on a socket we own, with a correctly sized linger value.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&raw const linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    let _ = s.shutdown(Shutdown::Both);
}

/// A running proxy; dropping it stops it and resets its connections.
pub struct TcpProxy {
    port: u16,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl TcpProxy {
    /// Listens on a free port of 127.0.0.1 and forwards to `127.0.0.1:target_port`.
    pub fn start(target_port: u16) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            target: SocketAddr::from(([127, 0, 0, 1], target_port)),
            mode: Mutex::new(Mode::Pass),
            delay: Mutex::new(Duration::ZERO),
            stop: AtomicBool::new(false),
            next_id: AtomicU64::new(0),
            conns: Mutex::new(HashMap::new()),
        });
        let s = shared.clone();
        let acceptor = std::thread::spawn(move || accept_loop(&listener, &s));
        TcpProxy {
            port,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// The port the proxy listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The current mode.
    pub fn mode(&self) -> Mode {
        self.shared.mode()
    }

    /// Breaks the link: every live connection is reset and new ones are
    /// reset as soon as they are accepted, until [`TcpProxy::heal`].
    pub fn cut(&self) {
        *self.shared.mode.lock().unwrap() = Mode::Cut;
        self.shared.reset_all();
    }

    /// Makes the link silent: connections stay open and new ones are
    /// accepted, but no byte is forwarded either way until
    /// [`TcpProxy::heal`] (bytes wait in the kernel's buffers, as on a
    /// stalled route).
    pub fn blackhole(&self) {
        *self.shared.mode.lock().unwrap() = Mode::Blackhole;
    }

    /// Restores the link: bytes flow again (on connections that survived a
    /// blackhole too).
    pub fn heal(&self) {
        *self.shared.mode.lock().unwrap() = Mode::Pass;
    }

    /// Delays every forwarded chunk by `d` (zero: no delay).
    pub fn delay(&self, d: Duration) {
        *self.shared.delay.lock().unwrap() = d;
    }

    /// Connections open through the proxy now.
    pub fn connections(&self) -> usize {
        self.shared.conns.lock().unwrap().len()
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.reset_all();
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    while !shared.stopped() {
        match listener.accept() {
            Ok((client, _)) => {
                client.set_nonblocking(false).unwrap();
                if shared.mode() == Mode::Cut {
                    reset(&client);
                    continue;
                }
                let s = shared.clone();
                std::thread::spawn(move || connection(client, &s));
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(POLL),
            Err(_) => std::thread::sleep(POLL),
        }
    }
}

/// One accepted connection: waits out a blackhole, connects to the target,
/// then pumps both ways until either side ends or the link is cut.
fn connection(client: TcpStream, shared: &Arc<Shared>) {
    let id = shared.next_id.fetch_add(1, Ordering::SeqCst);
    let Ok(c) = client.try_clone() else { return };
    shared.conns.lock().unwrap().insert(id, (c, None));
    let forget = || shared.conns.lock().unwrap().remove(&id);
    while shared.mode() == Mode::Blackhole && !shared.stopped() {
        std::thread::sleep(POLL);
    }
    if shared.mode() != Mode::Pass || shared.stopped() {
        reset(&client);
        forget();
        return;
    }
    let Ok(upstream) = TcpStream::connect_timeout(&shared.target, Duration::from_secs(5)) else {
        reset(&client);
        forget();
        return;
    };
    {
        let mut conns = shared.conns.lock().unwrap();
        match conns.get_mut(&id) {
            Some(entry) => entry.1 = upstream.try_clone().ok(),
            // Cut while connecting.
            None => {
                reset(&client);
                reset(&upstream);
                return;
            }
        }
    }
    let (c2, u2) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
    let s = shared.clone();
    let back = std::thread::spawn(move || pump(u2, c2, &s));
    pump(client, upstream, shared);
    let _ = back.join();
    forget();
}

/// Copies `from` → `to` while the link passes; holds still in a blackhole.
fn pump(mut from: TcpStream, mut to: TcpStream, shared: &Shared) {
    from.set_read_timeout(Some(POLL)).unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if shared.stopped() {
            break;
        }
        match shared.mode() {
            Mode::Cut => break,
            Mode::Blackhole => {
                std::thread::sleep(POLL);
                continue;
            }
            Mode::Pass => {}
        }
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(_) => break,
        };
        let delay = *shared.delay.lock().unwrap();
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        // Bytes read just before a blackhole wait for it to end.
        while shared.mode() == Mode::Blackhole && !shared.stopped() {
            std::thread::sleep(POLL);
        }
        if shared.mode() == Mode::Cut || to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    // Pass the end on (a FIN); a cut has already reset both sides.
    let _ = to.shutdown(Shutdown::Write);
}
