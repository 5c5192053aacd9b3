//! The README's layout section is the map of `ingest/src`: it names every file and folder there,
//! and nothing else; and each folder opens with a comment saying what it does.

use std::collections::BTreeSet;
use std::path::Path;

fn listed_in_readme() -> BTreeSet<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("README.md");
    let layout = readme
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

#[test]
fn readme_layout_lists_exactly_the_files_of_ingest_src() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = BTreeSet::new();
    on_disk(&src, "", &mut found);
    assert_eq!(
        listed_in_readme(),
        found,
        "README.md ## Layout vs ls -R ingest/src"
    );

    for folder in found.iter().filter(|name| name.ends_with('/')) {
        let module = src.join(folder).join("mod.rs");
        let text = std::fs::read_to_string(&module).expect("each folder has a mod.rs");
        assert!(
            text.starts_with("//! "),
            "{} must open with a comment saying what the folder does",
            module.display()
        );
    }
}
