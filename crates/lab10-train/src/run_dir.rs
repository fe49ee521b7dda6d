//! `artifacts/<experiment>/<run-id>/`: one folder per run, never reused, and a `latest` link
//! to the newest run of each experiment.

use std::path::{Path, PathBuf};

use lab10_data::atomic::write_atomically;

use crate::error::{Error, Result};

pub const EXPERIMENT_FILE: &str = "experiment.toml";
pub const MODEL_FILE: &str = "model.bpk";
pub const REPORT_FILE: &str = "report.json";
pub const CHECKPOINT_DIR: &str = "checkpoint";
pub const LATEST: &str = "latest";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDir {
    pub path: PathBuf,
}

impl RunDir {
    /// Creates a fresh run folder named `<UTC time>-<backend>-s<seed>`. Creation is atomic, so
    /// two runs started in the same second get distinct folders (`-2`, `-3`, ...).
    pub fn create(root: &Path, experiment: &str, backend: &str, seed: u64) -> Result<Self> {
        let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
        let path = create_unique_dir(
            &root.join(experiment),
            &format!("{stamp}-{backend}-s{seed}"),
        )?;
        Ok(Self { path })
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
        if !dir.join(EXPERIMENT_FILE).is_file() {
            return Err(not_a_run(&format!(
                "no {EXPERIMENT_FILE} in {}",
                dir.display()
            )));
        }
        Ok(Self { path: dir })
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

    /// The last epoch whose model, optimiser and scheduler checkpoints are all on disk.
    pub fn last_checkpoint(&self) -> Option<usize> {
        let dir = self.checkpoint_dir();
        let epochs = std::fs::read_dir(&dir).ok()?.flatten().filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_prefix("model-")?
                .strip_suffix(".bpk")?
                .parse::<usize>()
                .ok()
        });
        epochs
            .filter(|n| {
                ["optim", "scheduler"]
                    .iter()
                    .all(|k| dir.join(format!("{k}-{n}.bpk")).is_file())
            })
            .max()
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

    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let path = self.file(name);
        write_atomically(&path, bytes).map_err(|e| Error::write(&path, e))
    }
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
