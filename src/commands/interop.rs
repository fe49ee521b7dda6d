//! `lab10 export` and `lab10 import`: weights to and from PyTorch's layout (safetensors).

use anyhow::{Context, Result};
use lab10_runs::{BackendKind, Compute, RunDir, SavedModel};

use crate::cli::{ExportArgs, Global, ImportArgs};

pub fn export(g: &Global, args: ExportArgs) -> Result<()> {
    let ExportArgs {
        target,
        out,
        force,
        experiment,
    } = args;
    let device = BackendKind::default_compiled()
        .context("no backend compiled in")?
        .device()?;
    let experiment = experiment.map(|n| g.catalog().get(&n)).transpose()?;
    let target = g.run_targets().resolve(&target)?;
    let saved = SavedModel::open(&target, experiment)?;
    let run = (!target.is_file())
        .then(|| RunDir::open(&target))
        .transpose()?;
    let out = out.unwrap_or_else(|| match &run {
        Some(run) => run.file("model.safetensors"),
        None => target.with_extension("safetensors"),
    });
    let model = saved.load(&device)?;
    let architecture = lab10_runs::export(
        &model,
        &saved.experiment,
        run.map(|r| r.path.display().to_string()),
        &out,
        force,
    )?;
    println!(
        "wrote {} (torch.nn.Sequential: Linear at {:?}, {} activation, dropout {}, \
         pixels {}, dataset {})",
        out.display(),
        architecture.linear_indices,
        architecture.activation,
        architecture.dropout,
        format!("{:?}", architecture.pixels).to_lowercase(),
        architecture.dataset
    );
    Ok(())
}

pub fn import(g: &Global, args: ImportArgs) -> Result<()> {
    let ImportArgs { file, experiment } = args;
    let experiment = g.catalog().get(&experiment)?;
    let (run, report) = lab10_runs::import_run(
        &file,
        &experiment,
        &Compute::from(g.backend()?),
        &g.data()?,
        &g.artifacts,
        &g.provenance(),
    )?;
    println!(
        "run: {}\n{}\ntest: loss {:.4}, accuracy {:.2}% on {} {} images",
        run.path.display(),
        report.source.as_deref().unwrap_or_default(),
        report.test_loss,
        report.test_accuracy,
        report.test_images,
        report.dataset
    );
    Ok(())
}
