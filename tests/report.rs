//! `lab10 report` and `lab10 predict --png` on two small real runs.

mod common;

use std::path::{Path, PathBuf};

use common::{command, ok_stdout, repo, table_row};
use lab10_experiment::BackendKind;
use lab10_experiment::DataOptions;
use lab10_report::{ConfusionMatrix, RunData};
use serde_json::Value;

fn lab10(args: &[&str]) -> String {
    ok_stdout(command(repo(), args).output().unwrap())
}

fn is_png(path: &Path) -> bool {
    let bytes = std::fs::read(path).unwrap_or_default();
    bytes.len() > 2000 && bytes.starts_with(b"\x89PNG\r\n\x1a\n")
}

fn two_runs(artifacts: &Path) {
    for e in ["softmax", "xavier"] {
        lab10(&[
            "train",
            e,
            "--epochs",
            "2",
            "--train-size",
            "3000",
            "--test-size",
            "1000",
            "--artifacts",
            artifacts.to_str().unwrap(),
        ]);
    }
}

#[test]
fn a_report_of_two_runs_has_every_file_and_the_runs_numbers() {
    let artifacts = tempfile::tempdir().unwrap();
    two_runs(artifacts.path());
    let out: PathBuf = artifacts.path().join("my-report");
    lab10(&[
        "report",
        "softmax",
        "xavier",
        "--artifacts",
        artifacts.path().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);

    for stem in ["loss", "accuracy", "softmax-confusion", "xavier-confusion"] {
        assert!(is_png(&out.join(format!("{stem}.png"))), "{stem}.png");
        let svg = std::fs::read_to_string(out.join(format!("{stem}.svg"))).unwrap();
        assert!(svg.contains("<svg") && svg.contains("</svg>"), "{stem}.svg");
    }
    for e in ["softmax", "xavier"] {
        assert!(
            is_png(&out.join(format!("{e}-misclassified.png"))),
            "{e} misclassified"
        );
    }

    // The table shows exactly what each run's report.json says.
    let readme = std::fs::read_to_string(out.join("README.md")).unwrap();
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert_eq!(
        html.matches("data:image/png;base64,").count(),
        6,
        "all pictures inlined"
    );
    for e in ["softmax", "xavier"] {
        let report: Value = serde_json::from_slice(
            &std::fs::read(artifacts.path().join(e).join("latest/report.json")).unwrap(),
        )
        .unwrap();
        let cells = table_row(&readme, e).unwrap_or_else(|| panic!("no row for {e} in:\n{readme}"));
        let row = cells.join(" | ");
        let f = |k: &str| report[k].as_f64().unwrap();
        assert_eq!(cells[1], report["backend"].as_str().unwrap());
        assert_eq!(cells[2], report["epochs"].to_string());
        // Thousands grouped, as `lab10 summary` prints them.
        assert_eq!(cells[3].replace(',', ""), report["params"].to_string());
        assert!(cells[3].contains(','), "{row}");
        assert_eq!(cells[4], format!("{:.4}", f("final_train_loss")));
        assert_eq!(cells[5], format!("{:.4}", f("test_loss")));
        assert_eq!(cells[6], format!("{:.2}", f("test_accuracy")));
        assert_eq!(cells[7], format!("{:.2}", f("mean_epoch_seconds")));
        assert!(html.contains(&format!("<td>{}</td>", cells[6])));
    }
}

#[test]
fn confusion_rows_sum_to_the_class_counts_and_agree_with_the_report() {
    let artifacts = tempfile::tempdir().unwrap();
    lab10(&[
        "train",
        "xavier",
        "--epochs",
        "1",
        "--train-size",
        "2000",
        "--test-size",
        "1500",
        "--artifacts",
        artifacts.path().to_str().unwrap(),
    ]);
    let data = DataOptions {
        places: lab10_data::Places {
            dir: Some(repo().join("data/mnist")),
            ..Default::default()
        },
        dataset: None,
        verify: true,
    };
    let device = BackendKind::Flex.device().unwrap();
    let run = RunData::load(&artifacts.path().join("xavier"), &data, &device).unwrap();
    let labels = &run.test.mnist().labels;
    let matrix = ConfusionMatrix::new(labels, &run.evaluation.predictions);
    let totals = matrix.row_totals();
    assert_eq!(totals.iter().sum::<usize>(), 1500);
    for (digit, class) in run.report.per_class_accuracy.iter().enumerate() {
        assert_eq!(
            totals[digit],
            labels.iter().filter(|&&l| l as usize == digit).count()
        );
        assert_eq!(totals[digit], class.total);
        assert_eq!(matrix.counts[digit][digit], class.correct, "digit {digit}");
    }
}

#[test]
fn predict_can_draw_its_samples_into_a_png() {
    let artifacts = tempfile::tempdir().unwrap();
    lab10(&[
        "train",
        "softmax",
        "--epochs",
        "1",
        "--train-size",
        "1000",
        "--test-size",
        "500",
        "--artifacts",
        artifacts.path().to_str().unwrap(),
    ]);
    let png = artifacts.path().join("samples.png");
    let out = lab10(&[
        "predict",
        artifacts.path().join("softmax").to_str().unwrap(),
        "--samples",
        "12",
        "--png",
        png.to_str().unwrap(),
    ]);
    assert_eq!(out.matches("Index:").count(), 12);
    assert!(is_png(&png));
}
