//! Tributary's content plane: where file bytes live between the publisher and the
//! consumer. Object stores (S3-compatible, local filesystem), content caches and the git
//! fetcher grow here; every constructor takes a typed config, none reads the environment.

pub mod cache;
mod error;
pub mod gcs;
pub mod git;
mod local;
mod object;
pub mod s3;
pub mod secrets;
pub mod store;

pub use error::ContentError;
pub use object::{Listing, PresignedUrl, PutOutcome};
pub use store::{ObjectStore, StoreConfig};
