//! The reference data folder `../shared` beside the checkout.

use std::path::PathBuf;

/// The `../shared` folder, or `None` (with a skip message) when it is absent.
pub fn dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("CONFIDENTIAL_LEDGER_SHARED") {
        Some(d) => PathBuf::from(d),
        None => crate::workspace_root().join("..").join("shared"),
    };
    if dir.is_dir() {
        Some(dir)
    } else {
        crate::skip(format!("reference data folder {} is absent", dir.display()))
    }
}

/// A path inside the shared folder, or `None` (with a skip message) when it is absent.
pub fn path(relative: &str) -> Option<PathBuf> {
    let p = dir()?.join(relative);
    if p.exists() {
        Some(p)
    } else {
        crate::skip(format!("{} is absent", p.display()))
    }
}
