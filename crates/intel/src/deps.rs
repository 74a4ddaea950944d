//! Dependencies: the packages a manifest or lockfile names, as package URLs
//! (purl-spec), with version, whether the project names them itself (direct) and scope.
//!
//! Read here: `Cargo.toml`, `Cargo.lock`, `package.json`, `package-lock.json` /
//! `npm-shrinkwrap.json` (v1–v3), `yarn.lock` (v1 and Berry), `pnpm-lock.yaml` (v5–v9),
//! `go.mod`, `requirements*.txt`, `pyproject.toml`, `poetry.lock`, `uv.lock`, `Pipfile`,
//! `Pipfile.lock`, `Gemfile.lock`, `composer.json`, `composer.lock`, `pom.xml`. Each file
//! is read on its own (content only, so results are cached like the other analysers');
//! what one file cannot say — whether a `poetry.lock` entry is direct — the project
//! rollup completes from the manifest beside it. Written here rather than taken from a
//! crate: the per-ecosystem crates (`cargo-lock`, `yarn-lock-parser`, ...) cover one
//! format each and pull their own parsers; these formats are TOML, JSON, YAML (read by
//! `serde_norway`) and XML (read by `quick-xml`'s pull reader), and five small line
//! formats, read line by line so that a line not understood loses its entry, not the
//! file.
//!
//! Not read: `go.sum`. It is Go's checksum record of every module version a build
//! ever verified — versions pruned from the build list and modules whose `go.mod` alone
//! was fetched included — so its entries are not the project's dependencies; `go.mod`
//! (since Go 1.17 listing every module the build needs) is.

use std::collections::BTreeMap;

use serde::Deserialize;
use tributary_events::intelligence::Dependency;

/// Entries read from one file, at most; past it the file is cut with a diagnostic.
pub const MAX_DEPENDENCIES: usize = 20_000;

/// The kind of file, by name; `None`: not one this module reads.
pub fn kind(file_name: &str) -> Option<Kind> {
    Some(match file_name {
        "Cargo.toml" => Kind::CargoToml,
        "Cargo.lock" => Kind::CargoLock,
        "package.json" => Kind::PackageJson,
        "package-lock.json" | "npm-shrinkwrap.json" => Kind::PackageLock,
        "yarn.lock" => Kind::YarnLock,
        "pnpm-lock.yaml" => Kind::PnpmLock,
        "Pipfile" => Kind::Pipfile,
        "Pipfile.lock" => Kind::PipfileLock,
        "pom.xml" => Kind::PomXml,
        "go.mod" => Kind::GoMod,
        "pyproject.toml" => Kind::Pyproject,
        "poetry.lock" => Kind::PoetryLock,
        "uv.lock" => Kind::UvLock,
        "Gemfile.lock" => Kind::GemfileLock,
        "composer.json" => Kind::ComposerJson,
        "composer.lock" => Kind::ComposerLock,
        n if n.starts_with("requirements") && n.ends_with(".txt") => Kind::Requirements,
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    CargoToml,
    CargoLock,
    PackageJson,
    PackageLock,
    YarnLock,
    PnpmLock,
    Pipfile,
    PipfileLock,
    PomXml,
    GoMod,
    Pyproject,
    PoetryLock,
    UvLock,
    GemfileLock,
    ComposerJson,
    ComposerLock,
    Requirements,
}

impl Kind {
    /// Whether the file lists what was resolved (versions) rather than what was asked.
    pub fn is_lockfile(self) -> bool {
        matches!(
            self,
            Kind::CargoLock
                | Kind::PackageLock
                | Kind::YarnLock
                | Kind::PnpmLock
                | Kind::PipfileLock
                | Kind::PoetryLock
                | Kind::UvLock
                | Kind::GemfileLock
                | Kind::ComposerLock
        )
    }
}

/// What one file names: its packages, and how many entries were left out because a
/// name, version or requirement held control or bidirectional-override characters or
/// ran over 512 bytes (hostile files; no tool would resolve such a package).
#[derive(Debug, Default)]
pub struct Read {
    pub dependencies: Vec<Dependency>,
    pub left_out: usize,
}

fn printable(s: &str) -> bool {
    s.len() <= 512
        && !s.chars().any(|c| {
            c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
}

/// The packages `text` names as a file of `kind`, sorted by purl, one entry per purl;
/// a diagnostic instead when the file cannot be read as its kind.
pub fn read(kind: Kind, text: &str) -> Result<Read, String> {
    let mut all = read_all(kind, text)?;
    let before = all.len();
    all.retain(|d| {
        printable(&d.name)
            && d.version.as_deref().is_none_or(printable)
            && d.requirement.as_deref().is_none_or(printable)
    });
    Ok(Read {
        left_out: before - all.len(),
        dependencies: all,
    })
}

fn read_all(kind: Kind, text: &str) -> Result<Vec<Dependency>, String> {
    let mut out = match kind {
        Kind::CargoToml => cargo_toml(text)?,
        Kind::CargoLock => cargo_lock(text)?,
        Kind::PackageJson => package_json(text)?,
        Kind::PackageLock => package_lock(text)?,
        Kind::YarnLock => yarn_lock(text),
        Kind::PnpmLock => pnpm_lock(text)?,
        Kind::Pipfile => pipfile(text)?,
        Kind::PipfileLock => pipfile_lock(text)?,
        Kind::PomXml => pom_xml(text)?,
        Kind::GoMod => go_mod(text),
        Kind::Pyproject => pyproject(text)?,
        Kind::PoetryLock => poetry_lock(text)?,
        Kind::UvLock => uv_lock(text)?,
        Kind::GemfileLock => gemfile_lock(text),
        Kind::ComposerJson => composer_json(text)?,
        Kind::ComposerLock => composer_lock(text)?,
        Kind::Requirements => requirements(text),
    };
    out.sort_by(|a, b| a.purl.cmp(&b.purl));
    // one entry per purl: direct if any occurrence is, the first scope seen
    out.dedup_by(|later, kept| {
        if later.purl != kept.purl {
            return false;
        }
        kept.direct = match (kept.direct, later.direct) {
            (Some(a), Some(b)) => Some(a || b),
            (a, b) => a.or(b),
        };
        kept.scope = kept.scope.take().or(later.scope.take());
        true
    });
    Ok(out)
}

/// `pkg:TYPE/NAMESPACE/NAME@VERSION`, each part percent-encoded as purl-spec asks
/// (`namespace` may hold `/`-separated segments, each encoded).
pub fn purl(kind: &str, namespace: Option<&str>, name: &str, version: Option<&str>) -> String {
    let mut out = format!("pkg:{kind}/");
    if let Some(ns) = namespace.filter(|n| !n.is_empty()) {
        for segment in ns.split('/') {
            out.push_str(&encode(segment));
            out.push('/');
        }
    }
    out.push_str(&encode(name));
    if let Some(v) = version.filter(|v| !v.is_empty()) {
        out.push('@');
        out.push_str(&encode(v));
    }
    out
}

/// A purl without its version: what a manifest's entry and a lockfile's share, and what
/// stays the same across a package's versions. (`@` in a name is percent-encoded, so
/// the last `@` starts the version.)
pub fn unversioned(purl: &str) -> &str {
    purl.rsplit_once('@').map_or(purl, |(p, _)| p)
}

/// Packages counted by purl type (`cargo`, `npm`, ...).
pub fn by_ecosystem<'p>(purls: impl IntoIterator<Item = &'p str>) -> BTreeMap<String, u64> {
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    for purl in purls {
        let kind = purl
            .strip_prefix("pkg:")
            .and_then(|p| p.split('/').next())
            .unwrap_or("unknown");
        *out.entry(kind.to_owned()).or_default() += 1;
    }
    out
}

fn encode(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for b in part.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn dep(
    purl: String,
    name: &str,
    version: Option<&str>,
    requirement: Option<&str>,
    direct: Option<bool>,
    scope: Option<&str>,
) -> Dependency {
    Dependency {
        purl,
        name: name.to_owned(),
        version: version.filter(|v| !v.is_empty()).map(str::to_owned),
        requirement: requirement.filter(|r| !r.is_empty()).map(str::to_owned),
        direct,
        scope: scope.map(str::to_owned),
    }
}

fn toml_doc<T: for<'de> Deserialize<'de>>(text: &str, what: &str) -> Result<T, String> {
    toml::from_str(text)
        .map_err(|e| format!("dependencies: {what} is not valid TOML: {}", e.message()))
}

fn json_doc<T: for<'de> Deserialize<'de>>(text: &str, what: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| format!("dependencies: {what} is not valid JSON: {e}"))
}

// ---- Rust -------------------------------------------------------------------------

#[derive(Deserialize)]
struct CargoLockFile {
    #[serde(default)]
    package: Vec<CargoLockPackage>,
}

#[derive(Deserialize)]
struct CargoLockPackage {
    name: String,
    version: String,
    source: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

fn cargo_lock(text: &str) -> Result<Vec<Dependency>, String> {
    let lock: CargoLockFile = toml_doc(text, "Cargo.lock")?;
    // the workspace's own packages have no source; what they depend on is direct
    let direct: std::collections::HashSet<&str> = lock
        .package
        .iter()
        .filter(|p| p.source.is_none())
        .flat_map(|p| p.dependencies.iter())
        .map(|d| d.split(' ').next().unwrap_or(d))
        .collect();
    Ok(lock
        .package
        .iter()
        .filter(|p| p.source.is_some())
        .map(|p| {
            dep(
                purl("cargo", None, &p.name, Some(&p.version)),
                &p.name,
                Some(&p.version),
                None,
                Some(direct.contains(p.name.as_str())),
                None,
            )
        })
        .collect())
}

fn cargo_toml(text: &str) -> Result<Vec<Dependency>, String> {
    let doc: toml::Table = toml_doc(text, "Cargo.toml")?;
    let mut out = Vec::new();
    let mut tables: Vec<(&toml::Table, &str)> = Vec::new();
    for (key, scope) in [
        ("dependencies", "runtime"),
        ("dev-dependencies", "dev"),
        ("build-dependencies", "build"),
    ] {
        if let Some(t) = doc.get(key).and_then(|v| v.as_table()) {
            tables.push((t, scope));
        }
        for target in doc
            .get("target")
            .and_then(|v| v.as_table())
            .into_iter()
            .flatten()
        {
            if let Some(t) = target.1.get(key).and_then(|v| v.as_table()) {
                tables.push((t, scope));
            }
        }
    }
    if let Some(t) = doc
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(|v| v.as_table())
    {
        tables.push((t, "runtime"));
    }
    for (table, scope) in tables {
        for (key, spec) in table {
            let (requirement, name, optional) = match spec {
                toml::Value::String(r) => (Some(r.as_str()), key.as_str(), false),
                toml::Value::Table(t) => {
                    // local code and inherited entries are not packages of their own here
                    if t.contains_key("path")
                        || t.get("workspace")
                            .is_some_and(|w| w.as_bool() == Some(true))
                    {
                        continue;
                    }
                    (
                        t.get("version").and_then(|v| v.as_str()),
                        t.get("package").and_then(|v| v.as_str()).unwrap_or(key),
                        t.get("optional").and_then(|v| v.as_bool()) == Some(true),
                    )
                }
                _ => continue,
            };
            let scope = if optional && scope == "runtime" {
                "optional"
            } else {
                scope
            };
            out.push(dep(
                purl("cargo", None, name, None),
                name,
                None,
                requirement,
                Some(true),
                Some(scope),
            ));
        }
    }
    Ok(out)
}

// ---- JavaScript ---------------------------------------------------------------------

/// `@scope/name` → (`@scope`, `name`).
fn npm_purl(name: &str, version: Option<&str>) -> String {
    match name.split_once('/') {
        Some((scope, n)) if scope.starts_with('@') => purl("npm", Some(scope), n, version),
        _ => purl("npm", None, name, version),
    }
}

/// npm's tables of dependencies by name, as `package.json` has them (JSON values) and
/// pnpm's importers (YAML values; pnpm writes no peer table there).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct NpmTables<V> {
    #[serde(default = "BTreeMap::new")]
    dependencies: BTreeMap<String, V>,
    #[serde(default = "BTreeMap::new")]
    dev_dependencies: BTreeMap<String, V>,
    #[serde(default = "BTreeMap::new")]
    optional_dependencies: BTreeMap<String, V>,
    #[serde(default = "BTreeMap::new")]
    peer_dependencies: BTreeMap<String, V>,
}

fn package_json(text: &str) -> Result<Vec<Dependency>, String> {
    let p: NpmTables<serde_json::Value> = json_doc(text, "package.json")?;
    Ok(manifest_entries(
        [
            (&p.dependencies, "runtime"),
            (&p.dev_dependencies, "dev"),
            (&p.optional_dependencies, "optional"),
            (&p.peer_dependencies, "runtime"),
        ],
        |name| npm_purl(name, None),
    ))
}

/// A JSON manifest's tables of `name: requirement`, each with its scope, as direct
/// entries (`purl` names a package without a version).
fn manifest_entries<const N: usize>(
    tables: [(&BTreeMap<String, serde_json::Value>, &str); N],
    purl: impl Fn(&str) -> String,
) -> Vec<Dependency> {
    tables
        .into_iter()
        .flat_map(|(map, scope)| map.iter().map(move |(name, req)| (name, req, scope)))
        .map(|(name, req, scope)| {
            dep(
                purl(name),
                name,
                None,
                req.as_str(),
                Some(true),
                Some(scope),
            )
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PackageLockFile {
    #[serde(default)]
    packages: BTreeMap<String, LockedPackage>,
    /// lockfile v1 (and v2's copy of it)
    #[serde(default)]
    dependencies: BTreeMap<String, LockedV1>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct LockedPackage {
    name: Option<String>,
    version: Option<String>,
    #[serde(default)]
    dev: bool,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    dev_optional: bool,
    #[serde(default)]
    link: bool,
    #[serde(default)]
    dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    dev_dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    optional_dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    peer_dependencies: BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct LockedV1 {
    version: Option<String>,
    #[serde(default)]
    dev: bool,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    dependencies: BTreeMap<String, LockedV1>,
}

fn npm_scope(dev: bool, optional: bool) -> &'static str {
    match (dev, optional) {
        (true, _) => "dev",
        (false, true) => "optional",
        _ => "runtime",
    }
}

fn package_lock(text: &str) -> Result<Vec<Dependency>, String> {
    let lock: PackageLockFile = json_doc(text, "package-lock.json")?;
    let mut out = Vec::new();
    if !lock.packages.is_empty() {
        let root = lock.packages.get("").map(|r| {
            [
                &r.dependencies,
                &r.dev_dependencies,
                &r.optional_dependencies,
                &r.peer_dependencies,
            ]
            .into_iter()
            .flat_map(|m| m.keys().cloned())
            .collect::<std::collections::HashSet<String>>()
        });
        for (key, p) in &lock.packages {
            // the root, workspace folders and links are the project's own code
            let Some(at) = key.rfind("node_modules/") else {
                continue;
            };
            if p.link {
                continue;
            }
            let path_name = &key[at + "node_modules/".len()..];
            let name = p.name.as_deref().unwrap_or(path_name);
            let top = at == 0;
            let direct = root.as_ref().map(|r| top && r.contains(path_name));
            let scope = npm_scope(p.dev || p.dev_optional, p.optional || p.dev_optional);
            out.push(dep(
                npm_purl(name, p.version.as_deref()),
                name,
                p.version.as_deref(),
                None,
                direct,
                Some(scope),
            ));
            if out.len() >= MAX_DEPENDENCIES {
                break;
            }
        }
        return Ok(out);
    }
    fn walk(deps: &BTreeMap<String, LockedV1>, top: bool, out: &mut Vec<Dependency>) {
        for (name, p) in deps {
            if out.len() >= MAX_DEPENDENCIES {
                return;
            }
            out.push(dep(
                npm_purl(name, p.version.as_deref()),
                name,
                p.version.as_deref(),
                None,
                // v1 does not say which top-level entries the root asked for
                (!top).then_some(false),
                Some(npm_scope(p.dev, p.optional)),
            ));
            walk(&p.dependencies, false, out);
        }
    }
    walk(&lock.dependencies, true, &mut out);
    Ok(out)
}

/// `name@range` (yarn v1) or `name@protocol:range` (Berry) → `name` (a scope's `@` kept).
fn descriptor_name(descriptor: &str) -> Option<&str> {
    let d = descriptor.trim().trim_matches('"');
    let at = d.get(1..)?.find('@')? + 1;
    Some(&d[..at])
}

/// The package a yarn.lock entry installs, from what the entry says, best first:
/// Berry's `resolution` (`string-width@npm:4.2.3`), v1's registry URL
/// (`.../string-width/-/string-width-4.2.3.tgz`), an alias in the descriptor
/// (`string-width-cjs@npm:string-width@^4.2.0`), the descriptor's name.
#[derive(Default)]
struct YarnEntry<'t> {
    key: &'t str,
    version: Option<&'t str>,
    resolution: Option<&'t str>,
    resolved: Option<&'t str>,
}

/// Protocols of the project's own code (workspaces, links, portals), not packages.
fn yarn_own(descriptor: &str, name: &str) -> bool {
    let range = descriptor
        .trim()
        .trim_matches('"')
        .get(name.len() + 1..)
        .unwrap_or("");
    ["workspace:", "link:", "portal:"]
        .iter()
        .any(|p| range.starts_with(p))
}

impl<'t> YarnEntry<'t> {
    fn package(&self) -> Option<(&'t str, &'t str)> {
        let version = self.version.filter(|v| !v.is_empty())?;
        let first = self.key.split(", ").next()?;
        let key_name = descriptor_name(first)?;
        if key_name == "__metadata"
            || self.key.split(", ").any(|d| yarn_own(d, key_name))
            || self
                .resolution
                .and_then(|r| descriptor_name(r).map(|n| yarn_own(r, n)))
                .unwrap_or(false)
        {
            return None;
        }
        let from_url = || {
            let path = self.resolved?.split_once("://")?.1.split_once('/')?.1;
            let name = path.split_once("/-/")?.0;
            (!name.is_empty() && name.matches('/').count() <= 1).then_some(name)
        };
        let alias = || {
            let d = first.trim().trim_matches('"');
            let target = d.get(key_name.len() + 1..)?.strip_prefix("npm:")?;
            descriptor_name(target)
        };
        let name = self
            .resolution
            .and_then(descriptor_name)
            .or_else(from_url)
            .or_else(alias)
            .unwrap_or(key_name);
        Some((name, version))
    }
}

/// yarn.lock: an entry is a line of descriptors at the margin (`"a@^1", a@^1.2:`), its
/// fields two spaces in (`version "1.2.3"` in v1, `version: 1.2.3` in Berry).
fn yarn_lock(text: &str) -> Vec<Dependency> {
    let mut out = Vec::new();
    let mut entry: Option<YarnEntry<'_>> = None;
    let flush = |entry: Option<YarnEntry<'_>>, out: &mut Vec<Dependency>| {
        if let Some((name, version)) = entry.as_ref().and_then(YarnEntry::package) {
            out.push(dep(
                npm_purl(name, Some(version)),
                name,
                Some(version),
                None,
                None,
                None,
            ));
        }
    };
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') {
            flush(entry.take(), &mut out);
            if out.len() >= MAX_DEPENDENCIES {
                return out;
            }
            entry = line.strip_suffix(':').map(|key| YarnEntry {
                key,
                ..YarnEntry::default()
            });
            continue;
        }
        let (Some(e), Some(field)) = (entry.as_mut(), line.strip_prefix("  ")) else {
            continue;
        };
        if field.starts_with(' ') {
            continue; // a dependency list's line
        }
        let (name, value) = match field.split_once(':') {
            // Berry: `name: value`; a v1 value may hold `:` (a URL) after a space
            Some((n, v)) if !n.contains(' ') => (n, v),
            _ => field.split_once(' ').unwrap_or((field, "")),
        };
        let value = value.trim().trim_matches('"');
        match name {
            "version" => e.version = Some(value),
            "resolution" => e.resolution = Some(value),
            "resolved" => e.resolved = Some(value),
            _ => {}
        }
    }
    flush(entry, &mut out);
    out
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PnpmLockFile {
    lockfile_version: Option<serde_norway::Value>,
    /// v6+: the workspace's projects, `.` the root
    #[serde(default)]
    importers: BTreeMap<String, NpmTables<serde_norway::Value>>,
    /// v5 (and v6 without a workspace): the root's tables at the top
    #[serde(flatten)]
    root: NpmTables<serde_norway::Value>,
    #[serde(default)]
    packages: BTreeMap<String, PnpmPackage>,
}

#[derive(Deserialize, Default)]
struct PnpmPackage {
    name: Option<String>,
    version: Option<String>,
    dev: Option<bool>,
    #[serde(default)]
    optional: bool,
}

/// A pnpm version with its peers' suffix cut: `1.0.0(react@18.2.0)` (v6+),
/// `1.0.0_react@18.2.0` (v5).
fn pnpm_version(v: &str) -> &str {
    let v = v.split('(').next().unwrap_or(v);
    v.split('_').next().unwrap_or(v)
}

/// A `packages` key → (name, version): `/name/1.0.0_peer` (v5), `/name@1.0.0(peer)` (v6),
/// `name@1.0.0(peer)` (v9).
fn pnpm_key(key: &str, v5: bool) -> Option<(&str, &str)> {
    let k = key.strip_prefix('/').unwrap_or(key);
    let (name, version) = if v5 {
        k.rsplit_once('/')?
    } else {
        let k = k.split('(').next().unwrap_or(k);
        let at = k.get(1..)?.rfind('@')? + 1;
        (&k[..at], &k[at + 1..])
    };
    Some((name, pnpm_version(version))).filter(|(n, v)| !n.is_empty() && !v.is_empty())
}

fn pnpm_lock(text: &str) -> Result<Vec<Dependency>, String> {
    // pnpm 9 may write two documents — its own environment's lockfile (the package
    // manager the project pins) before the project's — both read, as syft reads them
    let mut out = Vec::new();
    for doc in serde_norway::Deserializer::from_str(text) {
        let lock = PnpmLockFile::deserialize(doc)
            .map_err(|e| format!("dependencies: pnpm-lock.yaml is not valid YAML: {e}"))?;
        pnpm_document(&lock, &mut out);
    }
    Ok(out)
}

fn pnpm_document(lock: &PnpmLockFile, out: &mut Vec<Dependency>) {
    let v5 = match &lock.lockfile_version {
        Some(serde_norway::Value::Number(n)) => n.as_f64().is_some_and(|n| n < 6.0),
        Some(serde_norway::Value::String(s)) => s.starts_with('5'),
        _ => false,
    };
    let root = lock.importers.get(".").unwrap_or(&lock.root);
    // the root's own entries: name → (resolved version, scope)
    let mut asked: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    for (table, scope) in [
        (&root.optional_dependencies, "optional"),
        (&root.dev_dependencies, "dev"),
        (&root.dependencies, "runtime"),
    ] {
        for (name, v) in table {
            let version = match v {
                serde_norway::Value::String(s) => Some(s.as_str()),
                v => v.get("version").and_then(|v| v.as_str()),
            };
            if let Some(version) = version {
                asked.insert(name, (pnpm_version(version), scope));
            }
        }
    }
    let known = !asked.is_empty();
    let mut listed = std::collections::HashSet::new();
    for (key, p) in &lock.packages {
        let Some((name, version)) = p
            .name
            .as_deref()
            .zip(p.version.as_deref())
            .or_else(|| pnpm_key(key, v5))
        else {
            continue;
        };
        let root_entry = asked.get(name).filter(|(v, _)| *v == version);
        listed.insert((name, version));
        let scope = match (p.dev, p.optional) {
            (_, true) => Some("optional"),
            (Some(true), false) => Some("dev"),
            (Some(false), false) => Some("runtime"),
            (None, false) => root_entry.map(|(_, s)| *s),
        };
        out.push(dep(
            npm_purl(name, Some(version)),
            name,
            Some(version),
            None,
            known.then_some(root_entry.is_some()),
            scope,
        ));
        if out.len() >= MAX_DEPENDENCIES {
            return;
        }
    }
    // the root's entries a trimmed `packages` leaves out (links and paths are not packages)
    for (name, (version, scope)) in &asked {
        if !listed.contains(&(*name, *version)) && !version.contains(':') && !version.is_empty() {
            out.push(dep(
                npm_purl(name, Some(version)),
                name,
                Some(version),
                None,
                Some(true),
                Some(scope),
            ));
        }
    }
}

// ---- Go -----------------------------------------------------------------------------

/// `module/path` → purl with the last segment as name, the rest as namespace.
fn go_purl(module: &str, version: Option<&str>) -> String {
    match module.rsplit_once('/') {
        Some((ns, name)) => purl("golang", Some(ns), name, version),
        None => purl("golang", None, module, version),
    }
}

fn go_mod(text: &str) -> Vec<Dependency> {
    let mut out = Vec::new();
    let mut in_require = false;
    for raw in text.lines() {
        let (line, comment) = match raw.split_once("//") {
            Some((l, c)) => (l.trim(), c.trim()),
            None => (raw.trim(), ""),
        };
        let spec = if in_require {
            if line == ")" {
                in_require = false;
                continue;
            }
            line
        } else if let Some(rest) = line.strip_prefix("require") {
            let rest = rest.trim();
            if rest == "(" {
                in_require = true;
                continue;
            }
            rest
        } else {
            continue;
        };
        let mut parts = spec.split_whitespace();
        let (Some(module), Some(version)) = (parts.next(), parts.next()) else {
            continue;
        };
        let module = module.trim_matches('"');
        let indirect = comment.split(';').any(|c| c.trim() == "indirect");
        out.push(dep(
            go_purl(module, Some(version)),
            module,
            Some(version),
            None,
            Some(!indirect),
            None,
        ));
        if out.len() >= MAX_DEPENDENCIES {
            break;
        }
    }
    out
}

// ---- Python -------------------------------------------------------------------------

/// PEP 503's normal form, which purl-spec asks of PyPI names.
fn pypi_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut dash = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            dash = true;
        } else {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// A PEP 508 requirement: (name, the rest as written, the version when pinned `==`).
fn pep508(spec: &str) -> Option<(String, String, Option<String>)> {
    let spec = spec.split(';').next().unwrap_or(spec).trim();
    let end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(spec.len());
    let name = &spec[..end];
    if name.is_empty() {
        return None;
    }
    let mut rest = spec[end..].trim();
    // extras
    if rest.starts_with('[') {
        rest = rest.split_once(']').map_or("", |(_, r)| r).trim();
    }
    let rest = rest.trim_start_matches('(').trim_end_matches(')').trim();
    let pinned = rest
        .strip_prefix("==")
        .map(str::trim)
        .filter(|v| !v.contains([',', '*', ' ']))
        .map(str::to_owned);
    Some((name.to_owned(), rest.to_owned(), pinned))
}

fn requirements(text: &str) -> Vec<Dependency> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split(" #").next().unwrap_or(line).trim();
        // options, includes, editable installs, URLs and paths are not named packages
        if line.is_empty() || line.starts_with(['#', '-', '.', '/']) || line.contains("://") {
            continue;
        }
        let line = line.split(" --").next().unwrap_or(line);
        if let Some((name, rest, pinned)) = pep508(line) {
            let n = pypi_name(&name);
            out.push(dep(
                purl("pypi", None, &n, pinned.as_deref()),
                &n,
                pinned.as_deref(),
                (pinned.is_none() && !rest.is_empty()).then_some(rest.as_str()),
                None,
                None,
            ));
        }
        if out.len() >= MAX_DEPENDENCIES {
            break;
        }
    }
    out
}

fn pyproject(text: &str) -> Result<Vec<Dependency>, String> {
    let doc: toml::Table = toml_doc(text, "pyproject.toml")?;
    let mut out = Vec::new();
    let mut push = |spec: &str, scope: &str| {
        if let Some((name, rest, pinned)) = pep508(spec) {
            let n = pypi_name(&name);
            out.push(dep(
                purl("pypi", None, &n, None),
                &n,
                None,
                (!rest.is_empty())
                    .then_some(rest.as_str())
                    .or(pinned.as_deref()),
                Some(true),
                Some(scope),
            ));
        }
    };
    let strings = |v: &toml::Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect()
    };
    if let Some(project) = doc.get("project") {
        for s in project.get("dependencies").map(strings).unwrap_or_default() {
            push(&s, "runtime");
        }
    }
    // tables of named groups of requirements: extras, and PEP 735's dependency groups
    let groups = [
        (
            doc.get("project")
                .and_then(|p| p.get("optional-dependencies")),
            "optional",
        ),
        (doc.get("dependency-groups"), "dev"),
    ];
    for (table, scope) in groups {
        for (_, group) in table.and_then(|v| v.as_table()).into_iter().flatten() {
            for s in strings(group) {
                push(&s, scope);
            }
        }
    }
    let poetry = doc.get("tool").and_then(|t| t.get("poetry"));
    let mut poetry_tables: Vec<(&toml::Table, &str)> = Vec::new();
    if let Some(p) = poetry {
        if let Some(t) = p.get("dependencies").and_then(|v| v.as_table()) {
            poetry_tables.push((t, "runtime"));
        }
        if let Some(t) = p.get("dev-dependencies").and_then(|v| v.as_table()) {
            poetry_tables.push((t, "dev"));
        }
        for (_, g) in p
            .get("group")
            .and_then(|v| v.as_table())
            .into_iter()
            .flatten()
        {
            if let Some(t) = g.get("dependencies").and_then(|v| v.as_table()) {
                poetry_tables.push((t, "dev"));
            }
        }
    }
    for (table, scope) in poetry_tables {
        pypi_table(table, scope, &mut out);
    }
    Ok(out)
}

/// A TOML table of `name = "requirement"` or `name = { version = "..." }` (Poetry's
/// and Pipfile's), each a direct entry of `scope`; `python` (the interpreter) and `*`
/// (any version) are not requirements.
fn pypi_table(table: &toml::Table, scope: &str, out: &mut Vec<Dependency>) {
    for (name, spec) in table {
        if name == "python" {
            continue;
        }
        let requirement = match spec {
            toml::Value::String(s) => Some(s.as_str()),
            toml::Value::Table(t) => t.get("version").and_then(|v| v.as_str()),
            _ => None,
        }
        .filter(|r| *r != "*");
        let n = pypi_name(name);
        out.push(dep(
            purl("pypi", None, &n, None),
            &n,
            None,
            requirement,
            Some(true),
            Some(scope),
        ));
    }
}

#[derive(Deserialize)]
struct PyLockFile {
    #[serde(default)]
    package: Vec<PyLockPackage>,
}

#[derive(Deserialize)]
struct PyLockPackage {
    name: String,
    version: Option<String>,
    /// poetry before 1.5: `main` or `dev`
    category: Option<String>,
    #[serde(default)]
    optional: bool,
    /// uv: where the package comes from (`editable`/`virtual`: the project itself)
    source: Option<toml::Table>,
    #[serde(default)]
    dependencies: Vec<toml::Value>,
    #[serde(default, rename = "dev-dependencies")]
    dev_dependencies: Option<toml::Table>,
}

fn poetry_lock(text: &str) -> Result<Vec<Dependency>, String> {
    let lock: PyLockFile = toml_doc(text, "poetry.lock")?;
    Ok(lock
        .package
        .iter()
        .map(|p| {
            let n = pypi_name(&p.name);
            let scope = match (p.category.as_deref(), p.optional) {
                (Some("dev"), _) => Some("dev"),
                (_, true) => Some("optional"),
                (Some(_), false) => Some("runtime"),
                (None, false) => None,
            };
            dep(
                purl("pypi", None, &n, p.version.as_deref()),
                &n,
                p.version.as_deref(),
                None,
                None,
                scope,
            )
        })
        .collect())
}

fn uv_lock(text: &str) -> Result<Vec<Dependency>, String> {
    let lock: PyLockFile = toml_doc(text, "uv.lock")?;
    let own = |p: &PyLockPackage| {
        p.source
            .as_ref()
            .is_some_and(|s| s.contains_key("editable") || s.contains_key("virtual"))
    };
    let names = |deps: &[toml::Value]| -> Vec<String> {
        deps.iter()
            .filter_map(|d| d.get("name").and_then(|n| n.as_str()).map(pypi_name))
            .collect()
    };
    let mut runtime = std::collections::HashSet::new();
    let mut dev = std::collections::HashSet::new();
    for p in lock.package.iter().filter(|p| own(p)) {
        runtime.extend(names(&p.dependencies));
        for (_, group) in p.dev_dependencies.iter().flatten() {
            dev.extend(names(group.as_array().map_or(&[][..], |a| &a[..])));
        }
    }
    let known = lock.package.iter().any(own);
    Ok(lock
        .package
        .iter()
        .filter(|p| !own(p))
        .map(|p| {
            let n = pypi_name(&p.name);
            let direct = known.then(|| runtime.contains(&n) || dev.contains(&n));
            let scope = if runtime.contains(&n) {
                Some("runtime")
            } else if dev.contains(&n) {
                Some("dev")
            } else {
                None
            };
            dep(
                purl("pypi", None, &n, p.version.as_deref()),
                &n,
                p.version.as_deref(),
                None,
                direct,
                scope,
            )
        })
        .collect())
}

#[derive(Deserialize)]
struct PipfileFile {
    #[serde(default)]
    packages: toml::Table,
    #[serde(default, rename = "dev-packages")]
    dev_packages: toml::Table,
}

fn pipfile(text: &str) -> Result<Vec<Dependency>, String> {
    let p: PipfileFile = toml_doc(text, "Pipfile")?;
    let mut out = Vec::new();
    pypi_table(&p.packages, "runtime", &mut out);
    pypi_table(&p.dev_packages, "dev", &mut out);
    Ok(out)
}

#[derive(Deserialize)]
struct PipfileLockFile {
    #[serde(default)]
    default: BTreeMap<String, PipfileLocked>,
    #[serde(default)]
    develop: BTreeMap<String, PipfileLocked>,
}

#[derive(Deserialize)]
struct PipfileLocked {
    version: Option<String>,
}

fn pipfile_lock(text: &str) -> Result<Vec<Dependency>, String> {
    let lock: PipfileLockFile = json_doc(text, "Pipfile.lock")?;
    Ok([(&lock.default, "runtime"), (&lock.develop, "dev")]
        .into_iter()
        .flat_map(|(table, scope)| table.iter().map(move |(n, p)| (n, p, scope)))
        .map(|(name, p, scope)| {
            let n = pypi_name(name);
            // `==1.2.3`; packages from a VCS or a path have none
            let version = p.version.as_deref().and_then(|v| v.strip_prefix("=="));
            dep(
                purl("pypi", None, &n, version),
                &n,
                version,
                None,
                None,
                Some(scope),
            )
        })
        .collect())
}

// ---- Ruby ---------------------------------------------------------------------------

fn gemfile_lock(text: &str) -> Vec<Dependency> {
    let mut out = Vec::new();
    let mut direct = std::collections::HashSet::new();
    let mut section = "";
    let mut in_specs = false;
    for line in text.lines() {
        if !line.starts_with(' ') {
            section = line.trim();
            in_specs = false;
            continue;
        }
        if section == "DEPENDENCIES" {
            if let Some(name) = line.split_whitespace().next() {
                direct.insert(name.trim_end_matches('!').to_owned());
            }
            continue;
        }
        if line.trim() == "specs:" {
            in_specs = true;
            continue;
        }
        // a spec is indented four spaces; its own dependencies six
        if in_specs && line.starts_with("    ") && !line.starts_with("     ") {
            let spec = line.trim();
            let (name, version) = match spec.split_once(" (") {
                Some((n, v)) => (n, Some(v.trim_end_matches(')'))),
                None => (spec, None),
            };
            out.push((name.to_owned(), version.map(str::to_owned)));
        }
    }
    out.into_iter()
        .take(MAX_DEPENDENCIES)
        .map(|(name, version)| {
            let d = (!direct.is_empty()).then(|| direct.contains(&name));
            dep(
                purl("gem", None, &name, version.as_deref()),
                &name,
                version.as_deref(),
                None,
                d,
                None,
            )
        })
        .collect()
}

// ---- PHP ----------------------------------------------------------------------------

fn composer_purl(name: &str, version: Option<&str>) -> String {
    match name.split_once('/') {
        Some((vendor, n)) => purl("composer", Some(vendor), n, version),
        None => purl("composer", None, name, version),
    }
}

/// Platform requirements (`php`, `ext-json`) are not packages.
fn composer_platform(name: &str) -> bool {
    !name.contains('/')
}

#[derive(Deserialize)]
struct ComposerJsonFile {
    #[serde(default)]
    require: BTreeMap<String, serde_json::Value>,
    #[serde(default, rename = "require-dev")]
    require_dev: BTreeMap<String, serde_json::Value>,
}

fn composer_json(text: &str) -> Result<Vec<Dependency>, String> {
    let c: ComposerJsonFile = json_doc(text, "composer.json")?;
    let mut out = manifest_entries([(&c.require, "runtime"), (&c.require_dev, "dev")], |name| {
        composer_purl(name, None)
    });
    out.retain(|d| !composer_platform(&d.name));
    Ok(out)
}

#[derive(Deserialize)]
struct ComposerLockFile {
    #[serde(default)]
    packages: Vec<ComposerLocked>,
    #[serde(default, rename = "packages-dev")]
    packages_dev: Vec<ComposerLocked>,
}

#[derive(Deserialize)]
struct ComposerLocked {
    name: String,
    version: Option<String>,
}

fn composer_lock(text: &str) -> Result<Vec<Dependency>, String> {
    let lock: ComposerLockFile = json_doc(text, "composer.lock")?;
    Ok([(&lock.packages, "runtime"), (&lock.packages_dev, "dev")]
        .into_iter()
        .flat_map(|(list, scope)| list.iter().map(move |p| (p, scope)))
        .map(|(p, scope)| {
            dep(
                composer_purl(&p.name, p.version.as_deref()),
                &p.name,
                p.version.as_deref(),
                None,
                None,
                Some(scope),
            )
        })
        .collect())
}

// ---- Java ---------------------------------------------------------------------------

/// A Maven dependency as written, its fields still holding `${property}` references.
#[derive(Default)]
struct PomDependency {
    group: String,
    artifact: String,
    version: String,
    scope: String,
    optional: String,
}

/// `${name}` references replaced from the POM's own properties (and `project.*`,
/// `pom.*`); `None` when one is left that this file cannot resolve (a parent's or a
/// profile's property).
fn pom_resolve(value: &str, props: &std::collections::HashMap<String, String>) -> Option<String> {
    let mut out = value.trim().to_owned();
    for _ in 0..8 {
        let Some(start) = out.find("${") else {
            return Some(out);
        };
        let end = start + out[start..].find('}')?;
        let key = &out[start + 2..end];
        let key = key
            .strip_prefix("pom.")
            .map_or_else(|| key.to_owned(), |k| format!("project.{k}"));
        let value = props.get(&key)?.clone();
        out.replace_range(start..=end, &value);
    }
    (!out.contains("${")).then_some(out)
}

/// pom.xml: the project's `dependencies` (not its plugins' or profiles'), versions taken
/// from `dependencyManagement` where an entry leaves its own out, properties resolved
/// from the same file. A version Maven would find only in a parent POM stays unknown.
fn pom_xml(text: &str) -> Result<Vec<Dependency>, String> {
    use quick_xml::events::Event;
    const DEPENDENCY: &[&str] = &["project", "dependencies", "dependency"];
    const MANAGED: &[&str] = &[
        "project",
        "dependencyManagement",
        "dependencies",
        "dependency",
    ];
    let mut reader = quick_xml::Reader::from_str(text);
    let mut path: Vec<String> = Vec::new();
    let mut text_here = String::new();
    let mut props = std::collections::HashMap::new();
    let mut current = PomDependency::default();
    let mut deps: Vec<PomDependency> = Vec::new();
    let mut managed: Vec<PomDependency> = Vec::new();
    let bad = |e: &dyn std::fmt::Display| format!("dependencies: pom.xml is not valid XML: {e}");
    loop {
        match reader.read_event().map_err(|e| bad(&e))? {
            Event::Eof => break,
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                path.push(name);
                if path.len() > 64 {
                    return Err("dependencies: pom.xml nests over 64 elements deep".into());
                }
                text_here.clear();
            }
            Event::Text(t) => text_here.push_str(&t.decode().map_err(|e| bad(&e))?),
            Event::CData(t) => text_here.push_str(&t.decode().map_err(|e| bad(&e))?),
            Event::GeneralRef(r) => {
                if let Some(c) = r.resolve_char_ref().map_err(|e| bad(&e))? {
                    text_here.push(c);
                } else {
                    let name = r.decode().map_err(|e| bad(&e))?;
                    text_here.push_str(
                        quick_xml::escape::resolve_predefined_entity(&name).unwrap_or(""),
                    );
                }
            }
            Event::End(_) => {
                let p: Vec<&str> = path.iter().map(String::as_str).collect();
                let value = std::mem::take(&mut text_here);
                match p.as_slice() {
                    ["project", "properties", key] => {
                        props.insert((*key).to_owned(), value.trim().to_owned());
                    }
                    ["project", field @ ("version" | "groupId" | "artifactId")] => {
                        props.insert(format!("project.{field}"), value.trim().to_owned());
                    }
                    ["project", "parent", field @ ("version" | "groupId")] => {
                        props.insert(format!("project.parent.{field}"), value.trim().to_owned());
                    }
                    [head @ .., field] if head == DEPENDENCY || head == MANAGED => {
                        let slot = match *field {
                            "groupId" => &mut current.group,
                            "artifactId" => &mut current.artifact,
                            "version" => &mut current.version,
                            "scope" => &mut current.scope,
                            "optional" => &mut current.optional,
                            _ => &mut text_here,
                        };
                        *slot = value.trim().to_owned();
                        text_here.clear();
                    }
                    whole if whole == DEPENDENCY => deps.push(std::mem::take(&mut current)),
                    whole if whole == MANAGED => managed.push(std::mem::take(&mut current)),
                    _ => {}
                }
                path.pop();
                if deps.len() >= MAX_DEPENDENCIES {
                    break;
                }
            }
            _ => {}
        }
    }
    // a child inherits its parent's version and group when it names none
    for (own, parent) in [
        ("project.version", "project.parent.version"),
        ("project.groupId", "project.parent.groupId"),
    ] {
        if let (false, Some(v)) = (props.contains_key(own), props.get(parent).cloned()) {
            props.insert(own.to_owned(), v);
        }
    }
    if let Some(v) = props.get("project.version").cloned() {
        props.entry("version".to_owned()).or_insert(v);
    }
    let managed_version = |g: &str, a: &str| {
        managed
            .iter()
            .find(|m| {
                pom_resolve(&m.group, &props).as_deref() == Some(g)
                    && pom_resolve(&m.artifact, &props).as_deref() == Some(a)
            })
            .map(|m| m.version.clone())
    };
    let mut out = Vec::new();
    for d in &deps {
        let (Some(group), Some(artifact)) = (
            pom_resolve(&d.group, &props),
            pom_resolve(&d.artifact, &props),
        ) else {
            continue;
        };
        if group.is_empty() || artifact.is_empty() {
            continue;
        }
        let written = if d.version.is_empty() {
            managed_version(&group, &artifact).unwrap_or_default()
        } else {
            d.version.clone()
        };
        let resolved = pom_resolve(&written, &props).filter(|v| !v.is_empty());
        // a range (`[1.0,2.0)`) is a requirement; Maven picks the version
        let (version, requirement) = match resolved {
            Some(v) if v.starts_with(['[', '(']) => (None, Some(v)),
            v => (v, None),
        };
        let scope = if d.optional.trim() == "true" {
            "optional"
        } else if d.scope == "test" {
            "dev"
        } else {
            "runtime"
        };
        out.push(dep(
            purl("maven", Some(&group), &artifact, version.as_deref()),
            &format!("{group}:{artifact}"),
            version.as_deref(),
            requirement.as_deref(),
            Some(true),
            Some(scope),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
