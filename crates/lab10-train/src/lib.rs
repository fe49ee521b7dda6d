//! Training with burn-train's learner: one run, step by step (`run/`: [`train`]), and many runs
//! compared (`studies/`: groups and ensembles). The library never prints: a run reports to the
//! [`Progress`] its caller passes in. `docs/layout.md` describes every file.

mod run;
mod studies;

pub use run::{Event, Progress, Reused, TrainOptions, TrainOutcome, train};
pub use studies::ensemble::{
    EnsembleReport, average, ensemble_members, probabilities, run_ensemble, score,
};
pub use studies::group::{
    GroupSummary, StudyMembers, experiments_by_topic, get_group, group_members, group_names,
    run_group,
};
pub use studies::jobs::{Jobs, MemberProcess};
pub use studies::member::StudyMember;
pub use studies::reuse::{find_completed_run, find_unfinished_run};
pub use studies::{StudyMode, StudyOptions};
