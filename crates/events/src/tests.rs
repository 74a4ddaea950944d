use std::path::{Path, PathBuf};

use serde_json::Value;

use super::*;
use crate::dlq::{DeadLetter, Reason};
use crate::intelligence::{FileIntelligence, PortfolioSummary, ProjectSummary};
use crate::path::PathError;
use crate::v2::{ContentRef, WireFile, url_has_password};

fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

struct Example {
    file: String,
    schema: String,
    valid: bool,
    code: Option<String>,
}

fn manifest() -> Vec<Example> {
    let m = read_json(&schemas_dir().join("examples/manifest.json"));
    m["examples"]
        .as_array()
        .expect("examples array")
        .iter()
        .map(|e| Example {
            file: e["file"].as_str().expect("file").to_owned(),
            schema: e["schema"].as_str().expect("schema").to_owned(),
            valid: e["valid"].as_bool().expect("valid"),
            code: e["code"].as_str().map(str::to_owned),
        })
        .collect()
}

fn validator(schema: &str) -> jsonschema::Validator {
    let schema = read_json(&schemas_dir().join(schema));
    jsonschema::draft202012::new(&schema).unwrap_or_else(|e| panic!("schema does not compile: {e}"))
}

/// What the Rust side says of an example: Ok(re-serialized value) or Err(code).
fn rust_verdict(schema: &str, bytes: &[u8]) -> Result<Value, String> {
    let malformed = |e: serde_json::Error| {
        let _ = e;
        "malformed".to_owned()
    };
    match schema {
        "index-project-requested.v2.json"
        | "index-run-completed.v2.json"
        | "index-event.v1.json" => {
            let ev = decode(bytes).map_err(|e| e.code().to_owned())?;
            match &ev {
                IndexEvent::Requested(r) => {
                    for f in &r.files {
                        let spec = f.validate().map_err(|e| e.code().to_owned())?;
                        // The typed form converts back to the same wire entry.
                        assert_eq!(
                            &WireFile::from(&spec),
                            f,
                            "typed round-trip of {:?}",
                            f.path
                        );
                    }
                    Ok(serde_json::to_value(r).expect("serialize"))
                }
                IndexEvent::Completed(c) => Ok(serde_json::to_value(c).expect("serialize")),
                IndexEvent::V1(v) => {
                    for f in &v.files {
                        f.validate().map_err(|e| e.code().to_owned())?;
                    }
                    Ok(serde_json::to_value(v).expect("serialize"))
                }
            }
        }
        "intelligence.v1.json" => {
            let doc: FileIntelligence = serde_json::from_slice(bytes).map_err(malformed)?;
            Ok(serde_json::to_value(doc).expect("serialize"))
        }
        "project-summary.v1.json" => {
            let d: ProjectSummary = serde_json::from_slice(bytes).map_err(malformed)?;
            Ok(serde_json::to_value(d).expect("serialize"))
        }
        "portfolio-summary.v1.json" => {
            let d: PortfolioSummary = serde_json::from_slice(bytes).map_err(malformed)?;
            Ok(serde_json::to_value(d).expect("serialize"))
        }
        "dead-letter.v1.json" => {
            let d: DeadLetter = serde_json::from_slice(bytes).map_err(malformed)?;
            Ok(serde_json::to_value(d).expect("serialize"))
        }
        other => panic!("manifest names unknown schema {other}"),
    }
}

#[test]
fn golden_examples_agree_with_schemas_and_types() {
    let examples = manifest();
    assert!(
        examples.len() >= 20,
        "manifest lists only {} examples",
        examples.len()
    );
    for ex in &examples {
        let path = schemas_dir().join("examples").join(&ex.file);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", ex.file));
        let instance: Value = serde_json::from_slice(&bytes).expect("examples are JSON");
        let schema_ok = validator(&ex.schema).is_valid(&instance);
        let rust = rust_verdict(&ex.schema, &bytes);
        if ex.valid {
            assert!(schema_ok, "{} must validate against {}", ex.file, ex.schema);
            let back = rust.unwrap_or_else(|code| panic!("{} rejected by Rust: {code}", ex.file));
            assert_eq!(
                back, instance,
                "{} does not round-trip through the Rust types",
                ex.file
            );
            assert!(
                validator(&ex.schema).is_valid(&back),
                "{} re-serialized is invalid",
                ex.file
            );
        } else {
            assert!(!schema_ok, "{} must be rejected by {}", ex.file, ex.schema);
            let want = ex.code.as_deref().expect("invalid examples name a code");
            match rust {
                Ok(_) => panic!("{} accepted by Rust, expected {want}", ex.file),
                Err(code) => assert_eq!(code, want, "{}: wrong rejection code", ex.file),
            }
        }
    }
}

#[test]
fn every_example_file_is_in_the_manifest() {
    let listed: std::collections::BTreeSet<_> = manifest().into_iter().map(|e| e.file).collect();
    for dir in ["valid", "invalid"] {
        for entry in std::fs::read_dir(schemas_dir().join("examples").join(dir)).expect("read dir")
        {
            let name = format!(
                "{dir}/{}",
                entry.expect("entry").file_name().to_string_lossy()
            );
            assert!(
                listed.contains(&name),
                "{name} is not in examples/manifest.json"
            );
        }
    }
}

#[test]
fn dead_letter_reasons_match_the_schema_enum() {
    let schema = read_json(&schemas_dir().join("dead-letter.v1.json"));
    let in_schema: Vec<&str> = schema["properties"]["reason"]["enum"]
        .as_array()
        .expect("enum")
        .iter()
        .map(|v| v.as_str().expect("string"))
        .collect();
    let in_rust: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(in_schema, in_rust);
    for r in Reason::ALL {
        assert_eq!(
            serde_json::to_value(r).expect("serialize"),
            Value::from(r.as_str())
        );
    }
}

#[test]
fn relative_paths() {
    for ok in [
        "a",
        "src/lib.rs",
        "a/b/c.d.e",
        "dir with space/x",
        ".github/workflows/ci.yml",
        "..foo",
        "foo..",
    ] {
        assert!(RelPath::new(ok).is_ok(), "{ok} should be accepted");
    }
    let cases = [
        ("", PathError::Empty),
        ("/etc/passwd", PathError::Absolute),
        ("..", PathError::ParentComponent),
        ("a/../../b", PathError::ParentComponent),
        ("a/..", PathError::ParentComponent),
        ("./a", PathError::EmptyOrDotComponent),
        ("a//b", PathError::EmptyOrDotComponent),
        ("a/", PathError::EmptyOrDotComponent),
        ("a\0b", PathError::Nul),
    ];
    for (bad, want) in cases {
        assert_eq!(RelPath::new(bad), Err(want), "{bad:?}");
    }
    assert_eq!(RelPath::new("x".repeat(4097)), Err(PathError::TooLong));
    assert_eq!(
        RelPath::new("src/lib.rs").expect("ok").extension(),
        Some("rs")
    );
    assert_eq!(RelPath::new(".gitignore").expect("ok").extension(), None);
    assert_eq!(RelPath::new("Makefile").expect("ok").extension(), None);
}

#[test]
fn checksums() {
    let c = Sha256Hex::of(b"abc");
    assert_eq!(
        c.to_string(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(c.to_string().parse::<Sha256Hex>(), Ok(c));
    assert!(c.matches(b"abc"));
    assert!(!c.matches(b"abd"));
    assert!("ab".parse::<Sha256Hex>().is_err());
    assert!(c.to_string().to_uppercase().parse::<Sha256Hex>().is_err());
    assert!("g".repeat(64).parse::<Sha256Hex>().is_err());
}

#[test]
fn url_passwords_are_detected() {
    assert!(url_has_password("https://u:p@host/x.git"));
    assert!(url_has_password("http://:token@host/"));
    assert!(!url_has_password("https://host/x.git"));
    assert!(!url_has_password("ssh://git@host/x.git"));
    assert!(!url_has_password("git@github.com:org/repo.git"));
    assert!(!url_has_password("https://host/a:b@c"));
}

#[test]
fn decode_rejects_with_specific_errors() {
    let cases: [(&[u8], &str); 5] = [
        (b"not json", "malformed"),
        (b"{}", "schema_version_missing"),
        (
            br#"{"schema_version":"9.0.0","event_type":"index_project_requested"}"#,
            "schema_version_unknown",
        ),
        (
            br#"{"schema_version":"2.0","event_type":"index_project_requested"}"#,
            "schema_version_unknown",
        ),
        (
            br#"{"schema_version":"2.1.0","event_type":"something_else"}"#,
            "event_type_unknown",
        ),
    ];
    for (bytes, want) in cases {
        let err = decode(bytes).expect_err("must be rejected");
        assert_eq!(err.code(), want, "{}", String::from_utf8_lossy(bytes));
    }
    assert_eq!(
        decode(b"[1,2").expect_err("bad").reason(),
        Reason::Malformed
    );
    assert_eq!(
        decode(b"{}").expect_err("bad").reason(),
        Reason::UnknownSchema
    );
}

#[test]
fn a_newer_minor_version_with_unknown_fields_is_read() {
    let mut v = read_json(&schemas_dir().join("examples/valid/v2-requested-inline.json"));
    v["schema_version"] = "2.7.1".into();
    v["some_future_field"] = serde_json::json!({"x": 1});
    v["files"][0]["future_file_field"] = 3.into();
    let ev = decode(&serde_json::to_vec(&v).expect("json")).expect("2.x is read");
    let IndexEvent::Requested(r) = ev else {
        panic!("wrong kind")
    };
    assert!(r.files.iter().all(|f| f.validate().is_ok()));
}

#[test]
fn one_bad_file_does_not_condemn_its_batch() {
    let mut v = read_json(&schemas_dir().join("examples/valid/v2-requested-inline.json"));
    v["files"][1]["path"] = "../escape".into();
    let IndexEvent::Requested(r) = decode(&serde_json::to_vec(&v).expect("json")).expect("decodes")
    else {
        panic!("wrong kind")
    };
    let verdicts: Vec<_> = r
        .files
        .iter()
        .map(|f| f.validate().map_err(|e| e.reason()))
        .collect();
    assert!(verdicts[0].is_ok());
    assert_eq!(verdicts[1].as_ref().err(), Some(&Reason::InvalidPath));
    assert!(verdicts[2].is_ok());
}

#[test]
fn debug_output_hides_content_and_presigned_urls() {
    let v = read_json(&schemas_dir().join("examples/valid/v2-requested-object-storage.json"));
    let IndexEvent::Requested(r) = decode(&serde_json::to_vec(&v).expect("json")).expect("decodes")
    else {
        panic!("wrong kind")
    };
    let spec = r.files[0].validate().expect("valid");
    let body = spec.body.expect("present");
    assert!(matches!(body.content, ContentRef::ObjectStorage { .. }));
    let shown = format!("{:?}", body.content);
    assert!(!shown.contains("X-Amz"), "{shown}");
    assert!(shown.contains("<redacted>"));
}

#[test]
fn inline_utf8_goes_as_is_and_everything_else_as_base64() {
    use crate::v2::{ContentEncoding, decode_inline, encode_inline};
    use base64::Engine as _;
    assert_eq!(
        decode_inline("fn main() {}\n", ContentEncoding::Utf8).expect("utf-8"),
        b"fn main() {}\n"
    );
    assert!(decode_inline("not base64!", ContentEncoding::Base64).is_err());
    assert_eq!(
        encode_inline(b"fn main() {}\n"),
        ("fn main() {}\n".to_owned(), ContentEncoding::Utf8)
    );
    assert_eq!(encode_inline(b""), (String::new(), ContentEncoding::Utf8));
    for bytes in [&b"caf\xe9"[..], &b"\xff\xfe\x00\x01"[..], &b"ok \xc3"[..]] {
        let (s, enc) = encode_inline(bytes);
        assert_eq!(enc, ContentEncoding::Base64);
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(&s)
                .expect("decodes"),
            bytes
        );
        assert_eq!(decode_inline(&s, enc).expect("decodes"), bytes);
    }
}

#[test]
fn output_keys_are_unambiguous() {
    use crate::intelligence::{doc_key, file_key, key_project, summary_key};
    let p = |s: &str| RelPath::new(s).expect("path");
    // the collision a plain `project/path` had
    assert_ne!(doc_key("P", &p("b/c.txt")), doc_key("P/b", &p("c.txt")));
    assert_eq!(doc_key("P/b", &p("c.txt")), "P%2Fb/c.txt");
    // an escape character in a name cannot forge another name's escape
    assert_ne!(doc_key("a%2Fb", &p("x")), doc_key("a/b", &p("x")));
    // names without `/` or `%` keep the keys they always had
    assert_eq!(doc_key("widgets", &p("src/main.rs")), "widgets/src/main.rs");
    assert_eq!(summary_key("widgets"), "widgets/");
    assert_eq!(summary_key("org/repo"), "org%2Frepo/");
    assert_eq!(file_key("org/repo", "a/b"), doc_key("org/repo", &p("a/b")));
    // the first `/` of any key ends the project: splitting gives back both halves
    for (project, path) in [("P", "b/c.txt"), ("P/b", "c.txt"), ("%/%2F", "x/y")] {
        let key = doc_key(project, &p(path));
        let (head, tail) = key.split_once('/').expect("a slash");
        assert_eq!(head, key_project(project));
        assert_eq!(tail, path);
        let back = head.replace("%2F", "/").replace("%25", "%");
        assert_eq!(back, project);
    }
}

#[test]
fn an_oversized_document_loses_list_tails_until_it_fits() {
    use crate::intelligence::Symbol;
    let text = std::fs::read(schemas_dir().join("examples/valid/intelligence-file-1.1.json"))
        .expect("example");
    let mut doc: FileIntelligence = serde_json::from_slice(&text).expect("a document");
    let long = "n".repeat(200);
    doc.symbols = (0..5_000)
        .map(|i| Symbol {
            kind: "function".into(),
            name: format!("{long}{i}"),
            line: i + 1,
        })
        .collect();
    doc.imports = (0..100).map(|i| format!("m{i}")).collect();
    let whole = serde_json::to_vec(&doc).expect("json").len();
    assert!(whole > 1_000_000, "{whole}");
    let json = doc.clone().to_json_within(100_000).expect("fits");
    assert!(json.len() <= 100_000, "{}", json.len());
    let cut: FileIntelligence = serde_json::from_slice(&json).expect("still a document");
    assert_eq!(cut.truncated, vec!["symbols".to_owned()]);
    assert!(!cut.symbols.is_empty() && cut.symbols.len() < 5_000);
    assert_eq!(cut.symbols[0], doc.symbols[0], "the head of a list is kept");
    assert_eq!(cut.imports, doc.imports, "short lists are left alone");
    let schema = serde_json::from_slice(
        &std::fs::read(schemas_dir().join("intelligence.v1.json")).expect("schema"),
    )
    .expect("json");
    let v = jsonschema::draft202012::new(&schema).expect("compiles");
    assert!(v.is_valid(&serde_json::from_slice(&json).expect("json")));
    // a document that fits is not touched
    let mut small: FileIntelligence = serde_json::from_slice(&text).expect("a document");
    let same = small.to_json_within(900_000).expect("fits");
    assert!(small.truncated.is_empty());
    assert_eq!(same, serde_json::to_vec(&small).expect("json"));
}

#[test]
fn a_summary_too_large_for_a_message_cuts_its_long_lists_and_says_so() {
    use crate::intelligence::{Dependencies, Dependency, InventoryEntry, SecretLocation};
    let bytes =
        std::fs::read(schemas_dir().join("examples/valid/project-summary.json")).expect("example");
    let mut s: ProjectSummary = serde_json::from_slice(&bytes).expect("a summary");
    s.dependencies = Some(Dependencies {
        packages: 3000,
        direct: 10,
        by_ecosystem: Default::default(),
        list: (0..3000)
            .map(|i| InventoryEntry {
                dependency: Dependency {
                    purl: format!("pkg:npm/package-number-{i}@1.0.{i}"),
                    name: format!("package-number-{i}"),
                    version: Some(format!("1.0.{i}")),
                    ..Default::default()
                },
                files: vec!["web/package-lock.json".into()],
            })
            .collect(),
        left_out: 0,
    });
    s.secret_findings = (0..1000)
        .map(|i| SecretLocation {
            rule_id: "generic-api-key".into(),
            path: format!("config/file-{i}.env"),
            line: 1,
            fingerprint: Some(format!("{i:032x}")),
        })
        .collect();
    let whole = serde_json::to_vec(&s).expect("json").len();
    let json = s.to_json_within(200_000);
    assert!(
        whole > 200_000 && json.len() <= 200_000,
        "{whole} -> {}",
        json.len()
    );
    let back: ProjectSummary = serde_json::from_slice(&json).expect("valid");
    assert!(back.truncated.contains(&"dependencies.list".to_owned()));
    assert!(back.dependencies.expect("inventory").list.len() < 3000);
    assert!(
        validator("project-summary.v1.json")
            .is_valid(&serde_json::from_slice::<Value>(&json).expect("json"))
    );
    // a summary that fits is left whole
    let mut small: ProjectSummary = serde_json::from_slice(&bytes).expect("a summary");
    let before = serde_json::to_vec(&small).expect("json");
    assert_eq!(small.to_json_within(200_000), before);
    assert!(small.truncated.is_empty());
}
