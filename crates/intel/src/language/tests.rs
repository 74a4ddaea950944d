use super::*;

fn name(path: &str, text: &str) -> Option<&'static str> {
    detect(path, text).map(|d| d.name)
}

#[test]
fn the_linguist_data_loads_and_indexes_every_language() {
    let l = linguist();
    assert!(l.source().starts_with("linguist-languages@"));
    assert!(l.names().count() > 500, "{}", l.names().count());
    assert_eq!(l.by_extension(".RS"), vec!["RenderScript", "Rust", "XML"]);
    assert_eq!(l.by_filename("Makefile"), vec!["Makefile"]);
    assert!(l.by_interpreter("python3").contains(&"Python"));
    assert_eq!(l.color("Rust"), Some("#dea584"));
}

#[test]
fn file_names_then_extensions_longest_first() {
    assert_eq!(name("a/Makefile", ""), Some("Makefile"));
    assert_eq!(name("CMakeLists.txt", ""), Some("CMake"));
    assert_eq!(name(".bashrc", ""), Some("Shell"));
    assert_eq!(name("src/lib.rs", "fn main() {}"), Some("Rust"));
    assert_eq!(name("x.PY", ""), Some("Python"));
    assert_eq!(name("config.h.in", ""), Some("C"));
    assert_eq!(name("types.d.ts", "export {}"), Some("TypeScript"));
    assert_eq!(
        detect("src/lib.rs", "").map(|d| d.method),
        Some(Method::Default)
    );
    assert_eq!(
        detect("a.h", "namespace x {").map(|d| d.method),
        Some(Method::Heuristic)
    );
    assert_eq!(
        detect("a.go", "").map(|d| d.method),
        Some(Method::Extension)
    );
    assert_eq!(
        extensions("a.tar.gz").collect::<Vec<_>>(),
        vec![".tar.gz", ".gz"]
    );
    assert_eq!(extensions(".bashrc").count(), 0);
}

#[test]
fn extensionless_files_by_shebang_then_modeline() {
    assert_eq!(
        name("bin/tool", "#!/usr/bin/env python3\nprint(1)\n"),
        Some("Python")
    );
    assert_eq!(name("bin/run", "#!/bin/bash\necho hi\n"), Some("Shell"));
    assert_eq!(
        name("bin/x", "#!/usr/bin/env -S node --harmony\n"),
        Some("JavaScript")
    );
    assert_eq!(name("bin/p", "#!/usr/bin/perl -w\n"), Some("Perl"));
    assert_eq!(
        name("script", "# -*- mode: ruby -*-\nputs 1\n"),
        Some("Ruby")
    );
    assert_eq!(name("build", "x\n# vim: set ft=python:\n"), Some("Python"));
    assert_eq!(name("NOTES", "hello\n\nworld\n"), None);
    assert_eq!(
        detect("bin/tool", "#!/bin/sh\n").map(|d| d.method),
        Some(Method::Shebang)
    );
}

#[test]
fn a_shebang_decides_between_an_extensions_candidates() {
    assert_eq!(
        name("t/basic.t", "#!/usr/bin/perl\nprint 1;\n"),
        Some("Perl")
    );
}

/// A labelled set of files whose extension several languages share.
#[test]
fn heuristics_choose_among_ambiguous_extensions() {
    let cases: &[(&str, &str, &str)] = &[
        ("a.h", "#include <stdio.h>\nint f(void);\n", "C"),
        (
            "a.h",
            "#pragma once\nnamespace x {\nclass A { public: int f(); };\n}\n",
            "C++",
        ),
        ("a.h", "#include <vector>\nstd::vector<int> v();\n", "C++"),
        (
            "a.h",
            "#import <Foundation/Foundation.h>\n@interface A : NSObject\n@end\n",
            "Objective-C",
        ),
        (
            "a.m",
            "#import \"A.h\"\n@implementation A\n- (void)f {}\n@end\n",
            "Objective-C",
        ),
        (
            "a.m",
            "% compute\nfunction y = f(x)\n  y = x * 2;\nend\n",
            "MATLAB",
        ),
        ("a.m", ":- module a.\n:- interface.\n", "Mercury"),
        (
            "a.v",
            "module top(input clk, output reg q);\nalways @(posedge clk) q <= 1;\nendmodule\n",
            "Verilog",
        ),
        (
            "a.v",
            "Require Import Arith.\nTheorem t : 1 = 1.\nProof. reflexivity. Qed.\n",
            "Rocq Prover",
        ),
        (
            "a.pl",
            "use strict;\nmy $x = 1;\nsub f { return $x; }\n",
            "Perl",
        ),
        (
            "a.pl",
            "parent(tom, bob).\nancestor(X, Y) :- parent(X, Y).\n",
            "Prolog",
        ),
        ("a.pl", "use v6;\nsay 'hi';\n", "Raku"),
        (
            "a.ts",
            "<?xml version=\"1.0\"?>\n<!DOCTYPE TS>\n<TS version=\"2.1\"></TS>\n",
            "XML",
        ),
        ("a.ts", "export const x: number = 1;\n", "TypeScript"),
        ("a.inc", "<?php\necho 1;\n", "PHP"),
        ("a.inc", "#ifndef A\n#define A 1\n#endif\n", "C++"),
        (
            "a.inc",
            "#declare Sphere1 = sphere { <0,0,0>, 1 }\n",
            "POV-Ray SDL",
        ),
        ("a.md", "# Title\n\ntext\n", "Markdown"),
        (
            "a.md",
            "(define_insn \"addsi3\"\n  [(set (match_operand:SI 0 \"\" \"\"))])\n",
            "GCC Machine Description",
        ),
        (
            "a.pro",
            "QT += core gui\nTARGET = app\nHEADERS += main.h\nSOURCES += main.cpp\n",
            "QMake",
        ),
        ("a.pro", "-keep class com.example.** { *; }\n", "Proguard"),
        (
            "a.cls",
            "\\NeedsTeXFormat{LaTeX2e}\n\\ProvidesClass{x}\n",
            "TeX",
        ),
        (
            "a.sql",
            "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql;\n",
            "PLpgSQL",
        ),
        ("a.sql", "SELECT 1;\n", "SQL"),
        ("a.rs", "<?xml version=\"1.0\"?>\n<root/>\n", "XML"),
        ("a.rs", "fn main() {}\n", "Rust"),
        (
            "a.fs",
            "#version 330\nvoid main() { gl_FragColor = vec4(1); }\n",
            "GLSL",
        ),
        ("a.fs", "let x = 1\nprintfn \"%d\" x\n", "F#"),
        (
            "a.l",
            "%{\n#include <stdio.h>\n%}\n%x COMMENT\n%%\n<COMMENT>\"*/\" { BEGIN(INITIAL); }\n%%\n",
            "Lex",
        ),
        (
            "a.d",
            "module app;\nimport std.stdio;\nvoid main() {}\n",
            "D",
        ),
        ("a.yml", "openapi: 3.0.0\ninfo: {}\n", "OASv3-yaml"),
        ("a.yml", "a: 1\n", "YAML"),
        ("a.json", "{\"a\": 1}\n", "JSON"),
    ];
    let mut wrong = Vec::new();
    for (path, text, want) in cases {
        let got = name(path, text);
        if got != Some(*want) {
            wrong.push(format!("{path}: {got:?}, want {want} for {text:?}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn hostile_names_and_content_do_not_panic() {
    for path in ["", ".", "..h", "a.", "é.ñ", "a/.h", "x.h\u{0}"] {
        let _ = detect(path, "\u{feff}#!\n-*-\nvim:\n");
    }
    let big = "%".repeat(200_000);
    assert_eq!(name("a.m", &big), Some("MATLAB"));
}
