//! Datasets by name: every run records its data, is evaluated on it by default, and lives apart
//! from runs on other data; files of no known dataset need `--no-verify` and are then `custom`.
//!
//! Fashion-MNIST comes from Debian's `dataset-fashion-mnist` (`.ci/run` installs it): the tests
//! that read it are ignored by the README's test command and run by the complete suite
//! (`-- --include-ignored`), where its absence fails them.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use common::{command, json, needs, ok_stdout, output_text, refused, repo, run_folder};
use serde_json::Value;

const FASHION_DIR: &str = "/usr/share/datasets/fashion-mnist";
const FASHION_DIGESTS: [(&str, &str); 4] = [
    (
        "train-images-idx3-ubyte",
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    ),
    (
        "train-labels-idx1-ubyte",
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    ),
    (
        "t10k-images-idx3-ubyte",
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    ),
    (
        "t10k-labels-idx1-ubyte",
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    ),
];

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn lab10(cwd: &Path, args: &[&str]) -> std::process::Output {
    command(cwd, args).output().unwrap()
}

const TINY: [&str; 6] = [
    "--epochs",
    "1",
    "--train-size",
    "2000",
    "--test-size",
    "500",
];

fn train(cwd: &Path, what: &str, extra: &[&str]) -> PathBuf {
    let mut args = vec!["train", what];
    args.extend(TINY);
    args.extend(extra);
    run_folder(&ok_stdout(lab10(cwd, &args)))
}

fn eval_json(cwd: &Path, run: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["eval", s(run), "--json", "--test-size", "500"];
    args.extend(extra);
    serde_json::from_str(&ok_stdout(lab10(cwd, &args))).unwrap()
}

#[test]
#[ignore = "needs Fashion-MNIST: apt-get install dataset-fashion-mnist"]
fn a_fashion_run_records_its_data_lives_apart_and_is_evaluated_on_fashion_by_default() {
    needs::fashion_mnist();
    let artifacts = tempfile::tempdir().unwrap();
    let a = s(artifacts.path());
    let run = train(
        repo(),
        "softmax",
        &["--dataset", "fashion-mnist", "--artifacts", a],
    );
    assert!(
        run.starts_with(artifacts.path().join("fashion-mnist/softmax")),
        "{}",
        run.display()
    );
    assert!(
        !artifacts.path().join("softmax").exists(),
        "shares MNIST's folder"
    );

    let report = json(&run.join("report.json"));
    assert_eq!(report["dataset"], "fashion-mnist");
    assert_eq!(report["data"]["source"], "system");
    assert_eq!(report["data"]["dir"], FASHION_DIR);
    for (file, digest) in FASHION_DIGESTS {
        assert_eq!(report["data"]["sha256"][file], digest, "{file}");
    }
    let resolved = std::fs::read_to_string(run.join("experiment.toml")).unwrap();
    assert!(
        resolved.contains("dataset = \"fashion-mnist\"") && resolved.contains(FASHION_DIGESTS[2].1),
        "{resolved}"
    );

    // Evaluated with no flags: on Fashion-MNIST, the number the report has.
    let eval = eval_json(repo(), &run, &[]);
    assert_eq!(eval["dataset"], "fashion-mnist");
    assert_eq!(eval["cross_dataset"], false);
    assert_eq!(eval["accuracy"], report["test_accuracy"], "{eval}");
    let text = ok_stdout(lab10(repo(), &["eval", s(&run), "--test-size", "500"]));
    assert!(
        text.contains("data: fashion-mnist") && !text.contains("note:"),
        "{text}"
    );

    // On MNIST only when asked, and labelled so everywhere.
    let cross = eval_json(repo(), &run, &["--dataset", "mnist"]);
    assert_eq!(cross["dataset"], "mnist");
    assert_eq!(cross["trained_on"], "fashion-mnist");
    assert_eq!(cross["cross_dataset"], true);
    assert_ne!(cross["accuracy"], report["test_accuracy"]);
    let text = ok_stdout(lab10(
        repo(),
        &["eval", s(&run), "--dataset", "mnist", "--test-size", "500"],
    ));
    assert!(
        text.contains("data: mnist (the model was trained on fashion-mnist)")
            && text.contains("note: evaluated on mnist"),
        "{text}"
    );

    // Class names, not digits.
    let predicted = ok_stdout(lab10(repo(), &["predict", s(&run), "--samples", "8"]));
    assert!(
        [
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
            "T-shirt/top"
        ]
        .iter()
        .any(|c| predicted.contains(&format!("Actual: {c}"))),
        "{predicted}"
    );

    // The wrong folder for the run's data is refused, naming what it holds.
    let err = refused(lab10(
        repo(),
        &["eval", s(&run), "--data-dir", s(&repo().join("data/mnist"))],
    ));
    assert!(
        err.contains("holds mnist, not fashion-mnist") && err.contains("--dataset mnist"),
        "{err}"
    );

    // A report over runs of both datasets: one table each, each with its own references.
    let mnist_run = train(repo(), "softmax", &["--artifacts", a]);
    assert!(mnist_run.starts_with(artifacts.path().join("softmax")));
    let out = artifacts.path().join("report");
    ok_stdout(lab10(
        repo(),
        &["report", "--artifacts", a, "--out", s(&out)],
    ));
    let md = std::fs::read_to_string(out.join("README.md")).unwrap();
    let mnist_at = md.find("## Dataset: mnist").expect(&md);
    let fashion_at = md.find("## Dataset: fashion-mnist").expect(&md);
    assert!(mnist_at < fashion_at, "{md}");
    let (first, second) = (&md[mnist_at..fashion_at], &md[fashion_at..]);
    assert!(
        first.contains("| softmax") && first.contains("90.35 %"),
        "{md}"
    );
    assert!(second.contains("88.33 (MLP 256-128-100"), "{md}");
}

/// One way to start a member (src/member.rs), for `--jobs` and `--slurm` alike: a group on
/// Fashion-MNIST with `--jobs 2` trains and evaluates every member on Fashion-MNIST, and
/// `--slurm-dry-run` writes member files and a command line that say Fashion-MNIST too.
#[test]
#[ignore = "needs Fashion-MNIST: apt-get install dataset-fashion-mnist"]
fn a_fashion_group_trains_every_member_on_fashion_with_jobs_and_on_slurm() {
    needs::fashion_mnist();
    let dir = tempfile::tempdir().unwrap();
    let experiments = dir.path().join("experiments");
    std::fs::create_dir_all(experiments.join("groups")).unwrap();
    for name in ["softmax", "xavier"] {
        let file = format!("{name}.toml");
        std::fs::copy(
            repo().join("experiments").join(&file),
            experiments.join(&file),
        )
        .unwrap();
    }
    std::fs::write(
        experiments.join("groups/pair.toml"),
        "description = \"two\"\nexperiments = [\"softmax\", \"xavier\"]\nseeds = [1, 2]\n",
    )
    .unwrap();
    let group = |artifacts: &Path, extra: &[&str]| -> std::process::Output {
        let mut args = vec![
            "--experiments",
            s(&experiments),
            "--artifacts",
            s(artifacts),
            "--dataset",
            "fashion-mnist",
            "train",
            "--group",
            "pair",
        ];
        args.extend(TINY);
        args.extend(extra);
        lab10(dir.path(), &args)
    };

    let artifacts = dir.path().join("jobs");
    let events = common::events(&ok_stdout(group(&artifacts, &["--jobs", "2", "--json"])));
    let runs: Vec<PathBuf> = events
        .iter()
        .filter(|e| e["event"] == "opened")
        .map(|e| PathBuf::from(e["run"].as_str().unwrap()))
        .collect();
    assert_eq!(runs.len(), 4, "{events:?}");
    for run in &runs {
        assert!(
            run.starts_with(artifacts.join("fashion-mnist")),
            "{}",
            run.display()
        );
        let report = json(&run.join("report.json"));
        assert_eq!(report["dataset"], "fashion-mnist", "{}", run.display());
        assert_eq!(report["data"]["dir"], FASHION_DIR);
        let eval = eval_json(dir.path(), run, &[]);
        assert_eq!(eval["dataset"], "fashion-mnist");
        assert_eq!(eval["accuracy"], report["test_accuracy"], "{eval}");
    }

    let artifacts = dir.path().join("slurm");
    ok_stdout(group(&artifacts, &["--slurm", "--slurm-dry-run"]));
    let jobs: Vec<PathBuf> = std::fs::read_dir(artifacts.join("fashion-mnist/slurm"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let array = std::fs::read_to_string(jobs[0].join("array.sbatch")).unwrap();
    assert!(
        array.contains(" --dataset fashion-mnist ")
            && array.contains(" train \"$member\" --continue --backend flex &"),
        "{array}"
    );
    let members: Vec<PathBuf> = std::fs::read_dir(jobs[0].join("members"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(members.len(), 4);
    for member in members {
        let text = std::fs::read_to_string(&member).unwrap();
        assert!(text.contains("dataset = \"fashion-mnist\""), "{text}");
    }
}

#[test]
#[ignore = "needs Fashion-MNIST: apt-get install dataset-fashion-mnist"]
fn the_dataset_flag_beats_the_experiment_file_which_beats_the_default() {
    needs::fashion_mnist();
    let artifacts = tempfile::tempdir().unwrap();
    let a = s(artifacts.path());
    let shipped = std::fs::read_to_string(repo().join("experiments/softmax.toml")).unwrap();
    let file = artifacts.path().join("fsoftmax.toml");
    std::fs::write(&file, format!("dataset = \"fashion-mnist\"\n{shipped}")).unwrap();

    let from_file = train(repo(), s(&file), &["--artifacts", a]);
    assert_eq!(
        json(&from_file.join("report.json"))["dataset"],
        "fashion-mnist"
    );
    let flagged = train(repo(), s(&file), &["--artifacts", a, "--dataset", "mnist"]);
    assert_eq!(json(&flagged.join("report.json"))["dataset"], "mnist");
    let default = train(repo(), "softmax", &["--artifacts", a]);
    assert_eq!(json(&default.join("report.json"))["dataset"], "mnist");

    // `lab10 datasets` says where each one is.
    let listed = ok_stdout(lab10(repo(), &["datasets"]));
    assert!(
        listed.contains("fashion-mnist - Fashion-MNIST")
            && listed.contains(&format!("found: {FASHION_DIR} (system)"))
            && listed.contains("Ankle boot"),
        "{listed}"
    );
    let err = output_text(&lab10(
        repo(),
        &["train", "softmax", "--dataset", "cifar10"],
    ));
    assert!(
        err.contains("cifar10") && err.contains("fashion-mnist"),
        "{err}"
    );
}

fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        out.extend(d.to_be_bytes());
    }
    out.extend(data);
    out
}

/// Four small IDX files of MNIST's format that are no known dataset: noise images whose
/// label is their brightest quadrant, so a model can learn something from them.
fn custom_data(dir: &Path) {
    let mut state = 12345u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as u8
    };
    for (prefix, n) in [("train", 1000u32), ("t10k", 300)] {
        let mut images = Vec::new();
        let mut labels = Vec::new();
        for _ in 0..n {
            let label = next() % 4;
            for r in 0..28 {
                for c in 0..28 {
                    let quadrant = (r / 14) * 2 + c / 14;
                    let v = next() / 2 + if quadrant == label { 120 } else { 0 };
                    images.push(v);
                }
            }
            labels.push(label);
        }
        let mut f = std::fs::File::create(dir.join(format!("{prefix}-images-idx3-ubyte"))).unwrap();
        f.write_all(&idx(&[n, 28, 28], &images)).unwrap();
        std::fs::write(
            dir.join(format!("{prefix}-labels-idx1-ubyte")),
            idx(&[n], &labels),
        )
        .unwrap();
    }
}

#[test]
fn unknown_files_need_no_verify_are_recorded_as_custom_and_missing_data_is_a_clear_error() {
    let artifacts = tempfile::tempdir().unwrap();
    let a = s(artifacts.path());
    let data = tempfile::tempdir().unwrap();
    custom_data(data.path());
    let d = &*data.path().to_str().unwrap().to_string();

    let err = refused(lab10(
        repo(),
        &["train", "softmax", "--data-dir", d, "--artifacts", a],
    ));
    assert!(
        err.contains("train-images-idx3-ubyte")
            && err.contains("SHA-256")
            && err.contains("ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db")
            && err.contains("--no-verify")
            && err.contains("custom"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(artifacts.path()).unwrap().count(), 0);

    let run = train(
        repo(),
        "softmax",
        &["--data-dir", d, "--no-verify", "--artifacts", a],
    );
    assert!(run.starts_with(artifacts.path().join("custom/softmax")));
    let report = json(&run.join("report.json"));
    assert_eq!(report["dataset"], "custom");
    assert_eq!(report["data"]["dir"], d);
    assert_eq!(report["data"]["sha256"].as_object().unwrap().len(), 4);
    // Evaluated again on its own files, found where they were: the same number.
    let eval = eval_json(repo(), &run, &[]);
    assert_eq!(eval["dataset"], "custom");
    assert_eq!(eval["accuracy"], report["test_accuracy"]);

    // Its data gone: a clear error naming the folder and the fix, no fallback to MNIST.
    drop(data);
    let err = refused(lab10(repo(), &["eval", s(&run)]));
    assert!(
        err.contains("custom data") && err.contains(d) && err.contains("--data-dir"),
        "{err}"
    );
}
