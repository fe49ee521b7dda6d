//! Experiment tracking: a run as TensorBoard (`tensorboard.rs`: its event file) and MLflow
//! (`mlflow/`: a tracking server over its REST API) show it. Both read what they show from
//! the run's folder and its records (lab10-runs), never from a tensor, so this crate compiles
//! while Burn does. What they show is named once, here: the run's settings ([`settings`]) and
//! its metrics ([`epoch_points`], [`pretrain_points`], [`final_points`]). A new tracker is one
//! file implementing lab10-runs' `RunSink`, registered in lab10-train's `run::sinks`.

pub mod mlflow;
mod tensorboard;

use lab10_runs::{EXPERIMENT_FILE, EpochRecord, PretrainRecord, Report, Result, RunDir};

pub use tensorboard::{Board, TENSORBOARD_DIR};

/// A finished run's pictures, as the trackers show them, and their files in the run folder
/// (drawn by lab10-report's `test_pictures`, written by lab10-train at the run's end).
pub const PICTURES: [(&str, &str); 2] = [
    ("images/confusion_matrix", CONFUSION_PNG),
    ("images/misclassified", MISCLASSIFIED_PNG),
];
pub const CONFUSION_PNG: &str = "confusion.png";
pub const MISCLASSIFIED_PNG: &str = "misclassified.png";

/// A run's settings: every key of its resolved `experiment.toml` by its dotted name
/// (`training.batch_size`, `model.hidden`), with its value.
#[derive(Debug, Clone)]
pub struct Settings(pub Vec<(String, toml::Value)>);

impl Settings {
    /// `run`'s settings, from its `experiment.toml` (checked against its manifest).
    pub fn of(run: &RunDir) -> Result<Self> {
        let text = run.experiment_toml()?;
        let value: toml::Value =
            toml::from_str(&text).map_err(|e| lab10_runs::Error::ExperimentFile {
                path: run.file(EXPERIMENT_FILE),
                message: e.to_string(),
            })?;
        let mut out = Vec::new();
        flatten("", &value, &mut out);
        Ok(Self(out))
    }

    pub fn get(&self, key: &str) -> Option<&toml::Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn text(&self, key: &str, default: &str) -> String {
        self.get(key).map_or(default.into(), compact)
    }

    pub fn name(&self) -> String {
        self.text("name", "")
    }

    pub fn dataset(&self) -> String {
        self.text("dataset", lab10_data::MNIST.name)
    }

    pub fn seed(&self) -> String {
        self.text("training.seed", "")
    }

    /// The split each epoch is evaluated on: `valid` with a holdout, else `test`.
    pub fn valid_label(&self) -> &'static str {
        let holdout = self
            .get("training.holdout")
            .and_then(toml::Value::as_integer);
        lab10_runs::valid_label(holdout.unwrap_or(0) as usize)
    }

    /// The settings as text, one line each: MLflow's params.
    pub fn texts(&self) -> Vec<(String, String)> {
        self.0
            .iter()
            .map(|(k, v)| (k.clone(), compact(v)))
            .collect()
    }
}

fn flatten(prefix: &str, value: &toml::Value, out: &mut Vec<(String, toml::Value)>) {
    match value {
        toml::Value::Table(table) => {
            for (k, v) in table {
                let key = match prefix {
                    "" => k.clone(),
                    p => format!("{p}.{k}"),
                };
                flatten(&key, v, out);
            }
        }
        other => out.push((prefix.into(), other.clone())),
    }
}

/// A setting's value on one line: `relu`, `0.001`, `[512, 512, 512, 512]`.
pub fn compact(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Array(items) => {
            let items: Vec<String> = items.iter().map(compact).collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_string(),
    }
}

/// One point of a metric: its name, step and value.
pub type Point = (String, i64, f64);

/// An epoch's metrics, step = its epoch: `train/loss`, `train/accuracy`, `<valid>/loss`,
/// `<valid>/accuracy` (`test`, or `valid` with a holdout), `train/learning_rate` (the epoch's
/// mean; a run recorded without it: the setting), `train/epoch_seconds` and
/// `gradient_norm/layer_K` where recorded.
pub fn epoch_points(r: &EpochRecord, settings: &Settings) -> Vec<Point> {
    let valid = settings.valid_label();
    let setting = settings.get("optimizer.learning_rate");
    let lr = match r.learning_rate {
        lr if lr.is_nan() => setting.and_then(toml::Value::as_float).unwrap_or(f64::NAN),
        lr => lr,
    };
    let step = r.epoch as i64;
    let mut points = vec![
        ("train/loss".to_string(), step, r.train_loss),
        ("train/accuracy".into(), step, r.train_accuracy),
        (format!("{valid}/loss"), step, r.valid_loss),
        (format!("{valid}/accuracy"), step, r.valid_accuracy),
        ("train/learning_rate".into(), step, lr),
        ("train/epoch_seconds".into(), step, r.epoch_seconds),
    ];
    for (k, norm) in r.gradient_norms.iter().enumerate() {
        points.push((format!("gradient_norm/layer_{}", k + 1), step, *norm));
    }
    points
}

/// An RBM pre-training epoch: `pretrain/layer_K/reconstruction_error`, step = its epoch.
pub fn pretrain_points(p: &PretrainRecord) -> Vec<Point> {
    let tag = format!("pretrain/layer_{}/reconstruction_error", p.layer);
    vec![(tag, p.epoch as i64, p.reconstruction_error)]
}

/// The tested model's `final/test_loss` and `final/test_accuracy` at the last epoch (none for
/// a run without a tested model), and `final/kept_epoch` for a run that kept its best epoch.
pub fn final_points(report: &Report) -> Vec<Point> {
    let step = report.epoch_seconds.len() as i64;
    let mut points = Vec::new();
    if report.test_accuracy.is_finite() {
        points.push(("final/test_loss".into(), step, report.test_loss));
        points.push(("final/test_accuracy".into(), step, report.test_accuracy));
    }
    if let Some(kept) = report.kept_epoch {
        points.push(("final/kept_epoch".into(), step, kept as f64));
    }
    points
}
