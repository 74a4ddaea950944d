//! The one Kafka edge: every producer, group consumer and metadata probe of both
//! binaries is configured here from one [`Connection`] (brokers, TLS, SASL,
//! pass-through properties), so a client property is set in one place. Callers
//! `create_with_context` the returned [`ClientConfig`] with a [`Context`] (or a context
//! of their own that delegates to one), which supplies MSK IAM tokens and remembers the
//! client's last error for [`probe`].

mod acl;
mod msk_iam;
mod security;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::ValueEnum;
use rdkafka::client::OAuthToken;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer as _, ConsumerContext};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::{ClientConfig, ClientContext};

pub use acl::{Operation, allows};
pub use msk_iam::{MskIam, MskIamError, TOKEN_LIFETIME, Token, next_refresh, sign_token};
pub use security::{
    ClientKey, Connection, KafkaConfigError, Oidc, Sasl, SaslMechanism, Secret, SecurityInput,
    SecurityProtocol, Tls,
};

/// Producer compression codec (`compression.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Compression {
    #[default]
    Zstd,
    Lz4,
    Gzip,
    Snappy,
    None,
}

impl Compression {
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::Zstd => "zstd",
            Compression::Lz4 => "lz4",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::None => "none",
        }
    }
}

/// Settings of a producer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerOptions {
    pub compression: Compression,
    pub linger_ms: u64,
    /// How long a message may wait for delivery before it fails (librdkafka's default
    /// when `None`).
    pub message_timeout_ms: Option<u64>,
    /// The local queue's size (librdkafka's default when `None`).
    pub queue_max_kbytes: Option<u64>,
}

impl ProducerOptions {
    /// Compressed, with librdkafka's other defaults.
    pub fn new(compression: Compression, linger_ms: u64) -> Self {
        Self {
            compression,
            linger_ms,
            message_timeout_ms: None,
            queue_max_kbytes: None,
        }
    }
}

/// Describes the Kafka clients' own metrics; call once, after the recorder is installed.
pub fn register_metrics() {
    metrics::describe_gauge!(
        "tributary_kafka_brokers_connected",
        "Kafka brokers this process's clients are connected to, at the last statistics report"
    );
    metrics::gauge!("tributary_kafka_brokers_connected").set(0.0);
}

/// How often librdkafka reports statistics to long-lived clients (producers and the
/// consumer daemon): the bound on how late a lost broker connection is logged.
pub const STATISTICS_INTERVAL_MS: u64 = 5_000;

fn base(conn: &Connection) -> ClientConfig {
    let mut c = ClientConfig::new();
    conn.apply(&mut c);
    c
}

/// An idempotent producer (`acks=all`, at most five requests in flight, no duplicates
/// or reordering on retry).
pub fn producer(conn: &Connection, opts: ProducerOptions) -> ClientConfig {
    let mut c = base(conn);
    c.set("enable.idempotence", "true")
        .set("compression.type", opts.compression.as_str())
        .set("linger.ms", opts.linger_ms.to_string())
        // broker states every few seconds: a lost connection is logged when it happens
        .set("statistics.interval.ms", STATISTICS_INTERVAL_MS.to_string());
    if let Some(ms) = opts.message_timeout_ms {
        c.set("message.timeout.ms", ms.to_string());
    }
    if let Some(kb) = opts.queue_max_kbytes {
        c.set("queue.buffering.max.kbytes", kb.to_string());
    }
    c
}

/// How a group consumer keeps its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetMode {
    /// The daemon's: offsets are *stored* by the application once a message is fully
    /// handled, and auto-commit commits what was stored.
    StoredThenAutoCommitted,
    /// Nothing is committed unless the application commits (replays, readers).
    ManualCommit,
}

/// A consumer in `group`, reading from the earliest offset when the group has none.
pub fn group_consumer(conn: &Connection, group: &str, mode: OffsetMode) -> ClientConfig {
    let mut c = base(conn);
    c.set("group.id", group)
        .set("auto.offset.reset", "earliest");
    match mode {
        OffsetMode::StoredThenAutoCommitted => c
            .set("enable.auto.commit", "true")
            .set("enable.auto.offset.store", "false"),
        OffsetMode::ManualCommit => c.set("enable.auto.commit", "false"),
    };
    c
}

/// What every client of both binaries carries: the MSK IAM token source (when that is
/// the mechanism) and the last error librdkafka reported, so a failed probe can say
/// *why* (a refused password, a certificate) instead of only "timed out".
#[derive(Debug, Clone, Default)]
pub struct Context {
    msk_iam: Option<Arc<MskIam>>,
    last_error: Arc<Mutex<Option<(RDKafkaErrorCode, String)>>>,
    brokers: Arc<Mutex<BrokerStates>>,
}

/// A broker connection's change between two statistics reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrokerChange {
    /// Was up, is not: the connection was lost (`state` is librdkafka's new state).
    Lost { broker: String, state: String },
    /// Up, with requests waiting, and nothing received for `secs` seconds: a broker
    /// that hangs, or a network that drops packets without closing the connection
    /// (librdkafka itself gives up on the requests only after `socket.timeout.ms`).
    Silent { broker: String, secs: u64 },
    /// Answering again after a loss or a silence.
    Restored { broker: String },
}

/// One broker in one statistics report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrokerReport<'a> {
    pub name: &'a str,
    /// librdkafka's state: `UP`, `DOWN`, `CONNECT`, `INIT` ...
    pub state: &'a str,
    /// Microseconds since the last byte received (negative: nothing yet).
    pub rxidle_us: i64,
    /// Requests sent and waiting for their response.
    pub waiting: i64,
}

/// A broker with requests waiting and nothing received for this long is reported silent.
pub const SILENT_AFTER: Duration = Duration::from_secs(30);

/// Which brokers' connections were up at the last statistics report.
#[derive(Debug, Default)]
pub struct BrokerStates {
    brokers: std::collections::HashMap<String, Link>,
}

/// A broker connection as the statistics have shown it so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    /// Not up yet (connecting, or a broker this client has no reason to talk to).
    NeverUp,
    Up,
    /// Up, but not answering (reported once).
    Silent,
    /// Was up, is not.
    Lost,
}

impl BrokerStates {
    /// Folds in one report's brokers (bootstrap entries are left out by the caller) and
    /// returns what changed: a broker that was up and is not, that stopped answering,
    /// or that answers again after either. A broker never seen up is nothing to report.
    pub fn observe<'a>(
        &mut self,
        report: impl IntoIterator<Item = BrokerReport<'a>>,
    ) -> Vec<BrokerChange> {
        let mut changes = Vec::new();
        for b in report {
            let up = b.state == "UP";
            let silent_us = i64::try_from(SILENT_AFTER.as_micros()).unwrap_or(i64::MAX);
            let silent = up && b.waiting > 0 && b.rxidle_us >= silent_us;
            let link = self
                .brokers
                .entry(b.name.to_owned())
                .or_insert(Link::NeverUp);
            let broker = || b.name.to_owned();
            *link = match (*link, up, silent) {
                (Link::Up | Link::Silent, false, _) => {
                    changes.push(BrokerChange::Lost {
                        broker: broker(),
                        state: b.state.to_owned(),
                    });
                    Link::Lost
                }
                (Link::Up, true, true) => {
                    changes.push(BrokerChange::Silent {
                        broker: broker(),
                        secs: u64::try_from(b.rxidle_us / 1_000_000).unwrap_or(0),
                    });
                    Link::Silent
                }
                (Link::Silent | Link::Lost, true, false) => {
                    changes.push(BrokerChange::Restored { broker: broker() });
                    Link::Up
                }
                (Link::Silent, true, true) => Link::Silent,
                (Link::Lost, true, true) => {
                    changes.push(BrokerChange::Silent {
                        broker: broker(),
                        secs: u64::try_from(b.rxidle_us / 1_000_000).unwrap_or(0),
                    });
                    Link::Silent
                }
                (Link::NeverUp, true, _) | (Link::Up, true, false) => Link::Up,
                (unchanged, false, _) => unchanged,
            };
        }
        changes
    }

    /// Brokers whose connection is up and answering.
    pub fn connected(&self) -> usize {
        self.brokers.values().filter(|l| **l == Link::Up).count()
    }
}

impl Context {
    pub fn new(conn: &Connection) -> Self {
        Self {
            msk_iam: conn.msk_iam().cloned(),
            last_error: Arc::default(),
            brokers: Arc::default(),
        }
    }

    /// For contexts of their own: logs a broker connection lost or restored since the
    /// last statistics report, and sets `tributary_kafka_brokers_connected`.
    pub fn on_stats(&self, stats: &rdkafka::Statistics) {
        let report = stats
            .brokers
            .values()
            .filter(|b| b.nodeid >= 0)
            .map(|b| BrokerReport {
                name: &b.name,
                state: &b.state,
                rxidle_us: b.rxidle,
                waiting: b.waitresp_cnt,
            });
        let mut brokers = self.brokers.lock().unwrap_or_else(|e| e.into_inner());
        for change in brokers.observe(report) {
            match change {
                BrokerChange::Lost { broker, state } => tracing::warn!(
                    %broker,
                    %state,
                    "lost the connection to a Kafka broker; librdkafka reconnects, requests to it wait"
                ),
                BrokerChange::Silent { broker, secs } => tracing::warn!(
                    %broker,
                    secs,
                    "no answer from a Kafka broker for {secs} s with requests waiting; the connection is up but silent"
                ),
                BrokerChange::Restored { broker } => {
                    tracing::info!(%broker, "connection to the Kafka broker restored");
                }
            }
        }
        metrics::gauge!("tributary_kafka_brokers_connected").set(brokers.connected() as f64);
    }

    /// The last error librdkafka reported on this client.
    pub fn last_error(&self) -> Option<(RDKafkaErrorCode, String)> {
        self.last_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// For contexts of their own: the OAUTHBEARER token (MSK IAM).
    pub fn oauth_token(&self) -> Result<OAuthToken, Box<dyn std::error::Error>> {
        let Some(iam) = &self.msk_iam else {
            return Err("no OAUTHBEARER token source is configured here: use --kafka-sasl-mechanism AWS_MSK_IAM, or --kafka-oauth-token-endpoint for OIDC".into());
        };
        let t = iam.token()?;
        Ok(OAuthToken {
            token: t.value,
            principal_name: String::new(),
            lifetime_ms: t.expires_at_ms,
        })
    }

    /// For contexts of their own: logs librdkafka's line, and remembers a warning or
    /// worse (a failed TLS handshake is sometimes only logged, never raised as an
    /// error event).
    pub fn on_log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        use RDKafkaLogLevel as L;
        match level {
            L::Emerg | L::Alert | L::Critical | L::Error | L::Warning => {
                let mut last = self.last_error.lock().unwrap_or_else(|e| e.into_inner());
                // an error event says more than a log line: keep it
                if last
                    .as_ref()
                    .is_none_or(|(c, _)| *c == RDKafkaErrorCode::Fail)
                {
                    *last = Some((RDKafkaErrorCode::Fail, message.to_owned()));
                }
                drop(last);
                tracing::warn!(facility = fac, "librdkafka: {message}");
            }
            L::Notice | L::Info => tracing::debug!(facility = fac, "librdkafka: {message}"),
            L::Debug => tracing::trace!(facility = fac, "librdkafka: {message}"),
        }
    }

    /// For contexts of their own: records and logs a client error.
    pub fn on_error(&self, error: &KafkaError, reason: &str) {
        let code = error.rdkafka_error_code().unwrap_or(RDKafkaErrorCode::Fail);
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((code, reason.to_owned()));
        // librdkafka reports a broker it cannot reach again and again while it retries;
        // these are warnings, the caller decides when it is fatal
        tracing::warn!(code = ?code, "kafka: {reason}");
    }
}

impl ClientContext for Context {
    const ENABLE_REFRESH_OAUTH_TOKEN: bool = true;

    fn generate_oauth_token(
        &self,
        _oauthbearer_config: Option<&str>,
    ) -> Result<OAuthToken, Box<dyn std::error::Error>> {
        self.oauth_token()
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.on_error(&error, reason);
    }

    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        self.on_log(level, fac, log_message);
    }

    fn stats(&self, stats: rdkafka::Statistics) {
        self.on_stats(&stats);
    }
}

impl ConsumerContext for Context {}

/// Why the cluster could not be used, with the setting at fault and the fix.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error(
        "authentication failed ({detail}); check --kafka-sasl-mechanism, --kafka-sasl-username and --kafka-sasl-password"
    )]
    Authentication { detail: String },
    #[error(
        "TLS handshake failed ({detail}); check --kafka-tls-ca-file (the CA that signed the brokers' certificates), --kafka-tls-cert-file/--kafka-tls-key (a client certificate the brokers trust), and --kafka-security-protocol"
    )]
    Tls { detail: String },
    #[error(
        "AWS credentials for MSK IAM: {0}; configure the AWS default credential chain (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a web identity or instance role)"
    )]
    MskIam(#[source] MskIamError),
    #[error(
        "not authorised for topic {topic}; ask for Describe, Write (publisher) or Read (consumer) on it, or use another --topic"
    )]
    TopicAuthorization { topic: String },
    #[error(
        "this principal may not write to topic {topic}; ask for Write on it, or use another --topic"
    )]
    TopicWrite { topic: String },
    #[error("not authorised for the cluster ({detail}); ask for Describe on the cluster")]
    ClusterAuthorization { detail: String },
    #[error("no broker answered within {secs} s{}; check --brokers and --kafka-security-protocol", last.as_ref().map(|l| format!(" (last error: {l})")).unwrap_or_default())]
    Unreachable { secs: u64, last: Option<String> },
    #[error("the client cannot be created: {0}; check the -X properties")]
    Client(#[source] KafkaError),
}

/// Asks the cluster for its metadata (and that of `topics`): the brokers answer within
/// `timeout` and accept the credentials, and each topic is visible, or the error says
/// which setting is at fault.
pub async fn probe(
    conn: &Connection,
    topics: &[&str],
    timeout: Duration,
) -> Result<(), ProbeError> {
    let states = describe(conn, topics, timeout).await?;
    for (topic, state) in topics.iter().zip(states) {
        if let Err(TopicError::Unauthorised) = state {
            return Err(ProbeError::TopicAuthorization {
                topic: (*topic).to_owned(),
            });
        }
    }
    Ok(())
}

/// The brokers answer within `timeout` and accept the credentials (or the error says
/// which setting is at fault); then each of `topics` as this principal sees it — its
/// partition count, or why it cannot be used. One client for all of it, never creating
/// a topic by asking for it. Runs on a blocking thread (librdkafka's calls block).
pub async fn describe(
    conn: &Connection,
    topics: &[&str],
    timeout: Duration,
) -> Result<Vec<Result<usize, TopicError>>, ProbeError> {
    if let Some(iam) = conn.msk_iam() {
        iam.start().await.map_err(ProbeError::MskIam)?;
    }
    let context = Context::new(conn);
    let mut config = base(conn);
    // a probe never creates a topic by asking for it
    config.set("allow.auto.create.topics", "false");
    let consumer: BaseConsumer<Context> = config
        .create_with_context(context.clone())
        .map_err(ProbeError::Client)?;
    let topics: Vec<String> = topics.iter().map(|t| (*t).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let diagnose = |fallback: ProbeError| -> ProbeError {
            match context.last_error() {
                Some((RDKafkaErrorCode::Authentication, detail)) => {
                    if detail.contains("SSL") {
                        ProbeError::Tls { detail }
                    } else {
                        ProbeError::Authentication { detail }
                    }
                }
                Some((RDKafkaErrorCode::SaslAuthenticationFailed, detail)) => {
                    ProbeError::Authentication { detail }
                }
                Some((RDKafkaErrorCode::ClusterAuthorizationFailed, detail)) => {
                    ProbeError::ClusterAuthorization { detail }
                }
                Some((_, detail)) if detail.contains("SSL") || detail.contains("certificate") => {
                    ProbeError::Tls { detail }
                }
                Some((_, detail))
                    if detail.contains("SASL") || detail.contains("uthentication") =>
                {
                    ProbeError::Authentication { detail }
                }
                Some((_, detail)) => match fallback {
                    ProbeError::Unreachable { secs, .. } => ProbeError::Unreachable {
                        secs,
                        last: Some(detail),
                    },
                    other => other,
                },
                None => fallback,
            }
        };
        let unreachable = || ProbeError::Unreachable {
            secs: timeout.as_secs(),
            last: None,
        };
        // Short attempts, serving the client's events between them: a refused password
        // or certificate arrives as an error event, and is final (retrying until the
        // deadline would only hide it).
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match consumer.fetch_metadata(None, left.min(Duration::from_secs(1))) {
                Ok(_) => break,
                Err(_) => {
                    let _ = consumer.poll(Duration::ZERO);
                    let fatal = diagnose(unreachable());
                    if !matches!(fatal, ProbeError::Unreachable { .. }) || left.is_zero() {
                        return Err(fatal);
                    }
                }
            }
        }
        Ok(topics
            .iter()
            .map(|t| topic_state(&consumer, t, timeout))
            .collect())
    })
    .await
    .unwrap_or(Err(ProbeError::Client(KafkaError::Canceled)))
}

/// Why a topic cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TopicError {
    #[error("does not exist")]
    Missing,
    #[error("not authorised for this principal")]
    Unauthorised,
    #[error("visible, but this principal may not read it")]
    ReadUnauthorised,
    #[error("visible, but this principal may not {0}")]
    Denied(&'static str),
    #[error("this principal may not use consumer group {0}")]
    GroupUnauthorised(String),
    #[error("{0}")]
    Metadata(String),
}

impl TopicError {
    /// What to do about it.
    pub fn fix(&self) -> &'static str {
        match self {
            TopicError::Missing => {
                "create it (partitions for the consumers you run), or let the publisher's first produce create it where the cluster allows"
            }
            TopicError::Unauthorised => {
                "grant this principal Describe and Write (publisher) or Read (consumer) on the topic"
            }
            TopicError::ReadUnauthorised => "grant this principal Read on the topic",
            TopicError::Denied(_) => {
                "grant this principal the operation on the topic (kafka-acls --add --operation ...)"
            }
            TopicError::GroupUnauthorised(_) => {
                "grant this principal Read on the consumer group (or use --group with one it may use)"
            }
            TopicError::Metadata(_) => "check the broker's health",
        }
    }
}

/// The partition count of `topic`, as the principal of `consumer` sees it.
fn topic_state(
    consumer: &BaseConsumer<Context>,
    topic: &str,
    timeout: Duration,
) -> Result<usize, TopicError> {
    let md = consumer
        .fetch_metadata(Some(topic), timeout)
        .map_err(|e| TopicError::Metadata(e.to_string()))?;
    let t = md
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .ok_or(TopicError::Missing)?;
    match t.error().map(RDKafkaErrorCode::from) {
        None => Ok(t.partitions().len()),
        Some(RDKafkaErrorCode::TopicAuthorizationFailed) => Err(TopicError::Unauthorised),
        Some(RDKafkaErrorCode::UnknownTopicOrPartition) => Err(TopicError::Missing),
        Some(other) => Err(TopicError::Metadata(other.to_string())),
    }
}

/// Whether `group` may read `topic`, without consuming anything: the group's committed
/// offsets are fetched (group authorisation) and each partition is read from its end
/// for a moment (topic Read authorisation; nothing is there to read).
pub async fn check_read(
    conn: &Connection,
    topic: &str,
    group: &str,
    timeout: Duration,
) -> Result<(), TopicError> {
    use rdkafka::{Offset, TopicPartitionList};
    let mut config = group_consumer(conn, group, OffsetMode::ManualCommit);
    config.set("allow.auto.create.topics", "false");
    let context = Context::new(conn);
    let consumer: BaseConsumer<Context> = config
        .create_with_context(context.clone())
        .map_err(|e| TopicError::Metadata(e.to_string()))?;
    let (topic, group) = (topic.to_owned(), group.to_owned());
    tokio::task::spawn_blocking(move || {
        let md = consumer
            .fetch_metadata(Some(&topic), timeout)
            .map_err(|e| TopicError::Metadata(e.to_string()))?;
        let partitions: Vec<i32> = md
            .topics()
            .iter()
            .filter(|t| t.name() == topic)
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect();
        if partitions.is_empty() {
            return Err(TopicError::Missing);
        }
        let mut tpl = TopicPartitionList::new();
        for p in &partitions {
            tpl.add_partition(&topic, *p);
        }
        // a refused group shows as an error event (the coordinator lookup), the call
        // itself only times out
        let group_refused = |e: Option<RDKafkaErrorCode>| {
            e == Some(RDKafkaErrorCode::GroupAuthorizationFailed)
                || context
                    .last_error()
                    .is_some_and(|(c, _)| c == RDKafkaErrorCode::GroupAuthorizationFailed)
        };
        // short attempts, serving events between them: a refused group shows as an
        // error event (the coordinator lookup), the call itself only times out
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match consumer.committed_offsets(tpl.clone(), left.min(Duration::from_secs(1))) {
                Ok(_) => break,
                Err(e) => {
                    let _ = consumer.poll(Duration::from_millis(100));
                    if group_refused(e.rdkafka_error_code()) {
                        return Err(TopicError::GroupUnauthorised(group));
                    }
                    if left.is_zero() {
                        return Err(TopicError::Metadata(e.to_string()));
                    }
                }
            }
        }
        for p in &partitions {
            tpl.set_partition_offset(&topic, *p, Offset::End)
                .map_err(|e| TopicError::Metadata(e.to_string()))?;
        }
        consumer
            .assign(&tpl)
            .map_err(|e| TopicError::Metadata(e.to_string()))?;
        let deadline = std::time::Instant::now() + timeout.min(Duration::from_secs(2));
        while std::time::Instant::now() < deadline {
            if let Some(Err(e)) = consumer.poll(Duration::from_millis(200))
                && e.rdkafka_error_code() == Some(RDKafkaErrorCode::TopicAuthorizationFailed)
            {
                return Err(TopicError::ReadUnauthorised);
            }
        }
        Ok(())
    })
    .await
    .unwrap_or_else(|_| Err(TopicError::Metadata("the check panicked".into())))
}

/// Whether this principal may perform each of `operations` on `topic`, as the cluster
/// says (DescribeTopics with authorised operations); nothing is produced or consumed.
pub async fn check_operations(
    conn: &Connection,
    topic: &str,
    operations: &[Operation],
    timeout: Duration,
) -> Result<(), TopicError> {
    let consumer: BaseConsumer<Context> = base(conn)
        .create_with_context(Context::new(conn))
        .map_err(|e| TopicError::Metadata(e.to_string()))?;
    let (topic, operations) = (topic.to_owned(), operations.to_vec());
    tokio::task::spawn_blocking(move || {
        let ops =
            acl::authorized(&consumer, &topic, timeout).map_err(|(code, text)| match code {
                RDKafkaErrorCode::TopicAuthorizationFailed => TopicError::Unauthorised,
                RDKafkaErrorCode::UnknownTopicOrPartition => TopicError::Missing,
                _ => TopicError::Metadata(text),
            })?;
        // no list: the cluster has no authorizer (or does not say): nothing is denied
        if ops.is_empty() {
            return Ok(());
        }
        for op in operations {
            if !allows(&ops, op) {
                return Err(TopicError::Denied(match op {
                    Operation::Describe => "describe it",
                    Operation::Read => "read it",
                    Operation::Write => "write to it",
                }));
            }
        }
        Ok(())
    })
    .await
    .unwrap_or_else(|_| Err(TopicError::Metadata("the check panicked".into())))
}
