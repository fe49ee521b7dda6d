//! `lab10 verify`: every file a run's SHA256SUMS lists read and hashed; `--seal` gives a run
//! of an earlier lab10 its manifest once it evaluates to what its report says.

use std::path::Path;

use anyhow::{Result, bail};
use lab10_experiment::SavedModel;
use lab10_runs::{Health, Manifest, RunDir, health};

use crate::cli::{Global, RemoteArgs, VerifyArgs};

pub fn verify(g: &Global, args: VerifyArgs) -> Result<()> {
    let folders = g.result_folders(&args.targets, false)?;
    let mut damaged = Vec::new();
    for dir in &folders {
        let mut state = health(dir);
        let sealed = (args.seal && state == Health::Unverified).then(|| seal(g, dir));
        if let Some(Ok(())) = sealed {
            state = health(dir);
        }
        if let Health::Damaged { file, .. } = &state {
            damaged.push(file.display().to_string());
        }
        if args.json {
            let mut value = serde_json::to_value(&state)?;
            value["path"] = dir.display().to_string().into();
            if let Some(result) = &sealed {
                value["sealed"] = result.is_ok().into();
                if let Err(why) = result {
                    value["not_sealed"] = why.to_string().into();
                }
            }
            println!("{value}");
        } else {
            let seal_note = match &sealed {
                Some(Ok(())) => " (sealed now)".to_string(),
                Some(Err(why)) => format!(" (not sealed: {why})"),
                None => String::new(),
            };
            println!("{}: {}{seal_note}", dir.display(), state.describe());
        }
    }
    if !damaged.is_empty() {
        bail!(
            "{} of {} folders are damaged: {}",
            damaged.len(),
            folders.len(),
            damaged.join(", ")
        );
    }
    Ok(())
}

/// Seals a finished run once its model evaluates to exactly its report's test accuracy.
fn seal(g: &Global, dir: &Path) -> Result<()> {
    let run = RunDir {
        path: dir.to_path_buf(),
    };
    let report = match run.report() {
        Ok(report) if report.is_completed() => report,
        Ok(report) => bail!("the run did not finish ({})", report.status),
        Err(e) => bail!("{e}"),
    };
    let compute = g.compute(&RemoteArgs::default())?;
    let opened = compute.open()?;
    let saved = SavedModel::open(dir, None)?;
    let data = saved.test_data(&g.data()?, Some(report.test_images))?;
    let eval = saved.evaluate(&data.data, &opened.device)?;
    if eval.accuracy != report.test_accuracy {
        bail!(
            "its model evaluates to {:.2}% on {} test images on {}, its report records {:.2}% \
             (on {})",
            eval.accuracy,
            eval.images,
            compute.name(),
            report.test_accuracy,
            report.backend
        );
    }
    Manifest::seal(dir)?;
    Ok(())
}
