//! Stop means stop: Ctrl-C and SIGTERM end a run cleanly and resumably (off a terminal and
//! under Burn's TUI in a pseudo-terminal), one process per run folder, `--resume` with no value,
//! and a full disk that leaves no half checkpoint offered as resumable.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{
    command, epochs_in, files_under, json, needs, ok_stdout, refused, repo, run_line, spawn,
    wait_for_epoch_2, xavier_args,
};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits for `child` at most `limit`; returns its output and how long it took.
fn wait_within(mut child: Child, limit: Duration) -> (Output, Duration) {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("still running {limit:?} after the signal");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    (child.wait_with_output().unwrap(), start.elapsed())
}

/// Half of epoch 1's time in ms (from the run's metrics.json, written as it ended; at most
/// `cap`): a delay that stays inside epoch 2 however fast this machine trains.
fn within_epoch_2_ms(run: &Path, cap: u64) -> u64 {
    let start = Instant::now();
    loop {
        let first = std::fs::read(run.join("metrics.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v[0]["epoch_seconds"].as_f64());
        if let Some(seconds) = first {
            return ((seconds * 500.0) as u64).clamp(1, cap);
        }
        assert!(start.elapsed() < Duration::from_secs(60), "no metrics.json");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Pseudo-random delays from the clock: a different point of epoch 2 each time.
fn jitter_ms(max: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    nanos % max
}

#[test]
fn sigint_off_a_terminal_stops_within_seconds_and_the_readme_resume_finishes_the_run() {
    let artifacts = tempfile::tempdir().unwrap();
    let log = artifacts.path().join("stdout.txt");
    let child = spawn(&xavier_args(artifacts.path()), &log);
    let run = wait_for_epoch_2(|| run_line(&std::fs::read_to_string(&log).ok()?));
    std::thread::sleep(Duration::from_millis(jitter_ms(within_epoch_2_ms(
        &run, 400,
    ))));
    signal(&child, "INT");
    let (out, took) = wait_within(child, Duration::from_secs(5));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(
        stderr.contains("stopped by SIGINT in epoch 2")
            && stderr.contains("epoch 1 is checkpointed")
            && stderr.contains("lab10 train xavier --resume"),
        "{stderr}"
    );
    let report = json(&run.join("report.json"));
    assert_eq!(report["status"], "interrupted", "{report}");
    assert_eq!(report["interruption"]["epoch"], 2);
    assert_eq!(report["interruption"]["last_checkpoint"], 1);
    assert!(report["interruption"]["step"].as_u64().unwrap() >= 1);
    assert_eq!(report["dataset"], "mnist");
    assert!(!run.join("model.bpk").exists(), "a half-trained model");
    assert_eq!(epochs_in(&run), vec![1]);

    // The README's command: `--resume` with no value continues <experiment>/latest.
    let out = ok_stdout(
        command(
            repo(),
            &[
                "train",
                "xavier",
                "--resume",
                "--artifacts",
                s(artifacts.path()),
            ],
        )
        .output()
        .unwrap(),
    );
    assert!(out.contains("resuming after epoch 1"), "{out}");
    // Its lines name the run's own folder, not the `latest` link that led to it.
    assert!(
        out.contains(&format!("saved: {}", run.display())) && !out.contains("latest"),
        "{out}"
    );
    assert_eq!(epochs_in(&run), vec![1, 2, 3]);
    let report = json(&run.join("report.json"));
    assert_eq!(report["status"], "completed");
    assert!(report["interruption"].is_null());
    assert!(run.join("model.bpk").is_file());
}

#[test]
fn sigterm_stops_the_same_way_with_143_and_a_report_that_report_can_read() {
    let artifacts = tempfile::tempdir().unwrap();
    let log = artifacts.path().join("stdout.txt");
    let child = spawn(&xavier_args(artifacts.path()), &log);
    let run = wait_for_epoch_2(|| run_line(&std::fs::read_to_string(&log).ok()?));
    signal(&child, "TERM");
    let (out, _) = wait_within(child, Duration::from_secs(5));
    assert_eq!(
        out.status.code(),
        Some(143),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&run.join("report.json"));
    assert_eq!(report["status"], "interrupted");
    assert_eq!(report["interruption"]["signal"], "SIGTERM");
    // Its missing test metrics (null) do not break a reader of report.json.
    assert!(report["test_accuracy"].is_null());
    let stdout = ok_stdout(
        command(repo(), &["train", "xavier", "--resume", s(&run)])
            .output()
            .unwrap(),
    );
    assert!(stdout.contains("resuming after epoch 1"), "{stdout}");
}

#[test]
fn a_second_process_on_a_run_folder_is_refused_and_the_first_is_unharmed() {
    let artifacts = tempfile::tempdir().unwrap();
    let log = artifacts.path().join("stdout.txt");
    let first = spawn(&xavier_args(artifacts.path()), &log);
    let pid = first.id();
    let run = wait_for_epoch_2(|| run_line(&std::fs::read_to_string(&log).ok()?));
    let err = refused(
        command(repo(), &["train", "xavier", "--resume", s(&run)])
            .output()
            .unwrap(),
    );
    assert!(
        err.contains(s(&run))
            && err.contains(&format!("PID {pid}"))
            && err.contains("another lab10 process"),
        "{err}"
    );
    let (out, _) = wait_within(first, Duration::from_secs(120));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(epochs_in(&run), vec![1, 2, 3]);
    assert_eq!(json(&run.join("report.json"))["status"], "completed");
}

/// Under Burn's TUI the terminal is in raw mode, where Ctrl-C is a key, not a signal. In a
/// pseudo-terminal (util-linux `script`), a Ctrl-C byte typed into it must stop the run with
/// 130, and the terminal must be back in its cooked mode afterwards (`stty -a`, run after
/// lab10 in the same terminal, shows it).
#[test]
fn ctrl_c_under_the_tui_in_a_pseudo_terminal_stops_and_restores_the_terminal() {
    needs::program("script", "--version", "apt-get install bsdutils");
    let artifacts = tempfile::tempdir().unwrap();
    let args: Vec<String> = xavier_args(artifacts.path())
        .iter()
        .map(|a| format!("'{a}'"))
        .collect();
    let line = format!(
        "'{}' {}; echo EXIT=$?; stty -a",
        env!("CARGO_BIN_EXE_lab10"),
        args.join(" ")
    );
    let mut child = Command::new("script")
        .args(["-qfec", &line, "/dev/null"])
        .current_dir(repo())
        .env("SHELL", "/bin/bash")
        .env("TERM", "xterm-256color")
        .env_remove("LAB10_DATA_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = stdout.read_to_end(&mut all);
        all
    });
    let latest = artifacts.path().join("xavier/latest");
    let run = wait_for_epoch_2(|| latest.canonicalize().ok());
    std::thread::sleep(Duration::from_millis(jitter_ms(within_epoch_2_ms(
        &run, 300,
    ))));
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"\x03").unwrap();
    stdin.flush().unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the run under the TUI did not stop after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(stdin);
    let screen = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    let tail: String = screen
        .chars()
        .rev()
        .take(3000)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    assert!(
        screen.contains("\x1b[?1049h"),
        "the TUI never started:\n{tail}"
    );
    assert!(screen.contains("EXIT=130"), "{tail}");
    let after = &screen[screen.rfind("EXIT=").unwrap()..];
    let modes: Vec<&str> = after.split_whitespace().collect();
    for mode in ["icanon", "echo", "isig", "opost"] {
        assert!(
            modes.contains(&mode),
            "terminal not restored ({mode}):\n{after}"
        );
    }
    assert_eq!(json(&run.join("report.json"))["status"], "interrupted");
}

/// A size-limited tmpfs on a temporary folder, unmounted when dropped; a test that cannot mount
/// it (not root) fails under CI and is ignored otherwise.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size}"),
                "tmpfs",
                s(dir.path()),
            ])
            .output()
            .is_ok_and(|o| o.status.success());
        if !mounted {
            needs::missing("a tmpfs mount", "run the test as root");
        }
        Self { dir }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// A full disk: the run fails with a clear message, leaves no half checkpoint offered as
/// resumable, and an earlier run on the same disk is untouched. Needs root to mount a small
/// tmpfs (CI runs as root).
#[test]
#[ignore = "needs root, to mount a small tmpfs"]
fn a_full_disk_fails_clearly_and_offers_no_half_checkpoint() {
    let mount = Tmpfs::mount("2m");
    let artifacts = mount.dir.path();
    let small = [
        "--epochs",
        "1",
        "--train-size",
        "500",
        "--test-size",
        "200",
        "--artifacts",
        s(artifacts),
    ];
    let mut args = vec!["train", "softmax"];
    args.extend(small);
    ok_stdout(command(repo(), &args).output().unwrap());
    let earlier: Vec<(PathBuf, Vec<u8>)> = files_under(&artifacts.join("softmax"));

    // xavier's model checkpoint (1.1 MB) fits, its optimiser state (2.2 MB) does not.
    let mut args = vec!["train", "xavier"];
    args.extend(small);
    let err = refused(command(repo(), &args).output().unwrap());
    assert!(
        err.contains("No space left on device") && err.contains("No epoch was checkpointed"),
        "{err}"
    );
    assert!(
        !err.contains("--resume"),
        "a failed first epoch offered as resumable: {err}"
    );
    let run = artifacts.join("xavier/latest");
    let err = refused(
        command(repo(), &["train", "xavier", "--resume", s(&run)])
            .output()
            .unwrap(),
    );
    assert!(err.contains("no complete checkpoint"), "{err}");
    // No temporary file is left behind, and the earlier run is as it was.
    let leftovers: Vec<PathBuf> = files_under(artifacts)
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(files_under(&artifacts.join("softmax")), earlier);
}

#[test]
#[ignore = "needs root, to mount a small tmpfs"]
fn a_disk_that_fills_mid_run_keeps_the_last_checkpoint_and_resume_completes_once_freed() {
    let mount = Tmpfs::mount("5m");
    let artifacts = mount.dir.path();
    // One epoch's checkpoint of xavier (3.3 MB) fits in 5 MB, the second does not.
    let args = [
        "train",
        "xavier",
        "--epochs",
        "2",
        "--train-size",
        "500",
        "--test-size",
        "200",
        "--artifacts",
        s(artifacts),
    ];
    let err = refused(command(repo(), &args).output().unwrap());
    assert!(
        err.contains("No space left on device")
            && err.contains("The last complete checkpoint is epoch 1"),
        "{err}"
    );
    let run = artifacts.join("xavier/latest").canonicalize().unwrap();
    let verify = ok_stdout(
        command(repo(), &["--artifacts", s(artifacts), "verify", s(&run)])
            .output()
            .unwrap(),
    );
    assert!(verify.contains("resumable from epoch 1"), "{verify}");
    let remount = Command::new("mount")
        .args(["-o", "remount,size=32m", s(mount.dir.path())])
        .status()
        .unwrap();
    assert!(remount.success());
    let out = ok_stdout(
        command(repo(), &["train", "xavier", "--resume", s(&run)])
            .output()
            .unwrap(),
    );
    assert!(out.contains("resuming after epoch 1"), "{out}");
    let verify = ok_stdout(
        command(repo(), &["--artifacts", s(artifacts), "verify", s(&run)])
            .output()
            .unwrap(),
    );
    assert!(verify.contains(": ok"), "{verify}");
}

/// Commands other than training exit at once on Ctrl-C, with 130, leaving no temporary file.
#[test]
fn other_commands_exit_at_once_on_ctrl_c_without_temporary_files() {
    let artifacts = tempfile::tempdir().unwrap();
    let a = s(artifacts.path());
    for e in ["softmax", "xavier"] {
        ok_stdout(
            command(
                repo(),
                &[
                    "train",
                    e,
                    "--epochs",
                    "1",
                    "--train-size",
                    "2000",
                    "--artifacts",
                    a,
                ],
            )
            .output()
            .unwrap(),
        );
    }
    let out = artifacts.path().join("report");
    let mut interrupted = false;
    for delay_ms in [60, 30, 10, 3] {
        let child = command(repo(), &["report", "--artifacts", a, "--out", s(&out)])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        signal(&child, "INT");
        let (output, took) = wait_within(child, Duration::from_secs(5));
        if output.status.success() {
            continue; // finished before the signal: try again, sooner
        }
        assert_eq!(
            output.status.code(),
            Some(130),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(took < Duration::from_secs(2), "took {took:?}");
        interrupted = true;
        break;
    }
    assert!(
        interrupted,
        "`lab10 report` always finished before the signal"
    );
    let leftovers: Vec<PathBuf> = files_under(artifacts.path())
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// A group stopped in its second member: 130, a summary that lists what is missing, and the
/// same command again finishes the group, reusing the finished member.
#[test]
fn a_stopped_group_lists_its_missing_members_and_finishes_when_run_again() {
    let dir = tempfile::tempdir().unwrap();
    let experiments = dir.path().join("experiments");
    std::fs::create_dir_all(experiments.join("groups")).unwrap();
    std::fs::copy(
        repo().join("experiments/xavier.toml"),
        experiments.join("xavier.toml"),
    )
    .unwrap();
    std::fs::write(
        experiments.join("groups/trio.toml"),
        "description = \"three seeds\"\nexperiments = [\"xavier\"]\nseeds = [1, 2, 3]\n",
    )
    .unwrap();
    let artifacts = dir.path().join("artifacts");
    let args: Vec<String> = [
        "--experiments",
        s(&experiments),
        "train",
        "--group",
        "trio",
        "--epochs",
        "3",
        "--train-size",
        "20000",
        "--test-size",
        "1000",
        "--artifacts",
        s(&artifacts),
    ]
    .map(String::from)
    .to_vec();
    let log = dir.path().join("stdout.txt");
    let child = spawn(&args, &log);
    // In the second member's second epoch.
    let second = || {
        let text = std::fs::read_to_string(&log).ok()?;
        text.lines()
            .filter_map(|l| l.strip_prefix("run: "))
            .nth(1)
            .map(PathBuf::from)
    };
    wait_for_epoch_2(second);
    signal(&child, "INT");
    let (out, _) = wait_within(child, Duration::from_secs(5));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("1 of 3 members done"), "{stderr}");
    let summaries: Vec<PathBuf> = std::fs::read_dir(artifacts.join("groups/trio"))
        .unwrap()
        .flatten()
        .map(|e| e.path().join("summary.json"))
        .collect();
    assert_eq!(summaries.len(), 1);
    let summary = json(&summaries[0]);
    assert_eq!(summary["runs"].as_array().unwrap().len(), 1);
    assert_eq!(
        summary["missing"],
        serde_json::json!(["xavier seed 2", "xavier seed 3"])
    );

    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let again = ok_stdout(command(repo(), &args).output().unwrap());
    assert!(again.contains("[1/3] xavier seed 1: reusing"), "{again}");
    assert!(again.contains("[3/3] xavier seed 3: training"), "{again}");
}
