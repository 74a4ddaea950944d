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
    let (_, lines) = tributary_tests::check_lines(&stdout, &stderr);
    for store in [
        "object store",
        "object store write",
        "object store read",
        "object store presigned GET",
        "object store delete",
    ] {
        let line = lines
            .get(store)
            .unwrap_or_else(|| panic!("no {store} line: {lines:#?}"));
        assert!(line.0, "{store}: {line:?}\n{stderr}");
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

/// The GCS emulator's coordinates (deploy/local/services: fake-gcs-server behind nginx).
fn gcs_args() -> Args {
    let var = |n: &str| {
        std::env::var(n).unwrap_or_else(|_| {
            panic!("{n} is not set; start deploy/local/services up and eval its env")
        })
    };
    let endpoint = var("TRIBUTARY_GCS_ENDPOINT");
    let port = endpoint
        .rsplit(':')
        .next()
        .and_then(|p| p.parse::<u16>().ok())
        .expect("port");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        "nothing answers on {endpoint}; start deploy/local/services up"
    );
    Args::default()
        .flag("storage-provider", "gcs")
        .flag("storage-endpoint", endpoint)
        .flag("storage-bucket", var("TRIBUTARY_GCS_BUCKET"))
        .flag(
            "storage-gcs-service-account",
            var("TRIBUTARY_GCS_SERVICE_ACCOUNT"),
        )
}

/// Google Cloud Storage end to end with the claim check, against fake-gcs-server (an
/// emulator: it serves signed URLs without checking their signatures): uploaded before
/// the event, a V4 signed URL in the event, the consumer fetches it from the store's own
/// endpoint only, verifies the checksum, and reads by key once the URL has expired.
#[tokio::test]
async fn gcs_carries_content_by_claim_check_end_to_end() {
    use crate::consumer::{Setup, outputs, produce, run_consumer};
    let svc = Services::require();
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    // two files over the inline limit, one under it
    let big: String = (0..40_000).map(|i| format!("line {i}\n")).collect();
    std::fs::write(repo.join("big.txt"), &big).expect("write");
    std::fs::write(
        repo.join("also-big.rs"),
        format!("// {}\nfn main() {{}}\n", "x".repeat(150_000)),
    )
    .expect("write");
    std::fs::write(repo.join("small.md"), "# small\n").expect("write");
    let setup = Setup::new("gcs");
    let project = unique("gcs");
    let args = Args::new(["publish"])
        .flag("repo", repo.to_str().expect("utf-8"))
        .flag("project", &project)
        .flag("brokers", &svc.kafka_brokers)
        .flag("topic", &setup.input)
        .flag("progress", "off")
        .flag("report-json", "true")
        .with(gcs_args());
    let mut words: Vec<String> = args.words().into_iter().map(str::to_owned).collect();
    // --report-json is a switch
    if let Some(at) = words.iter().position(|w| w == "--report-json") {
        words.remove(at + 1);
    }
    let out = Command::new(workspace_bin("tributary-publisher"))
        .args(&words)
        .env_remove("CONTENT_STORAGE_ENDPOINT")
        .output()
        .expect("publisher runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "publish failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(report["uploaded"], 2, "{report}");

    // the events carry signed URLs on the store's endpoint
    let events = tributary_tests::records_within(
        &svc.kafka_brokers,
        &setup.input,
        std::time::Duration::from_secs(5),
    )
    .await;
    let urls: Vec<String> = events
        .iter()
        .filter_map(|r| serde_json::from_slice::<Value>(r.payload.as_deref()?).ok())
        .flat_map(|e| e["files"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f["content_url"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(urls.len(), 2, "{urls:?}");
    for u in &urls {
        assert!(
            u.starts_with(&std::env::var("TRIBUTARY_GCS_ENDPOINT").expect("endpoint")),
            "{u}"
        );
        assert!(
            u.contains("X-Goog-Signature=") && u.contains("X-Goog-Algorithm=GOOG4-RSA-SHA256"),
            "{u}"
        );
    }

    // a copy of one file whose URL has expired: read by key through the GCS API
    let mut expired: Value = events
        .iter()
        .filter_map(|r| serde_json::from_slice::<Value>(r.payload.as_deref()?).ok())
        .find(|e| {
            e["files"]
                .as_array()
                .is_some_and(|f| f.iter().any(|f| f["content_url"].is_string()))
        })
        .expect("an event with a URL");
    let files: Vec<Value> = expired["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter(|f| f["content_url"].is_string())
        .take(1)
        .map(|f| {
            let mut f = f.clone();
            f["path"] = Value::from(format!("expired/{}", f["path"].as_str().expect("path")));
            f["expires_at"] = Value::from("2020-01-01T00:00:00Z");
            f
        })
        .collect();
    expired["files"] = Value::from(files);
    expired["event_id"] = Value::from(uuid::Uuid::now_v7().to_string());
    produce(
        &svc,
        &setup.input,
        &[serde_json::to_vec(&expired).expect("json")],
    )
    .await;

    // the consumer on the same store (its own credentials for key reads)
    let cfg = setup.config_with_store(&svc, gcs_args(), &[]);
    run_consumer(cfg).await;
    let (docs, _) = outputs(&svc, &setup.output, 4, 0).await;
    for path in ["big.txt", "also-big.rs", "small.md"] {
        let d = &docs[&format!("{project}/{path}")][0];
        assert_eq!(d["path"], path);
    }
    // the copy whose URL had expired was read by key, and verified like the rest
    assert!(
        docs.keys().any(|k| k.contains("/expired/")),
        "{:?}",
        docs.keys()
    );
    let dead = tributary_tests::records_within(
        &svc.kafka_brokers,
        &setup.dlq,
        std::time::Duration::from_secs(2),
    )
    .await;
    assert!(dead.is_empty(), "{} dead letters", dead.len());
}

/// The publisher's listing of what a bucket holds (a re-index asks once instead of once
/// per object) on GCS, against fake-gcs-server: keys under the prefix with their sizes,
/// nothing outside it.
#[tokio::test]
async fn gcs_lists_the_objects_under_a_prefix() {
    use clap::Parser as _;
    #[derive(clap::Parser)]
    struct Flags {
        #[command(flatten)]
        storage: tributary_runtime::StorageArgs,
    }
    let words = Args::new(["flags"]).with(gcs_args());
    let flags = Flags::try_parse_from(words.words()).expect("flags parse");
    let cfg = flags
        .storage
        .store_config(30, 1, None)
        .expect("store config");
    let store = tributary_content::ObjectStore::open(&cfg)
        .await
        .expect("store")
        .expect("a store is configured");
    let prefix = format!("{}/", unique("listing"));
    for (name, bytes) in [("a.txt", &b"one"[..]), ("deep/b.txt", b"three")] {
        let key = format!("{prefix}{name}");
        let sha = tributary_events::Sha256Hex::of(bytes);
        store
            .put_if_absent(&key, bytes::Bytes::from_static(bytes), &sha)
            .await
            .expect("put");
    }
    let other = format!("{}/c.txt", unique("listing"));
    store
        .put_if_absent(
            &other,
            bytes::Bytes::from_static(b"x"),
            &tributary_events::Sha256Hex::of(b"x"),
        )
        .await
        .expect("put");
    let listing = store
        .list(&prefix, 100)
        .await
        .expect("list")
        .expect("listed");
    assert_eq!(listing.len(), 2);
    assert!(listing.contains(&format!("{prefix}a.txt"), 3));
    assert!(listing.contains(&format!("{prefix}deep/b.txt"), 5));
    assert!(!listing.contains(&other, 1));
    assert!(
        store.list(&prefix, 1).await.expect("list").is_none(),
        "more than asked for"
    );
}
