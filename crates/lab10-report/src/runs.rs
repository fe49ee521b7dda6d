//! A finished run with everything a report shows: its report.json, its per-epoch metrics, and
//! a fresh evaluation of its model on the test set (for the confusion matrix and the digits).

use std::path::Path;

use burn::prelude::Device;
use lab10_experiment::{DataOptions, Evaluation, SavedModel};
use lab10_models::MnistDataset;
use lab10_runs::{EpochRecord, Error, Report, RunDir, metrics};

pub struct RunData {
    pub run: RunDir,
    pub report: Report,
    /// Its model file and resolved experiment.
    pub saved: SavedModel,
    pub metrics: Vec<EpochRecord>,
    pub evaluation: Evaluation,
    pub test: MnistDataset,
    /// The dataset the run was trained and is shown on.
    pub dataset: String,
    pub classes: [&'static str; 10],
}

impl RunData {
    /// Loads a run folder (or `artifacts/<experiment>` for its latest run) and re-evaluates its
    /// model on the same test images its report describes.
    pub fn load(target: &Path, data: &DataOptions, device: &Device) -> Result<Self, Error> {
        let run = RunDir::open(target)?;
        let report = run.report()?;
        let saved = SavedModel::open(&run.path, None)?;
        // A report shows a run on its own data: no --dataset here.
        let data = DataOptions {
            dataset: None,
            ..data.clone()
        };
        let test = saved.test_data(&data, Some(report.test_images))?;
        let evaluation = saved.evaluate(&test.data, device)?;
        Ok(Self {
            metrics: metrics::read(&run)?,
            run,
            report,
            evaluation,
            dataset: test.record.name.clone(),
            classes: lab10_data::class_names(&test.record.name),
            test: test.data,
            saved,
        })
    }

    /// Whether `runs` hold two runs of one experiment, which then need their run ids told apart.
    pub fn disambiguate(runs: &[RunData]) -> bool {
        let experiment = |i: usize| &runs[i].report.experiment;
        (0..runs.len()).any(|i| (0..i).any(|j| experiment(j) == experiment(i)))
    }

    /// `xavier`, or `xavier (20261128-0406...)` when several runs of one experiment are shown.
    pub fn label(&self, disambiguate: bool) -> String {
        if disambiguate {
            format!("{} ({})", self.report.experiment, self.report.run_id)
        } else {
            self.report.experiment.clone()
        }
    }

    /// A file-name-safe key: the experiment, plus the run id when needed.
    pub fn key(&self, disambiguate: bool) -> String {
        if disambiguate {
            format!("{}-{}", self.report.experiment, self.report.run_id)
        } else {
            self.report.experiment.clone()
        }
    }
}
