//! How a client reaches and authenticates to the cluster: the security protocol, TLS
//! files, the SASL mechanism and its secrets, and the librdkafka properties passed
//! through as they are. Validated once into a [`Connection`]; every client of both
//! binaries is configured from it ([`Connection::apply`]).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use clap::ValueEnum;
use rdkafka::ClientConfig;
use tributary_events::v2::CredentialRef;

use super::msk_iam::MskIam;

/// `security.protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
#[value(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SecurityProtocol {
    #[default]
    Plaintext,
    Ssl,
    SaslPlaintext,
    SaslSsl,
}

impl SecurityProtocol {
    pub fn as_str(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "plaintext",
            SecurityProtocol::Ssl => "ssl",
            SecurityProtocol::SaslPlaintext => "sasl_plaintext",
            SecurityProtocol::SaslSsl => "sasl_ssl",
        }
    }

    fn sasl(self) -> bool {
        matches!(
            self,
            SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl
        )
    }

    fn tls(self) -> bool {
        matches!(self, SecurityProtocol::Ssl | SecurityProtocol::SaslSsl)
    }
}

/// The SASL mechanism; `AwsMskIam` is OAUTHBEARER with tokens signed from the AWS
/// credential chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SaslMechanism {
    #[value(name = "PLAIN")]
    Plain,
    #[value(name = "SCRAM-SHA-256")]
    ScramSha256,
    #[value(name = "SCRAM-SHA-512")]
    ScramSha512,
    #[value(name = "OAUTHBEARER")]
    Oauthbearer,
    #[value(name = "AWS_MSK_IAM")]
    AwsMskIam,
}

impl SaslMechanism {
    /// `sasl.mechanism`.
    pub fn as_str(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
            SaslMechanism::Oauthbearer | SaslMechanism::AwsMskIam => "OAUTHBEARER",
        }
    }
}

/// A secret named by reference (`env:NAME` or `file:/path`), resolved when the
/// settings are built; its `Debug` shows the reference, never the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    reference: String,
    value: String,
}

impl Secret {
    /// Resolves `reference` on this machine. Plain values are refused: a secret on a
    /// command line is visible to every user of the machine (`ps`) and in shell history.
    pub fn resolve(setting: &'static str, reference: &str) -> Result<Self, KafkaConfigError> {
        let parsed = CredentialRef::try_from(reference.to_owned()).map_err(|_| {
            KafkaConfigError::NotAReference {
                setting,
                reference: redact_plain(reference),
            }
        })?;
        let value = tributary_content::git::resolve_secret(&parsed).map_err(|e| {
            KafkaConfigError::Unresolvable {
                setting,
                reference: reference.to_owned(),
                reason: e.to_string(),
            }
        })?;
        if value.is_empty() {
            return Err(KafkaConfigError::Unresolvable {
                setting,
                reference: reference.to_owned(),
                reason: "it is empty".into(),
            });
        }
        Ok(Self {
            reference: reference.to_owned(),
            value,
        })
    }

    /// The reference, as the user wrote it.
    pub fn reference(&self) -> &str {
        &self.reference
    }

    pub(crate) fn expose(&self) -> &str {
        &self.value
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.reference)
    }
}

/// What a plain value looks like in an error: its length, never its characters.
fn redact_plain(s: &str) -> String {
    format!("<a value of {} characters>", s.chars().count())
}

/// A private key for mutual TLS: a file librdkafka reads, or PEM text from a variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientKey {
    File(PathBuf),
    Pem(Secret),
}

/// TLS settings (protocols `SSL` and `SASL_SSL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    /// CA certificates (PEM) the brokers' certificates must chain to; the system's
    /// store when `None`.
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS, with its key.
    pub cert_file: Option<PathBuf>,
    pub key: Option<ClientKey>,
    pub key_password: Option<Secret>,
    /// Whether the broker's certificate must name the host connected to (on unless
    /// explicitly turned off).
    pub verify_hostname: bool,
}

impl Default for Tls {
    fn default() -> Self {
        Self {
            ca_file: None,
            cert_file: None,
            key: None,
            key_password: None,
            verify_hostname: true,
        }
    }
}

/// OAUTHBEARER with librdkafka's OIDC client-credentials flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Oidc {
    pub token_endpoint: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub scope: Option<String>,
}

/// SASL credentials for the mechanism.
#[derive(Debug, Clone)]
pub enum Sasl {
    /// PLAIN and SCRAM: a user and a password.
    Password {
        mechanism: SaslMechanism,
        username: String,
        password: Secret,
    },
    /// OAUTHBEARER through an OIDC token endpoint (or, without one, whatever
    /// `sasl.oauthbearer.*` properties are passed through).
    Oauthbearer(Option<Oidc>),
    /// Amazon MSK IAM: OAUTHBEARER tokens signed with the AWS default credential chain.
    AwsMskIam(Arc<MskIam>),
}

/// Raw security input, as the flags and the config file give it.
#[derive(Debug, Clone, Default)]
pub struct SecurityInput {
    pub protocol: Option<SecurityProtocol>,
    pub ca_file: Option<PathBuf>,
    pub cert_file: Option<PathBuf>,
    pub key: Option<String>,
    pub key_password: Option<String>,
    pub no_verify_hostname: bool,
    pub sasl_mechanism: Option<SaslMechanism>,
    pub sasl_username: Option<String>,
    pub sasl_password: Option<String>,
    pub oauth_token_endpoint: Option<String>,
    pub oauth_client_id: Option<String>,
    pub oauth_client_secret: Option<String>,
    pub oauth_scope: Option<String>,
    pub aws_region: Option<String>,
    /// `key=value` librdkafka properties.
    pub properties: Vec<String>,
}

/// Where the cluster is and how to reach it: what every client is configured from.
#[derive(Debug, Clone)]
pub struct Connection {
    pub brokers: String,
    pub protocol: SecurityProtocol,
    pub tls: Tls,
    pub sasl: Option<Sasl>,
    /// Properties passed through to librdkafka, in order (secret values resolved).
    properties: Vec<(String, PassThrough)>,
}

#[derive(Clone)]
enum PassThrough {
    Plain(String),
    Secret(Secret),
}

impl fmt::Debug for PassThrough {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PassThrough::Plain(v) => write!(f, "{v:?}"),
            PassThrough::Secret(s) => s.fmt(f),
        }
    }
}

/// Properties Tributary's guarantees rest on: set by Tributary, refused from users.
const GUARDED: &[(&str, &str)] = &[
    (
        "enable.idempotence",
        "outputs and events are produced idempotently (no duplicates on retry)",
    ),
    (
        "enable.auto.offset.store",
        "an offset is stored only once its message is fully handled",
    ),
    (
        "enable.auto.commit",
        "commits follow the stored offsets (at-least-once)",
    ),
    ("acks", "idempotent delivery needs acks=all"),
    (
        "max.in.flight.requests.per.connection",
        "idempotent delivery keeps order with at most five requests in flight",
    ),
    (
        "max.in.flight",
        "idempotent delivery keeps order with at most five requests in flight",
    ),
    (
        "enable.gapless.guarantee",
        "delivery failures are handled by Tributary",
    ),
    (
        "partition.assignment.strategy",
        "revocation draining relies on cooperative-sticky assignment",
    ),
    ("isolation.level", "consumers read committed records only"),
    ("group.id", "use --group"),
    ("bootstrap.servers", "use --brokers"),
    ("metadata.broker.list", "use --brokers"),
];

/// Properties whose values are secrets: passed through only by reference.
const SECRET_PROPERTIES: &[&str] = &[
    "sasl.password",
    "ssl.key.password",
    "ssl.key.pem",
    "ssl_key",
    "ssl.keystore.password",
    "sasl.oauthbearer.client.secret",
    "sasl.oauthbearer.assertion.private.key.passphrase",
    "sasl.oauthbearer.assertion.private.key.pem",
];

/// A Kafka setting that cannot be used, naming the setting and the fix.
#[derive(Debug, thiserror::Error)]
pub enum KafkaConfigError {
    #[error("--brokers: {brokers:?} is not a list of host:port (e.g. broker-1:9092,broker-2:9092)")]
    Brokers { brokers: String },
    #[error(
        "{setting}: expected a reference `env:NAME` or `file:/path`, got {reference}; secrets are never given as values"
    )]
    NotAReference {
        setting: &'static str,
        reference: String,
    },
    #[error("{setting}: cannot read {reference}: {reason}")]
    Unresolvable {
        setting: &'static str,
        reference: String,
        reason: String,
    },
    #[error("{setting}: cannot read {}: {reason}", path.display())]
    File {
        setting: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("{setting} needs {needs}")]
    Missing {
        setting: &'static str,
        needs: &'static str,
    },
    #[error(
        "--kafka-sasl-mechanism {mechanism} needs --kafka-security-protocol SASL_SSL (or SASL_PLAINTEXT on a trusted network), not {protocol}"
    )]
    SaslWithoutSaslProtocol {
        mechanism: &'static str,
        protocol: &'static str,
    },
    #[error("--kafka-security-protocol {protocol} needs --kafka-sasl-mechanism")]
    SaslProtocolWithoutMechanism { protocol: &'static str },
    #[error(
        "{setting} is a TLS setting, but --kafka-security-protocol {protocol} does not use TLS (use SSL or SASL_SSL)"
    )]
    TlsWithoutTlsProtocol {
        setting: &'static str,
        protocol: &'static str,
    },
    #[error("-X {property:?}: expected key=value")]
    PropertySyntax { property: String },
    #[error("-X {key}: refused, Tributary sets it: {why}")]
    Guarded { key: String, why: &'static str },
    #[error("-X {key}: also set by {setting}; set it once")]
    SetTwice { key: String, setting: &'static str },
}

impl Connection {
    /// A plaintext connection to `brokers` with no pass-through (tests, local use).
    pub fn plaintext(brokers: impl Into<String>) -> Self {
        Self {
            brokers: brokers.into(),
            protocol: SecurityProtocol::Plaintext,
            tls: Tls::default(),
            sasl: None,
            properties: Vec::new(),
        }
    }

    /// Validates raw security input into a connection: references resolved, files
    /// checked, combinations that cannot work refused, pass-through properties checked
    /// against the guarded list.
    pub fn new(brokers: &str, input: SecurityInput) -> Result<Self, KafkaConfigError> {
        check_brokers(brokers)?;
        let sasl_given = input.sasl_mechanism;
        let tls_given = [
            ("--kafka-tls-ca-file", input.ca_file.is_some()),
            ("--kafka-tls-cert-file", input.cert_file.is_some()),
            ("--kafka-tls-key", input.key.is_some()),
            ("--kafka-tls-key-password", input.key_password.is_some()),
            ("--kafka-tls-no-verify-hostname", input.no_verify_hostname),
        ];
        // The protocol follows what was given when it is not named.
        let protocol =
            input
                .protocol
                .unwrap_or(match (sasl_given, tls_given.iter().any(|t| t.1)) {
                    (Some(_), _) => SecurityProtocol::SaslSsl,
                    (None, true) => SecurityProtocol::Ssl,
                    (None, false) => SecurityProtocol::Plaintext,
                });
        if let Some(m) = sasl_given
            && !protocol.sasl()
        {
            return Err(KafkaConfigError::SaslWithoutSaslProtocol {
                mechanism: m.as_str_flag(),
                protocol: protocol_flag(protocol),
            });
        }
        if protocol.sasl() && sasl_given.is_none() {
            return Err(KafkaConfigError::SaslProtocolWithoutMechanism {
                protocol: protocol_flag(protocol),
            });
        }
        if !protocol.tls()
            && let Some((setting, _)) = tls_given.iter().find(|t| t.1)
        {
            return Err(KafkaConfigError::TlsWithoutTlsProtocol {
                setting,
                protocol: protocol_flag(protocol),
            });
        }
        let tls = Tls {
            ca_file: input
                .ca_file
                .map(|p| readable("--kafka-tls-ca-file", p))
                .transpose()?,
            cert_file: input
                .cert_file
                .map(|p| readable("--kafka-tls-cert-file", p))
                .transpose()?,
            key: input.key.map(|k| client_key(&k)).transpose()?,
            key_password: input
                .key_password
                .map(|r| Secret::resolve("--kafka-tls-key-password", &r))
                .transpose()?,
            verify_hostname: !input.no_verify_hostname,
        };
        if tls.cert_file.is_some() != tls.key.is_some() {
            return Err(KafkaConfigError::Missing {
                setting: if tls.cert_file.is_some() {
                    "--kafka-tls-cert-file"
                } else {
                    "--kafka-tls-key"
                },
                needs: "both --kafka-tls-cert-file and --kafka-tls-key (mutual TLS)",
            });
        }
        let sasl = match sasl_given {
            None => None,
            Some(
                m
                @ (SaslMechanism::Plain | SaslMechanism::ScramSha256 | SaslMechanism::ScramSha512),
            ) => {
                let username = input.sasl_username.ok_or(KafkaConfigError::Missing {
                    setting: "--kafka-sasl-mechanism",
                    needs: "--kafka-sasl-username",
                })?;
                let password = input.sasl_password.ok_or(KafkaConfigError::Missing {
                    setting: "--kafka-sasl-mechanism",
                    needs: "--kafka-sasl-password (env:NAME or file:/path)",
                })?;
                Some(Sasl::Password {
                    mechanism: m,
                    username,
                    password: Secret::resolve("--kafka-sasl-password", &password)?,
                })
            }
            Some(SaslMechanism::Oauthbearer) => {
                let oidc = match input.oauth_token_endpoint {
                    None => None,
                    Some(endpoint) => Some(Oidc {
                        token_endpoint: endpoint,
                        client_id: input.oauth_client_id.ok_or(KafkaConfigError::Missing {
                            setting: "--kafka-oauth-token-endpoint",
                            needs: "--kafka-oauth-client-id",
                        })?,
                        client_secret: Secret::resolve(
                            "--kafka-oauth-client-secret",
                            &input.oauth_client_secret.ok_or(KafkaConfigError::Missing {
                                setting: "--kafka-oauth-token-endpoint",
                                needs: "--kafka-oauth-client-secret (env:NAME or file:/path)",
                            })?,
                        )?,
                        scope: input.oauth_scope,
                    }),
                };
                Some(Sasl::Oauthbearer(oidc))
            }
            Some(SaslMechanism::AwsMskIam) => {
                let region = input.aws_region.ok_or(KafkaConfigError::Missing {
                    setting: "--kafka-sasl-mechanism AWS_MSK_IAM",
                    needs: "--kafka-aws-region (or AWS_REGION)",
                })?;
                Some(Sasl::AwsMskIam(Arc::new(MskIam::new(region))))
            }
        };
        let mut conn = Self {
            brokers: brokers.to_owned(),
            protocol,
            tls,
            sasl,
            properties: Vec::new(),
        };
        let typed = conn.typed_properties();
        for p in &input.properties {
            let (key, value) = p
                .split_once('=')
                .filter(|(k, _)| !k.trim().is_empty())
                .ok_or_else(|| KafkaConfigError::PropertySyntax {
                    property: redact_property(p),
                })?;
            let key = key.trim().to_owned();
            if let Some((_, why)) = GUARDED.iter().find(|(g, _)| *g == key) {
                return Err(KafkaConfigError::Guarded { key, why });
            }
            if let Some((_, setting)) = typed.iter().find(|(k, _)| *k == key) {
                return Err(KafkaConfigError::SetTwice { key, setting });
            }
            let value = if SECRET_PROPERTIES.contains(&key.as_str()) {
                PassThrough::Secret(Secret::resolve("-X", value)?)
            } else {
                PassThrough::Plain(value.to_owned())
            };
            conn.properties.push((key, value));
        }
        Ok(conn)
    }

    /// The properties the typed settings set, each with the flag that sets it.
    fn typed_properties(&self) -> Vec<(&'static str, &'static str)> {
        let mut out = vec![("security.protocol", "--kafka-security-protocol")];
        if self.tls.ca_file.is_some() {
            out.push(("ssl.ca.location", "--kafka-tls-ca-file"));
        }
        if self.tls.cert_file.is_some() {
            out.push(("ssl.certificate.location", "--kafka-tls-cert-file"));
        }
        if self.tls.key.is_some() {
            out.push(("ssl.key.location", "--kafka-tls-key"));
            out.push(("ssl.key.pem", "--kafka-tls-key"));
        }
        if self.tls.key_password.is_some() {
            out.push(("ssl.key.password", "--kafka-tls-key-password"));
        }
        if self.protocol.tls() {
            out.push((
                "ssl.endpoint.identification.algorithm",
                "--kafka-tls-no-verify-hostname",
            ));
        }
        if self.sasl.is_some() {
            out.push(("sasl.mechanism", "--kafka-sasl-mechanism"));
        }
        match &self.sasl {
            Some(Sasl::Password { .. }) => {
                out.push(("sasl.username", "--kafka-sasl-username"));
                out.push(("sasl.password", "--kafka-sasl-password"));
            }
            Some(Sasl::Oauthbearer(Some(_))) => {
                out.push(("sasl.oauthbearer.method", "--kafka-oauth-token-endpoint"));
                out.push((
                    "sasl.oauthbearer.token.endpoint.url",
                    "--kafka-oauth-token-endpoint",
                ));
                out.push(("sasl.oauthbearer.client.id", "--kafka-oauth-client-id"));
                out.push((
                    "sasl.oauthbearer.client.secret",
                    "--kafka-oauth-client-secret",
                ));
                out.push(("sasl.oauthbearer.scope", "--kafka-oauth-scope"));
            }
            _ => {}
        }
        out
    }

    /// Sets `bootstrap.servers`, the security properties and the pass-through on `c`.
    pub fn apply(&self, c: &mut ClientConfig) {
        c.set("bootstrap.servers", &self.brokers);
        c.set("security.protocol", self.protocol.as_str());
        if self.protocol.tls() {
            let t = &self.tls;
            if let Some(ca) = &t.ca_file {
                c.set("ssl.ca.location", ca.display().to_string());
            }
            if let Some(cert) = &t.cert_file {
                c.set("ssl.certificate.location", cert.display().to_string());
            }
            match &t.key {
                Some(ClientKey::File(p)) => {
                    c.set("ssl.key.location", p.display().to_string());
                }
                Some(ClientKey::Pem(s)) => {
                    c.set("ssl.key.pem", s.expose());
                }
                None => {}
            }
            if let Some(pw) = &t.key_password {
                c.set("ssl.key.password", pw.expose());
            }
            c.set(
                "ssl.endpoint.identification.algorithm",
                if t.verify_hostname { "https" } else { "none" },
            );
        }
        match &self.sasl {
            None => {}
            Some(Sasl::Password {
                mechanism,
                username,
                password,
            }) => {
                c.set("sasl.mechanism", mechanism.as_str())
                    .set("sasl.username", username)
                    .set("sasl.password", password.expose());
            }
            Some(Sasl::Oauthbearer(oidc)) => {
                c.set("sasl.mechanism", "OAUTHBEARER");
                if let Some(o) = oidc {
                    c.set("sasl.oauthbearer.method", "oidc")
                        .set("sasl.oauthbearer.token.endpoint.url", &o.token_endpoint)
                        .set("sasl.oauthbearer.client.id", &o.client_id)
                        .set("sasl.oauthbearer.client.secret", o.client_secret.expose());
                    if let Some(scope) = &o.scope {
                        c.set("sasl.oauthbearer.scope", scope);
                    }
                }
            }
            Some(Sasl::AwsMskIam(_)) => {
                // tokens come from the client context (generate_oauth_token)
                c.set("sasl.mechanism", "OAUTHBEARER");
            }
        }
        for (k, v) in &self.properties {
            match v {
                PassThrough::Plain(v) => c.set(k, v),
                PassThrough::Secret(s) => c.set(k, s.expose()),
            };
        }
    }

    /// The MSK IAM token source, when that is the mechanism.
    pub fn msk_iam(&self) -> Option<&Arc<MskIam>> {
        match &self.sasl {
            Some(Sasl::AwsMskIam(m)) => Some(m),
            _ => None,
        }
    }

    /// The effective settings as `key = value` lines, secrets shown by reference (for
    /// `check` and start-up logs).
    pub fn describe(&self) -> Vec<(String, String)> {
        let mut out = vec![
            ("brokers".to_owned(), self.brokers.clone()),
            (
                "security_protocol".to_owned(),
                protocol_flag(self.protocol).to_owned(),
            ),
        ];
        if self.protocol.tls() {
            let t = &self.tls;
            let path = |p: &Option<PathBuf>| {
                p.as_ref()
                    .map_or("(system)".to_owned(), |p| p.display().to_string())
            };
            out.push(("tls_ca_file".into(), path(&t.ca_file)));
            if t.cert_file.is_some() {
                out.push(("tls_cert_file".into(), path(&t.cert_file)));
            }
            if let Some(k) = &t.key {
                out.push((
                    "tls_key".into(),
                    match k {
                        ClientKey::File(p) => format!("file:{}", p.display()),
                        ClientKey::Pem(s) => s.reference().to_owned(),
                    },
                ));
            }
            out.push(("tls_verify_hostname".into(), t.verify_hostname.to_string()));
        }
        match &self.sasl {
            None => {}
            Some(Sasl::Password {
                mechanism,
                username,
                password,
            }) => {
                out.push(("sasl_mechanism".into(), mechanism.as_str().into()));
                out.push(("sasl_username".into(), username.clone()));
                out.push(("sasl_password".into(), password.reference().into()));
            }
            Some(Sasl::Oauthbearer(o)) => {
                out.push(("sasl_mechanism".into(), "OAUTHBEARER".into()));
                if let Some(o) = o {
                    out.push(("oauth_token_endpoint".into(), o.token_endpoint.clone()));
                    out.push(("oauth_client_id".into(), o.client_id.clone()));
                    out.push((
                        "oauth_client_secret".into(),
                        o.client_secret.reference().into(),
                    ));
                }
            }
            Some(Sasl::AwsMskIam(m)) => {
                out.push(("sasl_mechanism".into(), "AWS_MSK_IAM".into()));
                out.push(("aws_region".into(), m.region().into()));
            }
        }
        for (k, v) in &self.properties {
            let shown = match v {
                PassThrough::Plain(v) => v.clone(),
                PassThrough::Secret(s) => s.reference().to_owned(),
            };
            out.push((format!("X {k}"), shown));
        }
        out
    }
}

impl SaslMechanism {
    fn as_str_flag(self) -> &'static str {
        match self {
            SaslMechanism::AwsMskIam => "AWS_MSK_IAM",
            m => m.as_str(),
        }
    }
}

fn protocol_flag(p: SecurityProtocol) -> &'static str {
    match p {
        SecurityProtocol::Plaintext => "PLAINTEXT",
        SecurityProtocol::Ssl => "SSL",
        SecurityProtocol::SaslPlaintext => "SASL_PLAINTEXT",
        SecurityProtocol::SaslSsl => "SASL_SSL",
    }
}

/// `host:port[,host:port...]`, each port a number.
fn check_brokers(brokers: &str) -> Result<(), KafkaConfigError> {
    let bad = || KafkaConfigError::Brokers {
        brokers: brokers.to_owned(),
    };
    if brokers.trim().is_empty() {
        return Err(bad());
    }
    for b in brokers.split(',') {
        let b = b.trim();
        // an optional scheme, as librdkafka accepts (`SSL://host:port`)
        let b = b.split_once("://").map_or(b, |(_, rest)| rest);
        let (host, port) = b.rsplit_once(':').ok_or_else(bad)?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty()
            || host.contains(|c: char| c.is_whitespace() || c == '/')
            || port.parse::<u16>().map_or(true, |p| p == 0)
        {
            return Err(bad());
        }
    }
    Ok(())
}

fn readable(setting: &'static str, path: PathBuf) -> Result<PathBuf, KafkaConfigError> {
    match std::fs::File::open(&path) {
        Ok(_) => Ok(path),
        Err(e) => Err(KafkaConfigError::File {
            setting,
            path,
            reason: e.kind().to_string(),
        }),
    }
}

/// `file:/path` → a key file librdkafka reads (checked readable); `env:NAME` → PEM text.
fn client_key(reference: &str) -> Result<ClientKey, KafkaConfigError> {
    match reference.strip_prefix("file:") {
        Some(path) if path.starts_with('/') => {
            readable("--kafka-tls-key", PathBuf::from(path)).map(ClientKey::File)
        }
        _ => Secret::resolve("--kafka-tls-key", reference).map(ClientKey::Pem),
    }
}

/// A malformed `-X` argument in an error: its key, never a value that may be secret.
fn redact_property(p: &str) -> String {
    match p.split_once('=') {
        Some((k, _)) => format!("{k}=…"),
        None if p.chars().count() > 40 => format!("{}…", p.chars().take(40).collect::<String>()),
        None => p.to_owned(),
    }
}
