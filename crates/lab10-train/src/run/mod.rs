//! One training run on burn-train's learner: [`train`] opens it, [`Steps`] are its steps.

mod divergence;
mod early_stop;
mod epochs;
mod gradient_norms;
mod loader;
mod pretrain;
mod progress;
mod renderer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use burn::data::dataloader::DataLoaderBuilder;
use burn::train::logger::FileMetricLogger;
use burn::train::metric::{AccuracyMetric, LearningRateMetric, LossMetric};
use burn::train::{Learner, SupervisedTraining, TrainingError};
use lab10_experiment::{
    AtomicFileCheckpointer, Clock, Compute, ComputeDevice, DataOptions, EVAL_BATCH, Evaluation,
    Experiment, Keep, Provenance, RunEnd, Splits, Stop, Trained, load_splits,
    save_model_atomically,
};
use lab10_models::{Mlp, MnistBatcher};
use lab10_runs::{
    EXPERIMENT_FILE, EpochRecord, Error, Interruption, MODEL_FILE, MetricsFiles, REPORT_FILE,
    Report, Result, RunDir, RunLock, RunSink, RunStatus, StopReason, dataset_root, metrics,
    read_checked,
};
use lab10_track::mlflow::{LiveRun, MLFLOW_FILE, MLMODEL, Mlflow, RunFacts};
use lab10_track::{Board, CONFUSION_PNG, MISCLASSIFIED_PNG, PICTURES};

use divergence::Divergence;
use early_stop::{best_epoch, strategies};
use epochs::{EpochClock, EpochLogger, History, Position, ProgressSink};
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
    refuse_if_stopped(&opts.stop, &format!("{} started", experiment.name))?;
    // A resumed run is claimed first: a second writer is refused before any work.
    let resume_lock = opts.resume.as_ref().map(RunDir::lock).transpose()?;
    // An unreachable tracking server is refused before any work (a study's member goes on).
    if let Some(mlflow) = opts.mlflow.as_ref().filter(|m| m.parent.is_none()) {
        mlflow
            .check()
            .map_err(|e| Error::Tracking(format!("{e}; nothing was trained")))?;
    }
    let compute = opts.compute.open()?;
    let (experiment, splits) = load_data(experiment, opts)?;
    let (run, resumed_after, _lock) = open_run(&experiment, opts, resume_lock)?;
    let t = &experiment.training;
    opts.progress.event(Event::Opened {
        run: run.path.clone(),
        backend: opts.compute.name().to_string(),
        device: compute.description.clone(),
        params: experiment.model.num_params(),
        optimizer: experiment.optimizer.label(),
        batch_size: t.batch_size,
        seed: t.seed,
        epochs: t.epochs,
        resumed_after,
    });
    let resumed = match resumed_after {
        Some(epoch) => metrics::read_at_checkpoint(&run, epoch)?,
        None => Vec::new(),
    };
    let mlflow = open_mlflow(opts, &run, &resumed)?;
    let sinks = sinks(&experiment, opts, &splits, mlflow);
    let history = History::new(run.clone(), resumed, sinks, Arc::clone(&opts.progress));
    let steps = Steps {
        experiment: &experiment,
        opts,
        splits: &splits,
        compute: &compute,
        run: &run,
        resumed_after,
        history: &history,
        clock: &clock,
    };
    let trained = steps.train();
    if let Err(e) = &trained {
        history.failed(e);
    }
    trained
}

/// The sinks each epoch's record reaches, in order: a new tracker is registered here only.
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

/// The run's MLflow run with `--mlflow` (a resumed run's `records` sent where it lacks them).
fn open_mlflow(
    opts: &TrainOptions,
    run: &RunDir,
    records: &[EpochRecord],
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
        Err(e) if mlflow.parent.is_some() => {
            let message = LiveRun::goes_on_without(&e, run, &mlflow.uri).to_string();
            opts.progress.event(Event::Warning { message });
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// A run once its data is loaded and its folder open: what each later step reads.
struct Steps<'a> {
    /// The run's resolved copy of its experiment.
    experiment: &'a Experiment,
    opts: &'a TrainOptions,
    splits: &'a Splits,
    compute: &'a ComputeDevice,
    run: &'a RunDir,
    /// The last checkpointed epoch of a resumed run.
    resumed_after: Option<usize>,
    history: &'a History,
    clock: &'a Clock,
}

/// What the learner left: the trained model, and how far it got.
struct Fitted {
    model: Mlp,
    divergence: Option<String>,
    /// The epoch early stopping ended training at.
    stopped_early: Option<usize>,
    position: Position,
    setup_seconds: f64,
}

impl Steps<'_> {
    /// Trained, its model saved and tested, its pictures drawn, its report written and sent.
    fn train(&self) -> Result<TrainOutcome> {
        let fitted = self.fit(self.initial_model()?)?;
        let ending = self.ending(&fitted);
        let (model, kept_epoch) = self.keep_model(&ending, &fitted)?;
        let mut trained = self.facts(&ending, model.as_deref(), &fitted);
        trained.kept_epoch = kept_epoch;
        let end = RunEnd {
            run: self.run,
            experiment: self.experiment,
            record: &self.splits.record,
            test: &self.splits.test,
            backend: &self.opts.compute,
            compute: self.compute,
            provenance: &self.opts.provenance,
            clock: self.clock,
        };
        // Test numbers come from the saved file, exactly as `lab10 eval` will compute them.
        let (report, evaluation) = end.report_trained(model.as_deref(), &trained)?;
        if let Some(evaluation) = &evaluation {
            self.draw_pictures(evaluation)?;
        }
        self.run.write_report(&report)?;
        // The MLflow Model, sent with the run's files; rewritten when a resumed run had one.
        if self.opts.mlflow.is_some() || self.run.file(MLMODEL).is_file() {
            lab10_exchange::write_mlflow_model(self.run, true)?;
        }
        self.history.end(&report);
        ending.check(self.run, &report)?;
        self.opts.progress.event(Event::Tested {
            test_loss: report.test_loss,
            test_accuracy: report.test_accuracy,
            test_images: report.test_images,
            eval_seconds: report.eval_seconds,
            run: self.run.path.clone(),
        });
        Ok(TrainOutcome {
            run: self.run.clone(),
            report,
        })
    }

    /// The seeded initial model, RBM-pre-trained unless resumed (its checkpoint has the weights).
    fn initial_model(&self) -> Result<Mlp> {
        let (experiment, device) = (self.experiment, &self.compute.device);
        let t = &experiment.training;
        device.seed(t.seed);
        let mut model = experiment.model.init(&device.clone().autodiff());
        // The step measures the norms only when the metrics will read them.
        model.record_gradient_norms = t.gradient_norms;
        if let (Some(p), None) = (&experiment.pretrain, self.resumed_after) {
            let progress = self.opts.progress.as_ref();
            let rbms = pretrain(
                p,
                experiment,
                &self.splits.train,
                device,
                self.run,
                progress,
            )?;
            model = model.with_pretrained(&rbms);
        }
        Ok(model)
    }

    /// Burn's learner, stopped by Ctrl-C or by a divergence.
    fn fit(&self, model: Mlp) -> Result<Fitted> {
        let position = Arc::new(Mutex::new(Position::default()));
        let divergence = Divergence::default();
        let t = &self.experiment.training;
        let patience = t.early_stopping.as_ref().map(|e| e.patience);
        let (early, keeping_best) = strategies(t.monitor, patience, self.resumed_after);
        let mut training = self.supervised_training(&position, &divergence);
        if let Some(early) = &early {
            training = training.early_stopping(early.clone());
        }
        if t.keep == Keep::Best || early.is_some() {
            training = training.with_checkpointing_strategy(keeping_best);
        }
        let watch = self.opts.stop.watch(training.interrupter());
        // Everything before the first training step: data, verification, model, pre-training.
        let setup_seconds = self.clock.started.elapsed().as_secs_f64();
        let optimizer = &self.experiment.optimizer;
        let learner = Learner::new(model, optimizer.init(), optimizer.scheduler());
        let result = training.launch(learner);
        // The TUI holds the terminal until its renderer is dropped: release it before going on.
        // (Burn's TUI may lose `result.interrupted`; the stop request is ours to keep.)
        drop(result.renderer);
        drop(watch);
        if let Some(error) = result.error {
            return Err(self.learner_failure(&error));
        }
        let position = position.lock().expect("position lock").clone();
        Ok(Fitted {
            model: result.model,
            divergence: divergence.take(),
            stopped_early: early.and_then(|e| e.stopped_at()),
            position,
            setup_seconds,
        })
    }

    /// Burn's supervised training: its loaders, metrics and atomic checkpoints, and lab10's
    /// hooks (the epoch records beside Burn's own file logger, which Burn reads back).
    fn supervised_training(
        &self,
        position: &Arc<Mutex<Position>>,
        divergence: &Divergence,
    ) -> SupervisedTraining<Mlp> {
        let (t, run, device) = (&self.experiment.training, self.run, &self.compute.device);
        let batcher = MnistBatcher::new(t.pixels);
        let train_loader = Arc::new(Resumable::new(
            DataLoaderBuilder::new(batcher)
                .batch_size(t.batch_size)
                .shuffle(t.seed)
                .build(self.splits.train.clone()),
            device.clone(),
            t.seed,
            self.resumed_after.map_or(1, |n| n + 1),
        ));
        let valid_loader = DataLoaderBuilder::new(batcher)
            .batch_size(EVAL_BATCH)
            .build(self.splits.valid.clone());
        let mut training = SupervisedTraining::new(&run.path, train_loader, valid_loader)
            .metrics((AccuracyMetric::new(), LossMetric::new()))
            .metric_train_numeric(LearningRateMetric::new())
            .num_epochs(t.epochs)
            .with_custom_checkpointers(
                AtomicFileCheckpointer::new(run.clone(), "model"),
                AtomicFileCheckpointer::new(run.clone(), "optim"),
                AtomicFileCheckpointer::new(run.clone(), "scheduler"),
            )
            .with_application_logger(None);
        if t.gradient_norms {
            for layer in 0..self.experiment.model.hidden.len() + 1 {
                training = training.metric_train_numeric(GradientNormMetric::new(layer));
            }
        }
        if let Some(epoch) = self.resumed_after {
            training = training.checkpoint(epoch);
        }
        let interrupter = training.interrupter();
        let tui = self.opts.progress.tui();
        let renderer = match tui {
            true => {
                burn::train::renderer::default_renderer(interrupter.clone(), self.resumed_after)
            }
            false => Box::new(Quiet),
        };
        let (history, position) = (self.history.clone(), Arc::clone(position));
        let logger = EpochLogger::new(history, position.clone(), divergence.clone(), interrupter);
        training
            .with_metric_logger(FileMetricLogger::new(&run.path))
            .with_metric_logger(logger)
            .with_progress_logger(EpochClock::new(self.resumed_after, position, tui))
            .renderer(renderer)
    }

    /// The error that ended the learner, and how to go on: from the last checkpoint, or anew.
    fn learner_failure(&self, error: &TrainingError) -> Error {
        let next = match self.run.last_checkpoint() {
            Some(n) => format!(
                "The last complete checkpoint is epoch {n}: continue with `{}` (on this machine, \
                 or on a worker with --remote)",
                self.resume_command()
            ),
            None => "No epoch was checkpointed; start a new run.".into(),
        };
        Error::Training(format!("{error}. {next}"))
    }

    fn resume_command(&self) -> String {
        let path = self.run.path.display();
        format!("lab10 train {} --resume {path}", self.experiment.name)
    }

    /// How training ended (a stop without a signal is the TUI's 'q' menu: epochs missing).
    fn ending(&self, fitted: &Fitted) -> Ending {
        if let Some(why) = &fitted.divergence {
            return Ending::Diverged(why.clone());
        }
        let t = &self.experiment.training;
        let early = fitted.stopped_early.filter(|&epoch| epoch < t.epochs);
        if let (Some(epoch), None) = (early, self.opts.stop.requested()) {
            let patience = t.early_stopping.as_ref().map_or(0, |e| e.patience);
            // The monitor as experiment files name it.
            let monitor = serde_json::to_value(t.monitor).expect("a monitor serialises");
            return Ending::Completed(Some(format!(
                "early stopping at epoch {epoch}: {} did not improve for {patience} epochs",
                monitor.as_str().unwrap_or_default()
            )));
        }
        let last = self.history.records().last().map(|r| r.epoch);
        let menu = (last < Some(t.epochs)).then_some(StopReason::Menu);
        let Some(reason) = self.opts.stop.requested().or(menu) else {
            return Ending::Completed(None);
        };
        let at = &fitted.position;
        let interruption = Interruption {
            signal: reason.signal_name().into(),
            epoch: at.epoch,
            step: at.items.div_ceil(t.batch_size),
            last_checkpoint: self.run.last_checkpoint(),
            resume_command: self.resume_command(),
        };
        Ending::Stopped(reason, interruption)
    }

    /// The model the report describes, and the epoch kept: the trained one, or the best epoch's
    /// (`keep = "best"`), or after a divergence the last good checkpoint; none when stopped.
    fn keep_model(
        &self,
        ending: &Ending,
        fitted: &Fitted,
    ) -> Result<(Option<PathBuf>, Option<usize>)> {
        let (run, t) = (self.run, &self.experiment.training);
        let checkpoint = |n: usize| run.checkpoint_dir().join(format!("model-{n}.bpk"));
        match ending {
            Ending::Stopped(..) => Ok((None, None)),
            Ending::Diverged(_) => Ok((run.last_checkpoint().map(checkpoint), None)),
            Ending::Completed(_) if t.keep == Keep::Best => {
                let records = self.history.records();
                let best = best_epoch(&records, t.monitor).ok_or_else(|| {
                    Error::Training("keep = \"best\": no epoch has a validation score".into())
                })?;
                run.write(MODEL_FILE, &read_checked(&checkpoint(best))?)?;
                Ok((Some(run.file(MODEL_FILE)), Some(best)))
            }
            Ending::Completed(_) => {
                save_model_atomically(&fitted.model, run, MODEL_FILE)?;
                Ok((Some(run.file(MODEL_FILE)), None))
            }
        }
    }

    /// What the report says of the training (`model`: the file the test numbers describe).
    fn facts(&self, ending: &Ending, model: Option<&Path>, fitted: &Fitted) -> Trained {
        let splits = self.splits;
        let valid_images = splits.valid.mnist().len();
        Trained {
            status: ending.status(model),
            interruption: match ending {
                Ending::Stopped(_, at) => Some(at.clone()),
                _ => None,
            },
            kept_epoch: None,
            stopped_early: match ending {
                Ending::Completed(why) => why.clone(),
                _ => None,
            },
            history: self.history.records(),
            train_images: splits.train.mnist().len(),
            validation: format!("{} ({valid_images} images)", splits.valid_label),
            setup_seconds: fitted.setup_seconds,
            first_step_seconds: fitted
                .position
                .first_step_at
                .map(|at| at.duration_since(self.clock.started).as_secs_f64()),
            resumed_from_epoch: self.resumed_after,
        }
    }

    /// The tested model's pictures, drawn as `lab10 report` draws them, for the trackers.
    fn draw_pictures(&self, evaluation: &Evaluation) -> Result<()> {
        let (name, test) = (&self.experiment.name, &self.splits.test);
        let classes = lab10_data::class_names(&self.splits.record.name);
        let [confusion, misclassified] =
            lab10_report::test_pictures(name, evaluation, test, classes)
                .map_err(|e| Error::Training(format!("cannot draw the run's pictures: {e}")))?;
        self.run.write_all(&[
            (CONFUSION_PNG, &confusion.png),
            (MISCLASSIFIED_PNG, &misclassified.png),
        ])
    }
}

/// A stop asked for before a run began (between a group's members, say) starts nothing.
pub(crate) fn refuse_if_stopped(stop: &Stop, before: &str) -> Result<()> {
    match stop.requested() {
        Some(reason) => Err(Error::Stopped {
            reason,
            message: format!("stopped by {} before {before}", reason.signal_name()),
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

/// A new run folder (the experiment's `latest`), or the resumed one made ready: the folder, a
/// resumed run's last checkpointed epoch, and the lock that keeps other writers out.
fn open_run(
    experiment: &Experiment,
    opts: &TrainOptions,
    resume_lock: Option<RunLock>,
) -> Result<(RunDir, Option<usize>, RunLock)> {
    let t = &experiment.training;
    let (Some(run), Some(lock)) = (&opts.resume, resume_lock) else {
        let root = dataset_root(&opts.artifacts, &experiment.dataset);
        let label = format!("{}-s{}", opts.compute.name(), t.seed);
        let toml = experiment.to_toml();
        let (run, lock) = RunDir::start(&root, &experiment.name, &toml, &label)?;
        run.mark_latest()?;
        return Ok((run, None, lock));
    };
    let epoch = run.last_checkpoint().ok_or_else(|| Error::Checkpoint {
        path: run.checkpoint_dir(),
        message: "no complete checkpoint to resume from (the run stopped before its first \
                  epoch ended); start a new run instead"
            .into(),
    })?;
    // A run that finished is not resumed: it can only be trained further (`--epochs`). One whose
    // epochs are all checkpointed but that was stopped while finishing is finished by the resume.
    let (report, path) = (run.report().ok(), run.path.display());
    let finished = report
        .as_ref()
        .is_some_and(|r| !matches!(r.status, RunStatus::Interrupted));
    if let Some(why) = report.and_then(|r| r.stopped_early).filter(|_| finished) {
        return Err(Error::Invalid(format!(
            "{path} finished ({why}): nothing to resume"
        )));
    }
    if epoch > t.epochs || (epoch == t.epochs && finished) {
        return Err(Error::Invalid(format!(
            "{path} already finished epoch {epoch} of {}; pass --epochs N with N > {epoch} to \
             train further",
            t.epochs
        )));
    }
    // A run of an earlier lab10 has no manifest: `lab10 verify --seal` is its way in.
    if run.manifest()?.is_none() {
        return Err(Error::Invalid(format!(
            "{path} has no SHA256SUMS (written by an earlier lab10), so its checkpoint cannot be \
             checked: `lab10 verify --seal {path}` checks the run and records its files; then \
             resume it"
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
    Ok((run.clone(), Some(epoch), lock))
}

/// How training ended: completed (why, if early), stopped on request, or diverged (why).
enum Ending {
    Completed(Option<String>),
    Stopped(StopReason, Interruption),
    Diverged(String),
}

impl Ending {
    /// The run's status; `model` is the file the test numbers describe.
    fn status(&self, model: Option<&Path>) -> RunStatus {
        match self {
            Ending::Completed(_) => RunStatus::Completed,
            Ending::Stopped(..) => RunStatus::Interrupted,
            Ending::Diverged(why) => RunStatus::Diverged(format!(
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
        match self {
            Ending::Completed(_) => Ok(()),
            Ending::Stopped(reason, at) => {
                let cmd = &at.resume_command;
                let resume = match at.last_checkpoint {
                    Some(1) => format!("epoch 1 is checkpointed; continue with `{cmd}`"),
                    Some(n) => format!("epochs 1-{n} are checkpointed; continue with `{cmd}`"),
                    None => {
                        "no epoch was finished, so there is nothing to resume: train anew".into()
                    }
                };
                Err(Error::Stopped {
                    reason: *reason,
                    message: format!(
                        "stopped by {} in epoch {} at step {}: {resume} (run: {})",
                        reason.signal_name(),
                        at.epoch,
                        at.step,
                        run.path.display()
                    ),
                })
            }
            Ending::Diverged(_) => Err(Error::Training(format!(
                "{} (report: {})",
                report.status,
                run.file(REPORT_FILE).display()
            ))),
        }
    }
}
