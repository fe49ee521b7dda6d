//! A study's MLflow run (`--mlflow`): a parent run for the group or ensemble, its members
//! logged as nested runs (`mlflow.parentRunId`) as they train, its comparison table as the
//! parent's artifact. A member reused from an earlier run is sent as a nested run too (from
//! its folder, as `lab10 mlflow sync` does), so the parent shows every member.

use std::path::PathBuf;

use lab10_runs::mlflow::{Mlflow, TrackedRun};
use lab10_runs::{Error, Result};

use super::member::Finished;
use crate::run::{Event, TrainOptions};

/// The parent run, and the settings its members are logged with.
pub(crate) struct StudyTracking {
    parent: TrackedRun,
    nested: Mlflow,
}

/// `opts` for the members (their runs nested under a new parent run), and the parent; `opts`
/// as they are without `--mlflow`.
pub(crate) fn open(
    opts: &TrainOptions,
    kind: &str,
    name: &str,
    dataset: &str,
    params: &[(&str, String)],
) -> Result<(TrainOptions, Option<StudyTracking>)> {
    let Some(mlflow) = &opts.mlflow else {
        return Ok((opts.clone(), None));
    };
    let parent = mlflow.open_parent(kind, name, dataset, params)?;
    let nested = mlflow.nested(&parent);
    let mut members = opts.clone();
    members.mlflow = Some(nested.clone());
    Ok((members, Some(StudyTracking { parent, nested })))
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
        let warn = |e: Error| {
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
        let now = chrono_now_ms();
        if let Err(e) = self.parent.set_status(status, Some(now)) {
            warn(e);
        }
    }
}

fn chrono_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
