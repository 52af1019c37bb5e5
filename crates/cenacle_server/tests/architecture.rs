//! The shape of the house, checked on its sources (DESIGN.md §1):
//! - dependencies point inward: the API and federation crates reach the database only
//!   through `cenacle_core`;
//! - core use cases run on the connection their caller gives them, never on one of their own;
//! - no module of `cenacle_core` or `cenacle_apub` imports one that imports it back.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

fn crate_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name)
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The lines of a source file that are code, not comments, and not its unit tests.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `[dependencies]` of a crate's manifest (not its dev-dependencies).
fn dependencies(name: &str) -> Vec<String> {
    let manifest = std::fs::read_to_string(crate_dir(name).join("Cargo.toml")).unwrap();
    let section = manifest
        .split("[dependencies]")
        .nth(1)
        .unwrap_or("")
        .split("\n[")
        .next()
        .unwrap_or("")
        .to_owned();
    section
        .lines()
        .filter_map(|l| l.split(['=', '.']).next())
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty() && !d.starts_with('#'))
        .collect()
}

#[test]
fn the_api_and_federation_crates_reach_the_database_only_through_core() {
    for name in ["cenacle_api", "cenacle_apub", "cenacle_web"] {
        let deps = dependencies(name);
        for storage in ["cenacle_db", "diesel", "diesel-async"] {
            assert!(
                !deps.iter().any(|d| d == storage),
                "{name} depends on {storage}: it must go through cenacle_core"
            );
        }
        for file in rust_files(&crate_dir(name).join("src")) {
            let code = code_of(&file);
            assert!(
                !code.contains("cenacle_db::") && !code.contains("diesel"),
                "{} names the storage layer",
                file.display()
            );
        }
    }
}

#[test]
fn core_use_cases_never_take_a_connection_of_their_own() {
    let src = crate_dir("cenacle_core").join("src");
    for file in rust_files(&src) {
        // Where `Context::conn` and `Context::transaction` are defined.
        if file.ends_with("lib.rs") || file.ends_with("context.rs") {
            continue;
        }
        let code = code_of(&file);
        for call in [".conn()", ".transaction(", "pool()", ".get().await"] {
            assert!(
                !code.contains(call),
                "{} calls `{call}`: a use case runs on its caller's connection",
                file.display()
            );
        }
    }
}

/// A module's path in its crate: `src/activities/follow.rs` → `activities::follow`,
/// `src/activities/mod.rs` → `activities`, `src/lib.rs` → `` (the root).
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_str().unwrap().to_owned())
        .collect();
    let parts = match parts.last().map(String::as_str) {
        Some("mod") | Some("lib") => &parts[..parts.len() - 1],
        _ => &parts[..],
    };
    parts.join("::")
}

fn parent_of(module: &str) -> String {
    module
        .rsplit_once("::")
        .map(|(parent, _)| parent.to_owned())
        .unwrap_or_default()
}

fn ident_len(text: &str) -> usize {
    text.find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len())
}

/// The full paths a use tree or path starting at `text` names: `a::{b, c::{d, e}}` →
/// `a::b`, `a::c::d`, `a::c::e`.
fn expand(text: &str, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut path = prefix.to_vec();
    let mut rest = text.trim_start();
    loop {
        if let Some(tree) = rest.strip_prefix('{') {
            let (mut depth, mut start) = (0usize, 0usize);
            for (i, c) in tree.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        expand(&tree[start..i], &path, out);
                        return;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        expand(&tree[start..i], &path, out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            return;
        }
        let len = ident_len(rest);
        if len == 0 {
            break;
        }
        path.push(rest[..len].to_owned());
        rest = &rest[len..];
        match rest.strip_prefix("::") {
            Some(more) => rest = more,
            None => break,
        }
    }
    if path.len() > prefix.len() {
        out.push(path);
    }
}

/// The modules a file's code refers to through `crate::…` and `super::…` paths.
fn referenced_modules(
    code: &str,
    module: &str,
    modules: &BTreeSet<String>,
    reexported: &BTreeMap<String, String>,
) -> BTreeSet<String> {
    let mut paths = Vec::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < code.len() {
        let at_word_start =
            i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        let rest = &code[i..];
        if at_word_start && rest.starts_with("crate::") {
            expand(&rest["crate::".len()..], &[], &mut paths);
            i += "crate::".len();
        } else if at_word_start && rest.starts_with("super::") {
            let mut base = parent_of(module);
            let mut after = &rest["super::".len()..];
            while let Some(more) = after.strip_prefix("super::") {
                base = parent_of(&base);
                after = more;
            }
            let prefix: Vec<String> = base
                .split("::")
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect();
            expand(after, &prefix, &mut paths);
            i += "super::".len();
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    let mut found = BTreeSet::new();
    // Paths relative to this module: its own submodules (`follow::Follow` in `activities`).
    for child in modules
        .iter()
        .filter(|m| !m.is_empty() && parent_of(m) == module)
    {
        let name = child.rsplit("::").next().unwrap_or(child);
        let pattern = format!("{name}::");
        let used = code.match_indices(&pattern).any(|(at, _)| {
            at == 0 || {
                let before = code.as_bytes()[at - 1];
                !(before.is_ascii_alphanumeric() || before == b'_' || before == b':')
            }
        });
        if used {
            found.insert(child.clone());
        }
    }
    for path in paths {
        // The longest prefix of the path that is a module.
        let target = (1..=path.len())
            .rev()
            .map(|n| path[..n].join("::"))
            .find(|candidate| modules.contains(candidate));
        let target = match target {
            Some(t) => t,
            // An item of the root: re-exported from a module, or defined there.
            None => reexported.get(&path[0]).cloned().unwrap_or_default(),
        };
        if target != module {
            found.insert(target);
        }
    }
    found
}

/// Names the crate root re-exports from a module (`pub use caller::Caller;`).
fn reexports(lib: &str) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for statement in lib.split(';') {
        let Some(path) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        let mut paths = Vec::new();
        expand(path, &[], &mut paths);
        for path in paths {
            if let (Some(name), Some(module)) = (path.last(), path.first()) {
                names.insert(name.clone(), module.clone());
            }
        }
    }
    names
}

fn module_graph(crate_name: &str) -> BTreeMap<String, BTreeSet<String>> {
    let src = crate_dir(crate_name).join("src");
    let files = rust_files(&src);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(&src, f)).collect();
    let reexported = reexports(&std::fs::read_to_string(src.join("lib.rs")).unwrap());
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let module = module_of(&src, file);
        let used = referenced_modules(&code_of(file), &module, &modules, &reexported);
        graph.entry(module).or_default().extend(used);
    }
    graph
}

/// A cycle in the graph, if any, as the path of modules around it.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, graph, &mut Vec::new(), &mut done) {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn no_module_of_core_or_apub_imports_one_that_imports_it_back() {
    for name in ["cenacle_core", "cenacle_apub"] {
        let graph = module_graph(name);
        assert!(graph.len() > 5, "{name}: the module graph was not read");
        if let Some(cycle) = find_cycle(&graph) {
            let names: Vec<&str> = cycle
                .iter()
                .map(|m| if m.is_empty() { "(crate root)" } else { m })
                .collect();
            panic!(
                "{name}: modules import each other in a circle: {}",
                names.join(" → ")
            );
        }
        // The root only declares and re-exports: nothing can hide a cycle there.
        let lib = code_of(&crate_dir(name).join("src/lib.rs"));
        for definition in [
            "fn ", "struct ", "enum ", "impl ", "trait ", "static ", "const ",
        ] {
            assert!(
                !lib.contains(definition),
                "{name}/src/lib.rs defines something (`{definition}`): move it to a module"
            );
        }
    }
}

#[test]
fn the_module_graph_sees_paths_trees_and_parents() {
    let mut graph = BTreeMap::new();
    graph.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
    graph.insert("b".to_owned(), BTreeSet::from(["c".to_owned()]));
    graph.insert("c".to_owned(), BTreeSet::from(["a".to_owned()]));
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    graph.get_mut("c").unwrap().clear();
    assert_eq!(find_cycle(&graph), None);

    let modules = BTreeSet::from([
        String::new(),
        "caller".to_owned(),
        "access".to_owned(),
        "activities".to_owned(),
        "activities::vote".to_owned(),
        "activities::undo".to_owned(),
        "objects".to_owned(),
    ]);
    let reexported = BTreeMap::from([("Caller".to_owned(), "caller".to_owned())]);
    assert_eq!(
        referenced_modules(
            "use crate::{access::{self, x}, Caller, objects::{person::P, Q}};\nlet y = crate::caller::f();",
            "activities::undo",
            &modules,
            &reexported
        ),
        BTreeSet::from(["access".to_owned(), "caller".to_owned(), "objects".to_owned()])
    );
    // A module's own submodules, named relatively.
    assert_eq!(
        referenced_modules(
            "pub use vote::V;\nlet x = other::vote::y;",
            "activities",
            &modules,
            &reexported
        ),
        BTreeSet::from(["activities::vote".to_owned()])
    );
    // `super::` from a submodule names its parent, or a sibling through it.
    assert_eq!(
        referenced_modules(
            "use super::{vote::V, Prepared};",
            "activities::undo",
            &modules,
            &reexported
        ),
        BTreeSet::from(["activities".to_owned(), "activities::vote".to_owned()])
    );
    // An item defined in the root (not re-exported from a module) is an edge to the root.
    assert_eq!(
        referenced_modules("use crate::Defined;", "access", &modules, &reexported),
        BTreeSet::from([String::new()])
    );
    assert_eq!(
        reexports("pub use caller::Caller;\npub use error::{CoreError, Other};"),
        BTreeMap::from([
            ("Caller".to_owned(), "caller".to_owned()),
            ("CoreError".to_owned(), "error".to_owned()),
            ("Other".to_owned(), "error".to_owned()),
        ])
    );
}
