//! A finished identical run reused instead of trained again, for a study's members.

use std::path::Path;

use lab10_experiment::Experiment;

use lab10_runs::{Error, Health, Report, Result, RunDir, health};

use super::member::{Finished, StudyMember};
use crate::run::{Event, Reused, TrainOptions};

/// A completed run of exactly `experiment`'s settings on `backend` under `artifacts`, to reuse
/// instead of training again; a damaged one is an error naming the file, never skipped.
pub fn find_completed_run(
    artifacts: &Path,
    experiment: &Experiment,
    backend: &str,
) -> Result<Option<(RunDir, Report)>> {
    for found in RunDir::completed_runs(&artifacts.join(&experiment.name)) {
        let (run, report) = found?;
        // Imported weights were not trained with these settings: never reuse them.
        if report.source.is_none()
            && report.backend == backend
            && report.epochs == experiment.training.epochs
            && has_settings(&run, experiment)
        {
            if let Health::Damaged { file, detail } = health(&run.path) {
                return Err(Error::damaged(file, detail));
            }
            return Ok(Some((run, report)));
        }
    }
    Ok(None)
}

/// Whether `run` was made with exactly `experiment`'s settings (its resolved experiment.toml).
fn has_settings(run: &RunDir, experiment: &Experiment) -> bool {
    Experiment::of_run(run).is_ok_and(|resolved| resolved.same_settings(experiment))
}

/// The newest unfinished run of exactly `experiment`'s settings on `backend` under `artifacts`
/// that has a complete checkpoint (stopped or killed), to be resumed rather than started anew.
pub fn find_unfinished_run(
    artifacts: &Path,
    experiment: &Experiment,
    backend: &str,
) -> Option<RunDir> {
    RunDir::runs(&artifacts.join(&experiment.name))
        .into_iter()
        .find(|run| {
            let report = run.report().ok();
            // Run ids are `<time>-<backend>-s<seed>`; a killed run has no report to say.
            let on_backend = report.as_ref().map_or_else(
                || run.id().split('-').nth(2) == Some(backend),
                |r| r.backend == backend,
            );
            !report.as_ref().is_some_and(Report::is_completed)
                && on_backend
                && run.last_checkpoint().is_some()
                && has_settings(run, experiment)
        })
}

/// `member`'s finished identical run on this backend, announced as reused (`Member` event).
pub(crate) fn reuse_finished(
    member: &StudyMember,
    opts: &TrainOptions,
    artifacts: &Path,
) -> Result<Option<Finished>> {
    let backend = opts.compute.name();
    let Some((run, report)) = find_completed_run(artifacts, &member.experiment, backend)? else {
        return Ok(None);
    };
    opts.progress.event(Event::Member {
        label: member.label.clone(),
        reused: Some(Reused {
            run: run.path.clone(),
            test_accuracy: report.test_accuracy,
        }),
    });
    Ok(Some(Finished {
        run,
        report,
        reused: true,
    }))
}
