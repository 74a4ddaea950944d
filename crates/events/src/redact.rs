//! Redaction of what may be a credential in event-supplied text, before it is written
//! anywhere (dead-letter records, their headers, logs). What stays identifies the
//! record; what goes could authenticate someone.

/// Placeholder for a removed secret.
pub const REDACTED: &str = "<redacted>";

/// `text` with every URL in it redacted: the password of its userinfo (`user:secret@host`
/// → `user:<redacted>@host`) and its query string (a presigned URL's signature is a
/// bearer credential until it expires) are replaced. Scans for `://`; what is not a URL
/// is left as it is.
pub fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        // the URL runs to the next whitespace or quote
        let end = after
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>'))
            .unwrap_or(after.len());
        let (url, tail) = after.split_at(end);
        let (authority, path) = url.split_at(url.find('/').unwrap_or(url.len()));
        match authority.rsplit_once('@') {
            Some((userinfo, host)) => {
                match userinfo.split_once(':') {
                    Some((user, _)) => {
                        out.push_str(user);
                        out.push(':');
                        out.push_str(REDACTED);
                    }
                    // a bare user name is no secret, but a token in its place is: a
                    // user name longer than a login name is treated as a token
                    None if userinfo.len() > 39 => out.push_str(REDACTED),
                    None => out.push_str(userinfo),
                }
                out.push('@');
                out.push_str(host);
            }
            None => out.push_str(authority),
        }
        match path.split_once('?') {
            Some((p, _)) => {
                out.push_str(p);
                out.push('?');
                out.push_str(REDACTED);
            }
            None => out.push_str(path),
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_urls_are_removed_and_the_rest_stays() {
        for (input, want) in [
            (
                "https://user:hunter2@git.example.com/org/repo.git",
                "https://user:<redacted>@git.example.com/org/repo.git",
            ),
            (
                "http://127.0.0.1:9000/b/k?X-Amz-Signature=abc&X-Amz-Credential=AKIA",
                "http://127.0.0.1:9000/b/k?<redacted>",
            ),
            ("ssh://git@host/org/repo.git", "ssh://git@host/org/repo.git"),
            (
                "https://ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@github.com/o/r",
                "https://<redacted>@github.com/o/r",
            ),
            (
                "git fetch from https://x:y@h/r failed; also see https://h/ok",
                "git fetch from https://x:<redacted>@h/r failed; also see https://h/ok",
            ),
            ("no url here", "no url here"),
            ("", ""),
        ] {
            assert_eq!(redact_text(input), want, "{input}");
        }
        assert!(!redact_text("https://u:s3cr3t@h/r").contains("s3cr3t"));
    }
}
