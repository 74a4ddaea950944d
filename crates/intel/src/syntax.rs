//! Syntax-level intelligence from a real parse (tree-sitter): symbols (the grammars' own
//! `tags.scm` queries, plus a few patterns of ours for kinds they leave out), imports,
//! and cyclomatic complexity per function and per file.
//!
//! Complexity is McCabe's number counted on the syntax tree, as lizard and most linters
//! do: 1 per function plus 1 per branch point (`if`, loop, `case`, `catch`, conditional
//! expression, and each `&&` / `||` / `??` / `and` / `or`). A branch outside any function
//! counts towards the file only. The file's number is the sum over its functions plus
//! its top-level branch points (at least 1). No crate computes this for tree-sitter 0.25+
//! grammars (rust-code-analysis pins its own old grammars), so the walk is ours; the node
//! kinds per language are below.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tree_sitter::{Language, Node, ParseOptions, Parser, Query, QueryCursor, StreamingIterator};
use tributary_events::intelligence::{Complexity, FunctionComplexity, Symbol};

/// Limits that keep one hostile file from costing more than its share.
#[derive(Debug, Clone, Copy)]
pub struct SyntaxLimits {
    /// Files larger than this are not parsed (lines and the rest still are).
    pub max_bytes: usize,
    /// A parse that takes longer is abandoned.
    pub max_parse_ms: u64,
    /// At most this many symbols (and as many functions, and imports) per file.
    pub max_symbols: usize,
}

impl Default for SyntaxLimits {
    fn default() -> Self {
        SyntaxLimits {
            max_bytes: 2 * 1024 * 1024,
            max_parse_ms: 2_000,
            max_symbols: 5_000,
        }
    }
}

/// What a parse found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Syntax {
    pub symbols: Vec<Symbol>,
    pub imports: Vec<String>,
    pub complexity: Option<Complexity>,
    /// Problems met on the way (syntax errors, limits hit); never fatal.
    pub diagnostics: Vec<String>,
    /// The parse ran out of time: the result depends on the machine's load, not only on
    /// the text (so it is not worth remembering).
    pub abandoned: bool,
}

/// A grammar here: one per outlined language. The one table of languages — their
/// Linguist names, the languages they serve, and their specs — is this enum's `match`es.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Grammar {
    Rust,
    Python,
    JavaScript,
    TypeScript,
    Tsx,
    Go,
    Java,
    C,
    Cpp,
}

impl Grammar {
    /// Every grammar, in declaration order.
    pub const ALL: [Grammar; 9] = [
        Grammar::Rust,
        Grammar::Python,
        Grammar::JavaScript,
        Grammar::TypeScript,
        Grammar::Tsx,
        Grammar::Go,
        Grammar::Java,
        Grammar::C,
        Grammar::Cpp,
    ];

    /// The grammar that outlines `language` (a Linguist name), if any.
    pub fn for_language(language: &str) -> Option<Self> {
        Some(match language {
            "Rust" => Grammar::Rust,
            "Python" => Grammar::Python,
            "JavaScript" => Grammar::JavaScript,
            "TypeScript" => Grammar::TypeScript,
            "TSX" => Grammar::Tsx,
            "Go" => Grammar::Go,
            "Java" => Grammar::Java,
            // Objective-C headers are C for the purpose of an outline
            "C" | "Objective-C" => Grammar::C,
            "C++" => Grammar::Cpp,
            _ => return None,
        })
    }

    /// Its language's Linguist name.
    pub fn language(self) -> &'static str {
        match self {
            Grammar::Rust => "Rust",
            Grammar::Python => "Python",
            Grammar::JavaScript => "JavaScript",
            Grammar::TypeScript => "TypeScript",
            Grammar::Tsx => "TSX",
            Grammar::Go => "Go",
            Grammar::Java => "Java",
            Grammar::C => "C",
            Grammar::Cpp => "C++",
        }
    }

    /// The compiled grammar and queries (built once, on first use).
    fn compiled(self) -> &'static Compiled {
        static COMPILED: OnceLock<Vec<Compiled>> = OnceLock::new();
        &COMPILED.get_or_init(|| Grammar::ALL.iter().map(|g| build(&g.spec())).collect())
            [self as usize]
    }
}

/// Whether `language` (a Linguist name) is parsed here.
pub fn supported(language: &str) -> bool {
    Grammar::for_language(language).is_some()
}

struct Spec {
    language: fn() -> Language,
    tags: &'static [&'static str],
    imports: &'static str,
    functions: &'static [&'static str],
    decisions: &'static [&'static str],
    /// Binary nodes whose `operator` field is a short-circuit operator.
    binary: &'static str,
    short_circuit: &'static [&'static str],
}

struct Compiled {
    language: Language,
    tags: Query,
    definition_captures: Vec<Option<String>>,
    name_capture: Option<u32>,
    imports: Query,
    import_capture: Option<u32>,
    /// What each node kind is to the complexity walk, by kind id (one lookup per node).
    roles: Vec<Role>,
    binary: u16,
    short_circuit: &'static [&'static str],
}

const JAVA_EXTRA: &str = r#"
(enum_declaration name: (identifier) @name) @definition.enum
(record_declaration name: (identifier) @name) @definition.class
(constructor_declaration name: (identifier) @name) @definition.method
"#;
const TS_EXTRA: &str = r#"
(type_alias_declaration name: (type_identifier) @name) @definition.type
(enum_declaration name: (identifier) @name) @definition.enum
"#;
const CPP_EXTRA: &str = r#"
(namespace_definition name: (namespace_identifier) @name) @definition.module
(function_declarator declarator: (qualified_identifier name: (identifier) @name)) @definition.method
(function_declarator declarator: (qualified_identifier name: (qualified_identifier name: (identifier) @name))) @definition.method
(function_declarator declarator: (qualified_identifier name: (template_function name: (identifier) @name))) @definition.method
(function_declarator declarator: (template_function name: (identifier) @name)) @definition.function
(function_declarator declarator: (operator_name) @name) @definition.function
(function_declarator declarator: (qualified_identifier name: (operator_name) @name)) @definition.method
(function_declarator declarator: (destructor_name) @name) @definition.method
(function_declarator declarator: (qualified_identifier name: (destructor_name) @name)) @definition.method
(alias_declaration name: (type_identifier) @name) @definition.type
"#;
const GO_EXTRA: &str = r#"
(package_clause (package_identifier) @name) @definition.module
"#;

const C_DECISIONS: &[&str] = &[
    "if_statement",
    "for_statement",
    "while_statement",
    "do_statement",
    "case_statement",
    "conditional_expression",
];

impl Grammar {
    fn spec(self) -> Spec {
        match self {
            Grammar::Rust => Spec {
                language: || tree_sitter_rust::LANGUAGE.into(),
                tags: &[tree_sitter_rust::TAGS_QUERY],
                imports: "(use_declaration argument: (_) @import) (extern_crate_declaration name: (identifier) @import)",
                functions: &["function_item"],
                decisions: &[
                    "if_expression",
                    "while_expression",
                    "for_expression",
                    "match_arm",
                ],
                binary: "binary_expression",
                short_circuit: &["&&", "||"],
            },
            Grammar::Python => Spec {
                language: || tree_sitter_python::LANGUAGE.into(),
                tags: &[tree_sitter_python::TAGS_QUERY],
                imports: "(import_statement name: (dotted_name) @import) (import_statement name: (aliased_import name: (dotted_name) @import)) (import_from_statement module_name: (_) @import)",
                functions: &["function_definition"],
                decisions: &[
                    "if_statement",
                    "elif_clause",
                    "for_statement",
                    "while_statement",
                    "except_clause",
                    "conditional_expression",
                    "case_clause",
                    "for_in_clause",
                    "if_clause",
                    "boolean_operator",
                ],
                binary: "",
                short_circuit: &[],
            },
            Grammar::JavaScript => js_family(|| tree_sitter_javascript::LANGUAGE.into(), JS_TAGS),
            Grammar::TypeScript => js_family(
                || tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
                TS_TAGS,
            ),
            Grammar::Tsx => js_family(|| tree_sitter_typescript::LANGUAGE_TSX.into(), TS_TAGS),
            Grammar::Go => Spec {
                language: || tree_sitter_go::LANGUAGE.into(),
                tags: &[tree_sitter_go::TAGS_QUERY, GO_EXTRA],
                imports: "(import_spec path: (_) @import)",
                functions: &["function_declaration", "method_declaration"],
                decisions: &[
                    "if_statement",
                    "for_statement",
                    "expression_case",
                    "type_case",
                    "communication_case",
                ],
                binary: "binary_expression",
                short_circuit: &["&&", "||"],
            },
            Grammar::Java => Spec {
                language: || tree_sitter_java::LANGUAGE.into(),
                tags: &[tree_sitter_java::TAGS_QUERY, JAVA_EXTRA],
                imports: "(import_declaration (scoped_identifier) @import) (import_declaration (identifier) @import)",
                functions: &["method_declaration", "constructor_declaration"],
                decisions: &[
                    "if_statement",
                    "for_statement",
                    "enhanced_for_statement",
                    "while_statement",
                    "do_statement",
                    "catch_clause",
                    "ternary_expression",
                    "switch_label",
                ],
                binary: "binary_expression",
                short_circuit: &["&&", "||"],
            },
            Grammar::C => Spec {
                language: || tree_sitter_c::LANGUAGE.into(),
                tags: &[tree_sitter_c::TAGS_QUERY],
                imports: "(preproc_include path: (_) @import)",
                functions: &["function_definition"],
                decisions: C_DECISIONS,
                binary: "binary_expression",
                short_circuit: &["&&", "||"],
            },
            Grammar::Cpp => Spec {
                language: || tree_sitter_cpp::LANGUAGE.into(),
                tags: &[tree_sitter_cpp::TAGS_QUERY, CPP_EXTRA],
                imports: "(preproc_include path: (_) @import)",
                functions: &["function_definition"],
                decisions: &[
                    "if_statement",
                    "for_statement",
                    "for_range_loop",
                    "while_statement",
                    "do_statement",
                    "case_statement",
                    "conditional_expression",
                    "catch_clause",
                ],
                binary: "binary_expression",
                short_circuit: &["&&", "||"],
            },
        }
    }
}

/// JavaScript, TypeScript and TSX share everything but the grammar and, for the
/// TypeScript two, the tags they add to JavaScript's (as tree-sitter's own TypeScript
/// configuration does).
fn js_family(language: fn() -> Language, tags: &'static [&'static str]) -> Spec {
    Spec {
        language,
        tags,
        imports: JS_IMPORTS,
        functions: JS_FUNCTIONS,
        decisions: JS_DECISIONS,
        binary: "binary_expression",
        short_circuit: &["&&", "||", "??"],
    }
}

const JS_TAGS: &[&str] = &[tree_sitter_javascript::TAGS_QUERY];
const TS_TAGS: &[&str] = &[
    tree_sitter_javascript::TAGS_QUERY,
    tree_sitter_typescript::TAGS_QUERY,
    TS_EXTRA,
];

const JS_IMPORTS: &str = r#"
(import_statement source: (string) @import)
(export_statement source: (string) @import)
(call_expression function: (identifier) @f arguments: (arguments . (string) @import) (#eq? @f "require"))
"#;
const JS_FUNCTIONS: &[&str] = &[
    "function_declaration",
    "generator_function_declaration",
    "method_definition",
    "function_expression",
    "arrow_function",
];
const JS_DECISIONS: &[&str] = &[
    "if_statement",
    "for_statement",
    "for_in_statement",
    "while_statement",
    "do_statement",
    "switch_case",
    "catch_clause",
    "ternary_expression",
];

fn build(spec: &Spec) -> Compiled {
    let language = (spec.language)();
    let source: String = spec.tags.join("\n");
    let mut tags = Query::new(&language, &source).expect("tags query compiles (unit-tested)");
    // Keep definitions only: reference patterns (calls, type uses) are not an outline.
    let n = tags.pattern_count();
    for i in 0..n {
        let start = tags.start_byte_for_pattern(i);
        let end = if i + 1 < n {
            tags.start_byte_for_pattern(i + 1)
        } else {
            source.len()
        };
        let text = &source[start..end];
        if !text.contains("@definition.") {
            tags.disable_pattern(i);
        }
    }
    let definition_captures = tags
        .capture_names()
        .iter()
        .map(|c| c.strip_prefix("definition.").map(str::to_owned))
        .collect();
    let name_capture = tags.capture_index_for_name("name");
    let imports = Query::new(&language, spec.imports).expect("import query compiles (unit-tested)");
    let ids = |kinds: &[&str]| -> Vec<u16> {
        kinds
            .iter()
            .map(|k| language.id_for_node_kind(k, true))
            .filter(|id| *id != 0)
            .collect()
    };
    Compiled {
        roles: {
            let mut roles = vec![Role::Other; usize::from(language.node_kind_count() as u16) + 1];
            for id in ids(spec.decisions) {
                roles[usize::from(id)] = Role::Decision;
            }
            for id in ids(spec.functions) {
                roles[usize::from(id)] = Role::Function;
            }
            roles
        },
        binary: if spec.binary.is_empty() {
            u16::MAX
        } else {
            language.id_for_node_kind(spec.binary, true)
        },
        short_circuit: spec.short_circuit,
        language,
        tags,
        definition_captures,
        name_capture,
        import_capture: imports.capture_index_for_name("import"),
        imports,
    }
}

thread_local! {
    static PARSERS: RefCell<HashMap<Grammar, Parser>> = RefCell::new(HashMap::new());
}

/// Parses `text` as `language` (a Linguist name) and extracts symbols, imports and
/// complexity. `None` when the language has no grammar here.
pub fn analyse(language: &str, text: &str, limits: &SyntaxLimits) -> Option<Syntax> {
    let which = Grammar::for_language(language)?;
    let mut out = Syntax::default();
    if text.len() > limits.max_bytes {
        out.diagnostics.push(format!(
            "syntax: not parsed, {} bytes is over the {} byte limit",
            text.len(),
            limits.max_bytes
        ));
        return Some(out);
    }
    let grammar = which.compiled();
    let deadline = Instant::now() + Duration::from_millis(limits.max_parse_ms);
    let tree = with_parser(which, |parser| {
        let bytes = text.as_bytes();
        let mut progress = |_: &tree_sitter::ParseState| {
            if Instant::now() > deadline {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        let options = ParseOptions::new().progress_callback(&mut progress);
        let tree = parser.parse_with_options(
            &mut |i, _| bytes.get(i..).unwrap_or_default(),
            None,
            Some(options),
        );
        // an abandoned parse leaves state behind
        parser.reset();
        tree
    });
    let Some(tree) = tree else {
        out.abandoned = true;
        out.diagnostics.push(format!(
            "syntax: parse abandoned after {} ms",
            limits.max_parse_ms
        ));
        return Some(out);
    };
    let root = tree.root_node();
    if root.has_error() {
        out.diagnostics
            .push("syntax: the file has syntax errors; results are best effort".into());
    }
    let bytes = text.as_bytes();
    out.symbols = symbols(grammar, language, root, bytes, limits.max_symbols);
    out.imports = imports(grammar, root, bytes, limits.max_symbols);
    out.complexity = Some(complexity(grammar, root, bytes, limits.max_symbols));
    if out.symbols.len() >= limits.max_symbols {
        out.diagnostics.push(format!(
            "syntax: symbols truncated at {}",
            limits.max_symbols
        ));
    }
    Some(out)
}

/// The parse alone, without queries or walks: the floor under [`analyse`]'s cost, for
/// benches that compare it with peers (`benches/analyse.sh`). Returns the number of
/// nodes in the root's subtree's first level, so the parse cannot be optimised away;
/// `None` when the language has no grammar here.
#[doc(hidden)]
pub fn parse_only(language: &str, text: &str) -> Option<usize> {
    let which = Grammar::for_language(language)?;
    if text.len() > SyntaxLimits::default().max_bytes {
        return Some(0);
    }
    with_parser(which, |parser| {
        let tree = parser.parse(text, None);
        parser.reset();
        tree.map(|t| t.root_node().child_count() as usize)
    })
}

/// Runs `f` with this thread's parser for `which` (made on first use).
fn with_parser<T>(which: Grammar, f: impl FnOnce(&mut Parser) -> T) -> T {
    PARSERS.with(|parsers| {
        let mut parsers = parsers.borrow_mut();
        let parser = parsers.entry(which).or_insert_with(|| {
            let mut p = Parser::new();
            p.set_language(&which.compiled().language)
                .expect("grammar ABI is supported (unit-tested)");
            p
        });
        f(parser)
    })
}

fn symbols(g: &Compiled, language: &str, root: Node<'_>, src: &[u8], max: usize) -> Vec<Symbol> {
    let mut cursor = QueryCursor::new();
    let mut matches = cursor.matches(&g.tags, root, src);
    let mut out: Vec<Symbol> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    while let Some(m) = matches.next() {
        let mut def: Option<(Node<'_>, &str)> = None;
        let mut name: Option<Node<'_>> = None;
        for c in m.captures() {
            if Some(c.index) == g.name_capture {
                name = Some(c.node);
            } else if let Some(Some(kind)) = g.definition_captures.get(c.index as usize) {
                def = Some((c.node, kind.as_str()));
            }
        }
        let (Some((node, kind)), Some(name)) = (def, name) else {
            continue;
        };
        let Some(kind) = refine_kind(language, node, kind) else {
            continue;
        };
        let Ok(text) = name.utf8_text(src) else {
            continue;
        };
        // the name's line: annotations and decorators above a definition are not it
        let line = name.start_position().row as u64 + 1;
        // one symbol per name, whichever pattern found it first
        if !seen.insert(name.start_byte()) {
            continue;
        }
        out.push(Symbol {
            kind: kind.to_owned(),
            name: text.to_owned(),
            line,
        });
        if out.len() >= max {
            break;
        }
    }
    out.sort_by(|a, b| a.line.cmp(&b.line).then_with(|| a.name.cmp(&b.name)));
    out
}

/// The tags queries' kinds are coarse (`class` for every Rust struct, enum and union);
/// the node says what it is. `None` drops the match (a C prototype is not a definition).
fn refine_kind<'k>(language: &str, node: Node<'_>, kind: &'k str) -> Option<&'k str> {
    let k = node.kind();
    let refined = match (language, k) {
        (_, "struct_item" | "struct_specifier") => "struct",
        (_, "enum_item" | "enum_specifier" | "enum_declaration") => "enum",
        (_, "union_item" | "union_specifier") => "union",
        (_, "trait_item") => "trait",
        (_, "type_item" | "type_definition" | "type_alias_declaration") => "type",
        (_, "mod_item" | "namespace_definition" | "package_clause" | "module") => "module",
        (_, "macro_definition") => "macro",
        (_, "interface_declaration") => "interface",
        (_, "class_specifier" | "class_declaration" | "class" | "abstract_class_declaration") => {
            "class"
        }
        (_, "record_declaration") => "class",
        ("Go", "type_spec") => match node.child_by_field_name("type").map(|t| t.kind()) {
            Some("struct_type") => "struct",
            Some("interface_type") => "interface",
            _ => "type",
        },
        ("Python", "function_definition") => {
            if inside(node, "class_definition", &["block", "decorated_definition"]) {
                "method"
            } else {
                "function"
            }
        }
        ("C" | "Objective-C" | "C++", "function_declarator") => {
            // a definition's declarator sits (through pointers and references) under a
            // function_definition; a prototype's under a declaration
            let mut up = node.parent();
            while let Some(p) = up {
                match p.kind() {
                    "pointer_declarator" | "reference_declarator" | "parenthesized_declarator" => {
                        up = p.parent()
                    }
                    _ => break,
                }
            }
            match up.map(|p| p.kind()) {
                Some("function_definition") => {
                    if kind == "method" || inside_class(node) {
                        "method"
                    } else {
                        "function"
                    }
                }
                _ => return None,
            }
        }
        (_, "method_definition" | "method_declaration" | "constructor_declaration") => "method",
        _ => kind,
    };
    Some(refined)
}

fn inside(node: Node<'_>, target: &str, through: &[&str]) -> bool {
    let mut up = node.parent();
    while let Some(p) = up {
        if p.kind() == target {
            return true;
        }
        if !through.contains(&p.kind()) {
            return false;
        }
        up = p.parent();
    }
    false
}

fn inside_class(node: Node<'_>) -> bool {
    let mut up = node.parent();
    while let Some(p) = up {
        match p.kind() {
            "field_declaration_list" => return true,
            "translation_unit" | "compound_statement" => return false,
            _ => up = p.parent(),
        }
    }
    false
}

/// How deep in the tree an import may start.
const IMPORT_DEPTH: u32 = 5;

fn imports(g: &Compiled, root: Node<'_>, src: &[u8], max: usize) -> Vec<String> {
    let mut cursor = QueryCursor::new();
    let Some(index) = g.import_capture else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    // imports sit at the top of a file, or a few levels down (`#ifdef` blocks, `mod`
    // blocks, lazy imports in a function); not searching deeper halves the query's cost
    cursor.set_max_start_depth(Some(IMPORT_DEPTH));
    let mut matches = cursor.matches(&g.imports, root, src);
    while let Some(m) = matches.next() {
        for c in m.captures().iter().filter(|c| c.index == index) {
            if let Ok(text) = c.node.utf8_text(src) {
                let text = text.trim_matches(|ch| matches!(ch, '"' | '\'' | '`' | '<' | '>'));
                if !text.is_empty() && !out.iter().any(|x| x == text) {
                    out.push(text.to_owned());
                }
            }
        }
        if out.len() >= max {
            break;
        }
    }
    out
}

/// A node kind's part in cyclomatic complexity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Decision,
    Function,
    Other,
}

fn complexity(g: &Compiled, root: Node<'_>, src: &[u8], max: usize) -> Complexity {
    let mut functions: Vec<FunctionComplexity> = Vec::new();
    // (depth of the function's node, index into `functions`); the walk's own depth
    // says when it leaves a function, without asking the cursor for its node again
    let mut open: Vec<(u32, usize)> = Vec::new();
    let mut depth: u32 = 0;
    let mut top_level: u64 = 0;
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        let id = node.kind_id();
        let mut add = 0;
        let role = g.roles.get(usize::from(id)).copied().unwrap_or(Role::Other);
        if role == Role::Decision {
            add = 1;
            // `default:` is not a branch of its own (Java's switch_label, C's case_statement)
            if matches!(node.kind(), "switch_label" | "case_statement")
                && node.child(0).is_some_and(|c| c.kind() == "default")
            {
                add = 0;
            }
        } else if id == g.binary
            && node
                .child_by_field_name("operator")
                .is_some_and(|op| g.short_circuit.contains(&op.kind()))
        {
            add = 1;
        }
        if add > 0 {
            match open.last() {
                Some((_, i)) => functions[*i].cyclomatic += add,
                None => top_level += add,
            }
        }
        if role == Role::Function
            && let Some(name_node) = function_name(node)
            && let Ok(name) = name_node.utf8_text(src)
        {
            // the name's line, as its symbol has it: annotations, decorators and a C
            // return type on the line above are not where the function is
            let start = name_node.start_position().row.min(node.end_position().row);
            let end = node.end_position().row;
            functions.push(FunctionComplexity {
                name: name.to_owned(),
                line: start as u64 + 1,
                cyclomatic: 1,
                lines: Some((end - start) as u64 + 1),
                parameters: parameters(node, src),
            });
            open.push((depth, functions.len() - 1));
        }
        if cursor.goto_first_child() {
            depth += 1;
            continue;
        }
        loop {
            if open.last().is_some_and(|(d, _)| *d == depth) {
                open.pop();
            }
            if cursor.goto_next_sibling() {
                break;
            }
            if cursor.goto_parent() {
                depth -= 1;
            } else {
                let cyclomatic =
                    (functions.iter().map(|f| f.cyclomatic).sum::<u64>() + top_level).max(1);
                keep_top_functions(&mut functions, max);
                return Complexity {
                    cyclomatic,
                    functions,
                };
            }
        }
    }
}

/// Cuts `functions` to the `max` that matter most — the most complex, then the longest
/// — kept in the order they appear in the file.
fn keep_top_functions(functions: &mut Vec<FunctionComplexity>, max: usize) {
    if functions.len() <= max {
        return;
    }
    functions.sort_by(|a, b| {
        b.cyclomatic
            .cmp(&a.cyclomatic)
            .then_with(|| b.lines.cmp(&a.lines))
            .then_with(|| a.line.cmp(&b.line))
    });
    functions.truncate(max);
    functions.sort_by_key(|f| f.line);
}

/// The parameters a function's parameter list names (see
/// `FunctionComplexity::parameters`); `None` when the grammar shows no list.
fn parameters(node: Node<'_>, src: &[u8]) -> Option<u64> {
    // JavaScript's `x => ...` has one parameter and no list
    if node.child_by_field_name("parameter").is_some() {
        return Some(1);
    }
    let list = match node.child_by_field_name("parameters") {
        Some(list) => list,
        None => {
            // C and C++: function_definition → declarator chain → function_declarator
            let mut d = node.child_by_field_name("declarator")?;
            while d.kind() != "function_declarator" {
                d = d.child_by_field_name("declarator")?;
            }
            d.child_by_field_name("parameters")?
        }
    };
    let mut count = 0;
    let mut cursor = list.walk();
    for p in list.named_children(&mut cursor) {
        count += match p.kind() {
            "comment"
            | "line_comment"
            | "block_comment"
            | "attribute_item"
            | "positional_separator"
            | "keyword_separator"
            | "variadic_parameter"
            | "receiver_parameter" => 0,
            // Go: `a, b int` declares two; `int` alone (an unnamed parameter) one.
            // C: `(void)` declares none; a named or unnamed `int` one.
            "parameter_declaration" => {
                let mut names = p.walk();
                let named = p.children_by_field_name("name", &mut names).count() as u64;
                let void = p.child_by_field_name("declarator").is_none()
                    && p.child_by_field_name("type")
                        .is_some_and(|t| t.utf8_text(src).is_ok_and(|t| t == "void"));
                if named > 0 {
                    named
                } else if void {
                    0
                } else {
                    1
                }
            }
            _ => 1,
        };
    }
    Some(count)
}

/// The node naming a function; `None` for an anonymous function nothing names (its
/// branches count towards the enclosing function).
fn function_name(node: Node<'_>) -> Option<Node<'_>> {
    if let Some(name) = node.child_by_field_name("name") {
        return Some(name);
    }
    if let Some(mut d) = node.child_by_field_name("declarator") {
        // C and C++: function_definition → declarator chain → identifier
        loop {
            match d.kind() {
                "identifier"
                | "field_identifier"
                | "qualified_identifier"
                | "destructor_name"
                | "operator_name"
                | "template_function" => return Some(d),
                _ => d = d.child_by_field_name("declarator")?,
            }
        }
    }
    // JavaScript: `const f = () => ...`, `obj.f = function () ...`, `{ f: () => ... }`
    let parent = node.parent()?;
    match parent.kind() {
        "variable_declarator" => parent.child_by_field_name("name"),
        "assignment_expression" => parent.child_by_field_name("left"),
        "pair" => parent.child_by_field_name("key"),
        "public_field_definition" | "field_definition" => parent.child_by_field_name("name"),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
