//! Fuzzes the CLEF parser: it must never panic, and every event it accepts
//! must survive `write_clef` → `parse_clef` unchanged. Rendering and the
//! template tokenizer run on what parses, too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use skein_store::event::{parse_clef, render_message, write_clef, MessageTemplateTokens};

fuzz_target!(|data: &[u8]| {
    let Ok(events) = parse_clef(data) else {
        return;
    };
    for e in &events {
        let mut line = Vec::new();
        write_clef(e, &mut line);
        let again = parse_clef(&line).expect("written CLEF parses");
        assert_eq!(again.len(), 1);
        assert_eq!(&again[0], e, "{}", String::from_utf8_lossy(&line));
        let _ = render_message(e);
        if let Some(t) = e.message_template.as_deref() {
            let _ = MessageTemplateTokens::parse(t);
        }
    }
});
