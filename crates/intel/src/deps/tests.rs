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
fn javascript_lockfiles_of_yarn_and_pnpm_in_each_version() {
    // yarn v1: descriptors at the margin, quoted when scoped
    let yarn_v1 = "# yarn lockfile v1\n\n\n\"@babel/code-frame@^7.0.0\", \"@babel/code-frame@^7.10.4\":\n  version \"7.12.13\"\n  resolved \"https://registry.yarnpkg.com/x\"\n  dependencies:\n    \"@babel/highlight\" \"^7.12.13\"\n    version \"9\"\n\nlodash@^4.17.21:\n  version \"4.17.21\"\n\n\"string-width-cjs@npm:string-width@^4.2.0\":\n  version \"4.2.3\"\n\n\"ro@npm:@4lolo/ro@^1.5.2\":\n  version \"1.5.2\"\n";
    assert_eq!(
        by_purl(Kind::YarnLock, yarn_v1),
        [
            row("pkg:npm/%404lolo/ro@1.5.2", None, None),
            row("pkg:npm/%40babel/code-frame@7.12.13", None, None),
            row("pkg:npm/lodash@4.17.21", None, None),
            row("pkg:npm/string-width@4.2.3", None, None),
        ]
    );
    // Berry: protocols, patches of a package, the project's own workspace left out
    let berry = "__metadata:\n  version: 6\n  cacheKey: 8\n\n\"@babel/core@npm:^7.0.0, @babel/core@npm:^7.12.3\":\n  version: 7.20.0\n  resolution: \"@babel/core@npm:7.20.0\"\n  languageName: node\n  linkType: hard\n\n\"resolve@patch:resolve@^1.20.0#~builtin<compat/resolve>\":\n  version: 1.22.1\n  linkType: hard\n\n\"resolve@npm:^1.20.0\":\n  version: 1.22.1\n\n\"wrap-ansi-cjs@npm:wrap-ansi@^7.0.0\":\n  version: 7.0.0\n  resolution: \"wrap-ansi@npm:7.0.0\"\n\n\"renamed@workspace:.\":\n  version: 1.0.0\n  resolution: \"app@workspace:.\"\n\n\"my-app@workspace:.\":\n  version: 0.0.0-use.local\n  linkType: soft\n";
    assert_eq!(
        by_purl(Kind::YarnLock, berry),
        [
            row("pkg:npm/%40babel/core@7.20.0", None, None),
            row("pkg:npm/resolve@1.22.1", None, None),
            row("pkg:npm/wrap-ansi@7.0.0", None, None),
        ]
    );
    // pnpm v5: `/name/version_peers`, dev flags, the root's tables at the top
    let pnpm_v5 = "lockfileVersion: 5.4\nspecifiers:\n  react: ^18.2.0\ndependencies:\n  react: 18.2.0\ndevDependencies:\n  '@types/react': 18.0.0\npackages:\n  /react/18.2.0:\n    dev: false\n  /@types/react/18.0.0:\n    dev: true\n  /use-sync/1.0.0_react@18.2.0:\n    dev: false\n  /fsevents/2.3.2:\n    optional: true\n";
    assert_eq!(
        by_purl(Kind::PnpmLock, pnpm_v5),
        [
            row("pkg:npm/%40types/react@18.0.0", Some(true), Some("dev")),
            row("pkg:npm/fsevents@2.3.2", Some(false), Some("optional")),
            row("pkg:npm/react@18.2.0", Some(true), Some("runtime")),
            row("pkg:npm/use-sync@1.0.0", Some(false), Some("runtime")),
        ]
    );
    // pnpm v6: `/name@version(peers)`, `{specifier, version}` at the top
    let pnpm_v6 = "lockfileVersion: '6.0'\ndependencies:\n  react:\n    specifier: ^18.2.0\n    version: 18.2.0\npackages:\n  /react@18.2.0:\n    dev: false\n  /@emotion/react@11.0.0(react@18.2.0):\n    dev: false\n";
    assert_eq!(
        by_purl(Kind::PnpmLock, pnpm_v6),
        [
            row(
                "pkg:npm/%40emotion/react@11.0.0",
                Some(false),
                Some("runtime")
            ),
            row("pkg:npm/react@18.2.0", Some(true), Some("runtime")),
        ]
    );
    // pnpm v9: importers, keys without `/`, scope only from the root's tables
    let pnpm_v9 = "lockfileVersion: '9.0'\nimporters:\n  .:\n    devDependencies:\n      typescript:\n        specifier: ^5\n        version: 5.4.5\n  packages/lib:\n    dependencies:\n      lodash:\n        specifier: ^4\n        version: 4.17.21\npackages:\n  typescript@5.4.5:\n    resolution: {integrity: sha512-x}\n  lodash@4.17.21:\n    resolution: {integrity: sha512-y}\nsnapshots:\n  typescript@5.4.5: {}\n";
    assert_eq!(
        by_purl(Kind::PnpmLock, pnpm_v9),
        [
            row("pkg:npm/lodash@4.17.21", Some(false), None),
            row("pkg:npm/typescript@5.4.5", Some(true), Some("dev")),
        ]
    );
}

#[test]
fn pipfiles_and_maven_poms() {
    let pipfile = "[packages]\nrequests = \"*\"\nDjango = {version = \">=4.2\"}\n[dev-packages]\npytest = \"==8.0\"\n";
    assert_eq!(
        by_purl(Kind::Pipfile, pipfile),
        [
            row("pkg:pypi/django", Some(true), Some("runtime")),
            row("pkg:pypi/pytest", Some(true), Some("dev")),
            row("pkg:pypi/requests", Some(true), Some("runtime")),
        ]
    );
    let pipfile_lock = r#"{"_meta": {"hash": {"sha256": "x"}}, "default": {"requests": {"version": "==2.31.0"}, "mylib": {"git": "https://example.com/x.git"}}, "develop": {"pytest": {"version": "==8.0.0"}}}"#;
    assert_eq!(
        by_purl(Kind::PipfileLock, pipfile_lock),
        [
            row("pkg:pypi/mylib", None, Some("runtime")),
            row("pkg:pypi/pytest@8.0.0", None, Some("dev")),
            row("pkg:pypi/requests@2.31.0", None, Some("runtime")),
        ]
    );
    let pom = r#"<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <parent><groupId>org.example</groupId><artifactId>parent</artifactId><version>2.1.0</version></parent>
  <artifactId>app</artifactId>
  <properties><guava.version>33.0.0-jre</guava.version><junit.version>5.10.1</junit.version></properties>
  <dependencyManagement><dependencies>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>2.0.9</version></dependency>
  </dependencies></dependencyManagement>
  <dependencies>
    <dependency><groupId>com.google.guava</groupId><artifactId>guava</artifactId><version>${guava.version}</version>
      <exclusions><exclusion><groupId>com.google.code</groupId><artifactId>jsr305</artifactId></exclusion></exclusions></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId></dependency>
    <dependency><groupId>${project.groupId}</groupId><artifactId>core</artifactId><version>${project.version}</version></dependency>
    <dependency><groupId>org.junit.jupiter</groupId><artifactId>junit-jupiter</artifactId><version>${junit.version}</version><scope>test</scope></dependency>
    <dependency><groupId>io.netty</groupId><artifactId>netty-all</artifactId><version>${from.the.parent}</version><optional>true</optional></dependency>
    <dependency><groupId>com.example</groupId><artifactId>ranged</artifactId><version>[1.0,2.0)</version></dependency>
  </dependencies>
  <build><plugins><plugin><dependencies><dependency><groupId>not</groupId><artifactId>this</artifactId><version>1</version></dependency></dependencies></plugin></plugins></build>
</project>"#;
    assert_eq!(
        by_purl(Kind::PomXml, pom),
        [
            row("pkg:maven/com.example/ranged", Some(true), Some("runtime")),
            row(
                "pkg:maven/com.google.guava/guava@33.0.0-jre",
                Some(true),
                Some("runtime")
            ),
            row("pkg:maven/io.netty/netty-all", Some(true), Some("optional")),
            row(
                "pkg:maven/org.example/core@2.1.0",
                Some(true),
                Some("runtime")
            ),
            row(
                "pkg:maven/org.junit.jupiter/junit-jupiter@5.10.1",
                Some(true),
                Some("dev")
            ),
            row(
                "pkg:maven/org.slf4j/slf4j-api@2.0.9",
                Some(true),
                Some("runtime")
            ),
        ]
    );
    let ranged = read(Kind::PomXml, pom).expect("reads").dependencies;
    assert_eq!(ranged[0].requirement.as_deref(), Some("[1.0,2.0)"));
    assert_eq!(ranged[0].name, "com.example:ranged");
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
        (Kind::PnpmLock, "packages: [1, 2"),
        // YAML's alias bomb: refused, not expanded
        (Kind::PnpmLock, &alias_bomb()),
        (Kind::PomXml, "<project><dependencies></project>"),
        (Kind::PomXml, &"<a>".repeat(100)),
        (Kind::PipfileLock, "{\"default\": 3}"),
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
    // a yarn.lock entry with no version line is not a package
    // a yarn.lock entry with no version line is not a package; a hostile name is left out
    let yarn = read(
        Kind::YarnLock,
        "a@^1:\n  resolved \"x\"\nx\u{202e}@1:\n  version \"1\"\n",
    )
    .expect("reads");
    assert_eq!((yarn.dependencies.len(), yarn.left_out), (0, 1));
    assert_eq!(read(Kind::GoMod, &long).expect("reads").left_out, 1);
}

/// A YAML document whose aliases would expand to 10^9 nodes.
fn alias_bomb() -> String {
    let mut doc = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for (i, c) in ('b'..='j').enumerate() {
        let prev = (b'a' + i as u8) as char;
        doc.push_str(&format!("{c}: &{c} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
    }
    doc.push_str("packages: *j\n");
    doc
}
