//! Training with burn-train's learner: one run, step by step (`run/`: [`train`], its progress
//! events, per-epoch collection, display, divergence, gradient norms and RBM pre-training), and
//! many runs compared (`studies/`: groups and ensembles, their members one after another or side
//! by side). The rest of what a run is (experiments, backends, its data, the step that finishes
//! it: lab10-experiment; its folder: lab10-runs; its trackers: lab10-track) is not here. The
//! library never prints: a run reports to the [`Progress`] its caller passes in.
//! `docs/layout.md` describes every file; the modules import one another without circles
//! (`scripts/check-module-cycles.py`).

mod run;
mod studies;

pub use run::{Event, Progress, Reused, TrainOptions, TrainOutcome, train};
pub use studies::StudyMode;
pub use studies::ensemble::{
    EnsembleOptions, EnsembleReport, average, ensemble_members, probabilities, run_ensemble, score,
};
pub use studies::group::{
    GroupOptions, GroupSummary, StudyMembers, experiments_by_topic, get_group, group_members,
    group_names, run_group,
};
pub use studies::jobs::{Jobs, MemberProcess};
pub use studies::member::StudyMember;
pub use studies::reuse::{find_completed_run, find_unfinished_run};
