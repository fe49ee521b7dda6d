//! `lab10 report`: curves, confusion matrices, misclassified digits and a table of runs.

use std::path::PathBuf;

use anyhow::Result;
use lab10_data::KNOWN;
use lab10_runs::{RunDir, dataset_root};

use crate::cli::{Global, ReportArgs};

pub fn report(g: &Global, args: ReportArgs) -> Result<()> {
    let ReportArgs { targets, out } = args;
    // Names are experiments (their newest completed run); anything else is a run folder.
    let targets: Vec<PathBuf> = if targets.is_empty() {
        let names = g.catalog().names();
        // Every dataset's runs (or only --dataset's), one table each: per experiment, the
        // newest run that finished (a diverged or stopped `latest` has no final model).
        let datasets: Vec<&str> = match &g.dataset {
            Some(d) => vec![d.as_str()],
            None => KNOWN.iter().map(|d| d.name).collect(),
        };
        let mut found = Vec::new();
        for dir in datasets
            .iter()
            .flat_map(|d| names.iter().map(|n| dataset_root(&g.artifacts, d).join(n)))
        {
            let latest = dir.join("latest");
            match RunDir::latest_completed(&dir)? {
                Some(run) => {
                    if latest.exists()
                        && RunDir::open(&latest).ok().map(|r| r.id()) != Some(run.id())
                    {
                        println!(
                            "skipped {}: not completed; showing {} instead",
                            latest.display(),
                            run.path.display()
                        );
                    }
                    found.push(run.path);
                }
                None if latest.exists() => {
                    println!("skipped {}: no completed run", dir.display())
                }
                None => {}
            }
        }
        if found.is_empty() {
            anyhow::bail!(
                "no finished runs under {}; train an experiment first or name run folders",
                g.artifacts.display()
            );
        }
        found
    } else {
        g.run_targets().resolve_all(&targets)?
    };
    targets
        .iter()
        .for_each(|run| crate::printer::note_unverified(run));
    let device = g.backend()?.device()?;
    let data = g.data()?;
    let runs = targets
        .iter()
        .map(|t| lab10_report::RunData::load(t, &data, &device))
        .collect::<Result<Vec<_>, _>>()?;
    let out = out.unwrap_or_else(|| g.artifacts.join("report"));
    let files = lab10_report::write_report(&runs, &out)?;
    println!(
        "wrote {} files to {}; open {}",
        files.len(),
        out.display(),
        out.join("index.html").display()
    );
    Ok(())
}
