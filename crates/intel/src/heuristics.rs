//! Content heuristics for extensions several languages share, after GitHub Linguist's
//! `heuristics.yml` (the patterns are re-stated for Rust's `regex`, which has no
//! look-around). Each extension has rules tried in order; the first whose language is a
//! candidate and whose pattern matches wins. Only the first 50 KiB are examined.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;

/// Content examined by the heuristics.
const MAX_BYTES: usize = 50 * 1024;

struct Rule {
    language: &'static str,
    /// Any of these matches (an empty list always matches).
    any: Vec<Regex>,
    /// None of these may match.
    none: Vec<Regex>,
}

type Table = HashMap<&'static str, Vec<Rule>>;

fn rule(language: &'static str, any: &[&str], none: &[&str]) -> Rule {
    let compile = |p: &&str| Regex::new(&format!("(?m){p}")).expect("heuristic pattern");
    Rule {
        language,
        any: any.iter().map(compile).collect(),
        none: none.iter().map(compile).collect(),
    }
}

const OBJC: &str = r"^\s*(@(interface|implementation|protocol|property|end|synthesize|selector|import)\b|#import\s)";
const CPP: &str = r"^\s*(template\s*<|namespace\s+\w*\s*\{|class\s+\w+\s*(final\s*)?[:{]|(public|private|protected):|using\s+namespace\s|#include\s*<(cstdint|cstdio|cstdlib|cstring|string|vector|map|memory|iostream|algorithm|functional|utility|type_traits|array|tuple|limits|atomic|mutex|thread|unordered_map|set|list|deque|optional|variant|chrono|sstream|fstream|iosfwd|new|exception|stdexcept|initializer_list|iterator|cassert|cmath|bits/c\+\+config\.h)>)|^\s*(try|constexpr)\b|^\s*catch\s*\(|__has_cpp_attribute|__cplusplus\s*>=|\bstd::\w";

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t: Table = HashMap::new();
        t.insert(
            ".h",
            vec![
                rule("Objective-C", &[OBJC], &[]),
                rule("C++", &[CPP], &[]),
                rule("C", &[], &[]),
            ],
        );
        t.insert(
            ".m",
            vec![
                rule("Objective-C", &[OBJC, r"^\s*#(import|include)\s"], &[]),
                rule("Mercury", &[r"^:-\s*(module|interface|implementation|import_module)\b"], &[]),
                rule("MUF", &[r"^:\s*\w+.*\n\s*(\$|;)"], &[]),
                rule("Limbo", &[r"^\w+\s*:\s*module\s*\{"], &[]),
                rule("Wolfram Language", &[r"^\s*(\(\*|BeginPackage\[|Begin\[|\w+\[[\w_]*_\]\s*:?=)"], &[]),
                rule("M", &[r"^\s*;", r"^\w+\s*;\s*"], &[r"^\s*%"]),
                rule(
                    "MATLAB",
                    &[r"^\s*%", r"^\s*function\b", r"^\s*end\s*$", r"^\s*(classdef|disp\(|fprintf\(|clear\b|clc\b)"],
                    &[],
                ),
            ],
        );
        t.insert(
            ".v",
            vec![
                rule(
                    "Rocq Prover",
                    &[r"^\s*(Require|From\s+\S+\s+Require|Theorem|Lemma|Proof\.|Qed\.|Inductive|Fixpoint|Definition|Notation|Section|Hypothesis)\b"],
                    &[],
                ),
                rule(
                    "Verilog",
                    &[r"^\s*(module|endmodule|always\s*@|assign\s|wire\b|reg\b|input\b|output\b|`timescale|`define|`include)"],
                    &[],
                ),
                rule("V", &[r"^\s*(fn\s+\w+\s*\(|import\s+\w+$|module\s+main|pub\s+fn\b|struct\s+\w+\s*\{)"], &[]),
            ],
        );
        t.insert(
            ".pl",
            vec![
                rule("Raku", &[r"^\s*(use\s+v6|unit\s+(class|module|grammar|role)\b|my\s+(class|role)\b|grammar\s+\w+\s*\{)"], &[]),
                rule("Prolog", &[r"^[^#%\n]*:-", r"^\s*%", r"^\w+\([\w, ]*\)\s*\.\s*$"], &[r"^\s*(use|my|sub|package)\s"]),
                rule("Perl", &[], &[]),
            ],
        );
        t.insert(
            ".pm",
            vec![
                rule("Raku", &[r"^\s*(use\s+v6|unit\s+(class|module|grammar|role)\b)"], &[]),
                rule("Perl", &[], &[]),
            ],
        );
        t.insert(
            ".t",
            vec![
                rule("Raku", &[r"^\s*(use\s+v6|use\s+Test;\s*$\s*plan\s)"], &[r"^\s*use\s+strict"]),
                rule("Perl", &[r"^\s*(use\s+(strict|warnings|Test::More|lib)\b|my\s+[\$@%]|sub\s+\w+|ok\s*\()"], &[]),
                rule("Turing", &[r"^\s*%[ \t]+|^\s*var\s+\w+(\s*:\s*\w+)?\s*:=\s*\w+"], &[]),
                rule("Terra", &[r"^\s*terra\s+\w+\s*\(|^\s*local\s+\w+\s*=\s*terralib"], &[]),
            ],
        );
        t.insert(
            ".ts",
            vec![
                rule("XML", &[r"\A\s*<\?xml", r"<TS\b"], &[]),
                rule("TypeScript", &[], &[]),
            ],
        );
        t.insert(
            ".inc",
            vec![
                rule("PHP", &[r"^\s*<\?(php|=)?"], &[]),
                rule("POV-Ray SDL", &[r"^\s*#(declare|local|macro|while)\s"], &[]),
                rule("NASL", &[r"^\s*(include\s*\(\s*\x22\S+\.(inc|nasl)\x22\s*\)\s*;|script_(id|name|version|category)\s*\()"], &[]),
                rule("Pawn", &[r"^\s*(#pragma\s+(semicolon|newdecls)|native\s+\w+:|forward\s+\w+\()"], &[]),
                rule("BitBake", &[r"^\s*(SRC_URI|DEPENDS|RDEPENDS|inherit|LICENSE)\s*[+?:]*="], &[]),
                rule("C++", &[r"^\s*#\s*(include|define|if|ifdef|ifndef|pragma)\b", CPP], &[]),
                rule("Assembly", &[r"^\s*(section|global|extern|db|dw|dd|mov|%macro|%define)\s", r"^\s*\.(text|data|globl|macro|equ)\b"], &[]),
                rule("Pascal", &[r"(?i)^\s*(procedure|function|unit|interface|implementation|begin|end\.)\b"], &[]),
                rule("SQL", &[r"(?i)^\s*(create|insert|select|update|delete|drop|alter)\s"], &[]),
                rule("HTML", &[r"(?i)<(html|div|p|span|table|a|script|!doctype)\b"], &[]),
            ],
        );
        t.insert(
            ".pro",
            vec![
                rule("Proguard", &[r"^\s*-(keep|dontwarn|optimizations|assumenosideeffects)"], &[]),
                rule("QMake", &[r"^\s*(QT|TARGET|TEMPLATE|SOURCES|HEADERS|CONFIG|FORMS|INCLUDEPATH)\s*[+\-*]?="], &[]),
                rule("IDL", &[r"(?i)^\s*(pro|function)\s+\w+\s*,", r"(?i)^\s*end\s*$"], &[]),
                rule("INI", &[r"^\s*\[[^\]]+\]\s*$"], &[]),
                rule("Prolog", &[r":-"], &[]),
            ],
        );
        t.insert(
            ".md",
            vec![
                rule("GCC Machine Description", &[r"^\s*\((define_(insn|expand|split|peephole|constants|attr|predicate|constraint)|match_operand)"], &[]),
                rule("Markdown", &[], &[]),
            ],
        );
        t.insert(
            ".cls",
            vec![
                rule("TeX", &[r"^\s*\\(NeedsTeXFormat|ProvidesClass|LoadClass|DeclareOption)\b"], &[]),
                rule("Visual Basic 6.0", &[r"^\s*VERSION\s+1\.0\s+CLASS", r"^\s*Attribute\s+VB_"], &[]),
                rule("ObjectScript", &[r"^\s*Class\s+[\w.%]+(\s+Extends\s+)?"], &[]),
                rule("Apex", &[r"(?i)^\s*((public|global|private)\s+)?((with|without|inherited)\s+sharing\s+)?(virtual\s+|abstract\s+)?class\s+\w+"], &[]),
                rule("OpenEdge ABL", &[r"(?i)^\s*(CLASS|USING)\s+[\w.]+"], &[]),
            ],
        );
        t.insert(
            ".sql",
            vec![
                rule("PLpgSQL", &[r"(?i)\$\$|language\s+plpgsql|\bRAISE\s+(NOTICE|EXCEPTION)\b|\bperform\s"], &[]),
                rule("SQLPL", &[r"(?i)^\s*(begin\s+atomic|signal\s+sqlstate|call\s+sysproc\.)"], &[]),
                rule("PLSQL", &[r"(?i)\b(pls_integer|varchar2|dbms_\w+|create\s+(or\s+replace\s+)?package\b|\bend\s+\w+\s*;\s*$\s*/)"], &[]),
                rule("TSQL", &[r"(?i)^\s*GO\s*$|\[dbo\]|@@\w+|\bnvarchar\b|\bBEGIN\s+TRAN"], &[]),
                rule("SQL", &[], &[]),
            ],
        );
        t.insert(
            ".r",
            vec![
                rule("Rebol", &[r"(?i)\bREBOL\s*\["], &[]),
                rule("Rez", &[r"^\s*(resource|type|#include\s+<(Carbon|Types)\.r>)\s"], &[]),
                rule("R", &[], &[]),
            ],
        );
        t.insert(
            ".rs",
            vec![
                rule("XML", &[r"\A\s*<\?xml"], &[]),
                rule("RenderScript", &[r"^\s*#pragma\s+(rs|version)\b"], &[r"^\s*(fn|use|mod|pub|impl)\s"]),
                rule("Rust", &[], &[]),
            ],
        );
        t.insert(
            ".fs",
            vec![
                rule("GLSL", &[r"^\s*(#version|precision\s|uniform\s|varying\s|void\s+main\s*\(|gl_Frag)"], &[]),
                rule("Forth", &[r"^\s*:\s+\S+", r"^\s*(variable|constant)\s+\S+\s*$"], &[r"^\s*(let|open|module|type)\s"]),
                rule("Filterscript", &[r"^\s*#pragma\s+rs\b"], &[]),
                rule("F#", &[], &[]),
            ],
        );
        t.insert(
            ".cs",
            vec![
                rule("Smalltalk", &[r"!\s*\w+\s+(class\s+)?methodsFor:"], &[]),
                rule("C#", &[], &[]),
            ],
        );
        t.insert(
            ".d",
            vec![
                rule("D", &[r"^\s*(module|import)\s+[\w.]+\s*;", r"^\s*(auto|immutable|unittest)\b"], &[]),
                rule("DTrace", &[r"^\s*(syscall|pid\$?\w*|proc|fbt|profile|dtrace)::", r"^\s*#pragma\s+D\s"], &[]),
                rule("Makefile", &[r"^[\w./\\ -]+\s*:(\s|$)"], &[]),
            ],
        );
        t.insert(
            ".l",
            vec![
                rule("Lex", &[r"^%%\s*$", r"^%\{\s*$"], &[]),
                rule("Common Lisp", &[r"^\s*\((def|in-package|defpackage|defun)\b"], &[]),
                rule("Roff", &[r"^\.[A-Za-z]{1,2}(\s|$)"], &[]),
                rule("PicoLisp", &[r"^\s*\((de|class|rel|load)\s"], &[]),
            ],
        );
        t.insert(
            ".sc",
            vec![
                rule("SuperCollider", &[r"\b(SynthDef|SinOsc|Pbind|\\\w+\s*,)\b"], &[]),
                rule("Scala", &[], &[]),
            ],
        );
        t.insert(
            ".mod",
            vec![
                rule("XML", &[r"\A\s*<\?xml", r"<!ENTITY\s"], &[]),
                rule("Modula-2", &[r"^\s*(IMPLEMENTATION\s+|DEFINITION\s+)?MODULE\s+\w+"], &[]),
                rule("NMODL", &[r"^\s*(NEURON|UNITS|PARAMETER|ASSIGNED|BREAKPOINT)\s*\{"], &[]),
                rule("AMPL", &[r"^\s*(param|var|set|minimize|maximize|subject\s+to|s\.t\.)\s"], &[]),
                rule("Linux Kernel Module", &[r"^(kernel|drivers|fs|net|sound|crypto)/\S+\.ko\s*$"], &[]),
            ],
        );
        t.insert(
            ".json",
            vec![
                rule("OASv3-json", &[r#"^\s*"openapi"\s*:\s*"3\."#], &[]),
                rule("OASv2-json", &[r#"^\s*"swagger"\s*:\s*"2\."#], &[]),
                rule("JSON", &[], &[]),
            ],
        );
        t.insert(
            ".yml",
            vec![
                rule("OASv3-yaml", &[r#"^openapi\s*:\s*["']?3\."#], &[]),
                rule("OASv2-yaml", &[r#"^swagger\s*:\s*["']?2\."#], &[]),
                rule("YAML", &[], &[]),
            ],
        );
        t.insert(
            ".yaml",
            vec![
                rule("OASv3-yaml", &[r#"^openapi\s*:\s*["']?3\."#], &[]),
                rule("OASv2-yaml", &[r#"^swagger\s*:\s*["']?2\."#], &[]),
                rule("YAML", &[], &[]),
            ],
        );
        t
    })
}

/// The language the heuristics choose among `candidates` for `text`, if any rule decides,
/// and whether a pattern matched (`false`: the extension's fallback rule decided).
pub fn decide(
    extension: &str,
    candidates: &[&'static str],
    text: &str,
) -> Option<(&'static str, bool)> {
    let rules = table().get(extension)?;
    let mut end = text.len().min(MAX_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let text = &text[..end];
    rules
        .iter()
        .filter(|r| candidates.contains(&r.language))
        .find(|r| {
            (r.any.is_empty() || r.any.iter().any(|re| re.is_match(text)))
                && !r.none.iter().any(|re| re.is_match(text))
        })
        .and_then(|r| {
            let name = candidates.iter().copied().find(|c| *c == r.language)?;
            Some((name, !r.any.is_empty()))
        })
}

/// Languages most files with a shared extension are written in, most common first; the
/// choice when nothing else decides.
const COMMON: [&str; 40] = [
    "JavaScript",
    "TypeScript",
    "Python",
    "Java",
    "C",
    "C++",
    "C#",
    "Go",
    "Rust",
    "PHP",
    "Ruby",
    "Shell",
    "Kotlin",
    "Swift",
    "Objective-C",
    "Scala",
    "Perl",
    "R",
    "MATLAB",
    "Markdown",
    "JSON",
    "YAML",
    "XML",
    "HTML",
    "CSS",
    "SQL",
    "Text",
    "TOML",
    "INI",
    "Makefile",
    "Assembly",
    "Pascal",
    "Fortran",
    "Haskell",
    "Lua",
    "Verilog",
    "Prolog",
    "F#",
    "Common Lisp",
    "Roff",
];

/// The most common of several candidates (the first in Linguist's order otherwise).
pub fn most_common(candidates: &[&'static str]) -> &'static str {
    COMMON
        .iter()
        .find_map(|c| candidates.iter().copied().find(|x| x == c))
        .unwrap_or(candidates[0])
}
