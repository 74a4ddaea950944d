//! The Kubernetes manifests and the Compose file in deploy/, checked without a cluster
//! by deploy/kubernetes/validate (a Go program built here from the Go module proxy):
//! every document decoded into its official type (k8s.io/api, KEDA's, the Prometheus
//! Operator's) with unknown fields refused, the example overlay rendered with the
//! kustomize library and checked the same way, the Compose file loaded by
//! compose-spec's loader. Each rule is also shown to refuse a manifest that breaks it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The validator, built once per test run (Go's build cache keeps rebuilds quick).
fn validator() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let bin = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tributary-k8s-validate");
        let out = Command::new("go")
            .args(["build", "-o"])
            .arg(&bin)
            .arg(".")
            .current_dir(root().join("deploy/kubernetes/validate"))
            // the module asks for a newer Go than some machines have: fetch it
            .env("GOTOOLCHAIN", "auto")
            .output()
            .expect("go runs (deploy/local/services up installs Go)");
        assert!(
            out.status.success(),
            "go build of the validator failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        bin
    })
}

fn validate(args: &[&str]) -> Output {
    Command::new(validator())
        .args(args)
        .current_dir(root())
        .output()
        .expect("validator runs")
}

#[test]
fn every_manifest_and_the_compose_file_are_valid() {
    let out = validate(&[]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    for seen in [
        "deploy/kubernetes/base: rendered",
        "deploy/kubernetes/overlays/example: rendered",
        "deploy/kubernetes/base/consumer.yaml: 3 documents",
        "deploy/compose.yaml: 6 services",
        "all manifests valid",
    ] {
        assert!(text.contains(seen), "{seen:?} missing from:\n{text}");
    }
}

/// One broken copy of a shipped file per rule: (what is broken, file, text replaced,
/// replacement, what the validator must say).
#[test]
fn manifests_that_break_a_rule_are_refused() {
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        (
            "a misspelled Deployment field",
            "deploy/kubernetes/base/consumer.yaml",
            "  revisionHistoryLimit: 5",
            "  revisionHistoryLimits: 5",
            "unknown field \"spec.revisionHistoryLimits\"",
        ),
        (
            "a misspelled container field",
            "deploy/kubernetes/base/consumer.yaml",
            "          imagePullPolicy: IfNotPresent",
            "          imagePullPolicey: IfNotPresent",
            "unknown field",
        ),
        (
            "a misspelled KEDA field",
            "deploy/kubernetes/base/consumer-autoscaling.yaml",
            "  maxReplicaCount: 12",
            "  maxReplicas: 12",
            "unknown field \"spec.maxReplicas\"",
        ),
        (
            "a ServiceMonitor field in the wrong case (the API server is case-sensitive)",
            "deploy/kubernetes/base/servicemonitor.yaml",
            "      scrapeTimeout: 10s",
            "      scrapeTimeOut: 10s",
            "unknown field \"spec.endpoints[0].scrapeTimeOut\"",
        ),
        (
            "a literal password in the ConfigMap",
            "deploy/kubernetes/base/config.yaml",
            "file:/var/run/secrets/tributary/kafka-sasl-password",
            "hunter2",
            "holds a literal secret",
        ),
        (
            "a container that may write its root filesystem",
            "deploy/kubernetes/base/watch.yaml",
            "            readOnlyRootFilesystem: true",
            "            readOnlyRootFilesystem: false",
            "read-only root",
        ),
        (
            "a kind no manifest here uses",
            "deploy/kubernetes/base/serviceaccount.yaml",
            "kind: ServiceAccount",
            "kind: ServiceAcount",
            "is not a kind these manifests use",
        ),
        (
            "a duplicated key",
            "deploy/kubernetes/base/serviceaccount.yaml",
            "automountServiceAccountToken: false",
            "automountServiceAccountToken: false\nautomountServiceAccountToken: true",
            "already set",
        ),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    for (what, file, from, to, says) in cases {
        let text = std::fs::read_to_string(root().join(file)).expect("read manifest");
        assert!(text.contains(from), "{what}: {from:?} is not in {file}");
        let broken = dir.path().join(Path::new(file).file_name().expect("name"));
        std::fs::write(&broken, text.replacen(from, to, 1)).expect("write");
        let out = validate(&[broken.to_str().expect("utf-8")]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{what}: accepted");
        assert!(err.contains(says), "{what}: {says:?} not in:\n{err}");
    }
}

/// Rules only the rendered whole can break: an overlay that scales past the topic's
/// partitions, drops the readiness probe, or shortens the pod's grace below the
/// daemon's drain.
#[test]
fn overlays_that_break_the_deployment_rules_are_refused() {
    let base = root().join("deploy/kubernetes/base");
    let cases = [
        (
            "more consumers than partitions",
            "kind: ScaledObject\n      name: tributary-consumer",
            "- op: replace\n        path: /spec/maxReplicaCount\n        value: 13",
            "at most the 12 partitions",
        ),
        (
            "no readiness probe",
            "kind: Deployment\n      name: tributary-consumer",
            "- op: remove\n        path: /spec/template/spec/containers/0/readinessProbe",
            "readiness must probe /readyz",
        ),
        (
            "a grace period shorter than the drain",
            "kind: Deployment\n      name: tributary-consumer",
            "- op: replace\n        path: /spec/template/spec/terminationGracePeriodSeconds\n        value: 30",
            "must exceed the shutdown grace",
        ),
    ];
    for (what, target, patch, says) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        // kustomize reads a base only from inside or beside the overlay: link it
        std::os::unix::fs::symlink(&base, dir.path().join("base")).expect("link base");
        let overlay = dir.path().join("overlay");
        std::fs::create_dir(&overlay).expect("mkdir");
        std::fs::write(
            overlay.join("kustomization.yaml"),
            format!(
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../base\npatches:\n  - target:\n      {target}\n    patch: |-\n      {patch}\n"
            ),
        )
        .expect("write overlay");
        let out = validate(&["-kustomize", overlay.to_str().expect("utf-8")]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{what}: accepted");
        assert!(err.contains(says), "{what}: {says:?} not in:\n{err}");
    }
}

#[test]
fn a_compose_file_that_breaks_a_rule_is_refused() {
    let text = std::fs::read_to_string(root().join("deploy/compose.yaml")).expect("compose");
    let cases = [
        (
            "an unknown service key",
            "    stop_grace_period: 60s",
            "    stop_grace_period: 60s\n    restart_policy: always",
            "restart_policy",
        ),
        (
            "a bind mount",
            "    volumes: [\"watch-state:/var/lib/tributary\"]",
            "    volumes: [\"./state:/var/lib/tributary\"]",
            "bind-mounts",
        ),
        (
            "a publisher started by `up`",
            "    profiles: [\"publish\"]\n",
            "",
            "one-off service",
        ),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    for (what, from, to, says) in cases {
        assert!(text.contains(from), "{what}: {from:?} not in compose.yaml");
        let file = dir.path().join("compose.yaml");
        std::fs::write(&file, text.replacen(from, to, 1)).expect("write");
        let out = validate(&["-compose", file.to_str().expect("utf-8")]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{what}: accepted");
        assert!(err.contains(says), "{what}: {says:?} not in:\n{err}");
    }
}
