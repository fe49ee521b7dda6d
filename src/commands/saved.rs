//! `lab10 eval` and `lab10 predict`: a saved model on the test set.

use std::path::Path;

use anyhow::{Context, Result};
use lab10_experiment::{SavedModel, draw_digit, sample_predictions};

use crate::cli::{EvalArgs, Global, PredictArgs};

/// The model `target` names (`experiment`: the architecture of a model file outside a run).
fn open_saved(g: &Global, target: &Path, experiment: Option<String>) -> Result<SavedModel> {
    let experiment = experiment.map(|n| g.catalog().get(&n)).transpose()?;
    let saved = SavedModel::open(&g.run_targets().resolve(target)?, experiment)?;
    crate::printer::note_unverified([&saved.path]);
    Ok(saved)
}

pub fn eval(g: &Global, args: EvalArgs) -> Result<()> {
    let compute = g.compute(&args.remote)?;
    let opened = compute.open()?;
    let device = &opened.device;
    let saved = open_saved(g, &args.target, args.experiment)?;
    let data = saved.test_data(&g.data()?, args.test_size)?;
    let eval = saved.evaluate(&data.data, device)?;
    if args.json {
        let mut value = serde_json::to_value(&eval)?;
        value["backend"] = compute.name().into();
        value["device"] = opened.description.clone().into();
        value["dataset"] = data.record.name.clone().into();
        value["trained_on"] = data.trained_on.clone().into();
        value["cross_dataset"] = data.is_cross().into();
        value["data"] = serde_json::to_value(&data.record)?;
        if let Some(n) = args.logits {
            value["logits"] = serde_json::to_value(saved.logits(&data.data, n, device)?)?;
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    println!(
        "model: {} (experiment '{}')\nbackend: {} - {}\ndata: {} - {} ({})",
        saved.path.display(),
        saved.experiment.name,
        compute.name(),
        opened.description,
        data.label(),
        data.record.dir.display(),
        data.record.source
    );
    if data.is_cross() {
        println!(
            "note: evaluated on {}, not on {} which the model was trained on",
            data.record.name, data.trained_on
        );
    }
    println!(
        "test: loss {:.4}, accuracy {:.2}% on {} {} images",
        eval.loss, eval.accuracy, eval.images, data.record.name
    );
    let classes = lab10_data::class_names(&data.record.name);
    let per_class: Vec<String> = eval
        .per_class
        .iter()
        .map(|c| format!("{}: {:.1}%", classes[c.digit], c.accuracy))
        .collect();
    println!("per class: {}", per_class.join("  "));
    Ok(())
}

pub fn predict(g: &Global, args: PredictArgs) -> Result<()> {
    let PredictArgs { samples, seed, .. } = args;
    let device = g.backend()?.device()?;
    let saved = open_saved(g, &args.target, args.experiment)?;
    let data = saved.test_data(&g.data()?, None)?;
    let eval = saved.evaluate(&data.data, &device)?;
    let classes = lab10_data::class_names(&data.record.name);
    let predictions = sample_predictions(&eval, &data.data, samples, seed);
    println!("data: {}", data.label());
    for p in &predictions {
        let right = p.actual == p.predicted;
        let verdict = if right { "" } else { "  <- wrong" };
        println!(
            "Index: {:>5}  Actual: {}  Predicted: {}  ({:.1}% sure){verdict}",
            p.index,
            classes[p.actual as usize],
            classes[p.predicted as usize],
            100.0 * p.confidence
        );
        print!("{}", draw_digit(&p.pixels));
    }
    println!(
        "test accuracy of this model on {}: {:.2}%",
        data.record.name, eval.accuracy
    );
    if let Some(path) = args.png {
        let grid = lab10_report::digits::DigitGrid {
            title: format!(
                "{} on {}: {samples} test images (seed {seed})",
                saved.experiment.name,
                data.label()
            ),
            columns: predictions.len().clamp(1, 10),
            digits: predictions,
            classes,
        };
        let picture = lab10_report::render::render(&grid).map_err(anyhow::Error::msg)?;
        lab10_data::atomic::write_atomically(&path, &picture.png)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
