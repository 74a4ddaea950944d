//! Push webhook bodies (GitHub, GitLab, Gitea) from anyone who can reach the listener:
//! parsing never panics, and a branch it reports is a branch name.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(push) = tributary_publisher::watch::webhook::parse_push(data)
        && let Some(branch) = &push.branch
    {
        assert!(!branch.is_empty() && !branch.starts_with('-') && !branch.contains(".."));
    }
});
