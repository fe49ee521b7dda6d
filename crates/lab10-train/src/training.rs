//! One training run, start to finish: data, model, burn-train's learner, artifacts, report.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use burn::data::dataloader::DataLoaderBuilder;
use burn::prelude::*;
use burn::train::metric::{AccuracyMetric, LossMetric};
use burn::train::{Learner, SupervisedTraining};
use lab10_data::{DataLocation, Mnist, MnistBatcher, MnistDataset, Split, Verification, locate};

use crate::backend::BackendKind;
use crate::error::{Error, Result};
use crate::evaluate::evaluate;
use crate::experiment::{Experiment, TrainingConfig};
use crate::gradient_norms::GradientNormMetric;
use crate::metrics::{self, EpochRecord};
use crate::pretrain::pretrain;
use crate::renderer::{Divergence, EpochRenderer};
use crate::report::{Report, git_commit};
use crate::run_dir::{EXPERIMENT_FILE, MODEL_FILE, REPORT_FILE, RunDir};

/// Validation needs no gradients: bigger batches, fewer steps. Metrics are weighted by batch
/// size, so the batch size does not change the numbers.
const VALID_BATCH: usize = 1000;

#[derive(Debug, Clone)]
pub struct DataOptions {
    /// `--data-dir`; `None` follows the lookup order of [`lab10_data::locate`].
    pub dir: Option<PathBuf>,
    pub verification: Verification,
}

#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub backend: BackendKind,
    pub data: DataOptions,
    /// The artifacts root (`artifacts/` by default).
    pub artifacts: PathBuf,
    /// Continue this run from its last complete checkpoint instead of starting a new one.
    pub resume: Option<RunDir>,
    /// The command line, recorded in the report.
    pub command: String,
}

/// The splits an experiment trains, validates and tests on.
pub struct Splits {
    pub location: DataLocation,
    pub train: MnistDataset,
    pub valid: MnistDataset,
    pub test: MnistDataset,
    /// "test" when validating on the test set (the lesson's way), else "valid".
    pub valid_label: &'static str,
}

/// Loads the test split alone (evaluation and prediction need nothing else).
pub fn load_test(
    data: &DataOptions,
    config: &TrainingConfig,
) -> Result<(DataLocation, MnistDataset)> {
    let location = locate(data.dir.as_deref())?;
    let test = Mnist::load(&location.dir, Split::Test, data.verification.enabled())?;
    let test = limit(test, config.test_size);
    Ok((location, MnistDataset::new(test)))
}

pub fn load_splits(data: &DataOptions, config: &TrainingConfig) -> Result<Splits> {
    let (location, test) = load_test(data, config)?;
    let train = Mnist::load(&location.dir, Split::Train, data.verification.enabled())?;
    let train = limit(train, config.train_size);
    let (train, valid, valid_label) = match config.holdout {
        0 => (MnistDataset::new(train), test.clone(), "test"),
        h if h < train.len() => {
            // Keras' validation_split convention: the last images are held out.
            let cut = train.len() - h;
            (
                MnistDataset::new(train.slice(0..cut)),
                MnistDataset::new(train.slice(cut..train.len())),
                "valid",
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
        location,
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

pub struct TrainOutcome {
    pub run: RunDir,
    pub report: Report,
}

/// Trains `experiment` (or resumes `opts.resume`) and writes every artifact of the run.
pub fn train(experiment: &Experiment, opts: &TrainOptions) -> Result<TrainOutcome> {
    let started = Instant::now();
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let t = &experiment.training;
    let compute = opts.backend.open()?;
    let device = compute.device.clone();

    let splits = load_splits(&opts.data, t)?;
    println!(
        "data: {} ({}) - {} train, {} {} images",
        splits.location.dir.display(),
        splits.location.source,
        splits.train.mnist().len(),
        splits.valid.mnist().len(),
        splits.valid_label,
    );

    let (run, resume_from) = match &opts.resume {
        Some(run) => {
            let epoch = run.last_checkpoint().ok_or_else(|| Error::Checkpoint {
                path: run.checkpoint_dir(),
                message: "no complete checkpoint to resume from (the run stopped before its \
                          first epoch ended); start a new run instead"
                    .into(),
            })?;
            (run.clone(), Some(epoch))
        }
        None => {
            let run = RunDir::create(
                &opts.artifacts,
                &experiment.name,
                opts.backend.name(),
                t.seed,
            )?;
            run.write(EXPERIMENT_FILE, experiment.to_toml().as_bytes())?;
            run.mark_latest()?;
            (run, None)
        }
    };
    if let Some(epoch) = resume_from
        && epoch >= t.epochs
    {
        return Err(Error::Invalid(format!(
            "{} already finished epoch {epoch} of {}; pass --epochs N with N > {epoch} to train further",
            run.path.display(),
            t.epochs
        )));
    }
    println!(
        "run: {}\nbackend: {} - {}\nmodel: {} params; optimizer {}; batch {}; seed {}",
        run.path.display(),
        opts.backend,
        compute.description,
        experiment.model.num_params(),
        experiment.optimizer.label(),
        t.batch_size,
        t.seed,
    );
    match resume_from {
        Some(e) => println!("resuming after epoch {e} of {}", t.epochs),
        None => println!("training {} epochs", t.epochs),
    }

    // Epochs after the last checkpoint are redone, so their records are dropped.
    let mut history = metrics::read(&run.path)?;
    history.retain(|r| Some(r.epoch) <= resume_from);
    let history = Arc::new(Mutex::new(history));
    let sink = {
        let history = Arc::clone(&history);
        let dir = run.path.clone();
        Box::new(move |record: EpochRecord| {
            let mut h = history.lock().expect("history lock");
            h.retain(|r| r.epoch != record.epoch);
            h.push(record);
            if let Err(e) = metrics::write(&dir, &h) {
                eprintln!("warning: {e}");
            }
        })
    };

    device.seed(t.seed);
    let autodiff = device.clone().autodiff();
    let mut model = experiment.model.init(&autodiff);
    // The step measures the norms only when the metrics below will read them.
    model.record_gradient_norms = t.gradient_norms;
    // A resumed run's weights come from its checkpoint, pre-trained or not.
    if let (Some(p), None) = (&experiment.pretrain, resume_from) {
        println!("pre-training: {}", p.label());
        let rbms = pretrain(
            p,
            &experiment.model,
            &splits.train,
            t.seed,
            &device,
            &run.path,
        )?;
        model = model.with_pretrained(&rbms);
    }
    let batcher = MnistBatcher::new(t.pixels);
    let train_loader = DataLoaderBuilder::new(batcher)
        .batch_size(t.batch_size)
        .shuffle(t.seed)
        .build(splits.train.clone());
    let valid_loader = DataLoaderBuilder::new(batcher)
        .batch_size(VALID_BATCH)
        .build(splits.valid.clone());

    let mut training = SupervisedTraining::new(&run.path, train_loader, valid_loader)
        .metrics((AccuracyMetric::new(), LossMetric::new()))
        .num_epochs(t.epochs)
        .with_default_checkpointers()
        .with_application_logger(None);
    if t.gradient_norms {
        for layer in 0..experiment.model.hidden.len() + 1 {
            training = training.metric_train_numeric(GradientNormMetric::new(layer));
        }
    }
    if let Some(epoch) = resume_from {
        training = training.checkpoint(epoch);
    }
    let divergence = Divergence::default();
    let renderer = EpochRenderer::new(
        training.interrupter(),
        resume_from,
        splits.valid_label,
        sink,
        Arc::clone(&divergence),
    );
    // Everything before the first training step: data, verification, model, pre-training.
    let setup_seconds = started.elapsed().as_secs_f64();
    let result = training.renderer(Box::new(renderer)).launch(Learner::new(
        model,
        experiment.optimizer.init(),
        experiment.optimizer.learning_rate(),
    ));
    // The TUI holds the terminal until its renderer is dropped: release it before printing.
    let burn::train::LearningResult {
        model: trained,
        renderer,
        interrupted,
        error,
    } = result;
    drop(renderer);

    if let Some(error) = error {
        return Err(Error::Training(format!(
            "{error}. Checkpoints of finished epochs are in {}",
            run.checkpoint_dir().display()
        )));
    }
    let diverged = divergence.lock().expect("divergence lock").take();
    if interrupted.is_some() && diverged.is_none() {
        return Err(Error::Training(format!(
            "interrupted before the last epoch; continue with `lab10 train {} --resume {}`",
            experiment.name,
            run.path.display()
        )));
    }

    // The model the report describes: the trained one, or after a divergence the last good
    // checkpoint (none if the very first epoch diverged).
    let model_path = match &diverged {
        None => {
            let path = run.file(MODEL_FILE);
            trained
                .save_file(&path)
                .map_err(|e| Error::write(&path, std::io::Error::other(e.to_string())))?;
            Some(path)
        }
        Some(_) => run
            .last_checkpoint()
            .map(|n| run.checkpoint_dir().join(format!("model-{n}.bpk"))),
    };

    // Test numbers come from the saved file, exactly as `lab10 eval` will compute them.
    let eval_start = Instant::now();
    let test = match &model_path {
        Some(path) => Some(evaluate(
            &load_model(path, experiment, &device)?,
            &splits.test,
            t.pixels,
            &device,
        )),
        None => None,
    };
    let eval_seconds = eval_start.elapsed().as_secs_f64();

    let history = history.lock().expect("history lock").clone();
    let last = history.last();
    let epoch_seconds: Vec<f64> = history.iter().map(|r| r.epoch_seconds).collect();
    let status = match &diverged {
        None => "completed".to_string(),
        Some(why) => format!(
            "diverged: {why}; training stopped there. Test metrics are those of {}. \
             Lower the learning rate (--lr) and train again.",
            model_path
                .as_ref()
                .map_or("no model (no epoch finished)".into(), |p| format!(
                    "the last good checkpoint, {}",
                    p.display()
                ))
        ),
    };
    let report = Report {
        experiment: experiment.name.clone(),
        run_id: run.id(),
        status: status.clone(),
        description: experiment.description.clone(),
        reference: experiment.reference.clone(),
        backend: opts.backend.name().into(),
        device: compute.description.clone(),
        seed: t.seed,
        params: experiment.model.num_params(),
        epochs: history.len(),
        batch_size: t.batch_size,
        optimizer: experiment.optimizer.label(),
        train_images: splits.train.mnist().len(),
        validation: format!(
            "{} ({} images)",
            splits.valid_label,
            splits.valid.mnist().len()
        ),
        test_images: splits.test.mnist().len(),
        test_loss: test.as_ref().map_or(f64::NAN, |e| e.loss),
        test_accuracy: test.as_ref().map_or(f64::NAN, |e| e.accuracy),
        per_class_accuracy: test.map(|e| e.per_class).unwrap_or_default(),
        final_train_loss: last.map_or(f64::NAN, |r| r.train_loss),
        final_train_accuracy: last.map_or(f64::NAN, |r| r.train_accuracy),
        mean_epoch_seconds: epoch_seconds.iter().sum::<f64>() / epoch_seconds.len().max(1) as f64,
        epoch_seconds,
        total_seconds: started.elapsed().as_secs_f64(),
        setup_seconds,
        eval_seconds,
        started_at,
        finished_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        resumed_from_epoch: resume_from,
        git_commit: git_commit(),
        lab10_version: env!("CARGO_PKG_VERSION").into(),
        command: opts.command.clone(),
    };
    let json = serde_json::to_vec_pretty(&report).expect("report serialises");
    run.write(REPORT_FILE, &json)?;
    if diverged.is_some() {
        return Err(Error::Training(format!(
            "{status} (report: {})",
            run.file(REPORT_FILE).display()
        )));
    }
    println!(
        "test: loss {:.4}, accuracy {:.2}% on {} images (evaluated in {:.2} s)\nsaved: {}",
        report.test_loss,
        report.test_accuracy,
        report.test_images,
        eval_seconds,
        run.path.display()
    );
    Ok(TrainOutcome { run, report })
}

/// Builds `experiment`'s model on `device` and loads weights from `path`. A file of another
/// architecture is refused with the shapes of both.
pub fn load_model(
    path: &std::path::Path,
    experiment: &Experiment,
    device: &Device,
) -> Result<lab10_models::Mlp> {
    if !path.is_file() {
        return Err(Error::Checkpoint {
            path: path.to_path_buf(),
            message: "no such model file".into(),
        });
    }
    experiment
        .model
        .init(device)
        .try_load_file(path)
        .map_err(|e| Error::Checkpoint {
            path: path.to_path_buf(),
            message: describe_load_error(&e.to_string(), experiment),
        })
}

fn describe_load_error(raw: &str, experiment: &Experiment) -> String {
    let detail = raw
        .replace("Record validation error: ", "")
        .replace("Record I/O error: ", "")
        .replace("Apply errors: ", "")
        .replace("Shape { dims: ", "")
        .replace("] }", "]")
        .replace("[\"", "")
        .replace("\"]", "");
    if !raw.contains("validation") {
        return format!("not a readable Burn model file (burnpack .bpk): {detail}");
    }
    // Burn lists every mismatching tensor; the first few say enough.
    let problems: Vec<&str> = detail.split("\", \"").collect();
    let mut shown = problems[..problems.len().min(3)].join("; ");
    if problems.len() > 3 {
        shown.push_str(&format!("; and {} more", problems.len() - 3));
    }
    let widths: Vec<String> = experiment
        .model
        .widths()
        .iter()
        .map(|w| w.to_string())
        .collect();
    format!(
        "does not fit experiment '{}' ({}): {shown}. \
         Evaluate it with the experiment it was trained with (--experiment NAME).",
        experiment.name,
        widths.join("-"),
    )
}
