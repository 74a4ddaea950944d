use super::*;

// Two ed25519 host keys and the same entries hashed by `ssh-keygen -H` (OpenSSH 9.2).
const K1: &str = "AAAAC3NzaC1lZDI1NTE5AAAAICoDT8Rd7wbvl1ST6tucLvqXYqWeNSSGe4cAyIUDx6uK";
const K2: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIEL129sO4wtolN9ikq8wYXXZ/nH0+Q3xBq1GhztDhyUW";
const HASHED: &str = "\
|1|3fJ/IXrt42PWA+qvaivVdOaAHMU=|aVwKYIONNk3wCBH4SP/ZJRh6nLo= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICoDT8Rd7wbvl1ST6tucLvqXYqWeNSSGe4cAyIUDx6uK
|1|wsuwjda1yXkUoBUcS/HbmZtV1rA=|WzwjbwD8cJa8cYZ37emxmrTF+8o= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEL129sO4wtolN9ikq8wYXXZ/nH0+Q3xBq1GhztDhyUW
";

fn key(b64: &str) -> Vec<u8> {
    STANDARD.decode(b64).expect("base64")
}

#[test]
fn hosts_ports_patterns_and_hashed_names() {
    let plain = KnownHosts::parse(&format!(
        "# comment\n\ngit.example.com ssh-ed25519 {K1}\n[git.example.com]:2222 ssh-ed25519 {K2}\n*.corp.example,!evil.corp.example ssh-ed25519 {K2}\n"
    ))
    .expect("parse");
    let hashed = KnownHosts::parse(HASHED).expect("parse");
    assert_eq!((plain.len(), hashed.len()), (3, 2));
    use Verdict::*;
    let cases: &[(&str, u16, &str, Verdict)] = &[
        ("git.example.com", 22, K1, Known),
        ("GIT.example.com", 22, K1, Known),
        ("git.example.com", 22, K2, Mismatch),
        ("git.example.com", 2222, K2, Known),
        ("git.example.com", 2222, K1, Mismatch),
        ("git.example.com", 2200, K1, Unknown),
        ("other.example.com", 22, K1, Unknown),
    ];
    for (kh, name) in [(&plain, "plain"), (&hashed, "hashed")] {
        for &(host, port, k, want) in cases {
            assert_eq!(kh.check(host, port, &key(k)), want, "{name} {host}:{port}");
        }
    }
    assert_eq!(plain.check("a.corp.example", 22, &key(K2)), Known);
    assert_eq!(plain.check("evil.corp.example", 22, &key(K2)), Unknown);
    assert_eq!(plain.check("corp.example", 22, &key(K2)), Unknown);
}

#[test]
fn a_revoked_key_is_refused_even_where_listed() {
    let kh = KnownHosts::parse(&format!(
        "git.example.com ssh-ed25519 {K1}\n@revoked * ssh-ed25519 {K1}\n@cert-authority *.example.com ssh-ed25519 {K2}\n"
    ))
    .expect("parse");
    assert_eq!(kh.len(), 2, "cert-authority lines are skipped");
    assert_eq!(kh.check("git.example.com", 22, &key(K1)), Verdict::Revoked);
    // the CA key is not a host key
    assert_eq!(kh.check("a.example.com", 22, &key(K2)), Verdict::Unknown);
}

#[test]
fn malformed_lines_are_errors_with_their_line_number() {
    let cases = [
        ("host\n", 1, "no key type"),
        ("# c\nhost ssh-ed25519\n", 2, "no key"),
        ("host ssh-ed25519 not*base64\n", 1, "the key is not base64"),
        ("@bogus host ssh-ed25519 AAAA\n", 1, "unknown @marker"),
        ("|1|nosep ssh-ed25519 AAAA\n", 1, "bad hashed host"),
    ];
    for (text, line, why) in cases {
        assert_eq!(
            KnownHosts::parse(text),
            Err(KnownHostsError { line, why }),
            "{text:?}"
        );
    }
}

#[test]
fn wildcards_match_like_openssh() {
    let cases = [
        ("*", "anything", true),
        ("*.example.com", "a.b.example.com", true),
        ("*.example.com", "example.com", false),
        ("git?.example.com", "git1.example.com", true),
        ("git?.example.com", "git12.example.com", false),
        ("a*b*c", "aXXbYYc", true),
        ("a*b*c", "aXXbYY", false),
        ("**", "", true),
    ];
    for (p, n, want) in cases {
        assert_eq!(wildcard(p.as_bytes(), n.as_bytes()), want, "{p} ~ {n}");
    }
    // a hostile pattern costs pattern × name steps, not exponential time
    let p = "*a".repeat(200) + "b";
    assert!(!wildcard(p.as_bytes(), "a".repeat(5000).as_bytes()));
}
