use super::*;

fn run(language: &str, src: &str) -> Syntax {
    analyse(language, src, &SyntaxLimits::default()).expect("supported language")
}

fn kinds(s: &Syntax) -> Vec<(String, String)> {
    s.symbols
        .iter()
        .map(|x| (x.kind.clone(), x.name.clone()))
        .collect()
}

fn has(s: &Syntax, kind: &str, name: &str) -> bool {
    s.symbols.iter().any(|x| x.kind == kind && x.name == name)
}

#[test]
fn every_grammar_and_query_compiles() {
    for g in Grammar::ALL {
        assert_eq!(Grammar::for_language(g.language()), Some(g));
        assert!(std::ptr::eq(g.compiled(), g.compiled()), "compiled once");
    }
    for l in Grammar::ALL.map(Grammar::language) {
        assert!(supported(l), "{l}");
        let s = run(l, "");
        assert!(s.symbols.is_empty());
    }
    assert!(!supported("Ruby"));
    assert!(analyse("Ruby", "def f; end", &SyntaxLimits::default()).is_none());
}

#[test]
fn rust_outline_imports_and_complexity() {
    let src = r#"use std::collections::HashMap;
mod inner {}
pub struct Point { x: i32 }
enum Shape { A, B }
trait Draw { fn draw(&self); }
impl Point {
    fn norm(&self) -> i32 {
        if self.x > 0 && self.x < 10 { 1 } else { 2 }
    }
}
fn classify(n: i32) -> &'static str {
    match n {
        0 => "zero",
        1 => "one",
        _ => "many",
    }
}
macro_rules! m { () => {} }
"#;
    let s = run("Rust", src);
    for (k, n) in [
        ("module", "inner"),
        ("struct", "Point"),
        ("enum", "Shape"),
        ("trait", "Draw"),
        ("method", "norm"),
        ("function", "classify"),
        ("macro", "m"),
    ] {
        assert!(has(&s, k, n), "{k} {n} missing from {:?}", kinds(&s));
    }
    let point = s.symbols.iter().find(|x| x.name == "Point").expect("Point");
    assert_eq!(point.line, 3);
    assert_eq!(s.imports, vec!["std::collections::HashMap"]);
    let c = s.complexity.expect("complexity");
    let f = |name: &str| {
        c.functions
            .iter()
            .find(|f| f.name == name)
            .expect(name)
            .cyclomatic
    };
    assert_eq!(f("norm"), 3, "1 + if + &&");
    assert_eq!(f("classify"), 4, "1 + three arms");
    assert_eq!(c.cyclomatic, 7);
    assert!(s.diagnostics.is_empty(), "{:?}", s.diagnostics);
}

#[test]
fn python_methods_are_told_from_functions() {
    let src = "import os\nfrom a.b import c\n\nclass A:\n    @property\n    def m(self):\n        return [x for x in self.xs if x]\n\ndef f(a, b):\n    if a and b or a:\n        return 1\n    elif b:\n        return 2\n    try:\n        pass\n    except ValueError:\n        pass\n    return 0 if a else 1\n";
    let s = run("Python", src);
    assert!(has(&s, "class", "A"), "{:?}", kinds(&s));
    assert!(has(&s, "method", "m"), "{:?}", kinds(&s));
    assert!(has(&s, "function", "f"), "{:?}", kinds(&s));
    assert_eq!(s.imports, vec!["os", "a.b"]);
    let c = s.complexity.expect("complexity");
    let f = |name: &str| {
        c.functions
            .iter()
            .find(|f| f.name == name)
            .expect(name)
            .cyclomatic
    };
    // for_in_clause + if_clause
    assert_eq!(f("m"), 3);
    // if, and, or, elif, except, conditional
    assert_eq!(f("f"), 7);
}

#[test]
fn javascript_and_typescript() {
    let js = "import x from './x.js';\nconst y = require('y');\nclass A { m() { return a ?? b; } }\nfunction f(a) { for (;;) { if (a) break; } }\nconst g = (a) => a ? 1 : 2;\n[1].map(function () { if (z) {} });\n";
    let s = run("JavaScript", js);
    assert!(
        has(&s, "class", "A") && has(&s, "method", "m") && has(&s, "function", "f"),
        "{:?}",
        kinds(&s)
    );
    assert_eq!(s.imports, vec!["./x.js", "y"]);
    let c = s.complexity.expect("complexity");
    let names: Vec<&str> = c.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["m", "f", "g"],
        "anonymous callbacks are not functions of their own"
    );
    // the anonymous callback's `if` counts at file level
    assert_eq!(c.cyclomatic, 2 + 3 + 2 + 1);
    let ts = "import { z } from 'zod';\nexport interface I { a: number }\ntype T = string;\nenum E { A }\nexport class C implements I { a = 1; f(): void {} }\nnamespace N {}\n";
    let s = run("TypeScript", ts);
    for (k, n) in [
        ("interface", "I"),
        ("type", "T"),
        ("enum", "E"),
        ("class", "C"),
        ("method", "f"),
    ] {
        assert!(has(&s, k, n), "{k} {n} missing from {:?}", kinds(&s));
    }
    assert_eq!(s.imports, vec!["zod"]);
    assert!(
        run("TSX", "const A = () => <div/>;\n")
            .diagnostics
            .is_empty()
    );
}

#[test]
fn go_java_c_cpp() {
    let go = "package main\nimport (\n\t\"fmt\"\n\tos \"os\"\n)\ntype S struct{}\ntype I interface{ M() }\nfunc (s S) M() {}\nfunc main() {\n\tswitch {\n\tcase true:\n\tcase false:\n\t}\n\tif a || b {}\n}\n";
    let s = run("Go", go);
    for (k, n) in [
        ("module", "main"),
        ("struct", "S"),
        ("interface", "I"),
        ("method", "M"),
        ("function", "main"),
    ] {
        assert!(has(&s, k, n), "{k} {n} missing from {:?}", kinds(&s));
    }
    assert_eq!(s.imports, vec!["fmt", "os"]);
    let c = s.complexity.expect("complexity");
    assert_eq!(
        c.functions
            .iter()
            .find(|f| f.name == "main")
            .map(|f| f.cyclomatic),
        Some(5)
    );

    let java = "import java.util.List;\nclass A {\n  A() {}\n  int f(int x) {\n    switch (x) { case 1: return 1; default: return 0; }\n  }\n}\ninterface B {}\nenum C { X }\n";
    let s = run("Java", java);
    for (k, n) in [
        ("class", "A"),
        ("method", "f"),
        ("interface", "B"),
        ("enum", "C"),
    ] {
        assert!(has(&s, k, n), "{k} {n} missing from {:?}", kinds(&s));
    }
    assert_eq!(s.imports, vec!["java.util.List"]);
    let c = s.complexity.expect("complexity");
    assert_eq!(
        c.functions
            .iter()
            .find(|f| f.name == "f")
            .map(|f| f.cyclomatic),
        Some(2),
        "default is no branch"
    );

    let c_src = "#include <stdio.h>\n#include \"a.h\"\nstruct P { int x; };\ntypedef int T;\nint proto(void);\nstatic int *f(int a) { while (a) { a--; } return a > 0 ? &a : 0; }\n";
    let s = run("C", c_src);
    assert!(
        has(&s, "struct", "P") && has(&s, "type", "T") && has(&s, "function", "f"),
        "{:?}",
        kinds(&s)
    );
    assert!(
        !s.symbols.iter().any(|x| x.name == "proto"),
        "a prototype is not a definition"
    );
    assert_eq!(s.imports, vec!["stdio.h", "a.h"]);

    let cpp = "#include <vector>\nnamespace ns {\nclass K { public: void m() { if (x) {} } };\nvoid K2::n() {}\ntemplate <typename T> T id(T t) { return t; }\n}\n";
    let s = run("C++", cpp);
    assert!(
        has(&s, "module", "ns") && has(&s, "class", "K") && has(&s, "function", "id"),
        "{:?}",
        kinds(&s)
    );
    let c = s.complexity.expect("complexity");
    assert_eq!(
        c.functions
            .iter()
            .find(|f| f.name == "m")
            .map(|f| f.cyclomatic),
        Some(2)
    );
}

#[test]
fn broken_and_huge_input_gives_diagnostics_not_panics() {
    let s = run("Rust", "fn f( { struct }}}} ))) let");
    assert!(
        s.diagnostics.iter().any(|d| d.contains("syntax errors")),
        "{:?}",
        s.diagnostics
    );
    let limits = SyntaxLimits {
        max_bytes: 10,
        ..SyntaxLimits::default()
    };
    let s = analyse("Rust", "fn main() { let x = 1; }", &limits).expect("rust");
    assert!(s.symbols.is_empty());
    assert!(s.diagnostics[0].contains("over the 10 byte limit"));
    // deep nesting is walked without recursion
    let deep = format!(
        "fn f() {{ let x = {}1{}; }}",
        "(".repeat(50_000),
        ")".repeat(50_000)
    );
    let s = run("Rust", &deep);
    assert!(has(&s, "function", "f"));
    let limits = SyntaxLimits {
        max_symbols: 3,
        ..SyntaxLimits::default()
    };
    let many: String = (0..10).map(|i| format!("fn f{i}() {{}}\n")).collect();
    let s = analyse("Rust", &many, &limits).expect("rust");
    assert_eq!(s.symbols.len(), 3);
    assert!(s.diagnostics.iter().any(|d| d.contains("truncated")));
}

/// Each case: a function, its name, parameters and lines — as lizard counts them where
/// lizard is right (see the integration test against it on real code).
#[test]
fn functions_carry_their_lines_and_parameters() {
    let cases: &[(&str, &str, &str, u64, u64)] = &[
        ("Rust", "fn f(a: i32, (b, c): (i32, i32)) {}", "f", 2, 1),
        (
            "Rust",
            "impl A {\n    fn m(&self, a: i32) -> i32 {\n        a\n    }\n}",
            "m",
            2,
            3,
        ),
        ("Rust", "fn none() {}", "none", 0, 1),
        (
            "Python",
            "class A:\n    def m(self, a, b=1, *args, **kw):\n        pass\n",
            "m",
            5,
            2,
        ),
        (
            "Python",
            "def f(x, /, y, *, z: int = 3):\n    pass\n",
            "f",
            3,
            2,
        ),
        (
            "Go",
            "package a\nfunc (b *B) String() string {\n\treturn \"\"\n}\n",
            "String",
            0,
            3,
        ),
        (
            "Go",
            "package a\nfunc f(a, b int, c ...string) {}\n",
            "f",
            3,
            1,
        ),
        ("Go", "package a\nfunc g(int, string) {}\n", "g", 2, 1),
        ("C", "int f(void) { return 0; }", "f", 0, 1),
        ("C", "static int h(int a, ...) {\n  return a;\n}", "h", 1, 3),
        ("C", "char **g(int a, char *b) { return 0; }", "g", 2, 1),
        (
            "C++",
            "int A::m(int a, int b = 2) const { return a; }",
            "A::m",
            2,
            1,
        ),
        (
            "Java",
            "class A {\n  void m(int a, String... rest) {\n  }\n}",
            "m",
            2,
            2,
        ),
        (
            "JavaScript",
            "const f = (a, {b, c}, ...rest) => a;",
            "f",
            3,
            1,
        ),
        ("JavaScript", "const g = x => x;", "g", 1, 1),
        (
            "TypeScript",
            "function t(a: number, b?: string): void {\n}\n",
            "t",
            2,
            2,
        ),
    ];
    for (language, src, name, parameters, lines) in cases {
        let s = run(language, src);
        let functions = &s.complexity.as_ref().expect("complexity").functions;
        let f = functions
            .iter()
            .find(|f| f.name == *name)
            .unwrap_or_else(|| panic!("{language}: no function {name} in {functions:?}"));
        assert_eq!(
            f.parameters,
            Some(*parameters),
            "{language} {name}: parameters"
        );
        assert_eq!(f.lines, Some(*lines), "{language} {name}: lines");
    }
}

#[test]
fn a_file_over_the_function_limit_keeps_its_most_complex_functions_in_file_order() {
    let limits = SyntaxLimits {
        max_symbols: 2,
        ..SyntaxLimits::default()
    };
    let src =
        "fn a() {}\nfn b(x: bool) { if x {} if x {} }\nfn c() {}\nfn d(x: bool) { if x {} }\n";
    let s = analyse("Rust", src, &limits).expect("rust");
    let kept: Vec<(&str, u64)> = s
        .complexity
        .as_ref()
        .expect("complexity")
        .functions
        .iter()
        .map(|f| (f.name.as_str(), f.cyclomatic))
        .collect();
    assert_eq!(kept, [("b", 3), ("d", 2)]);
}
