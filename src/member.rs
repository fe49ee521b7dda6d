//! How a group's or an ensemble's member is started as a `lab10` process of its own, one way
//! for `--jobs` (a child process here, src/jobs.rs) and `--slurm` (an array task on a node,
//! src/slurm.rs): the member's experiment file, with its seed, dataset and overrides resolved,
//! and the command line that trains it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use lab10_experiment::{BackendKind, Experiment};

use crate::cli::Global;

/// The command line of a member's `lab10`: this program, the flags every member gets (where
/// the artifacts, the data and the experiments are, as absolute paths: a node does not share
/// this shell's folder), and the member's `train`.
pub struct MemberCommand {
    pub exe: PathBuf,
    /// `--artifacts`, `--dataset`, `--data-dir`, `--cache-dir`, the mirrors, `--experiments`,
    /// `--no-verify`, as given.
    pub global: Vec<OsString>,
    pub backend: BackendKind,
    /// `--continue`: a member that finished already is not trained again, and one that was
    /// stopped (Ctrl-C, a requeue) resumes its own run. Off with `--no-reuse`.
    pub continue_own: bool,
}

impl MemberCommand {
    pub fn new(g: &Global, backend: BackendKind, reuse: bool) -> Result<Self> {
        let absolute = |p: &Path| -> Result<OsString> {
            Ok(std::path::absolute(p)
                .with_context(|| format!("cannot resolve {}", p.display()))?
                .into())
        };
        let mut global = vec!["--artifacts".into(), absolute(&g.artifacts)?];
        if let Some(d) = &g.dataset {
            global.extend(["--dataset".into(), d.into()]);
        }
        if let Some(dir) = &g.data_dir {
            global.extend(["--data-dir".into(), absolute(dir)?]);
        }
        if let Some(dir) = &g.cache_dir {
            global.extend(["--cache-dir".into(), absolute(dir)?]);
        }
        for (flag, urls) in [
            ("--mnist-mirrors", &g.mnist_mirrors),
            ("--fashion-mnist-mirrors", &g.fashion_mnist_mirrors),
        ] {
            if let Some(urls) = urls {
                global.extend([flag.into(), urls.join(",").into()]);
            }
        }
        if let Some(dir) = &g.experiments {
            global.extend(["--experiments".into(), absolute(dir)?]);
        }
        if g.no_verify {
            global.push("--no-verify".into());
        }
        Ok(Self {
            exe: std::env::current_exe()
                .and_then(|p| p.canonicalize())
                .context("cannot find this program's own file")?,
            global,
            backend,
            continue_own: reuse,
        })
    }

    /// The arguments (after the program) that train the member of experiment file `file`.
    pub fn train_args(&self, file: OsString) -> Vec<OsString> {
        let mut args = self.global.clone();
        args.extend(["train".into(), file]);
        if self.continue_own {
            args.push("--continue".into());
        }
        args.extend(["--backend".into(), self.backend.name().into()]);
        args
    }
}

/// Writes `member`'s experiment file into `dir` (the `index`-th member of its study) and
/// returns its path.
pub fn write_member_file(dir: &Path, index: usize, member: &Experiment) -> Result<PathBuf> {
    let file = dir.join(format!(
        "{index:03}-{}-seed{}.toml",
        member.name, member.training.seed
    ));
    std::fs::write(&file, member.to_toml())
        .with_context(|| format!("cannot write {}", file.display()))?;
    Ok(file)
}
