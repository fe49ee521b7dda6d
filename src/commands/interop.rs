//! `lab10 export` (safetensors in PyTorch's layout, or ONNX) and `lab10 import`.

use std::path::Path;

use anyhow::{Context, Result};
use clap::ValueEnum;
use lab10_exchange::OnnxFacts;
use lab10_experiment::{BackendKind, Compute, SavedModel};
use lab10_runs::RunDir;

use crate::cli::{ExportArgs, ExportFormat, Global};

pub fn export(g: &Global, args: ExportArgs) -> Result<()> {
    let ExportArgs { out, force, .. } = args;
    let format = export_format(out.as_deref(), args.format)?;
    let device = BackendKind::default_compiled()
        .context("no backend compiled in")?
        .device()?;
    let experiment = args.experiment.map(|n| g.catalog().get(&n)).transpose()?;
    let target = g.run_targets().resolve(&args.target)?;
    let saved = SavedModel::open(&target, experiment)?;
    crate::printer::note_unverified([&saved.path]);
    let run = (!target.is_file())
        .then(|| RunDir::open(&target))
        .transpose()?;
    let out = out.unwrap_or_else(|| match &run {
        Some(run) => run.file(&format!("model.{}", format.extension())),
        None => target.with_extension(format.extension()),
    });
    let model = saved.load(&device)?;
    if format == ExportFormat::Onnx {
        let weights = lab10_runs::read_checked(&saved.path)?;
        let facts = OnnxFacts {
            producer_version: env!("CARGO_PKG_VERSION").into(),
            commit: g.provenance().build_commit,
            test_accuracy: run
                .as_ref()
                .and_then(|r| r.report().ok())
                .map(|r| r.test_accuracy),
            weights_sha256: lab10_data::idx::sha256_hex(&weights),
        };
        let nodes = lab10_exchange::export_onnx(&model, &saved.experiment, &facts, &out, force)?;
        println!(
            "wrote {} (ONNX, opset {}: input '{}' float32 [batch, {}] raw pixels 0-255; \
             outputs '{}' and '{}' [batch, {}]; {nodes} nodes)",
            out.display(),
            lab10_exchange::onnx::OPSET,
            lab10_exchange::onnx::INPUT,
            saved.experiment.model.inputs,
            lab10_exchange::onnx::LOGITS,
            lab10_exchange::onnx::PROBABILITIES,
            saved.experiment.model.classes,
        );
        return Ok(());
    }
    let architecture = lab10_exchange::export(
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

/// `--format`, else `--out`'s extension (safetensors without --out); never one for the other.
fn export_format(out: Option<&Path>, format: Option<ExportFormat>) -> Result<ExportFormat> {
    let by_name = out
        .and_then(|o| o.extension())
        .and_then(|e| ExportFormat::from_str(&e.to_string_lossy(), true).ok());
    match (format, by_name, out) {
        (Some(f), Some(n), Some(out)) if f != n => anyhow::bail!(
            "--out {} names {} but --format says {}; make them agree",
            out.display(),
            n.extension(),
            f.extension()
        ),
        (Some(f), _, _) => Ok(f),
        (None, Some(n), _) => Ok(n),
        (None, None, None) => Ok(ExportFormat::Safetensors),
        (None, None, Some(out)) => anyhow::bail!(
            "lab10 export writes safetensors or ONNX, and --out {} names neither: end it in \
             .safetensors or .onnx, or pass --format safetensors|onnx",
            out.display()
        ),
    }
}

pub fn import(g: &Global, file: &Path, experiment: &str) -> Result<()> {
    let experiment = g.catalog().get(experiment)?;
    let (run, report) = lab10_exchange::import_run(
        file,
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
