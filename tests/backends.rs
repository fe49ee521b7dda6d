//! The GPU backends, really run (on this CPU-only machine through Mesa's lavapipe), against
//! the CPU backends: same forward outputs, checkpoints that move between backends both ways,
//! and a short training that learns as on flex. `wgpu` and `vulkan` run with Burn's kernel
//! fusion and autotuning when those features are on (`--features gpu`); upstream has reports
//! of wrong results with that combination, so these tests are the proof for this build.
//! Compiled with the `gpu` feature only: the complete suite (`cargo test --release --workspace
//! --features ndarray,gpu,remote`, what `.ci/run` runs), not the README's test command.
#![cfg(all(feature = "wgpu", feature = "flex"))]

mod common;

use std::path::{Path, PathBuf};

use burn::prelude::*;
use common::{command, ok_stdout, repo, run_folder};
use lab10_experiment::{BackendKind, ExperimentCatalog};

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

/// The GPU backends this build has.
fn gpu_backends() -> Vec<&'static str> {
    let mut names = vec!["wgpu"];
    if cfg!(feature = "vulkan") {
        names.push("vulkan");
    }
    names
}

#[test]
fn backends_lists_the_gpu_adapters_with_their_compiler() {
    let out = lab10(&["backends"]);
    for name in gpu_backends() {
        let line = out
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} line in\n{out}"));
        assert!(line.contains(" on "), "adapter named: {line}");
        let spirv = cfg!(feature = "vulkan") && line.contains("(Vulkan,");
        let compiler = if spirv { "SPIR-V" } else { "WGSL" };
        assert!(line.contains(compiler), "{compiler} expected: {line}");
        assert_eq!(line.contains("fusion"), cfg!(feature = "fusion"), "{line}");
        assert_eq!(
            line.contains("autotune"),
            cfg!(feature = "autotune"),
            "{line}"
        );
    }
    if !cfg!(feature = "vulkan") {
        assert!(out.contains("vulkan   not compiled in"), "{out}");
    }
}

#[test]
fn gpu_backends_train_as_flex_does_and_checkpoints_move_both_ways() {
    let artifacts = tempfile::tempdir().unwrap();
    let on_cpu = train("flex", artifacts.path());
    let cpu_acc = report_accuracy(&on_cpu);
    for backend in gpu_backends() {
        let on_gpu = train(backend, artifacts.path());
        let report = std::fs::read_to_string(on_gpu.join("report.json")).unwrap();
        assert!(
            report.contains(&format!("\"backend\": \"{backend}\"")),
            "{report}"
        );
        let acc = report_accuracy(&on_gpu);
        // Same seed, same data, same order: only float rounding differs between the backends.
        assert!(
            (acc - cpu_acc).abs() <= 1.5,
            "{backend} learned {acc}% where flex learned {cpu_acc}%"
        );
        assert!((eval_accuracy(&on_gpu, "flex") - acc).abs() <= 0.1);
        assert!((eval_accuracy(&on_cpu, backend) - cpu_acc).abs() <= 0.1);
    }
}

#[test]
fn the_same_weights_give_the_same_logits_on_the_gpu_backends_and_flex() {
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
    let mut gpus = vec![BackendKind::Wgpu];
    if cfg!(feature = "vulkan") {
        gpus.push(BackendKind::Vulkan);
    }
    for backend in gpus {
        let gpu = logits(&backend.device().unwrap());
        let scale = cpu.iter().fold(0f32, |m, x| m.max(x.abs()));
        let worst = cpu
            .iter()
            .zip(&gpu)
            .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(
            worst <= 1e-4 * scale.max(1.0),
            "{backend}: max |cpu - gpu| = {worst} (scale {scale})"
        );
    }
}
