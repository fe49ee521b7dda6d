//! A study member as a `lab10` process of its own, one way for `--jobs` (src/jobs.rs) and
//! `--slurm` (src/slurm.rs): its resolved experiment file and the command line that trains it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use lab10_experiment::{BackendKind, Experiment};

use crate::cli::Global;

/// A member's `lab10` command line, paths absolute (a node does not share this shell's folder).
pub struct MemberCommand {
    pub exe: PathBuf,
    pub global: Vec<OsString>,
    pub backend: BackendKind,
    /// `--continue` (off with `--no-reuse`): a finished member is not trained again.
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
        for (flag, dir) in [("--data-dir", &g.data_dir), ("--cache-dir", &g.cache_dir)] {
            if let Some(dir) = dir {
                global.extend([flag.into(), absolute(dir)?]);
            }
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

/// Writes the `index`-th member's experiment file into `dir` and returns its path.
pub fn write_member_file(dir: &Path, index: usize, member: &Experiment) -> Result<PathBuf> {
    let file = dir.join(format!(
        "{index:03}-{}-seed{}.toml",
        member.name, member.training.seed
    ));
    std::fs::write(&file, member.to_toml())
        .with_context(|| format!("cannot write {}", file.display()))?;
    Ok(file)
}
