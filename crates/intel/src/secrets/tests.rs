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
            "private-key",
            format!("-----BEGIN RSA {}-----", "PRIVATE KEY"),
        ),
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
        let found = scan(&text);
        assert_eq!(
            found,
            vec![SecretFinding {
                rule_id: (*rule).to_owned(),
                line: 3
            }],
            "{rule} on {line:?}"
        );
        let debug = format!("{found:?}");
        let value = line.split([' ', '=', ':']).next_back().unwrap_or_default();
        assert!(!debug.contains(value.trim_matches('"')), "the value leaked");
    }
    assert!(rule_ids().count() >= 20);
}

#[test]
fn placeholders_low_entropy_and_plain_code_are_not_secrets() {
    for text in [
        "password = \"changeme-please\"",
        "api_key = \"xxxxxxxxxxxxxxxx\"",
        "token = \"${GITHUB_TOKEN}\"",
        "secret = \"aaaaaaaaaaaaaaaaaaaa\"",
        "let key = map.get(&token);",
        "AKIAEXAMPLEEXAMPLE12",
        "fn main() { println!(\"hello\"); }",
        // identifiers, package lists, paths: not secrets
        "InvalidEvent::CredentialsInUrl => \"credentials_in_url\",",
        " \"lock_api\",\n \"winapi-i686-pc-windows-gnu\",",
        "\"object_key\": \"projects/acme/widgets/91e3faafd322bcdf160f3f0ce886acb092b9b9e2a1e8526b40f21a8898a8700b.bin\"",
    ] {
        assert_eq!(scan(text), vec![], "{text}");
    }
    assert!(entropy("aaaa") < 0.01);
    assert!((entropy("abcd") - 2.0).abs() < 1e-9);
}

#[test]
fn a_specific_rule_beats_the_generic_one_on_the_same_line() {
    let line = format!("github_token = \"{}\"", fake("ghp_", ALNUM, 36));
    let found = scan(&line);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule_id, "github-pat");
}
