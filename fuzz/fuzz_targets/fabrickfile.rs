//! Any text as a Fabrickfile: an error or a parse, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = fabricks_builders::Fabrickfile::parse(std::path::Path::new("/nonexistent/app/Fabrickfile"), text);
    }
});
