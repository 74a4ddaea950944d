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
            git_url: var("TRIBUTARY_GIT_DAEMON_URL", Some("git://127.0.0.1:9418")),
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

    /// The product's own store client on the local S3 server's bucket.
    pub async fn object_store(&self) -> tributary_content::ObjectStore {
        tributary_content::ObjectStore::open(&tributary_content::store::StoreConfig::S3(
            self.s3_config(),
        ))
        .await
        .expect("store")
        .expect("s3")
    }
}

/// A command line for a workspace binary or its `Cli` parser: leading words, then
/// flags. Every integration test builds its argument lists with this, so a flag's
/// spelling lives in one place per test and lists combine without copies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Args(Vec<String>);

impl Args {
    /// Starts with `words` as they are (program name, subcommand, flags).
    pub fn new<S: AsRef<str>>(words: impl IntoIterator<Item = S>) -> Self {
        Self(Vec::new()).with(words)
    }

    /// Adds `--name value`.
    pub fn flag(mut self, name: &str, value: impl AsRef<str>) -> Self {
        self.0.push(format!("--{name}"));
        self.0.push(value.as_ref().to_owned());
        self
    }

    /// Adds `words` as they are.
    pub fn with<S: AsRef<str>>(mut self, words: impl IntoIterator<Item = S>) -> Self {
        self.0
            .extend(words.into_iter().map(|w| w.as_ref().to_owned()));
        self
    }

    /// The words, borrowed.
    pub fn words(&self) -> Vec<&str> {
        self.0.iter().map(String::as_str).collect()
    }
}

impl IntoIterator for Args {
    type Item = String;
    type IntoIter = std::vec::IntoIter<String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Args {
    type Item = &'a String;
    type IntoIter = std::slice::Iter<'a, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl Services {
    /// The object-store flags both binaries take, for the local S3 server.
    pub fn s3_args(&self) -> Args {
        Args::default()
            .flag("storage-provider", "minio")
            .flag("storage-endpoint", &self.s3_endpoint)
            .flag("storage-bucket", &self.s3_bucket)
            .flag("storage-access-key-id", &self.s3_access_key)
            .flag("storage-secret-access-key", &self.s3_secret_key)
    }
}

/// A name no other test (or earlier run) uses: `prefix-<uuid>`.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// Runs `git` with arguments in `dir`, panicking with its output on failure.
pub fn git(dir: &std::path::Path, args: &[&str]) -> String {
    run(std::process::Command::new("git")
        .args([
            "-c",
            "user.name=Tributary Tests",
            "-c",
            "user.email=tests@tributary.invalid",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir))
}

/// [`run`] with `input` written to the command's standard input.
pub fn run_with_input(cmd: &mut std::process::Command, input: &[u8]) -> String {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?} cannot start: {e}"));
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = input.to_vec();
    // written from a thread of its own: the child may fill its output before it reads
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    writer
        .join()
        .expect("writer")
        .expect("the command read its input");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Runs a command to completion; its trimmed standard output, or a panic with its
/// standard error.
pub fn run(cmd: &mut std::process::Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} cannot start: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Path of a workspace binary, built on first use if this test run did not build it.
pub fn workspace_bin(name: &str) -> PathBuf {
    static BUILT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/it-<hash> -> target/<profile>/<name>
    let dir = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target profile dir")
        .to_path_buf();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "-p",
                "tributary-publisher",
                "-p",
                "tributary-consumer",
                "--bins",
            ])
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building the workspace binaries failed");
    });
    dir.join(name)
}

/// Creates a topic with `partitions` and the given topic configs (e.g. a lowered
/// `max.message.bytes`), failing the test if the broker refuses.
pub async fn create_topic(brokers: &str, name: &str, partitions: i32, configs: &[(&str, &str)]) {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    let admin: AdminClient<DefaultClientContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("admin client");
    let mut topic = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
    for (k, v) in configs {
        topic = topic.set(k, v);
    }
    let created = admin
        .create_topics(&[topic], &AdminOptions::new())
        .await
        .expect("create_topics request");
    for r in created {
        r.unwrap_or_else(|(t, e)| panic!("create topic {t}: {e}"));
    }
}

/// A JSON Schema validator for one of the files under `schemas/`.
pub fn schema(name: &str) -> jsonschema::Validator {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../schemas")
        .join(name);
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let value: serde_json::Value = serde_json::from_slice(&text).expect("schema is JSON");
    jsonschema::draft202012::new(&value).expect("schema compiles")
}

/// Reads a topic from the beginning until `done` says the collected payloads are
/// complete, or panics after `timeout`. A tombstone's payload is empty.
pub async fn consume_until(
    brokers: &str,
    topic: &str,
    timeout: Duration,
    mut done: impl FnMut(&[Vec<u8>]) -> bool,
) -> Vec<Vec<u8>> {
    let mut payloads: Vec<Vec<u8>> = Vec::new();
    consume_records_until(brokers, topic, timeout, |recs| {
        // copy only the records that arrived since the last call
        let new = &recs[payloads.len()..];
        payloads.extend(new.iter().map(|r| r.payload.clone().unwrap_or_default()));
        done(&payloads)
    })
    .await;
    payloads
}

/// One record as read back: its key and payload (`None`: a tombstone).
#[derive(Debug, Clone)]
pub struct Record {
    pub key: Option<String>,
    pub payload: Option<Vec<u8>>,
}

/// Reads a topic from the beginning until `done` says the collected records are
/// complete, or panics after `timeout`.
pub async fn consume_records_until(
    brokers: &str,
    topic: &str,
    timeout: Duration,
    mut done: impl FnMut(&[Record]) -> bool,
) -> Vec<Record> {
    use rdkafka::config::ClientConfig;
    use rdkafka::consumer::{Consumer, StreamConsumer};
    use rdkafka::message::Message;
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", unique("it-reader"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    let mut got: Vec<Record> = Vec::new();
    let deadline = tokio::time::Instant::now() + timeout;
    while !done(&got) {
        let msg = tokio::time::timeout_at(deadline, consumer.recv())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{topic}: incomplete after {timeout:?} ({} messages)",
                    got.len()
                )
            });
        match msg {
            Ok(msg) => got.push(Record {
                key: msg.key().map(|k| String::from_utf8_lossy(k).into_owned()),
                payload: msg.payload().map(<[u8]>::to_vec),
            }),
            // The topic is created by its first producer, which may not have run yet.
            Err(rdkafka::error::KafkaError::MessageConsumption(
                rdkafka::types::RDKafkaErrorCode::UnknownTopicOrPartition,
            )) => tokio::time::sleep(Duration::from_millis(200)).await,
            Err(e) => panic!("consume {topic}: {e}"),
        }
    }
    got
}

/// A free TCP port on loopback (bound once, then released for a server to take).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn wait_for_port(what: &str, port: u16, timeout: Duration) {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
            .is_ok()
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} did not answer on 127.0.0.1:{port} within {timeout:?}");
}

/// Sends a signal to a process (`STOP` freezes it: an outage; `CONT` ends it).
pub fn signal(pid: u32, sig: &str) {
    run(std::process::Command::new("kill").args([&format!("-{sig}"), &pid.to_string()]));
}

/// A Kafka broker of a test's own (KRaft, one node, from the jars the local services
/// installed), so the test can stop it without disturbing the shared one. Killed on drop.
#[derive(Debug)]
pub struct PrivateKafka {
    pub brokers: String,
    child: std::process::Child,
    port: u16,
    libs: String,
    dir: tempfile::TempDir,
}

impl PrivateKafka {
    pub fn start() -> Self {
        let libs = var("TRIBUTARY_KAFKA_LIBS", None);
        let dir = tempfile::tempdir().expect("tempdir");
        let (port, controller) = (free_port(), free_port());
        let props = dir.path().join("server.properties");
        std::fs::write(
            &props,
            format!(
                "process.roles=broker,controller\nnode.id=1\n\
                 controller.quorum.voters=1@127.0.0.1:{controller}\n\
                 listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}\n\
                 advertised.listeners=PLAINTEXT://127.0.0.1:{port}\n\
                 controller.listener.names=CONTROLLER\ninter.broker.listener.name=PLAINTEXT\n\
                 listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT\n\
                 log.dirs={}\nnum.partitions=1\nauto.create.topics.enable=true\n\
                 offsets.topic.replication.factor=1\noffsets.topic.num.partitions=1\n\
                 transaction.state.log.replication.factor=1\ntransaction.state.log.min.isr=1\n\
                 share.coordinator.state.topic.replication.factor=1\n\
                 share.coordinator.state.topic.min.isr=1\ngroup.initial.rebalance.delay.ms=0\n",
                dir.path().join("data").display()
            ),
        )
        .expect("server.properties");
        run(Self::java(&libs, "kafka.tools.StorageTool").args([
            "format",
            "-t",
            "TRQ3MTZhNzVmMjRiNDQyZQ",
            "-c",
            props.to_str().expect("utf-8"),
        ]));
        let child = Self::spawn(&libs, dir.path());
        wait_for_port("private kafka", port, Duration::from_secs(90));
        Self {
            brokers: format!("127.0.0.1:{port}"),
            child,
            port,
            libs,
            dir,
        }
    }

    fn java(libs: &str, main: &str) -> std::process::Command {
        let mut c = std::process::Command::new("java");
        c.args(["-Xms128m", "-Xmx512m", "-XX:+UseSerialGC", "-cp"])
            .arg(format!("{libs}/*"))
            .arg(main);
        c
    }

    fn spawn(libs: &str, dir: &std::path::Path) -> std::process::Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("kafka.log"))
            .expect("log file");
        Self::java(libs, "kafka.Kafka")
            .arg(dir.join("server.properties"))
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start kafka")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the broker (as a crash or a node loss would); its data stays.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the broker again on the same ports and data, and waits until it answers.
    pub fn restart(&mut self) {
        self.child = Self::spawn(&self.libs, self.dir.path());
        wait_for_port("private kafka", self.port, Duration::from_secs(90));
    }

    /// The end of the broker's log, for a failing test's message.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("kafka.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for PrivateKafka {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An S3 server of a test's own (the MinIO the local services built), so the test can
/// kill and restart it; its data survives restarts. Killed on drop.
#[derive(Debug)]
pub struct PrivateS3 {
    pub endpoint: String,
    pub access_key: String,
    pub secret_key: String,
    port: u16,
    child: Option<std::process::Child>,
    dir: tempfile::TempDir,
}

impl PrivateS3 {
    pub fn start() -> Self {
        let mut s = Self {
            endpoint: String::new(),
            access_key: "private-access".into(),
            secret_key: "private-secret-key".into(),
            port: free_port(),
            child: None,
            dir: tempfile::tempdir().expect("tempdir"),
        };
        s.endpoint = format!("http://127.0.0.1:{}", s.port);
        s.restart();
        s
    }

    /// Starts the server (again), waiting until it answers.
    pub fn restart(&mut self) {
        let child = std::process::Command::new(var("TRIBUTARY_MINIO_BIN", None))
            .args(["server", "--quiet", "--address"])
            .arg(format!("127.0.0.1:{}", self.port))
            .arg(self.dir.path().join("data"))
            .env("MINIO_ROOT_USER", &self.access_key)
            .env("MINIO_ROOT_PASSWORD", &self.secret_key)
            .env("MINIO_BROWSER", "off")
            .env("MINIO_UPDATE", "off")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start minio");
        self.child = Some(child);
        wait_for_port("private s3", self.port, Duration::from_secs(60));
    }

    /// Kills the server (an outage).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The content crate's settings for this server and `bucket`.
    pub fn s3_config(&self, bucket: &str) -> tributary_content::s3::S3Config {
        tributary_content::s3::S3Config {
            bucket: bucket.to_owned(),
            region: "us-east-1".into(),
            endpoint: Some(self.endpoint.clone()),
            force_path_style: true,
            credentials: Some(tributary_content::s3::StaticCredentials {
                access_key_id: self.access_key.clone(),
                secret_access_key: self.secret_key.clone(),
            }),
            server_side_encryption: None,
            operation_timeout_secs: 10,
            max_attempts: 2,
        }
    }

    /// Creates `bucket` on this server; a client for it.
    pub async fn bucket(&self, bucket: &str) -> aws_sdk_s3::Client {
        let client = self.s3_config(bucket).client().await.expect("s3 client");
        client
            .create_bucket()
            .bucket(bucket)
            .send()
            .await
            .expect("create bucket");
        client
    }

    /// The publisher's and consumer's flags for this server and `bucket`.
    pub fn args(&self, bucket: &str) -> Args {
        Args::default()
            .flag("storage-provider", "minio")
            .flag("storage-endpoint", &self.endpoint)
            .flag("storage-bucket", bucket)
            .flag("storage-access-key-id", &self.access_key)
            .flag("storage-secret-access-key", &self.secret_key)
    }
}

impl Drop for PrivateS3 {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A small tmpfs of a test's own (the test runs as root, as CI does), to fill a disk on
/// purpose; unmounted on drop.
#[derive(Debug)]
pub struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    pub fn mount(size: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        run(std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path()));
        Self { dir }
    }

    pub fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Gives the filesystem a new size (room returns, or goes).
    pub fn resize(&self, size: &str) {
        run(std::process::Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(self.dir.path()));
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// The records that arrive on a topic within `wait` (none is fine), from the beginning.
pub async fn records_within(brokers: &str, topic: &str, wait: Duration) -> Vec<Record> {
    use rdkafka::config::ClientConfig;
    use rdkafka::consumer::{Consumer, StreamConsumer};
    use rdkafka::message::Message;
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", unique("it-peek"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    let deadline = tokio::time::Instant::now() + wait;
    let mut got = Vec::new();
    while let Ok(msg) = tokio::time::timeout_at(deadline, consumer.recv()).await {
        if let Ok(msg) = msg {
            got.push(Record {
                key: msg.key().map(|k| String::from_utf8_lossy(k).into_owned()),
                payload: msg.payload().map(<[u8]>::to_vec),
            });
        }
    }
    got
}

/// A stand-in HTTP server on loopback (a git host that refuses, a token endpoint): each
/// connection's request — head and as much body as one read brings — goes to `respond`,
/// whose return value is written back whole before the connection closes. Returns the
/// port; the server lives as long as the test process.
pub fn serve_http(respond: impl Fn(&str) -> String + Send + 'static) -> u16 {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
            let mut buf = vec![0u8; 16 * 1024];
            let n = conn.read(&mut buf).unwrap_or(0);
            let response = respond(&String::from_utf8_lossy(&buf[..n]));
            let _ = conn.write_all(response.as_bytes());
        }
    });
    port
}

/// A TCP listener on loopback that accepts every connection and never says a word (a
/// remote that goes silent); its port. It lives as long as the test process.
pub fn silent_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming().flatten() {
            held.push(c);
        }
    });
    port
}

/// The lines of a `check --format json` output: whether all passed, and each check's
/// (ok, detail) by name. `stderr` is shown if the output is not JSON.
pub fn check_lines(
    stdout: &str,
    stderr: &str,
) -> (bool, std::collections::BTreeMap<String, (bool, String)>) {
    let v: serde_json::Value = serde_json::from_str(stdout)
        .unwrap_or_else(|e| panic!("check prints JSON ({e}):\n{stdout}\n{stderr}"));
    let lines = v["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| {
            (
                c["check"].as_str().expect("name").to_owned(),
                (
                    c["ok"].as_bool().expect("ok"),
                    c["detail"].as_str().expect("detail").to_owned(),
                ),
            )
        })
        .collect();
    (v["ok"].as_bool().expect("ok"), lines)
}

/// A completion event of `files` inline files for `project`, run now: for tests that
/// fold documents into a summary without publishing.
pub fn run_completed(project: &str, files: u64) -> tributary_events::v2::IndexRunCompleted {
    tributary_events::v2::IndexRunCompleted {
        schema_version: tributary_events::v2::V2_SCHEMA_VERSION.into(),
        event_type: "index_run_completed".into(),
        event_id: uuid::Uuid::now_v7(),
        run_id: uuid::Uuid::now_v7(),
        occurred_at: time::OffsetDateTime::now_utc(),
        project: project.to_owned(),
        source: Default::default(),
        batches: 1,
        files: tributary_events::v2::StrategyCounts {
            inline: files,
            ..Default::default()
        },
        bytes: Default::default(),
        deleted: 0,
        skipped_total: 0,
        skipped: Vec::new(),
        skipped_by_reason: Default::default(),
        commit: None,
        replayed: false,
        cost: None,
        portfolio_id: None,
    }
}

/// A file's document with `bytes` analysed by the library, as a consumer would make it.
pub fn file_document(
    project: &str,
    path: &str,
    bytes: &[u8],
) -> tributary_events::intelligence::FileIntelligence {
    use tributary_events::intelligence as doc;
    let path = tributary_events::RelPath::new(path).expect("a valid path");
    let a = tributary_intel::analyse(&path, bytes);
    doc::FileIntelligence {
        schema_version: doc::INTELLIGENCE_SCHEMA_VERSION.into(),
        doc_type: doc::DOC_TYPE_FILE.into(),
        project: project.to_owned(),
        path,
        checksum: tributary_events::Sha256Hex::of(bytes),
        size: bytes.len() as u64,
        language: a.language.map(str::to_owned),
        language_method: a.language_method.map(|m| m.as_str().to_owned()),
        lines: a.lines,
        complexity: a.complexity,
        symbols: a.symbols,
        imports: a.imports,
        license: a.license,
        secrets: a.secrets,
        tokens: a.tokens,
        flags: a.flags,
        flag_reasons: a.flag_reasons,
        dependencies: a.dependencies,
        unique_lines: a.unique_lines,
        history: None,
        diagnostics: a.diagnostics,
        truncated: Vec::new(),
        source: doc::DocSource {
            content_strategy: None,
            run_id: None,
            event_id: uuid::Uuid::nil(),
            git_url: None,
            git_ref: None,
        },
        timing: Default::default(),
        analysed_at: time::OffsetDateTime::now_utc(),
    }
}
