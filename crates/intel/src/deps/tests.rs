use super::*;

fn by_purl(kind: Kind, text: &str) -> Vec<(String, Option<bool>, Option<String>)> {
    read(kind, text)
        .expect("reads")
        .dependencies
        .into_iter()
        .map(|d| (d.purl, d.direct, d.scope))
        .collect()
}

fn row(
    purl: &str,
    direct: Option<bool>,
    scope: Option<&str>,
) -> (String, Option<bool>, Option<String>) {
    (purl.to_owned(), direct, scope.map(str::to_owned))
}

#[test]
fn purls_encode_as_purl_spec_asks() {
    assert_eq!(
        purl("npm", Some("@types"), "node", Some("22.1.0")),
        "pkg:npm/%40types/node@22.1.0"
    );
    assert_eq!(
        purl("cargo", None, "libgit2-sys", Some("0.18.8+1.9.7")),
        "pkg:cargo/libgit2-sys@0.18.8%2B1.9.7"
    );
    assert_eq!(
        purl("golang", Some("golang.org/x"), "net", Some("v0.38.0")),
        "pkg:golang/golang.org/x/net@v0.38.0"
    );
    assert_eq!(
        purl("pypi", None, "zope-interface", None),
        "pkg:pypi/zope-interface"
    );
    assert_eq!(pypi_name("Zope.Interface__x"), "zope-interface-x");
}

#[test]
fn each_format_gives_its_packages_direct_and_scope() {
    let cargo_lock = r#"
version = 3
[[package]]
name = "app"
version = "0.1.0"
dependencies = ["serde", "rand 0.8.5"]
[[package]]
name = "serde"
version = "1.0.200"
source = "registry+https://github.com/rust-lang/crates.io-index"
[[package]]
name = "rand"
version = "0.8.5"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = ["libc"]
[[package]]
name = "libc"
version = "0.2.150"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#;
    assert_eq!(
        by_purl(Kind::CargoLock, cargo_lock),
        [
            row("pkg:cargo/libc@0.2.150", Some(false), None),
            row("pkg:cargo/rand@0.8.5", Some(true), None),
            row("pkg:cargo/serde@1.0.200", Some(true), None),
        ]
    );
    let cargo_toml = r#"
[dependencies]
serde = "1"
tokio = { version = "1.40", optional = true }
local = { path = "../local" }
shared = { workspace = true }
[dev-dependencies]
proptest = "1"
[target.'cfg(unix)'.build-dependencies]
cc = { version = "1", package = "cc" }
"#;
    assert_eq!(
        by_purl(Kind::CargoToml, cargo_toml),
        [
            row("pkg:cargo/cc", Some(true), Some("build")),
            row("pkg:cargo/proptest", Some(true), Some("dev")),
            row("pkg:cargo/serde", Some(true), Some("runtime")),
            row("pkg:cargo/tokio", Some(true), Some("optional")),
        ]
    );
    let package_lock = r#"{
  "lockfileVersion": 3,
  "packages": {
    "": { "name": "app", "dependencies": { "left-pad": "^1" }, "devDependencies": { "@types/node": "^22" } },
    "node_modules/left-pad": { "version": "1.3.0" },
    "node_modules/@types/node": { "version": "22.1.0", "dev": true },
    "node_modules/@types/node/node_modules/undici-types": { "version": "6.13.0", "dev": true },
    "node_modules/fsevents": { "version": "2.3.3", "optional": true },
    "packages/internal": { "version": "0.0.1" },
    "node_modules/internal": { "resolved": "packages/internal", "link": true }
  }
}"#;
    assert_eq!(
        by_purl(Kind::PackageLock, package_lock),
        [
            row("pkg:npm/%40types/node@22.1.0", Some(true), Some("dev")),
            row("pkg:npm/fsevents@2.3.3", Some(false), Some("optional")),
            row("pkg:npm/left-pad@1.3.0", Some(true), Some("runtime")),
            row("pkg:npm/undici-types@6.13.0", Some(false), Some("dev")),
        ]
    );
    let go_mod = "module example.com/app\n\ngo 1.22\n\nrequire github.com/pkg/errors v0.9.1\n\nrequire (\n\tgolang.org/x/net v0.38.0 // indirect\n\t\"gopkg.in/yaml.v3\" v3.0.1\n)\n\nreplace golang.org/x/net => ../net\n";
    assert_eq!(
        by_purl(Kind::GoMod, go_mod),
        [
            row("pkg:golang/github.com/pkg/errors@v0.9.1", Some(true), None),
            row("pkg:golang/golang.org/x/net@v0.38.0", Some(false), None),
            row("pkg:golang/gopkg.in/yaml.v3@v3.0.1", Some(true), None),
        ]
    );
    let requirements = "# pinned\nDjango==5.0.1\nrequests[security] >= 2.31 ; python_version > '3.8'\n-r base.txt\n-e .\nhttps://example.com/x.whl\nnumpy==1.26.* \n";
    let reqs = read(Kind::Requirements, requirements)
        .expect("reads")
        .dependencies;
    let got: Vec<(&str, Option<&str>, Option<&str>)> = reqs
        .iter()
        .map(|d| {
            (
                d.purl.as_str(),
                d.version.as_deref(),
                d.requirement.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("pkg:pypi/django@5.0.1", Some("5.0.1"), None),
            ("pkg:pypi/numpy", None, Some("==1.26.*")),
            ("pkg:pypi/requests", None, Some(">= 2.31")),
        ]
    );
    let uv_lock = r#"
version = 1
[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }
dependencies = [{ name = "httpx" }]
[package.dev-dependencies]
dev = [{ name = "pytest" }]
[[package]]
name = "httpx"
version = "0.27.0"
source = { registry = "https://pypi.org/simple" }
[[package]]
name = "pytest"
version = "8.3.0"
source = { registry = "https://pypi.org/simple" }
[[package]]
name = "anyio"
version = "4.4.0"
source = { registry = "https://pypi.org/simple" }
"#;
    assert_eq!(
        by_purl(Kind::UvLock, uv_lock),
        [
            row("pkg:pypi/anyio@4.4.0", Some(false), None),
            row("pkg:pypi/httpx@0.27.0", Some(true), Some("runtime")),
            row("pkg:pypi/pytest@8.3.0", Some(true), Some("dev")),
        ]
    );
    let gemfile_lock = "GEM\n  remote: https://rubygems.org/\n  specs:\n    rack (3.0.8)\n    rails (7.1.2)\n      rack (>= 2.2.4)\n\nPLATFORMS\n  ruby\n\nDEPENDENCIES\n  rails (~> 7.1)\n\nBUNDLED WITH\n   2.5.3\n";
    assert_eq!(
        by_purl(Kind::GemfileLock, gemfile_lock),
        [
            row("pkg:gem/rack@3.0.8", Some(false), None),
            row("pkg:gem/rails@7.1.2", Some(true), None)
        ]
    );
    let composer_lock = r#"{"packages": [{"name": "monolog/monolog", "version": "3.5.0"}], "packages-dev": [{"name": "phpunit/phpunit", "version": "10.5.0"}]}"#;
    assert_eq!(
        by_purl(Kind::ComposerLock, composer_lock),
        [
            row("pkg:composer/monolog/monolog@3.5.0", None, Some("runtime")),
            row("pkg:composer/phpunit/phpunit@10.5.0", None, Some("dev")),
        ]
    );
    let pyproject = "[project]\nname = \"app\"\ndependencies = [\"httpx>=0.27\", \"Click\"]\n[project.optional-dependencies]\ncli = [\"rich\"]\n[dependency-groups]\ndev = [\"pytest\"]\n";
    assert_eq!(
        by_purl(Kind::Pyproject, pyproject),
        [
            row("pkg:pypi/click", Some(true), Some("runtime")),
            row("pkg:pypi/httpx", Some(true), Some("runtime")),
            row("pkg:pypi/pytest", Some(true), Some("dev")),
            row("pkg:pypi/rich", Some(true), Some("optional")),
        ]
    );
}

#[test]
fn hostile_or_broken_files_give_a_diagnostic_not_a_panic() {
    for (kind, text) in [
        (Kind::CargoLock, "[[package]\nname ="),
        (Kind::PackageLock, "{\"packages\": 7}"),
        (
            Kind::CargoToml,
            "[dependencies]\nserde = 1\n[dependencies]\n",
        ),
        (Kind::ComposerLock, "{\"packages\": [{\"version\": 1}]}"),
    ] {
        let e = read(kind, text).expect_err("refused");
        assert!(e.starts_with("dependencies: "), "{e}");
    }
    // line formats take what they can read and skip the rest
    let hostile = read(
        Kind::GoMod,
        "require (\n\u{0}\u{202e} x\n\tgood.example/m v1.0.0\n)\n",
    )
    .expect("reads");
    assert_eq!(hostile.left_out, 1);
    assert_eq!(hostile.dependencies.len(), 1);
    assert_eq!(
        hostile.dependencies[0].purl,
        "pkg:golang/good.example/m@v1.0.0"
    );
    let long = format!("require {} v1\n", "x".repeat(600));
    assert_eq!(read(Kind::GoMod, &long).expect("reads").left_out, 1);
}
