//! The engine's modules depend on one another one way only, and none
//! imports from the crate root (`lib.rs` is the public facade, not a hub).
//!
//! The graph is read from the sources: every `crate::x` path and every
//! name in a `use crate::{...}` group, outside `#[cfg(test)]` modules; a
//! name the crate root re-exports counts as an edge to the module it comes
//! from. Method calls on the shared state do not show in paths and are not
//! counted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The source of every top-level module but the root and the unit tests.
fn modules(src: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(src).expect("read src") {
        let path = entry.expect("entry").path();
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if path.extension().is_some_and(|e| e == "rs") && name != "tests" {
            let text = std::fs::read_to_string(&path).expect("read module");
            out.insert(name.to_owned(), strip(&text));
        }
    }
    out
}

/// `text` without comments and without `#[cfg(test)]` modules.
fn strip(text: &str) -> String {
    let no_comments: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = String::new();
    let mut rest = no_comments.as_str();
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let Some(open) = after.find('{') else {
            rest = "";
            break;
        };
        // Only a module block is skipped; a test attribute on anything
        // else keeps its text.
        if !after[..open].contains("mod ") {
            out.push_str(&after[..open]);
            rest = &after[open..];
            continue;
        }
        let mut depth = 0usize;
        let mut end = after.len();
        for (i, c) in after[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The first segment of every path that follows `crate::`, including each
/// member of a `crate::{...}` group.
fn crate_heads(text: &str) -> Vec<String> {
    let mut heads = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        let after = &text[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let mut depth = 0usize;
            let mut member = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        heads.push(ident(member.trim()).to_owned());
                        member.clear();
                        continue;
                    }
                    _ => {}
                }
                member.push(c);
            }
            heads.push(ident(member.trim()).to_owned());
        } else {
            heads.push(ident(after).to_owned());
        }
    }
    heads.retain(|h| !h.is_empty());
    heads
}

/// Names the root defines (`struct`, `enum`, `fn`, ...) and the module each
/// re-exported name comes from.
fn root_names(lib: &str) -> (BTreeSet<String>, BTreeMap<String, String>) {
    let mut defined = BTreeSet::new();
    for line in lib.lines() {
        let l = line.trim_start();
        let l = l.strip_prefix("pub ").unwrap_or(l);
        for kw in [
            "struct ", "enum ", "fn ", "const ", "type ", "trait ", "static ",
        ] {
            if let Some(rest) = l.strip_prefix(kw) {
                defined.insert(ident(rest).to_owned());
            }
        }
    }
    let mut reexported = BTreeMap::new();
    for (at, _) in lib.match_indices("pub use ") {
        let rest = &lib[at + "pub use ".len()..];
        let module = ident(rest).to_owned();
        let stmt = &rest[..rest.find(';').unwrap_or(rest.len())];
        let names = match stmt.find('{') {
            Some(open) => &stmt[open + 1..],
            None => stmt.rsplit("::").next().unwrap_or(""),
        };
        for name in names.split([',', '}']) {
            let name = ident(name.trim());
            if !name.is_empty() {
                reexported.insert(name.to_owned(), module.clone());
            }
        }
    }
    (defined, reexported)
}

#[test]
fn modules_form_no_cycle_and_none_imports_the_root() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut mods = modules(&src);
    let lib = mods.remove("lib").expect("lib.rs");
    let (defined, reexported) = root_names(&lib);
    let mut graph: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut root_imports = Vec::new();
    for (name, text) in &mods {
        let edges = graph.entry(name).or_default();
        for head in crate_heads(text) {
            if mods.contains_key(&head) {
                if head != *name {
                    edges.insert(head);
                }
            } else if defined.contains(&head) {
                root_imports.push(format!("{name} uses crate::{head}"));
            } else if let Some(module) = reexported.get(&head) {
                if module != name {
                    edges.insert(module.clone());
                }
            }
        }
    }
    assert!(
        root_imports.is_empty(),
        "modules import items defined in lib.rs: {root_imports:?}"
    );
    // Depth-first search for a back edge.
    fn visit<'a>(
        node: &'a str,
        graph: &'a BTreeMap<&str, BTreeSet<String>>,
        state: &mut BTreeMap<&'a str, bool>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        match state.get(node) {
            Some(true) => return None,
            Some(false) => {
                let from = path.iter().position(|n| *n == node).unwrap_or(0);
                let mut cycle: Vec<String> = path[from..].iter().map(|s| s.to_string()).collect();
                cycle.push(node.to_owned());
                return Some(cycle);
            }
            None => {}
        }
        state.insert(node, false);
        path.push(node);
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, state, path) {
                return Some(cycle);
            }
        }
        path.pop();
        state.insert(node, true);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        let mut path = Vec::new();
        if let Some(cycle) = visit(node, &graph, &mut state, &mut path) {
            panic!("import cycle: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn the_graph_reader_sees_groups_paths_and_skips_test_modules() {
    let text = strip(
        "use crate::{a, b::{c, d}, e::f};\nfn x() { crate::g::h(); }\n#[cfg(test)]\nmod tests { use crate::z; }\n",
    );
    assert_eq!(crate_heads(&text), ["a", "b", "e", "g"]);
}
