//! The code's structure: no module of any crate in the workspace imports, through other
//! modules, one that imports it back. `scripts/check-module-cycles.py` finds such circles, at
//! the level of top-level modules and of files; this test runs it and fails with its report.
//! By hand, from the repository root (Python 3.11 or later, nothing to install):
//!
//! ```sh
//! python3 scripts/check-module-cycles.py                       # every crate
//! python3 scripts/check-module-cycles.py --crate lab10-train   # one crate
//! ```

use std::path::Path;
use std::process::Command;

#[test]
fn no_module_imports_itself_back_through_others() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new("python3")
        .arg("scripts/check-module-cycles.py")
        .current_dir(root)
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
