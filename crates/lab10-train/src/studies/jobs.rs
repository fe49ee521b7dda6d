//! `--jobs N`: a study's members trained side by side, each in a process the caller's
//! [`MemberProcess`] starts, at most N at a time, in member order. A member that fails, or a
//! stop, ends the study once the running members have ended; what finished is kept.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use lab10_runs::{Error, Result, RunDir};
use lab10_track::mlflow::Mlflow;

use super::member::{Finished, OnFinished, Outcome, StudyMember};
use super::reuse::reuse_finished;
use crate::run::{Event, TrainOptions};

/// Trains one member in a process of its own: the caller's (the CLI starts `lab10 train`).
pub trait MemberProcess: Sync {
    /// Trains `member` (logged to `mlflow`, if any) to its end and returns its finished run's
    /// folder; a stopped process is [`Error::Stopped`].
    fn train(&self, member: &StudyMember, mlflow: Option<&Mlflow>) -> Result<PathBuf>;
}

/// Members side by side: `count` processes at a time, each started by `process`.
pub struct Jobs {
    pub count: usize,
    pub process: Box<dyn MemberProcess>,
}

/// What the processes share: the members to start, the results so far, what ended the study.
struct Pool {
    queue: VecDeque<usize>,
    results: Vec<Option<Finished>>,
    ended: Option<Error>,
}

/// Trains `members` (reusing finished identical runs when `reuse`), at most `jobs.count` at a
/// time. `on_finished` is called after each member finishes, with every result so far.
pub(crate) fn train_side_by_side(
    members: &[StudyMember],
    opts: &TrainOptions,
    artifacts: &Path,
    reuse: bool,
    jobs: &Jobs,
    on_finished: &mut OnFinished<'_>,
) -> Result<Outcome> {
    let mut pool = Pool {
        queue: VecDeque::new(),
        results: members.iter().map(|_| None).collect(),
        ended: None,
    };
    for (index, member) in members.iter().enumerate() {
        if reuse {
            pool.results[index] = reuse_finished(member, opts, artifacts)?;
        }
        if pool.results[index].is_none() {
            pool.queue.push_back(index);
        }
    }
    let processes = jobs.count.min(pool.queue.len());
    let pool = Mutex::new(pool);
    let on_finished = Mutex::new(on_finished);
    std::thread::scope(|scope| {
        for _ in 0..processes {
            scope.spawn(|| {
                while let Some(index) = next(&pool, opts) {
                    let member = &members[index];
                    opts.progress.event(Event::Member {
                        label: member.label.clone(),
                        reused: None,
                    });
                    let outcome = jobs
                        .process
                        .train(member, opts.mlflow.as_ref())
                        .and_then(|run| finished(&run));
                    let mut pool = pool.lock().expect("pool lock");
                    let ended = match outcome {
                        Ok(finished) => {
                            pool.results[index] = Some(finished);
                            (on_finished.lock().expect("summary lock"))(&pool.results).err()
                        }
                        Err(e @ Error::Stopped { .. }) => Some(e),
                        Err(e) => Some(Error::Training(format!("{}: {e}", member.label))),
                    };
                    if let Some(e) = ended {
                        pool.ended.get_or_insert(e);
                    }
                }
            });
        }
    });
    let pool = pool.into_inner().expect("pool lock");
    Ok(Outcome {
        results: pool.results,
        ended: pool.ended,
    })
}

/// The next member to start; `None` once the queue is empty, a member failed or a stop came.
fn next(pool: &Mutex<Pool>, opts: &TrainOptions) -> Option<usize> {
    let mut pool = pool.lock().expect("pool lock");
    if pool.ended.is_none()
        && let Some(reason) = opts.stop.requested()
    {
        pool.ended = Some(Error::Stopped {
            reason,
            message: format!("stopped by {}", reason.signal_name()),
        });
    }
    match pool.ended {
        Some(_) => None,
        None => pool.queue.pop_front(),
    }
}

/// A run folder a member's process says is finished, with its report.
fn finished(path: &Path) -> Result<Finished> {
    let run = RunDir::open(path)?;
    let report = run.report()?;
    Ok(Finished {
        run,
        report,
        reused: false,
    })
}
