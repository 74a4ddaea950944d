//! v2 index events: `index_project_requested` (a batch of files) and
//! `index_run_completed` (the run's manifest).
//!
//! File entries travel in a lenient wire form, [`WireFile`], so that one bad file in a
//! batch is rejected on its own (to the dead-letter topic) while the others proceed;
//! [`WireFile::validate`] turns one into the typed [`FileSpec`].

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::checksum::Sha256Hex;
use crate::error::{InvalidEvent, InvalidFile};
use crate::path::RelPath;

/// The v2 minor version written: 2.1 added `replayed`, 2.2 the completion event's `cost`.
pub const V2_SCHEMA_VERSION: &str = "2.4.0";
pub const EVENT_INDEX_PROJECT_REQUESTED: &str = "index_project_requested";
pub const EVENT_INDEX_RUN_COMPLETED: &str = "index_run_completed";

/// How a file's bytes travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentStrategy {
    Inline,
    ObjectStorage,
    GitReference,
}

impl ContentStrategy {
    pub const ALL: [ContentStrategy; 3] = [
        ContentStrategy::Inline,
        ContentStrategy::ObjectStorage,
        ContentStrategy::GitReference,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ContentStrategy::Inline => "inline",
            ContentStrategy::ObjectStorage => "object_storage",
            ContentStrategy::GitReference => "git_reference",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for ContentStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How inline content is encoded in the JSON string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ContentEncoding {
    /// The file is valid UTF-8 and travels as is.
    #[serde(rename = "utf-8")]
    Utf8,
    /// Anything else (binary, Latin-1, invalid UTF-8): standard base64 with padding.
    #[serde(rename = "base64")]
    Base64,
}

impl ContentEncoding {
    pub fn as_str(self) -> &'static str {
        match self {
            ContentEncoding::Utf8 => "utf-8",
            ContentEncoding::Base64 => "base64",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "utf-8" => Some(ContentEncoding::Utf8),
            "base64" => Some(ContentEncoding::Base64),
            _ => None,
        }
    }
}

/// The inline codec, one half each side of the wire: valid UTF-8 travels as is;
/// anything else (binary, Latin-1, invalid UTF-8) as standard padded base64.
/// [`decode_inline`] gives back the exact bytes.
pub fn encode_inline(bytes: &[u8]) -> (String, ContentEncoding) {
    use base64::Engine as _;
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_owned(), ContentEncoding::Utf8),
        Err(_) => (
            base64::engine::general_purpose::STANDARD.encode(bytes),
            ContentEncoding::Base64,
        ),
    }
}

/// The bytes of inline content, the inverse of [`encode_inline`].
pub fn decode_inline(
    content: &str,
    encoding: ContentEncoding,
) -> Result<Vec<u8>, base64::DecodeError> {
    use base64::Engine as _;
    match encoding {
        ContentEncoding::Utf8 => Ok(content.as_bytes().to_vec()),
        ContentEncoding::Base64 => base64::engine::general_purpose::STANDARD.decode(content),
    }
}

/// What happened to a file in an incremental run; full runs leave it out (`present`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    #[default]
    Present,
    Added,
    Modified,
    Deleted,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Present => "present",
            Change::Added => "added",
            Change::Modified => "modified",
            Change::Deleted => "deleted",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            Change::Present,
            Change::Added,
            Change::Modified,
            Change::Deleted,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

/// Where the indexed files came from.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Source {
    /// The local folder that was walked (local sources only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
    /// The repository URL (git sources). Never carries credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_url: Option<String>,
    /// The full commit SHA the files were read at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_ref: Option<String>,
    /// The branch the commit was resolved from, when one was named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_branch: Option<String>,
}

/// A reference to a secret, resolved by whoever uses it: never the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum CredentialRef {
    /// `env:NAME`: the environment variable NAME of the fetching process.
    Env(String),
    /// `file:/path`: a file on the fetching machine.
    File(String),
    /// `aws-sm:ID[#KEY]`: an AWS Secrets Manager secret (name or ARN), or one key of a
    /// secret holding a JSON object. Configuration only: events never name one.
    AwsSecretsManager { id: String, key: Option<String> },
}

impl CredentialRef {
    /// Whether an event may carry this reference as a credential's name (`env:`,
    /// `file:`; a secret manager's references are for configuration only).
    pub fn is_wire_name(&self) -> bool {
        matches!(self, CredentialRef::Env(_) | CredentialRef::File(_))
    }
}

impl TryFrom<String> for CredentialRef {
    type Error = InvalidEvent;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        if let Some(name) = s.strip_prefix("env:") {
            let ok = !name.is_empty()
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !name.as_bytes()[0].is_ascii_digit();
            if ok {
                return Ok(CredentialRef::Env(name.to_owned()));
            }
        } else if let Some(path) = s.strip_prefix("file:")
            && path.starts_with('/')
            && !path.contains('\0')
        {
            return Ok(CredentialRef::File(path.to_owned()));
        } else if let Some(rest) = s.strip_prefix("aws-sm:") {
            let (id, key) = match rest.split_once('#') {
                Some((id, key)) => (id, Some(key)),
                None => (rest, None),
            };
            // secret names and ARNs: letters, digits and /_+=.@:- (AWS's own set)
            let id_ok = (1..=2048).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/_+=.@:-".contains(&b));
            let key_ok = key.is_none_or(|k| {
                (1..=256).contains(&k.len())
                    && k.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
            });
            if id_ok && key_ok {
                return Ok(CredentialRef::AwsSecretsManager {
                    id: id.to_owned(),
                    key: key.map(str::to_owned),
                });
            }
        }
        Err(InvalidEvent::BadCredentialRef)
    }
}

impl From<CredentialRef> for String {
    fn from(c: CredentialRef) -> String {
        match c {
            CredentialRef::Env(n) => format!("env:{n}"),
            CredentialRef::File(p) => format!("file:{p}"),
            CredentialRef::AwsSecretsManager { id, key: None } => format!("aws-sm:{id}"),
            CredentialRef::AwsSecretsManager { id, key: Some(k) } => format!("aws-sm:{id}#{k}"),
        }
    }
}

/// `index_project_requested`: one batch of a run's files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexProjectRequested {
    pub schema_version: String,
    pub event_type: String,
    pub event_id: Uuid,
    pub run_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    pub project: String,
    pub source: Source,
    /// `env:NAME` or `file:/path` (see [`CredentialRef`]); checked by
    /// [`IndexProjectRequested::validate_envelope`], read with
    /// [`IndexProjectRequested::credentials`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_credentials: Option<String>,
    /// Sequence number of this batch within the run, from 0.
    pub batch: u32,
    pub files: Vec<WireFile>,
}

/// A file entry as it is on the wire: every field optional so that a bad entry can be
/// rejected alone. Use [`WireFile::validate`] to get a [`FileSpec`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WireFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_strategy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_url_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_ref: Option<String>,
    /// The repository's `.gitattributes` overrides of Linguist's detection for this
    /// file (since 2.3). Kept as JSON here, so that a bad value rejects this entry
    /// alone, not the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linguist: Option<serde_json::Value>,
    /// What the repository's history says of this file (since 2.4). Kept as JSON here,
    /// so that a bad value rejects this entry alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<serde_json::Value>,
}

/// A validated file entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSpec {
    pub path: RelPath,
    pub change: Change,
    /// `None` for deleted files, which carry no content.
    pub body: Option<FileBody>,
    /// What the repository's `.gitattributes` say about this file's language and kind.
    pub linguist: Linguist,
    /// What the publisher knows of the file's history; `None` for folders, shallow
    /// clones and runs with history off.
    pub history: Option<FileHistory>,
}

/// A file's history as the publisher folds it from the repository's tree deltas
/// (since 2.4): commits that changed the file within a window of days before the
/// indexed commit, and the last commit that changed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileHistory {
    /// Commits within the window that changed the file (as `git log --since` counts:
    /// merges change nothing of their own).
    pub commits: u32,
    /// The window, in days before the indexed commit's commit time.
    pub window_days: u32,
    /// The newest commit that changed the file; absent when no commit the publisher
    /// read did (past its bound).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_commit: Option<String>,
    /// That commit's commit time.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub last_changed_at: Option<OffsetDateTime>,
}

impl FileHistory {
    fn from_wire(v: &serde_json::Value) -> Result<Self, InvalidFile> {
        let h: FileHistory =
            serde_json::from_value(v.clone()).map_err(|e| InvalidFile::History(e.to_string()))?;
        if h.last_commit.as_deref().is_some_and(|c| !is_commit_sha(c)) {
            return Err(InvalidFile::History(
                "last_commit must be a full commit SHA".into(),
            ));
        }
        if h.window_days == 0 || h.window_days > 36_600 {
            return Err(InvalidFile::History(
                "window_days must be 1 to 36600".into(),
            ));
        }
        Ok(h)
    }
}

/// Longest `linguist-language` value accepted (Linguist's longest name is far shorter).
pub const MAX_LANGUAGE_NAME: usize = 100;

/// GitHub Linguist's overrides in `.gitattributes` (`linguist-language=Perl`,
/// `linguist-vendored`, `-linguist-generated`, `linguist-documentation`), as the
/// publisher read them with the tree; `None` where the attributes say nothing. Unknown
/// keys are ignored (later versions may add some).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Linguist {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendored: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documentation: Option<bool>,
}

impl Linguist {
    /// Whether the attributes say nothing.
    pub fn is_empty(&self) -> bool {
        *self == Linguist::default()
    }

    /// The overrides as one short string, for cache keys: a change of attributes is a
    /// change of analysis.
    pub fn key(&self) -> String {
        let b = |v: Option<bool>| match v {
            None => '-',
            Some(true) => '1',
            Some(false) => '0',
        };
        format!(
            "{}{}{}|{}",
            b(self.vendored),
            b(self.generated),
            b(self.documentation),
            self.language.as_deref().unwrap_or("")
        )
    }

    fn from_wire(v: &serde_json::Value) -> Result<Self, InvalidFile> {
        let l: Linguist =
            serde_json::from_value(v.clone()).map_err(|e| InvalidFile::Linguist(e.to_string()))?;
        if let Some(lang) = &l.language
            && (lang.is_empty()
                || lang.chars().count() > MAX_LANGUAGE_NAME
                || lang.chars().any(char::is_control))
        {
            return Err(InvalidFile::Linguist(format!(
                "language must be 1 to {MAX_LANGUAGE_NAME} printable characters"
            )));
        }
        Ok(l)
    }
}

/// A present file: its size, checksum and where its bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileBody {
    pub size: u64,
    pub checksum: Sha256Hex,
    pub content: ContentRef,
}

/// `content_url_type` of a SigV4 presigned GET (S3 and S3-compatible stores).
pub const CONTENT_URL_TYPE_S3_PRESIGNED: &str = "s3_presigned";

/// Where a file's bytes are.
#[derive(Clone, PartialEq, Eq)]
pub enum ContentRef {
    Inline {
        content: String,
        encoding: ContentEncoding,
    },
    ObjectStorage {
        object_key: String,
        /// A presigned GET URL; only followed when its host is the configured endpoint.
        content_url: Option<String>,
        content_url_type: Option<String>,
        expires_at: Option<OffsetDateTime>,
    },
    GitReference {
        git_url: String,
        git_ref: String,
    },
}

impl fmt::Debug for ContentRef {
    // Content can be large and a presigned URL is a bearer credential: neither is printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContentRef::Inline { content, encoding } => f
                .debug_struct("Inline")
                .field("len", &content.len())
                .field("encoding", encoding)
                .finish(),
            ContentRef::ObjectStorage {
                object_key,
                content_url,
                expires_at,
                ..
            } => f
                .debug_struct("ObjectStorage")
                .field("object_key", object_key)
                .field("content_url", &content_url.as_ref().map(|_| "<redacted>"))
                .field("expires_at", expires_at)
                .finish(),
            ContentRef::GitReference { git_url, git_ref } => f
                .debug_struct("GitReference")
                .field("git_url", git_url)
                .field("git_ref", git_ref)
                .finish(),
        }
    }
}

impl ContentRef {
    pub fn strategy(&self) -> ContentStrategy {
        match self {
            ContentRef::Inline { .. } => ContentStrategy::Inline,
            ContentRef::ObjectStorage { .. } => ContentStrategy::ObjectStorage,
            ContentRef::GitReference { .. } => ContentStrategy::GitReference,
        }
    }
}

/// Whether `s` is a full commit SHA (SHA-1: 40 hex, SHA-256 repositories: 64 hex).
pub fn is_commit_sha(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether a URL carries a password in its userinfo (`https://user:secret@host/...`).
/// A bare user name (`ssh://git@host/...`) is not a secret and is allowed.
pub fn url_has_password(url: &str) -> bool {
    let Some((_, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    match authority.rsplit_once('@') {
        Some((userinfo, _)) => userinfo.contains(':'),
        None => false,
    }
}

/// Whether an object key is acceptable: relative, no `..` segment, no control bytes.
pub fn is_valid_object_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 1024
        && !key.starts_with('/')
        && !key
            .split('/')
            .any(|c| c == ".." || c == "." || c.is_empty())
        && !key.bytes().any(|b| b.is_ascii_control())
}

fn required<'a>(
    v: &'a Option<String>,
    strategy: &'static str,
    field: &'static str,
) -> Result<&'a str, InvalidFile> {
    v.as_deref()
        .ok_or(InvalidFile::MissingField { strategy, field })
}

impl WireFile {
    /// Checks this entry against the contract and returns its typed form.
    pub fn validate(&self) -> Result<FileSpec, InvalidFile> {
        let raw_path = self.path.as_deref().ok_or(InvalidFile::MissingPath)?;
        let path = RelPath::new(raw_path).map_err(|error| InvalidFile::Path {
            path: raw_path.to_owned(),
            error,
        })?;
        let change = match self.change.as_deref() {
            None => Change::Present,
            Some(c) => Change::parse(c).ok_or_else(|| InvalidFile::UnknownChange(c.to_owned()))?,
        };
        if change == Change::Deleted {
            return Ok(FileSpec {
                path,
                change,
                body: None,
                linguist: Linguist::default(),
                history: None,
            });
        }
        let linguist = match &self.linguist {
            None => Linguist::default(),
            Some(v) => Linguist::from_wire(v)?,
        };
        let history = self
            .history
            .as_ref()
            .map(FileHistory::from_wire)
            .transpose()?;
        let checksum = self
            .checksum
            .as_deref()
            .ok_or(InvalidFile::MissingChecksum)?
            .parse::<Sha256Hex>()
            .map_err(InvalidFile::Checksum)?;
        let size = self.size.ok_or(InvalidFile::MissingSize)?;
        let strategy = self
            .content_strategy
            .as_deref()
            .ok_or(InvalidFile::MissingStrategy)?;
        let content = match ContentStrategy::parse(strategy) {
            None => return Err(InvalidFile::UnknownStrategy(strategy.to_owned())),
            Some(ContentStrategy::Inline) => {
                let content = required(&self.content, "inline", "content")?.to_owned();
                let enc = required(&self.content_encoding, "inline", "content_encoding")?;
                let encoding = ContentEncoding::parse(enc)
                    .ok_or_else(|| InvalidFile::UnknownEncoding(enc.to_owned()))?;
                ContentRef::Inline { content, encoding }
            }
            Some(ContentStrategy::ObjectStorage) => {
                let key = required(&self.object_key, "object_storage", "object_key")?;
                if !is_valid_object_key(key) {
                    return Err(InvalidFile::BadObjectKey(key.to_owned()));
                }
                if self.content_url.as_deref().is_some_and(url_has_password) {
                    return Err(InvalidFile::CredentialsInUrl);
                }
                // An unreadable expiry is treated as already expired: the consumer then
                // uses the key with its own credentials, which is always safe.
                let expires_at = self.expires_at.as_deref().map(|s| {
                    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
                });
                ContentRef::ObjectStorage {
                    object_key: key.to_owned(),
                    content_url: self.content_url.clone(),
                    content_url_type: self.content_url_type.clone(),
                    expires_at,
                }
            }
            Some(ContentStrategy::GitReference) => {
                let git_url = required(&self.git_url, "git_reference", "git_url")?;
                let git_ref = required(&self.git_ref, "git_reference", "git_ref")?;
                if url_has_password(git_url) {
                    return Err(InvalidFile::CredentialsInUrl);
                }
                if !is_commit_sha(git_ref) {
                    return Err(InvalidFile::BadCommit(git_ref.to_owned()));
                }
                ContentRef::GitReference {
                    git_url: git_url.to_owned(),
                    git_ref: git_ref.to_owned(),
                }
            }
        };
        Ok(FileSpec {
            path,
            change,
            body: Some(FileBody {
                size,
                checksum,
                content,
            }),
            linguist,
            history,
        })
    }
}

impl From<&FileSpec> for WireFile {
    fn from(spec: &FileSpec) -> Self {
        let mut w = WireFile {
            path: Some(spec.path.as_str().to_owned()),
            change: (spec.change != Change::Present).then(|| spec.change.as_str().to_owned()),
            ..WireFile::default()
        };
        let Some(body) = &spec.body else { return w };
        if !spec.linguist.is_empty() {
            w.linguist = serde_json::to_value(&spec.linguist).ok();
        }
        w.history = spec
            .history
            .as_ref()
            .and_then(|h| serde_json::to_value(h).ok());
        w.size = Some(body.size);
        w.checksum = Some(body.checksum.to_string());
        w.content_strategy = Some(body.content.strategy().as_str().to_owned());
        match &body.content {
            ContentRef::Inline { content, encoding } => {
                w.content = Some(content.clone());
                w.content_encoding = Some(encoding.as_str().to_owned());
            }
            ContentRef::ObjectStorage {
                object_key,
                content_url,
                content_url_type,
                expires_at,
            } => {
                w.object_key = Some(object_key.clone());
                w.content_url = content_url.clone();
                w.content_url_type = content_url_type.clone();
                w.expires_at = expires_at.and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                });
            }
            ContentRef::GitReference { git_url, git_ref } => {
                w.git_url = Some(git_url.clone());
                w.git_ref = Some(git_ref.clone());
            }
        }
        w
    }
}

impl IndexProjectRequested {
    /// Checks the envelope (not the files: see [`WireFile::validate`]).
    pub fn validate_envelope(&self) -> Result<(), InvalidEvent> {
        check_project(&self.project)?;
        check_source(&self.source)?;
        self.credential_name()?;
        if self.files.is_empty() {
            return Err(InvalidEvent::NoFiles);
        }
        Ok(())
    }
}

impl IndexProjectRequested {
    /// The name of the credential the event asks fetchers to use, if any: a reference
    /// string (`env:NAME`, `file:/path`: names publishers used before 1.2 and still use
    /// by default) or `cred:NAME` (a name the fetching side binds), returned without
    /// its `cred:` prefix. Anything else — a token pasted in its place — is refused.
    pub fn credential_name(&self) -> Result<Option<&str>, InvalidEvent> {
        let Some(v) = self.git_credentials.as_deref() else {
            return Ok(None);
        };
        if let Some(name) = v.strip_prefix(CREDENTIAL_NAME_PREFIX) {
            return is_credential_name(name)
                .then_some(Some(name))
                .ok_or(InvalidEvent::BadCredentialRef);
        }
        match CredentialRef::try_from(v.to_owned()) {
            Ok(r) if r.is_wire_name() => Ok(Some(v)),
            _ => Err(InvalidEvent::BadCredentialRef),
        }
    }
}

/// The prefix of a credential name on the wire (`cred:corp-ssh`).
pub const CREDENTIAL_NAME_PREFIX: &str = "cred:";

/// Whether `name` may name a credential: 1 to 128 of `A-Z a-z 0-9 . _ -`, starting with
/// a letter or digit.
pub fn is_credential_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// How a credential name travels in events: a reference string as it is, a plain name
/// as `cred:NAME`.
pub fn credential_name_on_wire(name: &str) -> String {
    if CredentialRef::try_from(name.to_owned()).is_ok_and(|r| r.is_wire_name()) {
        name.to_owned()
    } else {
        format!("{CREDENTIAL_NAME_PREFIX}{name}")
    }
}

fn check_project(project: &str) -> Result<(), InvalidEvent> {
    crate::ProjectName::check(project).map_err(|e| match e {
        crate::project::ProjectNameError::Empty => InvalidEvent::EmptyProject,
        crate::project::ProjectNameError::Invalid => InvalidEvent::BadProject,
    })
}

fn check_source(source: &Source) -> Result<(), InvalidEvent> {
    if let Some(r) = &source.git_ref
        && !is_commit_sha(r)
    {
        return Err(InvalidEvent::BadCommit(r.clone()));
    }
    if source.git_url.as_deref().is_some_and(url_has_password) {
        return Err(InvalidEvent::CredentialsInUrl);
    }
    Ok(())
}

/// Files and bytes per content strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StrategyCounts {
    pub inline: u64,
    pub object_storage: u64,
    pub git_reference: u64,
}

impl StrategyCounts {
    pub fn total(&self) -> u64 {
        self.inline + self.object_storage + self.git_reference
    }

    pub fn add(&mut self, strategy: ContentStrategy, n: u64) {
        match strategy {
            ContentStrategy::Inline => self.inline += n,
            ContentStrategy::ObjectStorage => self.object_storage += n,
            ContentStrategy::GitReference => self.git_reference += n,
        }
    }
}

/// A file the publisher did not emit, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedFile {
    pub path: String,
    pub reason: String,
}

/// `index_run_completed`: the manifest of a finished run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexRunCompleted {
    pub schema_version: String,
    pub event_type: String,
    pub event_id: Uuid,
    pub run_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    pub project: String,
    pub source: Source,
    /// Number of `index_project_requested` batches the run produced.
    pub batches: u32,
    /// Files emitted, by strategy (deleted files are counted in `deleted`).
    pub files: StrategyCounts,
    /// Raw bytes of the emitted files, by strategy.
    pub bytes: StrategyCounts,
    #[serde(default)]
    pub deleted: u64,
    /// Total files skipped; `skipped` lists the first of them (bounded).
    #[serde(default)]
    pub skipped_total: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<SkippedFile>,
    /// Skipped files by reason code.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub skipped_by_reason: BTreeMap<String, u64>,
    /// The commit the run indexed, for git sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Re-published by `dlq replay` after some of the run's files were: its summary is
    /// built again, once those files have documents (or the summary wait ends).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replayed: bool,
    /// What the run cost the publisher, under the named price table (since 2.2; the
    /// completion event's own bytes are not in it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<crate::cost::RunCost>,
    /// The portfolio run this run belongs to: several repositories published together
    /// under one id (since 2.3; absent: a portfolio of this run alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portfolio_id: Option<Uuid>,
}

impl IndexRunCompleted {
    pub fn validate_envelope(&self) -> Result<(), InvalidEvent> {
        check_project(&self.project)?;
        check_source(&self.source)?;
        if let Some(c) = &self.commit
            && !is_commit_sha(c)
        {
            return Err(InvalidEvent::BadCommit(c.clone()));
        }
        Ok(())
    }
}
