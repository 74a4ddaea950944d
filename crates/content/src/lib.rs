//! Tributary's content plane: where file bytes live between the publisher and the
//! consumer. Object stores (S3-compatible, local filesystem), content caches and the git
//! fetcher grow here; every constructor takes a typed config, none reads the environment.

pub mod cache;
pub mod error;
pub mod git;
pub mod local;
pub mod s3;
pub mod store;

pub use error::ContentError;
pub use store::{ObjectStore, PresignedUrl, PutOutcome};

/// Parses `1234`, `100KiB`, `64MiB`, `1GiB` (also `KB`/`MB`/`GB` as powers of ten).
/// Hand-written: ten lines, where a crate would add a dependency for one flag type.
/// Shared by the binaries' flag parsers.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("{s:?} is not a size"))?;
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" | "K" => 1 << 10,
        "MiB" | "M" => 1 << 20,
        "GiB" | "G" => 1 << 30,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        u => return Err(format!("unknown size unit {u:?}")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too large"))
}
