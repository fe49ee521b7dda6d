//! What the profiling examples share: one experiment's model, optimiser and training data, set
//! up as `lab10 train` sets them up, so that they can take the learner's steps one phase at a
//! time.

// Each example uses a part of it.
#![allow(dead_code)]

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::Dataset;
use burn::optim::ModuleOptimizer;
use burn::prelude::Device;
use lab10_data::{Mnist, Split};
use lab10_experiment::{BackendKind, Experiment, ExperimentCatalog};
use lab10_models::Mlp;
use lab10_models::{MnistBatch, MnistBatcher, MnistDataset};

// The CLI's allocator, so that the phases cost what they cost in `lab10 train`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The repository: `LAB10_REPO`, else the one the example was built in (a binary copied to
/// another machine is pointed at its checkout with `LAB10_REPO=.`).
pub fn repo() -> std::path::PathBuf {
    std::env::var_os("LAB10_REPO")
        .map(Into::into)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
}

/// `name` from the repository's experiments/ folder.
pub fn experiment(name: &str) -> Experiment {
    ExperimentCatalog {
        dir: repo().join("experiments"),
    }
    .get(name)
    .unwrap_or_else(|e| panic!("experiment {name}: {e}"))
}

pub struct Steps {
    pub experiment: Experiment,
    /// The backend's device (no autodiff), for tensors outside the training graph.
    pub device: Device,
    pub autodiff: Device,
    pub model: Mlp,
    pub optim: ModuleOptimizer,
    pub lr: f64,
    pub batch_size: usize,
    train: MnistDataset,
    batcher: MnistBatcher,
}

impl Steps {
    /// `name` from experiments/, on `backend`, seeded as `lab10 train` seeds by default.
    pub fn new(name: &str, backend: BackendKind) -> Self {
        let experiment = experiment(name);
        let device = backend
            .device()
            .unwrap_or_else(|e| panic!("backend {backend}: {e}"));
        device.seed(777);
        let autodiff = device.clone().autodiff();
        let data_dir = repo().join("data/mnist");
        let (train, _digests) = Mnist::read(&data_dir, Split::Train)
            .unwrap_or_else(|e| panic!("{}: {e}", data_dir.display()));
        Steps {
            model: experiment.model.init(&autodiff),
            optim: experiment.optimizer.init(),
            lr: experiment.optimizer.learning_rate(),
            batch_size: experiment.training.batch_size,
            batcher: MnistBatcher::new(experiment.training.pixels),
            train: MnistDataset::new(train),
            experiment,
            device,
            autodiff,
        }
    }

    /// Step `step`'s batch: consecutive images, wrapping around the training set.
    pub fn batch(&self, step: usize) -> MnistBatch {
        let n = self.batch_size;
        let start = (step * n) % (self.train.len() - n);
        let items: Vec<_> = (start..start + n)
            .map(|i| self.train.get(i).expect("index within the training set"))
            .collect();
        self.batcher.batch(items, &self.autodiff)
    }
}
