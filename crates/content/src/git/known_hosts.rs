//! OpenSSH `known_hosts`, read the way `ssh` reads it with `StrictHostKeyChecking yes`:
//! a host's key must be listed, or the connection is refused.
//!
//! Supported: plain and wildcard host patterns (`*`, `?`), negated patterns (`!host`),
//! `[host]:port` for ports other than 22, hashed names (`|1|salt|hmac`, what
//! `HashKnownHosts yes` writes) and the `@revoked` marker. `@cert-authority` lines are
//! skipped: libgit2 hands over the server's plain host key, not its certificate.
//!
//! Written here rather than taken from a crate: the `ssh-key` crate parses these lines
//! but does not match hosts (patterns, negation, hashed names) — which is the part that
//! matters — and the whole format is a few dozen lines.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};

/// A parsed `known_hosts` file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownHosts {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    revoked: bool,
    hosts: Hosts,
    /// The key blob, as the server sends it (the base64 field, decoded).
    key: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Hosts {
    /// Comma-separated patterns; `true` marks a negated one.
    Patterns(Vec<(bool, String)>),
    /// `|1|salt|hash`: HMAC-SHA1 of the host name under the salt.
    Hashed { salt: Vec<u8>, hash: Vec<u8> },
}

/// What `known_hosts` says of a server's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The key is listed for the host.
    Known,
    /// The host is listed, with other keys: the key changed, or someone is in between.
    Mismatch,
    /// The key is listed as revoked.
    Revoked,
    /// The host is not listed.
    Unknown,
}

/// A line that is not a `known_hosts` entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("known_hosts line {line}: {why}")]
pub struct KnownHostsError {
    pub line: usize,
    pub why: &'static str,
}

impl KnownHosts {
    /// Parses a `known_hosts` text. Blank lines and `#` comments are skipped; any other
    /// line that is not an entry is an error (a typo must not silently drop a host).
    pub fn parse(text: &str) -> Result<Self, KnownHostsError> {
        let mut entries = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |why| KnownHostsError { line: i + 1, why };
            let mut fields = line.split_whitespace();
            let mut first = fields.next().ok_or(err("empty"))?;
            let mut revoked = false;
            if let Some(marker) = first.strip_prefix('@') {
                match marker {
                    "revoked" => revoked = true,
                    "cert-authority" => continue,
                    _ => return Err(err("unknown @marker")),
                }
                first = fields.next().ok_or(err("no host patterns"))?;
            }
            let _key_type = fields.next().ok_or(err("no key type"))?;
            let key = fields.next().ok_or(err("no key"))?;
            let key = STANDARD
                .decode(key)
                .map_err(|_| err("the key is not base64"))?;
            let hosts = if let Some(hashed) = first.strip_prefix("|1|") {
                let (salt, hash) = hashed.split_once('|').ok_or(err("bad hashed host"))?;
                Hosts::Hashed {
                    salt: STANDARD
                        .decode(salt)
                        .map_err(|_| err("bad hashed host salt"))?,
                    hash: STANDARD
                        .decode(hash)
                        .map_err(|_| err("bad hashed host hash"))?,
                }
            } else {
                Hosts::Patterns(
                    first
                        .split(',')
                        .filter(|p| !p.is_empty())
                        .map(|p| match p.strip_prefix('!') {
                            Some(p) => (true, p.to_ascii_lowercase()),
                            None => (false, p.to_ascii_lowercase()),
                        })
                        .collect(),
                )
            };
            entries.push(Entry {
                revoked,
                hosts,
                key,
            });
        }
        Ok(Self { entries })
    }

    /// How many entries were read.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// What the file says of `key` (the server's key blob) for `host` on `port`.
    pub fn check(&self, host: &str, port: u16, key: &[u8]) -> Verdict {
        let name = if port == 22 {
            host.to_ascii_lowercase()
        } else {
            format!("[{}]:{port}", host.to_ascii_lowercase())
        };
        let mut listed = false;
        let mut known = false;
        for e in self.entries.iter().filter(|e| e.hosts.matches(&name)) {
            if e.key == key {
                if e.revoked {
                    return Verdict::Revoked;
                }
                known = true;
            } else if !e.revoked {
                listed = true;
            }
        }
        match (known, listed) {
            (true, _) => Verdict::Known,
            (false, true) => Verdict::Mismatch,
            (false, false) => Verdict::Unknown,
        }
    }
}

impl Hosts {
    fn matches(&self, name: &str) -> bool {
        match self {
            Hosts::Hashed { salt, hash } => {
                let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(salt) else {
                    return false;
                };
                mac.update(name.as_bytes());
                mac.verify_slice(hash).is_ok()
            }
            Hosts::Patterns(patterns) => {
                let mut positive = false;
                for (negated, p) in patterns {
                    if wildcard(p.as_bytes(), name.as_bytes()) {
                        if *negated {
                            return false;
                        }
                        positive = true;
                    }
                }
                positive
            }
        }
    }
}

/// OpenSSH's pattern match: `*` any run, `?` any one byte. Iterative, backtracking to
/// the last `*` only, so a hostile pattern costs at most pattern × name steps.
fn wildcard(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, n));
            p += 1;
        } else if let Some((sp, sn)) = star {
            star = Some((sp, sn + 1));
            p = sp + 1;
            n = sn + 1;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests;
