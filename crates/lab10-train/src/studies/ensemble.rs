//! Ensembles: the same experiment trained with different seeds, their softmax averaged, usually
//! better than any one member: the lesson's last trick against overfitting.

use std::path::{Path, PathBuf};

use burn::data::dataloader::DataLoaderBuilder;
use burn::prelude::*;
use lab10_experiment::{EVAL_BATCH, Experiment, load_model, load_test};
use lab10_models::{Mlp, MnistBatcher, MnistDataset, PixelScale};
use lab10_runs::{Error, MODEL_FILE, Result, dataset_root, markdown_table, utc_now};
use serde::{Deserialize, Serialize};

use super::member::{Finished, StudyMember, with_seeds};
use super::{Spread, StudyOptions, run_study, study_dir, write_study_files};

/// Softmax probabilities of `model` for every image of `data`: `[images, classes]`.
pub fn probabilities(
    model: &Mlp,
    data: &MnistDataset,
    scale: PixelScale,
    device: &Device,
) -> Tensor<2> {
    let loader = DataLoaderBuilder::new(MnistBatcher::new(scale))
        .batch_size(EVAL_BATCH)
        .set_device(device.clone())
        .build(data.clone());
    let batches: Vec<Tensor<2>> = loader
        .iter()
        .map(|batch| {
            let batch = batch.expect("in-memory MNIST batches cannot fail");
            burn::tensor::activation::softmax(model.forward(batch.images), 1)
        })
        .collect();
    Tensor::cat(batches, 0)
}

/// Accuracy (percent) and mean negative log-likelihood of `probs` against `labels`.
pub fn score(probs: Tensor<2>, labels: &[u8]) -> (f64, f64) {
    let device = probs.device();
    let n = labels.len();
    let targets = Tensor::<1, Int>::from_data(
        TensorData::new(labels.iter().map(|&l| l as i64).collect::<Vec<_>>(), [n]),
        &device,
    );
    let predicted = probs.clone().argmax(1).squeeze_dim::<1>(1);
    let correct = predicted
        .equal(targets.clone())
        .int()
        .sum()
        .into_scalar::<i64>();
    let picked = probs.gather(1, targets.unsqueeze_dim(1));
    // Clamped so that one confident mistake gives a large but finite loss.
    let nll = picked
        .clamp_min(1e-12)
        .log()
        .neg()
        .mean()
        .into_scalar::<f64>();
    (100.0 * correct as f64 / n as f64, nll)
}

/// The averaged softmax of several members (the ensemble's prediction).
pub fn average(members: &[Tensor<2>]) -> Tensor<2> {
    let sum = members
        .iter()
        .cloned()
        .reduce(|a, b| a + b)
        .expect("an ensemble has at least one member");
    sum / members.len() as f64
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Member {
    pub seed: u64,
    pub run: PathBuf,
    pub reused: bool,
    pub test_accuracy: f64,
    pub test_loss: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnsembleReport {
    pub experiment: String,
    pub backend: String,
    pub test_images: usize,
    pub members: Vec<Member>,
    pub member_accuracy: Spread,
    pub ensemble_accuracy: f64,
    /// Negative log-likelihood of the averaged probabilities.
    pub ensemble_loss: f64,
    /// Ensemble accuracy minus the members' mean, in points.
    pub gain_over_mean: f64,
    /// Ensemble accuracy minus the best member's, in points.
    pub gain_over_best: f64,
    pub finished_at: String,
}

impl EnsembleReport {
    pub fn markdown(&self) -> String {
        let mut rows: Vec<Vec<String>> = self
            .members
            .iter()
            .map(|m| {
                vec![
                    m.seed.to_string(),
                    format!("{:.2}", m.test_accuracy),
                    format!("{:.4}", m.test_loss),
                ]
            })
            .collect();
        rows.push(vec![
            "members: mean ± sd".into(),
            self.member_accuracy.show(2),
            String::new(),
        ]);
        rows.push(vec![
            "**ensemble (averaged softmax)**".into(),
            format!("**{:.2}**", self.ensemble_accuracy),
            format!("{:.4}", self.ensemble_loss),
        ]);
        let mut out = format!(
            "## Ensemble of {} `{}` members ({}, {} test images)\n\n{}\n\n",
            self.members.len(),
            self.experiment,
            self.backend,
            self.test_images,
            markdown_table(&["member seed", "test accuracy %", "test loss"], &rows)
        );
        out.push_str(&format!(
            "Gain: {:+.2} points over the members' mean, {:+.2} over the best member.\n",
            self.gain_over_mean, self.gain_over_best
        ));
        out
    }
}

/// Trains (or reuses) the ensemble's `n` members, then scores each and the averaged softmax on the
/// test set, written to `<artifacts>/ensembles/<experiment>/<time>-<backend>-n<members>/`.
pub fn run_ensemble(
    experiment: &Experiment,
    opts: &StudyOptions,
    n: usize,
) -> Result<(PathBuf, EnsembleReport)> {
    let (base, members) = ensemble_members(experiment, opts, n)?;
    let artifacts = dataset_root(&opts.train.artifacts, &base.dataset);
    let params = [
        ("experiment", base.name.clone()),
        ("members", n.to_string()),
        ("first_seed", base.training.seed.to_string()),
        ("backend", opts.train.compute.name().to_string()),
    ];
    let (outcome, tracking) = run_study(
        &opts.train,
        (opts.mode, opts.jobs.as_ref()),
        ("ensembles", &base.name, &base.dataset),
        &params,
        (&members, &artifacts),
        &mut |_| Ok(()),
    )?;
    let missing: Vec<String> = outcome
        .missing(&members)
        .map(|e| e.training.seed.to_string())
        .collect();
    if let Some(ended) = outcome.ended {
        tracking.close(&outcome.results, &[], Some(&ended));
        let done = n - missing.len();
        let tail = format!(
            "ensemble of {} ended with {done} of {} members done; missing seeds {}. {}",
            base.name,
            n,
            missing.join(", "),
            opts.mode.to_finish()
        );
        return Err(ended.with_tail(&tail));
    }
    // Nothing ended the study: every member finished, in order.
    let finished: Vec<&Finished> = outcome.results.iter().flatten().collect();
    let scored = score_ensemble(&base, opts, &members, &finished)
        .and_then(|report| Ok((write_ensemble(&report, &artifacts, n)?, report)));
    let files = match &scored {
        Ok((dir, _)) => vec![dir.join("ensemble.json"), dir.join("ensemble.md")],
        Err(_) => Vec::new(),
    };
    tracking.close(&outcome.results, &files, scored.as_ref().err());
    scored
}

/// The base experiment (overrides applied, dataset set) and its `n` members, seeds `seed,
/// seed+1, ...`.
pub fn ensemble_members(
    experiment: &Experiment,
    opts: &StudyOptions,
    n: usize,
) -> Result<(Experiment, Vec<StudyMember>)> {
    if n == 0 {
        return Err(Error::Invalid("--members must be at least 1".into()));
    }
    let mut base = experiment.clone();
    base.apply(&opts.overrides)?;
    base.dataset = opts.train.data.dataset_for(&base)?.name.to_string();
    let first_seed = base.training.seed;
    let seeds: Vec<u64> = (0..n as u64).map(|k| first_seed + k).collect();
    let members = with_seeds(std::slice::from_ref(&base), &seeds);
    Ok((base, members))
}

/// Each member's and the averaged softmax's test accuracy and loss (on `--remote`'s worker).
fn score_ensemble(
    base: &Experiment,
    opts: &StudyOptions,
    members: &[StudyMember],
    finished: &[&Finished],
) -> Result<EnsembleReport> {
    let device = opts.train.compute.open()?.device;
    let (_, test) = load_test(&opts.train.data.request_for(base)?, &base.training)?;
    let labels = &test.mnist().labels;
    let mut probs = Vec::with_capacity(finished.len());
    let mut scored = Vec::with_capacity(finished.len());
    for (member, f) in members.iter().zip(finished) {
        let model = load_model(&f.run.file(MODEL_FILE), base, &device)?;
        let p = probabilities(&model, &test, base.training.pixels, &device);
        let (test_accuracy, test_loss) = score(p.clone(), labels);
        scored.push(Member {
            seed: member.experiment.training.seed,
            run: f.run.path.clone(),
            reused: f.reused,
            test_accuracy,
            test_loss,
        });
        probs.push(p);
    }
    let (ensemble_accuracy, ensemble_loss) = score(average(&probs), labels);
    let member_accuracy = Spread::of(&scored.iter().map(|m| m.test_accuracy).collect::<Vec<_>>());
    Ok(EnsembleReport {
        experiment: base.name.clone(),
        backend: opts.train.compute.name().into(),
        test_images: labels.len(),
        gain_over_mean: ensemble_accuracy - member_accuracy.mean,
        gain_over_best: ensemble_accuracy - member_accuracy.max,
        members: scored,
        member_accuracy,
        ensemble_accuracy,
        ensemble_loss,
        finished_at: utc_now(),
    })
}

/// `ensemble.json` and `ensemble.md` in a new folder of `<artifacts>/ensembles/<experiment>/`.
fn write_ensemble(report: &EnsembleReport, artifacts: &Path, n: usize) -> Result<PathBuf> {
    let suffix = format!("{}-n{n}", report.backend);
    let dir = study_dir(artifacts, "ensembles", &report.experiment, &suffix)?;
    let json = serde_json::to_vec_pretty(report).expect("report serialises");
    write_study_files(
        &dir,
        &[
            ("ensemble.json", &json),
            ("ensemble.md", report.markdown().as_bytes()),
        ],
    )?;
    Ok(dir)
}
