//! Many runs compared: groups (experiments x seeds, one summary table) and ensembles (members
//! with consecutive seeds, their averaged softmax), and what both need: their members trained
//! one after another (here) or side by side (`jobs.rs`), or reused (`reuse.rs`).

pub mod ensemble;
pub mod group;
pub mod jobs;
pub mod member;
pub mod reuse;
mod tracking;

use std::path::{Path, PathBuf};

use lab10_experiment::Overrides;
use lab10_runs::{Error, Result, RunDir, create_unique_dir, utc_stamp};
use serde::{Deserialize, Serialize};

use crate::run::{Event, TrainOptions, refuse_if_stopped, train};
use jobs::{Jobs, train_side_by_side};
use member::{Finished, OnFinished, Outcome, StudyMember};
use reuse::reuse_finished;
use tracking::StudyTracking;

/// What a study does with its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StudyMode {
    /// Trains each member, or, with `reuse`, takes a finished identical run where one exists.
    Train { reuse: bool },
    /// Trains none: takes each member's finished identical run (trained elsewhere, e.g. by a
    /// Slurm job array), and names the members that have none.
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

/// How a group's or an ensemble's members are trained.
pub struct StudyOptions {
    pub train: TrainOptions,
    pub overrides: Overrides,
    /// Train the members (reusing finished identical runs or not), or only collect them.
    pub mode: StudyMode,
    /// Train the members side by side in processes of their own (`--jobs`).
    pub jobs: Option<Jobs>,
}

/// A group's or an ensemble's MLflow parent run with `--mlflow` (`parent`: its kind, name and
/// dataset), then every member trained, reused or collected as `mode` says. `on_finished` is
/// called after each member finishes with every result so far.
pub(crate) fn run_study(
    opts: &TrainOptions,
    (mode, jobs): (StudyMode, Option<&Jobs>),
    parent: (&str, &str, &str),
    params: &[(&str, String)],
    (members, artifacts): (&[StudyMember], &Path),
    on_finished: &mut OnFinished<'_>,
) -> Result<(Outcome, StudyTracking)> {
    let strict = matches!(mode, StudyMode::Train { .. });
    let (opts, tracking) = tracking::open(opts, parent, params, strict)?;
    let outcome = match (mode, jobs) {
        (StudyMode::Collect, _) => collect_members(members, &opts, artifacts),
        (StudyMode::Train { reuse }, Some(jobs)) => {
            train_side_by_side(members, &opts, artifacts, reuse, jobs, on_finished)?
        }
        (StudyMode::Train { reuse }, None) => {
            train_one_by_one(members, &opts, artifacts, reuse, on_finished)?
        }
    };
    Ok((outcome, tracking))
}

/// The members trained (or reused) one after another; a stop ends the study with what it has.
fn train_one_by_one(
    members: &[StudyMember],
    opts: &TrainOptions,
    artifacts: &Path,
    reuse: bool,
    on_finished: &mut OnFinished<'_>,
) -> Result<Outcome> {
    let mut results: Vec<Option<Finished>> = members.iter().map(|_| None).collect();
    let mut ended = None;
    for (i, member) in members.iter().enumerate() {
        match train_or_reuse(member, opts, artifacts, reuse) {
            Ok(finished) => results[i] = Some(finished),
            Err(e @ Error::Stopped { .. }) => {
                ended = Some(e);
                break;
            }
            Err(e) => return Err(e),
        }
        on_finished(&results)?;
    }
    Ok(Outcome { results, ended })
}

/// A finished run of `member`: reused when `reuse` allows, else trained (unless stopped).
fn train_or_reuse(
    member: &StudyMember,
    opts: &TrainOptions,
    artifacts: &Path,
    reuse: bool,
) -> Result<Finished> {
    if reuse && let Some(finished) = reuse_finished(member, opts, artifacts)? {
        return Ok(finished);
    }
    refuse_if_stopped(&opts.stop, &member.label)?;
    opts.progress.event(Event::Member {
        label: member.label.clone(),
        reused: None,
    });
    let outcome = train(&member.experiment, opts)?;
    Ok(Finished {
        run: outcome.run,
        report: outcome.report,
        reused: false,
    })
}

/// Each member's finished run, trained elsewhere; members without one end the study.
fn collect_members(members: &[StudyMember], opts: &TrainOptions, artifacts: &Path) -> Outcome {
    let mut damaged = None;
    let results: Vec<Option<Finished>> = members
        .iter()
        .map(|member| {
            reuse_finished(member, opts, artifacts).unwrap_or_else(|e| {
                damaged.get_or_insert(e);
                None
            })
        })
        .collect();
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

/// A new folder for a study's results: `<artifacts>/<kind>/<name>/<UTC time>-<suffix>/`.
fn study_dir(artifacts: &Path, kind: &str, name: &str, suffix: &str) -> Result<PathBuf> {
    let parent = artifacts.join(kind).join(name);
    create_unique_dir(&parent, &format!("{}-{suffix}", utc_stamp()))
}

/// Writes `files` into the study folder `dir` as a run's are written (with SHA256SUMS).
fn write_study_files(dir: &Path, files: &[(&str, &[u8])]) -> Result<Vec<PathBuf>> {
    let folder = RunDir {
        path: dir.to_path_buf(),
    };
    folder.write_all(files)?;
    Ok(files.iter().map(|(name, _)| dir.join(name)).collect())
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
