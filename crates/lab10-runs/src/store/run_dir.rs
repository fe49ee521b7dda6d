//! `artifacts/<experiment>/<run-id>/`: one folder per run, never reused, and a `latest` link
//! to the newest run of each experiment. Runs on another dataset than MNIST live under
//! `artifacts/<dataset>/<experiment>/` (see [`dataset_root`]), so they never share `latest`.
//!
//! One process at a time writes a run folder: it holds the folder's lock ([`RunDir::lock`])
//! for as long as it trains. Readers need no lock: every file is written atomically and
//! recorded in the folder's `SHA256SUMS` ([`crate::store::manifest`]), which readers check.

use std::path::{Path, PathBuf};

use lab10_data::atomic::write_atomically;

use crate::error::{Error, Result};
use crate::store::manifest::{MANIFEST_FILE, Manifest, read_checked};
use crate::store::report::Report;

pub const EXPERIMENT_FILE: &str = "experiment.toml";
pub const MODEL_FILE: &str = "model.bpk";
pub const REPORT_FILE: &str = "report.json";
/// RBM pre-training's reconstruction error per layer and epoch (written before training).
pub const PRETRAIN_FILE: &str = "pretrain.csv";
pub const CHECKPOINT_DIR: &str = "checkpoint";
pub const LATEST: &str = "latest";
pub const LOCK_FILE: &str = ".lock";
/// The three files of one epoch's checkpoint, by prefix.
pub const CHECKPOINT_PARTS: [&str; 3] = ["model", "optim", "scheduler"];

/// The folder under which runs (and groups and ensembles) of `dataset` live: the artifacts
/// folder itself for MNIST, `<artifacts>/<dataset>` otherwise.
pub fn dataset_root(artifacts: &Path, dataset: &str) -> PathBuf {
    if dataset == lab10_data::MNIST.name {
        artifacts.to_path_buf()
    } else {
        artifacts.join(dataset)
    }
}

/// The writer's claim on a run folder; released when dropped, or by the OS when the process
/// dies (so a folder left by `kill -9` can be resumed at once).
#[derive(Debug)]
pub struct RunLock {
    _file: std::fs::File,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDir {
    pub path: PathBuf,
}

impl RunDir {
    /// Starts a run of the experiment `name` whose resolved settings are `toml`: a fresh folder
    /// `<root>/<name>/<UTC time>-<label>` (a trained run's label is `<backend>-s<seed>`, an
    /// imported one's `import`), locked by this process, with `experiment.toml` written.
    /// Creation is atomic, so two runs started in the same second get distinct folders (`-2`,
    /// `-3`, ...).
    pub fn start(root: &Path, name: &str, toml: &str, label: &str) -> Result<(Self, RunLock)> {
        let stamp = crate::store::report::utc_stamp();
        let path = create_unique_dir(&root.join(name), &format!("{stamp}-{label}"))?;
        let run = Self { path };
        let lock = run.lock()?;
        run.write(EXPERIMENT_FILE, toml.as_bytes())?;
        Ok((run, lock))
    }

    /// An existing run: a run folder, an experiment folder (its `latest` run), or a model file
    /// inside a run (`model.bpk`, `checkpoint/model-N.bpk`).
    pub fn open(path: &Path) -> Result<Self> {
        let not_a_run = |why: &str| Error::Checkpoint {
            path: path.to_path_buf(),
            message: format!(
                "{why}; expected a run folder (artifacts/<experiment>/<run-id>), \
                 an experiment folder with a 'latest' run, or a model file inside a run"
            ),
        };
        if !path.exists() {
            return Err(not_a_run("no such file or folder"));
        }
        let mut dir = if path.is_file() {
            let parent = path.parent().unwrap_or(Path::new("."));
            if parent.file_name().is_some_and(|n| n == CHECKPOINT_DIR) {
                parent.parent().unwrap_or(Path::new(".")).to_path_buf()
            } else {
                parent.to_path_buf()
            }
        } else {
            path.to_path_buf()
        };
        if !dir.join(EXPERIMENT_FILE).is_file() && dir.join(LATEST).exists() {
            dir = dir.join(LATEST);
        }
        // A `latest` link stands for the run it points at: the run is named by its own
        // folder, which stays, not by the link, which moves on with the next run.
        if dir.file_name().is_some_and(|n| n == LATEST)
            && let Ok(target) = std::fs::read_link(&dir)
        {
            dir = dir.parent().unwrap_or(Path::new(".")).join(target);
        }
        if !dir.join(EXPERIMENT_FILE).is_file() {
            return Err(not_a_run(&format!(
                "no {EXPERIMENT_FILE} in {}",
                dir.display()
            )));
        }
        Ok(Self { path: dir })
    }

    /// The runs in `experiment_dir` that finished (their report says `completed`), newest
    /// first, each with its report; a run whose report is damaged is an error in its place
    /// (never skipped in silence). Runs without a report (unfinished) are left out.
    pub fn completed_runs(experiment_dir: &Path) -> impl Iterator<Item = Result<(Self, Report)>> {
        Self::runs(experiment_dir)
            .into_iter()
            .filter_map(|run| match run.report() {
                Ok(report) => report.is_completed().then_some(Ok((run, report))),
                Err(e @ Error::Damaged { .. }) => Some(Err(e)),
                Err(_) => None,
            })
    }

    /// Every run folder in `experiment_dir`, finished or not, newest first (run ids start
    /// with their UTC time); none if the folder cannot be read.
    pub fn runs(experiment_dir: &Path) -> Vec<Self> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(experiment_dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name() != LATEST && e.path().is_dir())
            .map(|e| e.path())
            .collect();
        paths.sort();
        paths.into_iter().rev().map(|path| Self { path }).collect()
    }

    /// The run's `report.json`, checked against the manifest: every finished run has one, and
    /// so has one that stopped or diverged; a run killed before its end has none.
    pub fn report(&self) -> Result<Report> {
        let path = self.file(REPORT_FILE);
        let bytes = read_checked(&path)?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Checkpoint {
            path,
            message: format!("unreadable report ({e}); was the run finished?"),
        })
    }

    /// Writes `report` as the run's `report.json`, after recording every file written along
    /// the way (metrics, Burn's logs, pictures): the report, recorded last, makes the run
    /// finished.
    pub fn write_report(&self, report: &Report) -> Result<()> {
        self.record_unlisted(&[REPORT_FILE])?;
        let bytes = serde_json::to_vec_pretty(report).expect("report serialises");
        self.write(REPORT_FILE, &bytes)
    }

    /// The newest run in `experiment_dir` that finished (`latest` may be a run that diverged
    /// or was stopped); an error if that run's report is damaged.
    pub fn latest_completed(experiment_dir: &Path) -> Result<Option<Self>> {
        Self::completed_runs(experiment_dir)
            .next()
            .transpose()
            .map(|found| found.map(|(run, _)| run))
    }

    /// Makes a run to be resumed unfinished again: its manifest keeps the experiment, the
    /// checkpoints, the pre-training log and the files named in `keep`, and forgets the files
    /// the resumed run rewrites (metrics, model, report, Burn's logs), which are recorded anew
    /// when it finishes.
    pub fn reopen(&self, keep: &[&str]) -> Result<()> {
        let Some(manifest) = self.manifest()? else {
            return Ok(());
        };
        let rewritten = manifest.entries.keys().filter(|name| {
            *name != EXPERIMENT_FILE
                && *name != PRETRAIN_FILE
                && !keep.contains(&name.as_str())
                && !name.starts_with(&format!("{CHECKPOINT_DIR}/"))
        });
        Manifest::update(&self.path, rewritten.map(|n| (n.as_str(), None)))
    }

    /// Records in the manifest every file of the run it does not list yet, but `except`.
    pub fn record_unlisted(&self, except: &[&str]) -> Result<()> {
        let listed = self.manifest()?.unwrap_or_default().entries;
        let mut files = Vec::new();
        for name in crate::store::manifest::files_in(&self.path)? {
            if !listed.contains_key(&name) && !except.contains(&name.as_str()) {
                let path = self.file(&name);
                files.push((
                    name,
                    std::fs::read(&path).map_err(|e| Error::read(&path, e))?,
                ));
            }
        }
        Manifest::update(
            &self.path,
            files.iter().map(|(n, b)| (n.as_str(), Some(b.as_slice()))),
        )
    }

    /// The run's resolved experiment file (`experiment.toml`), checked against the manifest.
    pub fn experiment_toml(&self) -> Result<String> {
        let path = self.file(EXPERIMENT_FILE);
        let bytes = read_checked(&path)?;
        String::from_utf8(bytes).map_err(|_| Error::ExperimentFile {
            path,
            message: "not UTF-8 text".into(),
        })
    }

    /// The run's manifest; `None` for a run written by an earlier lab10.
    pub fn manifest(&self) -> Result<Option<Manifest>> {
        Manifest::read(&self.path)
    }

    /// When the run started, from its id (`<UTC time>-...`, to the second), in milliseconds
    /// since 1970 (0 for a folder not named so): the base of the timestamps the trackers write,
    /// the same whenever they are written.
    pub fn started_millis(&self) -> i64 {
        let id = self.id();
        chrono::NaiveDateTime::parse_from_str(id.get(..15).unwrap_or(""), "%Y%m%d-%H%M%S")
            .map_or(0, |t| t.and_utc().timestamp_millis())
    }

    pub fn id(&self) -> String {
        self.path
            .canonicalize()
            .unwrap_or_else(|_| self.path.clone())
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    pub fn checkpoint_dir(&self) -> PathBuf {
        self.path.join(CHECKPOINT_DIR)
    }

    /// The last epoch whose model, optimiser and scheduler checkpoints are all on disk and
    /// recorded in the manifest (each file is written atomically, then recorded; a run of an
    /// earlier lab10, without a manifest, needs the files only).
    pub fn last_checkpoint(&self) -> Option<usize> {
        let dir = self.checkpoint_dir();
        let manifest = self.manifest().ok().flatten();
        // A run sealed from an earlier lab10 has no metrics snapshots: none is required there.
        let snapshots = manifest.as_ref().is_some_and(|m| {
            m.entries
                .keys()
                .any(|k| k.starts_with(&format!("{CHECKPOINT_DIR}/metrics-")))
        });
        self.checkpoint_epochs()
            .into_iter()
            .filter(|n| {
                let listed = |name: &str| {
                    manifest
                        .as_ref()
                        .is_none_or(|m| m.entries.contains_key(&format!("{CHECKPOINT_DIR}/{name}")))
                };
                CHECKPOINT_PARTS.iter().all(|k| {
                    let name = format!("{k}-{n}.bpk");
                    dir.join(&name).is_file() && listed(&name)
                }) && (!snapshots || listed(&format!("metrics-{n}.json")))
            })
            .max()
    }

    /// Files of epochs newer than the last complete checkpoint: what a run that failed while
    /// saving (a full disk) leaves. Resuming removes them.
    pub fn incomplete_checkpoint_files(&self) -> Vec<PathBuf> {
        let last = self.last_checkpoint().unwrap_or(0);
        let dir = self.checkpoint_dir();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| {
                checkpoint_epoch(&e.file_name().to_string_lossy()).is_some_and(|(_, n)| n > last)
            })
            .map(|e| e.path())
            .collect();
        files.sort();
        files
    }

    /// Every epoch with at least one checkpoint file.
    fn checkpoint_epochs(&self) -> Vec<usize> {
        std::fs::read_dir(self.checkpoint_dir())
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| checkpoint_epoch(&e.file_name().to_string_lossy()).map(|(_, n)| n))
            .collect()
    }

    /// Takes the folder's writer lock, or says which process holds it.
    pub fn lock(&self) -> Result<RunLock> {
        use std::io::{Read, Seek, Write};
        let path = self.file(LOCK_FILE);
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::write(&path, e))?;
        match file.try_lock() {
            Ok(()) => {
                let pid = std::process::id().to_string();
                file.set_len(0)
                    .and_then(|()| file.rewind())
                    .and_then(|()| file.write_all(pid.as_bytes()))
                    .map_err(|e| Error::write(&path, e))?;
                Ok(RunLock { _file: file })
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                Err(Error::Locked {
                    run: self.path.clone(),
                    pid: holder.trim().parse().ok(),
                })
            }
            Err(std::fs::TryLockError::Error(e)) => Err(Error::write(&path, e)),
        }
    }

    /// Points `<experiment>/latest` at this run (a relative symlink, replaced atomically).
    pub fn mark_latest(&self) -> Result<()> {
        let parent = self
            .path
            .parent()
            .expect("run folders live in an experiment folder");
        let link = parent.join(LATEST);
        let tmp = parent.join(format!(".latest-{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        #[cfg(unix)]
        std::os::unix::fs::symlink(self.id(), &tmp).map_err(|e| Error::write(&tmp, e))?;
        #[cfg(not(unix))]
        std::fs::write(&tmp, self.id()).map_err(|e| Error::write(&tmp, e))?;
        std::fs::rename(&tmp, &link).map_err(|e| Error::write(&link, e))
    }

    /// Writes the run's file `name` atomically and records it in the manifest.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
        self.write_all(&[(name, bytes)])
    }

    /// Writes several files of the run, each atomically, then records them in the manifest at
    /// once. A listed file that changes is unlisted first, so that a kill between its rename and
    /// the manifest's update leaves a file that is not part of the run, never one that seems
    /// damaged.
    pub fn write_all(&self, files: &[(&str, &[u8])]) -> Result<()> {
        if let Some(manifest) = self.manifest()? {
            let changing: Vec<&str> = files
                .iter()
                .filter(|(name, bytes)| {
                    manifest
                        .entries
                        .get(*name)
                        .is_some_and(|h| *h != lab10_data::idx::sha256_hex(bytes))
                })
                .map(|(name, _)| *name)
                .collect();
            if !changing.is_empty() {
                Manifest::update(&self.path, changing.into_iter().map(|n| (n, None)))?;
            }
        }
        for (name, bytes) in files {
            let path = self.file(name);
            write_atomically(&path, bytes).map_err(|e| Error::write(&path, e))?;
        }
        Manifest::update(
            &self.path,
            files.iter().map(|&(name, bytes)| (name, Some(bytes))),
        )
    }

    /// Removes the run's file `name`: first from the manifest, then from the disk, so that a
    /// kill in between leaves a file that is not part of the run, never a listed one missing.
    pub fn remove(&self, name: &str) -> Result<()> {
        if self.file(MANIFEST_FILE).is_file() {
            Manifest::update(&self.path, [(name, None)])?;
        }
        let path = self.file(name);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::write(&path, e)),
            _ => Ok(()),
        }
    }
}

/// `("model", 3)` for `model-3.bpk`, `("metrics", 3)` for the metrics snapshot
/// `metrics-3.json`.
fn checkpoint_epoch(file_name: &str) -> Option<(&str, usize)> {
    let stem = (file_name.strip_suffix(".bpk")).or_else(|| {
        file_name
            .strip_suffix(".json")
            .filter(|s| s.starts_with("metrics-"))
    })?;
    let (part, rest) = stem.rsplit_once('-')?;
    (CHECKPOINT_PARTS.contains(&part) || part == "metrics")
        .then_some(())
        .and_then(|()| rest.parse().ok().map(|n| (part, n)))
}

/// Creates `parent/<base>` (or `<base>-2`, `<base>-3`, ... if taken) and its parents. Creation
/// is atomic, so two processes started in the same second never share a folder.
pub fn create_unique_dir(parent: &Path, base: &str) -> Result<PathBuf> {
    std::fs::create_dir_all(parent).map_err(|e| Error::write(parent, e))?;
    for n in 1.. {
        let id = if n == 1 {
            base.to_string()
        } else {
            format!("{base}-{n}")
        };
        let path = parent.join(&id);
        match std::fs::create_dir(&path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::write(&path, e)),
        }
    }
    unreachable!()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_naming_the_holder_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir {
            path: dir.path().to_path_buf(),
        };
        let first = run.lock().unwrap();
        let err = run.lock().unwrap_err().to_string();
        assert!(
            err.contains(&std::process::id().to_string()) && err.contains("another lab10"),
            "{err}"
        );
        drop(first);
        run.lock().unwrap();
    }

    #[test]
    fn only_an_epoch_with_all_three_files_is_a_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir {
            path: dir.path().to_path_buf(),
        };
        assert_eq!(run.last_checkpoint(), None);
        std::fs::create_dir(run.checkpoint_dir()).unwrap();
        for name in ["model-1", "optim-1", "scheduler-1", "model-2", "optim-2"] {
            std::fs::write(run.checkpoint_dir().join(format!("{name}.bpk")), b"x").unwrap();
        }
        assert_eq!(run.last_checkpoint(), Some(1));
        let names: Vec<String> = run
            .incomplete_checkpoint_files()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["model-2.bpk", "optim-2.bpk"]);
        assert_eq!(dataset_root(Path::new("a"), "mnist"), Path::new("a"));
        assert_eq!(
            dataset_root(Path::new("a"), "fashion-mnist"),
            Path::new("a/fashion-mnist")
        );
    }
}
