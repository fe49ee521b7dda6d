//! Helpers shared by the end-to-end tests: running the real `lab10` binary.
#![allow(dead_code)] // each test file uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub mod mlflow;

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The CPU backends this build has: flex always, ndarray with `--features ndarray` (the
/// complete suite, `.ci/run`).
pub fn cpu_backends() -> Vec<&'static str> {
    let mut backends = vec!["flex"];
    if cfg!(feature = "ndarray") {
        backends.push("ndarray");
    }
    backends
}

/// The MNIST shipped with the repository.
pub fn data_dir() -> PathBuf {
    repo().join("data/mnist")
}

/// `lab10 args...` in `cwd`, with lab10's own environment variables cleared.
pub fn command(cwd: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lab10"));
    cmd.current_dir(cwd).args(args);
    for var in [
        "LAB10_DATA_DIR",
        "LAB10_CACHE_DIR",
        "LAB10_MNIST_MIRRORS",
        "LAB10_EXPERIMENTS_DIR",
        "MLFLOW_TRACKING_URI",
        "MLFLOW_EXPERIMENT_NAME",
        "LAB10_MLFLOW_PARENT_RUN_ID",
        "MLFLOW_TRACKING_USERNAME",
        "MLFLOW_TRACKING_PASSWORD",
        "MLFLOW_TRACKING_TOKEN",
        "MLFLOW_TRACKING_INSECURE_TLS",
        "MLFLOW_TRACKING_SERVER_CERT_PATH",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// stdout and stderr together.
pub fn output_text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A successful run's stdout (stderr may carry Mesa's harmless warnings under wgpu).
pub fn ok_stdout(o: Output) -> String {
    assert!(o.status.success(), "lab10 failed:\n{}", output_text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A user mistake: exit code 1 (not a panic's 101), one clear message, no backtrace.
/// Returns stderr.
pub fn refused(o: Output) -> String {
    let all = output_text(&o);
    assert_eq!(o.status.code(), Some(1), "expected a refusal:\n{all}");
    assert!(
        !all.contains("panicked") && !all.contains("RUST_BACKTRACE"),
        "{all}"
    );
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The run folder a `lab10 train` printed (its `run: <dir>` line), if any.
pub fn run_line(stdout: &str) -> Option<PathBuf> {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("run: "))
        .map(PathBuf::from)
}

/// The events `lab10 train --json` printed, one JSON object per line.
pub fn events(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// The run folder of `lab10 train --json`'s "opened" event.
pub fn opened_run(events: &[Value]) -> PathBuf {
    let opened = events
        .iter()
        .find(|e| e["event"] == "opened")
        .unwrap_or_else(|| panic!("no opened event in {events:?}"));
    PathBuf::from(opened["run"].as_str().expect("a run path"))
}

/// The run folder a successful `lab10 train` printed.
pub fn run_folder(stdout: &str) -> PathBuf {
    run_line(stdout).unwrap_or_else(|| panic!("no run line in:\n{stdout}"))
}

pub fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The epochs a run's metrics.json holds, in order.
pub fn epochs_in(run: &Path) -> Vec<u64> {
    json(&run.join("metrics.json"))
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["epoch"].as_u64().unwrap())
        .collect()
}

/// Every regular file under `dir` with its bytes, sorted by path.
pub fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                stack.push(p);
            } else if meta.is_file() {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// The cells of the Markdown table row in `markdown` whose first cell is `first`.
pub fn table_row(markdown: &str, first: &str) -> Option<Vec<String>> {
    markdown
        .lines()
        .filter(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect::<Vec<_>>()
        })
        .find(|cells| cells.first().map(String::as_str) == Some(first))
}

/// What a test needs beyond Rust: a browser, Python packages, Fashion-MNIST, a program, root,
/// Slurm. Such a test is `#[ignore = "needs ..."]`, so the
/// README's test command counts it as ignored, with that reason, instead of passing it
/// unchecked; the complete suite runs it (`-- --include-ignored`, as `.ci/run` does), and there
/// a missing prerequisite fails the test, naming what to install. These are the checks, one
/// per prerequisite.
pub mod needs {
    use std::path::PathBuf;
    use std::process::Command;

    /// Fails the test: `what` is missing; `install` says how to get it.
    pub fn missing(what: &str, install: &str) -> ! {
        panic!("missing prerequisite: {what} ({install})")
    }

    /// Python 3 with these modules importable.
    pub fn python(modules: &[&str]) {
        let ok = Command::new("python3")
            .args(["-c", &format!("import {}", modules.join(", "))])
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            missing(
                &format!("Python modules {}", modules.join(", ")),
                &format!("pip install {}", modules.join(" ")),
            );
        }
    }

    /// Debian's Chromium and Python's Playwright, which drives it.
    pub fn browser() {
        if !program_runs("chromium", "--version") {
            missing("chromium", "apt-get install chromium");
        }
        python(&["playwright"]);
    }

    /// Debian's dataset-fashion-mnist: the folder that holds its four files.
    pub fn fashion_mnist() -> PathBuf {
        let dir = PathBuf::from("/usr/share/datasets/fashion-mnist");
        if !dir.join("t10k-images-idx3-ubyte.gz").is_file() {
            missing("Fashion-MNIST", "apt-get install dataset-fashion-mnist");
        }
        dir
    }

    /// A program on PATH that answers `arg` (e.g. `--version`).
    pub fn program(name: &str, arg: &str, install: &str) {
        if !program_runs(name, arg) {
            missing(name, install);
        }
    }

    fn program_runs(name: &str, arg: &str) -> bool {
        Command::new(name)
            .arg(arg)
            .output()
            .is_ok_and(|o| o.status.success())
    }
}

/// A run long enough to be stopped in the middle of its second epoch (about a second each).
pub fn xavier_args(artifacts: &Path) -> Vec<String> {
    [
        "train",
        "xavier",
        "--epochs",
        "3",
        "--train-size",
        "20000",
        "--test-size",
        "1000",
        "--artifacts",
        artifacts.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec()
}

pub fn spawn(args: &[String], stdout: &Path) -> Child {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    command(repo(), &args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(stdout).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until the run's epoch-1 checkpoint is complete (so the run is in epoch 2).
pub fn wait_for_epoch_2(run: impl Fn() -> Option<PathBuf>) -> PathBuf {
    let start = Instant::now();
    loop {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "epoch 1 never finished"
        );
        if let Some(run) = run()
            && ["model", "optim", "scheduler"]
                .iter()
                .all(|k| run.join(format!("checkpoint/{k}-1.bpk")).is_file())
        {
            return run;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The flags of a small, quick run (2,000 training and 500 test images) into `artifacts`.
pub fn small_run(artifacts: &Path) -> [&str; 6] {
    [
        "--train-size",
        "2000",
        "--test-size",
        "500",
        "--artifacts",
        artifacts.to_str().unwrap(),
    ]
}

/// The files under `dirs` that hold `secret` (at least 10 files searched).
pub fn files_holding(secret: &str, dirs: &[PathBuf]) -> Vec<PathBuf> {
    let (mut files, mut holding) = (0, Vec::new());
    let mut todo: Vec<PathBuf> = dirs.to_vec();
    while let Some(path) = todo.pop() {
        if path.is_dir() {
            todo.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if let Ok(bytes) = std::fs::read(&path) {
            files += 1;
            if bytes.windows(secret.len()).any(|w| w == secret.as_bytes()) {
                holding.push(path);
            }
        }
    }
    assert!(files >= 10, "only {files} files searched under {dirs:?}");
    holding
}

/// No file under `dirs` holds `secret`.
pub fn assert_nowhere(secret: &str, dirs: &[PathBuf]) {
    let holding = files_holding(secret, dirs);
    assert!(
        holding.is_empty(),
        "these files hold the secret: {holding:?}"
    );
}
