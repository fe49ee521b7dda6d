//! A study's MLflow run (`--mlflow`): a parent run for the group or ensemble, every member
//! (reused ones too) a nested run, its comparison table the parent's artifact.

use std::path::PathBuf;
use std::sync::Arc;

use lab10_runs::{Error, Result};
use lab10_track::mlflow::{Mlflow, MlflowError, TrackedRun};

use super::member::Finished;
use crate::run::{Event, Progress, TrainOptions};

/// The settings the members are logged with, and their parent run (none without `--mlflow`).
/// Dropped before [`StudyTracking::close`] (an error ended the study), the parent is FAILED.
pub(crate) struct StudyTracking {
    parent: Option<(Mlflow, TrackedRun)>,
    progress: Arc<dyn Progress>,
}

/// `opts` for the members (their runs nested under a new parent run), and the parent. A server
/// that cannot be reached is an error when `strict` (nothing is trained), else a warning.
pub(crate) fn open(
    opts: &TrainOptions,
    (kind, name, dataset): (&str, &str, &str),
    params: &[(&str, String)],
    strict: bool,
) -> Result<(TrainOptions, StudyTracking)> {
    let mut members = opts.clone();
    let progress = Arc::clone(&opts.progress);
    let parent = match &opts.mlflow {
        None => None,
        Some(mlflow) => match mlflow.open_parent(kind, name, dataset, params) {
            Ok(parent) => Some((mlflow.nested(&parent), parent)),
            Err(e) if !strict || mlflow.parent.is_some() => {
                let message = format!("{e}; the study goes on without MLflow");
                progress.event(Event::Warning { message });
                None
            }
            Err(e) => return Err(e.into()),
        },
    };
    members.mlflow = parent.as_ref().map(|(nested, _)| nested.clone());
    Ok((members, StudyTracking { parent, progress }))
}

impl Drop for StudyTracking {
    fn drop(&mut self) {
        if let Some((_, parent)) = &self.parent {
            let _ = parent.end_now("FAILED");
        }
    }
}

impl StudyTracking {
    /// The study ended (`ended`: what ended it early): reused members, `files` and the
    /// parent's status sent. Failures are warnings: the results are on disk either way.
    pub fn close(mut self, results: &[Option<Finished>], files: &[PathBuf], ended: Option<&Error>) {
        let Some((nested, parent)) = self.parent.take() else {
            return;
        };
        let warn = |e: MlflowError| {
            self.progress.event(Event::Warning {
                message: format!(
                    "{e} (MLflow run {} at {}); `lab10 mlflow sync` sends runs later",
                    parent.run_id,
                    parent.uri()
                ),
            })
        };
        for finished in results.iter().flatten().filter(|f| f.reused) {
            let model = lab10_exchange::write_mlflow_model(&finished.run, false);
            if let Err(e) = model
                .map_err(MlflowError::from)
                .and_then(|_| nested.sync(&finished.run))
            {
                warn(e);
            }
        }
        for file in files.iter().filter(|f| f.is_file()) {
            if let Err(e) = parent.send_file(file) {
                warn(e);
            }
        }
        let status = match ended {
            None => "FINISHED",
            Some(Error::Stopped { .. }) => "KILLED",
            Some(_) => "FAILED",
        };
        if let Err(e) = parent.end_now(status) {
            warn(e);
        }
    }
}
