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
    for name in ["cenacle_api", "cenacle_apub"] {
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
        if file.ends_with("lib.rs") {
            continue; // where `Context::conn` and `Context::transaction` are defined
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

/// The top-level module a file belongs to (`src/activities/follow.rs` → `activities`).
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap();
    let first = relative.components().next().unwrap();
    first
        .as_os_str()
        .to_str()
        .unwrap()
        .trim_end_matches(".rs")
        .to_owned()
}

/// Names the crate root re-exports from a module (`pub use caller::Caller;`).
fn reexports(lib: &str) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for statement in lib.split(';') {
        let statement = statement.trim();
        let Some(path) = statement.strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, rest)) = path.split_once("::") else {
            continue;
        };
        for name in rest
            .trim_matches(|c| c == '{' || c == '}')
            .split(|c: char| c == ',' || c == '{' || c == '}' || c.is_whitespace())
        {
            let name = name.rsplit("::").next().unwrap_or(name).trim();
            if !name.is_empty() && name != "self" {
                names.insert(name.to_owned(), module.trim().to_owned());
            }
        }
    }
    names
}

/// The modules a piece of code refers to through `crate::…` (paths and use trees).
fn referenced_modules(
    code: &str,
    modules: &BTreeSet<String>,
    reexported: &BTreeMap<String, String>,
) -> BTreeSet<String> {
    let resolve = |name: &str| -> Option<String> {
        if modules.contains(name) {
            Some(name.to_owned())
        } else {
            reexported.get(name).cloned()
        }
    };
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(tree) = rest.strip_prefix('{') {
            // `use crate::{a, b::{c, d}, E}`: the first name of each top-level branch.
            let (mut depth, mut start) = (0usize, 0usize);
            for (i, c) in tree.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        found.extend(resolve(head(&tree[start..i])));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.extend(resolve(head(&tree[start..i])));
                        start = i + 1;
                    }
                    _ => {}
                }
            }
        } else {
            found.extend(resolve(head(rest)));
        }
    }
    found
}

/// The first name of a path: `objects::content::X` → `objects`.
fn head(path: &str) -> &str {
    let path = path.trim();
    let end = path
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(path.len());
    &path[..end]
}

fn module_graph(crate_name: &str) -> BTreeMap<String, BTreeSet<String>> {
    let src = crate_dir(crate_name).join("src");
    let files = rust_files(&src);
    let modules: BTreeSet<String> = files
        .iter()
        .map(|f| module_of(&src, f))
        .filter(|m| m != "lib")
        .collect();
    let reexported = reexports(&std::fs::read_to_string(src.join("lib.rs")).unwrap());
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let module = module_of(&src, file);
        if module == "lib" {
            continue; // the root declares and wires every module
        }
        let used = referenced_modules(&code_of(file), &modules, &reexported);
        let edges = graph.entry(module.clone()).or_default();
        edges.extend(used.into_iter().filter(|m| *m != module));
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
            panic!(
                "{name}: modules import each other in a circle: {}",
                cycle.join(" → ")
            );
        }
    }
}

#[test]
fn the_cycle_finder_finds_cycles() {
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
    let modules = BTreeSet::from(["caller".to_owned(), "access".to_owned()]);
    let reexported = BTreeMap::from([("Caller".to_owned(), "caller".to_owned())]);
    assert_eq!(
        referenced_modules(
            "use crate::{access::{self, x}, Caller, Conn};\nlet y = crate::caller::f();",
            &modules,
            &reexported
        ),
        BTreeSet::from(["access".to_owned(), "caller".to_owned()])
    );
}
