//! The data a run reads: what the command line says about it, and the splits it trains,
//! validates and tests on.

use lab10_data::{DataRecord, DataRequest, DatasetSpec, Mnist, Places, Wanted};

use lab10_models::MnistDataset;

use crate::config::experiment::{Experiment, TrainingConfig};
use lab10_runs::{Error, Result, valid_label};

/// What the command line says about data.
#[derive(Debug, Clone)]
pub struct DataOptions {
    /// `--dataset`: overrides the experiment's (or, for eval, the run's) dataset.
    pub dataset: Option<&'static DatasetSpec>,
    /// Where to look and download from (`--data-dir`, `--cache-dir`, mirrors); the lookup
    /// order is [`lab10_data::Places::locate`]'s.
    pub places: Places,
    /// Refuse files that match no known dataset (off with `--no-verify`).
    pub verify: bool,
}

impl DataOptions {
    /// The dataset a new run of `experiment` trains on: `--dataset`, else the experiment's.
    pub fn dataset_for(&self, experiment: &Experiment) -> Result<&'static DatasetSpec> {
        Ok(self
            .dataset
            .map_or_else(|| DatasetSpec::by_name(&experiment.dataset), Ok)?)
    }

    /// The data a run of `experiment` reads: a new run's dataset, or a resolved copy's own
    /// recorded files (the same digests; for custom data, the same folder by default).
    pub fn request_for(&self, experiment: &Experiment) -> Result<DataRequest> {
        let wanted = match (&experiment.data, self.dataset) {
            (Some(record), None) => Wanted::Run(record.clone()),
            (Some(record), Some(spec)) if record.name == spec.name => Wanted::Run(record.clone()),
            _ => Wanted::Known(self.dataset_for(experiment)?),
        };
        Ok(DataRequest {
            wanted,
            places: self.places.clone(),
            verify: self.verify,
        })
    }
}

/// The splits an experiment trains, validates and tests on.
pub struct Splits {
    pub record: DataRecord,
    pub train: MnistDataset,
    pub valid: MnistDataset,
    pub test: MnistDataset,
    /// "test" when validating on the test set (the lesson's way), else "valid".
    pub valid_label: &'static str,
}

/// Loads the test split alone (evaluation and prediction need nothing else).
pub fn load_test(
    request: &DataRequest,
    config: &TrainingConfig,
) -> Result<(DataRecord, MnistDataset)> {
    let data = request.load(false)?;
    let test = MnistDataset::new(limit(data.test, config.test_size));
    Ok((data.record, test))
}

pub fn load_splits(request: &DataRequest, config: &TrainingConfig) -> Result<Splits> {
    let data = request.load(true)?;
    let test = MnistDataset::new(limit(data.test, config.test_size));
    let train = limit(
        data.train.expect("asked for the training split"),
        config.train_size,
    );
    let (train, valid, valid_label) = match config.holdout {
        0 => (MnistDataset::new(train), test.clone(), valid_label(0)),
        h if h < train.len() => {
            // Keras' validation_split convention: the last images are held out.
            let cut = train.len() - h;
            (
                MnistDataset::new(train.slice(0..cut)),
                MnistDataset::new(train.slice(cut..train.len())),
                valid_label(h),
            )
        }
        h => {
            return Err(Error::Invalid(format!(
                "holdout {h} leaves no training images (the training set has {})",
                train.len()
            )));
        }
    };
    Ok(Splits {
        record: data.record,
        train,
        valid,
        test,
        valid_label,
    })
}

fn limit(split: Mnist, n: Option<usize>) -> Mnist {
    match n {
        Some(n) if n < split.len() => split.slice(0..n),
        _ => split,
    }
}
