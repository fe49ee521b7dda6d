//! The run's MLflow run while it trains (`--mlflow`): its epochs sent as the run's metric
//! logger records them, its files and status once it ends. A server that stops answering costs
//! one warning and nothing else: training goes on, and `lab10 mlflow sync` sends the rest later.

use std::sync::{Arc, Mutex};

use lab10_runs::mlflow::{Mlflow, RunFacts, TrackedRun};
use lab10_runs::{EpochRecord, Error, Experiment, Report, Result, RunDir};

use super::progress::{Event, Progress};

/// An MLflow run, or nothing (no `--mlflow`, or the server went away).
#[derive(Clone, Default)]
pub(crate) struct Tracker(Option<Arc<Mutex<Tracked>>>);

struct Tracked {
    /// `None` once a call failed.
    run: Option<TrackedRun>,
    uri: String,
    run_dir: RunDir,
    experiment: Experiment,
    /// Its status is set.
    ended: bool,
}

impl Tracker {
    /// `run`'s MLflow run (continued for a resumed run), with its params and tags.
    pub fn open(
        mlflow: Option<&Mlflow>,
        run: &RunDir,
        experiment: &Experiment,
        facts: &RunFacts,
    ) -> Result<Self> {
        let Some(mlflow) = mlflow else {
            return Ok(Self(None));
        };
        let tracked = mlflow.open_run(run, experiment, facts)?;
        // A run continued (a resume) is running again.
        tracked.set_status("RUNNING", None)?;
        Ok(Self(Some(Arc::new(Mutex::new(Tracked {
            uri: tracked.uri().to_string(),
            run: Some(tracked),
            run_dir: run.clone(),
            experiment: experiment.clone(),
            ended: false,
        })))))
    }

    /// The epochs so far: those the server lacks are sent.
    pub fn epochs(&self, records: &[EpochRecord], progress: &dyn Progress) {
        self.with(progress, |t, run| {
            run.log_epochs(&t.experiment, &t.run_dir, records)
                .map(|_| ())
        });
    }

    /// The run ended with `report`: final metrics, artifacts, status.
    pub fn finish(&self, report: &Report, progress: &dyn Progress) {
        self.with(progress, |t, run| {
            t.ended = true;
            run.finish(&t.run_dir, report).map(|_| ())
        });
    }

    /// The run ended with `error` before its report: KILLED for a stop, else FAILED.
    pub fn failed(&self, error: &Error, progress: &dyn Progress) {
        let status = match error {
            Error::Stopped { .. } => "KILLED",
            _ => "FAILED",
        };
        self.with(progress, |t, run| {
            if t.ended {
                return Ok(());
            }
            t.ended = true;
            run.end_now(status)
        });
    }

    /// Calls `f` on the MLflow run while there is one; its first failure is one warning, after
    /// which nothing more is sent.
    fn with(
        &self,
        progress: &dyn Progress,
        f: impl FnOnce(&mut Tracked, &mut TrackedRun) -> Result<()>,
    ) {
        let Some(shared) = &self.0 else { return };
        let mut tracked = shared.lock().expect("tracker lock");
        let Some(mut run) = tracked.run.take() else {
            return;
        };
        match f(&mut tracked, &mut run) {
            Ok(()) => tracked.run = Some(run),
            Err(e) => progress.event(Event::Warning {
                message: format!(
                    "{e}. Training goes on without MLflow; send the rest later with `lab10 mlflow \
                     sync {} --mlflow {}`",
                    tracked.run_dir.path.display(),
                    tracked.uri
                ),
            }),
        }
    }
}
