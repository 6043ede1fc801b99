//! Any bytes as a Spin locked app, into the app model for both trigger types.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(lock) = serde_json::from_slice::<fabricks_trigger::lock::LockedApp>(data) {
        let _ = fabricks_trigger::lock::to_app(&lock, "fabricks");
        let _ = fabricks_trigger::lock::to_app(&lock, "http");
    }
});
