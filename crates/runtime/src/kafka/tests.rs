use super::*;

#[test]
fn roles_set_what_the_guarantees_need() {
    let conn = Connection::plaintext("b:9092");
    let p = producer(
        &conn,
        ProducerOptions {
            message_timeout_ms: Some(30_000),
            ..ProducerOptions::new(Compression::Lz4, 50)
        },
    );
    assert_eq!(p.get("enable.idempotence"), Some("true"));
    assert_eq!(p.get("compression.type"), Some("lz4"));
    assert_eq!(p.get("message.timeout.ms"), Some("30000"));
    assert_eq!(p.get("queue.buffering.max.kbytes"), None);
    let d = group_consumer(&conn, "g", OffsetMode::StoredThenAutoCommitted);
    assert_eq!(d.get("enable.auto.offset.store"), Some("false"));
    assert_eq!(d.get("enable.auto.commit"), Some("true"));
    let m = group_consumer(&conn, "g", OffsetMode::ManualCommit);
    assert_eq!(m.get("enable.auto.commit"), Some("false"));
    assert_eq!(m.get("enable.auto.offset.store"), None);
    for c in [Compression::Zstd, Compression::None] {
        assert_eq!(
            Compression::from_str(c.as_str(), false).expect("clap name"),
            c
        );
    }
}

// ---- security settings ---------------------------------------------------------------

/// A file holding `content`, and an `env:`-free reference to it.
fn secret_file(dir: &std::path::Path, name: &str, content: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, content).expect("write secret");
    format!("file:{}", p.display())
}

#[test]
fn scram_over_tls_sets_librdkafka_properties_and_hides_the_password() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, "pem").expect("ca");
    let conn = Connection::new(
        "b1:9094,b2:9094",
        SecurityInput {
            sasl_mechanism: Some(SaslMechanism::ScramSha512),
            sasl_username: Some("svc".into()),
            sasl_password: Some(secret_file(dir, "pw", "hunter2-secret\n")),
            ca_file: Some(ca.clone()),
            ..SecurityInput::default()
        },
    )
    .expect("valid");
    // SASL with TLS settings defaults to SASL_SSL
    assert_eq!(conn.protocol, SecurityProtocol::SaslSsl);
    let mut c = ClientConfig::new();
    conn.apply(&mut c);
    assert_eq!(c.get("security.protocol"), Some("sasl_ssl"));
    assert_eq!(c.get("sasl.mechanism"), Some("SCRAM-SHA-512"));
    assert_eq!(c.get("sasl.username"), Some("svc"));
    assert_eq!(c.get("sasl.password"), Some("hunter2-secret"), "trimmed");
    assert_eq!(c.get("ssl.ca.location"), ca.to_str());
    assert_eq!(
        c.get("ssl.endpoint.identification.algorithm"),
        Some("https")
    );
    let shown = format!("{conn:?} {:?}", conn.describe());
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("file:"), "{shown}");
}

#[test]
fn mutual_tls_reads_the_key_from_a_file_or_pem_from_a_reference() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let cert = dir.join("client.pem");
    std::fs::write(&cert, "cert").expect("cert");
    let key_ref = secret_file(dir, "client.key", "KEY");
    let conn = Connection::new(
        "b:9095",
        SecurityInput {
            cert_file: Some(cert),
            key: Some(key_ref.clone()),
            no_verify_hostname: true,
            ..SecurityInput::default()
        },
    )
    .expect("valid");
    assert_eq!(conn.protocol, SecurityProtocol::Ssl);
    let mut c = ClientConfig::new();
    conn.apply(&mut c);
    assert_eq!(c.get("ssl.key.location"), key_ref.strip_prefix("file:"));
    assert_eq!(c.get("ssl.key.pem"), None);
    assert_eq!(c.get("ssl.endpoint.identification.algorithm"), Some("none"));
}

#[test]
fn settings_that_cannot_work_are_refused_naming_the_setting() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let pw = secret_file(dir, "pw", "pw");
    let empty = secret_file(dir, "empty", "  \n");
    let missing_ca = dir.join("no-such-ca.pem");
    type Case = (&'static str, &'static str, SecurityInput, &'static str);
    let cases: Vec<Case> = vec![
        (
            "empty broker list",
            "",
            SecurityInput::default(),
            "--brokers",
        ),
        ("no port", "broker", SecurityInput::default(), "--brokers"),
        ("bad port", "b:99999", SecurityInput::default(), "--brokers"),
        (
            "space in host",
            "a b:9092",
            SecurityInput::default(),
            "--brokers",
        ),
        (
            "plain password",
            "b:9092",
            SecurityInput {
                sasl_mechanism: Some(SaslMechanism::Plain),
                sasl_username: Some("u".into()),
                sasl_password: Some("hunter2".into()),
                ..SecurityInput::default()
            },
            "--kafka-sasl-password: expected a reference",
        ),
        (
            "unset variable",
            "b:9092",
            SecurityInput {
                sasl_mechanism: Some(SaslMechanism::Plain),
                sasl_username: Some("u".into()),
                sasl_password: Some("env:TRIBUTARY_TEST_SURELY_UNSET_VARIABLE".into()),
                ..SecurityInput::default()
            },
            "--kafka-sasl-password: cannot read env:TRIBUTARY_TEST_SURELY_UNSET_VARIABLE",
        ),
        (
            "empty secret",
            "b:9092",
            SecurityInput {
                sasl_mechanism: Some(SaslMechanism::Plain),
                sasl_username: Some("u".into()),
                sasl_password: Some(empty),
                ..SecurityInput::default()
            },
            "it is empty",
        ),
        (
            "no username",
            "b:9092",
            SecurityInput {
                sasl_mechanism: Some(SaslMechanism::ScramSha256),
                sasl_password: Some(pw.clone()),
                ..SecurityInput::default()
            },
            "--kafka-sasl-username",
        ),
        (
            "SASL on a TLS-only protocol",
            "b:9092",
            SecurityInput {
                protocol: Some(SecurityProtocol::Ssl),
                sasl_mechanism: Some(SaslMechanism::Plain),
                sasl_username: Some("u".into()),
                sasl_password: Some(pw.clone()),
                ..SecurityInput::default()
            },
            "needs --kafka-security-protocol SASL_SSL",
        ),
        (
            "SASL protocol without mechanism",
            "b:9092",
            SecurityInput {
                protocol: Some(SecurityProtocol::SaslSsl),
                ..SecurityInput::default()
            },
            "needs --kafka-sasl-mechanism",
        ),
        (
            "TLS file on plaintext",
            "b:9092",
            SecurityInput {
                protocol: Some(SecurityProtocol::Plaintext),
                ca_file: Some(dir.join("x")),
                ..SecurityInput::default()
            },
            "--kafka-tls-ca-file is a TLS setting",
        ),
        (
            "missing CA file",
            "b:9092",
            SecurityInput {
                ca_file: Some(missing_ca),
                ..SecurityInput::default()
            },
            "--kafka-tls-ca-file: cannot read",
        ),
        (
            "certificate without key",
            "b:9092",
            SecurityInput {
                cert_file: Some(dir.join("pw")),
                ..SecurityInput::default()
            },
            "both --kafka-tls-cert-file and --kafka-tls-key",
        ),
        (
            "MSK IAM without region",
            "b:9098",
            SecurityInput {
                sasl_mechanism: Some(SaslMechanism::AwsMskIam),
                ..SecurityInput::default()
            },
            "--kafka-aws-region",
        ),
        (
            "guarded property",
            "b:9092",
            SecurityInput {
                properties: vec!["enable.idempotence=false".into()],
                ..SecurityInput::default()
            },
            "-X enable.idempotence: refused",
        ),
        (
            "guarded offset store",
            "b:9092",
            SecurityInput {
                properties: vec!["enable.auto.offset.store=true".into()],
                ..SecurityInput::default()
            },
            "-X enable.auto.offset.store: refused",
        ),
        (
            "property twice",
            "b:9092",
            SecurityInput {
                properties: vec!["security.protocol=ssl".into()],
                ..SecurityInput::default()
            },
            "also set by --kafka-security-protocol",
        ),
        (
            "no equals sign",
            "b:9092",
            SecurityInput {
                properties: vec!["linger.ms".into()],
                ..SecurityInput::default()
            },
            "expected key=value",
        ),
        (
            "secret property as a value",
            "b:9092",
            SecurityInput {
                properties: vec!["sasl.password=hunter2".into()],
                ..SecurityInput::default()
            },
            "-X: expected a reference",
        ),
    ];
    for (name, brokers, input, expected) in cases {
        let err = Connection::new(brokers, input).expect_err(name).to_string();
        assert!(err.contains(expected), "{name}: {err}");
        assert!(!err.contains("hunter2"), "{name} leaks the value: {err}");
    }
}

#[test]
fn pass_through_reaches_librdkafka_with_secrets_resolved() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let secret = secret_file(dir, "s", "the-secret");
    let conn = Connection::new(
        "b:9092",
        SecurityInput {
            properties: vec![
                "client.id=tributary-test".into(),
                "socket.keepalive.enable = true".into(),
                format!("ssl.keystore.password={secret}"),
            ],
            ..SecurityInput::default()
        },
    )
    .expect("valid");
    let mut c = ClientConfig::new();
    conn.apply(&mut c);
    assert_eq!(c.get("client.id"), Some("tributary-test"));
    assert_eq!(c.get("socket.keepalive.enable"), Some(" true"));
    assert_eq!(c.get("ssl.keystore.password"), Some("the-secret"));
    assert!(!format!("{conn:?}").contains("the-secret"));
    assert!(
        conn.describe()
            .iter()
            .any(|(k, v)| k == "X ssl.keystore.password" && v == &secret)
    );
}

#[test]
fn every_producer_and_consumer_carries_the_security_settings() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let conn = Connection::new(
        "b:9094",
        SecurityInput {
            sasl_mechanism: Some(SaslMechanism::Plain),
            sasl_username: Some("u".into()),
            sasl_password: Some(secret_file(dir, "pw", "pw")),
            properties: vec!["client.id=x".into()],
            ..SecurityInput::default()
        },
    )
    .expect("valid");
    let p = producer(&conn, ProducerOptions::new(Compression::Zstd, 5));
    let g = group_consumer(&conn, "g", OffsetMode::ManualCommit);
    for c in [p, g] {
        assert_eq!(c.get("bootstrap.servers"), Some("b:9094"));
        assert_eq!(c.get("security.protocol"), Some("sasl_ssl"));
        assert_eq!(c.get("sasl.mechanism"), Some("PLAIN"));
        assert_eq!(c.get("client.id"), Some("x"));
    }
}

// ---- MSK IAM ---------------------------------------------------------------------------

fn creds(expiry: Option<std::time::SystemTime>) -> aws_credential_types::Credentials {
    aws_credential_types::Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        Some("session-token".into()),
        expiry,
        "test",
    )
}

fn decode(token: &str) -> url::Url {
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .expect("base64url without padding");
    url::Url::parse(std::str::from_utf8(&raw).expect("utf-8")).expect("a URL")
}

/// SigV4 query signing written out from AWS's specification, independently of
/// aws-sigv4, to check the token's signature.
fn expected_signature(url: &url::Url, secret: &str, region: &str, date: &str) -> String {
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};
    type H = Hmac<Sha256>;
    let mac = |key: &[u8], data: &str| {
        let mut m = H::new_from_slice(key).expect("key");
        m.update(data.as_bytes());
        m.finalize().into_bytes().to_vec()
    };
    let enc = |s: &str| {
        url::form_urlencoded::byte_serialize(s.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
            .replace('*', "%2A")
            .replace("%7E", "~")
    };
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "X-Amz-Signature" && k != "User-Agent")
        .map(|(k, v)| (enc(&k), enc(&v)))
        .collect();
    pairs.sort();
    let query = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let host = url.host_str().expect("host");
    let canonical = format!(
        "GET\n/\n{query}\nhost:{host}\n\nhost\n{}",
        hex::encode(Sha256::digest(b""))
    );
    let amz_date = url
        .query_pairs()
        .find(|(k, _)| k == "X-Amz-Date")
        .expect("date")
        .1
        .into_owned();
    let scope = format!("{date}/{region}/kafka-cluster/aws4_request");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let k = mac(format!("AWS4{secret}").as_bytes(), date);
    let k = mac(&k, region);
    let k = mac(&k, "kafka-cluster");
    let k = mac(&k, "aws4_request");
    hex::encode(mac(&k, &to_sign))
}

#[test]
fn msk_iam_token_is_a_correctly_signed_connect_url() {
    // 2024-01-14T12:25:49Z
    let now = std::time::UNIX_EPOCH + Duration::from_secs(1_705_235_149);
    let token = sign_token(&creds(None), "eu-west-1", now).expect("signed");
    assert!(!token.value.contains('='), "no padding");
    let url = decode(&token.value);
    assert_eq!(url.host_str(), Some("kafka.eu-west-1.amazonaws.com"));
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["Action"], "kafka-cluster:Connect");
    assert_eq!(q["X-Amz-Algorithm"], "AWS4-HMAC-SHA256");
    assert_eq!(
        q["X-Amz-Credential"],
        "AKIDEXAMPLE/20240114/eu-west-1/kafka-cluster/aws4_request"
    );
    assert_eq!(q["X-Amz-Date"], "20240114T122549Z");
    assert_eq!(q["X-Amz-Expires"], "900");
    assert_eq!(q["X-Amz-SignedHeaders"], "host");
    assert_eq!(q["X-Amz-Security-Token"], "session-token");
    assert!(q["User-Agent"].starts_with("tributary/"));
    assert_eq!(
        q["X-Amz-Signature"],
        expected_signature(
            &url,
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "eu-west-1",
            "20240114"
        )
    );
    // the token lives 15 minutes
    assert_eq!(token.expires_at_ms, (1_705_235_149 + 900) * 1000);
    // signing is deterministic for a given time, and differs a second later
    let again = sign_token(&creds(None), "eu-west-1", now).expect("signed");
    assert_eq!(again, token);
    let later =
        sign_token(&creds(None), "eu-west-1", now + Duration::from_secs(1)).expect("signed");
    assert_ne!(later.value, token.value);
}

#[test]
fn msk_iam_token_expires_with_short_lived_credentials_and_refreshes_ahead() {
    let now = std::time::UNIX_EPOCH + Duration::from_secs(1_705_235_149);
    let soon = now + Duration::from_secs(120);
    let token = sign_token(&creds(Some(soon)), "us-east-1", now).expect("signed");
    assert_eq!(token.expires_at_ms, (1_705_235_149 + 120) * 1000);
    // credentials: refreshed 5 minutes before expiry, never sooner than 10 s, and
    // re-read every 15 minutes when they have no expiry
    let cases = [
        (
            Some(now + Duration::from_secs(3600)),
            Duration::from_secs(3300),
        ),
        (
            Some(now + Duration::from_secs(200)),
            Duration::from_secs(10),
        ),
        (Some(now - Duration::from_secs(5)), Duration::from_secs(10)),
        (None, Duration::from_secs(900)),
    ];
    for (expiry, expected) in cases {
        assert_eq!(next_refresh(expiry, now), expected, "{expiry:?}");
    }
}

#[tokio::test]
async fn msk_iam_source_signs_with_credentials_from_its_provider() {
    let provider = aws_credential_types::provider::SharedCredentialsProvider::new(creds(None));
    let iam = Arc::new(MskIam::with_provider("ap-south-1".into(), provider));
    assert!(matches!(iam.token(), Err(MskIamError::NotLoaded)));
    iam.start().await.expect("credentials");
    let conn_ctx = Context {
        msk_iam: Some(iam.clone()),
        ..Context::default()
    };
    let t = conn_ctx.oauth_token().expect("token");
    let url = decode(&t.token);
    assert_eq!(url.host_str(), Some("kafka.ap-south-1.amazonaws.com"));
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    assert!(
        (t.lifetime_ms - now_ms - 900_000).abs() < 5_000,
        "{}",
        t.lifetime_ms
    );
    // without a token source, OAUTHBEARER refreshes are refused with a reason
    let Err(none) = Context::default().oauth_token() else {
        panic!("a token without a source")
    };
    assert!(none.to_string().contains("AWS_MSK_IAM"));
}

#[test]
fn broker_connections_lost_silent_and_restored_are_reported_once_each() {
    let mut states = BrokerStates::default();
    let lost = |b: &str, s: &str| BrokerChange::Lost {
        broker: b.into(),
        state: s.into(),
    };
    let silent = |b: &str, secs| BrokerChange::Silent {
        broker: b.into(),
        secs,
    };
    let restored = |b: &str| BrokerChange::Restored { broker: b.into() };
    let quiet_us = i64::try_from(SILENT_AFTER.as_micros()).expect("fits");
    let b = |name, state, rxidle_us, waiting| BrokerReport {
        name,
        state,
        rxidle_us,
        waiting,
    };
    // (report, what it changes)
    type Step<'a> = (Vec<BrokerReport<'a>>, Vec<BrokerChange>);
    let steps: Vec<Step<'_>> = vec![
        // connecting, then up: nothing to report (never lost)
        (
            vec![b("k1/1", "CONNECT", -1, 0), b("k2/2", "INIT", -1, 0)],
            vec![],
        ),
        (
            vec![b("k1/1", "UP", 1_000, 1), b("k2/2", "INIT", -1, 0)],
            vec![],
        ),
        // idle for long but nothing asked: not silent (a quiet producer)
        (
            vec![b("k1/1", "UP", quiet_us * 4, 0), b("k2/2", "INIT", -1, 0)],
            vec![],
        ),
        // requests waiting, nothing back: silent, once
        (
            vec![b("k1/1", "UP", quiet_us, 3), b("k2/2", "INIT", -1, 0)],
            vec![silent("k1/1", 30)],
        ),
        (
            vec![b("k1/1", "UP", quiet_us * 2, 3), b("k2/2", "INIT", -1, 0)],
            vec![],
        ),
        // answering again
        (
            vec![b("k1/1", "UP", 2_000, 1), b("k2/2", "INIT", -1, 0)],
            vec![restored("k1/1")],
        ),
        // k1 drops: reported once, not again while it stays down
        (
            vec![b("k1/1", "DOWN", -1, 0), b("k2/2", "INIT", -1, 0)],
            vec![lost("k1/1", "DOWN")],
        ),
        (
            vec![b("k1/1", "CONNECT", -1, 0), b("k2/2", "INIT", -1, 0)],
            vec![],
        ),
        // back up; k2 (never up) stays unreported
        (
            vec![b("k1/1", "UP", 100, 0), b("k2/2", "DOWN", -1, 0)],
            vec![restored("k1/1")],
        ),
        // silent, then gone
        (
            vec![b("k1/1", "UP", quiet_us + 5_000_000, 1)],
            vec![silent("k1/1", 35)],
        ),
        (
            vec![b("k1/1", "TRY_CONNECT", -1, 0)],
            vec![lost("k1/1", "TRY_CONNECT")],
        ),
    ];
    for (i, (report, want)) in steps.into_iter().enumerate() {
        assert_eq!(states.observe(report), want, "step {i}");
    }
    assert_eq!(states.connected(), 0);
    assert!(states.observe([b("k1/1", "UP", 10, 0)]).len() == 1);
    assert_eq!(states.connected(), 1);
}
