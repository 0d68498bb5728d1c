//! What the xtask integration tests share: where the reference specs are, copying them into a
//! temporary tree, and a command's whole output as text.

use std::path::{Path, PathBuf};
use std::process::Output;

use xtask::layout;

/// The reference specs' data-plane folder, or `None` (with a message) when they are absent.
pub fn data_plane() -> Option<PathBuf> {
    testkit::shared::path(layout::SHARED_RELATIVE)
}

/// Copy the Swagger files of the specs tree (not the examples) into `dest`.
pub fn copy_specs(from: &Path, dest: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let target = dest.join(entry.file_name());
        if path.is_dir() {
            if entry.file_name() == "examples" {
                continue;
            }
            std::fs::create_dir_all(&target).unwrap();
            copy_specs(&path, &target);
        } else if path.extension().is_some_and(|e| e == "json") {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// Standard output then standard error.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
