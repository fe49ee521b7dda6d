//! Runs where people already look: every run's TensorBoard event file, read back by
//! TensorBoard's own reader (`scripts/check-tensorboard.py`) and compared with the run's
//! metrics.json and report.json.

mod common;

use std::path::Path;
use std::process::Command;

use common::{command, needs, ok_stdout, output_text, repo, small_run};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `scripts/check-tensorboard.py RUN`: TensorBoard's reader agrees with the run's files.
fn tensorboard_agrees(run: &Path) -> String {
    let out = Command::new("python3")
        .arg(repo().join("scripts/check-tensorboard.py"))
        .arg(run)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
#[ignore = "needs Python's tensorboard: pip install tensorboard"]
fn tensorboards_reader_sees_every_epoch_once_with_the_runs_numbers_pictures_and_hparams() {
    needs::python(&["tensorboard", "numpy"]);
    let artifacts = tempfile::tempdir().unwrap();
    let a = artifacts.path();
    let small = small_run(a);

    // Gradient norms per layer (the vanishing-gradient experiments) become scalars too.
    let mut args = vec!["train", "sigmoid-deep", "--epochs", "2"];
    args.extend(small);
    ok_stdout(command(repo(), &args).output().unwrap());
    let run = a.join("sigmoid-deep/latest").canonicalize().unwrap();
    let seen = tensorboard_agrees(&run);
    assert!(seen.contains("gradient_norm/layer_1: 2 points"), "{seen}");
    assert!(
        seen.contains("images/confusion_matrix: 1 image(s)")
            && seen.contains("images/misclassified: 1 image(s)"),
        "{seen}"
    );

    // RBM pre-training's epochs (5 per layer) are scalars of their own.
    let mut args = vec!["train", "rbm", "--epochs", "1"];
    args.extend(small);
    ok_stdout(command(repo(), &args).output().unwrap());
    let seen = tensorboard_agrees(&a.join("rbm/latest").canonicalize().unwrap());
    assert!(
        seen.contains("pretrain/layer_1/reconstruction_error: 5 points: equal to pretrain.csv")
            && seen.contains("pretrain/layer_2/reconstruction_error: 5 points"),
        "{seen}"
    );

    // Trained for 2 epochs, then resumed to 3: each epoch once, as an uninterrupted run.
    let mut args = vec!["train", "xavier", "--epochs", "2"];
    args.extend(small);
    ok_stdout(command(repo(), &args).output().unwrap());
    let run = a.join("xavier/latest").canonicalize().unwrap();
    ok_stdout(
        command(
            repo(),
            &["train", "xavier", "--resume", s(&run), "--epochs", "3"],
        )
        .output()
        .unwrap(),
    );
    let seen = tensorboard_agrees(&run);
    assert!(
        seen.contains("train/loss: 3 points, steps [1, 2, 3]"),
        "{seen}"
    );
}
