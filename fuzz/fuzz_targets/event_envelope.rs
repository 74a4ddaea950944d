//! Any bytes on the index topic: decoding never panics; every file entry either fails
//! validation with a reason or round-trips through its typed form unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tributary_events::IndexEvent;
use tributary_events::v2::WireFile;

fuzz_target!(|data: &[u8]| {
    let Ok(event) = tributary_events::decode(data) else {
        return;
    };
    if let IndexEvent::Requested(ev) = event {
        for file in &ev.files {
            if let Err(e) = file.validate() {
                let _ = (e.reason(), e.code());
            }
            if let Ok(spec) = file.validate() {
                let again = WireFile::from(&spec)
                    .validate()
                    .expect("a valid entry stays valid");
                assert_eq!(again, spec, "the wire form round-trips");
            }
        }
    }
});
