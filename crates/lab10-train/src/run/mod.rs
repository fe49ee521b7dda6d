//! One training run, start to finish, on burn-train's learner: [`train`] reads as the steps of
//! a run, each a function below it.

mod divergence;
mod epochs;
pub(crate) mod gradient_norms;
mod loader;
mod pretrain;
mod progress;
mod renderer;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use burn::data::dataloader::DataLoaderBuilder;
use burn::prelude::*;
use burn::train::logger::FileMetricLogger;
use burn::train::metric::{AccuracyMetric, LossMetric};
use burn::train::{Learner, SupervisedTraining};
use lab10_experiment::{
    AtomicFileCheckpointer, Clock, Compute, ComputeDevice, DataOptions, EVAL_BATCH, Evaluation,
    Experiment, Provenance, RunEnd, Splits, Stop, Trained, load_splits, save_model_atomically,
};
use lab10_models::Mlp;
use lab10_models::MnistBatcher;
use lab10_runs::{
    EXPERIMENT_FILE, EpochRecord, Error, Interruption, MODEL_FILE, MetricsFiles, REPORT_FILE,
    Report, Result, RunDir, RunLock, RunSink, RunStatus, StopReason, dataset_root, metrics,
    read_checked,
};
use lab10_track::mlflow::{LiveRun, MLFLOW_FILE, Mlflow, RunFacts};
use lab10_track::{Board, CONFUSION_PNG, MISCLASSIFIED_PNG, PICTURES};

use divergence::Divergence;
use epochs::{EpochClock, EpochLogger, EpochTimes, History, Position, ProgressSink};
use gradient_norms::GradientNormMetric;
use loader::Resumable;
use pretrain::pretrain;
pub use progress::{Event, Progress, Reused};
use renderer::Quiet;

#[derive(Clone)]
pub struct TrainOptions {
    /// Where the tensors live: a local backend, or a worker's device (`--remote`).
    pub compute: Compute,
    pub data: DataOptions,
    /// The artifacts root (`artifacts/` by default).
    pub artifacts: PathBuf,
    /// Continue this run from its last complete checkpoint instead of starting a new one.
    pub resume: Option<RunDir>,
    /// The command line and the commit the program was built from, recorded in the report.
    pub provenance: Provenance,
    /// Asked to stop (Ctrl-C): training ends after the current step, resumable.
    pub stop: Stop,
    /// Where the run's events go (the CLI prints them).
    pub progress: Arc<dyn Progress>,
    /// The MLflow tracking server the run is logged to (`--mlflow`), if any.
    pub mlflow: Option<Mlflow>,
}

pub struct TrainOutcome {
    pub run: RunDir,
    pub report: Report,
}

/// Trains `experiment` (or resumes `opts.resume`) and writes every artifact of the run.
pub fn train(experiment: &Experiment, opts: &TrainOptions) -> Result<TrainOutcome> {
    let clock = Clock::start();
    refuse_if_stopped(&opts.stop, &experiment.name)?;
    // A resumed run is claimed first: a second writer is refused before any work.
    let resume_lock = opts.resume.as_ref().map(RunDir::lock).transpose()?;
    // An unreachable tracking server is refused before any work; a member of a study (nested
    // under the study's run) trains on without it, with a warning.
    let nested = opts.mlflow.as_ref().is_some_and(|m| m.parent.is_some());
    if let Some(mlflow) = opts.mlflow.as_ref().filter(|_| !nested) {
        mlflow
            .check()
            .map_err(|e| Error::Tracking(format!("{e}; nothing was trained")))?;
    }
    let compute = opts.compute.open()?;
    let (experiment, splits) = load_data(experiment, opts)?;
    let opened = open_run(&experiment, opts, resume_lock)?;
    announce(&experiment, opts, &compute, &opened);
    let resumed = match opened.resumed_after {
        Some(epoch) => metrics::read_at_checkpoint(&opened.run, epoch)?,
        None => Vec::new(),
    };
    let mlflow = open_mlflow(opts, &opened.run, &resumed, nested)?;
    let sinks = sinks(&experiment, opts, &splits, mlflow);
    let history = History::new(
        opened.run.clone(),
        resumed,
        sinks,
        Arc::clone(&opts.progress),
    );
    let trained = train_opened(
        &experiment,
        opts,
        &splits,
        (&opened, &compute),
        &history,
        &clock,
    );
    if let Err(e) = &trained {
        history.failed(e);
    }
    trained
}

/// The sinks of the run's records, in the order each epoch reaches them: the progress events,
/// the metrics files, TensorBoard, and MLflow with `--mlflow`. A new tracker is registered
/// here, and only here.
fn sinks(
    experiment: &Experiment,
    opts: &TrainOptions,
    splits: &Splits,
    mlflow: Option<LiveRun>,
) -> Vec<Box<dyn RunSink>> {
    let progress = ProgressSink {
        progress: Arc::clone(&opts.progress),
        total_epochs: experiment.training.epochs,
        valid_label: splits.valid_label,
    };
    let board = Board {
        backend: opts.compute.name().into(),
    };
    let mut sinks: Vec<Box<dyn RunSink>> =
        vec![Box::new(progress), Box::new(MetricsFiles), Box::new(board)];
    sinks.extend(mlflow.map(|m| Box::new(m) as Box<dyn RunSink>));
    sinks
}

/// The run's MLflow run with `--mlflow` (a resumed run's `records` sent where the server lacks
/// them). A member of a study (nested under the study's run) trains on without it, with a
/// warning; any other run is refused.
fn open_mlflow(
    opts: &TrainOptions,
    run: &RunDir,
    records: &[EpochRecord],
    nested: bool,
) -> Result<Option<LiveRun>> {
    let Some(mlflow) = &opts.mlflow else {
        return Ok(None);
    };
    let facts = RunFacts {
        backend: opts.compute.name().into(),
        commit: opts.provenance.build_commit.clone(),
    };
    match LiveRun::open(mlflow, run, &facts, records) {
        Ok(live) => Ok(Some(live)),
        Err(e) if nested => {
            let message = LiveRun::goes_on_without(&e, run, &mlflow.uri).to_string();
            opts.progress.event(Event::Warning { message });
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// The run once its folder is open: trained, its model saved and tested, its pictures drawn,
/// its report written and handed to the sinks.
fn train_opened(
    experiment: &Experiment,
    opts: &TrainOptions,
    splits: &Splits,
    (opened, compute): (&OpenedRun, &ComputeDevice),
    history: &History,
    clock: &Clock,
) -> Result<TrainOutcome> {
    let model = initial_model(experiment, splits, &compute.device, opened, opts)?;
    let fitted = fit(
        experiment,
        opts,
        splits,
        (opened, &compute.device),
        model,
        history.clone(),
        clock,
    )?;
    let ending = Ending::of(experiment, opts, opened, &fitted, history);
    let model_path = final_model(&fitted, &ending, &opened.run)?;
    let end = RunEnd {
        run: &opened.run,
        experiment,
        record: &splits.record,
        test: &splits.test,
        backend: &opts.compute,
        compute,
        provenance: &opts.provenance,
        clock,
    };
    let trained = training_facts(
        &ending,
        model_path.as_deref(),
        splits,
        opened,
        &fitted,
        history,
        clock,
    );
    // Test numbers come from the saved file, exactly as `lab10 eval` will compute them.
    let (report, evaluation) = end.report_trained(model_path.as_deref(), &trained)?;
    if let Some(evaluation) = &evaluation {
        draw_pictures(experiment, splits, evaluation, &opened.run)?;
    }
    opened.run.write_report(&report)?;
    history.end(&report);
    ending.check(&opened.run, &report)?;
    opts.progress.event(Event::Tested {
        test_loss: report.test_loss,
        test_accuracy: report.test_accuracy,
        test_images: report.test_images,
        eval_seconds: report.eval_seconds,
        run: opened.run.path.clone(),
    });
    Ok(TrainOutcome {
        run: opened.run.clone(),
        report,
    })
}

/// The tested model's pictures (its confusion matrix, its most confident mistakes), drawn as
/// `lab10 report` draws them, written to the run folder for TensorBoard and MLflow.
fn draw_pictures(
    experiment: &Experiment,
    splits: &Splits,
    evaluation: &Evaluation,
    run: &RunDir,
) -> Result<()> {
    let classes = lab10_data::class_names(&splits.record.name);
    let [confusion, misclassified] =
        lab10_report::test_pictures(&experiment.name, evaluation, &splits.test, classes)
            .map_err(|e| Error::Training(format!("cannot draw the run's pictures: {e}")))?;
    run.write_all(&[
        (CONFUSION_PNG, &confusion.png),
        (MISCLASSIFIED_PNG, &misclassified.png),
    ])
}

/// A stop asked for before the run began (between a group's members, say) starts nothing.
fn refuse_if_stopped(stop: &Stop, name: &str) -> Result<()> {
    match stop.requested() {
        Some(reason) => Err(Error::Stopped {
            reason,
            message: format!("stopped by {} before {name} started", reason.signal_name()),
        }),
        None => Ok(()),
    }
}

/// Loads and verifies the data; the run's resolved copy of the experiment names it.
fn load_data(experiment: &Experiment, opts: &TrainOptions) -> Result<(Experiment, Splits)> {
    if let (Some(_), Some(record), Some(spec)) = (&opts.resume, &experiment.data, opts.data.dataset)
        && record.name != spec.name
    {
        return Err(Error::Invalid(format!(
            "--resume continues a run on its own dataset ({}); drop --dataset {}",
            record.name, spec.name
        )));
    }
    let splits = load_splits(&opts.data.request_for(experiment)?, &experiment.training)?;
    opts.progress.event(Event::Data {
        record: splits.record.clone(),
        train_images: splits.train.mnist().len(),
        valid_images: splits.valid.mnist().len(),
        valid_label: splits.valid_label.to_string(),
    });
    let mut experiment = experiment.clone();
    experiment.dataset = splits.record.name.clone();
    experiment.data = Some(splits.record.clone());
    Ok((experiment, splits))
}

/// The run folder, written to by this process alone.
struct OpenedRun {
    run: RunDir,
    /// The last checkpointed epoch of a resumed run.
    resumed_after: Option<usize>,
    _lock: RunLock,
}

/// A new run folder (the experiment's `latest`), or the resumed one with its incomplete
/// checkpoint files cleared away.
fn open_run(
    experiment: &Experiment,
    opts: &TrainOptions,
    resume_lock: Option<RunLock>,
) -> Result<OpenedRun> {
    let t = &experiment.training;
    let opened = match (&opts.resume, resume_lock) {
        (Some(run), Some(lock)) => {
            let epoch = run.last_checkpoint().ok_or_else(|| Error::Checkpoint {
                path: run.checkpoint_dir(),
                message: "no complete checkpoint to resume from (the run stopped before its \
                          first epoch ended); start a new run instead"
                    .into(),
            })?;
            refuse_if_finished(run, epoch, t.epochs)?;
            // A run of an earlier lab10 has no manifest: `lab10 verify --seal` is its way in.
            if run.manifest()?.is_none() {
                return Err(Error::Invalid(format!(
                    "{} has no SHA256SUMS (written by an earlier lab10), so its checkpoint cannot \
                     be checked: `lab10 verify --seal {}` checks the run and records its files; \
                     then resume it",
                    run.path.display(),
                    run.path.display()
                )));
            }
            // What the resume loads must match the manifest: refused by name before any work.
            for part in ["model", "optim", "scheduler"] {
                read_checked(&run.checkpoint_dir().join(format!("{part}-{epoch}.bpk")))?;
            }
            // A set that a failed save left incomplete is not a checkpoint.
            for file in run.incomplete_checkpoint_files() {
                opts.progress
                    .event(Event::RemovingIncomplete { file: file.clone() });
                let name = file.strip_prefix(&run.path).unwrap_or(&file);
                run.remove(&name.to_string_lossy())?;
            }
            run.reopen(&[MLFLOW_FILE])?;
            // The pictures describe the model the run ended with before.
            for (_, picture) in PICTURES {
                run.remove(picture)?;
            }
            run.write(EXPERIMENT_FILE, experiment.to_toml().as_bytes())?;
            OpenedRun {
                run: run.clone(),
                resumed_after: Some(epoch),
                _lock: lock,
            }
        }
        _ => {
            let root = dataset_root(&opts.artifacts, &experiment.dataset);
            let label = format!("{}-s{}", opts.compute.name(), t.seed);
            let toml = experiment.to_toml();
            let (run, lock) = RunDir::start(&root, &experiment.name, &toml, &label)?;
            run.mark_latest()?;
            OpenedRun {
                run,
                resumed_after: None,
                _lock: lock,
            }
        }
    };
    Ok(opened)
}

/// A run that finished is not resumed: it can only be trained further (`--epochs`). One whose
/// epochs are all checkpointed but that was stopped while finishing is finished by the resume.
fn refuse_if_finished(run: &RunDir, epoch: usize, epochs: usize) -> Result<()> {
    let finished = run
        .report()
        .is_ok_and(|r| !matches!(r.status, RunStatus::Interrupted));
    if epoch > epochs || (epoch == epochs && finished) {
        return Err(Error::Invalid(format!(
            "{} already finished epoch {epoch} of {epochs}; pass --epochs N with N > {epoch} to train further",
            run.path.display(),
        )));
    }
    Ok(())
}

fn announce(
    experiment: &Experiment,
    opts: &TrainOptions,
    compute: &ComputeDevice,
    opened: &OpenedRun,
) {
    let t = &experiment.training;
    opts.progress.event(Event::Opened {
        run: opened.run.path.clone(),
        backend: opts.compute.name().to_string(),
        device: compute.description.clone(),
        params: experiment.model.num_params(),
        optimizer: experiment.optimizer.label(),
        batch_size: t.batch_size,
        seed: t.seed,
        epochs: t.epochs,
        resumed_after: opened.resumed_after,
    });
}

/// The seeded initial model, RBM-pre-trained if the experiment says so (a resumed run's
/// weights come from its checkpoint instead).
fn initial_model(
    experiment: &Experiment,
    splits: &Splits,
    device: &Device,
    opened: &OpenedRun,
    opts: &TrainOptions,
) -> Result<Mlp> {
    let t = &experiment.training;
    device.seed(t.seed);
    let mut model = experiment.model.init(&device.clone().autodiff());
    // The step measures the norms only when the metrics will read them.
    model.record_gradient_norms = t.gradient_norms;
    if let (Some(p), None) = (&experiment.pretrain, opened.resumed_after) {
        opts.progress.event(Event::Pretraining { label: p.label() });
        let progress = opts.progress.as_ref();
        let rbms = pretrain(
            p,
            &experiment.model,
            &splits.train,
            t.seed,
            device,
            &opened.run,
            progress,
        )?;
        model = model.with_pretrained(&rbms);
    }
    Ok(model)
}

/// What the learner left: the trained model, and how far it got.
struct Fitted {
    model: Mlp,
    divergence: Option<String>,
    position: Position,
    setup_seconds: f64,
}

/// Burn's learner: Adam (or the experiment's optimiser), atomic checkpoints every epoch,
/// accuracy and loss (and gradient norms), stopped by Ctrl-C or by a divergence.
fn fit(
    experiment: &Experiment,
    opts: &TrainOptions,
    splits: &Splits,
    (opened, device): (&OpenedRun, &Device),
    model: Mlp,
    history: History,
    clock: &Clock,
) -> Result<Fitted> {
    let run = &opened.run;
    let position = Arc::new(Mutex::new(Position::default()));
    let divergence = Divergence::default();
    let training = with_epoch_hooks(
        supervised_training(experiment, splits, opened, device),
        opts,
        opened,
        history,
        (&position, &divergence),
    );
    let watch = opts.stop.watch(training.interrupter());
    // Everything before the first training step: data, verification, model, pre-training.
    let setup_seconds = clock.started.elapsed().as_secs_f64();
    let optimizer = &experiment.optimizer;
    let learner = Learner::new(model, optimizer.init(), optimizer.learning_rate());
    let result = training.launch(learner);
    // The TUI holds the terminal until its renderer is dropped: release it before going on.
    // (burn-train's TUI resets its interrupter at the end, so `interrupted` may be lost there;
    // the stop request is ours to keep.)
    let burn::train::LearningResult {
        model,
        renderer,
        error,
        ..
    } = result;
    drop(renderer);
    drop(watch);
    if let Some(error) = error {
        return Err(learner_failure(&error, experiment, run));
    }
    let position = *position.lock().expect("position lock");
    Ok(Fitted {
        model,
        divergence: divergence.take(),
        position,
        setup_seconds,
    })
}

/// Burn's supervised training of `experiment` on `splits`: the data loaders, accuracy and
/// loss (and gradient norms when asked), atomic checkpoints every epoch, and a resumed run's
/// last checkpoint to start from.
fn supervised_training(
    experiment: &Experiment,
    splits: &Splits,
    opened: &OpenedRun,
    device: &Device,
) -> SupervisedTraining<Mlp> {
    let t = &experiment.training;
    let batcher = MnistBatcher::new(t.pixels);
    let train_loader = Arc::new(Resumable::new(
        DataLoaderBuilder::new(batcher)
            .batch_size(t.batch_size)
            .shuffle(t.seed)
            .build(splits.train.clone()),
        device.clone(),
        t.seed,
        opened.resumed_after.map_or(1, |n| n + 1),
    ));
    let valid_loader = DataLoaderBuilder::new(batcher)
        .batch_size(EVAL_BATCH)
        .build(splits.valid.clone());
    let run = &opened.run;
    let mut training = SupervisedTraining::new(&opened.run.path, train_loader, valid_loader)
        .metrics((AccuracyMetric::new(), LossMetric::new()))
        .num_epochs(t.epochs)
        .with_custom_checkpointers(
            AtomicFileCheckpointer::new(run.clone(), "model"),
            AtomicFileCheckpointer::new(run.clone(), "optim"),
            AtomicFileCheckpointer::new(run.clone(), "scheduler"),
        )
        .with_application_logger(None);
    if t.gradient_norms {
        for layer in 0..experiment.model.hidden.len() + 1 {
            training = training.metric_train_numeric(GradientNormMetric::new(layer));
        }
    }
    if let Some(epoch) = opened.resumed_after {
        training = training.checkpoint(epoch);
    }
    training
}

/// Burn's hooks on `training`: the metric logger every epoch's numbers pass through to
/// `history` and its sinks (beside Burn's own file logger, which Burn reads back), the progress logger that knows where
/// training stands, and the renderer (Burn's TUI on a terminal, else [`Quiet`]). `watched`:
/// where a stop's report and a divergence are kept.
fn with_epoch_hooks(
    training: SupervisedTraining<Mlp>,
    opts: &TrainOptions,
    opened: &OpenedRun,
    history: History,
    watched: (&Arc<Mutex<Position>>, &Divergence),
) -> SupervisedTraining<Mlp> {
    let (position, divergence) = watched;
    let interrupter = training.interrupter();
    let times = EpochTimes::default();
    let tui = opts.progress.tui();
    let renderer = match tui {
        true => burn::train::renderer::default_renderer(interrupter.clone(), opened.resumed_after),
        false => Box::new(Quiet),
    };
    training
        .with_metric_logger(FileMetricLogger::new(&opened.run.path))
        .with_metric_logger(EpochLogger::new(
            history,
            times.clone(),
            divergence.clone(),
            interrupter,
        ))
        .with_progress_logger(EpochClock::new(
            opened.resumed_after,
            Arc::clone(position),
            times,
            tui,
        ))
        .renderer(renderer)
}

/// The error that ended the learner.
fn learner_failure(
    error: &burn::train::TrainingError,
    experiment: &Experiment,
    run: &RunDir,
) -> Error {
    Error::Training(format!("{error}. {}", resumable(experiment, run)))
}

/// How to go on after a failed run: from its last checkpoint, or from scratch.
fn resumable(experiment: &Experiment, run: &RunDir) -> String {
    match run.last_checkpoint() {
        Some(n) => format!(
            "The last complete checkpoint is epoch {n}: continue with `{}` (on this machine, or \
             on a worker with --remote)",
            resume_command(experiment, run)
        ),
        None => "No epoch was checkpointed; start a new run.".into(),
    }
}

fn resume_command(experiment: &Experiment, run: &RunDir) -> String {
    format!(
        "lab10 train {} --resume {}",
        experiment.name,
        run.path.display()
    )
}

/// How training ended: completed, stopped on request (a signal, or the TUI's own 'q' menu,
/// which shows only as epochs missing), or diverged.
struct Ending {
    stopped: Option<(StopReason, Interruption)>,
    divergence: Option<String>,
}

impl Ending {
    fn of(
        experiment: &Experiment,
        opts: &TrainOptions,
        opened: &OpenedRun,
        fitted: &Fitted,
        history: &History,
    ) -> Self {
        let t = &experiment.training;
        let reason = opts
            .stop
            .requested()
            .or_else(|| (history.last_epoch() < Some(t.epochs)).then_some(StopReason::Menu))
            .filter(|_| fitted.divergence.is_none());
        let stopped = reason.map(|reason| {
            let at = fitted.position;
            let interruption = Interruption {
                signal: reason.signal_name().into(),
                epoch: at.epoch,
                step: at.items.div_ceil(t.batch_size),
                last_checkpoint: opened.run.last_checkpoint(),
                resume_command: resume_command(experiment, &opened.run),
            };
            (reason, interruption)
        });
        Self {
            stopped,
            divergence: fitted.divergence.clone(),
        }
    }

    /// The run's status; `model` is the file the test numbers describe.
    fn status(&self, model: Option<&std::path::Path>) -> RunStatus {
        match (&self.divergence, &self.stopped) {
            (None, Some(_)) => RunStatus::Interrupted,
            (None, None) => RunStatus::Completed,
            (Some(why), _) => RunStatus::Diverged(format!(
                "{why}; training stopped there. Test metrics are those of {}. \
                 Lower the learning rate (--lr) and train again.",
                model.map_or("no model (no epoch finished)".into(), |p| format!(
                    "the last good checkpoint, {}",
                    p.display()
                ))
            )),
        }
    }

    /// A stopped or diverged run is an error for the caller, after its report is written.
    fn check(&self, run: &RunDir, report: &Report) -> Result<()> {
        if let Some((reason, at)) = &self.stopped {
            let resume = match at.last_checkpoint {
                Some(1) => format!(
                    "epoch 1 is checkpointed; continue with `{}`",
                    at.resume_command
                ),
                Some(n) => format!(
                    "epochs 1-{n} are checkpointed; continue with `{}`",
                    at.resume_command
                ),
                None => "no epoch was finished, so there is nothing to resume: train anew".into(),
            };
            return Err(Error::Stopped {
                reason: *reason,
                message: format!(
                    "stopped by {} in epoch {} at step {}: {resume} (run: {})",
                    reason.signal_name(),
                    at.epoch,
                    at.step,
                    run.path.display()
                ),
            });
        }
        if self.divergence.is_some() {
            return Err(Error::Training(format!(
                "{} (report: {})",
                report.status,
                run.file(REPORT_FILE).display()
            )));
        }
        Ok(())
    }
}

/// The model the report describes: the trained one, or after a divergence the last good
/// checkpoint (none if the very first epoch diverged); none for a run stopped mid-way.
fn final_model(fitted: &Fitted, ending: &Ending, run: &RunDir) -> Result<Option<PathBuf>> {
    Ok(match (&ending.divergence, &ending.stopped) {
        (None, Some(_)) => None,
        (None, None) => {
            let path = run.file(MODEL_FILE);
            save_model_atomically(&fitted.model, run, MODEL_FILE)?;
            Some(path)
        }
        (Some(_), _) => run
            .last_checkpoint()
            .map(|n| run.checkpoint_dir().join(format!("model-{n}.bpk"))),
    })
}

/// What the report says of the training: how it ended (`model`: the file the test numbers
/// describe), its data, its epochs and its timings.
fn training_facts(
    ending: &Ending,
    model: Option<&std::path::Path>,
    splits: &Splits,
    opened: &OpenedRun,
    fitted: &Fitted,
    history: &History,
    clock: &Clock,
) -> Trained {
    Trained {
        status: ending.status(model),
        interruption: ending.stopped.as_ref().map(|(_, at)| at.clone()),
        history: history.records(),
        train_images: splits.train.mnist().len(),
        validation: format!(
            "{} ({} images)",
            splits.valid_label,
            splits.valid.mnist().len()
        ),
        setup_seconds: fitted.setup_seconds,
        first_step_seconds: fitted
            .position
            .first_step_at
            .map(|at| at.duration_since(clock.started).as_secs_f64()),
        resumed_from_epoch: opened.resumed_after,
    }
}
