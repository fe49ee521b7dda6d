//! A study's member ([`StudyMember`]) and what it ends with ([`Finished`], an [`Outcome`]).

use lab10_experiment::Experiment;

use lab10_runs::{Error, Report, Result, RunDir};

/// One member of a group or an ensemble: its experiment (seed, dataset and overrides set) and
/// the label its progress events carry ("[2/6] xavier seed 778").
#[derive(Debug, Clone)]
pub struct StudyMember {
    pub experiment: Experiment,
    pub label: String,
}

/// Every one of `experiments` with each of `seeds`, in that order, labelled.
pub(crate) fn with_seeds(experiments: &[Experiment], seeds: &[u64]) -> Vec<StudyMember> {
    let n = experiments.len() * seeds.len();
    let seeded = experiments
        .iter()
        .flat_map(|e| seeds.iter().map(move |&seed| (e, seed)));
    seeded
        .enumerate()
        .map(|(i, (e, seed))| {
            let mut experiment = e.clone();
            experiment.training.seed = seed;
            let label = format!("[{}/{n}] {} seed {seed}", i + 1, experiment.name);
            StudyMember { experiment, label }
        })
        .collect()
}

/// What a study does after each member finishes, given every result so far.
pub(crate) type OnFinished<'f> = dyn FnMut(&[Option<Finished>]) -> Result<()> + Send + 'f;

/// What became of a study's members.
pub(crate) struct Outcome {
    /// In member order; `None` for a member not trained.
    pub results: Vec<Option<Finished>>,
    /// Why members are missing: a stop, a failed member.
    pub ended: Option<Error>,
}

impl Outcome {
    /// The members not trained.
    pub fn missing<'m>(&self, members: &'m [StudyMember]) -> impl Iterator<Item = &'m Experiment> {
        let results = self.results.iter();
        let missing = members.iter().zip(results).filter(|(_, r)| r.is_none());
        missing.map(|(m, _)| &m.experiment)
    }
}

/// A member's finished run.
pub(crate) struct Finished {
    pub run: RunDir,
    pub report: Report,
    /// Taken from an earlier identical run instead of trained.
    pub reused: bool,
}
