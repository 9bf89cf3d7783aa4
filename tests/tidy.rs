//! Tidiness the compiler cannot check: every source file is on ARCHITECTURE.md's code map, and every top-level
//! module is on `lib.rs`'s crate map, so a newcomer's two maps never silently fall behind the code.

use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A file is on the map when its path under `src/` is named, or its directory is (`store/redis/`) and so is the
/// file (`review.rs`); a directory's `mod.rs` is covered by the directory.
fn on_map(map: &str, rel: &str) -> bool {
    if map.contains(&format!("`{rel}`")) {
        return true;
    }
    let (dir, file) = rel.rsplit_once('/').unwrap_or(("", rel));
    if dir.is_empty() {
        return false;
    }
    let dir_named = map.contains(&format!("`{dir}/`"));
    dir_named && (file == "mod.rs" || map.contains(&format!("`{file}`")))
}

#[test]
fn every_source_file_is_on_the_architecture_map() {
    let map = std::fs::read_to_string(Path::new(ROOT).join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let src = Path::new(ROOT).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 50, "found only {} files under src/", files.len());
    let missing: Vec<String> = files
        .iter()
        .filter_map(|f| f.strip_prefix(&src).ok()?.to_str().map(str::to_string))
        .filter(|rel| !on_map(&map, rel))
        .collect();
    assert!(missing.is_empty(), "not on ARCHITECTURE.md's code map: {missing:?}");
}

#[test]
fn every_top_level_module_is_on_the_crate_map() {
    let lib = std::fs::read_to_string(Path::new(ROOT).join("src/lib.rs")).expect("src/lib.rs");
    let modules: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod ").or_else(|| l.strip_prefix("mod ")))
        .filter_map(|l| l.strip_suffix(';'))
        .collect();
    assert!(modules.len() > 10, "found only {modules:?}");
    let missing: Vec<&&str> = modules.iter().filter(|m| !lib.contains(&format!("[`{m}`]"))).collect();
    assert!(missing.is_empty(), "not on lib.rs's crate map: {missing:?}");
}

#[test]
fn the_map_check_tells_covered_from_missing() {
    let map = "| `store/` | … `store/redis/` … `review.rs` | `app.rs` |";
    assert!(on_map(map, "app.rs"));
    assert!(on_map(map, "store/mod.rs"));
    assert!(on_map(map, "store/review.rs"));
    assert!(!on_map(map, "store/keys.rs"));
    assert!(!on_map(map, "server.rs"));
}
