//! A group's or an ensemble's members trained side by side: on several workers
//! (`--workers ws://a:3000,ws://b:3000`) or in several local processes (`--jobs N`).
//!
//! The library decides what runs where and when; how one member is trained on one slot (a
//! child `lab10 train` process, say) is the caller's [`MemberSlots`]. Each slot trains one
//! member at a time. A slot whose worker fails (unreachable, refusing, gone mid-run) is
//! dropped and its member goes back to the queue, to resume from the run's last checkpoint on
//! another slot; every member ends with exactly one run.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};

use super::reuse::{Finished, reuse_finished};
use crate::config::experiment::Experiment;
use crate::error::{Error, Result};
use crate::run::{Event, TrainOptions};
use crate::stop::StopReason;
use crate::store::report::Report;
use crate::store::run_dir::{REPORT_FILE, RunDir};

/// Where members train when not one after another in this process.
pub trait MemberSlots: Sync {
    /// How many members may train at once (one per slot).
    fn count(&self) -> usize;

    /// What slot `slot` is, for messages: `ws://10.0.0.2:3000`, `process 2`.
    fn name(&self, slot: usize) -> String;

    /// The backend the runs of every slot record (`remote`, `flex`): finished runs on it are
    /// reused.
    fn backend(&self) -> &str;

    /// Trains `member` on `slot` (or, with `resume`, continues that run of it) and returns the
    /// finished run's folder. Blocks until the run ends.
    fn train(
        &self,
        slot: usize,
        member: &Experiment,
        resume: Option<&Path>,
        label: &str,
    ) -> Result<PathBuf, Box<SlotFailure>>;
}

/// Why a slot could not finish a member.
#[derive(Debug)]
pub struct SlotFailure {
    /// A worker failure ([`Error::is_worker_failure`]) drops the slot and retries the member
    /// elsewhere; a stop ends the study; anything else is the member's own failure.
    pub error: Error,
    /// The run folder the member had opened, if it got that far.
    pub run: Option<PathBuf>,
}

/// One member to train.
struct Job {
    index: usize,
    /// The member's run so far, after a failed attempt.
    run: Option<PathBuf>,
    /// Workers that failed while training it.
    failures: usize,
}

/// A member whose worker failed this many times is failing itself (a bug, a model that does
/// not fit), not its workers: the study ends instead of trying every worker in turn.
const MAX_WORKER_FAILURES: usize = 2;

#[derive(Default)]
struct Shared {
    queue: VecDeque<Job>,
    running: usize,
    live_slots: usize,
    stop: Option<StopReason>,
    fatal: Option<Error>,
    lost: Vec<String>,
}

/// Trains `members` (reusing finished identical runs when `reuse`), at most one per slot at a
/// time. `done` is called after each member finishes, with every result so far (the caller
/// rewrites its summary). Returns every member's result, in member order (`None`: not
/// trained), and why the rest were not, if any were left.
pub(crate) fn train_in_parallel(
    members: &[(Experiment, String)],
    opts: &TrainOptions,
    artifacts: &Path,
    reuse: bool,
    slots: &dyn MemberSlots,
    done: &mut (dyn FnMut(&[Option<Finished>]) -> Result<()> + Send),
) -> Result<(Vec<Option<Finished>>, Option<Error>)> {
    let mut results: Vec<Option<Finished>> = members.iter().map(|_| None).collect();
    let mut queue = VecDeque::new();
    for (index, (member, label)) in members.iter().enumerate() {
        let found = reuse
            .then(|| reuse_finished(member, opts, artifacts, slots.backend(), label))
            .flatten();
        match found {
            Some(finished) => results[index] = Some(finished),
            None => queue.push_back(Job {
                index,
                run: None,
                failures: 0,
            }),
        }
    }
    if queue.is_empty() {
        return Ok((results, None));
    }
    let shared = Mutex::new(Shared {
        queue,
        live_slots: slots.count(),
        ..Shared::default()
    });
    let changed = Condvar::new();
    let results = Mutex::new(results);
    let done = Mutex::new(done);
    std::thread::scope(|scope| {
        for slot in 0..slots.count() {
            let (shared, changed, results, done) = (&shared, &changed, &results, &done);
            scope.spawn(move || {
                let slot_name = slots.name(slot);
                loop {
                    // The next member, once there is one, or the end.
                    let job = {
                        let mut s = shared.lock().expect("scheduler lock");
                        loop {
                            if s.stop.is_none() {
                                s.stop = opts.stop.requested();
                            }
                            if s.stop.is_some() || s.fatal.is_some() {
                                break None;
                            }
                            if let Some(job) = s.queue.pop_front() {
                                s.running += 1;
                                break Some(job);
                            }
                            if s.running == 0 {
                                break None;
                            }
                            // A running member may yet come back to the queue.
                            s = changed.wait(s).expect("scheduler lock");
                        }
                    };
                    let Some(job) = job else {
                        changed.notify_all();
                        return;
                    };
                    let (member, label) = &members[job.index];
                    // A run with a complete checkpoint short of its last epoch continues; any
                    // other starts over (a run lost after its last checkpoint cannot resume).
                    let resume = job.run.as_deref().filter(|path| {
                        RunDir::open(path).is_ok_and(|run| {
                            run.last_checkpoint()
                                .is_some_and(|epoch| epoch < member.training.epochs)
                        })
                    });
                    // A panic here (a closed stdout, say) must not leave the other slots waiting
                    // for a member that never comes back.
                    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        opts.progress.event(Event::Member {
                            label: label.clone(),
                            reused: None,
                            on: Some(slot_name.clone()),
                        });
                        slots.train(slot, member, resume, label).and_then(|path| {
                            finished(&path).map_err(|error| {
                                Box::new(SlotFailure {
                                    error,
                                    run: Some(path),
                                })
                            })
                        })
                    }))
                    .unwrap_or_else(|_| {
                        Err(Box::new(SlotFailure {
                            error: Error::Training(format!("{label} on {slot_name}: it panicked")),
                            run: None,
                        }))
                    })
                    .map_err(|failure| *failure);
                    let mut s = shared.lock().expect("scheduler lock");
                    s.running -= 1;
                    match outcome {
                        Ok(finished) => {
                            drop(s);
                            let mut all = results.lock().expect("results lock");
                            all[job.index] = Some(finished);
                            let written = (done.lock().expect("summary lock"))(&all);
                            if let Err(e) = written {
                                shared
                                    .lock()
                                    .expect("scheduler lock")
                                    .fatal
                                    .get_or_insert(e);
                            }
                        }
                        Err(SlotFailure { error, run }) if error.is_worker_failure() => {
                            let message = error.to_string();
                            let run = run.or(job.run);
                            s.lost.push(message.clone());
                            s.live_slots -= 1;
                            let lost = s.lost.join("\n  ");
                            if job.failures + 1 >= MAX_WORKER_FAILURES {
                                s.fatal.get_or_insert(Error::Training(format!(
                                    "{label} failed on {} workers in turn, so the fault is \
                                     likely the member's, not theirs:\n  {lost}",
                                    job.failures + 1,
                                )));
                            } else if s.live_slots == 0 {
                                s.fatal.get_or_insert(Error::NoWorkerLeft(lost));
                            } else {
                                s.queue.push_front(Job {
                                    index: job.index,
                                    run: run.clone(),
                                    failures: job.failures + 1,
                                });
                            }
                            drop(s);
                            changed.notify_all();
                            opts.progress.event(Event::SlotLost {
                                label: label.clone(),
                                slot: slot_name.clone(),
                                message,
                                run,
                            });
                            // This slot's worker failed: it takes no more members.
                            return;
                        }
                        Err(SlotFailure {
                            error: Error::Stopped { reason, .. },
                            ..
                        }) => {
                            s.stop.get_or_insert(reason);
                        }
                        Err(SlotFailure { error, .. }) => {
                            s.fatal.get_or_insert(Error::Training(format!(
                                "{label} on {slot_name}: {error}"
                            )));
                        }
                    }
                    changed.notify_all();
                }
            });
        }
    });
    let results = results.into_inner().expect("results lock");
    let s = shared.into_inner().expect("scheduler lock");
    let ended = s.fatal.or_else(|| {
        s.stop.map(|reason| Error::Stopped {
            reason,
            message: format!("stopped by {}", reason.signal_name()),
        })
    });
    Ok((results, ended))
}

/// A run folder a slot says is finished, with its report.
fn finished(path: &Path) -> Result<Finished> {
    let run = RunDir::open(path)?;
    let file = run.file(REPORT_FILE);
    let bytes = std::fs::read(&file).map_err(|e| Error::read(&file, e))?;
    let report: Report = serde_json::from_slice(&bytes)
        .map_err(|e| Error::Training(format!("{}: {e}", file.display())))?;
    Ok(Finished {
        run,
        report,
        reused: false,
    })
}
