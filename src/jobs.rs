//! `--jobs N`: study members trained by child `lab10 train`s, N at a time. Each child has its
//! own process group: Ctrl-C reaches this process only, which passes one stop request on.

use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{ChildStderr, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result};
use lab10_experiment::Stop;
use lab10_runs::{Error, StopReason};
use lab10_track::mlflow::Mlflow;
use lab10_train::{Event, Jobs, MemberProcess, StudyMember};

use crate::member::{MemberCommand, write_member_file};
use crate::printer::Printer;

/// The children running now, for an immediate exit (a second Ctrl-C) to take them along.
static CHILDREN: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

/// Kills every child still running (SIGKILL): this process is exiting at once.
pub fn kill_children() {
    let children = CHILDREN.lock().map(|c| c.clone()).unwrap_or_default();
    for pid in children {
        signal(pid, libc::SIGKILL);
    }
}

fn signal(pid: u32, signal: libc::c_int) {
    // SAFETY: kill(2) with the PID of a child not yet waited for (so not reused) and a plain
    // signal number has no memory effects.
    unsafe {
        libc::kill(pid as libc::pid_t, signal);
    }
}

/// `--jobs N` as lab10-train's [`Jobs`]: N child processes running `command`.
pub fn local_jobs(command: MemberCommand, jobs: usize, json: bool, stop: &Stop) -> Result<Jobs> {
    if jobs == 0 {
        anyhow::bail!("--jobs must be at least 1");
    }
    let process = ChildProcess {
        command,
        printer: Printer::new(json),
        stop: stop.clone(),
        files: tempfile::Builder::new()
            .prefix("lab10-members-")
            .tempdir()
            .context("cannot create a temporary folder for the members' experiment files")?,
        written: AtomicUsize::new(0),
    };
    Ok(Jobs {
        count: jobs,
        process: Box::new(process),
    })
}

/// A member trained by a child `lab10 train`.
struct ChildProcess {
    command: MemberCommand,
    /// Shows the children's progress, each line with its member's label.
    printer: Printer,
    stop: Stop,
    /// The members' experiment files.
    files: tempfile::TempDir,
    written: AtomicUsize,
}

impl MemberProcess for ChildProcess {
    fn train(&self, member: &StudyMember, mlflow: Option<&Mlflow>) -> lab10_runs::Result<PathBuf> {
        self.run_child(member, mlflow)
            .unwrap_or_else(|e| Err(Error::Training(format!("{e:#}"))))
    }
}

impl ChildProcess {
    /// Runs the child, showing its progress. The outer error: it could not be started.
    fn run_child(
        &self,
        member: &StudyMember,
        mlflow: Option<&Mlflow>,
    ) -> Result<lab10_runs::Result<PathBuf>> {
        let index = self.written.fetch_add(1, Ordering::SeqCst);
        let file = write_member_file(self.files.path(), index, &member.experiment)?;
        let mut command = Command::new(&self.command.exe);
        // The member's MLflow run, nested under the study's: MLflow's own variables.
        for (var, value) in Mlflow::env(mlflow) {
            match value {
                Some(value) => command.env(var, value),
                None => command.env_remove(var),
            };
        }
        let mut child = command
            .args(self.command.train_args(file.into()))
            .arg("--json")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {}", self.command.exe.display()))?;
        let pid = child.id();
        CHILDREN.lock().expect("children lock").push(pid);
        let ended = Arc::new(AtomicBool::new(false));
        let forward = forward_stop(pid, self.stop.clone(), Arc::clone(&ended));
        let label = &member.label;
        let errors = pass_on_stderr(child.stderr.take().expect("piped"), label.clone());
        let mut run = None;
        for_each_line(
            child.stdout.take().expect("piped"),
            |line| match serde_json::from_str::<Event>(line) {
                Ok(event) => {
                    self.printer.member(label, &event);
                    if let Event::Opened { run: opened, .. } = event {
                        run = Some(opened);
                    }
                }
                Err(_) => self.printer.member_line(label, line),
            },
        );
        // The child has closed its stdout: it is exiting. Stop forwarding before it is
        // reaped, so that no signal can reach a reused PID.
        ended.store(true, Ordering::SeqCst);
        let _ = forward.join();
        let status = child.wait();
        CHILDREN
            .lock()
            .expect("children lock")
            .retain(|&p| p != pid);
        let message = errors.join().unwrap_or_default();
        let status = status.with_context(|| format!("{label}: cannot wait for its process"))?;
        let stopping = self.stop.requested().is_some();
        Ok(match failure_of(status, stopping, label, message) {
            Some(error) => Err(error),
            None => run.ok_or_else(|| {
                Error::Training(format!("{label}: the child said nothing of its run folder"))
            }),
        })
    }
}

/// What a child's exit status says (`message`: why it failed); `None`: it finished.
fn failure_of(status: ExitStatus, stopping: bool, label: &str, message: String) -> Option<Error> {
    for (reason, signal) in [
        (StopReason::Interrupt, libc::SIGINT),
        (StopReason::Terminate, libc::SIGTERM),
    ] {
        // A child killed by the stop request passed on before it could catch it.
        if stopping && status.signal() == Some(signal) {
            let message = format!("{label} stopped by {}", reason.signal_name());
            return Some(Error::Stopped { reason, message });
        }
        if status.code() == Some(i32::from(reason.exit_code())) {
            return Some(Error::Stopped { reason, message });
        }
    }
    match status.code() {
        Some(0) => None,
        _ if message.is_empty() => Some(Error::Training(format!("it {status}"))),
        _ => Some(Error::Training(format!("{message} (it {status})"))),
    }
}

/// Passes a child's stderr on, labelled; returns what it said from its last "error: " on.
fn pass_on_stderr(stderr: ChildStderr, label: String) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut said: Vec<String> = Vec::new();
        for_each_line(stderr, |line| {
            eprintln!("{label}: {line}");
            if line.starts_with("error: ") {
                said.clear();
            }
            said.push(line.to_string());
        });
        let message = said.join("\n");
        message
            .strip_prefix("error: ")
            .map_or(message.clone(), str::to_string)
    })
}

/// Calls `f` with every line of `pipe` (a child whose pipe is not drained would block).
fn for_each_line(pipe: impl std::io::Read, mut f: impl FnMut(&str)) {
    for line in BufReader::new(pipe).split(b'\n').map_while(Result::ok) {
        f(String::from_utf8_lossy(&line).trim_end_matches('\r'));
    }
}

/// Passes a stop request of this process on to the child, once.
fn forward_stop(pid: u32, stop: Stop, ended: Arc<AtomicBool>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        while !ended.load(Ordering::SeqCst) {
            if let Some(reason) = stop.requested() {
                let signal_number = match reason {
                    StopReason::Terminate => libc::SIGTERM,
                    _ => libc::SIGINT,
                };
                signal(pid, signal_number);
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    })
}
