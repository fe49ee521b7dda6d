//! `lab10`: the lab-10 MNIST experiments by name. A thin layer: parse flags, call
//! `lab10-train`, print. Errors print one line and exit non-zero.

mod signals;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::builder::PossibleValuesParser;
use clap::{Args, Parser, Subcommand};
use lab10_data::{DatasetSpec, KNOWN};
use lab10_models::ModelSummary;
use lab10_models::summary::thousands;
use lab10_train::ensemble::{EnsembleOptions, run_ensemble};
use lab10_train::group::{GroupOptions, get_group, group_names, run_group};
use lab10_train::run_dir::dataset_root;
use lab10_train::{
    BackendKind, DataOptions, ExperimentCatalog, Overrides, RunDir, SavedModel, Stop, TrainOptions,
    draw_digit, sample_predictions,
};

// The CPU backends allocate a fresh buffer for most tensor ops; glibc's malloc hands buffers
// this size back to the kernel and faults them in again every step. mimalloc keeps them:
// `deep`'s step is ~10 % shorter (README, "Benchmark").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Where the repository's experiments live, for a binary started outside the repository.
const BUILTIN_EXPERIMENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/experiments");

#[derive(Parser)]
#[command(
    name = "lab10",
    version,
    about = "ML lab 10 on MNIST with Burn: softmax, NN, Xavier, deep and dropout, trained with Adam",
    long_about = "ML lab 10 on MNIST with Burn: softmax, NN, Xavier, deep and dropout, trained with Adam.\n\n\
                  Experiments are TOML files in experiments/; every run writes its config, checkpoints, \
                  metrics (CSV, JSON), final model (burnpack) and report.json to \
                  artifacts/<experiment>/<run-id>/ (artifacts/<experiment>/latest is the newest).",
    after_help = "Examples:\n  lab10 list\n  lab10 train xavier\n  lab10 train --group init\n  lab10 ensemble xavier --members 5\n  lab10 train dropout --epochs 2 --backend ndarray\n  \
                  lab10 eval artifacts/xavier/latest\n  lab10 predict artifacts/xavier/latest --samples 10 --seed 777"
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Global {
    /// Compute backend (compiled in: see `lab10 backends`) [default: the first compiled in]
    #[arg(long, global = true, value_name = "NAME",
          value_parser = PossibleValuesParser::new(BackendKind::ALL.map(|b| b.name())))]
    backend: Option<String>,
    /// Dataset (see `lab10 datasets`) [default: the experiment's, or for a trained model its
    /// run's; naming another one evaluates it there, labelled as such]
    #[arg(long, global = true, value_name = "NAME",
          value_parser = PossibleValuesParser::new(KNOWN.map(|d| d.name)))]
    dataset: Option<String>,
    /// Folder with the dataset's four IDX files (.gz or raw) [env: LAB10_DATA_DIR]
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Accept IDX files that match no known dataset's checksums (recorded as dataset 'custom')
    #[arg(long, global = true)]
    no_verify: bool,
    /// Where runs are written
    #[arg(long, global = true, value_name = "DIR", default_value = "artifacts")]
    artifacts: PathBuf,
    /// Folder of experiment files [env: LAB10_EXPERIMENTS_DIR] [default: ./experiments]
    #[arg(long, global = true, value_name = "DIR")]
    experiments: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// List the experiments, one line each
    List,
    /// Print a Keras-style summary of an experiment's model
    Summary {
        /// Experiment name (or path to a .toml file)
        experiment: String,
    },
    /// Train an experiment (or a --group of them); writes artifacts/<experiment>/<run-id>/
    Train(TrainArgs),
    /// Train N members of an experiment with seeds seed, seed+1, ... (reusing finished
    /// identical runs) and score their averaged softmax; writes artifacts/ensembles/<experiment>/
    Ensemble {
        /// Experiment name (see `lab10 list`) or path to a .toml file
        experiment: String,
        /// How many members
        #[arg(
            long,
            value_name = "N",
            default_value_t = 5,
            allow_negative_numbers = true
        )]
        members: usize,
        /// Train every member again instead of reusing finished identical runs
        #[arg(long)]
        no_reuse: bool,
        #[command(flatten)]
        settings: SettingArgs,
    },
    /// Evaluate a trained model on the test set
    Eval {
        /// A run folder, artifacts/<experiment> (its latest run) or a .bpk model file
        target: PathBuf,
        /// Architecture of a model file outside a run (default: the run's own experiment)
        #[arg(long, value_name = "NAME")]
        experiment: Option<String>,
        /// Evaluate on the first N test images only
        #[arg(long, value_name = "N", allow_negative_numbers = true)]
        test_size: Option<usize>,
        /// Print the evaluation as JSON (loss, accuracy, per-class accuracy)
        #[arg(long)]
        json: bool,
        /// With --json: also the logits of the first N test images (to check a model
        /// elsewhere, e.g. scripts/check-export.py)
        #[arg(long, value_name = "N", requires = "json")]
        logits: Option<usize>,
    },
    /// Write a trained model as safetensors in PyTorch's layout (torch.nn.Sequential keys,
    /// Linear weights [out, in]) with its architecture in the file's metadata
    Export {
        /// A run folder, artifacts/<experiment> (its latest run) or a .bpk model file
        target: PathBuf,
        /// Output file [default: model.safetensors in the run folder, or beside the .bpk]
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Replace an existing output file
        #[arg(long)]
        force: bool,
        /// Architecture of a model file outside a run (default: the run's own experiment)
        #[arg(long, value_name = "NAME")]
        experiment: Option<String>,
    },
    /// Make a run from PyTorch weights (.safetensors, or a .pt/.pth state_dict) of an
    /// experiment's architecture, evaluated by lab10; eval, predict and report then work on it
    Import {
        /// The weights file
        file: PathBuf,
        /// The experiment whose architecture the weights have
        #[arg(long, value_name = "NAME")]
        experiment: String,
    },
    /// Show a trained model's predictions on random test images, digits drawn
    Predict {
        /// A run folder, artifacts/<experiment> (its latest run) or a .bpk model file
        target: PathBuf,
        /// How many test images
        #[arg(long, default_value_t = 10, allow_negative_numbers = true)]
        samples: usize,
        /// Seed of the random choice of images
        #[arg(long, default_value_t = 777)]
        seed: u64,
        /// Architecture of a model file outside a run (default: the run's own experiment)
        #[arg(long, value_name = "NAME")]
        experiment: Option<String>,
        /// Also draw the sampled digits with their predictions into this PNG file
        #[arg(long, value_name = "FILE")]
        png: Option<PathBuf>,
    },
    /// Write a report of runs: curves, confusion matrices, misclassified digits, a table
    Report {
        /// Experiment names (their latest runs) or run folders [default: the latest run of
        /// every experiment under --artifacts]
        targets: Vec<String>,
        /// Output folder [default: <artifacts>/report]
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Serve a page where the trained models read a digit you draw, side by side, and its JSON
    /// API (no authentication: for your own machine, or behind your own proxy)
    Serve {
        /// Experiment names (their latest completed run) or run folders [default: the latest
        /// completed run of every experiment that has one, on --dataset or MNIST]
        targets: Vec<String>,
        /// Address to listen on; anything but loopback exposes the models to the network
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8010")]
        listen: std::net::SocketAddr,
        /// A request not received and answered within this many seconds gets a 408
        #[arg(long, value_name = "SECS", default_value_t = 10.0)]
        timeout: f64,
    },
    /// List the compiled-in backends and the device each would use
    Backends,
    /// List the datasets, where each was found (or how to get it)
    Datasets,
}

#[derive(Args)]
struct TrainArgs {
    /// Experiment name (see `lab10 list`) or path to a .toml file
    #[arg(required_unless_present = "group")]
    experiment: Option<String>,
    /// Train a group instead (see `lab10 list`): every experiment with every seed, then one
    /// comparison table in artifacts/groups/<group>/
    #[arg(long, value_name = "NAME", conflicts_with_all = ["experiment", "resume", "seed"])]
    group: Option<String>,
    /// With --group: these seeds instead of the group's (comma-separated)
    #[arg(long, value_name = "S,S,..", value_delimiter = ',', requires = "group")]
    seeds: Option<Vec<u64>>,
    /// With --group: train every run again instead of reusing finished identical runs
    #[arg(long, requires = "group")]
    no_reuse: bool,
    #[command(flatten)]
    settings: SettingArgs,
    /// Continue an interrupted run from its last checkpoint: the given run folder, or
    /// artifacts/<experiment>/latest when none is given
    #[arg(long, value_name = "RUN", num_args = 0..=1)]
    resume: Option<Option<PathBuf>>,
}

/// Command-line overrides of an experiment's settings.
#[derive(Args)]
struct SettingArgs {
    /// Epochs to train (instead of the experiment's)
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    epochs: Option<usize>,
    /// Batch size (instead of the experiment's)
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    batch_size: Option<usize>,
    /// Learning rate
    #[arg(long, value_name = "LR", allow_negative_numbers = true)]
    lr: Option<f64>,
    /// Seed of initialisation, shuffling and dropout (ensemble: the first member's)
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    seed: Option<u64>,
    /// Validate on the last N training images instead of the test set
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    holdout: Option<usize>,
    /// Train on the first N training images only
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    train_size: Option<usize>,
    /// Validate/test on the first N test images only
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    test_size: Option<usize>,
}

impl SettingArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            epochs: self.epochs,
            batch_size: self.batch_size,
            learning_rate: self.lr,
            seed: self.seed,
            holdout: self.holdout,
            train_size: self.train_size,
            test_size: self.test_size,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stop = Stop::default();
    // Training stops gracefully on the first Ctrl-C; everything else exits at once.
    let graceful = matches!(cli.command, Command::Train(_) | Command::Ensemble { .. });
    if let Err(e) = signals::install(stop.clone(), graceful) {
        eprintln!("error: {e:#}");
        return ExitCode::FAILURE;
    }
    match lab10_train::cpu::on_compute_pool(|| run(cli, stop)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => match e.downcast_ref::<lab10_train::Error>() {
            Some(lab10_train::Error::Stopped { reason, message }) => {
                eprintln!("{message}");
                ExitCode::from(reason.exit_code())
            }
            _ => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

impl Global {
    fn catalog(&self) -> ExperimentCatalog {
        ExperimentCatalog::locate(self.experiments.as_deref(), BUILTIN_EXPERIMENTS.as_ref())
    }

    fn backend(&self) -> Result<BackendKind> {
        match &self.backend {
            Some(name) => Ok(name.parse()?),
            None => BackendKind::default_compiled().context("no backend compiled in"),
        }
    }

    fn train_options(&self, resume: Option<RunDir>, stop: &Stop) -> Result<TrainOptions> {
        Ok(TrainOptions {
            backend: self.backend()?,
            data: self.data()?,
            artifacts: self.artifacts.clone(),
            resume,
            command: std::env::args().collect::<Vec<_>>().join(" "),
            stop: stop.clone(),
            build_commit: Some(env!("LAB10_BUILD_COMMIT"))
                .filter(|c| !c.is_empty())
                .map(String::from),
        })
    }

    fn data(&self) -> Result<DataOptions> {
        Ok(DataOptions {
            dataset: self
                .dataset
                .as_deref()
                .map(DatasetSpec::by_name)
                .transpose()?,
            dir: self.data_dir.clone(),
            verify: !self.no_verify,
        })
    }

    /// A command-line target that names an experiment with runs: its folder. `None`: the
    /// target is a path (a run folder or a model file).
    fn experiment_folder(&self, target: &str) -> Option<PathBuf> {
        let dir = self.experiment_dir(target);
        (!target.contains('/') && dir.is_dir()).then_some(dir)
    }

    /// The folder of `experiment`'s runs on the dataset `--dataset` names (or its own).
    fn experiment_dir(&self, experiment: &str) -> PathBuf {
        let dataset = self.dataset.clone().unwrap_or_else(|| {
            self.catalog()
                .get(experiment)
                .map_or_else(|_| lab10_data::MNIST.name.to_string(), |e| e.dataset)
        });
        dataset_root(&self.artifacts, &dataset).join(experiment)
    }
}

fn run(cli: Cli, stop: Stop) -> Result<()> {
    let g = &cli.global;
    match cli.command {
        Command::List => list(g),
        Command::Summary { experiment } => {
            let e = g.catalog().get(&experiment)?;
            println!("{}", ModelSummary::new(&e.name, &e.model));
            Ok(())
        }
        Command::Train(args) => train(g, args, &stop),
        Command::Ensemble {
            experiment,
            members,
            no_reuse,
            settings,
        } => {
            let experiment = g.catalog().get(&experiment)?;
            let opts = EnsembleOptions {
                train: g.train_options(None, &stop)?,
                overrides: settings.overrides(),
                members,
                reuse: !no_reuse,
            };
            let (dir, report) = run_ensemble(&experiment, &opts)?;
            println!("\n{}\nwrote {}", report.markdown(), dir.display());
            Ok(())
        }
        Command::Export {
            target,
            out,
            force,
            experiment,
        } => {
            let device = BackendKind::default_compiled()
                .context("no backend compiled in")?
                .device()?;
            let experiment = experiment.map(|n| g.catalog().get(&n)).transpose()?;
            let saved = SavedModel::open(&target, experiment)?;
            let run = (!target.is_file())
                .then(|| RunDir::open(&target))
                .transpose()?;
            let out = out.unwrap_or_else(|| match &run {
                Some(run) => run.file("model.safetensors"),
                None => target.with_extension("safetensors"),
            });
            let model = saved.load(&device)?;
            let architecture = lab10_train::interop::export(
                &model,
                &saved.experiment,
                run.map(|r| r.path.display().to_string()),
                &out,
                force,
            )?;
            println!(
                "wrote {} (torch.nn.Sequential: Linear at {:?}, {} activation, dropout {}, \
                 pixels {}, dataset {})",
                out.display(),
                architecture.linear_indices,
                architecture.activation,
                architecture.dropout,
                format!("{:?}", architecture.pixels).to_lowercase(),
                architecture.dataset
            );
            Ok(())
        }
        Command::Import { file, experiment } => {
            let experiment = g.catalog().get(&experiment)?;
            let outcome = lab10_train::interop::import_run(
                &file,
                &experiment,
                &g.train_options(None, &stop)?,
            )?;
            println!(
                "run: {}\n{}\ntest: loss {:.4}, accuracy {:.2}% on {} {} images",
                outcome.run.path.display(),
                outcome.report.source.as_deref().unwrap_or_default(),
                outcome.report.test_loss,
                outcome.report.test_accuracy,
                outcome.report.test_images,
                outcome.report.dataset
            );
            Ok(())
        }
        Command::Eval {
            target,
            experiment,
            test_size,
            json,
            logits,
        } => {
            let backend = g.backend()?;
            let compute = backend.open()?;
            let device = compute.device.clone();
            let experiment = experiment.map(|n| g.catalog().get(&n)).transpose()?;
            let saved = SavedModel::open(&target, experiment)?;
            let data = saved.test_data(&g.data()?, test_size)?;
            let eval = saved.evaluate(&data.data, &device)?;
            if json {
                let mut value = serde_json::to_value(&eval)?;
                value["dataset"] = data.record.name.clone().into();
                value["trained_on"] = data.trained_on.clone().into();
                value["cross_dataset"] = data.is_cross().into();
                value["data"] = serde_json::to_value(&data.record)?;
                if let Some(n) = logits {
                    value["logits"] = serde_json::to_value(saved.logits(&data.data, n, &device)?)?;
                }
                println!("{}", serde_json::to_string_pretty(&value)?);
                return Ok(());
            }
            println!(
                "model: {} (experiment '{}')\nbackend: {backend} - {}\ndata: {} - {} ({})",
                saved.path.display(),
                saved.experiment.name,
                compute.description,
                data.label(),
                data.record.dir.display(),
                data.record.source
            );
            if data.is_cross() {
                println!(
                    "note: evaluated on {}, not on {} which the model was trained on",
                    data.record.name, data.trained_on
                );
            }
            println!(
                "test: loss {:.4}, accuracy {:.2}% on {} {} images",
                eval.loss, eval.accuracy, eval.images, data.record.name
            );
            let classes = lab10_data::class_names(&data.record.name);
            let per_class: Vec<String> = eval
                .per_class
                .iter()
                .map(|c| format!("{}: {:.1}%", classes[c.digit], c.accuracy))
                .collect();
            println!("per class: {}", per_class.join("  "));
            Ok(())
        }
        Command::Predict {
            target,
            samples,
            seed,
            experiment,
            png,
        } => {
            let device = g.backend()?.device()?;
            let experiment = experiment.map(|n| g.catalog().get(&n)).transpose()?;
            let saved = SavedModel::open(&target, experiment)?;
            let data = saved.test_data(&g.data()?, None)?;
            let eval = saved.evaluate(&data.data, &device)?;
            let classes = lab10_data::class_names(&data.record.name);
            let predictions = sample_predictions(&eval, &data.data, samples, seed);
            println!("data: {}", data.label());
            for p in &predictions {
                let verdict = if p.actual == p.predicted {
                    ""
                } else {
                    "  <- wrong"
                };
                println!(
                    "Index: {:>5}  Actual: {}  Predicted: {}  ({:.1}% sure){verdict}",
                    p.index,
                    classes[p.actual as usize],
                    classes[p.predicted as usize],
                    100.0 * p.confidence
                );
                print!("{}", draw_digit(&p.pixels));
            }
            println!(
                "test accuracy of this model on {}: {:.2}%",
                data.record.name, eval.accuracy
            );
            if let Some(path) = png {
                let grid = lab10_report::digits::DigitGrid::from_predictions(
                    format!(
                        "{} on {}: {samples} test images (seed {seed})",
                        saved.experiment.name,
                        data.label()
                    ),
                    &predictions,
                    classes,
                );
                let picture = lab10_report::render::render(&grid).map_err(anyhow::Error::msg)?;
                lab10_data::atomic::write_atomically(&path, &picture.png)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                println!("wrote {}", path.display());
            }
            Ok(())
        }
        Command::Report { targets, out } => report(g, targets, out),
        Command::Serve {
            targets,
            listen,
            timeout,
        } => serve(g, targets, listen, timeout),
        Command::Datasets => {
            for spec in KNOWN {
                println!("{} - {}", spec.name, spec.title);
                match lab10_data::fetch::find(spec) {
                    Some(found) => println!("  found: {} ({})", found.dir.display(), found.source),
                    None => println!(
                        "  not found locally; looked in {}",
                        lab10_data::fetch::search_path(spec)
                            .iter()
                            .map(|(d, _)| d.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }
                println!("  get it: {}", spec.how_to_get);
                println!("  classes: {}", spec.classes.join(", "));
                println!("  license: {}", spec.license);
            }
            Ok(())
        }
        Command::Backends => {
            for b in BackendKind::ALL {
                if !b.is_compiled() {
                    println!(
                        "{:<8} not compiled in (rebuild with --features {})",
                        b.name(),
                        b.feature()
                    );
                    continue;
                }
                match b.open() {
                    Ok(d) => println!("{:<8} {}", b.name(), d.description),
                    Err(e) => println!("{:<8} unavailable: {e}", b.name()),
                }
            }
            Ok(())
        }
    }
}

fn serve(
    g: &Global,
    targets: Vec<String>,
    listen: std::net::SocketAddr,
    timeout: f64,
) -> Result<()> {
    if !(timeout.is_finite() && timeout > 0.0) {
        anyhow::bail!("--timeout must be a positive number of seconds, not {timeout}");
    }
    let dataset = g.dataset.as_deref().unwrap_or(lab10_data::MNIST.name);
    let runs: Vec<PathBuf> = if targets.is_empty() {
        let root = dataset_root(&g.artifacts, dataset);
        // The lesson's models in the lesson's order, then every other experiment.
        let catalog = g.catalog();
        let mut names =
            get_group(&catalog, "lesson").map_or_else(|_| Vec::new(), |l| l.experiments);
        for name in catalog.names() {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        let runs: Vec<PathBuf> = names
            .iter()
            .filter_map(|name| RunDir::latest_completed(&root.join(name)))
            .map(|run| run.path)
            .collect();
        if runs.is_empty() {
            anyhow::bail!(
                "no completed {dataset} runs under {}; train some first, e.g. \
                 `lab10 train softmax` and `lab10 train dropout`, or name run folders",
                root.display()
            );
        }
        runs
    } else {
        targets
            .iter()
            .map(|t| {
                let Some(dir) = g.experiment_folder(t) else {
                    return Ok(PathBuf::from(t));
                };
                RunDir::latest_completed(&dir)
                    .map(|r| r.path)
                    .with_context(|| {
                        format!(
                            "{} has no completed run; `lab10 train {t}` makes one",
                            dir.display()
                        )
                    })
            })
            .collect::<Result<_>>()?
    };
    let device = g.backend()?.device()?;
    let served = lab10_serve::Served::load(&runs, &g.data()?, device)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}; pass another --listen"))?;
        let names: Vec<&str> = served
            .models
            .iter()
            .map(|m| m.info.experiment.as_str())
            .collect();
        println!(
            "serving {} model(s) ({}) trained on {} at http://{}/ (API: /api/models, /api/predict, \
             /api/sample?index=N, /healthz); Ctrl-C stops",
            names.len(),
            names.join(", "),
            served.dataset,
            listener.local_addr()?
        );
        if !listen.ip().is_loopback() {
            println!(
                "warning: listening on {listen}, beyond this machine; lab10 serve has no \
                 authentication"
            );
        }
        let options = lab10_serve::Options {
            request_timeout: std::time::Duration::from_secs_f64(timeout),
        };
        lab10_serve::serve(
            listener,
            std::sync::Arc::new(served),
            options,
            std::future::pending(),
        )
        .await
        .context("serving")
    })
}

fn report(g: &Global, targets: Vec<String>, out: Option<PathBuf>) -> Result<()> {
    // Names are experiments (their latest run); anything else is a run folder.
    let targets: Vec<PathBuf> = if targets.is_empty() {
        let names = g.catalog().names();
        // Every dataset's runs (or only --dataset's), one table each: per experiment, the
        // newest run that finished (a diverged or stopped `latest` has no final model).
        let datasets: Vec<&str> = match &g.dataset {
            Some(d) => vec![d.as_str()],
            None => KNOWN.iter().map(|d| d.name).collect(),
        };
        let mut found = Vec::new();
        for dir in datasets
            .iter()
            .flat_map(|d| names.iter().map(|n| dataset_root(&g.artifacts, d).join(n)))
        {
            let latest = dir.join("latest");
            match RunDir::latest_completed(&dir) {
                Some(run) => {
                    if latest.exists()
                        && RunDir::open(&latest).ok().map(|r| r.id()) != Some(run.id())
                    {
                        println!(
                            "skipped {}: not completed; showing {} instead",
                            latest.display(),
                            run.path.display()
                        );
                    }
                    found.push(run.path);
                }
                None if latest.exists() => {
                    println!("skipped {}: no completed run", dir.display())
                }
                None => {}
            }
        }
        if found.is_empty() {
            anyhow::bail!(
                "no finished runs under {}; train an experiment first or name run folders",
                g.artifacts.display()
            );
        }
        found
    } else {
        targets
            .iter()
            .map(|t| g.experiment_folder(t).unwrap_or_else(|| PathBuf::from(t)))
            .collect()
    };
    let device = g.backend()?.device()?;
    let data = g.data()?;
    let runs = targets
        .iter()
        .map(|t| lab10_report::RunData::load(t, &data, &device))
        .collect::<Result<Vec<_>, _>>()?;
    let out = out.unwrap_or_else(|| g.artifacts.join("report"));
    let files = lab10_report::write_report(&runs, &out)?;
    println!(
        "wrote {} files to {}; open {}",
        files.len(),
        out.display(),
        out.join("index.html").display()
    );
    Ok(())
}

fn list(g: &Global) -> Result<()> {
    let catalog = g.catalog();
    let all = catalog.all();
    if all.is_empty() {
        anyhow::bail!("no experiment files (*.toml) in {}", catalog.dir.display());
    }
    let width = all.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (name, experiment) in all {
        match experiment {
            Ok(e) => println!(
                "{name:<width$}  {:>9} params  {}",
                thousands(e.model.num_params()),
                e.description
            ),
            Err(err) => println!("{name:<width$}  (invalid: {err})"),
        }
    }
    let groups = group_names(&catalog);
    if !groups.is_empty() {
        println!("\ngroups (lab10 train --group NAME):");
        let width = groups.iter().map(String::len).max().unwrap_or(0);
        for name in groups {
            match get_group(&catalog, &name) {
                Ok(group) => println!(
                    "{name:<width$}  {} x {} seeds: {}  ({})",
                    group.experiments.len(),
                    group.seeds.len(),
                    group.experiments.join(", "),
                    group.description
                ),
                Err(err) => println!("{name:<width$}  (invalid: {err})"),
            }
        }
    }
    Ok(())
}

fn train(g: &Global, args: TrainArgs, stop: &Stop) -> Result<()> {
    let overrides = args.settings.overrides();
    if let Some(name) = args.group {
        let catalog = g.catalog();
        let group = get_group(&catalog, &name)?;
        let opts = GroupOptions {
            train: g.train_options(None, stop)?,
            overrides,
            seeds: args.seeds,
            reuse: !args.no_reuse,
        };
        let (dir, summary) = run_group(&group, &catalog, &opts)?;
        println!("\n{}\nwrote {}", summary.markdown(), dir.display());
        return Ok(());
    }
    let name = args
        .experiment
        .expect("clap requires an experiment without --group");
    let (mut experiment, resume) = match args.resume {
        None => (g.catalog().get(&name)?, None),
        Some(path) => {
            // A resumed run keeps its own resolved settings; only --epochs may extend it.
            if (Overrides {
                epochs: None,
                ..overrides.clone()
            }) != Overrides::default()
            {
                anyhow::bail!(
                    "--resume continues a run with its own settings; only --epochs may change"
                );
            }
            let path = path.unwrap_or_else(|| g.experiment_dir(&name));
            let run = RunDir::open(&path)?;
            (SavedModel::open(&run.path, None)?.experiment, Some(run))
        }
    };
    // A resumed run's experiment.toml is rewritten by the training (under the run's lock), so
    // an extended epoch count is recorded for later resumes and evals.
    experiment.apply(&overrides)?;
    lab10_train::train(&experiment, &g.train_options(resume, stop)?)?;
    Ok(())
}
