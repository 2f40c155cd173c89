//! The layers of the crate, checked: every top-level module may use only
//! modules of lower layers (ARCHITECTURE.md, "Layers"), so no two of them
//! import each other, even through a third.
//!
//! The check reads the sources: every `crate::NAME` outside comments counts
//! as a use of the top-level module `NAME`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The top-level modules, lowest layer first. Modules of one layer do not
/// use each other either.
const LAYERS: &[&[&str]] = &[
    &["model"],
    &["config"],
    &["tls", "memory"],
    &["intake"],
    &["store"],
    &["exit", "service"],
    &["outbox"],
    &["source"],
    &["lease"],
    &["view", "wiring"],
    &["web"],
    &["daemon"],
    &["cli"],
];

/// `crate::NAME` that are not modules: macros exported at the crate root,
/// each counted as the module that defines it.
const ROOT_MACROS: &[(&str, &str)] = &[("closed_set", "model")];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The `.rs` files of a module: `NAME.rs` and everything under `NAME/`.
fn files_of(module: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let single = src().join(format!("{module}.rs"));
    if single.exists() {
        files.push(single);
    }
    let mut dirs = vec![src().join(module)];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files
}

/// The top-level modules a source text names as `crate::NAME`, comments
/// left out.
fn uses_in(text: &str) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            // `$crate::` in a macro is the same crate.
            if !name.is_empty() {
                let module = ROOT_MACROS
                    .iter()
                    .find(|(mac, _)| *mac == name)
                    .map_or(name, |(_, module)| (*module).to_owned());
                used.insert(module);
            }
            rest = after;
        }
    }
    used
}

/// The modules `src/lib.rs` declares.
fn declared_modules() -> BTreeSet<String> {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    lib.lines()
        .filter_map(|line| line.trim().strip_prefix("pub mod "))
        .map(|rest| rest.trim_end_matches(';').to_owned())
        .collect()
}

#[test]
fn every_module_has_a_layer() {
    let unplaced: Vec<String> = declared_modules()
        .into_iter()
        .filter(|m| layer_of(m).is_none())
        .collect();
    assert!(
        unplaced.is_empty(),
        "modules missing from LAYERS in src/layers.rs (and ARCHITECTURE.md): {unplaced:?}"
    );
}

#[test]
fn no_module_uses_one_of_its_layer_or_above() {
    let mut wrong = Vec::new();
    for module in declared_modules() {
        let Some(own) = layer_of(&module) else {
            continue;
        };
        for file in files_of(&module) {
            let text = std::fs::read_to_string(&file).unwrap();
            for used in uses_in(&text) {
                if used == module {
                    continue;
                }
                match layer_of(&used) {
                    Some(layer) if layer < own => {}
                    _ => wrong.push(format!(
                        "{} ({module}) uses crate::{used}",
                        file.strip_prefix(src()).unwrap_or(&file).display()
                    )),
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_reader_sees_uses_and_skips_comments() {
    let text = "use crate::store::Store;\n// crate::web is only named here\n\
                let x = crate::model::Language::En; // crate::cli\n\
                $crate::closed_set! {}\n";
    let used: Vec<String> = uses_in(text).into_iter().collect();
    assert_eq!(used, ["model", "store"]);
}
