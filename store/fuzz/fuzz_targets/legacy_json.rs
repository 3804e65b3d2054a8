//! Fuzzes the legacy `{"Events":[...]}` parser: it must never panic, and
//! every event it accepts must survive `write_clef` → `parse_clef` unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use skein_store::event::{parse_clef, parse_legacy, render_message, write_clef};

fuzz_target!(|data: &[u8]| {
    let Ok(events) = parse_legacy(data) else {
        return;
    };
    for e in &events {
        let mut line = Vec::new();
        write_clef(e, &mut line);
        let again = parse_clef(&line).expect("written CLEF parses");
        assert_eq!(&again[0], e, "{}", String::from_utf8_lossy(&line));
        let _ = render_message(e);
    }
});
