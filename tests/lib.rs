//! Shared support for the integration tests: where the real services are, and unique
//! names so that tests never share a topic, bucket prefix or repository.
//!
//! The services are the ones `deploy/local/services up` starts; their coordinates come
//! from the environment it prints (`eval "$(deploy/local/services env)"`). A service
//! that does not answer fails the test loudly with those instructions: nothing skips.

use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

const SETUP: &str = "start the local services and load their environment first:\n\
    \tdeploy/local/services up && eval \"$(deploy/local/services env)\"\n\
    (or run the whole suite with deploy/local/test)";

/// Coordinates of the real services under test.
#[derive(Debug, Clone)]
pub struct Services {
    pub kafka_brokers: String,
    pub s3_endpoint: String,
    pub s3_bucket: String,
    pub s3_region: String,
    pub s3_access_key: String,
    pub s3_secret_key: String,
    /// Folder the git daemon serves bare repositories from.
    pub git_root: PathBuf,
    /// `git://host:port` of the git daemon.
    pub git_url: String,
}

fn var(name: &str, default: Option<&str>) -> String {
    match (std::env::var(name), default) {
        (Ok(v), _) if !v.is_empty() => v,
        (_, Some(d)) => d.to_owned(),
        _ => panic!("{name} is not set; {SETUP}"),
    }
}

fn require_port(what: &str, hostport: &str) {
    let addrs: Vec<_> = hostport
        .to_socket_addrs()
        .unwrap_or_else(|e| panic!("{what}: cannot resolve {hostport}: {e}; {SETUP}"))
        .collect();
    let up = addrs
        .iter()
        .any(|a| TcpStream::connect_timeout(a, Duration::from_secs(2)).is_ok());
    assert!(up, "{what} does not answer on {hostport}; {SETUP}");
}

fn host_port(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest)
}

impl Services {
    /// Reads the service coordinates and checks that each one answers.
    pub fn require() -> Self {
        let s = Services {
            kafka_brokers: var("KAFKA_BROKERS", Some("127.0.0.1:9092")),
            s3_endpoint: var("CONTENT_STORAGE_ENDPOINT", Some("http://127.0.0.1:9000")),
            s3_bucket: var("CONTENT_STORAGE_BUCKET", Some("tributary")),
            s3_region: var("CONTENT_STORAGE_REGION", Some("us-east-1")),
            s3_access_key: var("AWS_ACCESS_KEY_ID", None),
            s3_secret_key: var("AWS_SECRET_ACCESS_KEY", None),
            git_root: PathBuf::from(var("TRIBUTARY_GIT_ROOT", None)),
            git_url: var("TRIBUTARY_GIT_URL", Some("git://127.0.0.1:9418")),
        };
        for broker in s.kafka_brokers.split(',') {
            require_port("kafka", broker);
        }
        require_port("s3", host_port(&s.s3_endpoint));
        require_port("git daemon", host_port(&s.git_url));
        assert!(
            s.git_root.is_dir(),
            "git root {} does not exist; {SETUP}",
            s.git_root.display()
        );
        s
    }

    /// The content crate's S3 settings for the local server.
    pub fn s3_config(&self) -> tributary_content::s3::S3Config {
        tributary_content::s3::S3Config {
            bucket: self.s3_bucket.clone(),
            region: self.s3_region.clone(),
            endpoint: Some(self.s3_endpoint.clone()),
            force_path_style: true,
            credentials: Some(tributary_content::s3::StaticCredentials {
                access_key_id: self.s3_access_key.clone(),
                secret_access_key: self.s3_secret_key.clone(),
            }),
            server_side_encryption: None,
            operation_timeout_secs: 60,
            max_attempts: 4,
        }
    }
}

/// A name no other test (or earlier run) uses: `prefix-<uuid>`.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}
