//! A group's or an ensemble's members in child `lab10 train` processes: one slot per worker
//! (`--workers`, each child trains with `--remote`) or N local slots (`--jobs`). The library
//! decides which member runs where and retries members of failed workers
//! ([`lab10_train::MemberSlots`]); this file starts one child, shows its events through
//! src/printer.rs with the member's label, and tells from its exit status how it ended.
//!
//! A child is a process of its own, so a worker that dies takes down one child, never the
//! group. Children run in their own process group: Ctrl-C reaches this process only, which
//! passes one stop request on to each child (they save what is complete and exit).

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result};
use lab10_runs::{BackendKind, Error, Experiment, Stop, StopReason, WorkerUrl};
use lab10_train::{Event, MemberSlots, SlotFailure};

use crate::cli::Global;
use crate::printer::Printer;

/// The exit status of a `lab10` whose worker failed (unreachable, refused, gone): EX_TEMPFAIL,
/// "try again later" (or elsewhere).
pub const WORKER_FAILED: i32 = 75;

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

enum Slot {
    Worker(WorkerUrl),
    Local { n: usize, backend: BackendKind },
}

pub struct ProcessSlots {
    exe: PathBuf,
    /// The flags every child gets: where data, experiments and artifacts are.
    global: Vec<OsString>,
    slots: Vec<Slot>,
    token_file: Option<PathBuf>,
    backend: String,
    /// Shows the children's progress, each line with its member's label.
    printer: Printer,
    stop: Stop,
    /// The members' experiment files, resolved (overrides applied, seed and dataset set).
    members: tempfile::TempDir,
}

impl ProcessSlots {
    /// One slot per worker (`--workers`), or `jobs` local processes on --backend.
    /// `scores_here`: the study computes something on this machine afterwards (an
    /// ensemble's score), so --backend keeps a meaning beside --workers.
    pub fn from_flags(
        g: &Global,
        workers: Option<Vec<WorkerUrl>>,
        jobs: Option<usize>,
        token_file: Option<PathBuf>,
        json: bool,
        stop: &Stop,
        scores_here: bool,
    ) -> Result<Option<Box<dyn MemberSlots>>> {
        let (slots, backend) = match (workers, jobs) {
            (Some(workers), _) => {
                if let Some(kind) = g.backend.filter(|_| !scores_here) {
                    anyhow::bail!(
                        "--backend {kind} names this machine's backend; with --workers the \
                         members compute on the workers' devices: drop --backend"
                    );
                }
                let mut seen = std::collections::HashSet::new();
                if let Some(twice) = workers.iter().find(|w| !seen.insert(w.as_str())) {
                    anyhow::bail!("--workers names {twice} twice; name each worker once");
                }
                (
                    workers.into_iter().map(Slot::Worker).collect::<Vec<_>>(),
                    "remote".to_string(),
                )
            }
            (None, Some(0)) => anyhow::bail!("--jobs must be at least 1"),
            (None, Some(n)) => {
                if token_file.is_some() {
                    anyhow::bail!("--token-file is for --workers or --remote, not --jobs");
                }
                let backend = g.backend()?;
                (
                    (1..=n).map(|n| Slot::Local { n, backend }).collect(),
                    backend.name().to_string(),
                )
            }
            (None, None) => return Ok(None),
        };
        if let Some(file) = &token_file {
            // Read now: a missing file is a mistake to report before any member starts.
            lab10_runs::read_token_file(file)?;
        }
        let mut global = vec![OsString::from("--artifacts"), g.artifacts.clone().into()];
        if let Some(dir) = &g.data_dir {
            global.extend([OsString::from("--data-dir"), dir.clone().into()]);
        }
        if let Some(dir) = &g.experiments {
            global.extend([OsString::from("--experiments"), dir.clone().into()]);
        }
        if g.no_verify {
            global.push("--no-verify".into());
        }
        Ok(Some(Box::new(Self {
            exe: std::env::current_exe().context("cannot find this program's own file")?,
            global,
            slots,
            token_file,
            backend,
            printer: Printer::new(json),
            stop: stop.clone(),
            members: tempfile::Builder::new()
                .prefix("lab10-members-")
                .tempdir()
                .context("cannot create a temporary folder for the members' experiment files")?,
        })))
    }

    fn command(&self, slot: usize, member: &Experiment, resume: Option<&Path>) -> Result<Command> {
        let mut command = Command::new(&self.exe);
        command.args(&self.global).arg("train");
        match resume {
            Some(run) => {
                command.arg(&member.name).arg("--resume").arg(run);
            }
            None => {
                let file = self.members.path().join(format!(
                    "{}-seed{}-slot{slot}.toml",
                    member.name, member.training.seed
                ));
                std::fs::write(&file, member.to_toml())
                    .with_context(|| format!("cannot write {}", file.display()))?;
                command.arg(file);
            }
        }
        command.arg("--json");
        match &self.slots[slot] {
            Slot::Worker(url) => {
                command.arg("--remote").arg(url.as_str());
                if let Some(file) = &self.token_file {
                    command.arg("--token-file").arg(file);
                }
            }
            Slot::Local { backend, .. } => {
                command.arg("--backend").arg(backend.name());
            }
        }
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        Ok(command)
    }

    /// One line of the child's standard output, shown through the printer with the member's
    /// label; the run folder, when the line says the child opened it.
    fn show(&self, label: &str, slot: &str, line: &str) -> Option<PathBuf> {
        let Ok(event) = serde_json::from_str::<Event>(line) else {
            self.printer.member_line(label, slot, line);
            return None;
        };
        self.printer.member(label, slot, &event);
        match event {
            Event::Opened { run, .. } => Some(run),
            _ => None,
        }
    }

    /// Starts the child that trains `member` on `slot`, with the stop request passed on to it
    /// and its standard error passed on here.
    fn start(
        &self,
        slot: usize,
        member: &Experiment,
        resume: Option<&Path>,
        label: &str,
    ) -> Result<Running> {
        let mut child = self
            .command(slot, member, resume)?
            .spawn()
            .with_context(|| format!("cannot start {}", self.exe.display()))?;
        let pid = child.id();
        CHILDREN.lock().expect("children lock").push(pid);
        let ended = Arc::new(AtomicBool::new(false));
        let forward = forward_stop(pid, self.stop.clone(), Arc::clone(&ended));
        let errors = pass_on_stderr(child.stderr.take().expect("piped"), label.to_string());
        Ok(Running {
            child,
            pid,
            ended,
            forward,
            errors,
        })
    }

    /// Shows the child's progress until it exits, and reaps it.
    fn follow(
        &self,
        mut running: Running,
        label: &str,
        slot: &str,
        resume: Option<&Path>,
    ) -> Exited {
        let mut run = resume.map(Path::to_path_buf);
        let stdout = running.child.stdout.take().expect("piped");
        for_each_line(stdout, |line| {
            if let Some(opened) = self.show(label, slot, line) {
                run = Some(opened);
            }
        });
        // The child has closed its stdout: it is exiting. Stop forwarding before it is
        // reaped, so that no signal can reach a reused PID.
        running.ended.store(true, Ordering::SeqCst);
        let _ = running.forward.join();
        let status = running.child.wait();
        CHILDREN
            .lock()
            .expect("children lock")
            .retain(|&p| p != running.pid);
        Exited {
            status,
            message: running.errors.join().unwrap_or_default(),
            run,
        }
    }
}

impl MemberSlots for ProcessSlots {
    fn count(&self) -> usize {
        self.slots.len()
    }

    fn name(&self, slot: usize) -> String {
        match &self.slots[slot] {
            Slot::Worker(url) => url.to_string(),
            Slot::Local { n, backend } => format!("process {n} ({backend})"),
        }
    }

    fn backend(&self) -> &str {
        &self.backend
    }

    fn train(
        &self,
        slot: usize,
        member: &Experiment,
        resume: Option<&Path>,
        label: &str,
    ) -> Result<PathBuf, Box<SlotFailure>> {
        let name = self.name(slot);
        let running = self
            .start(slot, member, resume, label)
            .map_err(|e| failure(Error::Training(format!("{e:#}")), None))?;
        let Exited {
            status,
            message,
            run,
        } = self.follow(running, label, &name, resume);
        let status =
            status.map_err(|e| failure(Error::Training(format!("{label}: {e}")), run.clone()))?;
        let stopping = self.stop.requested().is_some();
        match failure_of(status, stopping, label, &name, message) {
            None => run.ok_or_else(|| {
                failure(
                    Error::Training(format!("{label}: the child said nothing of its run folder")),
                    None,
                )
            }),
            Some(error) => Err(failure(error, run)),
        }
    }
}

/// A child `lab10 train` running, and the threads that serve it.
struct Running {
    child: Child,
    pid: u32,
    /// Set once the child has closed its stdout: its stop forwarding ends.
    ended: Arc<AtomicBool>,
    forward: JoinHandle<()>,
    /// Why the child failed, from its standard error (see [`pass_on_stderr`]).
    errors: JoinHandle<String>,
}

/// A child that has exited: its exit status, why it failed (what it said after its last
/// "error: "), and its run folder (the one it opened, or the one it resumed).
struct Exited {
    status: std::io::Result<ExitStatus>,
    message: String,
    run: Option<PathBuf>,
}

fn failure(error: Error, run: Option<PathBuf>) -> Box<SlotFailure> {
    Box::new(SlotFailure { error, run })
}

/// What a child's exit status says of its member (`slot`: where it trained, `message`: why it
/// failed, in its own words); `None`: it finished. `stopping`: this process has passed a stop
/// request on to it.
fn failure_of(
    status: ExitStatus,
    stopping: bool,
    label: &str,
    slot: &str,
    message: String,
) -> Option<Error> {
    // A child killed by the stop request passed on before it could catch it.
    let killed_by = std::os::unix::process::ExitStatusExt::signal(&status)
        .filter(|_| stopping)
        .and_then(|signal| match signal {
            libc::SIGINT => Some(StopReason::Interrupt),
            libc::SIGTERM => Some(StopReason::Terminate),
            _ => None,
        });
    if let Some(reason) = killed_by {
        return Some(Error::Stopped {
            reason,
            message: format!("{label} stopped by {}", reason.signal_name()),
        });
    }
    match status.code() {
        Some(0) => None,
        Some(WORKER_FAILED) => Some(Error::WorkerFailed {
            url: slot.to_string(),
            message,
        }),
        Some(code) if code == i32::from(StopReason::Interrupt.exit_code()) => {
            Some(Error::Stopped {
                reason: StopReason::Interrupt,
                message,
            })
        }
        Some(code) if code == i32::from(StopReason::Terminate.exit_code()) => {
            Some(Error::Stopped {
                reason: StopReason::Terminate,
                message,
            })
        }
        _ => Some(Error::Training(if message.is_empty() {
            format!("it {status}")
        } else {
            format!("{message} (it {status})")
        })),
    }
}

/// Passes a child's standard error on as it comes, each line after the member's label; the
/// thread returns why the child failed: what it said from its last line starting "error: "
/// on, without that prefix (everything it said if no line does).
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
        let start = said.iter().position(|l| l.starts_with("error: "));
        let mut message = start
            .map_or(said.clone(), |i| said[i..].to_vec())
            .join("\n");
        if let Some(rest) = message.strip_prefix("error: ") {
            message = rest.to_string();
        }
        message
    })
}

/// Calls `f` with every line `pipe` gives until its end, invalid UTF-8 replaced: a child
/// whose pipe is not drained would block.
fn for_each_line(pipe: impl std::io::Read, mut f: impl FnMut(&str)) {
    let mut reader = BufReader::new(pipe);
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        match reader.read_until(b'\n', &mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buffer);
                f(line.trim_end_matches(['\n', '\r']));
            }
        }
    }
}

/// Passes a stop request of this process on to the child, once: it stops after its current
/// step and saves what is complete.
fn forward_stop(pid: u32, stop: Stop, ended: Arc<AtomicBool>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        while !ended.load(Ordering::SeqCst) {
            if let Some(reason) = stop.requested() {
                signal(
                    pid,
                    match reason {
                        StopReason::Terminate => libc::SIGTERM,
                        _ => libc::SIGINT,
                    },
                );
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    })
}
