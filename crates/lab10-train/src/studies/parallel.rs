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

use lab10_runs::{Error, Experiment, Result, RunDir, StopReason};

use super::reuse::{Finished, reuse_finished};
use crate::run::{Event, TrainOptions};

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

/// What a study does after each of its members finishes, given every result so far: it
/// rewrites its summary.
pub(crate) type Done<'d> = dyn FnMut(&[Option<Finished>]) -> Result<()> + Send + 'd;

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
    done: &mut Done<'_>,
) -> Result<(Vec<Option<Finished>>, Option<Error>)> {
    let (results, queue) = reuse_or_queue(members, opts, artifacts, reuse, slots.backend());
    if queue.is_empty() {
        return Ok((results, None));
    }
    let study = Study {
        members,
        opts,
        slots,
        scheduler: Scheduler::new(queue, slots.count()),
        results: Mutex::new(results),
        done: Mutex::new(done),
    };
    std::thread::scope(|scope| {
        for slot in 0..slots.count() {
            let study = &study;
            scope.spawn(move || study.slot_loop(slot));
        }
    });
    let Study {
        scheduler, results, ..
    } = study;
    Ok((
        results.into_inner().expect("results lock"),
        scheduler.ended(),
    ))
}

/// Each member's finished identical run, where `reuse` allows and one exists on `backend`; the
/// other members, queued in member order.
fn reuse_or_queue(
    members: &[(Experiment, String)],
    opts: &TrainOptions,
    artifacts: &Path,
    reuse: bool,
    backend: &str,
) -> (Vec<Option<Finished>>, VecDeque<Job>) {
    let mut results: Vec<Option<Finished>> = members.iter().map(|_| None).collect();
    let mut queue = VecDeque::new();
    for (index, (member, label)) in members.iter().enumerate() {
        let found = reuse
            .then(|| reuse_finished(member, opts, artifacts, backend, label))
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
    (results, queue)
}

/// A study under way: its members, the slots they train on, and what became of each.
struct Study<'s, 'd> {
    members: &'s [(Experiment, String)],
    opts: &'s TrainOptions,
    slots: &'s dyn MemberSlots,
    scheduler: Scheduler,
    /// In member order; `None` while a member is not finished.
    results: Mutex<Vec<Option<Finished>>>,
    done: Mutex<&'s mut Done<'d>>,
}

impl Study<'_, '_> {
    /// One slot's thread: the members the scheduler gives it, one after another, until the
    /// study ends or the slot's worker fails.
    fn slot_loop(&self, slot: usize) {
        let slot_name = self.slots.name(slot);
        while let Some(job) = self.scheduler.next(self.opts) {
            let outcome = self.attempt(slot, &slot_name, &job);
            if !self.settle(job, &slot_name, outcome) {
                // This slot's worker failed: it takes no more members.
                return;
            }
        }
    }

    /// Trains the member of `job` on `slot`: its finished run, or why not.
    fn attempt(
        &self,
        slot: usize,
        slot_name: &str,
        job: &Job,
    ) -> Result<Finished, Box<SlotFailure>> {
        let (member, label) = &self.members[job.index];
        // A run with a complete checkpoint short of its last epoch continues; any other starts
        // over (a run lost after its last checkpoint cannot resume).
        let resume = job.run.as_deref().filter(|path| {
            RunDir::open(path).is_ok_and(|run| {
                run.last_checkpoint()
                    .is_some_and(|epoch| epoch < member.training.epochs)
            })
        });
        // A panic here (a closed stdout, say) must not leave the other slots waiting for a
        // member that never comes back.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.opts.progress.event(Event::Member {
                label: label.clone(),
                reused: None,
                on: Some(slot_name.to_string()),
            });
            self.slots
                .train(slot, member, resume, label)
                .and_then(|path| {
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
    }

    /// Settles the outcome of `job` on the slot `slot_name`: the member's result kept, the
    /// member back in the queue (the slot's worker failed), or the study ending (a stop, the
    /// member's own failure). False when the slot takes no more members.
    fn settle(
        &self,
        job: Job,
        slot_name: &str,
        outcome: Result<Finished, Box<SlotFailure>>,
    ) -> bool {
        let outcome = outcome.map_err(|failure| *failure);
        let label = &self.members[job.index].1;
        let mut s = self.scheduler.state.lock().expect("scheduler lock");
        s.running -= 1;
        match outcome {
            Ok(finished) => {
                drop(s);
                self.keep(job.index, finished);
            }
            Err(SlotFailure { error, run }) if error.is_worker_failure() => {
                let message = error.to_string();
                let job = Job {
                    index: job.index,
                    run: run.or(job.run),
                    failures: job.failures,
                };
                let run = job.run.clone();
                s.lose_slot(job, &message, label);
                drop(s);
                self.scheduler.changed.notify_all();
                self.opts.progress.event(Event::SlotLost {
                    label: label.clone(),
                    slot: slot_name.to_string(),
                    message,
                    run,
                });
                return false;
            }
            Err(SlotFailure {
                error: Error::Stopped { reason, .. },
                ..
            }) => {
                s.stop.get_or_insert(reason);
            }
            Err(SlotFailure { error, .. }) => {
                s.fatal
                    .get_or_insert(Error::Training(format!("{label} on {slot_name}: {error}")));
            }
        }
        self.scheduler.changed.notify_all();
        true
    }

    /// Keeps a finished member's result and has the study rewrite its summary; a summary that
    /// cannot be written ends the study.
    fn keep(&self, index: usize, finished: Finished) {
        let mut all = self.results.lock().expect("results lock");
        all[index] = Some(finished);
        let written = (self.done.lock().expect("summary lock"))(&all);
        if let Err(e) = written {
            self.scheduler
                .state
                .lock()
                .expect("scheduler lock")
                .fatal
                .get_or_insert(e);
        }
    }
}

/// Which member a slot trains next: the queue, and whether the study goes on, shared by the
/// slots' threads.
struct Scheduler {
    state: Mutex<Shared>,
    /// Notified whenever a member ends (the queue or the study's state may have changed).
    changed: Condvar,
}

#[derive(Default)]
struct Shared {
    queue: VecDeque<Job>,
    /// Members being trained now.
    running: usize,
    /// Slots whose worker has not failed.
    live_slots: usize,
    stop: Option<StopReason>,
    /// The first failure that ends the study.
    fatal: Option<Error>,
    /// Why each lost slot was lost.
    lost: Vec<String>,
}

impl Scheduler {
    fn new(queue: VecDeque<Job>, slots: usize) -> Self {
        Self {
            state: Mutex::new(Shared {
                queue,
                live_slots: slots,
                ..Shared::default()
            }),
            changed: Condvar::new(),
        }
    }

    /// The next member for a slot, once there is one; `None` when the slot is done: a stop was
    /// asked for, the study failed, or no member is left to train or to come back to the queue.
    fn next(&self, opts: &TrainOptions) -> Option<Job> {
        let job = {
            let mut s = self.state.lock().expect("scheduler lock");
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
                s = self.changed.wait(s).expect("scheduler lock");
            }
        };
        if job.is_none() {
            self.changed.notify_all();
        }
        job
    }

    /// Why the study ended before every member finished, if it did.
    fn ended(self) -> Option<Error> {
        let s = self.state.into_inner().expect("scheduler lock");
        s.fatal.or_else(|| {
            s.stop.map(|reason| Error::Stopped {
                reason,
                message: format!("stopped by {}", reason.signal_name()),
            })
        })
    }
}

impl Shared {
    /// A slot's worker failed while training `job` (`job.run`: the member's run so far): the
    /// slot is gone, and the member goes back to the front of the queue, unless it failed on
    /// too many workers or no slot is left (then the study ends).
    fn lose_slot(&mut self, job: Job, message: &str, label: &str) {
        self.lost.push(message.to_string());
        self.live_slots -= 1;
        let lost = self.lost.join("\n  ");
        let failures = job.failures + 1;
        if failures >= MAX_WORKER_FAILURES {
            self.fatal.get_or_insert(Error::Training(format!(
                "{label} failed on {failures} workers in turn, so the fault is likely the \
                 member's, not theirs:\n  {lost}"
            )));
        } else if self.live_slots == 0 {
            self.fatal.get_or_insert(Error::NoWorkerLeft(lost));
        } else {
            self.queue.push_front(Job { failures, ..job });
        }
    }
}

/// A run folder a slot says is finished, with its report.
fn finished(path: &Path) -> Result<Finished> {
    let run = RunDir::open(path)?;
    let report = run.report()?;
    Ok(Finished {
        run,
        report,
        reused: false,
    })
}
