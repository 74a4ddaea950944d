//! The settings file (`--config`, TOML): every setting a flag holds, under the flag's
//! name, plus a `[kafka]` table of librdkafka properties. Read before the flags are
//! parsed and handed to clap as *defaults*, so precedence is clap's own: flags, then
//! environment variables, then the file, then the built-in defaults.
//!
//! ```toml
//! brokers = "b-1.example:9096"
//! kafka_sasl_mechanism = "SCRAM-SHA-512"
//! kafka_sasl_username = "tributary"
//! kafka_sasl_password = "file:/var/run/secrets/kafka/password"
//! storage_provider = "s3"
//! exclude = ["vendor/*", "*.min.js"]
//!
//! [kafka]
//! "client.id" = "tributary-prod"
//! "socket.keepalive.enable" = true
//! ```
//!
//! A key no command of the binary knows is an error naming it (a typo must not be
//! silently ignored); a key some other subcommand knows is fine (one file can serve
//! `publish` and `watch`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::{ArgMatches, Command, CommandFactory, FromArgMatches};

/// The flag and the environment variable that name the settings file.
pub const CONFIG_FLAG: &str = "config";
pub const CONFIG_ENV: &str = "TRIBUTARY_CONFIG";
/// The hidden argument the `[kafka]` table feeds (merged before `-X`).
pub const KAFKA_FILE_PROPERTIES: &str = "kafka_file_properties";

/// Why the settings file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    #[error("--config {}: cannot read it: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("--config {}: not valid TOML: {message}", path.display())]
    Syntax { path: PathBuf, message: String },
    #[error("--config {}: unknown setting `{key}` (settings are named as their flags, e.g. `brokers`, `kafka_sasl_mechanism`)", path.display())]
    Unknown { path: PathBuf, key: String },
    #[error("--config {}: `{key}` must be a string, number, boolean or a list of them", path.display())]
    Type { path: PathBuf, key: String },
    #[error("--config {}: `{key}` is a secret and takes a reference (`env:NAME` or `file:/path`)", path.display())]
    NotAReference { path: PathBuf, key: String },
}

/// Where the settings file is: `--config PATH` / `--config=PATH` on the command line,
/// else `$TRIBUTARY_CONFIG` (read from `env`, which the binary passes in).
pub fn locate(args: &[OsString], env: Option<OsString>) -> Option<PathBuf> {
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        let s = a.to_string_lossy();
        if s == "--" {
            break;
        }
        if s == "--config" {
            return it.next().map(PathBuf::from);
        }
        if let Some(v) = s.strip_prefix("--config=") {
            return Some(PathBuf::from(v));
        }
    }
    env.filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// Parses the command line as `C`, with the settings file's values as defaults.
pub fn parse<C: CommandFactory + FromArgMatches>(
    args: Vec<OsString>,
    env: Option<OsString>,
) -> Result<C, ParseError> {
    let mut cmd = C::command();
    if let Some(path) = locate(&args, env) {
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigFileError::Read {
            path: path.clone(),
            source,
        })?;
        cmd = apply(cmd, &path, &text)?;
    }
    let matches: ArgMatches = cmd.try_get_matches_from(args)?;
    Ok(C::from_arg_matches(&matches)?)
}

/// A failed parse: the file's fault, or clap's (help and version included).
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error(transparent)]
    File(#[from] ConfigFileError),
    #[error(transparent)]
    Clap(#[from] clap::Error),
}

impl ParseError {
    /// Prints the error (or the help) and gives the exit code: clap's own (0 for
    /// `--help`, 2 for a usage error), 2 for the file.
    pub fn exit(self) -> ! {
        match self {
            ParseError::Clap(e) => e.exit(),
            ParseError::File(e) => {
                eprintln!("error: {e}");
                std::process::exit(2)
            }
        }
    }
}

/// Secret settings: a file is as readable as a command line is visible, so their values
/// must be references there too.
const SECRET_KEYS: &[&str] = &["storage_secret_access_key"];

/// `cmd` with the file's values as defaults of the arguments they name.
pub fn apply(cmd: Command, path: &Path, text: &str) -> Result<Command, ConfigFileError> {
    let table: toml::Table =
        text.parse()
            .map_err(|e: toml::de::Error| ConfigFileError::Syntax {
                path: path.to_owned(),
                message: e.message().to_owned(),
            })?;
    let mut cmd = cmd;
    for (key, value) in &table {
        if key == "kafka" {
            let Some(props) = value.as_table() else {
                return Err(ConfigFileError::Type {
                    path: path.to_owned(),
                    key: key.clone(),
                });
            };
            let mut pairs = Vec::new();
            for (k, v) in props {
                let v = scalar(v).ok_or_else(|| ConfigFileError::Type {
                    path: path.to_owned(),
                    key: format!("kafka.{k}"),
                })?;
                pairs.push(format!("{k}={v}"));
            }
            let (c, found) = set_default(cmd, KAFKA_FILE_PROPERTIES, &pairs);
            cmd = c;
            if !found {
                return Err(ConfigFileError::Unknown {
                    path: path.to_owned(),
                    key: key.clone(),
                });
            }
            continue;
        }
        let id = key.replace('-', "_");
        let values: Vec<String> = match value {
            toml::Value::Array(items) => items
                .iter()
                .map(scalar)
                .collect::<Option<_>>()
                .ok_or_else(|| ConfigFileError::Type {
                    path: path.to_owned(),
                    key: key.clone(),
                })?,
            v => vec![scalar(v).ok_or_else(|| ConfigFileError::Type {
                path: path.to_owned(),
                key: key.clone(),
            })?],
        };
        if SECRET_KEYS.contains(&id.as_str())
            && values
                .iter()
                .any(|v| !(v.starts_with("env:") || v.starts_with("file:")))
        {
            return Err(ConfigFileError::NotAReference {
                path: path.to_owned(),
                key: key.clone(),
            });
        }
        let (c, found) = set_default(cmd, &id, &values);
        cmd = c;
        if !found || id == CONFIG_FLAG {
            return Err(ConfigFileError::Unknown {
                path: path.to_owned(),
                key: key.clone(),
            });
        }
    }
    Ok(cmd)
}

fn scalar(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Sets `values` as the default of every argument `id` in `cmd` and its subcommands
/// (recursively); whether any had it.
fn set_default(cmd: Command, id: &str, values: &[String]) -> (Command, bool) {
    let mut found = cmd.get_arguments().any(|a| a.get_id() == id);
    let mut cmd = if found {
        let values: Vec<clap::builder::OsStr> = values
            .iter()
            .map(|v| clap::builder::OsStr::from(clap::builder::Str::from(v.clone())))
            .collect();
        cmd.mut_arg(id, move |a| a.default_values(values))
    } else {
        cmd
    };
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    for name in names {
        let mut sub_found = false;
        cmd = cmd.mut_subcommand(&name, |sub| {
            let (s, f) = set_default(sub, id, values);
            sub_found = f;
            s
        });
        found |= sub_found;
    }
    (cmd, found)
}
