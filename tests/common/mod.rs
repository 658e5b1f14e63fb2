//! Helpers shared by the integration tests: the program run as a user runs
//! it, the bundled scenarios, the sample exports beside the repository,
//! and a scratch folder per test.

#![allow(dead_code)] // each test file uses part of it

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs the built `revpipe` with `args`.
pub fn revpipe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_revpipe"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// What the program printed on stdout.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// What the program printed on stderr.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The path of a bundled scenario.
pub fn scenario_path(name: &str) -> String {
    format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A sample export in `../shared/data/`, or `None`, with a message saying
/// the test skipped, where that folder is absent (a clone elsewhere).
pub fn data(rel: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(rel);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("skipped: {} not found", path.display());
        None
    }
}

/// An empty folder of this test's own (one per test name and process).
pub fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("revpipe-test-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
