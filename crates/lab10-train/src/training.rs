//! One training run, start to finish: data, model, burn-train's learner, artifacts, report.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use burn::data::dataloader::DataLoaderBuilder;
use burn::prelude::*;
use burn::train::metric::{AccuracyMetric, LossMetric};
use burn::train::{Learner, SupervisedTraining};
use lab10_data::{DataRecord, DataRequest, DatasetSpec, Mnist, MnistBatcher, MnistDataset, Wanted};

use crate::backend::BackendKind;
use crate::checkpoint::AtomicFileCheckpointer;
use crate::error::{Error, Result};
use crate::evaluate::{EVAL_BATCH, evaluate};
use crate::experiment::{Experiment, TrainingConfig};
use crate::gradient_norms::GradientNormMetric;
use crate::metrics::{self, EpochRecord};
use crate::pretrain::pretrain;
use crate::renderer::{Divergence, EpochRenderer, Position};
use crate::report::{Interruption, Report, RunStatus};
use crate::run_dir::{
    CHECKPOINT_DIR, EXPERIMENT_FILE, MODEL_FILE, REPORT_FILE, RunDir, dataset_root,
};
use crate::stop::{Stop, StopReason};

/// What the command line says about data.
#[derive(Debug, Clone)]
pub struct DataOptions {
    /// `--dataset`: overrides the experiment's (or, for eval, the run's) dataset.
    pub dataset: Option<&'static DatasetSpec>,
    /// `--data-dir`; `None` follows the lookup order of [`lab10_data::locate`].
    pub dir: Option<PathBuf>,
    /// Refuse files that match no known dataset (off with `--no-verify`).
    pub verify: bool,
}

impl Default for DataOptions {
    fn default() -> Self {
        Self {
            dataset: None,
            dir: None,
            verify: true,
        }
    }
}

impl DataOptions {
    /// The dataset a new run of `experiment` trains on: `--dataset`, else the experiment's.
    pub fn dataset_for(&self, experiment: &Experiment) -> Result<&'static DatasetSpec> {
        match self.dataset {
            Some(spec) => Ok(spec),
            None => Ok(DatasetSpec::by_name(&experiment.dataset)?),
        }
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
            dir: self.dir.clone(),
            verify: self.verify,
        })
    }
}

#[derive(Clone)]
pub struct TrainOptions {
    pub backend: BackendKind,
    pub data: DataOptions,
    /// The artifacts root (`artifacts/` by default).
    pub artifacts: PathBuf,
    /// Continue this run from its last complete checkpoint instead of starting a new one.
    pub resume: Option<RunDir>,
    /// The command line, recorded in the report.
    pub command: String,
    /// Asked to stop (Ctrl-C): training ends after the current step, resumable.
    pub stop: Stop,
    /// The commit the program was built from, recorded in the report.
    pub build_commit: Option<String>,
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
    Ok((
        data.record,
        MnistDataset::new(limit(data.test, config.test_size)),
    ))
}

pub fn load_splits(request: &DataRequest, config: &TrainingConfig) -> Result<Splits> {
    let data = request.load(true)?;
    let test = MnistDataset::new(limit(data.test, config.test_size));
    let train = limit(
        data.train.expect("asked for the training split"),
        config.train_size,
    );
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

pub struct TrainOutcome {
    pub run: RunDir,
    pub report: Report,
}

/// Trains `experiment` (or resumes `opts.resume`) and writes every artifact of the run.
pub fn train(experiment: &Experiment, opts: &TrainOptions) -> Result<TrainOutcome> {
    let started = Instant::now();
    let started_at = crate::report::utc_now();
    let t = &experiment.training;
    if let Some(reason) = opts.stop.requested() {
        return Err(Error::Stopped {
            reason,
            message: format!(
                "stopped by {} before {} started",
                reason.signal_name(),
                experiment.name
            ),
        });
    }
    // A resumed run is claimed first: a second writer is refused before any work.
    let resume_lock = opts.resume.as_ref().map(RunDir::lock).transpose()?;
    let compute = opts.backend.open()?;
    let device = compute.device.clone();

    if let (Some(_), Some(record), Some(spec)) = (&opts.resume, &experiment.data, opts.data.dataset)
        && record.name != spec.name
    {
        return Err(Error::Invalid(format!(
            "--resume continues a run on its own dataset ({}); drop --dataset {}",
            record.name, spec.name
        )));
    }
    let splits = load_splits(&opts.data.request_for(experiment)?, t)?;
    println!(
        "data: {} - {} ({}) - {} train, {} {} images",
        splits.record.name,
        splits.record.dir.display(),
        splits.record.source,
        splits.train.mnist().len(),
        splits.valid.mnist().len(),
        splits.valid_label,
    );
    // The run's resolved copy names the data it was trained on.
    let mut experiment = experiment.clone();
    experiment.dataset = splits.record.name.clone();
    experiment.data = Some(splits.record.clone());
    let experiment = &experiment;

    let (run, resume_from, _lock) = match &opts.resume {
        Some(run) => {
            let lock = resume_lock.expect("locked above");
            let epoch = run.last_checkpoint().ok_or_else(|| Error::Checkpoint {
                path: run.checkpoint_dir(),
                message: "no complete checkpoint to resume from (the run stopped before its \
                          first epoch ended); start a new run instead"
                    .into(),
            })?;
            // A set that a failed save left incomplete is not a checkpoint: clear it away.
            for file in run.incomplete_checkpoint_files() {
                println!(
                    "removing {} (its epoch's checkpoint is incomplete)",
                    file.display()
                );
                std::fs::remove_file(&file).map_err(|e| Error::write(&file, e))?;
            }
            run.write(EXPERIMENT_FILE, experiment.to_toml().as_bytes())?;
            (run.clone(), Some(epoch), lock)
        }
        None => {
            let run = RunDir::create(
                &dataset_root(&opts.artifacts, &experiment.dataset),
                &experiment.name,
                opts.backend.name(),
                t.seed,
            )?;
            let lock = run.lock()?;
            run.write(EXPERIMENT_FILE, experiment.to_toml().as_bytes())?;
            run.mark_latest()?;
            (run, None, lock)
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
        .batch_size(EVAL_BATCH)
        .build(splits.valid.clone());

    let checkpoints = run.path.join(CHECKPOINT_DIR);
    let mut training = SupervisedTraining::new(&run.path, train_loader, valid_loader)
        .metrics((AccuracyMetric::new(), LossMetric::new()))
        .num_epochs(t.epochs)
        .with_custom_checkpointers(
            AtomicFileCheckpointer::new(checkpoints.clone(), "model"),
            AtomicFileCheckpointer::new(checkpoints.clone(), "optim"),
            AtomicFileCheckpointer::new(checkpoints, "scheduler"),
        )
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
    let position = Arc::new(Mutex::new(Position::default()));
    let renderer = EpochRenderer::new(
        training.interrupter(),
        resume_from,
        splits.valid_label,
        sink,
        Arc::clone(&divergence),
        Arc::clone(&position),
    );
    let _watch = opts.stop.watch(training.interrupter());
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
    drop(_watch);

    let resume_command = format!(
        "lab10 train {} --resume {}",
        experiment.name,
        run.path.display()
    );
    if let Some(error) = error {
        let resumable = match run.last_checkpoint() {
            Some(n) => format!(
                "The last complete checkpoint is epoch {n}: continue with `{resume_command}`"
            ),
            None => "No epoch was checkpointed; start a new run.".into(),
        };
        return Err(Error::Training(format!("{error}. {resumable}")));
    }
    let diverged = divergence.lock().expect("divergence lock").take();
    // burn-train's TUI resets its interrupter at the end, so `interrupted` may be lost there;
    // the stop request is ours to keep.
    let _ = interrupted;
    // Stopped on request: a signal, or the TUI's own stop (its 'q' menu), which shows only as
    // epochs missing.
    let finished = history
        .lock()
        .expect("history lock")
        .last()
        .map(|r| r.epoch);
    let stopped = opts
        .stop
        .requested()
        .or_else(|| (finished < Some(t.epochs)).then_some(StopReason::Menu))
        .filter(|_| diverged.is_none());
    let interruption = stopped.map(|reason| {
        let at = *position.lock().expect("position lock");
        Interruption {
            signal: reason.signal_name().into(),
            epoch: at.epoch,
            step: at.items.div_ceil(t.batch_size),
            last_checkpoint: run.last_checkpoint(),
            resume_command: resume_command.clone(),
        }
    });

    // The model the report describes: the trained one, or after a divergence the last good
    // checkpoint (none if the very first epoch diverged); none for a run stopped mid-way.
    let model_path = match &diverged {
        None if stopped.is_some() => None,
        None => {
            let path = run.file(MODEL_FILE);
            save_model_atomically(&trained, &run, &path)?;
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
        None if stopped.is_some() => RunStatus::Interrupted,
        None => RunStatus::Completed,
        Some(why) => RunStatus::Diverged(format!(
            "{why}; training stopped there. Test metrics are those of {}. \
             Lower the learning rate (--lr) and train again.",
            model_path
                .as_ref()
                .map_or("no model (no epoch finished)".into(), |p| format!(
                    "the last good checkpoint, {}",
                    p.display()
                ))
        )),
    };
    let report = Report {
        experiment: experiment.name.clone(),
        run_id: run.id(),
        status: status.clone(),
        interruption: interruption.clone(),
        source: None,
        dataset: splits.record.name.clone(),
        data: Some(splits.record.clone()),
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
        first_step_seconds: position
            .lock()
            .expect("position lock")
            .first_step_at
            .map(|at| at.duration_since(started).as_secs_f64()),
        eval_seconds,
        started_at,
        finished_at: crate::report::utc_now(),
        resumed_from_epoch: resume_from,
        git_commit: opts.build_commit.clone(),
        lab10_version: env!("CARGO_PKG_VERSION").into(),
        command: opts.command.clone(),
    };
    let json = serde_json::to_vec_pretty(&report).expect("report serialises");
    run.write(REPORT_FILE, &json)?;
    if let (Some(reason), Some(at)) = (stopped, &interruption) {
        let resume = match at.last_checkpoint {
            Some(n) => format!(
                "epochs 1-{n} are checkpointed; continue with `{}`",
                at.resume_command
            ),
            None => "no epoch was finished, so there is nothing to resume: train anew".into(),
        };
        return Err(Error::Stopped {
            reason,
            message: format!(
                "stopped by {} in epoch {} at step {}: {resume} (run: {})",
                reason.signal_name(),
                at.epoch,
                at.step,
                run.path.display()
            ),
        });
    }
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

/// Saves `model` as `path` (burnpack) so that a reader sees the whole model or none.
pub fn save_model_atomically(
    model: &lab10_models::Mlp,
    run: &RunDir,
    path: &std::path::Path,
) -> Result<()> {
    let tmp = run.file(&format!(".model-tmp-{}.bpk", std::process::id()));
    model
        .clone()
        .save_file(&tmp)
        .map_err(|e| Error::write(path, std::io::Error::other(e.to_string())))
        .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| Error::write(path, e)))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
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
            message: describe_load_error(&e, experiment),
        })
}

/// Burn's load error, said for a user: an unreadable file, or one whose tensors do not fit the
/// experiment's model. (The variant decides; only the tensor list inside is Burn's text.)
fn describe_load_error(e: &burn::store::RecordError, experiment: &Experiment) -> String {
    use burn::store::RecordError;
    let (RecordError::Io(raw) | RecordError::Validation(raw)) = e;
    let detail = raw
        .replace("Apply errors: ", "")
        .replace("Shape { dims: ", "")
        .replace("] }", "]")
        .replace("[\"", "")
        .replace("\"]", "");
    if let RecordError::Io(_) = e {
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
