//! Groups: a related set of experiments (a TOML file in `experiments/groups/`) trained with
//! several seeds, summarised in one table, so a claim of the lesson ("Xavier beats normal(0,
//! 1)") is judged against seed-to-seed noise.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use lab10_experiment::{Experiment, ExperimentCatalog, reference_for, toml_stems};

use lab10_runs::{
    EpochRecord, Error, Report, Result, RunDir, dataset_root, markdown_table, metrics, utc_now,
};
use serde::{Deserialize, Serialize};

use super::member::{Finished, StudyMember, with_seeds};
use super::{Spread, StudyOptions, run_study, study_dir, write_study_files};

pub const GROUPS_DIR: &str = "groups";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// One line for `lab10 list`.
    pub description: String,
    /// The lesson's claim this group tests, printed above its table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    /// Experiment names, in table order.
    pub experiments: Vec<String>,
    /// Every experiment is trained once per seed.
    pub seeds: Vec<u64>,
}

impl Group {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, e))?;
        let bad = |message: String| Error::ExperimentFile {
            path: path.to_path_buf(),
            message,
        };
        let mut group: Group = toml::from_str(&text)
            .map_err(|e| bad(e.to_string().trim_end().replace('\n', "\n  ")))?;
        if group.name.is_empty() {
            group.name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
        }
        if group.experiments.is_empty() {
            return Err(bad("a group needs at least one experiment".into()));
        }
        if group.seeds.is_empty() {
            return Err(bad("a group needs at least one seed".into()));
        }
        Ok(group)
    }

    /// Checks that every member exists and parses, before hours of training start.
    pub fn resolve(&self, catalog: &ExperimentCatalog) -> Result<Vec<Experiment>> {
        self.experiments.iter().map(|n| catalog.get(n)).collect()
    }
}

/// The lesson's topics in the order it takes them up; each is a group file.
pub const LESSON_TOPICS: [&str; 7] = [
    "lesson",
    "init",
    "regularisation",
    "dropout-sweep",
    "vanishing",
    "pretraining",
    "optimizers",
];

/// The group files next to the experiments (`experiments/groups/*.toml`): the lesson's topics
/// in its order ([`LESSON_TOPICS`]), then any others alphabetically.
pub fn group_names(catalog: &ExperimentCatalog) -> Vec<String> {
    let mut names = toml_stems(&catalog.dir.join(GROUPS_DIR));
    names.sort_by_key(|n| {
        let topic = LESSON_TOPICS.iter().position(|t| t == n);
        (topic.unwrap_or(LESSON_TOPICS.len()), n.clone())
    });
    names
}

/// The experiments by topic, each once under its first topic in the groups' order, then those
/// no group names (under `None`); a group that cannot be read adds nothing.
pub fn experiments_by_topic(catalog: &ExperimentCatalog) -> Vec<(Option<String>, Vec<String>)> {
    let all = catalog.names();
    let mut listed: Vec<String> = Vec::new();
    let mut topics = Vec::new();
    for name in group_names(catalog) {
        let Ok(group) = get_group(catalog, &name) else {
            continue;
        };
        let new: Vec<String> = group
            .experiments
            .into_iter()
            .filter(|e| all.contains(e) && !listed.contains(e))
            .collect();
        if !new.is_empty() {
            listed.extend(new.iter().cloned());
            topics.push((Some(name), new));
        }
    }
    let rest: Vec<String> = all.into_iter().filter(|e| !listed.contains(e)).collect();
    if !rest.is_empty() {
        topics.push((None, rest));
    }
    topics
}

pub fn get_group(catalog: &ExperimentCatalog, name: &str) -> Result<Group> {
    let dir = catalog.dir.join(GROUPS_DIR);
    let path = dir.join(format!("{name}.toml"));
    if !path.is_file() {
        let known = group_names(catalog).join(", ");
        let known = if known.is_empty() { "none" } else { &known };
        return Err(Error::Invalid(format!(
            "unknown group '{name}'. Known groups: {known}. (Looked in {}.)",
            dir.display()
        )));
    }
    Group::load(&path)
}

/// One trained (or reused) member of a group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemberRun {
    pub experiment: String,
    pub seed: u64,
    pub run: PathBuf,
    pub reused: bool,
    pub test_accuracy: f64,
    pub test_loss: f64,
    pub first_epoch_train_loss: f64,
    pub final_train_loss: f64,
    pub mean_epoch_seconds: f64,
    /// Epoch-1 gradient norm of the first layer over the last layer's, when recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gradient_ratio: Option<f64>,
}

impl MemberRun {
    fn new(experiment: &str, run: &RunDir, report: &Report, reused: bool) -> Result<Self> {
        let history: Vec<EpochRecord> = metrics::read(run)?;
        let first = history.first();
        let gradient_ratio = first.and_then(|r| {
            let g = &r.gradient_norms;
            (g.len() >= 2).then(|| g[0] / g[g.len() - 1])
        });
        Ok(Self {
            experiment: experiment.to_string(),
            seed: report.seed,
            run: run.path.clone(),
            reused,
            test_accuracy: report.test_accuracy,
            test_loss: report.test_loss,
            first_epoch_train_loss: first.map_or(f64::NAN, |r| r.train_loss),
            final_train_loss: report.final_train_loss,
            mean_epoch_seconds: report.mean_epoch_seconds,
            gradient_ratio,
        })
    }
}

/// One row of a group's table: an experiment over its seeds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupRow {
    pub experiment: String,
    pub description: String,
    pub reference: Option<String>,
    pub test_accuracy: Spread,
    pub first_epoch_train_loss: Spread,
    pub final_train_loss: Spread,
    pub test_loss: Spread,
    pub epoch_seconds: Spread,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gradient_ratio: Option<Spread>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupSummary {
    pub group: String,
    pub description: String,
    pub claim: Option<String>,
    /// The dataset every member trained on (`mnist` for a summary without this field).
    #[serde(default = "lab10_runs::default_dataset")]
    pub dataset: String,
    pub backend: String,
    pub seeds: Vec<u64>,
    pub rows: Vec<GroupRow>,
    pub runs: Vec<MemberRun>,
    /// Members not trained because the group was stopped (`experiment seed N`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    pub finished_at: String,
}

impl GroupSummary {
    pub fn new(
        group: &Group,
        experiments: &[Experiment],
        backend: &str,
        runs: &[MemberRun],
        missing: Vec<String>,
    ) -> Self {
        let rows = experiments
            .iter()
            .filter_map(|e| {
                let mine: Vec<&MemberRun> =
                    runs.iter().filter(|r| r.experiment == e.name).collect();
                if mine.is_empty() {
                    return None;
                }
                let spread = |f: fn(&MemberRun) -> f64| {
                    Spread::of(&mine.iter().map(|r| f(r)).collect::<Vec<_>>())
                };
                let ratios: Vec<f64> = mine.iter().filter_map(|r| r.gradient_ratio).collect();
                Some(GroupRow {
                    experiment: e.name.clone(),
                    description: e.description.clone(),
                    reference: reference_for(&e.dataset, e.reference.as_deref()),
                    test_accuracy: spread(|r| r.test_accuracy),
                    first_epoch_train_loss: spread(|r| r.first_epoch_train_loss),
                    final_train_loss: spread(|r| r.final_train_loss),
                    test_loss: spread(|r| r.test_loss),
                    epoch_seconds: spread(|r| r.mean_epoch_seconds),
                    gradient_ratio: (!ratios.is_empty()).then(|| Spread::of(&ratios)),
                })
            })
            .collect();
        Self {
            group: group.name.clone(),
            description: group.description.clone(),
            claim: group.claim.clone(),
            dataset: experiments
                .first()
                .map_or_else(lab10_runs::default_dataset, |e| e.dataset.clone()),
            backend: backend.into(),
            seeds: group.seeds.clone(),
            rows,
            runs: runs.to_vec(),
            missing,
            finished_at: utc_now(),
        }
    }

    /// The comparison table, as Markdown (also printed at the end of `lab10 train --group`).
    pub fn markdown(&self) -> String {
        let with_grads = self.rows.iter().any(|r| r.gradient_ratio.is_some());
        let mut out = format!("## Group `{}`: {}\n\n", self.group, self.description);
        if let Some(claim) = &self.claim {
            out.push_str(&format!("Claim: {claim}\n\n"));
        }
        out.push_str(&format!(
            "Dataset {}, backend {}, seeds {:?}; mean ± sample standard deviation over seeds, \
             [min, max] of test accuracy.\n\n",
            self.dataset, self.backend, self.seeds
        ));
        if !self.missing.is_empty() {
            out.push_str(&format!(
                "**Incomplete: the group ended early (stopped, or a member failed); missing \
                 {}.**\n\n",
                self.missing.join(", ")
            ));
        }
        let mut header = vec![
            "experiment",
            "runs",
            "test accuracy %",
            "[min, max]",
            "epoch-1 train loss",
            "final train loss",
            "test loss",
            "s/epoch",
        ];
        if with_grads {
            header.push("grad L1 / grad last (epoch 1)");
        }
        header.push("reference");
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                let a = &r.test_accuracy;
                let mut row = vec![
                    r.experiment.clone(),
                    a.n.to_string(),
                    a.show(2),
                    format!("[{:.2}, {:.2}]", a.min, a.max),
                    r.first_epoch_train_loss.show(3),
                    r.final_train_loss.show(4),
                    r.test_loss.show(4),
                    r.epoch_seconds.show(2),
                ];
                if with_grads {
                    row.push(r.gradient_ratio.map_or("-".into(), |g| {
                        if g.n > 1 {
                            format!("{:.2e} ± {:.1e}", g.mean, g.sd)
                        } else {
                            format!("{:.2e}", g.mean)
                        }
                    }));
                }
                row.push(r.reference.clone().unwrap_or_else(|| "-".into()));
                row
            })
            .collect();
        out.push_str(&markdown_table(&header, &rows));
        out.push('\n');
        out
    }
}

/// `summary.md` and `summary.json` in the group's folder `dir`; their paths.
fn write_summary(dir: &Path, summary: &GroupSummary) -> Result<Vec<PathBuf>> {
    let bytes = serde_json::to_vec_pretty(summary).expect("summary serialises");
    write_study_files(
        dir,
        &[
            ("summary.md", summary.markdown().as_bytes()),
            ("summary.json", &bytes),
        ],
    )
}

/// Every experiment of `group` (`seeds`, from the command line, and overrides applied) with
/// every seed, labelled.
pub fn group_members(
    group: &Group,
    catalog: &ExperimentCatalog,
    opts: &StudyOptions,
    seeds: Option<&[u64]>,
) -> Result<StudyMembers> {
    let mut group = group.clone();
    if let Some(seeds) = seeds {
        group.seeds = seeds.to_vec();
    }
    let mut experiments = group.resolve(catalog)?;
    for e in &mut experiments {
        e.apply(&opts.overrides)?;
        e.dataset = opts.train.data.dataset_for(e)?.name.to_string();
    }
    Ok(StudyMembers {
        artifacts: dataset_root(&opts.train.artifacts, &experiments[0].dataset),
        members: with_seeds(&experiments, &group.seeds),
        experiments,
        group,
    })
}

/// A group's members, planned.
pub struct StudyMembers {
    /// Where their runs are: the artifacts folder of their dataset.
    pub artifacts: PathBuf,
    /// In order.
    pub members: Vec<StudyMember>,
    /// The group's experiments (overrides applied), for its table's rows.
    pub experiments: Vec<Experiment>,
    /// The group, with `--seeds` applied.
    pub group: Group,
}

/// Trains every experiment of `group` with every seed (reusing finished identical runs),
/// rewriting the summary after each run, so an interrupted group still leaves its table.
pub fn run_group(
    group: &Group,
    catalog: &ExperimentCatalog,
    opts: &StudyOptions,
    seeds: Option<&[u64]>,
) -> Result<(PathBuf, GroupSummary)> {
    let StudyMembers {
        artifacts,
        members,
        experiments,
        group,
    } = group_members(group, catalog, opts, seeds)?;
    let backend = opts.train.compute.name();
    let dir = study_dir(&artifacts, GROUPS_DIR, &group.name, backend)?;
    let summarise = |results: &[Option<Finished>], missing: Vec<String>| -> Result<GroupSummary> {
        let runs = results
            .iter()
            .zip(&members)
            .filter_map(|(r, m)| r.as_ref().map(|f| (&m.experiment, f)))
            .map(|(e, f)| MemberRun::new(&e.name, &f.run, &f.report, f.reused))
            .collect::<Result<Vec<_>>>()?;
        Ok(GroupSummary::new(
            &group,
            &experiments,
            backend,
            &runs,
            missing,
        ))
    };
    let dataset = members
        .first()
        .map_or_else(String::new, |m| m.experiment.dataset.clone());
    let (outcome, tracking) = run_study(
        &opts.train,
        (opts.mode, opts.jobs.as_ref()),
        ("groups", &group.name, &dataset),
        &mlflow_params(&group, &experiments, backend),
        (&members, &artifacts),
        &mut |results| write_summary(&dir, &summarise(results, Vec::new())?).map(drop),
    )?;
    let missing: Vec<String> = outcome
        .missing(&members)
        .map(|e| format!("{} seed {}", e.name, e.training.seed))
        .collect();
    let summary = summarise(&outcome.results, missing.clone())?;
    let files = write_summary(&dir, &summary)?;
    tracking.close(&outcome.results, &files, outcome.ended.as_ref());
    let Some(ended) = outcome.ended else {
        return Ok((dir, summary));
    };
    let (total, done) = (members.len(), members.len() - missing.len());
    let tail = format!(
        "group '{}' ended with {done} of {total} members done; its summary so far is in {}. {}",
        group.name,
        dir.display(),
        opts.mode.to_finish()
    );
    Err(ended.with_tail(&tail))
}

/// The params of the group's MLflow parent run.
fn mlflow_params(
    group: &Group,
    experiments: &[Experiment],
    backend: &str,
) -> Vec<(&'static str, String)> {
    let names: Vec<&str> = experiments.iter().map(|e| e.name.as_str()).collect();
    // Sorted as text, each once.
    let seeds: BTreeSet<String> = group.seeds.iter().map(u64::to_string).collect();
    let members = experiments.len() * group.seeds.len();
    vec![
        ("group", group.name.clone()),
        ("experiments", names.join(",")),
        ("seeds", Vec::from_iter(seeds).join(",")),
        ("members", members.to_string()),
        ("backend", backend.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_is_mean_sample_sd_and_range() {
        let s = Spread::of(&[97.0, 98.0, 99.0]);
        assert_eq!(
            (s.n, s.mean, s.sd, s.min, s.max),
            (3, 98.0, 1.0, 97.0, 99.0)
        );
        assert_eq!(s.show(2), "98.00 ± 1.00");
        assert_eq!(Spread::of(&[5.0]).show(1), "5.0");
    }

    #[test]
    fn shipped_groups_parse_and_name_existing_experiments() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
        let catalog = ExperimentCatalog { dir };
        let names = group_names(&catalog);
        assert!(names.len() >= 5, "{names:?}");
        for name in names {
            let group = get_group(&catalog, &name).unwrap();
            assert_eq!(group.name, name);
            group
                .resolve(&catalog)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let err = get_group(&catalog, "nope").unwrap_err().to_string();
        assert!(err.contains("unknown group 'nope'"), "{err}");
    }

    #[test]
    fn experiments_come_in_the_lessons_order_each_once() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
        let catalog = ExperimentCatalog { dir };
        assert_eq!(
            &group_names(&catalog)[..3],
            ["lesson", "init", "regularisation"]
        );
        let topics = experiments_by_topic(&catalog);
        assert_eq!(topics[0].0.as_deref(), Some("lesson"));
        assert_eq!(topics[0].1, ["softmax", "nn", "xavier", "deep", "dropout"]);
        assert_eq!(topics[1].0.as_deref(), Some("init"));
        assert_eq!(topics[1].1, ["xavier-uniform", "he-normal"]);
        let mut all: Vec<String> = topics.into_iter().flat_map(|(_, e)| e).collect();
        let listed = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), listed, "an experiment listed twice");
        assert_eq!(all, catalog.names());
    }
}
