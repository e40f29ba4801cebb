//! The shape of the house: imports between the service's top-level modules run one way (no
//! circle), and no Rust file in the workspace is longer than a reader can take in one sitting.
//!
//! `cargo test --test api architecture -- --nocapture` prints the module graph it checked.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// No `.rs` file, tests and benchmarks included, is longer than this (style habit 12).
const MAX_LINES: usize = 600;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file below `dir`, skipping build output and hidden folders.
fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                rust_files(&path, found);
            }
        } else if name.ends_with(".rs") {
            found.push(path);
        }
    }
}

/// The top-level modules of the service's library: `src/NAME.rs` or `src/NAME/`.
fn top_level_modules() -> BTreeMap<String, Vec<PathBuf>> {
    let src = root().join("src");
    let mut modules = BTreeMap::new();
    for entry in fs::read_dir(&src).unwrap().flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let mut files = Vec::new();
        let module = if path.is_dir() {
            rust_files(&path, &mut files);
            name
        } else if let Some(stem) = name.strip_suffix(".rs") {
            files.push(path.clone());
            stem.to_owned()
        } else {
            continue;
        };
        // The crate root and the binary are not modules that others import.
        if module == "lib" || module == "main" {
            continue;
        }
        modules.entry(module).or_insert_with(Vec::new).extend(files);
    }
    modules
}

/// The top-level modules a piece of source names through `crate::…`, including the members of
/// `use crate::{a, b::c}` groups.
fn crate_references(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        // `crate::` inside a longer path such as `openrouter_crate::` is not ours.
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name = ident(item);
                if !name.is_empty() && name != "self" {
                    found.insert(name);
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

/// The import graph between top-level modules (an edge A → B: A names `crate::B`).
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let modules = top_level_modules();
    let mut graph = BTreeMap::new();
    for (module, files) in &modules {
        let mut uses = BTreeSet::new();
        for file in files {
            let text = fs::read_to_string(file).unwrap();
            for name in crate_references(&text) {
                if name != *module && modules.contains_key(&name) {
                    uses.insert(name);
                }
            }
        }
        graph.insert(module.clone(), uses);
    }
    graph
}

/// One circle through `start`, if there is one: the path back to it.
fn circle_through(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    fn walk(
        graph: &BTreeMap<String, BTreeSet<String>>,
        start: &str,
        at: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in graph.get(at).into_iter().flatten() {
            if next == start {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(graph, start, next, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_owned()];
    let mut seen = BTreeSet::new();
    walk(graph, start, start, &mut path, &mut seen).then_some(path)
}

#[test]
fn imports_between_top_level_modules_never_form_a_circle() {
    let graph = module_graph();
    assert!(graph.len() > 10, "found too few modules: {graph:?}");
    println!("imports between the service's top-level modules:");
    for (module, uses) in &graph {
        let uses: Vec<&str> = uses.iter().map(String::as_str).collect();
        println!("  {module} -> {}", uses.join(", "));
    }
    let circles: BTreeSet<String> = graph
        .keys()
        .filter_map(|module| circle_through(&graph, module))
        .map(|circle| circle.join(" -> "))
        .collect();
    println!("circles: {}", circles.len());
    assert!(
        circles.is_empty(),
        "imports run in a circle (a type two modules share belongs in the lower one):\n  {}",
        circles.into_iter().collect::<Vec<_>>().join("\n  ")
    );
}

#[test]
fn the_circle_check_sees_a_circle_when_there_is_one() {
    let mut graph = BTreeMap::new();
    graph.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
    graph.insert("b".to_owned(), BTreeSet::from(["c".to_owned()]));
    graph.insert("c".to_owned(), BTreeSet::from(["a".to_owned()]));
    graph.insert("d".to_owned(), BTreeSet::from(["a".to_owned()]));
    assert_eq!(
        circle_through(&graph, "a").unwrap().join(" -> "),
        "a -> b -> c -> a"
    );
    assert_eq!(circle_through(&graph, "d"), None);
}

#[test]
fn grouped_and_nested_crate_paths_are_all_seen() {
    let text = "use crate::{error::ApiError, jobs::{Jobs, JobStore}};\n\
                let x = crate::metrics::record();\nuse openrouter_crate::thing;";
    let found = crate_references(text);
    assert!(found.contains("error"), "{found:?}");
    assert!(found.contains("jobs"), "{found:?}");
    assert!(found.contains("metrics"), "{found:?}");
    assert!(!found.contains("thing"), "{found:?}");
}

#[test]
fn no_rust_file_in_the_workspace_is_longer_than_600_lines() {
    let mut files = Vec::new();
    for dir in ["src", "tests", "benches", "crates"] {
        rust_files(&root().join(dir), &mut files);
    }
    assert!(files.len() > 50, "found too few files: {}", files.len());
    let mut long: Vec<String> = files
        .iter()
        .filter_map(|file| {
            let lines = fs::read_to_string(file).unwrap().lines().count();
            let name = file
                .strip_prefix(root())
                .unwrap_or(file)
                .display()
                .to_string();
            (lines > MAX_LINES).then(|| format!("{name}: {lines} lines"))
        })
        .collect();
    long.sort();
    assert!(
        long.is_empty(),
        "split these by noun (at most {MAX_LINES} lines each):\n  {}",
        long.join("\n  ")
    );
}
