//! Git credentials and SSH host keys, configured on the side that fetches.
//!
//! A credential is bound to the hosts it may be sent to; an event may only name one
//! (design brief: credentials are bound on the side that uses them). What a credential
//! is: an HTTPS token (`user:token`, or a bare token sent with the forge's conventional
//! user name), an SSH private key (by reference, with an optional passphrase by
//! reference), or the keys of the running ssh-agent. SSH host keys are checked against
//! a configured `known_hosts`; an unknown host is refused unless the operator said
//! otherwise. Secrets are resolved on this machine, offered once per operation (a
//! refusal is final: asking again would only send the secret again), and never
//! written anywhere: errors name references, never values.

use std::sync::{Arc, Mutex};

use tributary_events::v2::CredentialRef;

use super::known_hosts::{KnownHosts, Verdict};
use super::scheme_and_host;
use crate::error::ContentError;

/// What a configured credential is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitSecret {
    /// HTTPS basic authentication: the reference holds `user:token`, or a bare token sent
    /// as `user` (when given) or the host's conventional user ([`token_user`]).
    Token {
        reference: CredentialRef,
        user: Option<String>,
    },
    /// An SSH private key (OpenSSH or PEM format): `file:` names the key file, `env:`
    /// holds the key itself; an encrypted key's passphrase by reference.
    SshKey {
        key: CredentialRef,
        passphrase: Option<CredentialRef>,
    },
    /// The keys of the ssh-agent this process reaches (`SSH_AUTH_SOCK`).
    SshAgent,
}

impl std::str::FromStr for GitSecret {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl GitSecret {
    /// The name events carry for this credential unless another is configured: the
    /// token's or the key's reference (`env:GIT_TOKEN`, `file:/keys/id`), `ssh-agent`.
    pub fn default_name(&self) -> String {
        let of = |r: &CredentialRef| match r {
            // a secret manager's reference cannot travel: its id, made a plain name
            CredentialRef::AwsSecretsManager { id, .. } => {
                let plain: String = id
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || "._-".contains(c) {
                            c
                        } else {
                            '-'
                        }
                    })
                    .take(120)
                    .collect();
                format!("aws-sm-{plain}")
            }
            other => String::from(other.clone()),
        };
        match self {
            GitSecret::Token { reference, .. } => of(reference),
            GitSecret::SshKey { key, .. } => of(key),
            GitSecret::SshAgent => "ssh-agent".into(),
        }
    }

    /// `[token:]REF[;user=NAME]`, `ssh-key:REF[;passphrase=REF]` or `ssh-agent`.
    fn parse(spec: &str) -> Result<Self, String> {
        let mut parts = spec.split(';');
        let head = parts.next().unwrap_or_default();
        let mut options = Vec::new();
        for p in parts {
            let (k, v) = p
                .split_once('=')
                .ok_or_else(|| format!("option {p:?} is not KEY=VALUE"))?;
            options.push((k.trim(), v.trim()));
        }
        let reference = |r: &str| {
            CredentialRef::try_from(r.to_owned())
                .map_err(|_| format!("{r:?} is not a reference (env:VAR or file:/path)"))
        };
        let secret = if head == "ssh-agent" {
            if let Some((k, _)) = options.first() {
                return Err(format!("ssh-agent takes no option ({k})"));
            }
            GitSecret::SshAgent
        } else if let Some(key) = head.strip_prefix("ssh-key:") {
            let mut passphrase = None;
            for (k, v) in options {
                match k {
                    "passphrase" => passphrase = Some(reference(v)?),
                    _ => return Err(format!("ssh-key takes passphrase=REF, not {k}")),
                }
            }
            GitSecret::SshKey {
                key: reference(key)?,
                passphrase,
            }
        } else {
            let r = head.strip_prefix("token:").unwrap_or(head);
            let mut user = None;
            for (k, v) in options {
                match k {
                    "user" if !v.is_empty() && !v.contains(':') => user = Some(v.to_owned()),
                    "user" => return Err("user= needs a name without ':'".into()),
                    _ => return Err(format!("a token takes user=NAME, not {k}")),
                }
            }
            GitSecret::Token {
                reference: reference(r)?,
                user,
            }
        };
        Ok(secret)
    }

    /// The references this credential reads (for `check` and error messages).
    pub fn references(&self) -> Vec<&CredentialRef> {
        match self {
            GitSecret::Token { reference, .. } => vec![reference],
            GitSecret::SshKey { key, passphrase } => {
                std::iter::once(key).chain(passphrase.as_ref()).collect()
            }
            GitSecret::SshAgent => Vec::new(),
        }
    }
}

impl std::fmt::Display for GitSecret {
    /// The spec it was written as: references only, never a value.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GitSecret::Token { reference, user } => {
                write!(f, "{}", String::from(reference.clone()))?;
                if let Some(u) = user {
                    write!(f, ";user={u}")?;
                }
                Ok(())
            }
            GitSecret::SshKey { key, passphrase } => {
                write!(f, "ssh-key:{}", String::from(key.clone()))?;
                if let Some(p) = passphrase {
                    write!(f, ";passphrase={}", String::from(p.clone()))?;
                }
                Ok(())
            }
            GitSecret::SshAgent => f.write_str("ssh-agent"),
        }
    }
}

/// The user a bare token is sent as, by the forge's convention: GitHub and Gitea/Forgejo
/// take any user with a token (`x-access-token` is GitHub's documented one), GitLab
/// wants `oauth2` for OAuth and project tokens, Bitbucket Cloud `x-token-auth`.
pub fn token_user(host: &str) -> &'static str {
    let host = host.to_ascii_lowercase();
    let is = |domain: &str| host == domain || host.ends_with(&format!(".{domain}"));
    if is("gitlab.com") || host.starts_with("gitlab.") {
        "oauth2"
    } else if is("bitbucket.org") {
        "x-token-auth"
    } else {
        "x-access-token"
    }
}

/// A credential the fetching side is configured with: the name events use for it, what
/// it is, and the hosts it may be sent to.
///
/// Written `[NAME=]SECRET@HOST[,HOST...]`, SECRET as in [`GitSecret`]; NAME is a plain
/// name (`corp-ssh`, sent in events as `cred:corp-ssh`) or a reference string, and
/// defaults to [`GitSecret::default_name`] (so `env:GIT_TOKEN@github.com` is named
/// `env:GIT_TOKEN`, what a publisher configured with that reference puts in its events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialBinding {
    pub name: String,
    pub secret: GitSecret,
    pub hosts: Vec<String>,
}

impl std::str::FromStr for CredentialBinding {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let usage = "expected [NAME=]SECRET@HOST[,HOST...], SECRET one of env:VAR, file:/path \
                     (a token; ;user=NAME to set its user), ssh-key:REF[;passphrase=REF], ssh-agent";
        let (binding, hosts) = s
            .rsplit_once('@')
            .ok_or_else(|| format!("{usage}: no @HOST (a credential is always bound to hosts)"))?;
        // a name is what comes before the first '=', unless that '=' is an option's
        let (name, spec) = match binding.split_once('=') {
            Some((n, spec)) if !n.contains(';') => (Some(n), spec),
            _ => (None, binding),
        };
        let secret = GitSecret::parse(spec).map_err(|e| format!("{usage}: {e}"))?;
        let name = name.map_or_else(|| secret.default_name(), str::to_owned);
        if !is_name(&name) {
            return Err(format!(
                "{usage}: {name:?} cannot be named in an event (a name is 1-128 of A-Z a-z 0-9 . _ -, or env:VAR / file:/path)"
            ));
        }
        let hosts: Vec<String> = hosts
            .split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        if name.is_empty() || hosts.iter().any(|h| h.is_empty() || h.starts_with('-')) {
            return Err(format!("{usage}: empty name or host"));
        }
        Ok(Self {
            name,
            secret,
            hosts,
        })
    }
}

/// Whether an event can name a credential `name`: a plain name or a reference string.
pub fn is_name(name: &str) -> bool {
    tributary_events::v2::is_credential_name(name)
        || CredentialRef::try_from(name.to_owned()).is_ok_and(|r| r.is_wire_name())
}

/// The configured credentials, looked up by the name an event gives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialBindings(pub Vec<CredentialBinding>);

impl CredentialBindings {
    /// The credential for a fetch from `url`: the one `name` names, refused unless it is
    /// configured and bound to `url`'s host; with no name, the first bound to the host
    /// (the operator's choice for that host), if any.
    pub fn bind(&self, name: Option<&str>, url: &str) -> Result<Option<&GitSecret>, ContentError> {
        let host = scheme_and_host(url).map(|(_, h)| h).unwrap_or_default();
        let Some(name) = name else {
            return Ok(self
                .0
                .iter()
                .find(|b| b.hosts.contains(&host))
                .map(|b| &b.secret));
        };
        let binding =
            self.0
                .iter()
                .find(|b| b.name == name)
                .ok_or(ContentError::CredentialsRefused {
                    why: "the event names a credential this consumer is not configured with",
                })?;
        if !binding.hosts.contains(&host) {
            return Err(ContentError::CredentialsRefused {
                why: "the credential is not bound to the repository's host",
            });
        }
        Ok(Some(&binding.secret))
    }
}

/// How SSH servers' host keys are checked.
#[derive(Debug, Clone, Default)]
pub enum HostKeys {
    /// No `known_hosts` configured: every SSH server is refused, with a message that
    /// says how to configure one.
    #[default]
    NoneConfigured,
    /// Servers must present a key this file lists for them.
    Known(Arc<KnownHosts>),
    /// Any key is accepted (the operator asked for it explicitly; a warning at start).
    AcceptAny,
}

impl HostKeys {
    /// From the flags: a `known_hosts` by reference, or any key accepted (explicitly);
    /// neither means every SSH server is refused until one is configured.
    pub fn configure(
        known_hosts: Option<&CredentialRef>,
        accept_any: bool,
    ) -> Result<Self, ContentError> {
        match (known_hosts, accept_any) {
            (Some(_), true) => Err(ContentError::Config(
                "a known_hosts and accepting any host key exclude each other".into(),
            )),
            (Some(r), false) => Ok(HostKeys::Known(Arc::new(load_known_hosts(r)?))),
            (None, true) => Ok(HostKeys::AcceptAny),
            (None, false) => Ok(HostKeys::NoneConfigured),
        }
    }
}

/// What a git network operation authenticates with.
#[derive(Debug, Clone, Default)]
pub struct GitAuth {
    pub secret: Option<GitSecret>,
    pub host_keys: HostKeys,
}

/// The secret material of a credential, resolved for one operation.
enum Material {
    None,
    UserPass {
        user: String,
        pass: String,
    },
    KeyFile {
        path: std::path::PathBuf,
        passphrase: Option<String>,
    },
    KeyMemory {
        pem: String,
        passphrase: Option<String>,
    },
    Agent,
}

impl Material {
    fn resolve(secret: Option<&GitSecret>, host: &str) -> Result<Self, ContentError> {
        Ok(match secret {
            None => Material::None,
            Some(GitSecret::Token { reference, user }) => {
                let secret = resolve_secret(reference)?;
                match (secret.split_once(':'), user) {
                    (_, Some(u)) => Material::UserPass {
                        user: u.clone(),
                        pass: secret,
                    },
                    (Some((u, p)), None) => Material::UserPass {
                        user: u.to_owned(),
                        pass: p.to_owned(),
                    },
                    (None, None) => Material::UserPass {
                        user: token_user(host).to_owned(),
                        pass: secret,
                    },
                }
            }
            Some(GitSecret::SshKey { key, passphrase }) => {
                let passphrase = passphrase.as_ref().map(resolve_secret).transpose()?;
                match key {
                    CredentialRef::File(path) => {
                        // read now so a missing key is a clear error, not libssh2's
                        std::fs::metadata(path).map_err(|e| {
                            ContentError::Credentials(format!("file:{path} ({})", e.kind()))
                        })?;
                        Material::KeyFile {
                            path: path.into(),
                            passphrase,
                        }
                    }
                    CredentialRef::Env(_) | CredentialRef::AwsSecretsManager { .. } => {
                        Material::KeyMemory {
                            pem: resolve_secret(key)? + "\n",
                            passphrase,
                        }
                    }
                }
            }
            Some(GitSecret::SshAgent) => Material::Agent,
        })
    }
}

/// The port an SSH URL connects to (22 unless `ssh://host:port/`).
fn ssh_port(url: &str) -> u16 {
    url.split_once("://")
        .and_then(|(_, rest)| {
            let authority = rest.split('/').next()?;
            let host_port = authority.rsplit('@').next()?;
            let port = match host_port.strip_prefix('[') {
                Some(v6) => v6.split_once("]:")?.1,
                None => host_port.rsplit_once(':')?.1,
            };
            port.parse().ok()
        })
        .unwrap_or(22)
}

/// Why the host-key check refused a server, kept for the error: libgit2 replaces a
/// callback's message with its own ("invalid or unknown remote ssh hostkey").
#[derive(Debug, Clone, Default)]
pub struct HostKeyNote(Arc<Mutex<Option<String>>>);

impl HostKeyNote {
    fn set(&self, why: String) {
        if let Ok(mut n) = self.0.lock() {
            *n = Some(why);
        }
    }

    /// What to say of `e`: the host-key check's reason when it refused the server,
    /// libgit2's message otherwise.
    pub fn message(&self, e: &git2::Error) -> String {
        let noted = self.0.lock().ok().and_then(|n| n.clone());
        match noted {
            Some(why) if e.code() == git2::ErrorCode::Certificate => why,
            _ => e.message().to_owned(),
        }
    }
}

/// Callbacks for one git network operation on `url`: credentials from `auth` (resolved
/// now, offered once), SSH host keys checked against `auth.host_keys` (why a key was
/// refused goes to the note, for [`classify`]).
pub fn callbacks(
    url: &str,
    auth: &GitAuth,
) -> Result<(git2::RemoteCallbacks<'static>, HostKeyNote), ContentError> {
    let host = scheme_and_host(url).map(|(_, h)| h).unwrap_or_default();
    let material = Material::resolve(auth.secret.as_ref(), &host)?;
    let mut cb = git2::RemoteCallbacks::new();
    let mut offered = false;
    let host_for_creds = host.clone();
    cb.credentials(move |_url, user_from_url, allowed| {
        use git2::CredentialType as T;
        let user = user_from_url.unwrap_or("git");
        if allowed.contains(T::USERNAME) {
            return git2::Cred::username(user);
        }
        let refuse = |msg: String| {
            Err(git2::Error::new(
                git2::ErrorCode::Auth,
                git2::ErrorClass::Callback,
                msg,
            ))
        };
        if std::mem::replace(&mut offered, true) {
            return refuse(format!("{host_for_creds} refused the credentials"));
        }
        match &material {
            Material::UserPass { user, pass } if allowed.contains(T::USER_PASS_PLAINTEXT) => {
                git2::Cred::userpass_plaintext(user, pass)
            }
            Material::KeyFile { path, passphrase } if allowed.contains(T::SSH_KEY) => {
                git2::Cred::ssh_key(user, None, path, passphrase.as_deref())
            }
            Material::KeyMemory { pem, passphrase } if allowed.contains(T::SSH_KEY) => {
                git2::Cred::ssh_key_from_memory(user, None, pem, passphrase.as_deref())
            }
            Material::Agent if allowed.contains(T::SSH_KEY) => git2::Cred::ssh_key_from_agent(user),
            Material::None => refuse(format!(
                "{host_for_creds} asks for credentials and none is configured for it"
            )),
            _ => refuse(format!(
                "{host_for_creds} asks for another kind of credential than the one configured for it"
            )),
        }
    });
    let port = ssh_port(url);
    let host_keys = auth.host_keys.clone();
    let note = HostKeyNote::default();
    let noted = note.clone();
    cb.certificate_check(move |cert, hostname| {
        // TLS certificates: libgit2 has verified them against the system's roots
        let Some(hostkey) = cert.as_hostkey() else {
            return Ok(git2::CertificateCheckStatus::CertificatePassthrough);
        };
        let refuse = |why: String| {
            noted.set(why.clone());
            Err(git2::Error::new(
                git2::ErrorCode::Certificate,
                git2::ErrorClass::Ssh,
                why,
            ))
        };
        let name = if port == 22 {
            hostname.to_owned()
        } else {
            format!("[{hostname}]:{port}")
        };
        match &host_keys {
            HostKeys::AcceptAny => Ok(git2::CertificateCheckStatus::CertificateOk),
            HostKeys::NoneConfigured => refuse(format!(
                "the host key of {name} cannot be checked: no known_hosts is configured (--git-known-hosts)"
            )),
            HostKeys::Known(known) => {
                let Some(key) = hostkey.hostkey() else {
                    return refuse(format!("{name} sent no host key"));
                };
                match known.check(hostname, port, key) {
                    Verdict::Known => Ok(git2::CertificateCheckStatus::CertificateOk),
                    Verdict::Unknown => refuse(format!(
                        "{name} is not in the configured known_hosts (ssh-keyscan it, check the key, add it)"
                    )),
                    Verdict::Mismatch => refuse(format!(
                        "the host key of {name} does not match the configured known_hosts: it changed, or something is in between"
                    )),
                    Verdict::Revoked => {
                        refuse(format!("the host key of {name} is revoked in known_hosts"))
                    }
                }
            }
        }
    });
    Ok((cb, note))
}

/// The error of a failed git network operation on `url`, by what failed: refused
/// credentials, a refused host key (with the check's reason), or the remote
/// (unreachable, timed out, failing).
pub fn classify(url: &str, e: git2::Error, note: &HostKeyNote) -> ContentError {
    match e.code() {
        git2::ErrorCode::Auth => ContentError::GitAuth {
            url: url.to_owned(),
            source: e,
        },
        git2::ErrorCode::Certificate => ContentError::GitHostKey {
            url: url.to_owned(),
            why: note.message(&e),
        },
        _ => ContentError::GitUnavailable {
            url: url.to_owned(),
            source: e,
        },
    }
}

/// The secret a reference names, trimmed. This is the one place a library reads the
/// environment: resolving an `env:NAME` reference is what the reference is for. An
/// `aws-sm:` reference asks AWS Secrets Manager, through a cache ([`crate::secrets`]).
/// Errors name the reference, never the value.
pub fn resolve_secret(creds: &CredentialRef) -> Result<String, ContentError> {
    let secret = match creds {
        CredentialRef::Env(name) => std::env::var(name)
            .map_err(|_| ContentError::Credentials(format!("env:{name} (variable not set)")))?,
        CredentialRef::File(path) => std::fs::read_to_string(path)
            .map_err(|e| ContentError::Credentials(format!("file:{path} ({})", e.kind())))?,
        CredentialRef::AwsSecretsManager { id, key } => {
            crate::secrets::aws_secrets_manager(id, key.as_deref())?
        }
    };
    Ok(secret.trim().to_owned())
}

/// Reads a `known_hosts` by reference (`file:` path, or `env:` holding its text).
pub fn load_known_hosts(reference: &CredentialRef) -> Result<KnownHosts, ContentError> {
    let text = resolve_secret(reference)?;
    KnownHosts::parse(&text).map_err(|e| {
        ContentError::Credentials(format!("{} ({e})", String::from(reference.clone())))
    })
}

#[cfg(test)]
mod tests;
