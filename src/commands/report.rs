//! `lab10 report`: curves, confusion matrices, misclassified digits and a table of runs.

use std::path::PathBuf;

use anyhow::Result;
use lab10_data::KNOWN;
use lab10_runs::{RunDir, dataset_root};

use crate::cli::{Global, ReportArgs};

pub fn report(g: &Global, args: ReportArgs) -> Result<()> {
    // Names are experiments (their newest completed run); anything else is a run folder.
    let targets = if args.targets.is_empty() {
        newest_completed_runs(g)?
    } else {
        g.run_targets().resolve_all(&args.targets)?
    };
    crate::printer::note_unverified(&targets);
    let device = g.backend()?.device()?;
    let data = g.data()?;
    let runs = targets
        .iter()
        .map(|t| lab10_report::RunData::load(t, &data, &device))
        .collect::<Result<Vec<_>, _>>()?;
    let out = args.out.unwrap_or_else(|| g.artifacts.join("report"));
    let files = lab10_report::write_report(&runs, &out)?;
    println!(
        "wrote {} files to {}; open {}",
        files.len(),
        out.display(),
        out.join("index.html").display()
    );
    Ok(())
}

/// With no targets, per dataset (or --dataset) and experiment, the newest run that finished.
fn newest_completed_runs(g: &Global) -> Result<Vec<PathBuf>> {
    let names = g.catalog().names();
    let datasets = KNOWN.iter().map(|d| d.name);
    let datasets = datasets.filter(|d| g.dataset.as_deref().is_none_or(|only| only == *d));
    let mut found = Vec::new();
    for dir in datasets.flat_map(|d| names.iter().map(|n| dataset_root(&g.artifacts, d).join(n))) {
        let latest = dir.join("latest");
        match RunDir::latest_completed(&dir)? {
            Some(run) => {
                if latest.exists() && RunDir::open(&latest).ok().map(|r| r.id()) != Some(run.id()) {
                    println!(
                        "skipped {}: not completed; showing {} instead",
                        latest.display(),
                        run.path.display()
                    );
                }
                found.push(run.path);
            }
            None if latest.exists() => println!("skipped {}: no completed run", dir.display()),
            None => {}
        }
    }
    if found.is_empty() {
        anyhow::bail!(
            "no finished runs under {}; train an experiment first or name run folders",
            g.artifacts.display()
        );
    }
    Ok(found)
}
