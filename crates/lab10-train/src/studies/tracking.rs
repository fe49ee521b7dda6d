//! A study's MLflow run (`--mlflow`): a parent run for the group or ensemble, its members
//! logged as nested runs (`mlflow.parentRunId`) as they train, its comparison table as the
//! parent's artifact. A member reused from an earlier run is sent as a nested run too (from
//! its folder, as `lab10 mlflow sync` does), so the parent shows every member.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use lab10_runs::{Error, Result};
use lab10_track::mlflow::{Mlflow, MlflowError, TrackedRun};

use super::member::Finished;
use crate::run::{Event, TrainOptions};

/// The parent run, and the settings its members are logged with. Dropped before
/// [`StudyTracking::close`] (an error ended the study), the parent is FAILED.
pub(crate) struct StudyTracking {
    parent: TrackedRun,
    nested: Mlflow,
    closed: AtomicBool,
}

/// `opts` for the members (their runs nested under a new parent run), and the parent; `opts`
/// as they are without `--mlflow`. A server that cannot be reached is an error when `strict`
/// (a study about to train: nothing is trained), else a warning and the study goes on without
/// MLflow (collecting members trained elsewhere, or into a parent made at submission).
pub(crate) fn open(
    opts: &TrainOptions,
    (kind, name, dataset): (&str, &str, &str),
    params: &[(&str, String)],
    strict: bool,
) -> Result<(TrainOptions, Option<StudyTracking>)> {
    let Some(mlflow) = &opts.mlflow else {
        return Ok((opts.clone(), None));
    };
    let strict = strict && mlflow.parent.is_none();
    let parent = match mlflow.open_parent(kind, name, dataset, params) {
        Ok(parent) => parent,
        Err(e) if !strict => {
            opts.progress.event(Event::Warning {
                message: format!("{e}; the study goes on without MLflow"),
            });
            let mut untracked = opts.clone();
            untracked.mlflow = None;
            return Ok((untracked, None));
        }
        Err(e) => return Err(e.into()),
    };
    let nested = mlflow.nested(&parent);
    let mut members = opts.clone();
    members.mlflow = Some(nested.clone());
    let tracking = StudyTracking {
        parent,
        nested,
        closed: AtomicBool::new(false),
    };
    Ok((members, Some(tracking)))
}

impl Drop for StudyTracking {
    fn drop(&mut self) {
        if !self.closed.load(Ordering::SeqCst) {
            let _ = self.parent.end_now("FAILED");
        }
    }
}

impl StudyTracking {
    /// The study ended (`ended`: what ended it early): reused members sent as nested runs,
    /// `files` (its comparison table) as the parent's artifacts, and the parent's status.
    /// Failures are warnings: the study's own results are on disk either way.
    pub fn close(
        &self,
        results: &[Option<Finished>],
        files: &[PathBuf],
        ended: Option<&Error>,
        opts: &TrainOptions,
    ) {
        self.closed.store(true, Ordering::SeqCst);
        let warn = |e: MlflowError| {
            opts.progress.event(Event::Warning {
                message: format!(
                    "{e} (MLflow run {} at {}); `lab10 mlflow sync` sends runs later",
                    self.parent.run_id,
                    self.parent.uri()
                ),
            })
        };
        for finished in results.iter().flatten().filter(|f| f.reused) {
            if let Err(e) = self.nested.sync(&finished.run) {
                warn(e);
            }
        }
        for file in files.iter().filter(|f| f.is_file()) {
            if let Err(e) = self.parent.send_file(file) {
                warn(e);
            }
        }
        let status = match ended {
            None => "FINISHED",
            Some(Error::Stopped { .. }) => "KILLED",
            Some(_) => "FAILED",
        };
        if let Err(e) = self.parent.end_now(status) {
            warn(e);
        }
    }
}
