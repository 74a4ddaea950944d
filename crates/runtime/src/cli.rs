//! Flags both binaries share, with their environment fallbacks: log format, object
//! store, sizes.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use tributary_content::ContentError;
use tributary_content::gcs::GcsConfig;
use tributary_content::s3::{S3Config, StaticCredentials};
use tributary_content::store::StoreConfig;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

/// Options every command of both binaries takes (flattened into each `Cli`).
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Log format: human-readable or JSON lines.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "human",
        env = "TRIBUTARY_LOG_FORMAT"
    )]
    pub log_format: LogFormat,
    /// Settings file (TOML): every setting under its flag's name, and a `[kafka]` table
    /// of librdkafka properties. Flags and environment variables override it.
    #[arg(long, global = true, env = "TRIBUTARY_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
}

/// Parses `1234`, `100KiB`, `64MiB`, `1GiB` (also `KB`/`MB`/`GB` as powers of ten),
/// units in any case (`10mb`, `64mib`). Hand-written: ten lines, where a crate would add
/// a dependency for one flag type.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("{s:?} is not a size"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kib" | "k" => 1 << 10,
        "mib" | "m" => 1 << 20,
        "gib" | "g" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        _ => {
            return Err(format!(
                "unknown size unit {:?} (B, KiB, MiB, GiB, KB, MB, GB, in any case)",
                unit.trim()
            ));
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too large"))
}

/// Object storage provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProviderArg {
    S3,
    Minio,
    /// Google Cloud Storage (native: Application Default Credentials, signed URLs).
    Gcs,
    Local,
    None,
}

/// The object-store flags, flattened into each binary's arguments.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Object storage")]
pub struct StorageArgs {
    /// Object storage provider.
    #[arg(
        long,
        env = "CONTENT_STORAGE_PROVIDER",
        value_enum,
        default_value = "local"
    )]
    pub storage_provider: ProviderArg,
    /// Folder of the `local` provider.
    #[arg(
        long,
        env = "TRIBUTARY_CONTENT_STORAGE_DIR",
        default_value = "/tmp/tributary-objects"
    )]
    pub storage_dir: PathBuf,
    /// Bucket of the S3/MinIO/GCS provider.
    #[arg(long, env = "CONTENT_STORAGE_BUCKET", default_value = "tributary")]
    pub storage_bucket: String,
    /// Region of the S3 provider.
    #[arg(long, env = "CONTENT_STORAGE_REGION", default_value = "us-east-1")]
    pub storage_region: String,
    /// Custom S3 endpoint (MinIO, Garage, ...); implies path-style addressing.
    #[arg(long, env = "CONTENT_STORAGE_ENDPOINT")]
    pub storage_endpoint: Option<String>,
    /// Static S3 access key; without it the AWS default credential chain is used.
    #[arg(long, env = "AWS_ACCESS_KEY_ID", hide_env_values = true)]
    pub storage_access_key_id: Option<String>,
    /// Static S3 secret key (with --storage-access-key-id).
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub storage_secret_access_key: Option<String>,
    /// GCS service-account key file (JSON); without it, Application Default
    /// Credentials (gcloud's file, then the metadata server: GKE Workload Identity).
    #[arg(long, env = "GOOGLE_APPLICATION_CREDENTIALS", value_name = "PATH")]
    pub storage_gcs_service_account: Option<PathBuf>,
}

impl StorageArgs {
    /// The store these flags name. `operation_timeout_secs` bounds each S3 request;
    /// `sdk_attempts` is how often the SDK itself tries one (1 where the caller retries
    /// on its own, so the two layers do not multiply); `sse` sets server-side encryption
    /// for uploads.
    pub fn store_config(
        &self,
        operation_timeout_secs: u64,
        sdk_attempts: u32,
        sse: Option<String>,
    ) -> Result<StoreConfig, ContentError> {
        let credentials = match (&self.storage_access_key_id, &self.storage_secret_access_key) {
            (Some(a), Some(s)) => Some(StaticCredentials {
                access_key_id: a.clone(),
                secret_access_key: s.clone(),
            }),
            _ => None,
        };
        let s3 = |path_style| {
            StoreConfig::S3(S3Config {
                bucket: self.storage_bucket.clone(),
                region: self.storage_region.clone(),
                endpoint: self.storage_endpoint.clone(),
                force_path_style: path_style,
                credentials,
                server_side_encryption: sse,
                operation_timeout_secs,
                max_attempts: sdk_attempts,
            })
        };
        Ok(match self.storage_provider {
            ProviderArg::None => StoreConfig::None,
            ProviderArg::Local => StoreConfig::Local {
                root: self.storage_dir.clone(),
            },
            // Custom endpoints (MinIO and most S3-compatible servers) want path-style.
            ProviderArg::S3 => s3(self.storage_endpoint.is_some()),
            ProviderArg::Minio if self.storage_endpoint.is_none() => {
                return Err(ContentError::Config(
                    "--storage-provider minio needs --storage-endpoint".into(),
                ));
            }
            ProviderArg::Minio => s3(true),
            ProviderArg::Gcs => StoreConfig::Gcs(GcsConfig {
                bucket: self.storage_bucket.clone(),
                endpoint: self.storage_endpoint.clone(),
                service_account: self
                    .storage_gcs_service_account
                    .as_ref()
                    .map(|p| {
                        let p = std::path::absolute(p).unwrap_or_else(|_| p.clone());
                        tributary_events::v2::CredentialRef::try_from(format!(
                            "file:{}",
                            p.display()
                        ))
                        .map_err(|e| {
                            ContentError::Config(format!("--storage-gcs-service-account: {e}"))
                        })
                    })
                    .transpose()?,
                operation_timeout_secs,
                max_attempts: sdk_attempts,
            }),
        })
    }
}

/// How SSH servers' host keys are checked: flattened into both binaries.
#[derive(Debug, Clone, Args)]
pub struct HostKeyArgs {
    /// SSH servers must present a host key listed here: `file:/path` or `env:VAR`
    /// holding the text (as `ssh-keyscan` writes it). Without it, SSH is refused.
    #[arg(help_heading = "Git", long, env = "TRIBUTARY_GIT_KNOWN_HOSTS")]
    pub git_known_hosts: Option<String>,
    /// Accept any SSH host key (no known_hosts): only where the network path is trusted.
    #[arg(
        help_heading = "Git",
        long,
        env = "TRIBUTARY_GIT_ACCEPT_UNKNOWN_HOST_KEYS"
    )]
    pub git_accept_unknown_host_keys: bool,
}

impl HostKeyArgs {
    /// The host-key policy the flags name, its `known_hosts` read and parsed.
    pub fn host_keys(&self) -> Result<tributary_content::git::HostKeys, ContentError> {
        let known = self
            .git_known_hosts
            .as_ref()
            .map(|r| {
                tributary_events::v2::CredentialRef::try_from(r.clone()).map_err(|_| {
                    ContentError::Config(format!(
                        "--git-known-hosts {r:?} is not a reference (env:VAR, file:/path, aws-sm:ID)"
                    ))
                })
            })
            .transpose()?;
        tributary_content::git::HostKeys::configure(
            known.as_ref(),
            self.git_accept_unknown_host_keys,
        )
    }
}

/// How to reach the Kafka cluster: flattened into every command that talks to Kafka.
/// Secrets are references (`env:NAME`, `file:/path`), never values.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Kafka")]
pub struct KafkaArgs {
    /// Bootstrap brokers, `host:port[,host:port...]`.
    #[arg(
        long,
        env = "TRIBUTARY_KAFKA_BROKERS",
        default_value = "127.0.0.1:9092"
    )]
    pub brokers: String,
    /// Security protocol; default: SASL_SSL with a SASL mechanism, SSL with TLS
    /// settings, PLAINTEXT otherwise.
    #[arg(
        long,
        env = "TRIBUTARY_KAFKA_SECURITY_PROTOCOL",
        value_enum,
        ignore_case = true
    )]
    pub kafka_security_protocol: Option<crate::kafka::SecurityProtocol>,
    /// CA certificates (PEM) the brokers' certificates chain to (default: the system's).
    #[arg(long, env = "TRIBUTARY_KAFKA_TLS_CA_FILE", value_name = "PATH")]
    pub kafka_tls_ca_file: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS.
    #[arg(long, env = "TRIBUTARY_KAFKA_TLS_CERT_FILE", value_name = "PATH")]
    pub kafka_tls_cert_file: Option<PathBuf>,
    /// Client private key for mutual TLS: `file:/path` or `env:NAME` (PEM text).
    #[arg(long, env = "TRIBUTARY_KAFKA_TLS_KEY", value_name = "REF")]
    pub kafka_tls_key: Option<String>,
    /// Password of an encrypted client key: `env:NAME` or `file:/path`.
    #[arg(long, env = "TRIBUTARY_KAFKA_TLS_KEY_PASSWORD", value_name = "REF")]
    pub kafka_tls_key_password: Option<String>,
    /// Do not check that the broker's certificate names the host (self-signed test
    /// clusters only).
    #[arg(long, env = "TRIBUTARY_KAFKA_TLS_NO_VERIFY_HOSTNAME")]
    pub kafka_tls_no_verify_hostname: bool,
    /// SASL mechanism: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER or AWS_MSK_IAM.
    #[arg(
        long,
        env = "TRIBUTARY_KAFKA_SASL_MECHANISM",
        value_enum,
        ignore_case = true
    )]
    pub kafka_sasl_mechanism: Option<crate::kafka::SaslMechanism>,
    /// SASL user (PLAIN, SCRAM).
    #[arg(long, env = "TRIBUTARY_KAFKA_SASL_USERNAME")]
    pub kafka_sasl_username: Option<String>,
    /// SASL password (PLAIN, SCRAM): `env:NAME` or `file:/path`.
    #[arg(long, env = "TRIBUTARY_KAFKA_SASL_PASSWORD", value_name = "REF")]
    pub kafka_sasl_password: Option<String>,
    /// OIDC token endpoint for OAUTHBEARER (client-credentials grant).
    #[arg(long, env = "TRIBUTARY_KAFKA_OAUTH_TOKEN_ENDPOINT", value_name = "URL")]
    pub kafka_oauth_token_endpoint: Option<String>,
    /// OIDC client id.
    #[arg(long, env = "TRIBUTARY_KAFKA_OAUTH_CLIENT_ID")]
    pub kafka_oauth_client_id: Option<String>,
    /// OIDC client secret: `env:NAME` or `file:/path`.
    #[arg(long, env = "TRIBUTARY_KAFKA_OAUTH_CLIENT_SECRET", value_name = "REF")]
    pub kafka_oauth_client_secret: Option<String>,
    /// OIDC scope.
    #[arg(long, env = "TRIBUTARY_KAFKA_OAUTH_SCOPE")]
    pub kafka_oauth_scope: Option<String>,
    /// AWS region of the MSK cluster (AWS_MSK_IAM).
    #[arg(long, env = "AWS_REGION")]
    pub kafka_aws_region: Option<String>,
    /// Any librdkafka property, `key=value` (repeatable), as kcat's -X; properties
    /// Tributary's guarantees rest on are refused, secret ones take references.
    #[arg(short = 'X', long = "kafka-property", value_name = "KEY=VALUE")]
    pub kafka_properties: Vec<String>,
    /// The settings file's `[kafka]` table (applied before `-X`).
    #[arg(long = "kafka-file-property", hide = true)]
    pub kafka_file_properties: Vec<String>,
}

impl KafkaArgs {
    /// The validated connection these flags describe.
    pub fn connection(&self) -> Result<crate::kafka::Connection, crate::kafka::KafkaConfigError> {
        crate::kafka::Connection::new(
            &self.brokers,
            crate::kafka::SecurityInput {
                protocol: self.kafka_security_protocol,
                ca_file: self.kafka_tls_ca_file.clone(),
                cert_file: self.kafka_tls_cert_file.clone(),
                key: self.kafka_tls_key.clone(),
                key_password: self.kafka_tls_key_password.clone(),
                no_verify_hostname: self.kafka_tls_no_verify_hostname,
                sasl_mechanism: self.kafka_sasl_mechanism,
                sasl_username: self.kafka_sasl_username.clone(),
                sasl_password: self.kafka_sasl_password.clone(),
                oauth_token_endpoint: self.kafka_oauth_token_endpoint.clone(),
                oauth_client_id: self.kafka_oauth_client_id.clone(),
                oauth_client_secret: self.kafka_oauth_client_secret.clone(),
                oauth_scope: self.kafka_oauth_scope.clone(),
                aws_region: self.kafka_aws_region.clone(),
                properties: self
                    .kafka_file_properties
                    .iter()
                    .chain(&self.kafka_properties)
                    .cloned()
                    .collect(),
            },
        )
    }
}

/// Every visible option of `cmd` and its subcommands that has no help line, as
/// `command --flag` (for the binaries' tests: every option explains itself).
pub fn options_without_help(cmd: &clap::Command) -> Vec<String> {
    fn walk(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
        let path = format!("{path} {}", cmd.get_name());
        for a in cmd.get_arguments() {
            if a.is_hide_set() || a.get_id() == "help" || a.get_id() == "version" {
                continue;
            }
            if a.get_help().is_none() && a.get_long_help().is_none() {
                out.push(format!(
                    "{path} --{}",
                    a.get_long().unwrap_or(a.get_id().as_str())
                ));
            }
        }
        for s in cmd.get_subcommands() {
            walk(s, &path, out);
        }
    }
    let mut out = Vec::new();
    walk(cmd, "", &mut out);
    out
}

/// Shells `completions` writes a script for.
pub use clap_complete::Shell;

/// Flags of `completions`.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The `completions` command: prints `cmd`'s completion script for `shell` (install it
/// where the shell looks, e.g. `tributary-consumer completions bash >
/// /etc/bash_completion.d/tributary-consumer`).
pub fn print_completions(
    mut cmd: clap::Command,
    shell: Shell,
) -> std::io::Result<std::process::ExitCode> {
    let name = cmd.get_name().to_owned();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, name, &mut out);
    crate::print_stdout(&String::from_utf8_lossy(&out))?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// The `man` command: prints `cmd`'s man page (roff): `tributary-consumer man >
/// tributary-consumer.1`.
pub fn print_man(cmd: clap::Command) -> std::io::Result<std::process::ExitCode> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut out)?;
    crate::print_stdout(&String::from_utf8_lossy(&out))?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// The commands both binaries have that are not about their work: flattened into each
/// binary's own command enum and run by [`ToolCommand::run`].
#[derive(Debug, Subcommand)]
pub enum ToolCommand {
    /// Ask a running daemon's /healthz (or /readyz) on this host: exit 0 when it
    /// answers 200. For container health checks in images without a shell or curl.
    Healthcheck(crate::HealthcheckArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Print the man page (roff).
    Man,
}

impl ToolCommand {
    /// Runs the command for the binary whose whole command line is `cmd`.
    pub async fn run(self, cmd: clap::Command) -> std::io::Result<std::process::ExitCode> {
        match self {
            ToolCommand::Healthcheck(args) => Ok(crate::healthcheck(&args).await),
            ToolCommand::Completions(args) => print_completions(cmd, args.shell),
            ToolCommand::Man => print_man(cmd),
        }
    }
}
