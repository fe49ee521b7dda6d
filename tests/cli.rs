//! End-to-end tests of the `lab10` binary on real MNIST (a few thousand images, one epoch).

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{
    command, cpu_backends, data_dir, events, json, opened_run, output_text, refused, repo,
};
use serde_json::Value;

/// Runs lab10 in `cwd` with extra environment variables.
fn lab10_in(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = command(cwd, args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("lab10 runs")
}

fn lab10(args: &[&str]) -> Output {
    lab10_in(repo(), args, &[])
}

/// A success; stdout and stderr together (download progress goes to stderr).
fn ok(o: Output) -> String {
    assert!(o.status.success(), "lab10 failed:\n{}", output_text(&o));
    output_text(&o)
}

/// Trains with `--json` and returns the run folder its events name.
fn train(artifacts: &Path, args: &[&str]) -> PathBuf {
    let data = data_dir();
    let mut all = vec![
        "train",
        "--json",
        "--data-dir",
        data.to_str().unwrap(),
        "--artifacts",
        artifacts.to_str().unwrap(),
    ];
    all.extend(args);
    let o = lab10(&all);
    assert!(o.status.success(), "lab10 failed:\n{}", output_text(&o));
    opened_run(&events(&String::from_utf8_lossy(&o.stdout)))
}

fn eval_json(target: &Path, extra: &[&str]) -> Value {
    let data = data_dir();
    let mut args = vec![
        "eval",
        target.to_str().unwrap(),
        "--json",
        "--data-dir",
        data.to_str().unwrap(),
    ];
    args.extend(extra);
    serde_json::from_str(&ok(lab10(&args))).unwrap()
}

#[test]
fn list_and_summary_show_the_five_experiments() {
    let out = ok(lab10(&["list"]));
    // The lesson's five first, in its order; then the rest by topic.
    let first: Vec<&str> = out
        .lines()
        .take(5)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        first,
        ["softmax", "nn", "xavier", "deep", "dropout"],
        "{out}"
    );
    assert!(out.contains("\ninit:\nxavier-uniform"), "{out}");
    assert!(ok(lab10(&["summary", "nn"])).contains("Total params: 269,322"));
    let deep = ok(lab10(&["summary", "deep"]));
    assert!(deep.contains("Total params: 1,195,018"), "{deep}");
    assert!(deep.contains("(None, 512)"), "{deep}");
}

#[test]
fn user_mistakes_get_one_clear_message() {
    let err = refused(lab10(&["train", "resnet"]));
    assert!(err.contains("unknown experiment 'resnet'"), "{err}");
    assert!(
        err.contains("deep, deep-early-stop, deep-l2, dropout"),
        "{err}"
    );

    let err = refused(lab10(&["train", "xavier", "--epochs", "0"]));
    assert!(err.contains("epochs must be at least 1"), "{err}");

    // clap knows the backends: its usage error lists them (exit status 2).
    let out = lab10(&["train", "xavier", "--backend", "tpu"]);
    let err = output_text(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("invalid value 'tpu'") && err.contains("flex, ndarray, wgpu"),
        "{err}"
    );

    let err = refused(lab10(&["eval", "/no/such/run"]));
    assert!(err.contains("/no/such/run"), "{err}");

    // Negative numbers reach lab10's own checks instead of clap's "unexpected argument".
    let err = refused(lab10(&["train", "xavier", "--lr", "-1"]));
    assert!(
        err.contains("learning_rate must be a positive number"),
        "{err}"
    );

    // --workers is gone: clap names it as unknown, and the help shows --jobs.
    let out = lab10(&["train", "--group", "init", "--workers", "ws://a:1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("'--workers'"),
        "{err}"
    );
    let help = ok(lab10(&["train", "--help"]));
    assert!(
        !help.contains("--workers") && help.contains("--jobs"),
        "{help}"
    );
}

#[test]
fn report_json_names_the_commit_lab10_was_built_from_not_the_current_directory() {
    // A git repository of its own as the working directory.
    let elsewhere = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .args(args)
            .current_dir(elsewhere.path())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["commit", "-q", "--allow-empty", "-m", "other"]);
    let built = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let built = String::from_utf8_lossy(&built.stdout).trim().to_string();
    let artifacts = elsewhere.path().join("artifacts");
    ok(lab10_in(
        elsewhere.path(),
        &[
            "train",
            "softmax",
            "--epochs",
            "1",
            "--train-size",
            "500",
            "--test-size",
            "100",
            "--data-dir",
            data_dir().to_str().unwrap(),
            "--artifacts",
            artifacts.to_str().unwrap(),
        ],
        &[],
    ));
    let report = json(&artifacts.join("softmax/latest/report.json"));
    assert_eq!(report["git_commit"], built.as_str(), "{report}");
}

#[test]
fn train_eval_resume_and_predict_on_real_mnist() {
    let artifacts = tempfile::tempdir().unwrap();
    let small = ["--train-size", "5000", "--test-size", "2000"];
    let run = train(
        artifacts.path(),
        &[&["xavier", "--epochs", "1"][..], &small].concat(),
    );

    // Every artifact is there.
    for f in [
        "experiment.toml",
        "metrics.csv",
        "metrics.json",
        "model.bpk",
        "report.json",
        "checkpoint/model-1.bpk",
    ] {
        assert!(run.join(f).is_file(), "{f} missing in {}", run.display());
    }
    let csv = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    assert!(
        csv.starts_with("epoch,train_loss,train_accuracy,valid_loss,valid_accuracy,"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 2, "{csv}");
    let latest = artifacts.path().join("xavier/latest");
    assert_eq!(latest.canonicalize().unwrap(), run.canonicalize().unwrap());

    // It learned: chance is 10 %.
    let report = json(&run.join("report.json"));
    let accuracy = report["test_accuracy"].as_f64().unwrap();
    assert!(accuracy > 70.0, "test accuracy {accuracy}");
    assert_eq!(report["test_images"], 2000);
    assert_eq!(report["per_class_accuracy"].as_array().unwrap().len(), 10);

    // Evaluating the saved model gives what training reported.
    let eval = eval_json(&latest, &["--test-size", "2000"]);
    assert_eq!(eval["accuracy"].as_f64().unwrap(), accuracy);
    let loss = report["test_loss"].as_f64().unwrap();
    assert!((eval["loss"].as_f64().unwrap() - loss).abs() < 1e-9);

    // ...and so does the checkpoint on the other CPU backend (with `--features ndarray`).
    for backend in cpu_backends().into_iter().filter(|b| *b != "flex") {
        let other = eval_json(
            &run.join("model.bpk"),
            &["--test-size", "2000", "--backend", backend],
        );
        assert!((other["accuracy"].as_f64().unwrap() - accuracy).abs() <= 0.1);
    }

    // A checkpoint of another architecture is refused with both shapes.
    let err = refused(lab10(&[
        "eval",
        run.join("model.bpk").to_str().unwrap(),
        "--experiment",
        "deep",
    ]));
    assert!(
        err.contains("[784, 512]") && err.contains("[784, 256]"),
        "{err}"
    );

    // A truncated model file is refused, naming it.
    let cut = artifacts.path().join("cut.bpk");
    let bytes = std::fs::read(run.join("model.bpk")).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    let err = refused(lab10(&[
        "eval",
        cut.to_str().unwrap(),
        "--experiment",
        "xavier",
    ]));
    assert!(err.contains("cut.bpk"), "{err}");

    // Resume continues after the last checkpoint; each epoch appears once.
    let data = data_dir();
    let out = ok(lab10(&[
        "train",
        "xavier",
        "--resume",
        run.to_str().unwrap(),
        "--epochs",
        "2",
        "--data-dir",
        data.to_str().unwrap(),
        "--artifacts",
        artifacts.path().to_str().unwrap(),
    ]));
    assert!(out.contains("resuming after epoch 1 of 2"), "{out}");
    let epochs: Vec<u64> = json(&run.join("metrics.json"))
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["epoch"].as_u64().unwrap())
        .collect();
    assert_eq!(epochs, vec![1, 2]);
    let report = json(&run.join("report.json"));
    assert_eq!(report["resumed_from_epoch"], 1);
    assert_eq!(report["epochs"], 2);

    // Predictions as the lesson prints them, with the digit drawn.
    let out = ok(lab10(&[
        "predict",
        latest.to_str().unwrap(),
        "--samples",
        "3",
        "--seed",
        "777",
        "--data-dir",
        data.to_str().unwrap(),
    ]));
    assert_eq!(out.matches("Index:").count(), 3, "{out}");
    assert!(
        out.contains("Actual:") && out.contains("Predicted:") && out.contains('█'),
        "{out}"
    );
}

#[test]
fn train_json_prints_each_event_as_one_json_object_matching_the_run_files() {
    let artifacts = tempfile::tempdir().unwrap();
    let data = data_dir();
    let o = lab10(&[
        "train",
        "xavier",
        "--json",
        "--epochs",
        "2",
        "--train-size",
        "2000",
        "--test-size",
        "500",
        "--data-dir",
        data.to_str().unwrap(),
        "--artifacts",
        artifacts.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", output_text(&o));
    let events = events(&String::from_utf8_lossy(&o.stdout));
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["data", "opened", "epoch", "epoch", "tested"],
        "{events:?}"
    );
    let run = opened_run(&events);
    assert_eq!(events[1]["backend"], "flex");
    assert_eq!(events[1]["epochs"], 2);
    assert_eq!(events[0]["train_images"], 2000);
    assert_eq!(events[0]["record"]["name"], "mnist");
    // The epochs are the records of metrics.json, the test numbers those of report.json.
    let metrics = json(&run.join("metrics.json"));
    for (i, epoch) in events[2..4].iter().enumerate() {
        assert_eq!(epoch["record"], metrics[i], "epoch {}", i + 1);
        assert_eq!(epoch["valid_label"], "test");
    }
    let report = json(&run.join("report.json"));
    let tested = &events[4];
    assert_eq!(tested["test_accuracy"], report["test_accuracy"]);
    assert_eq!(tested["test_loss"], report["test_loss"]);
    assert_eq!(tested["run"].as_str().unwrap(), run.to_str().unwrap());
}

/// On ndarray where the build has it (the complete suite), else on flex.
#[test]
fn two_runs_never_share_a_folder_and_ndarray_trains_too() {
    let artifacts = tempfile::tempdir().unwrap();
    let backend = *cpu_backends().last().unwrap();
    let args = [
        "xavier",
        "--epochs",
        "1",
        "--train-size",
        "3000",
        "--test-size",
        "1000",
        "--backend",
        backend,
    ];
    let a = train(artifacts.path(), &args);
    let b = train(artifacts.path(), &args);
    assert_ne!(a, b);
    let report = json(&b.join("report.json"));
    assert_eq!(report["backend"], backend);
    assert_eq!(report["validation"], "test (1000 images)");
    let device = if backend == "ndarray" {
        "NdArray"
    } else {
        "Flex"
    };
    assert!(
        report["device"].as_str().unwrap().contains(device),
        "{report}"
    );
    assert!(report["test_accuracy"].as_f64().unwrap() > 60.0, "{report}");
}

#[test]
fn a_holdout_split_validates_on_training_images_and_still_tests_on_the_test_set() {
    let artifacts = tempfile::tempdir().unwrap();
    let run = train(
        artifacts.path(),
        &[
            "softmax",
            "--epochs",
            "1",
            "--train-size",
            "1500",
            "--holdout",
            "500",
            "--test-size",
            "700",
        ],
    );
    let report = json(&run.join("report.json"));
    assert_eq!(report["train_images"], 1000);
    assert_eq!(report["validation"], "valid (500 images)");
    assert_eq!(report["test_images"], 700);
    let err = refused(lab10(&[
        "train",
        "softmax",
        "--train-size",
        "100",
        "--holdout",
        "100",
    ]));
    assert!(
        err.contains("holdout 100 leaves no training images"),
        "{err}"
    );
}

#[test]
fn a_diverging_run_stops_in_its_first_epoch_and_says_so_in_its_report() {
    let artifacts = tempfile::tempdir().unwrap();
    let data = data_dir();
    let err = refused(lab10(&[
        "train",
        "xavier",
        "--lr",
        "1e30",
        "--epochs",
        "3",
        "--train-size",
        "3000",
        "--data-dir",
        data.to_str().unwrap(),
        "--artifacts",
        artifacts.path().to_str().unwrap(),
    ]));
    assert!(
        err.contains("diverged: the training loss became") && err.contains("in epoch 1"),
        "{err}"
    );
    assert!(err.contains("--lr"), "{err}");
    let report = json(&artifacts.path().join("xavier/latest/report.json"));
    assert!(
        report["status"].as_str().unwrap().starts_with("diverged"),
        "{report}"
    );
    assert!(
        report["test_accuracy"].is_null(),
        "no model to test: {report}"
    );
    assert_eq!(report["epochs"], 0);

    // The diverged run is `latest`, yet `lab10 report` with no arguments still works: it shows
    // each experiment's newest completed run, and says which runs it left out.
    let a = artifacts.path().to_str().unwrap();
    ok(lab10(&[
        "train",
        "xavier",
        "--epochs",
        "1",
        "--train-size",
        "1000",
        "--test-size",
        "300",
        "--data-dir",
        data.to_str().unwrap(),
        "--artifacts",
        a,
    ]));
    refused(lab10(&[
        "train",
        "xavier",
        "--lr",
        "1e30",
        "--epochs",
        "1",
        "--train-size",
        "1000",
        "--data-dir",
        data.to_str().unwrap(),
        "--artifacts",
        a,
    ]));
    let out = lab10(&[
        "report",
        "--artifacts",
        a,
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    let text = output_text(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("wrote") && text.contains("skipped"), "{text}");
}

#[test]
fn corrupt_data_is_refused_naming_the_file_and_nothing_is_written() {
    let data = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(data_dir()).unwrap().flatten() {
        std::fs::copy(f.path(), data.path().join(f.file_name())).unwrap();
    }
    let labels = data.path().join("t10k-labels-idx1-ubyte.gz");
    let bytes = std::fs::read(&labels).unwrap();
    std::fs::write(&labels, &bytes[..bytes.len() - 100]).unwrap();
    let artifacts = tempfile::tempdir().unwrap();
    let err = refused(lab10(&[
        "train",
        "softmax",
        "--data-dir",
        data.path().to_str().unwrap(),
        "--artifacts",
        artifacts.path().to_str().unwrap(),
    ]));
    assert!(err.contains("t10k-labels-idx1-ubyte.gz"), "{err}");
    assert_eq!(std::fs::read_dir(artifacts.path()).unwrap().count(), 0);

    std::fs::remove_file(&labels).unwrap();
    let err = refused(lab10(&[
        "train",
        "softmax",
        "--data-dir",
        data.path().to_str().unwrap(),
    ]));
    assert!(
        err.contains("t10k-labels-idx1-ubyte") && err.contains("missing"),
        "{err}"
    );
}

/// Serves the shipped .gz files over HTTP on 127.0.0.1.
fn mirror() -> String {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", server.server_addr().to_ip().unwrap());
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let path = data_dir().join(request.url().trim_start_matches('/'));
            let response = match std::fs::read(path) {
                Ok(bytes) => tiny_http::Response::from_data(bytes),
                Err(_) => tiny_http::Response::from_data(Vec::new()).with_status_code(404),
            };
            let _ = request.respond(response);
        }
    });
    url
}

#[test]
fn without_local_data_it_downloads_into_the_cache_or_says_where_it_looked() {
    let cwd = tempfile::tempdir().unwrap();
    let cache = cwd.path().join("cache");
    let cache_str = cache.to_str().unwrap();

    // No mirror answers: the error lists the places searched and how to fix it.
    let err = refused(lab10_in(
        cwd.path(),
        &["train", "softmax"],
        &[
            ("LAB10_CACHE_DIR", cache_str),
            ("LAB10_MNIST_MIRRORS", "http://127.0.0.1:9/"),
        ],
    ));
    assert!(
        err.contains("data/mnist") && err.contains(cache_str),
        "{err}"
    );
    assert!(err.contains("--data-dir"), "{err}");
    assert!(!cache.join("mnist/train-images-idx3-ubyte.gz").exists());

    // A mirror on 127.0.0.1: the files are downloaded, verified, cached, and training runs.
    let url = mirror();
    let out = ok(lab10_in(
        cwd.path(),
        &[
            "train",
            "softmax",
            "--epochs",
            "1",
            "--train-size",
            "1000",
            "--test-size",
            "500",
        ],
        &[
            ("LAB10_CACHE_DIR", cache_str),
            ("LAB10_MNIST_MIRRORS", &url),
        ],
    ));
    assert!(out.contains("(downloaded)"), "{out}");
    assert!(cache.join("mnist/t10k-images-idx3-ubyte.gz").is_file());
    assert!(
        cwd.path()
            .join("artifacts/softmax/latest/report.json")
            .is_file()
    );

    // The next run finds the cache and downloads nothing.
    let out = ok(lab10_in(
        cwd.path(),
        &["eval", "artifacts/softmax/latest", "--test-size", "500"],
        &[
            ("LAB10_CACHE_DIR", cache_str),
            ("LAB10_MNIST_MIRRORS", "http://127.0.0.1:9/"),
        ],
    ));
    assert!(
        out.contains("data: mnist") && out.contains("(cache)"),
        "{out}"
    );
}

#[test]
fn an_mlflow_server_lab10_cannot_log_to_is_named_before_anything_is_trained() {
    let artifacts = tempfile::tempdir().unwrap();
    let a = artifacts.path().to_str().unwrap();
    let small = [
        "--train-size",
        "500",
        "--test-size",
        "100",
        "--artifacts",
        a,
    ];
    let train_with = |extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec!["train", "softmax", "--epochs", "1"];
        args.extend(small);
        args.extend(extra);
        lab10_in(repo(), &args, env)
    };

    // Nothing answers there: one error naming the URI, no run folder.
    let dead = "http://127.0.0.1:9";
    let said = refused(train_with(&["--mlflow", dead], &[]));
    assert!(
        said.contains(dead) && said.contains("nothing was trained"),
        "{said}"
    );
    // Not a server at all (MLflow's local file store): named, with what to pass instead.
    let said = refused(train_with(&["--mlflow", "file:./mlruns"], &[]));
    assert!(
        said.contains("'file:./mlruns' is not an http(s) server"),
        "{said}"
    );
    assert!(!artifacts.path().join("softmax").exists());

    // The same in MLflow's own variable (set for MLflow's Python client): a note, and the run
    // trains without MLflow.
    let out = train_with(&[], &[("MLFLOW_TRACKING_URI", "file:./mlruns")]);
    let text = ok(out);
    assert!(
        text.contains("MLFLOW_TRACKING_URI=file:./mlruns is not a tracking server"),
        "{text}"
    );
    let run = artifacts.path().join("softmax/latest");
    assert!(run.join("report.json").is_file() && !run.join("mlflow.json").exists());
}
