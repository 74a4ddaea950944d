use super::*;

/// Values built at run time so that no scanner flags this source file.
fn fake(prefix: &str, alphabet: &str, len: usize) -> String {
    let a: Vec<char> = alphabet.chars().collect();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let body: String = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            a[(x % a.len() as u64) as usize]
        })
        .collect();
    format!("{prefix}{body}")
}

const ALNUM: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn scan_plain(text: &str) -> Vec<SecretFinding> {
    scan(text, &PathProfile::default(), SecretRules::default())
}

#[test]
fn every_gitleaks_rule_compiles_and_the_set_is_whole() {
    let ids: Vec<&str> = rule_ids().collect();
    assert_eq!(ids.len(), 222, "gitleaks v8.30.1's default rules");
    let unique: std::collections::HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "rule ids are unique");
    // every regex, path and allowlist pattern compiles (the build panics otherwise)
    let _ = path_profile("src/main.rs", SecretRules::default());
}

#[test]
fn each_rule_finds_its_secret_on_its_line_and_never_returns_it() {
    let cases = [
        (
            "aws-access-token",
            format!("aws_id = {}", fake("AKIA", UPPER, 16)),
        ),
        ("github-pat", format!("token: {}", fake("ghp_", ALNUM, 36))),
        ("gitlab-pat", format!("GL={}", fake("glpat-", ALNUM, 20))),
        (
            "jwt",
            format!(
                "auth = {}.{}.{}",
                fake("eyJ", ALNUM, 20),
                fake("eyJ", ALNUM, 30),
                fake("", ALNUM, 20)
            ),
        ),
        (
            "stripe-access-token",
            format!("k = {}", fake("sk_live_", ALNUM, 24)),
        ),
        ("gcp-api-key", format!("key = {}", fake("AIza", ALNUM, 35))),
        (
            "npm-access-token",
            format!("//registry/:_authToken={}", fake("npm_", ALNUM, 36)),
        ),
        (
            "generic-api-key",
            format!("api_secret = \"{}\"", fake("", ALNUM, 24)),
        ),
    ];
    for (rule, line) in &cases {
        let text = format!("first line\n\n{line}\nlast\n");
        let found = scan_plain(&text);
        assert!(
            found.iter().any(|f| f.rule_id == *rule && f.line == 3),
            "{rule} on {line:?}: {found:?}"
        );
        let debug = format!("{found:?}");
        let value = line.split([' ', '=', ':']).next_back().unwrap_or_default();
        assert!(!debug.contains(value.trim_matches('"')), "the value leaked");
    }
    // a private key block spans lines: found on its first
    let key = format!(
        "x\n-----BEGIN RSA {}-----\n{}\n-----END RSA {}-----\n",
        "PRIVATE KEY",
        fake("MIIE", ALNUM, 80),
        "PRIVATE KEY"
    );
    let found = scan_plain(&key);
    assert!(
        found
            .iter()
            .any(|f| f.rule_id == "private-key" && f.line == 2),
        "{found:?}"
    );
}

#[test]
fn placeholders_low_entropy_allowlisted_and_plain_code_are_not_secrets() {
    for text in [
        "password = \"changeme-please\"",
        "api_key = \"xxxxxxxxxxxxxxxx\"",
        "token = \"${GITHUB_TOKEN}\"",
        "secret = \"aaaaaaaaaaaaaaaaaaaa\"",
        "let key = map.get(&token);",
        "fn main() { println!(\"hello\"); }",
        "InvalidEvent::CredentialsInUrl => \"credentials_in_url\",",
    ] {
        assert_eq!(scan_plain(text), vec![], "{text}");
    }
    // the gitleaks:allow comment
    let allowed = format!("token: {} # gitleaks:allow", fake("ghp_", ALNUM, 36));
    assert_eq!(scan_plain(&allowed), vec![]);
    // gitleaks' entropy: characters counted, frequencies over bytes
    assert!(entropy("aaaa") < 0.01);
    assert!((entropy("abcd") - 2.0).abs() < 1e-9);
}

#[test]
fn paths_decide_as_gitleaks_global_and_rule_allowlists_do() {
    let secret = format!("token: {}\n", fake("ghp_", ALNUM, 36));
    // the global allowlist skips lockfiles and vendored Go modules whole
    for path in [
        "package-lock.json",
        "vendor/golang.org/x/net/a.go",
        "go.sum",
    ] {
        let p = path_profile(path, SecretRules::default());
        assert_eq!(p.key(), "skip", "{path}");
        assert_eq!(scan(&secret, &p, SecretRules::default()), vec![], "{path}");
    }
    // a rule's own path allowlist skips that rule only
    let p = path_profile("node/@octokit/auth-token/README.md", SecretRules::default());
    assert!(
        !scan(&secret, &p, SecretRules::default())
            .iter()
            .any(|f| f.rule_id == "github-pat")
    );
    assert!(
        scan_plain(&secret)
            .iter()
            .any(|f| f.rule_id == "github-pat")
    );
    // a rule on a path alone reports the file
    let p = path_profile("certs/client.p12", SecretRules::default());
    let found = path_findings(&p, SecretRules::default());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].rule_id, "pkcs12-file");
    assert!(
        path_findings(
            &path_profile("src/main.rs", SecretRules::default()),
            SecretRules::default()
        )
        .is_empty()
    );
}

#[test]
fn fingerprints_follow_the_rule_path_and_line_not_the_line_number() {
    let line = format!("token: {}", fake("ghp_", ALNUM, 36));
    let at = |text: &str, path: &str| {
        let mut f = scan_plain(text)
            .into_iter()
            .find(|f| f.rule_id == "github-pat")
            .expect("found");
        fingerprint(&mut f, path);
        f
    };
    let a = at(&format!("{line}\n"), "a.txt");
    let moved = at(&format!("\n\n\n{line}\n"), "a.txt");
    let other = at(&format!("{line}\n"), "b.txt");
    let fp = a.fingerprint.clone().expect("a fingerprint");
    assert_eq!(fp.len(), 32);
    assert!(fp.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(moved.fingerprint, a.fingerprint, "moving the line keeps it");
    assert_ne!(other.fingerprint, a.fingerprint, "another file changes it");
    assert!(!fp.contains(&line[8..20]), "never the value");
}

fn scan_with(rules: SecretRules, text: &str) -> Vec<(String, u64)> {
    scan(text, &path_profile("app.cfg", rules), rules)
        .into_iter()
        .map(|f| (f.rule_id, f.line))
        .collect()
}

#[test]
fn a_configuration_of_ones_own_replaces_or_extends_the_defaults() {
    let aws = "key = AKIAZ7VRSUMGHEZQMEWA\n";
    let own = SecretRules::from_gitleaks_toml(
        "[[rules]]\nid = \"internal-token\"\nregex = '''itk_[a-z0-9]{20}'''\nkeywords = [\"itk_\"]\n",
    )
    .expect("compiles");
    assert_eq!(own.len(), 1);
    assert_ne!(own.key(), SecretRules::default().key());
    let text = format!("{aws}token = itk_{}\n", "a1b2c3d4e5f6g7h8i9j0");
    assert_eq!(scan_with(own, &text), [("internal-token".to_owned(), 2)]);
    // extended: the defaults stay, less the disabled
    let extended = SecretRules::from_gitleaks_toml(
        "[extend]\nuseDefault = true\ndisabledRules = [\"generic-api-key\"]\n[[rules]]\nid = \"internal-token\"\nregex = '''itk_[a-z0-9]{20}'''\n",
    )
    .expect("compiles");
    assert_eq!(extended.len(), SecretRules::default().len());
    assert_eq!(
        scan_with(extended, &text),
        [
            ("aws-access-token".to_owned(), 1),
            ("internal-token".to_owned(), 2)
        ]
    );
    let disabled = SecretRules::from_gitleaks_toml(
        "[extend]\nuseDefault = true\ndisabledRules = [\"aws-access-token\", \"generic-api-key\"]\n",
    )
    .expect("compiles");
    assert!(scan_with(disabled, &text).is_empty());
    // a global allowlist for one rule only
    let targeted = SecretRules::from_gitleaks_toml(
        "[extend]\nuseDefault = true\ndisabledRules = [\"generic-api-key\"]\n[[allowlists]]\ntargetRules = [\"aws-access-token\"]\nregexes = ['''^AKIAZ7''']\n",
    )
    .expect("compiles");
    assert!(scan_with(targeted, &text).is_empty());
}

#[test]
fn composite_rules_report_only_near_their_requirements() {
    let rules = SecretRules::from_gitleaks_toml(
        r#"
[[rules]]
id = "password"
regex = '''password\s*=\s*"([^"]+)"'''
keywords = ["password"]
[[rules.required]]
id = "user"
withinLines = 2
[[rules.required]]
id = "host"

[[rules]]
id = "user"
regex = '''user\s*=\s*"[^"]+"'''
keywords = ["user"]
skipReport = true

[[rules]]
id = "host"
regex = '''host\s*=\s*"[^"]+"'''
keywords = ["not-in-the-file"]
skipReport = true

[[rules]]
id = "column"
regex = '''KEY-[0-9]{4}'''
[[rules.required]]
id = "marker"
withinColumns = 5

[[rules]]
id = "marker"
regex = '''<m>'''
skipReport = true
"#,
    )
    .expect("compiles");
    let text = "host = \"db\"\nuser = \"a\"\npassword = \"near-the-user\"\n\n\n\npassword = \"far-from-it\"\n<m> KEY-1234\nxxxxxxxxxxxx KEY-5678\n";
    // the required host rule runs though its keywords are not in the file (gitleaks
    // prefilters only the rules it reports); skipReport rules never report alone
    assert_eq!(
        scan_with(rules, text),
        [("password".to_owned(), 3), ("column".to_owned(), 8)]
    );
    // without the host anywhere, no password stands
    assert_eq!(
        scan_with(rules, &text.replace("host", "hast")),
        [("column".to_owned(), 8)]
    );
}

#[test]
fn configurations_that_would_not_work_are_refused_naming_why() {
    for (toml, want) in [
        ("[[rules]\n", "not a gitleaks configuration"),
        ("[[rules]]\nregex = 'x'\n", "a rule has no id"),
        (
            "[[rules]]\nid = \"x\"\n",
            "rule \"x\" has neither a regex nor a path",
        ),
        (
            "[[rules]]\nid = \"x\"\nregex = '''(unclosed'''\n",
            "rule \"x\": its regex does not compile",
        ),
        (
            "[[rules]]\nid = \"x\"\nregex = 'a'\n[[rules.allowlists]]\npaths = ['''[''']\n",
            "rule \"x\": an allowlist path does not compile",
        ),
        (
            "[[rules]]\nid = \"x\"\nregex = 'a'\n[[rules.required]]\nid = \"y\"\n",
            "rule \"x\" requires rule \"y\"",
        ),
        (
            "[extend]\npath = \"/etc/other.toml\"\n",
            "[extend] path is not supported",
        ),
    ] {
        let e = SecretRules::from_gitleaks_toml(toml).expect_err(toml);
        assert!(e.to_string().starts_with(want), "{toml}: {e}");
    }
}
