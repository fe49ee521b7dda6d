//! An experiment is a TOML file in `experiments/`: the model, the optimiser and the training
//! settings, all of it, so that a run can be reproduced from its resolved copy alone.

use std::path::{Path, PathBuf};

use lab10_data::{CUSTOM, DataRecord, DatasetSpec};

use lab10_models::{MlpConfig, PixelScale};
use serde::{Deserialize, Serialize};

pub use crate::config::optimizer::OptimizerConfig;
use crate::config::pretrain::PretrainConfig;
use lab10_runs::{EXPERIMENT_FILE, Error, Result, RunDir};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// Taken from the file name when the file does not say; always written in resolved copies.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// One line for `lab10 list`.
    pub description: String,
    /// The accuracy the lesson reports for this model, for comparison tables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The dataset to train on (`lab10 datasets`); `--dataset` overrides it.
    #[serde(default = "lab10_runs::default_dataset")]
    pub dataset: String,
    pub model: MlpConfig,
    pub optimizer: OptimizerConfig,
    pub training: TrainingConfig,
    /// Layer-wise pre-training before supervised training (the RBM experiment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretrain: Option<PretrainConfig>,
    /// The files a run was trained on (digests and folder): only in a run's resolved copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub seed: u64,
    /// `unit` scales pixels to [0, 1]; `raw` feeds 0..255 as the lesson's document does.
    #[serde(default)]
    pub pixels: PixelScale,
    /// Hold out the last N training images for validation instead of reporting on the test
    /// set each epoch (0: validate on the 10,000 test images, as the lesson does).
    #[serde(default)]
    pub holdout: usize,
    /// Use only the first N training images (quick runs, tests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_size: Option<usize>,
    /// Use only the first N test images (quick runs, tests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_size: Option<usize>,
    /// Record each layer's mean |weight gradient| every epoch (metrics.csv `grad_l1`, ...):
    /// the vanishing-gradient experiments turn it on.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub gradient_norms: bool,
    /// What "best" and early stopping watch, on the holdout.
    #[serde(default, skip_serializing_if = "is_default")]
    pub monitor: Monitor,
    /// The run's model: the last epoch's, or the best by `monitor`.
    #[serde(default, skip_serializing_if = "is_default")]
    pub keep: Keep,
    /// Stop when `monitor` has not improved for `patience` epochs (Burn's
    /// `MetricEarlyStoppingStrategy`); absent: every epoch is trained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_stopping: Option<EarlyStopping>,
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// The validation metric that decides "best" and early stopping.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Monitor {
    #[default]
    ValidLoss,
    ValidAccuracy,
}

/// Which epoch's model a run keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Keep {
    #[default]
    Last,
    Best,
}

/// `early_stopping = { patience = 2, min_delta = 0.0 }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyStopping {
    pub patience: usize,
    /// Burn's strategy counts any strict improvement: only 0.0 is accepted.
    #[serde(default)]
    pub min_delta: f64,
}

/// Overrides of an experiment's settings: declared once, as the flags clap derives (`lab10
/// train`, `ensemble` and groups flatten them) and as what [`Experiment::apply`] applies.
#[derive(Debug, Clone, Default, PartialEq, clap::Args)]
pub struct Overrides {
    /// Epochs to train (instead of the experiment's)
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub epochs: Option<usize>,
    /// Batch size (instead of the experiment's)
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub batch_size: Option<usize>,
    /// Learning rate
    #[arg(long = "lr", value_name = "LR", allow_negative_numbers = true)]
    pub learning_rate: Option<f64>,
    /// Seed of initialisation, shuffling and dropout (ensemble: the first member's)
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub seed: Option<u64>,
    /// Validate on the last N training images instead of the test set
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub holdout: Option<usize>,
    /// Train on the first N training images only
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub train_size: Option<usize>,
    /// Validate/test on the first N test images only
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub test_size: Option<usize>,
    /// What "best" and early stopping watch on the holdout
    #[arg(long, value_enum)]
    pub monitor: Option<Monitor>,
    /// The run's model: the last epoch's or the best by --monitor (needs --holdout)
    #[arg(long, value_enum)]
    pub keep: Option<Keep>,
    /// Stop when --monitor has not improved for N epochs (needs --holdout)
    #[arg(long, value_name = "N")]
    pub patience: Option<usize>,
}

impl Overrides {
    /// The same overrides as command-line flags, for a command run elsewhere (a Slurm job).
    pub fn to_args(&self) -> Vec<String> {
        let flags: [(&str, Option<String>); 10] = [
            ("--epochs", self.epochs.map(|v| v.to_string())),
            ("--batch-size", self.batch_size.map(|v| v.to_string())),
            ("--lr", self.learning_rate.map(|v| v.to_string())),
            ("--seed", self.seed.map(|v| v.to_string())),
            ("--holdout", self.holdout.map(|v| v.to_string())),
            ("--train-size", self.train_size.map(|v| v.to_string())),
            ("--monitor", value_name(self.monitor)),
            ("--keep", value_name(self.keep)),
            ("--patience", self.patience.map(|v| v.to_string())),
            ("--test-size", self.test_size.map(|v| v.to_string())),
        ];
        flags
            .into_iter()
            .filter_map(|(flag, value)| Some([flag.to_string(), value?]))
            .flatten()
            .collect()
    }
}

/// A flag's value as clap spells it (`valid-loss`).
fn value_name<T: clap::ValueEnum>(value: Option<T>) -> Option<String> {
    Some(value?.to_possible_value()?.get_name().to_string())
}

impl Experiment {
    /// Parses an experiment file; `name` is used when the file has no `name` key.
    pub fn parse(text: &str, name: &str, path: &Path) -> Result<Self> {
        let mut experiment: Experiment =
            toml::from_str(text).map_err(|e| Error::ExperimentFile {
                path: path.to_path_buf(),
                message: e.to_string().trim_end().replace('\n', "\n  "),
            })?;
        if experiment.name.is_empty() {
            experiment.name = name.to_string();
        }
        experiment.validate().map_err(|e| match e {
            Error::Invalid(message) => Error::ExperimentFile {
                path: path.to_path_buf(),
                message,
            },
            other => other,
        })?;
        Ok(experiment)
    }

    /// The resolved experiment of `run` (its `experiment.toml`, checked against the manifest).
    pub fn of_run(run: &RunDir) -> Result<Self> {
        let path = run.file(EXPERIMENT_FILE);
        Self::parse(&run.experiment_toml()?, "experiment", &path)
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, e))?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Self::parse(&text, &stem, path)
    }

    pub fn apply(&mut self, o: &Overrides) -> Result<()> {
        let t = &mut self.training;
        t.epochs = o.epochs.unwrap_or(t.epochs);
        t.batch_size = o.batch_size.unwrap_or(t.batch_size);
        t.seed = o.seed.unwrap_or(t.seed);
        t.holdout = o.holdout.unwrap_or(t.holdout);
        t.train_size = o.train_size.or(t.train_size);
        t.test_size = o.test_size.or(t.test_size);
        t.monitor = o.monitor.unwrap_or(t.monitor);
        t.keep = o.keep.unwrap_or(t.keep);
        if let Some(patience) = o.patience {
            let min_delta = t.early_stopping.as_ref().map_or(0.0, |e| e.min_delta);
            t.early_stopping = Some(EarlyStopping {
                patience,
                min_delta,
            });
        }
        if let Some(lr) = o.learning_rate {
            self.optimizer.set_learning_rate(lr);
        }
        self.validate()
    }

    /// The same settings, whatever data record a run attached: what groups and ensembles
    /// compare to decide whether a finished run can be reused.
    pub fn same_settings(&self, other: &Experiment) -> bool {
        let strip = |e: &Experiment| Experiment {
            data: None,
            ..e.clone()
        };
        strip(self) == strip(other)
    }

    /// Values serde accepts but training cannot use.
    pub fn validate(&self) -> Result<()> {
        let invalid = |m: String| Err(Error::Invalid(m));
        if !(self.dataset == CUSTOM && self.data.is_some()) {
            DatasetSpec::by_name(&self.dataset).map_err(|e| Error::Invalid(e.to_string()))?;
        }
        let t = &self.training;
        if t.epochs == 0 {
            return invalid("epochs must be at least 1".into());
        }
        if t.batch_size == 0 {
            return invalid("batch_size must be at least 1".into());
        }
        if t.train_size == Some(0) || t.test_size == Some(0) {
            return invalid("train_size and test_size must be at least 1 when given".into());
        }
        if (t.keep == Keep::Best || t.early_stopping.is_some()) && t.holdout == 0 {
            return invalid(
                "keep = \"best\" and early_stopping are decided on a validation split held out \
                 of the training images, never on the test set: add `holdout = 5000` to \
                 [training] (or pass --holdout 5000)"
                    .into(),
            );
        }
        if let Some(e) = &t.early_stopping
            && (e.patience == 0 || e.min_delta != 0.0)
        {
            return invalid(format!(
                "early_stopping: patience must be at least 1 (got {}) and min_delta 0.0 (got {}): \
                 Burn's MetricEarlyStoppingStrategy stops after `patience` epochs without a strict \
                 improvement and has no min_delta",
                e.patience, e.min_delta
            ));
        }
        self.optimizer.validate().map_err(Error::Invalid)?;
        if let Some(p) = &self.pretrain {
            p.validate(&self.model, t.pixels).map_err(Error::Invalid)?;
        }
        self.model
            .validate()
            .map_err(|e| Error::Invalid(e.to_string()))
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("an experiment always serialises")
    }
}

/// The reference accuracy beside a run on `dataset`: the lesson's (`lesson`) for MNIST, the
/// dataset's published one otherwise, none for custom data.
pub fn reference_for(dataset: &str, lesson: Option<&str>) -> Option<String> {
    match DatasetSpec::by_name(dataset) {
        Ok(spec) if spec.name == lab10_data::MNIST.name => lesson.map(String::from),
        Ok(spec) => spec.reference.map(String::from),
        Err(_) => None,
    }
}

/// The experiment files of one folder.
#[derive(Debug, Clone)]
pub struct ExperimentCatalog {
    pub dir: PathBuf,
}

impl ExperimentCatalog {
    /// `explicit` (`--experiments`), else `./experiments`, else `fallback` (built in).
    pub fn locate(explicit: Option<&Path>, fallback: &Path) -> Self {
        let local = Path::new("experiments");
        let dir = explicit.or(local.is_dir().then_some(local));
        Self {
            dir: dir.unwrap_or(fallback).to_path_buf(),
        }
    }

    /// Names of the experiments, sorted.
    pub fn names(&self) -> Vec<String> {
        toml_stems(&self.dir)
    }

    /// An experiment by name, or by path to a `.toml` file.
    pub fn get(&self, name: &str) -> Result<Experiment> {
        let as_path = Path::new(name);
        if as_path.extension().is_some_and(|x| x == "toml") && as_path.is_file() {
            return Experiment::load(as_path);
        }
        let path = self.dir.join(format!("{name}.toml"));
        if !path.is_file() {
            let names = self.names();
            return Err(Error::UnknownExperiment {
                name: name.to_string(),
                known: if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                },
                dir: self.dir.clone(),
            });
        }
        Experiment::load(&path)
    }

    /// Every experiment, in name order, each with its load result.
    pub fn all(&self) -> Vec<(String, Result<Experiment>)> {
        self.names()
            .into_iter()
            .map(|n| (n.clone(), self.get(&n)))
            .collect()
    }
}

/// The names (without `.toml`) of the TOML files in `dir`, sorted; none if it is unreadable.
pub fn toml_stems(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
description = "test"
[model]
hidden = [8]
weight_init = { kind = "xavier-normal" }
bias_init = { kind = "zeros" }
dropout = 0.3
[optimizer]
kind = "adam"
learning_rate = 0.001
[training]
epochs = 2
batch_size = 10
seed = 1
"#;

    fn parse(text: &str) -> Result<Experiment> {
        Experiment::parse(text, "probe", Path::new("experiments/probe.toml"))
    }

    fn err(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn a_complete_file_parses_with_defaults_filled_in() {
        let e = parse(GOOD).unwrap();
        assert_eq!(e.name, "probe");
        assert_eq!(e.model.inputs, 784);
        assert_eq!(e.model.classes, 10);
        assert_eq!(e.training.pixels, PixelScale::Unit);
        assert_eq!(e.dataset, "mnist");
        let fashion = parse(&format!("dataset = \"fashion-mnist\"\n{GOOD}")).unwrap();
        assert_eq!(fashion.dataset, "fashion-mnist");
        assert_eq!(
            e.optimizer,
            OptimizerConfig::Adam(crate::config::optimizer::Adam {
                learning_rate: 0.001,
                beta1: 0.9,
                beta2: 0.999,
                epsilon: 1e-8,
                l2: 0.0,
                schedule: Default::default(),
            })
        );
        // The resolved copy written into a run reads back the same.
        assert_eq!(parse(&e.to_toml()).unwrap(), e);
    }

    #[test]
    fn mistakes_are_refused_naming_the_file_and_the_value() {
        let cases = [
            (GOOD.replace("seed = 1", "seed = 1\nsede = 2"), "sede"),
            (GOOD.replace("epochs = 2", "epochs = \"two\""), "epochs"),
            (
                GOOD.replace("dropout = 0.3", "dropout = 1.0"),
                "dropout must be in [0, 1)",
            ),
            (GOOD.replace("dropout = 0.3", "dropout = -0.1"), "dropout"),
            (
                GOOD.replace("learning_rate = 0.001", "learning_rate = 0.0"),
                "learning_rate must be a positive",
            ),
            (
                GOOD.replace("epochs = 2", "epochs = 0"),
                "epochs must be at least 1",
            ),
            (
                GOOD.replace("batch_size = 10", "batch_size = 0"),
                "batch_size must be at least 1",
            ),
            (GOOD.replace("xavier-normal", "lecun"), "lecun"),
            (GOOD.replace("kind = \"adam\"", "kind = \"lbfgs\""), "lbfgs"),
            (GOOD.replace("hidden = [8]", "hidden = [8, 0]"), "width 0"),
            (
                GOOD.replace("{ kind = \"zeros\" }", "{ kind = \"normal\", std = -1.0 }"),
                "std must be a positive",
            ),
            (GOOD.replace("[training]", "[trainig]"), "trainig"),
            (
                format!("dataset = \"cifar10\"\n{GOOD}"),
                "unknown dataset 'cifar10'",
            ),
            (
                GOOD.replace("kind = \"adam\"", "kind = \"sgd\"\nmomentum = 1.5"),
                "momentum must be in [0, 1)",
            ),
            (
                GOOD.replace("kind = \"adam\"", "kind = \"adamw\"\nweight_decay = -1.0"),
                "weight_decay must be 0 or more",
            ),
            (
                GOOD.replace("kind = \"adam\"", "kind = \"sgd\"\nbeta1 = 0.9"),
                "beta1",
            ),
            (
                GOOD.replace("seed = 1", "seed = 1\n[pretrain]\nkind = \"rbm\"\nepochs = 0\nlearning_rate = 0.1"),
                "pretrain: epochs and batch_size must be at least 1",
            ),
            (
                GOOD.replace("seed = 1", "seed = 1\npixels = \"raw\"\n[pretrain]\nkind = \"rbm\"\nepochs = 1\nlearning_rate = 0.1"),
                "pixels must be \"unit\"",
            ),
            (
                GOOD.replace(
                    "learning_rate = 0.001",
                    "learning_rate = 0.001\nbeta2 = 1.0",
                ),
                "beta2 must be in [0, 1)",
            ),
            (
                GOOD.replace(
                    "learning_rate = 0.001",
                    "learning_rate = 0.001\nepsilon = 0.0",
                ),
                "epsilon must be a positive",
            ),
        ];
        for (text, expect) in cases {
            let e = err(&text);
            assert!(e.contains("experiments/probe.toml"), "{e}");
            assert!(e.contains(expect), "expected '{expect}' in: {e}");
        }
    }

    #[test]
    fn overrides_apply_and_are_validated() {
        let mut e = parse(GOOD).unwrap();
        e.apply(&Overrides {
            epochs: Some(5),
            learning_rate: Some(0.01),
            seed: Some(9),
            ..Default::default()
        })
        .unwrap();
        assert_eq!((e.training.epochs, e.training.seed), (5, 9));
        assert_eq!(e.optimizer.learning_rate(), 0.01);
        let bad = e.apply(&Overrides {
            batch_size: Some(0),
            ..Default::default()
        });
        assert!(bad.unwrap_err().to_string().contains("batch_size"));
    }

    #[test]
    fn the_shipped_experiments_all_parse() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
        let catalog = ExperimentCatalog { dir };
        let names = catalog.names();
        for expected in ["softmax", "nn", "xavier", "deep", "dropout"] {
            assert!(names.contains(&expected.to_string()), "{names:?}");
        }
        for (name, e) in catalog.all() {
            let e = e.unwrap_or_else(|err| panic!("{name}: {err}"));
            // What a run writes as its experiment.toml reads back the same (every optimiser
            // kind, gradient_norms, [pretrain]).
            let again = Experiment::parse(&e.to_toml(), &name, Path::new("resolved.toml"))
                .unwrap_or_else(|err| panic!("{name} resolved: {err}"));
            assert_eq!(again, e, "{name}");
            assert_eq!(e.training.epochs, 15, "{name}");
            assert_eq!(e.training.batch_size, 100, "{name}");
            assert_eq!(e.training.seed, 777, "{name}");
            // The lesson's budget for all; only the optimiser comparison changes Adam.
            if !name.starts_with("opt-") {
                assert!(
                    matches!(&e.optimizer, OptimizerConfig::Adam(adam) if adam.learning_rate == 0.001),
                    "{name}: {:?}",
                    e.optimizer
                );
            }
        }
        let err = catalog.get("resnet").unwrap_err().to_string();
        assert!(
            err.contains("unknown experiment 'resnet'") && err.contains("dropout"),
            "{err}"
        );
    }
}
