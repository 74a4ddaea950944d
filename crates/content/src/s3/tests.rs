use super::*;

fn config() -> S3Config {
    S3Config {
        bucket: "b".into(),
        region: "us-east-1".into(),
        endpoint: Some("http://127.0.0.1:9000".into()),
        force_path_style: true,
        credentials: Some(StaticCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        }),
        server_side_encryption: None,
        operation_timeout_secs: 60,
        max_attempts: 4,
    }
}

#[test]
fn debug_never_shows_the_secret() {
    let shown = format!("{:?}", config());
    assert!(shown.contains("AKIDEXAMPLE"));
    assert!(!shown.contains("wJalrXUtnFEMI"), "{shown}");
}

#[test]
fn validation_rejects_bad_settings() {
    let mut c = config();
    c.bucket.clear();
    assert!(matches!(c.validate(), Err(ContentError::Config(_))));
    let mut c = config();
    c.endpoint = Some("127.0.0.1:9000".into());
    let err = c.validate().expect_err("scheme-less endpoint");
    assert!(err.to_string().contains("not an http(s) URL"));
    assert!(!err.is_retryable());
    assert!(config().validate().is_ok());
}
