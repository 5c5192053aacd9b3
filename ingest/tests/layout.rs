//! The layout of `ingest/src` as docs/architecture.md maps it: the map names every file and folder
//! there, and nothing else; each folder opens with a comment saying what it does; and no file (nor
//! any folder) imports one that imports it back, so each can be read, and changed, above the ones
//! it uses.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const ARCHITECTURE: &str = "../docs/architecture.md";

fn src() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn listed_in_the_map() -> BTreeSet<String> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(ARCHITECTURE))
        .expect("docs/architecture.md");
    let layout = text
        .split("## Layout\n```\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a ## Layout section with a code block");
    layout
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("src/"))
        .map(|rest| {
            rest.split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

fn on_disk(dir: &Path, prefix: &str, found: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).expect("ingest/src") {
        let entry = entry.expect("entry");
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.path().is_dir() {
            found.insert(format!("{name}/"));
            on_disk(&entry.path(), &format!("{name}/"), found);
        } else {
            found.insert(name);
        }
    }
}

fn files() -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    on_disk(&src(), "", &mut found);
    found
}

#[test]
fn the_layout_map_lists_exactly_the_files_of_ingest_src() {
    let found = files();
    assert_eq!(
        listed_in_the_map(),
        found,
        "docs/architecture.md ## Layout vs ls -R ingest/src"
    );
    for folder in found.iter().filter(|name| name.ends_with('/')) {
        let module = src().join(folder).join("mod.rs");
        let text = std::fs::read_to_string(&module).expect("each folder has a mod.rs");
        assert!(
            text.starts_with("//! "),
            "{} must open with a comment saying what the folder does",
            module.display()
        );
    }
}

/// A file's module path: `otlp/intake.rs` is `otlp::intake`, `otlp/mod.rs` is `otlp`.
fn module_of(file: &str) -> String {
    file.trim_end_matches(".rs")
        .trim_end_matches("/mod")
        .replace('/', "::")
}

/// The modules of the library whose items `file` uses, outside its tests: every path that starts
/// with `crate::` or `super::`, and in a folder's mod.rs every path through one of its children
/// (`child::item`), each taken to the longest prefix that is a module of ours. Declaring a child
/// (`mod child;`) is not using it.
fn imports(file: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let text = std::fs::read_to_string(src().join(file)).expect("a source file");
    // Code only: not its tests, not its comments (which name other modules freely).
    let code: String = text
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or_default()
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let this = module_of(file);
    let parent = this.rsplit_once("::").map_or("", |(parent, _)| parent);
    let mut starts = vec![
        ("crate::".to_string(), String::new()),
        ("super::".to_string(), parent.to_string()),
    ];
    if file.ends_with("mod.rs") {
        for child in modules
            .iter()
            .filter_map(|m| m.strip_prefix(&format!("{this}::")))
        {
            if !child.contains("::") {
                starts.push((format!("{child}::"), format!("{this}::{child}")));
            }
        }
    }
    let mut found = BTreeSet::new();
    for (prefix, base) in starts {
        for (at, _) in code.match_indices(prefix.as_str()) {
            let before = code[..at].chars().last().unwrap_or(' ');
            if before.is_alphanumeric() || before == '_' || before == ':' {
                continue;
            }
            let path: String = code[at + prefix.len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let mut module = base.clone();
            let mut longest = modules.contains(&module).then(|| module.clone());
            for part in path.split("::").filter(|part| !part.is_empty()) {
                module = if module.is_empty() {
                    part.to_string()
                } else {
                    format!("{module}::{part}")
                };
                if modules.contains(&module) {
                    longest = Some(module.clone());
                }
            }
            if let Some(module) = longest.filter(|module| *module != this) {
                found.insert(module);
            }
        }
    }
    found
}

#[test]
fn no_file_and_no_folder_imports_one_that_imports_it_back() {
    let sources: Vec<String> = files()
        .into_iter()
        .filter(|file| file.ends_with(".rs") && file != "main.rs" && file != "lib.rs")
        .collect();
    let modules: BTreeSet<String> = sources.iter().map(|file| module_of(file)).collect();
    let graph: BTreeMap<String, BTreeSet<String>> = sources
        .iter()
        .map(|file| (module_of(file), imports(file, &modules)))
        .collect();
    // Sanity: the check sees imports at all.
    assert!(
        graph["server"].contains("otlp::intake"),
        "{:?}",
        graph["server"]
    );
    assert!(graph["viewer::api"].contains("viewer::state"), "{graph:?}");

    // Files: a cycle of any length.
    let mut cycles = Vec::new();
    for start in graph.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((module, path)) = stack.pop() {
            for next in &graph[&module] {
                if next == start {
                    cycles.push(path.join(" -> ") + " -> " + start);
                } else if seen.insert(next.clone()) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
        }
    }
    assert!(
        cycles.is_empty(),
        "import cycles between files: {cycles:#?}"
    );

    // Folders (rooms) and top-level files: no two import each other.
    let room = |module: &str| module.split("::").next().unwrap_or_default().to_string();
    let mut rooms: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, imported) in &graph {
        for other in imported
            .iter()
            .map(|m| room(m))
            .filter(|r| *r != room(module))
        {
            rooms.entry(room(module)).or_default().insert(other);
        }
    }
    let mut mutual = Vec::new();
    for (a, imported) in &rooms {
        for b in imported {
            if a < b && rooms.get(b).is_some_and(|back| back.contains(a)) {
                mutual.push(format!("{a} <-> {b}"));
            }
        }
    }
    assert!(
        mutual.is_empty(),
        "rooms that import each other: {mutual:?}"
    );
}
