//! Watch files (TOML), which may be edited by someone else: parsing never panics, and
//! what it accepts names each branch of each repository once.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(file) = tributary_publisher::watch::WatchFile::parse(text) {
        let targets = file.targets();
        let branches: usize = file.repositories.iter().map(|r| r.branches.len()).sum();
        assert!(targets.len() <= branches);
    }
});
