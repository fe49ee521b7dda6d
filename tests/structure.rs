//! The workspace's shape, checked without compiling anything.
//!
//! One way down: no module of any crate imports, through other modules, one that imports it
//! back. `scripts/check-module-cycles.py` finds such circles, at the level of top-level modules
//! and of files; a test runs it and fails with its report. By hand, from the repository root
//! (Python 3.11 or later, nothing to install):
//!
//! ```sh
//! python3 scripts/check-module-cycles.py                       # every crate
//! python3 scripts/check-module-cycles.py --crate lab10-train   # one crate
//! ```
//!
//! The build stays light: the README's test command (`cargo test --release --workspace`) reuses
//! every crate the first command (`cargo run --release -- train xavier`) compiled, and Burn is
//! built with the features in `tests/burn-features.txt`. A feature that reaches Burn's crates
//! (`gpu` and `remote` reach burn-backend, `ndarray` adds a backend to burn-dispatch) makes
//! another build of all of them, minutes on 2 cores: those belong in the complete suite
//! (`--features ndarray,gpu,remote`), not in the default features or a dev-dependency.
//!
//! Read from `cargo tree` (the resolved features, no compilation), without the network.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::repo;

/// `package version` -> its enabled features, as `cargo tree` resolves them.
fn resolve(args: &[&str]) -> BTreeMap<String, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(repo())
        .args(["tree", "--locked", "--offline", "--prefix", "none"])
        .args(["--format", "{p}|{f}"])
        .args(args)
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let (package, features) = line.trim_end_matches(" (*)").split_once('|')?;
            // Workspace members carry their path: keep the name and version only.
            let package = package.split(" (").next().unwrap_or(package);
            Some((package.to_string(), features.to_string()))
        })
        .collect()
}

/// The first command's build: the `lab10` binary with the default features.
fn first_command() -> BTreeMap<String, String> {
    resolve(&["-p", "lab10", "-e", "normal,build"])
}

/// The README's test command: every member, with dev-dependencies.
fn test_command() -> BTreeMap<String, String> {
    resolve(&["--workspace", "-e", "normal,build,dev"])
}

#[test]
fn the_default_build_compiles_burn_with_the_committed_features() {
    let expected = std::fs::read_to_string(repo().join("tests/burn-features.txt")).unwrap();
    let expected: Vec<&str> = expected
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .collect();
    let actual: Vec<String> = first_command()
        .into_iter()
        .filter(|(p, _)| p.starts_with("burn"))
        .map(|(p, f)| format!("{p}|{f}"))
        .collect();
    assert_eq!(
        actual, expected,
        "Burn's crates are built with other features than tests/burn-features.txt says: every \
         change here is a rebuild of Burn for every user. If it is meant, update that file \
         and docs/building.md's times."
    );
}

#[test]
fn the_test_command_reuses_every_crate_of_the_first_command() {
    let first = first_command();
    let test = test_command();
    let changed: Vec<String> = first
        .iter()
        .filter_map(|(package, features)| {
            let other = test.get(package)?;
            (other != features).then(|| format!("{package}: [{features}] -> [{other}]"))
        })
        .collect();
    assert!(
        changed.is_empty(),
        "`cargo test --release --workspace` would compile these crates again with other \
         features (a dev-dependency or a workspace member's default features adds them), and \
         everything that depends on them:\n{}",
        changed.join("\n")
    );
}

#[test]
fn no_module_imports_itself_back_through_others() {
    let output = Command::new("python3")
        .arg("scripts/check-module-cycles.py")
        .current_dir(repo())
        .output()
        .expect("python3 runs scripts/check-module-cycles.py; is python3 (3.11+) installed?");
    assert!(
        output.status.success(),
        "scripts/check-module-cycles.py failed ({}): the circles, or its own error, below\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
