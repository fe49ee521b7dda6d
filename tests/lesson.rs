//! The rest of the lesson, mechanics only (small data, one epoch): gradient norms, optimisers,
//! RBM pre-training, ensembles and groups. The full-size results are in the README.

mod common;

use std::path::{Path, PathBuf};

use burn::optim::GradientsParams;
use burn::prelude::*;
use common::{command, data_dir, events, json, ok_stdout, refused, repo, run_folder, table_row};
use lab10_data::{Mnist, Split};
use lab10_experiment::{BackendKind, OptimizerConfig, evaluate};
use lab10_models::{ActivationKind, Init, MlpConfig};
use lab10_models::{MnistDataset, PixelScale};
use lab10_train::{average, probabilities, score};
use serde_json::Value;

fn device() -> Device {
    BackendKind::Flex.device().unwrap()
}

/// `lab10 <args> --data-dir <shipped MNIST> --artifacts <dir>`.
fn lab10(artifacts: &Path, args: &[&str]) -> std::process::Output {
    let data = data_dir();
    let mut all: Vec<&str> = args.to_vec();
    all.extend([
        "--data-dir",
        data.to_str().unwrap(),
        "--artifacts",
        artifacts.to_str().unwrap(),
    ]);
    command(repo(), &all).output().expect("lab10 runs")
}

#[test]
fn gradient_norms_are_recorded_per_layer_and_vanish_in_the_deep_sigmoid_net() {
    let tmp = tempfile::tempdir().unwrap();
    let small = [
        "--epochs",
        "1",
        "--train-size",
        "1000",
        "--test-size",
        "200",
    ];
    let mut first_over_last = Vec::new();
    for name in ["sigmoid-deep", "relu-deep"] {
        let mut args = vec!["train", name];
        args.extend(small);
        let run = run_folder(&ok_stdout(lab10(tmp.path(), &args)));
        let metrics = json(&run.join("metrics.json"));
        let norms: Vec<f64> = metrics[0]["gradient_norms"]
            .as_array()
            .unwrap_or_else(|| panic!("no gradient_norms in {metrics}"))
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        // Ten hidden layers and the output layer.
        assert_eq!(norms.len(), 11, "{norms:?}");
        assert!(norms.iter().all(|&g| g.is_finite() && g > 0.0), "{norms:?}");
        let csv = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
        assert!(
            csv.lines().next().unwrap().ends_with(",grad_l10,grad_l11"),
            "{csv}"
        );
        first_over_last.push(norms[0] / norms[10]);
    }
    let (sigmoid, relu) = (first_over_last[0], first_over_last[1]);
    // The lesson's claim, with a wide margin: sigmoid's first layer gets a tiny fraction of
    // the last layer's gradient, ReLU's does not.
    assert!(sigmoid < 1e-3, "sigmoid first/last = {sigmoid:e}");
    assert!(relu > 1e-2, "relu first/last = {relu:e}");
    assert!(relu > 100.0 * sigmoid, "sigmoid {sigmoid:e}, relu {relu:e}");
}

#[test]
fn runs_without_gradient_norms_keep_the_plain_metrics_columns() {
    let tmp = tempfile::tempdir().unwrap();
    let stdout = ok_stdout(lab10(
        tmp.path(),
        &[
            "train",
            "softmax",
            "--epochs",
            "1",
            "--train-size",
            "500",
            "--test-size",
            "100",
        ],
    ));
    let csv = std::fs::read_to_string(run_folder(&stdout).join("metrics.csv")).unwrap();
    assert!(
        csv.starts_with(
            "epoch,train_loss,train_accuracy,valid_loss,valid_accuracy,train_seconds,epoch_seconds,\
             learning_rate\n"
        ),
        "{csv}"
    );
}

/// A ReLU net with Xavier weights and zero biases.
fn relu_net(inputs: usize, hidden: Vec<usize>, classes: usize) -> MlpConfig {
    MlpConfig {
        inputs,
        hidden,
        classes,
        activation: ActivationKind::Relu,
        weight_init: Init::XavierNormal { gain: 1.0 },
        bias_init: Init::Zeros,
        dropout: 0.0,
    }
}

/// One optimiser step on a tiny model from fixed weights and fixed gradients.
fn one_step(optimizer: &OptimizerConfig) -> Vec<f32> {
    let device = device();
    device.seed(3);
    let autodiff = device.clone().autodiff();
    let config = relu_net(4, vec![3], 2);
    let model = config.init(&autodiff);
    let x = Tensor::<2>::from_data([[0.5, -1.0, 2.0, 0.25], [1.0, 0.0, -0.5, 3.0]], &autodiff);
    let loss = model.forward(x).square().mean();
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    let mut optim = optimizer.init();
    let model = optim.step(optimizer.learning_rate(), model, grads);
    model.hidden[0]
        .weight
        .val()
        .into_data()
        .iter::<f32>()
        .collect()
}

#[test]
fn the_optimizer_choice_changes_the_update() {
    let opt = |text: &str| -> OptimizerConfig { toml::from_str(text).unwrap() };
    let configs = [
        opt("kind = 'sgd'\nlearning_rate = 0.1"),
        opt("kind = 'sgd'\nlearning_rate = 0.1\nmomentum = 0.9\nnesterov = true"),
        opt("kind = 'adagrad'\nlearning_rate = 0.1"),
        opt("kind = 'rmsprop'\nlearning_rate = 0.1"),
        opt("kind = 'adam'\nlearning_rate = 0.1"),
        opt("kind = 'adamw'\nlearning_rate = 0.1\nweight_decay = 0.5"),
        opt("kind = 'adam'\nlearning_rate = 0.1\nl2 = 0.5"),
    ];
    let results: Vec<Vec<f32>> = configs.iter().map(one_step).collect();
    for i in 0..results.len() {
        for j in i + 1..results.len() {
            // Even SGD and Nesterov differ at once: Nesterov's first step is (1 + momentum) g.
            assert_ne!(
                results[i],
                results[j],
                "{} and {} gave the same first update",
                configs[i].label(),
                configs[j].label()
            );
        }
    }
    // Adam's first step moves every weight by about lr (m/sqrt(v) = sign(g)), whatever the
    // gradient's size: the property that makes it robust to vanishing gradients.
    let start = one_step(&opt("kind = 'sgd'\nlearning_rate = 1e-30"));
    for (a, s) in results[4].iter().zip(&start) {
        let moved = (a - s).abs();
        assert!(
            moved == 0.0 || (moved - 0.1).abs() < 1e-3,
            "Adam moved a weight by {moved}"
        );
    }
}

#[test]
fn an_ensemble_of_identical_members_equals_the_member() {
    let device = device();
    device.seed(11);
    let config = relu_net(784, vec![32], 10);
    let model = config.init(&device);
    let test = MnistDataset::new(
        Mnist::read(&data_dir(), Split::Test)
            .unwrap()
            .0
            .slice(0..500),
    );
    let p = probabilities(&model, &test, PixelScale::Unit, &device);
    let labels = &test.mnist().labels;
    let member = score(p.clone(), labels);
    let ensemble = score(average(&[p.clone(), p.clone(), p.clone()]), labels);
    assert_eq!(member.0, ensemble.0);
    assert!(
        (member.1 - ensemble.1).abs() < 1e-6,
        "{member:?} vs {ensemble:?}"
    );
    // And the same accuracy as the evaluation every run reports.
    let eval = evaluate(&model, &test, PixelScale::Unit, &device);
    assert_eq!(member.0, eval.accuracy);
    assert!(
        (member.1 - eval.loss).abs() < 1e-4,
        "{member:?} vs {}",
        eval.loss
    );
    // Averaging different members is not the identity.
    let other = config.init(&device);
    let q = probabilities(&other, &test, PixelScale::Unit, &device);
    let mixed = average(&[p.clone(), q]);
    assert!(!mixed.equal(p).all().into_scalar::<bool>());
}

#[test]
fn ensemble_command_trains_members_then_reuses_them() {
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "ensemble",
        "xavier",
        "--members",
        "2",
        "--epochs",
        "1",
        "--train-size",
        "1000",
        "--test-size",
        "300",
    ];
    let first = ok_stdout(lab10(tmp.path(), &args));
    assert_eq!(first.matches(": training").count(), 2, "{first}");
    assert!(first.contains("ensemble (averaged softmax)"), "{first}");
    // The same again, read as JSON events: both members reused, nothing trained.
    let second = events(&ok_stdout(lab10(
        tmp.path(),
        &[&args[..], &["--json"]].concat(),
    )));
    let reused: Vec<&Value> = second
        .iter()
        .filter(|e| e["event"] == "member")
        .map(|e| &e["reused"])
        .collect();
    assert_eq!(reused.len(), 2, "{second:?}");
    assert!(reused.iter().all(|r| r["run"].is_string()), "{second:?}");
    assert!(!second.iter().any(|e| e["event"] == "opened"), "{second:?}");
    assert_eq!(second.last().unwrap()["event"], "ensemble");
    let reports: Vec<PathBuf> = std::fs::read_dir(tmp.path().join("ensembles/xavier"))
        .unwrap()
        .map(|e| e.unwrap().path().join("ensemble.json"))
        .collect();
    assert_eq!(reports.len(), 2);
    let report = json(&reports[0]);
    assert_eq!(report["members"].as_array().unwrap().len(), 2);
    let seeds: Vec<u64> = report["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seed"].as_u64().unwrap())
        .collect();
    assert_eq!(seeds, [777, 778]);
    let accuracy = report["ensemble_accuracy"].as_f64().unwrap();
    assert!(accuracy > 50.0 && accuracy <= 100.0, "{report}");
    // Reused members give the same numbers as trained ones.
    assert_eq!(
        report["ensemble_accuracy"],
        json(&reports[1])["ensemble_accuracy"]
    );

    let err = refused(lab10(tmp.path(), &["ensemble", "xavier", "--members", "0"]));
    assert!(err.contains("--members must be at least 1"), "{err}");
}

#[test]
fn rbm_pretraining_runs_before_training_and_logs_its_reconstruction_error() {
    let tmp = tempfile::tempdir().unwrap();
    let stdout = ok_stdout(lab10(
        tmp.path(),
        &[
            "train",
            "rbm",
            "--epochs",
            "1",
            "--train-size",
            "2000",
            "--test-size",
            "500",
        ],
    ));
    let run = run_folder(&stdout);
    let log = std::fs::read_to_string(run.join("pretrain.csv")).unwrap();
    let rows: Vec<Vec<f64>> = log
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    // Two hidden layers, five epochs each, errors falling within each layer.
    assert_eq!(rows.len(), 10, "{log}");
    for layer in rows.chunks(5) {
        assert!(layer[4][2] < layer[0][2], "{log}");
    }
    assert!(stdout.find("pretrain layer 1/2").unwrap() < stdout.find("epoch  1/1").unwrap());
    // 20 Adam steps from pre-trained weights already learn something (from Xavier weights the
    // same 20 steps reach about 30 %).
    let accuracy = json(&run.join("report.json"))["test_accuracy"]
        .as_f64()
        .unwrap();
    assert!(accuracy > 40.0, "{accuracy}");
}

#[test]
fn a_group_trains_every_member_with_every_seed_and_writes_one_table() {
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "train",
        "--group",
        "init",
        "--seeds",
        "1,2",
        "--epochs",
        "1",
        "--train-size",
        "500",
        "--test-size",
        "100",
    ];
    let first = ok_stdout(lab10(tmp.path(), &args));
    assert_eq!(first.matches(": training").count(), 8, "{first}");
    for name in ["nn", "xavier", "xavier-uniform", "he-normal"] {
        assert_eq!(
            table_row(&first, name)
                .map(|cells| cells[1].clone())
                .as_deref(),
            Some("2"),
            "{name} row in:\n{first}"
        );
    }
    let summaries: Vec<PathBuf> = std::fs::read_dir(tmp.path().join("groups/init"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(summaries.len(), 1);
    let summary = json(&summaries[0].join("summary.json"));
    assert_eq!(summary["runs"].as_array().unwrap().len(), 8);
    let row = &summary["rows"][1];
    assert_eq!(row["experiment"], "xavier");
    assert_eq!(row["test_accuracy"]["n"], 2);
    let md = std::fs::read_to_string(summaries[0].join("summary.md")).unwrap();
    assert!(table_row(&md, "he-normal").is_some(), "{md}");

    // Finished runs are reused (read as JSON events: each member names the run it reuses,
    // the very runs of the summary), and nothing is trained.
    let again = events(&ok_stdout(lab10(
        tmp.path(),
        &[&args[..], &["--json"]].concat(),
    )));
    let mut reused: Vec<String> = again
        .iter()
        .filter(|e| e["event"] == "member")
        .map(|e| e["reused"]["run"].as_str().expect("reused").to_string())
        .collect();
    let mut runs: Vec<String> = summary["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run"].as_str().unwrap().to_string())
        .collect();
    reused.sort();
    runs.sort();
    assert_eq!(reused, runs);
    assert!(!again.iter().any(|e| e["event"] == "opened"), "{again:?}");

    // Side by side in two local processes: the same rows, each member's events read back
    // from its process and shown with its label.
    let jobs = tempfile::tempdir().unwrap();
    let text = ok_stdout(lab10(jobs.path(), &[&args[..], &["--jobs", "2"]].concat()));
    assert!(text.contains("] xavier seed 2: run: "), "{text}");
    assert!(text.contains(": epoch  1/1"), "{text}");
    let side_by_side: Vec<PathBuf> = std::fs::read_dir(jobs.path().join("groups/init"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let parallel = json(&side_by_side[0].join("summary.json"));
    assert_eq!(parallel["rows"][1]["test_accuracy"], row["test_accuracy"]);
    let forwarded = events(&ok_stdout(lab10(
        jobs.path(),
        &[&args[..], &["--jobs", "2", "--no-reuse", "--json"]].concat(),
    )));
    let epochs: Vec<&Value> = forwarded.iter().filter(|e| e["event"] == "epoch").collect();
    assert_eq!(epochs.len(), 8, "{forwarded:?}");
    assert!(
        epochs
            .iter()
            .all(|e| e["member"].as_str().is_some_and(|m| m.contains(" seed "))),
        "{epochs:?}"
    );

    let err = refused(lab10(tmp.path(), &["train", "--group", "nope"]));
    assert!(
        err.contains("unknown group 'nope'") && err.contains("vanishing"),
        "{err}"
    );
    let list = ok_stdout(command(repo(), &["list"]).output().unwrap());
    assert!(list.contains("groups (lab10 train --group NAME)"), "{list}");
    assert!(list.lines().any(|l| l.starts_with("pretraining")), "{list}");
}
