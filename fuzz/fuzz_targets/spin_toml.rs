//! Any text as a spin.toml, through the strict parse and into the manifest model.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let path = std::path::Path::new("/nonexistent/app/spin.toml");
        if let Ok(manifest) = fabricks_builders::manifest::parse(path, text) {
            let _ = fabricks_builders::manifest::to_project(&manifest, std::path::Path::new("/nonexistent/app"), path);
        }
    }
});
