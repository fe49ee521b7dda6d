//! The wgpu backend, really run (on this CPU-only machine through Mesa's lavapipe), against
//! the CPU backends: same forward outputs, checkpoints that move between backends both ways,
//! and a short training that learns.
#![cfg(all(feature = "wgpu", feature = "flex"))]

mod common;

use std::path::{Path, PathBuf};

use burn::prelude::*;
use common::{command, ok_stdout, repo, run_folder};
use lab10_train::{BackendKind, ExperimentCatalog};

fn lab10(args: &[&str]) -> String {
    ok_stdout(command(repo(), args).output().unwrap())
}

fn train(backend: &str, artifacts: &Path) -> PathBuf {
    let out = lab10(&[
        "train",
        "xavier",
        "--epochs",
        "1",
        "--train-size",
        "3000",
        "--test-size",
        "2000",
        "--backend",
        backend,
        "--artifacts",
        artifacts.to_str().unwrap(),
    ]);
    run_folder(&out)
}

fn accuracy(json: &str, key: &str) -> f64 {
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    v[key].as_f64().unwrap()
}

fn eval_accuracy(run: &Path, backend: &str) -> f64 {
    let out = lab10(&[
        "eval",
        run.to_str().unwrap(),
        "--json",
        "--test-size",
        "2000",
        "--backend",
        backend,
    ]);
    accuracy(&out, "accuracy")
}

fn report_accuracy(run: &Path) -> f64 {
    accuracy(
        &std::fs::read_to_string(run.join("report.json")).unwrap(),
        "test_accuracy",
    )
}

#[test]
fn backends_lists_the_wgpu_adapter() {
    let out = lab10(&["backends"]);
    let line = out
        .lines()
        .find(|l| l.starts_with("wgpu"))
        .expect("wgpu line");
    assert!(line.contains(" on "), "adapter named: {line}");
}

#[test]
fn wgpu_trains_and_checkpoints_move_between_backends_both_ways() {
    let artifacts = tempfile::tempdir().unwrap();

    let on_gpu = train("wgpu", artifacts.path());
    let report = std::fs::read_to_string(on_gpu.join("report.json")).unwrap();
    assert!(report.contains("\"backend\": \"wgpu\""), "{report}");
    let acc = report_accuracy(&on_gpu);
    assert!(acc > 70.0, "wgpu run learned only {acc}%");
    assert!((eval_accuracy(&on_gpu, "flex") - acc).abs() <= 0.1);

    let on_cpu = train("flex", artifacts.path());
    let acc = report_accuracy(&on_cpu);
    assert!((eval_accuracy(&on_cpu, "wgpu") - acc).abs() <= 0.1);
}

#[test]
fn the_same_weights_give_the_same_logits_on_wgpu_and_flex() {
    let experiment = ExperimentCatalog {
        dir: repo().join("experiments"),
    }
    .get("dropout")
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("model.bpk");
    let flex = BackendKind::Flex.device().unwrap();
    flex.seed(7);
    experiment.model.init(&flex).save_file(&file).unwrap();

    let input: Vec<f32> = (0..64 * 784)
        .map(|i| ((i * 7919) % 256) as f32 / 255.0)
        .collect();
    let logits = |device: &Device| -> Vec<f32> {
        let model = experiment.model.init(device).load_file(&file);
        let x = Tensor::<2>::from_data(TensorData::new(input.clone(), [64, 784]), device);
        model.forward(x).into_data().iter::<f32>().collect()
    };
    let cpu = logits(&flex);
    let gpu = logits(&BackendKind::Wgpu.device().unwrap());
    let scale = cpu.iter().fold(0f32, |m, x| m.max(x.abs()));
    let worst = cpu
        .iter()
        .zip(&gpu)
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(
        worst <= 1e-4 * scale.max(1.0),
        "max |cpu - gpu| = {worst} (scale {scale})"
    );
}
