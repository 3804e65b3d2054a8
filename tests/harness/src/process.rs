//! The `skein` binary under test, the cleared environment it runs with,
//! and ports reserved for the test process.
//!
//! The harness is a library crate, so `env!("CARGO_BIN_EXE_skein")` (set
//! only when Cargo compiles the root package's own integration tests) is
//! not available here. [`skein_bin`] finds the binary the way
//! `assert_cmd::cargo::cargo_bin` does: Cargo puts an integration test's
//! executable in `target/<profile>/deps/` and the package's binaries in
//! `target/<profile>/`, and builds those binaries before it runs the
//! tests. `CARGO_BIN_EXE_skein` in the environment at run time, when set,
//! wins.

use std::collections::HashMap;
use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The `skein` binary under test: `$CARGO_BIN_EXE_skein`, else `skein`
/// in the directory above the test executable's `deps/`.
pub fn skein_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("CARGO_BIN_EXE_skein").filter(|b| !b.is_empty()) {
            return PathBuf::from(bin);
        }
        let exe = std::env::current_exe().expect("the test executable's path");
        let mut dir = exe
            .parent()
            .expect("the test executable's directory")
            .to_owned();
        if dir.ends_with("deps") {
            dir.pop();
        }
        let bin = dir.join(format!("skein{}", std::env::consts::EXE_SUFFIX));
        assert!(
            bin.is_file(),
            "the skein binary is not at {} (the harness serves the root package's integration \
             tests, which Cargo builds it for: run them with `cargo test`)",
            bin.display()
        );
        bin
    })
}

/// `skein --storage ROOT` with a cleared environment: `HOME`, `PATH`, no
/// disk floor, plus `env`.
pub fn skein_command(home: &Path, root: &Path, env: &HashMap<String, String>) -> Command {
    let mut cmd = Command::new(skein_bin());
    cmd.env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SKEIN_STORAGE_FLUSHFLOORBYTES", "0")
        .envs(env)
        .arg("--storage")
        .arg(root);
    cmd
}

/// Runs `command` with `input` on its standard input; its output.
pub fn output_with_input(command: &mut Command, input: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run skein");
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin
        .write_all(input.as_bytes())
        .expect("write skein's input");
    drop(stdin);
    child.wait_with_output().expect("wait for skein")
}

/// A port reserved for this test process: below the kernel's ephemeral
/// range (32768+, where outgoing connections take their local ports, so a
/// port picked by binding `:0` can be taken before the node binds it), and
/// locked against other test processes running at the same time by an
/// advisory lock on `$TMPDIR/skein-test-ports/PORT.lock`, held until this
/// process exits.
pub fn free_port() -> u16 {
    free_ports_at(&[0])
}

/// A base port `B` such that `B + o` is free and reserved (as by
/// [`free_port`]) for every offset `o` in `offsets`: for scripts that take
/// one base port and derive the others from it.
pub fn free_ports_at(offsets: &[u16]) -> u16 {
    use std::sync::Mutex;
    static HELD: Mutex<Vec<std::fs::File>> = Mutex::new(Vec::new());
    const FIRST: u32 = 20_000;
    const COUNT: u32 = 12_000;
    let dir = std::env::temp_dir().join("skein-test-ports");
    std::fs::create_dir_all(&dir).expect("create the port lock directory");
    let span = u32::from(offsets.iter().copied().max().unwrap_or(0));
    let mut seed = [0u8; 4];
    getrandom::fill(&mut seed).expect("random seed");
    let start = u32::from_le_bytes(seed) % (COUNT - span);
    let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
    'bases: for offset in 0..COUNT - span {
        let base = FIRST + (start + offset) % (COUNT - span);
        let mut locks = Vec::with_capacity(offsets.len());
        for o in offsets {
            let port = (base + u32::from(*o)) as u16;
            let Ok(lock) = std::fs::File::create(dir.join(format!("{port}.lock"))) else {
                continue 'bases;
            };
            if lock.try_lock().is_err() || TcpListener::bind(("127.0.0.1", port)).is_err() {
                continue 'bases;
            }
            locks.push(lock);
        }
        held.extend(locks);
        return base as u16;
    }
    panic!("no free ports in {FIRST}..{}", FIRST + COUNT);
}
