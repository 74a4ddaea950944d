//! deploy/Dockerfile, built with podman and run for real: the publisher and the
//! consumer in containers with no volume mounts, against the local Kafka, MinIO and git
//! daemon (host network). The public `FROM` lines name registry images; this machine
//! reaches no registry, so the bases are made locally by deploy/local/images/build
//! (Debian bookworm from the Debian archive with debootstrap) and passed as build
//! arguments. The image is built with the `dev` profile to keep the suite's wall time;
//! the stages and every other step are the ones users build.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tributary_tests::{Services, free_port, unique};

use crate::consumer::{Setup, outputs};
use crate::watch::Served;

const RUST_BASE: &str = "localhost/tributary-base/rust:1.95.0-bookworm";
const RUNTIME_BASE: &str = "localhost/tributary-base/distroless-cc:nonroot";
const IMAGE: &str = "localhost/tributary:it";

fn podman(args: &[&str]) -> Output {
    assert!(
        std::env::var_os("CONTAINERS_CONF").is_some(),
        "CONTAINERS_CONF is not set: load the services' environment (eval \"$(deploy/local/services env)\")"
    );
    Command::new("podman")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!("podman {args:?}: {e}; run deploy/local/services up (it installs podman)")
        })
}

fn ok(out: &Output, what: &str) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{what} failed:\n{}",
        text.lines()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    );
    text
}

/// Removes the container when dropped.
struct Container(String);

impl Drop for Container {
    fn drop(&mut self) {
        let _ = podman(&["rm", "-f", "-t", "0", &self.0]);
    }
}

fn build_image() {
    for base in [RUST_BASE, RUNTIME_BASE] {
        assert!(
            podman(&["image", "exists", base]).status.success(),
            "{base} is missing: run deploy/local/services up (deploy/local/images/build makes it)"
        );
    }
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let ca = "/etc/ssl/certs/ca-certificates.crt";
    let ca_volume = format!("{ca}:{ca}:ro");
    let mut args = vec!["build", "--format", "docker", "--network", "host"];
    // the build downloads crates: it trusts what this machine trusts
    if std::path::Path::new(ca).exists() {
        args.extend(["--volume", &ca_volume]);
    }
    let (rust, runtime) = (
        format!("RUST_IMAGE={RUST_BASE}"),
        format!("RUNTIME_IMAGE={RUNTIME_BASE}"),
    );
    args.extend([
        "--build-arg",
        &rust,
        "--build-arg",
        &runtime,
        "--build-arg",
        "CARGO_PROFILE=dev",
        "--build-arg",
        "REVISION=it",
        "-t",
        IMAGE,
        "-f",
        "deploy/Dockerfile",
        ".",
    ]);
    let out = Command::new("podman")
        .args(&args)
        .current_dir(root)
        .stdin(Stdio::null())
        .output()
        .expect("podman build runs");
    ok(&out, "podman build -f deploy/Dockerfile");
}

#[tokio::test]
async fn the_image_indexes_a_repository_with_no_volume_mounted() {
    let svc = Services::require();
    build_image();

    // what the image is: non-root, a health check that needs no shell, OCI labels,
    // and no shell at all
    let inspect = podman(&["image", "inspect", IMAGE]);
    ok(&inspect, "podman image inspect");
    let image: Value = serde_json::from_slice(&inspect.stdout).expect("inspect is JSON");
    let image = &image[0];
    let config = &image["Config"];
    assert_eq!(config["User"], "65532:65532", "{config}");
    assert_eq!(
        image["Healthcheck"]["Test"],
        serde_json::json!(["CMD", "tributary-consumer", "healthcheck"]),
        "{image}"
    );
    assert_eq!(
        config["Labels"]["org.opencontainers.image.revision"], "it",
        "{config}"
    );
    assert!(
        !podman(&["run", "--rm", IMAGE, "/bin/sh", "-c", "true"])
            .status
            .success(),
        "the runtime image has a shell"
    );

    // a repository on the git daemon: a small file inline, a large one through MinIO
    let big = "a large file's line, uploaded to object storage by the publisher\n".repeat(100);
    let files = [
        ("src/main.rs", "fn main() { println!(\"hi\"); }\n"),
        ("README.md", "# in a container\n"),
        ("data/big.txt", big.as_str()),
    ];
    let repo = Served::new(&svc, &files);
    let setup = Setup::new("container");
    let store = [
        "--storage-provider".to_owned(),
        "minio".to_owned(),
        "--storage-endpoint".to_owned(),
        svc.s3_endpoint.clone(),
        "--storage-bucket".to_owned(),
        svc.s3_bucket.clone(),
    ];
    let creds = [
        "-e".to_owned(),
        format!("AWS_ACCESS_KEY_ID={}", svc.s3_access_key),
        "-e".to_owned(),
        format!("AWS_SECRET_ACCESS_KEY={}", svc.s3_secret_key),
    ];

    // the consumer daemon, detached, with its metrics on a free loopback port
    let name = unique("tributary-it-consumer");
    let metrics = format!("127.0.0.1:{}", free_port());
    let mut run: Vec<String> = ["run", "-d", "--name", &name, "--network", "host", "-e"]
        .map(str::to_owned)
        .to_vec();
    run.push(format!("TRIBUTARY_METRICS_ADDR={metrics}"));
    run.extend(creds.iter().cloned());
    run.extend(
        [
            IMAGE,
            "tributary-consumer",
            "run",
            "--brokers",
            &svc.kafka_brokers,
            "--group",
            &setup.group,
            "--input-topic",
            &setup.input,
            "--output-topic",
            &setup.output,
            "--dlq-topic",
            &setup.dlq,
            "--git-allowed-schemes",
            "git",
        ]
        .map(str::to_owned),
    );
    run.extend(store.iter().cloned());
    let run: Vec<&str> = run.iter().map(String::as_str).collect();
    ok(&podman(&run), "podman run (consumer)");
    let container = Container(name.clone());

    // ready: Kafka, MinIO and its cache folders answer from inside the container
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = String::new();
    loop {
        if let Ok(r) = http.get(format!("http://{metrics}/readyz")).send().await {
            let status = r.status();
            last = format!("{status} {}", r.text().await.unwrap_or_default());
            if status == 200 {
                break;
            }
        }
        let logs = podman(&["logs", "--tail", "20", &name]);
        assert!(
            Instant::now() < deadline,
            "the consumer never got ready ({last}); its log:\n{}{}",
            String::from_utf8_lossy(&logs.stdout),
            String::from_utf8_lossy(&logs.stderr)
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    ok(
        &podman(&["healthcheck", "run", &name]),
        "podman healthcheck run (the image's HEALTHCHECK)",
    );

    // the publisher as a one-off container
    let mut publish: Vec<String> = ["run", "--rm", "--network", "host", "-e"]
        .map(str::to_owned)
        .to_vec();
    publish.push(format!("TRIBUTARY_METRICS_ADDR=127.0.0.1:{}", free_port()));
    publish.extend(creds.iter().cloned());
    publish.extend(
        [
            IMAGE,
            "tributary-publisher",
            "publish",
            "--repo",
            &repo.url,
            "--brokers",
            &svc.kafka_brokers,
            "--topic",
            &setup.input,
            "--inline-size-limit",
            "1KiB",
            "--progress",
            "off",
        ]
        .map(str::to_owned),
    );
    publish.extend(store.iter().cloned());
    let publish: Vec<&str> = publish.iter().map(String::as_str).collect();
    ok(&podman(&publish), "podman run (publisher)");

    // every file gets its document, the large one fetched from MinIO
    let (docs, _) = outputs(&svc, &setup.output, files.len(), 0).await;
    let by_path: std::collections::BTreeMap<String, &Value> = docs
        .values()
        .flatten()
        .filter_map(|d| Some((d["path"].as_str()?.to_owned(), d)))
        .collect();
    for (path, text) in files {
        let doc = by_path
            .get(path)
            .unwrap_or_else(|| panic!("no document for {path}: {docs:?}"));
        assert_eq!(doc["size"].as_u64(), Some(text.len() as u64), "{doc}");
    }
    let big_doc = by_path["data/big.txt"];
    assert_eq!(
        big_doc["source"]["content_strategy"], "object_storage",
        "{big_doc}"
    );

    // SIGTERM drains and exits 0
    ok(&podman(&["stop", "-t", "60", &name]), "podman stop");
    let code = ok(
        &podman(&["inspect", "--format", "{{.State.ExitCode}}", &name]),
        "podman inspect",
    );
    assert_eq!(code.trim(), "0", "the consumer's exit code after SIGTERM");
    drop(container);
}
