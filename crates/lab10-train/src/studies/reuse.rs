//! A finished identical run reused instead of trained again, for the members of a group or an
//! ensemble (one after another or side by side), and [`Finished`], what a member ends with.

use std::path::Path;

use lab10_runs::{EXPERIMENT_FILE, Experiment, Report, RunDir};

use crate::run::{Event, Reused, TrainOptions};

/// A finished run of exactly `experiment` (same model, optimiser, data, seed and epochs) on
/// `backend`, if one exists under `artifacts`: groups and ensembles reuse it instead of
/// training again. Runs that diverged or stopped early do not count.
pub fn find_completed_run(
    artifacts: &Path,
    experiment: &Experiment,
    backend: &str,
) -> Option<(RunDir, Report)> {
    RunDir::completed_runs(&artifacts.join(&experiment.name)).find(|(run, report)| {
        // Imported weights were not trained with these settings: never reuse them.
        report.source.is_none()
            && report.backend == backend
            && report.epochs == experiment.training.epochs
            && Experiment::load(&run.file(EXPERIMENT_FILE))
                .is_ok_and(|resolved| resolved.same_settings(experiment))
    })
}

/// A finished identical run of `member` under `artifacts` on `backend`, announced as reused
/// (the `Member` event); `None` when there is none.
pub(crate) fn reuse_finished(
    member: &Experiment,
    opts: &TrainOptions,
    artifacts: &Path,
    backend: &str,
    label: &str,
) -> Option<Finished> {
    let (run, report) = find_completed_run(artifacts, member, backend)?;
    opts.progress.event(Event::Member {
        label: label.to_string(),
        reused: Some(Reused {
            run: run.path.clone(),
            test_accuracy: report.test_accuracy,
        }),
        on: None,
    });
    Some(Finished {
        run,
        report,
        reused: true,
    })
}

/// A member's finished run.
pub(crate) struct Finished {
    pub run: RunDir,
    pub report: Report,
    /// Taken from an earlier identical run instead of trained.
    pub reused: bool,
}
