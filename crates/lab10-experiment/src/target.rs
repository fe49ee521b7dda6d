//! What a command-line target names: an experiment with runs (its newest completed run), or a
//! path as given (a run folder, an experiment folder meaning its `latest` run, a model file).
//! `lab10 eval`, `predict`, `report` and `serve` resolve their targets here, by one rule.

use std::path::{Component, Path, PathBuf};

use crate::config::experiment::ExperimentCatalog;
use lab10_runs::{Error, Result, RunDir, dataset_root};

/// The runs a command can name: those under the artifacts folder, on the dataset `--dataset`
/// names, or else on each experiment's own.
#[derive(Debug, Clone)]
pub struct RunTargets {
    pub artifacts: PathBuf,
    /// `--dataset`; `None`: each experiment's own dataset.
    pub dataset: Option<String>,
    /// The experiments, for their datasets.
    pub catalog: ExperimentCatalog,
}

impl RunTargets {
    /// The folder of `experiment`'s runs: on `--dataset`, else on the experiment's own dataset
    /// (MNIST for an experiment the catalog does not know).
    pub fn experiment_dir(&self, experiment: &str) -> PathBuf {
        let dataset = self.dataset.clone().unwrap_or_else(|| {
            self.catalog
                .get(experiment)
                .map_or_else(|_| lab10_data::MNIST.name.to_string(), |e| e.dataset)
        });
        dataset_root(&self.artifacts, &dataset).join(experiment)
    }

    /// Every target of a command that takes several (`report`, `serve`, `site`), in order;
    /// the first that means no run is the error.
    pub fn resolve_all<T: AsRef<Path>>(&self, targets: &[T]) -> Result<Vec<PathBuf>> {
        targets.iter().map(|t| self.resolve(t.as_ref())).collect()
    }

    /// What `target` names: for an experiment with runs (one plain name whose folder exists),
    /// its newest completed run (its `latest` may have diverged or been stopped); otherwise the
    /// path as given.
    pub fn resolve(&self, target: &Path) -> Result<PathBuf> {
        let dir = experiment_name(target).map(|name| self.experiment_dir(name));
        let Some(dir) = dir.filter(|dir| dir.is_dir()) else {
            // A known experiment's name that is no path either: it has no runs here yet.
            if let Some(name) = experiment_name(target)
                && !target.exists()
                && self.catalog.get(name).is_ok()
            {
                return Err(Error::Invalid(format!(
                    "no runs of {name} under {}; `lab10 train {name}` makes one",
                    self.experiment_dir(name).display()
                )));
            }
            return Ok(target.to_path_buf());
        };
        RunDir::latest_completed(&dir)?
            .map(|run| run.path)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "{} has no completed run; `lab10 train {}` makes one",
                    dir.display(),
                    target.display()
                ))
            })
    }
}

/// The experiment a target names: one plain name (not `.`, `..`, nor a path with `/`).
fn experiment_name(target: &Path) -> Option<&str> {
    match target.components().collect::<Vec<_>>()[..] {
        [Component::Normal(name)] => name.to_str(),
        _ => None,
    }
}
