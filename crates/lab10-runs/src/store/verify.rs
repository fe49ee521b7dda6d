//! What a folder of results is worth, checked as `git fsck` or `restic check` would: every file
//! its `SHA256SUMS` lists read and hashed ([`Health`]). `lab10 verify` prints it for each run;
//! groups and ensembles reuse only a run that checks.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::Error;
use crate::store::manifest::{MANIFEST_FILE, Manifest, files_in, read_checked};
use crate::store::run_dir::{EXPERIMENT_FILE, REPORT_FILE, RunDir};

/// The state of a run folder (or of a group's or an ensemble's folder).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Health {
    /// Every listed file is whole, and the run finished (or the folder is a group's or an
    /// ensemble's).
    Ok,
    /// Every listed file is whole; the run did not finish (it was stopped, or killed), or it
    /// diverged. `resumable_from`: its last complete checkpoint.
    Unfinished {
        resumable_from: Option<usize>,
        status: String,
    },
    /// A listed file differs from the manifest, or is missing, or the manifest is unreadable.
    Damaged { file: PathBuf, detail: String },
    /// No manifest (a run written by an earlier lab10): nothing to check against.
    Unverified,
}

impl Health {
    /// One line: `ok`, `unfinished (resumable from epoch 2)`, `damaged: FILE (...)`, ...
    pub fn describe(&self) -> String {
        match self {
            Health::Ok => "ok".into(),
            Health::Unfinished {
                resumable_from,
                status,
            } => match resumable_from {
                Some(n) => format!("unfinished ({status}; resumable from epoch {n})"),
                None => format!("unfinished ({status}; no checkpoint to resume from)"),
            },
            Health::Damaged { file, detail } => format!("damaged: {} ({detail})", file.display()),
            Health::Unverified => {
                "unverified (no manifest; `lab10 verify --seal RUN` adds one)".into()
            }
        }
    }
}

/// Checks every file `dir`'s manifest lists. For a run folder (it holds `experiment.toml`),
/// also whether it finished.
pub fn health(dir: &Path) -> Health {
    let damaged = |file: PathBuf, detail: String| Health::Damaged { file, detail };
    let manifest = match Manifest::read(dir) {
        Ok(Some(m)) => m,
        // Killed between writing experiment.toml and recording it: a run that never began.
        Ok(None) if files_in(dir).is_ok_and(|f| f == [EXPERIMENT_FILE]) => {
            return Health::Unfinished {
                resumable_from: None,
                status: "killed before it began".into(),
            };
        }
        Ok(None) => return Health::Unverified,
        Err(e) => return damaged(dir.join(MANIFEST_FILE), e.to_string()),
    };
    for name in manifest.entries.keys() {
        match read_checked(&dir.join(name)) {
            Err(Error::Damaged { path, message }) => return damaged(path, message),
            Err(e) => return damaged(dir.join(name), e.to_string()),
            Ok(_) => {}
        }
    }
    if !dir.join(EXPERIMENT_FILE).is_file() {
        return Health::Ok;
    }
    let run = RunDir {
        path: dir.to_path_buf(),
    };
    let status = match manifest.entries.contains_key(REPORT_FILE) {
        false => "killed or still training".to_string(),
        true => match run.report() {
            Ok(report) if report.is_completed() => return Health::Ok,
            Ok(report) => report
                .status
                .to_string()
                .split(':')
                .next()
                .unwrap_or_default()
                .into(),
            Err(Error::Checkpoint { message, .. }) => message,
            Err(e) => e.to_string(),
        },
    };
    Health::Unfinished {
        resumable_from: run.last_checkpoint(),
        status,
    }
}

/// Every folder under `artifacts` that holds results (a run's `experiment.toml`, or a
/// manifest: groups, ensembles), sorted; links (`latest`) are not followed.
pub fn result_folders(artifacts: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![artifacts.to_path_buf()];
    while let Some(dir) = stack.pop() {
        if dir.join(EXPERIMENT_FILE).is_file() || dir.join(MANIFEST_FILE).is_file() {
            found.push(dir);
            continue;
        }
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(entry.path());
            }
        }
    }
    found.sort();
    found
}
