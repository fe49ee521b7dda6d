//! Many runs compared: groups (experiments x seeds, one summary table) and ensembles (members
//! with consecutive seeds, their averaged softmax). What both need is here: their members
//! trained one after another, or side by side in processes of their own (`jobs.rs`), a
//! finished identical run reused instead of trained again (`reuse.rs`), and the spread of a
//! few numbers, and a study's MLflow parent run (`tracking.rs`).

pub mod ensemble;
pub mod group;
pub mod jobs;
pub mod member;
pub mod reuse;
mod tracking;

use std::path::Path;

use lab10_runs::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::run::{Event, TrainOptions, train};
use jobs::{Jobs, train_side_by_side};
use member::{Finished, OnFinished, Outcome, StudyMember};
use reuse::reuse_finished;

/// A finished run of `member` for a group or an ensemble: an identical finished run under
/// `artifacts` when `reuse` allows, else a new one (none once a stop was asked for).
fn train_or_reuse(
    member: &StudyMember,
    opts: &TrainOptions,
    artifacts: &Path,
    reuse: bool,
) -> Result<Finished> {
    if let Some(finished) = reuse
        .then(|| reuse_finished(member, opts, artifacts, opts.compute.name()))
        .transpose()?
        .flatten()
    {
        return Ok(finished);
    }
    let label = &member.label;
    if let Some(reason) = opts.stop.requested() {
        return Err(Error::Stopped {
            reason,
            message: format!("stopped by {} before {label}", reason.signal_name()),
        });
    }
    opts.progress.event(Event::Member {
        label: label.clone(),
        reused: None,
    });
    let outcome = train(&member.experiment, opts)?;
    Ok(Finished {
        run: outcome.run,
        report: outcome.report,
        reused: false,
    })
}

/// What a study does with its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StudyMode {
    /// Trains each member, or, with `reuse`, takes a finished identical run where one exists.
    Train { reuse: bool },
    /// Trains none: takes each member's finished identical run, and names the members that
    /// have none (the summary of members trained elsewhere, e.g. by a Slurm job array).
    Collect,
}

impl StudyMode {
    /// What to do about members still missing when the study ended.
    pub(crate) fn to_finish(self) -> &'static str {
        match self {
            StudyMode::Train { .. } => {
                "Run the same command again to finish it: finished members are reused."
            }
            StudyMode::Collect => {
                "Their runs are not finished: see their logs, then collect again (the same \
                 command) once they are."
            }
        }
    }
}

/// Trains (or reuses) every member: one after another in this process, or side by side in
/// processes of their own (`jobs`). `on_finished` is called after each member finishes with
/// every result so far, so a study can rewrite its summary as it goes.
pub(crate) fn train_members(
    members: &[StudyMember],
    opts: &TrainOptions,
    artifacts: &Path,
    mode: StudyMode,
    jobs: Option<&Jobs>,
    on_finished: &mut OnFinished<'_>,
) -> Result<Outcome> {
    let reuse = match mode {
        StudyMode::Train { reuse } => reuse,
        StudyMode::Collect => return Ok(collect_members(members, opts, artifacts)),
    };
    if let Some(jobs) = jobs {
        return train_side_by_side(members, opts, artifacts, reuse, jobs, on_finished);
    }
    let mut results: Vec<Option<Finished>> = members.iter().map(|_| None).collect();
    for (i, member) in members.iter().enumerate() {
        match train_or_reuse(member, opts, artifacts, reuse) {
            Ok(finished) => {
                results[i] = Some(finished);
                on_finished(&results)?;
            }
            // A stop: the study ends with what it has.
            Err(e @ Error::Stopped { .. }) => {
                return Ok(Outcome {
                    results,
                    ended: Some(e),
                });
            }
            Err(e) => return Err(e),
        }
    }
    Ok(Outcome {
        results,
        ended: None,
    })
}

/// Each member's finished identical run, trained by someone else; the members without one are
/// missing, and end the study.
fn collect_members(members: &[StudyMember], opts: &TrainOptions, artifacts: &Path) -> Outcome {
    let mut damaged = None;
    let mut results: Vec<Option<Finished>> = Vec::new();
    for member in members {
        match reuse_finished(member, opts, artifacts, opts.compute.name()) {
            Ok(found) => results.push(found),
            Err(e) => {
                damaged.get_or_insert(e);
                results.push(None);
            }
        }
    }
    let missing = results.iter().filter(|r| r.is_none()).count();
    let ended = damaged.or_else(|| {
        (missing > 0).then(|| {
            Error::Invalid(format!(
                "{missing} of {} members have no finished run yet",
                members.len()
            ))
        })
    });
    Outcome { results, ended }
}

/// Mean, sample standard deviation and range of a few numbers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (n - 1); 0 for a single value.
    pub sd: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    pub fn of(values: &[f64]) -> Self {
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let sd = if n > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        Self {
            n,
            mean,
            sd,
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }

    /// `98.12 ± 0.05` (just the mean for one value).
    pub fn show(&self, decimals: usize) -> String {
        if self.n > 1 {
            format!("{:.decimals$} ± {:.decimals$}", self.mean, self.sd)
        } else {
            format!("{:.decimals$}", self.mean)
        }
    }
}
