//! The last step of every run, trained (lab10-train) or imported (lab10-exchange): the model
//! file tested on the run's test split exactly as `lab10 eval` tests it, and the report made
//! from what the run says of itself.

use std::path::Path;
use std::time::Instant;

use lab10_data::DataRecord;
use lab10_models::MnistDataset;
use lab10_runs::{EpochRecord, Interruption, Report, Result, RunDir, RunStatus, utc_now};

use crate::config::experiment::Experiment;
use crate::evaluate::{Evaluation, evaluate};
use crate::model::load_model;
use crate::runtime::backend::ComputeDevice;
use crate::runtime::compute::Compute;

/// What a report says of training for weights that were imported, not trained.
const NOT_TRAINED: &str = "none (imported weights)";

/// When a run started, for its report's timings.
#[derive(Debug, Clone)]
pub struct Clock {
    pub started: Instant,
    /// The same moment as report files write it.
    pub started_at: String,
}

impl Clock {
    pub fn start() -> Self {
        Self {
            started: Instant::now(),
            started_at: utc_now(),
        }
    }
}

/// What a report records of the program that made the run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provenance {
    pub command: String,
    pub build_commit: Option<String>,
}

/// What the report of a trained run says of its training.
pub struct Trained {
    pub status: RunStatus,
    /// Where a run stopped on request stood.
    pub interruption: Option<Interruption>,
    pub history: Vec<EpochRecord>,
    pub train_images: usize,
    /// `test (10000 images)` or `valid (5000 images)`.
    pub validation: String,
    pub setup_seconds: f64,
    pub first_step_seconds: Option<f64>,
    pub resumed_from_epoch: Option<usize>,
    /// The epoch whose model the run kept (`keep = "best"`).
    pub kept_epoch: Option<usize>,
    /// Why training ended before its last epoch (early stopping).
    pub stopped_early: Option<String>,
}

/// A run at its end, as every run's report describes it: its folder (locked by the caller),
/// its resolved experiment, the data it read and where it computed.
pub struct RunEnd<'a> {
    pub run: &'a RunDir,
    pub experiment: &'a Experiment,
    pub record: &'a DataRecord,
    /// The test split the report's test numbers are of.
    pub test: &'a MnistDataset,
    pub backend: &'a Compute,
    pub compute: &'a ComputeDevice,
    pub provenance: &'a Provenance,
    pub clock: &'a Clock,
}

impl RunEnd<'_> {
    /// A trained run's report, `model` (if any) tested, and that test for the caller's pictures;
    /// the caller writes the report ([`RunDir::write_report`]).
    pub fn report_trained(
        &self,
        model: Option<&Path>,
        trained: &Trained,
    ) -> Result<(Report, Option<Evaluation>)> {
        let eval_start = Instant::now();
        let test = model.map(|path| self.test_saved(path)).transpose()?;
        let report = self.report(Some(trained), None, test.as_ref(), eval_start);
        Ok((report, test))
    }

    /// Finishes and reports a run of imported weights saved as `model`, from `source`.
    pub fn finish_imported(&self, model: &Path, source: String) -> Result<Report> {
        let eval_start = Instant::now();
        let test = self.test_saved(model)?;
        let report = self.report(None, Some(source), Some(&test), eval_start);
        self.run.write_report(&report)?;
        Ok(report)
    }

    fn test_saved(&self, path: &Path) -> Result<Evaluation> {
        let device = &self.compute.device;
        let model = load_model(path, self.experiment, device)?;
        let pixels = self.experiment.training.pixels;
        Ok(evaluate(&model, self.test, pixels, device))
    }

    /// The report; `trained` is `None` for imported weights, `test` began at `eval_start`.
    fn report(
        &self,
        trained: Option<&Trained>,
        source: Option<String>,
        test: Option<&Evaluation>,
        eval_start: Instant,
    ) -> Report {
        let eval_seconds = eval_start.elapsed().as_secs_f64();
        let experiment = self.experiment;
        let t = &experiment.training;
        let last = trained.and_then(|tr| tr.history.last());
        let epoch_seconds: Vec<f64> = trained.map_or_else(Vec::new, |tr| {
            tr.history.iter().map(|r| r.epoch_seconds).collect()
        });
        let mean_epoch_seconds = trained.map_or(f64::NAN, |_| {
            epoch_seconds.iter().sum::<f64>() / epoch_seconds.len().max(1) as f64
        });
        Report {
            experiment: experiment.name.clone(),
            run_id: self.run.id(),
            status: trained.map_or(RunStatus::Completed, |tr| tr.status.clone()),
            interruption: trained.and_then(|tr| tr.interruption.clone()),
            source,
            dataset: self.record.name.clone(),
            data: Some(self.record.clone()),
            description: experiment.description.clone(),
            reference: experiment.reference.clone(),
            backend: self.backend.name().into(),
            device: self.compute.description.clone(),
            seed: t.seed,
            params: experiment.model.num_params(),
            epochs: trained.map_or(0, |tr| tr.history.len()),
            batch_size: t.batch_size,
            optimizer: match trained {
                Some(_) => experiment.optimizer.label(),
                None => NOT_TRAINED.into(),
            },
            train_images: trained.map_or(0, |tr| tr.train_images),
            validation: trained.map_or_else(|| NOT_TRAINED.into(), |tr| tr.validation.clone()),
            test_images: self.test.mnist().len(),
            test_loss: test.map_or(f64::NAN, |e| e.loss),
            test_accuracy: test.map_or(f64::NAN, |e| e.accuracy),
            per_class_accuracy: test.map(|e| e.per_class.clone()).unwrap_or_default(),
            final_train_loss: last.map_or(f64::NAN, |r| r.train_loss),
            final_train_accuracy: last.map_or(f64::NAN, |r| r.train_accuracy),
            epoch_seconds,
            mean_epoch_seconds,
            total_seconds: self.clock.started.elapsed().as_secs_f64(),
            setup_seconds: trained.map_or(0.0, |tr| tr.setup_seconds),
            first_step_seconds: trained.and_then(|tr| tr.first_step_seconds),
            eval_seconds,
            started_at: self.clock.started_at.clone(),
            finished_at: utc_now(),
            resumed_from_epoch: trained.and_then(|tr| tr.resumed_from_epoch),
            kept_epoch: trained.and_then(|tr| tr.kept_epoch),
            stopped_early: trained.and_then(|tr| tr.stopped_early.clone()),
            git_commit: self.provenance.build_commit.clone(),
            lab10_version: env!("CARGO_PKG_VERSION").into(),
            command: self.provenance.command.clone(),
        }
    }
}
