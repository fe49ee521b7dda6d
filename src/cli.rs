//! The command line: every flag and command of `lab10` (clap), and what the global flags
//! resolve to.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use lab10_data::{DatasetSpec, FASHION_MNIST, KNOWN, MNIST, Places};
use lab10_experiment::{
    BackendKind, Compute, DataOptions, ExperimentCatalog, Overrides, Provenance, RemoteTarget,
    RunTargets, Stop, WorkerUrl, read_token_file,
};
use lab10_runs::RunDir;
use lab10_track::mlflow::{Mlflow, is_http, without_user_info};
use lab10_train::TrainOptions;

use crate::printer::Printer;

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
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args)]
pub struct Global {
    /// Compute backend (compiled in: see `lab10 backends`) [default: the first compiled in]
    #[arg(long, global = true, value_name = "NAME",
          value_parser = PossibleValuesParser::new(BackendKind::ALL.map(|b| b.name()))
              .map(|name| name.parse::<BackendKind>().expect("one of BackendKind::ALL")))]
    pub backend: Option<BackendKind>,
    /// Dataset (see `lab10 datasets`) [default: the experiment's, or for a trained model its
    /// run's; naming another one evaluates it there, labelled as such]
    #[arg(long, global = true, value_name = "NAME",
          value_parser = PossibleValuesParser::new(KNOWN.map(|d| d.name)))]
    pub dataset: Option<String>,
    /// Folder with the dataset's four IDX files (.gz or raw)
    #[arg(long, global = true, value_name = "DIR", env = "LAB10_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Where downloaded datasets are kept (<DIR>/<dataset>) [default: the user cache's lab10/]
    #[arg(long, global = true, value_name = "DIR", env = "LAB10_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Base URLs that serve MNIST's four .gz files, tried in order, instead of the built-in ones
    #[arg(
        long,
        global = true,
        value_name = "URL,..",
        value_delimiter = ',',
        env = "LAB10_MNIST_MIRRORS"
    )]
    pub mnist_mirrors: Option<Vec<String>>,
    /// The same for Fashion-MNIST
    #[arg(
        long,
        global = true,
        value_name = "URL,..",
        value_delimiter = ',',
        env = "LAB10_FASHION_MNIST_MIRRORS"
    )]
    pub fashion_mnist_mirrors: Option<Vec<String>>,
    /// Accept IDX files that match no known dataset's checksums (recorded as dataset 'custom')
    #[arg(long, global = true)]
    pub no_verify: bool,
    /// Where runs are written
    #[arg(long, global = true, value_name = "DIR", default_value = "artifacts")]
    pub artifacts: PathBuf,
    /// Folder of experiment files [default: ./experiments]
    #[arg(long, global = true, value_name = "DIR", env = "LAB10_EXPERIMENTS_DIR")]
    pub experiments: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum Command {
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
    Ensemble(EnsembleArgs),
    /// Evaluate a trained model on the test set
    Eval(EvalArgs),
    /// Write a trained model as safetensors in PyTorch's layout (torch.nn.Sequential keys,
    /// Linear weights [out, in], the architecture in its metadata) or as ONNX
    Export(ExportArgs),
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
    Predict(PredictArgs),
    /// Write a report of runs: curves, confusion matrices, misclassified digits, a table
    Report(ReportArgs),
    /// Serve a page where the trained models read a digit you draw, side by side, and its JSON
    /// API (no authentication: for your own machine, or behind your own proxy)
    Serve(ServeArgs),
    /// Serve this machine's device (--backend) to other lab10 processes, which train and
    /// evaluate on it with --remote ws://HOST:PORT
    Worker(WorkerArgs),
    /// List the compiled-in backends and the device each would use
    Backends,
    /// List the datasets, where each was found (or how to get it)
    Datasets,
    /// Check runs against their SHA256SUMS (every run, group and ensemble under --artifacts
    /// when none is named): ok, unfinished, damaged or unverified; exits 1 if any is damaged
    Verify(VerifyArgs),
    /// MLflow tracking: `lab10 mlflow sync` sends runs to a tracking server (docs/tracking.md)
    #[command(subcommand)]
    Mlflow(MlflowCommand),
}

#[derive(Subcommand)]
pub enum MlflowCommand {
    /// Send runs to the MLflow tracking server: those trained without --mlflow, and what a run
    /// could not send while training (the server away); nothing is sent twice
    Sync(SyncArgs),
    /// Register a run's model (its MLflow Model, `runs:/<id>/model`) as a new version in the
    /// server's Model Registry, tagged with its test accuracy and lab10 run id; the run is
    /// synced first
    Register(RegisterArgs),
}

#[derive(Args)]
pub struct RegisterArgs {
    /// A finished run: its folder, or an experiment's name (its newest completed run)
    pub run: PathBuf,
    /// The registered model's name (created if the registry has none)
    pub name: String,
    #[command(flatten)]
    pub server: ServerArgs,
}

/// The tracking server of `lab10 mlflow` (its value hidden from --help: it may hold a password).
#[derive(Args)]
pub struct ServerArgs {
    /// The tracking server (http://HOST:PORT)
    #[arg(
        long,
        value_name = "URI",
        env = "MLFLOW_TRACKING_URI",
        hide_env_values = true
    )]
    pub mlflow: String,
    /// The MLflow experiment of runs not sent before [default: lab10/<experiment>]
    #[arg(long, value_name = "NAME", env = "MLFLOW_EXPERIMENT_NAME")]
    pub mlflow_experiment: Option<String>,
}

impl ServerArgs {
    pub fn mlflow(&self) -> Mlflow {
        Mlflow::new(&self.mlflow, self.mlflow_experiment.clone())
    }
}

#[derive(Args)]
pub struct SyncArgs {
    /// Experiment names (their newest completed run), run folders or artifacts/<experiment>
    /// folders [default: every run under --artifacts]
    pub targets: Vec<PathBuf>,
    #[command(flatten)]
    pub server: ServerArgs,
    /// One JSON object per run: {"path", "run_id", "points", "artifacts"} or {"path", "error"}
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct TrainArgs {
    /// Experiment name (see `lab10 list`) or path to a .toml file
    #[arg(required_unless_present = "group")]
    pub experiment: Option<String>,
    /// Train a group instead (see `lab10 list`): every experiment with every seed, then one
    /// comparison table in artifacts/groups/<group>/
    #[arg(long, value_name = "NAME", conflicts_with_all = ["experiment", "resume", "seed"])]
    pub group: Option<String>,
    /// With --group: these seeds instead of the group's (comma-separated)
    #[arg(long, value_name = "S,S,..", value_delimiter = ',', requires = "group")]
    pub seeds: Option<Vec<u64>>,
    #[command(flatten)]
    pub overrides: Overrides,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// With --group: how its members are trained
    #[command(flatten)]
    pub study: StudyArgs,
    #[command(flatten)]
    pub tracking: TrackingArgs,
    /// Continue an interrupted run from its last checkpoint: the given run folder, or
    /// artifacts/<experiment>/latest when none is given
    #[arg(long, value_name = "RUN", num_args = 0..=1)]
    pub resume: Option<Option<PathBuf>>,
    /// Train this experiment once, whoever started it: nothing if an identical run finished,
    /// resume its own unfinished run (same settings and seed, not `latest`) if one has a
    /// checkpoint, else start one. What a member's process runs (--jobs, a Slurm array task,
    /// again after a requeue)
    #[arg(long = "continue", conflicts_with_all = ["group", "resume"])]
    pub continue_own: bool,
    /// Print progress as JSON lines (one object per event, "event" names it) instead of text
    #[arg(long)]
    pub json: bool,
    /// With --mlflow: register the run's model in MLflow's Model Registry as a new version of
    /// NAME (see `lab10 mlflow register`)
    #[arg(long, value_name = "NAME", conflicts_with_all = ["group", "continue_own"])]
    pub register: Option<String>,
}

/// How the members of a group or an ensemble are trained: here, with `--jobs`, or `--slurm`.
#[derive(Args)]
pub struct StudyArgs {
    /// Train every member again instead of reusing finished identical runs
    #[arg(long)]
    pub no_reuse: bool,
    /// Train N members side by side, each in its own local process
    #[arg(
        long,
        value_name = "N",
        allow_negative_numbers = true,
        conflicts_with = "remote"
    )]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub slurm: SlurmArgs,
}

#[derive(Args)]
pub struct EnsembleArgs {
    /// Experiment name (see `lab10 list`) or path to a .toml file
    pub experiment: String,
    /// How many members
    #[arg(
        long,
        value_name = "N",
        default_value_t = 5,
        allow_negative_numbers = true
    )]
    pub members: usize,
    #[command(flatten)]
    pub overrides: Overrides,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub study: StudyArgs,
    #[command(flatten)]
    pub tracking: TrackingArgs,
    /// Print progress as JSON lines (one object per event, "event" names it) instead of text
    #[arg(long)]
    pub json: bool,
}

/// MLflow tracking (docs/tracking.md), by flag or by MLflow's own environment variables.
#[derive(Args, Clone, Default)]
pub struct TrackingArgs {
    /// Log the runs to this MLflow tracking server (http://HOST:PORT): params, tags, metrics
    /// per epoch, artifacts and status; a group's or ensemble's members as nested runs [env:
    /// MLFLOW_TRACKING_URI, when it names an http(s) server]
    #[arg(long, value_name = "URI")]
    pub mlflow: Option<String>,
    /// The MLflow experiment [default: lab10/<experiment>, lab10/groups/<group>,
    /// lab10/ensembles/<experiment>]
    #[arg(long, value_name = "NAME", env = "MLFLOW_EXPERIMENT_NAME")]
    pub mlflow_experiment: Option<String>,
    /// The group's or ensemble's MLflow run the run is nested under (set by lab10 for the
    /// member processes of --jobs and --slurm)
    #[arg(
        long,
        value_name = "RUN_ID",
        env = "LAB10_MLFLOW_PARENT_RUN_ID",
        hide = true
    )]
    pub mlflow_parent: Option<String>,
}

impl TrackingArgs {
    /// `--mlflow`, else `MLFLOW_TRACKING_URI` if an http(s) server (`file:` etc.: off, noted).
    pub fn mlflow(&self) -> Option<Mlflow> {
        let uri = match &self.mlflow {
            Some(uri) => uri.clone(),
            None => {
                let uri = std::env::var("MLFLOW_TRACKING_URI")
                    .ok()
                    .filter(|u| !u.is_empty())?;
                if !is_http(&uri) {
                    eprintln!(
                        "note: MLFLOW_TRACKING_URI={} is not a tracking server lab10 can log \
                         to (http://HOST:PORT), so this run is not logged to MLflow",
                        without_user_info(&uri).0
                    );
                    return None;
                }
                uri
            }
        };
        Some(Mlflow {
            parent: self.mlflow_parent.clone(),
            ..Mlflow::new(&uri, self.mlflow_experiment.clone())
        })
    }
}

/// A group's or an ensemble's members as a Slurm job array (docs/cluster.md).
#[derive(Args, Clone, Default)]
pub struct SlurmArgs {
    /// Submit the members as a Slurm job array (one task per member not yet finished) and a
    /// summary job after it; prints the job ids and where the logs are
    #[arg(long, conflicts_with_all = ["jobs", "remote", "collect"])]
    pub slurm: bool,
    /// With --slurm: an option for sbatch, for both jobs (repeatable): --sbatch-arg=--partition=gpu
    #[arg(
        long,
        value_name = "ARG",
        allow_hyphen_values = true,
        requires = "slurm"
    )]
    pub sbatch_arg: Vec<String>,
    /// With --slurm: the seconds before the time limit at which Slurm sends SIGUSR1; a member
    /// then saves its checkpoints and requeues itself
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 120,
        requires = "slurm"
    )]
    pub slurm_signal: u32,
    /// With --slurm: write the job's scripts and print them, submit nothing
    #[arg(long, requires = "slurm")]
    pub slurm_dry_run: bool,
    /// Train nothing: write the summary from the members' finished runs, naming those
    /// without one (what the --slurm summary job runs)
    #[arg(long, conflicts_with_all = ["jobs", "no_reuse"])]
    pub collect: bool,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// Experiment names (their newest completed run), run folders or artifacts/<experiment>
    /// folders [default: every run, group and ensemble under --artifacts]
    pub targets: Vec<PathBuf>,
    /// One JSON object per folder: {"path", "state", ...}
    #[arg(long)]
    pub json: bool,
    /// Give a run written without a manifest (by an earlier lab10) one, after checking that it
    /// loads and evaluates to the test accuracy its report records
    #[arg(long)]
    pub seal: bool,
}

/// Where a command computes when not on this machine's --backend.
#[derive(Args, Clone, Default)]
pub struct RemoteArgs {
    /// Compute on the device a `lab10 worker` serves (instead of --backend); the run folder
    /// and every file it writes stay on this machine
    #[arg(long, value_name = "ws://HOST:PORT")]
    pub remote: Option<WorkerUrl>,
    /// The worker's token: the first line of FILE (what `lab10 worker` printed, or its own
    /// --token-file)
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
}

#[derive(Args)]
pub struct WorkerArgs {
    /// Address to listen on. Anything but loopback lets the network reach the device: keep
    /// the token, and know that WebSocket is unencrypted (a trusted network, or an ssh tunnel)
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:3000")]
    pub listen: String,
    /// Clients must present the token on the first line of FILE [default: a new token,
    /// printed once]
    #[arg(long, value_name = "FILE", conflicts_with = "no_auth")]
    pub token_file: Option<PathBuf>,
    /// No token: any process that reaches the port may use the device (loopback only)
    #[arg(long)]
    pub no_auth: bool,
}

#[derive(Args)]
pub struct EvalArgs {
    /// An experiment name (its newest completed run), a run folder, artifacts/<experiment>
    /// (its latest run) or a .bpk model file
    pub target: PathBuf,
    /// Architecture of a model file outside a run (default: the run's own experiment)
    #[arg(long, value_name = "NAME")]
    pub experiment: Option<String>,
    /// Evaluate on the first N test images only
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub test_size: Option<usize>,
    /// Print the evaluation as JSON (loss, accuracy, per-class accuracy)
    #[arg(long)]
    pub json: bool,
    /// With --json: also the logits of the first N test images (to check a model
    /// elsewhere, e.g. scripts/check-export.py)
    #[arg(long, value_name = "N", requires = "json")]
    pub logits: Option<usize>,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

#[derive(Args)]
pub struct ExportArgs {
    /// An experiment's name (its newest completed run), a run folder, artifacts/<experiment>
    /// (its latest run) or a .bpk model file
    pub target: PathBuf,
    /// Output file, its format by its extension: .safetensors or .onnx [default:
    /// model.safetensors (or model.onnx with --format onnx) in the run folder, or beside the .bpk]
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The format, for an --out whose extension does not say it
    #[arg(long, value_enum)]
    pub format: Option<ExportFormat>,
    /// Replace an existing output file
    #[arg(long)]
    pub force: bool,
    /// Architecture of a model file outside a run (default: the run's own experiment)
    #[arg(long, value_name = "NAME")]
    pub experiment: Option<String>,
}

/// What `lab10 export` writes.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum ExportFormat {
    /// PyTorch's layout, with the architecture in the metadata (NumPy and PyTorch read it)
    Safetensors,
    /// An ONNX graph: raw pixels in, logits and probabilities out (ONNX Runtime runs it)
    Onnx,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Safetensors => "safetensors",
            ExportFormat::Onnx => "onnx",
        }
    }
}

#[derive(Args)]
pub struct PredictArgs {
    /// An experiment name (its newest completed run), a run folder, artifacts/<experiment>
    /// (its latest run) or a .bpk model file
    pub target: PathBuf,
    /// How many test images
    #[arg(long, default_value_t = 10, allow_negative_numbers = true)]
    pub samples: usize,
    /// Seed of the random choice of images
    #[arg(long, default_value_t = 777)]
    pub seed: u64,
    /// Architecture of a model file outside a run (default: the run's own experiment)
    #[arg(long, value_name = "NAME")]
    pub experiment: Option<String>,
    /// Also draw the sampled digits with their predictions into this PNG file
    #[arg(long, value_name = "FILE")]
    pub png: Option<PathBuf>,
}

#[derive(Args)]
pub struct ReportArgs {
    /// Experiment names (their newest completed runs) or run folders [default: the newest
    /// completed run of every experiment under --artifacts]
    pub targets: Vec<String>,
    /// Output folder [default: <artifacts>/report]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Args)]
pub struct ServeArgs {
    /// Experiment names (their newest completed runs) or run folders [default: the newest
    /// completed run of every experiment that has one, on --dataset or MNIST]
    pub targets: Vec<String>,
    /// Address to listen on; anything but loopback exposes the models to the network
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8010")]
    pub listen: std::net::SocketAddr,
    /// A request not received and answered within this many seconds gets a 408
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub timeout: f64,
}

impl Global {
    pub fn catalog(&self) -> ExperimentCatalog {
        ExperimentCatalog::locate(self.experiments.as_deref(), BUILTIN_EXPERIMENTS.as_ref())
    }

    pub fn backend(&self) -> Result<BackendKind> {
        let default = || BackendKind::default_compiled().context("no backend compiled in");
        self.backend.map_or_else(default, Ok)
    }

    /// This machine's --backend, or with --remote the worker's device.
    pub fn compute(&self, remote: &RemoteArgs) -> Result<Compute> {
        let Some(url) = &remote.remote else {
            if let Some(file) = &remote.token_file {
                anyhow::bail!(
                    "--token-file {} is the token of a worker: use it with --remote",
                    file.display()
                );
            }
            return Ok(Compute::Local(self.backend()?));
        };
        if let Some(kind) = self.backend {
            anyhow::bail!(
                "--backend {kind} names this machine's backend; with --remote {url} the \
                 computing is the worker's, on the backend its `lab10 worker --backend` serves: \
                 drop one of the two"
            );
        }
        let token = remote.token_file.as_deref().map(read_token_file);
        Ok(Compute::Remote(RemoteTarget {
            url: url.clone(),
            token: token.transpose()?,
        }))
    }

    /// What a run needs from the flags; `json`: progress as JSON lines (`--json`).
    pub fn train_options(
        &self,
        compute: Compute,
        resume: Option<RunDir>,
        stop: &Stop,
        json: bool,
        tracking: &TrackingArgs,
    ) -> Result<TrainOptions> {
        Ok(TrainOptions {
            compute,
            data: self.data()?,
            artifacts: self.artifacts.clone(),
            resume,
            provenance: self.provenance(),
            stop: stop.clone(),
            progress: Arc::new(Printer::new(json)),
            mlflow: tracking.mlflow(),
        })
    }

    /// What a new run's report records of this program: its command line (any URI's
    /// user-info taken out) and commit.
    pub fn provenance(&self) -> Provenance {
        let commit = env!("LAB10_BUILD_COMMIT");
        let args = std::env::args().map(|a| without_user_info(&a).0);
        Provenance {
            command: args.collect::<Vec<_>>().join(" "),
            build_commit: (!commit.is_empty()).then(|| commit.to_string()),
        }
    }

    pub fn data(&self) -> Result<DataOptions> {
        let dataset = self.dataset.as_deref().map(DatasetSpec::by_name);
        Ok(DataOptions {
            dataset: dataset.transpose()?,
            places: self.places(),
            verify: !self.no_verify,
        })
    }

    /// Where datasets are looked for and downloaded from: --data-dir, --cache-dir, mirrors.
    pub fn places(&self) -> Places {
        let mirrors = [
            (MNIST.name, &self.mnist_mirrors),
            (FASHION_MNIST.name, &self.fashion_mnist_mirrors),
        ];
        Places {
            dir: self.data_dir.clone(),
            cache: self.cache_dir.clone(),
            mirrors: mirrors
                .into_iter()
                .filter_map(|(name, urls)| Some((name.to_string(), urls.clone()?)))
                .collect(),
        }
    }

    /// The runs command-line targets name: under --artifacts, on --dataset (or their own).
    pub fn run_targets(&self) -> RunTargets {
        RunTargets {
            artifacts: self.artifacts.clone(),
            dataset: self.dataset.clone(),
            catalog: self.catalog(),
        }
    }

    /// The folders `targets` name, else every run (and group and ensemble unless `runs_only`).
    pub fn result_folders(&self, targets: &[PathBuf], runs_only: bool) -> Result<Vec<PathBuf>> {
        let folders: Vec<PathBuf> = if targets.is_empty() {
            lab10_runs::result_folders(&self.artifacts)
                .into_iter()
                .filter(|dir| !runs_only || dir.join(lab10_runs::EXPERIMENT_FILE).is_file())
                .collect()
        } else {
            let resolver = self.run_targets();
            let open = |target: &PathBuf| Ok(RunDir::open(&resolver.resolve(target)?)?.path);
            targets.iter().map(open).collect::<Result<_>>()?
        };
        if folders.is_empty() {
            anyhow::bail!(
                "no runs under {}; train one first (`lab10 train softmax`) or name run folders",
                self.artifacts.display()
            );
        }
        Ok(folders)
    }
}
