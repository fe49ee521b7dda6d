//! `lab10 site`: the lesson as a static folder where the models run in the browser.

use std::path::PathBuf;

use anyhow::Result;
use lab10_runs::{RunDir, dataset_root};

use crate::cli::{Global, SiteArgs};

/// The group whose experiments a site shows by default.
const LESSON: &str = "lesson";

pub fn site(g: &Global, args: SiteArgs) -> Result<()> {
    let runs = if args.targets.is_empty() {
        newest_lesson_runs(g)?
    } else {
        g.run_targets().resolve_all(&args.targets)?
    };
    let device = g.backend()?.device()?;
    let options = lab10_site::Options {
        out: args.out,
        force: args.force,
        wasm: args.wasm,
        digits: args.digits,
        title: args.title,
    };
    crate::printer::note_unverified(&runs);
    let written = lab10_site::write_site(&runs, &g.data()?, &device, &options)?;
    let models = &written.manifest.models;
    let labels: Vec<&str> = models.iter().map(|m| m.label.as_str()).collect();
    println!(
        "wrote {} ({} files, {:.1} MB): {} model(s) ({}) trained on {}, {} test digits",
        written.out.display(),
        written.files.len(),
        written.bytes() as f64 / 1e6,
        labels.len(),
        labels.join(", "),
        written.manifest.dataset,
        written.manifest.digits.count,
    );
    println!(
        "serve it with any static server, e.g. `python3 -m http.server -d {} 8000`, and open \
         http://localhost:8000/ (docs/site.md)",
        written.out.display()
    );
    Ok(())
}

/// With no targets: the newest completed run of each of the lesson's experiments.
fn newest_lesson_runs(g: &Global) -> Result<Vec<PathBuf>> {
    let dataset = g.dataset.as_deref().unwrap_or(lab10_data::MNIST.name);
    let root = dataset_root(&g.artifacts, dataset);
    let lesson = lab10_train::get_group(&g.catalog(), LESSON)?;
    let (mut runs, mut missing) = (Vec::new(), Vec::new());
    for name in &lesson.experiments {
        match RunDir::latest_completed(&root.join(name))? {
            Some(run) => runs.push(run.path),
            None => missing.push(name.as_str()),
        }
    }
    if runs.is_empty() {
        anyhow::bail!(
            "no completed {dataset} runs of the lesson's experiments ({}) under {}; train them \
             first (`lab10 train --group lesson`, or `lab10 train softmax` ...), or name run \
             folders",
            lesson.experiments.join(", "),
            root.display()
        );
    }
    if !missing.is_empty() {
        println!(
            "no completed run of {} under {}: left off the site",
            missing.join(", "),
            root.display()
        );
    }
    Ok(runs)
}
