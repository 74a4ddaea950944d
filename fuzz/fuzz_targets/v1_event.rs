//! Legacy v1 events: any JSON shaped like one decodes without panicking, and every file
//! path either is refused or stays inside its root.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(ev) = serde_json::from_slice::<tributary_events::v1::V1Event>(data) else {
        return;
    };
    for file in &ev.files {
        if let Ok(spec) = file.validate() {
            let p = spec.path.as_str();
            assert!(!p.starts_with('/') && !p.split('/').any(|c| c == ".." || c.is_empty()));
        }
    }
});
