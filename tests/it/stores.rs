//! Object-store credentials from the AWS default chain, against the real MinIO: a
//! profile whose `credential_process` hands out the keys (what SSO helpers, Vault and
//! `aws-vault` do), with no key in the environment.

use std::os::unix::fs::PermissionsExt as _;
use std::process::Command;

use serde_json::Value;
use tributary_tests::{Args, Services, unique, workspace_bin};

#[tokio::test]
async fn a_profile_with_credential_process_reaches_the_store() {
    let svc = Services::require();
    let dir = tempfile::tempdir().expect("tempdir");
    // the helper prints the keys in the process-credentials format and counts its calls
    let calls = dir.path().join("calls");
    let helper = dir.path().join("credential-helper");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\necho call >> '{}'\nprintf '{{\"Version\": 1, \"AccessKeyId\": \"%s\", \"SecretAccessKey\": \"%s\"}}' '{}' '{}'\n",
            calls.display(),
            svc.s3_access_key,
            svc.s3_secret_key
        ),
    )
    .expect("write helper");
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let config = dir.path().join("aws-config");
    std::fs::write(
        &config,
        format!(
            "[profile tributary-it]\ncredential_process = {}\nregion = {}\n",
            helper.display(),
            svc.s3_region
        ),
    )
    .expect("write config");
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    std::fs::write(repo.join("a.txt"), "a\n").expect("write");

    let args = Args::new(["check", "--format", "json"])
        .flag("repo", repo.to_str().expect("utf-8"))
        .flag("brokers", &svc.kafka_brokers)
        .flag("topic", unique("stores-check"))
        .flag("storage-provider", "minio")
        .flag("storage-endpoint", &svc.s3_endpoint)
        .flag("storage-bucket", &svc.s3_bucket);
    let out = Command::new(workspace_bin("tributary-publisher"))
        .args(&args)
        // no key in the environment, no shared credentials file, no instance metadata:
        // only the profile can answer
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("none"))
        .env("AWS_PROFILE", "tributary-it")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("publisher runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let v: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("check prints JSON ({e}):\n{stdout}\n{stderr}"));
    let lines = v["checks"].as_array().expect("checks");
    for store in [
        "object store",
        "object store write",
        "object store read",
        "object store presigned GET",
        "object store delete",
    ] {
        let line = lines
            .iter()
            .find(|l| l["check"] == store)
            .unwrap_or_else(|| panic!("no {store} line: {v}"));
        assert_eq!(line["ok"], true, "{store}: {line}\n{stderr}");
    }
    let called = std::fs::read_to_string(&calls).unwrap_or_default();
    assert!(
        called.lines().count() >= 1,
        "the credential process was not called"
    );
    for text in [&stdout, &stderr] {
        assert!(
            !text.contains(&svc.s3_secret_key),
            "the secret key was printed"
        );
    }
}
