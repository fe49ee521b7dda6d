//! The rest of Burn's learner as experiment settings: early stopping on a holdout, the best
//! epoch kept, learning-rate schedules; refused before training where they cannot be honest.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{command, json, ok_stdout, refused, repo};
use serde_json::Value;

/// A small run where the validation loss turns up after a few epochs: Adam at lr 0.01 on 2,000
/// images, 1,000 held out, halved every 30 steps (20 steps an epoch).
const EXPERIMENT: &str = r#"
description = "early stopping, the best epoch kept and a step schedule, on a small holdout"
[model]
hidden = [256, 256]
activation = "relu"
weight_init = { kind = "xavier-normal" }
bias_init = { kind = "zeros" }
[optimizer]
kind = "adam"
learning_rate = 0.01
[optimizer.schedule]
kind = "step"
step_size = 30
gamma = 0.5
[training]
epochs = 12
batch_size = 100
seed = 777
holdout = 1000
keep = "best"
early_stopping = { patience = 2 }
train_size = 3000
test_size = 1000
"#;

fn lab(args: &[&str]) -> Output {
    command(repo(), args).output().unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Trains `file` into `artifacts` with `extra` flags; the run folder.
fn train(file: &Path, artifacts: &Path, extra: &[&str]) -> PathBuf {
    let mut args = vec!["--artifacts", s(artifacts), "train", s(file)];
    args.extend(extra);
    ok_stdout(lab(&args));
    artifacts.join("stop/latest").canonicalize().unwrap()
}

fn experiment_file(dir: &Path, text: &str) -> PathBuf {
    let file = dir.join("stop.toml");
    std::fs::write(&file, text).unwrap();
    file
}

/// The epochs' numbers without their timings, and the weights (exported as safetensors).
fn fingerprint(run: &Path) -> (Vec<Value>, BTreeMap<String, Vec<u8>>) {
    let mut metrics = json(&run.join("metrics.json"));
    for r in metrics.as_array_mut().unwrap() {
        let r = r.as_object_mut().unwrap();
        r.retain(|k, _| !k.ends_with("seconds"));
    }
    let out = run.join("weights.safetensors");
    ok_stdout(lab(&["export", s(run), "--out", s(&out), "--force"]));
    let bytes = std::fs::read(&out).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let weights = tensors
        .tensors()
        .into_iter()
        .map(|(name, view)| (name, view.data().to_vec()))
        .collect();
    (metrics.as_array().unwrap().clone(), weights)
}

#[test]
fn early_stopping_keeps_the_best_epoch_follows_the_schedule_and_resumes_bit_identically() {
    let dir = tempfile::tempdir().unwrap();
    let file = experiment_file(dir.path(), EXPERIMENT);
    let run = train(&file, &dir.path().join("straight"), &[]);
    let report = json(&run.join("report.json"));
    let records = json(&run.join("metrics.json"));
    let records = records.as_array().unwrap();

    // Stopped before its last epoch, two epochs after the lowest validation loss.
    let epochs = report["epochs"].as_u64().unwrap() as usize;
    assert!(epochs < 12, "{report}");
    assert_eq!(records.len(), epochs);
    let loss = |r: &Value| r["valid_loss"].as_f64().unwrap();
    let best = records
        .iter()
        .fold(&records[0], |b, r| if loss(r) < loss(b) { r } else { b })["epoch"]
        .as_u64()
        .unwrap();
    assert_eq!(report["kept_epoch"].as_u64(), Some(best), "{report}");
    assert_eq!(epochs as u64, best + 2, "{report}");
    let why = report["stopped_early"].as_str().unwrap();
    assert!(
        why.contains(&format!("early stopping at epoch {epochs}")),
        "{why}"
    );
    assert_eq!(report["status"], "completed");

    // The kept model is the best epoch's checkpoint, and `lab10 eval` scores it as the report.
    let kept = std::fs::read(run.join(format!("checkpoint/model-{best}.bpk"))).unwrap();
    assert_eq!(std::fs::read(run.join("model.bpk")).unwrap(), kept);
    let eval = ok_stdout(lab(&["eval", s(&run), "--test-size", "1000", "--json"]));
    let eval: Value = serde_json::from_str(&eval).unwrap();
    assert_eq!(eval["accuracy"], report["test_accuracy"], "{eval}");
    assert_eq!(eval["loss"], report["test_loss"], "{eval}");

    // The learning rate of each epoch: the mean over its 20 steps of 0.01 * 0.5^floor(step/30).
    for r in records {
        let e = r["epoch"].as_u64().unwrap() as i32;
        let want = ((e - 1) * 20..e * 20)
            .map(|step| 0.01 * 0.5f64.powi(step / 30))
            .sum::<f64>()
            / 20.0;
        let got = r["learning_rate"].as_f64().unwrap();
        assert!(
            (got - want).abs() <= 1e-12 * want,
            "epoch {e}: {got} vs {want}"
        );
    }

    // Trained 3 epochs, then further: the schedule and the stopping rule go on as if straight.
    let resumed = train(&file, &dir.path().join("resumed"), &["--epochs", "3"]);
    assert_eq!(json(&resumed.join("report.json"))["epochs"], 3);
    let args = ["--resume", s(&resumed), "--epochs", "12"];
    train(&file, &dir.path().join("resumed"), &args);
    let again = json(&resumed.join("report.json"));
    for key in [
        "epochs",
        "kept_epoch",
        "stopped_early",
        "test_loss",
        "test_accuracy",
    ] {
        assert_eq!(again[key], report[key], "{key}");
    }
    assert_eq!(fingerprint(&resumed), fingerprint(&run));
    // A run that stopped early is finished: nothing to resume.
    let err = refused(lab(&[
        "--artifacts",
        s(&dir.path().join("resumed")),
        "train",
        s(&file),
        "--resume",
        s(&resumed),
    ]));
    assert!(
        err.contains("early stopping") && err.contains("nothing to resume"),
        "{err}"
    );
}

#[test]
fn keep_best_without_early_stopping_trains_every_epoch_and_keeps_the_best() {
    let dir = tempfile::tempdir().unwrap();
    let text = EXPERIMENT
        .replace("early_stopping = { patience = 2 }\n", "")
        .replace("epochs = 12", "epochs = 5");
    let file = experiment_file(dir.path(), &text);
    let run = train(
        &file,
        &dir.path().join("a"),
        &["--monitor", "valid-accuracy"],
    );
    let report = json(&run.join("report.json"));
    let records = json(&run.join("metrics.json"));
    let accuracy = |r: &Value| r["valid_accuracy"].as_f64().unwrap();
    let records = records.as_array().unwrap();
    let best = records.iter().fold(
        &records[0],
        |b, r| if accuracy(r) > accuracy(b) { r } else { b },
    );
    assert_eq!(report["epochs"], 5);
    assert_eq!(report["kept_epoch"], best["epoch"], "{report}");
    assert!(report.get("stopped_early").is_none(), "{report}");
}

#[test]
fn settings_that_cannot_be_honest_are_refused_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let artifacts = dir.path().join("artifacts");
    let cases = [
        (
            EXPERIMENT.replace("holdout = 1000", "holdout = 0"),
            "holdout = 5000",
        ),
        (
            EXPERIMENT.replace("keep = \"best\"", "monitor = \"valid-f1\""),
            "valid-accuracy",
        ),
        (
            EXPERIMENT.replace("patience = 2", "patience = 2, min_delta = 0.01"),
            "no min_delta",
        ),
        (
            EXPERIMENT.replace("step_size = 30", "step_size = 0"),
            "[optimizer.schedule]",
        ),
    ];
    for (text, said) in cases {
        let file = experiment_file(dir.path(), &text);
        let err = refused(lab(&["--artifacts", s(&artifacts), "train", s(&file)]));
        assert!(err.contains(said), "{said}: {err}");
    }
    let xavier = [
        "--artifacts",
        s(&artifacts),
        "train",
        "xavier",
        "--keep",
        "best",
    ];
    assert!(refused(lab(&xavier)).contains("--holdout"));
    assert!(!artifacts.join("stop").exists() && !artifacts.join("xavier").exists());
}
