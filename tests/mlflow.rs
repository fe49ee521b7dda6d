//! MLflow tracking against a real `mlflow server` (SQLite store, artifacts proxied, on
//! loopback, started and stopped by each test: `common/mlflow.rs`): what lab10 logs is read
//! back through MLflow's REST API and compared with the run's own files. (Members logging
//! from Slurm's tasks: tests/slurm.rs.)

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use common::mlflow::{Server, int, number, pairs};
use common::{
    command, json, ok_stdout, output_text, refused, repo, run_line, small_run, spawn,
    wait_for_epoch_2, xavier_args,
};
use serde_json::Value;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The MLflow run a run folder records (`mlflow.json`), for the one server of a test.
fn run_id_of(run: &Path) -> String {
    json(&run.join("mlflow.json"))["runs"][0]["run_id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// experiment.toml's settings by dotted name, as MLflow params are.
fn settings(run: &Path) -> BTreeMap<String, String> {
    fn flatten(prefix: &str, v: &toml::Value, out: &mut BTreeMap<String, String>) {
        match v {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    flatten(&key, v, out);
                }
            }
            toml::Value::String(s) => {
                out.insert(prefix.into(), s.clone());
            }
            toml::Value::Array(items) => {
                let items: Vec<String> = items.iter().map(|v| v.to_string()).collect();
                out.insert(prefix.into(), format!("[{}]", items.join(", ")));
            }
            other => {
                out.insert(prefix.into(), other.to_string());
            }
        }
    }
    let text = std::fs::read_to_string(run.join("experiment.toml")).unwrap();
    let mut out = BTreeMap::new();
    flatten("", &text.parse::<toml::Table>().unwrap().into(), &mut out);
    out
}

/// What the server holds of a run equals its folder: params, per-epoch metrics (each epoch
/// once, the values of metrics.json), final test metrics, artifacts (byte for byte), status.
fn server_equals_folder(server: &Server, run: &Path, status: &str) -> Value {
    let id = run_id_of(run);
    let got = server.run(&id);
    assert_eq!(got["info"]["status"], status, "{got}");
    // Params are the settings the run started with; one changed since (trained further) is
    // a tag `lab10.changed.<setting>`.
    let tags = pairs(&got["data"]["tags"]);
    let mut params = pairs(&got["data"]["params"]);
    for (key, value) in &tags {
        if let Some(setting) = key.strip_prefix("lab10.changed.") {
            params.insert(setting.to_string(), value.clone());
        }
    }
    assert_eq!(params, settings(run));
    let report = json(&run.join("report.json"));
    assert_eq!(
        tags["lab10.experiment"],
        report["experiment"].as_str().unwrap()
    );
    assert_eq!(tags["lab10.seed"], report["seed"].to_string());
    assert_eq!(tags["lab10.backend"], report["backend"].as_str().unwrap());
    assert_eq!(tags["lab10.run_folder"], s(run));
    let records = json(&run.join("metrics.json"));
    let records = records.as_array().unwrap();
    let epochs: Vec<i64> = records.iter().map(|r| int(&r["epoch"])).collect();
    for (key, field) in [
        ("train/loss", "train_loss"),
        ("train/accuracy", "train_accuracy"),
        ("test/loss", "valid_loss"),
        ("test/accuracy", "valid_accuracy"),
        ("train/epoch_seconds", "epoch_seconds"),
    ] {
        let expected: Vec<(i64, f64)> = records
            .iter()
            .map(|r| (int(&r["epoch"]), number(&r[field])))
            .collect();
        assert_eq!(server.history(&id, key), expected, "{key}");
    }
    // The saved model's test accuracy at the last epoch (a run trained further has one such
    // point per training: its epoch-2 model's, then its epoch-3 model's).
    let last = *epochs.last().unwrap();
    let finals = server.history(&id, "final/test_accuracy");
    assert_eq!(
        finals.last(),
        Some(&(last, number(&report["test_accuracy"])))
    );
    let steps: BTreeSet<i64> = finals.iter().map(|p| p.0).collect();
    assert_eq!(steps.len(), finals.len(), "a step twice: {finals:?}");
    for file in [
        "experiment.toml",
        "metrics.csv",
        "report.json",
        "model.bpk",
        "confusion.png",
        "misclassified.png",
        "SHA256SUMS",
    ] {
        assert!(
            server.artifact(&got, file) == std::fs::read(run.join(file)).unwrap(),
            "artifact {file} differs from the run's"
        );
    }
    got
}

fn small(artifacts: &Path) -> Vec<String> {
    small_run(artifacts).map(String::from).to_vec()
}

fn lab10(args: &[String]) -> std::process::Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    command(repo(), &args).output().unwrap()
}

fn args(head: &[&str], tail: Vec<String>) -> Vec<String> {
    head.iter().map(|s| s.to_string()).chain(tail).collect()
}

#[test]
#[ignore = "needs Python's mlflow: pip install mlflow"]
fn a_run_arrives_whole_and_a_resumed_run_continues_it_without_a_duplicate_step() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let artifacts = dir.path().join("runs");
    let uri = server.uri();

    // (An unreachable server is refused before training: tests/cli.rs.)
    let out = ok_stdout(lab10(&args(
        &["train", "xavier", "--epochs", "2", "--mlflow", &uri],
        small(&artifacts),
    )));
    let run = run_line(&out).unwrap();
    let got = server_equals_folder(&server, &run, "FINISHED");
    assert_eq!(server.runs("lab10/xavier").len(), 1);
    let id = got["info"]["run_id"].as_str().unwrap().to_string();

    // Trained further: the same MLflow run, each epoch once.
    ok_stdout(lab10(&args(
        &[
            "train",
            "xavier",
            "--epochs",
            "3",
            "--mlflow",
            &uri,
            "--resume",
            s(&run),
        ],
        Vec::new(),
    )));
    assert_eq!(run_id_of(&run), id);
    server_equals_folder(&server, &run, "FINISHED");
    let steps: Vec<i64> = server
        .history(&id, "train/loss")
        .iter()
        .map(|p| p.0)
        .collect();
    assert_eq!(steps, [1, 2, 3]);
    let got = server.run(&id);
    assert_eq!(pairs(&got["data"]["params"])["training.epochs"], "2");
    assert_eq!(
        pairs(&got["data"]["tags"])["lab10.changed.training.epochs"],
        "3"
    );
    assert_eq!(server.runs("lab10/xavier").len(), 1);
}

#[test]
#[ignore = "needs Python's mlflow: pip install mlflow"]
fn a_group_is_a_parent_with_nested_members_a_divergence_failed_and_ctrl_c_killed() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let artifacts = dir.path().join("runs");
    let uri = server.uri();

    // One member trained before (reused), two trained now: all three nested.
    ok_stdout(lab10(&args(
        &["train", "deep", "--epochs", "1", "--seed", "1"],
        small(&artifacts),
    )));
    let out = ok_stdout(lab10(&args(
        &[
            "train",
            "--group",
            "regularisation",
            "--seeds",
            "1",
            "--epochs",
            "1",
        ],
        args(&["--mlflow", &uri], small(&artifacts)),
    )));
    assert!(out.contains("deep seed 1: reusing"), "{out}");
    let runs = server.runs("lab10/groups/regularisation");
    let parent = runs
        .iter()
        .find(|r| r["info"]["run_name"] == "regularisation")
        .expect("the group's parent run");
    assert_eq!(parent["info"]["status"], "FINISHED");
    let parent_id = parent["info"]["run_id"].as_str().unwrap();
    let mut members = BTreeSet::new();
    for r in runs.iter().filter(|r| r["info"]["run_id"] != parent_id) {
        let tags = pairs(&r["data"]["tags"]);
        assert_eq!(tags["mlflow.parentRunId"], parent_id);
        assert_eq!(r["info"]["status"], "FINISHED");
        members.insert(tags["lab10.experiment"].clone());
        // Reused or trained now, each member's MLflow Model is there.
        assert!(!server.artifact(r, "model/MLmodel").is_empty());
        let run = PathBuf::from(&tags["lab10.run_folder"]);
        let linked = json(&run.join("mlflow.json"));
        assert!(
            linked["runs"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["run_id"] == r["info"]["run_id"])
        );
    }
    assert_eq!(
        members,
        BTreeSet::from(["deep".into(), "deep-l2".into(), "dropout".into()])
    );
    let summary = std::fs::read_to_string(
        std::fs::read_dir(artifacts.join("groups/regularisation"))
            .unwrap()
            .flatten()
            .find(|e| e.path().join("summary.md").is_file())
            .unwrap()
            .path()
            .join("summary.md"),
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(server.artifact(parent, "summary.md")).unwrap(),
        summary
    );

    // A divergence: FAILED.
    let out = lab10(&args(
        &[
            "train", "xavier", "--lr", "1e30", "--epochs", "2", "--mlflow", &uri,
        ],
        small(&artifacts),
    ));
    let said = refused(out);
    assert!(said.contains("diverged"), "{said}");
    let diverged = artifacts.join("xavier/latest");
    assert_eq!(
        server.run(&run_id_of(&diverged))["info"]["status"],
        "FAILED"
    );

    // Ctrl-C in a completed run trained further: KILLED, with the epochs it finished, and the
    // MLflow Model of its first end gone from the run (it is not the model the run has now).
    let mut first = xavier_args(&artifacts);
    first[3] = "1".into();
    first.extend(["--mlflow".into(), uri.clone()]);
    let run = run_line(&ok_stdout(lab10(&args(&[], first)))).unwrap();
    let log = dir.path().join("stdout.txt");
    let mut resume = vec!["train", "xavier", "--resume", s(&run), "--epochs", "3"];
    resume.extend(["--mlflow", &uri]);
    let child = spawn(
        &resume.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
        &log,
    );
    assert_eq!(wait_for_checkpoint_1(&log), run);
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", output_text(&out));
    let listed = std::fs::read_to_string(run.join("SHA256SUMS")).unwrap();
    let stale = run.join("model/MLmodel").exists() || listed.contains(" model/");
    assert!(!stale, "{listed}\n{}", output_text(&out));
    let got = server.run(&run_id_of(&run));
    assert_eq!(got["info"]["status"], "KILLED", "{got}");
    let steps: Vec<i64> = server
        .history(&run_id_of(&run), "train/loss")
        .iter()
        .map(|p| p.0)
        .collect();
    assert_eq!(
        steps,
        common::epochs_in(&run)
            .iter()
            .map(|&e| e as i64)
            .collect::<Vec<_>>()
    );
}

/// `lab10 train xavier` for 3 epochs of about a second each (stop.rs's run) with `--mlflow
/// uri`, its stdout in `log` (for its run folder), its stderr piped.
fn train_logged(artifacts: &Path, uri: &str, log: &Path) -> Child {
    let mut args = xavier_args(artifacts);
    args.extend(["--mlflow".into(), uri.into()]);
    spawn(&args, log)
}

/// Waits until the run `log` names has its epoch-1 checkpoint complete; returns its folder.
fn wait_for_checkpoint_1(log: &Path) -> PathBuf {
    wait_for_epoch_2(|| run_line(&std::fs::read_to_string(log).ok()?))
}

#[test]
#[ignore = "needs Python's mlflow: pip install mlflow"]
fn a_server_lost_mid_run_is_one_warning_and_sync_completes_the_same_run_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path());
    let artifacts = dir.path().join("runs");
    let uri = server.uri();

    // The server killed once epoch 1 is in: training goes on and finishes.
    let log = dir.path().join("stdout.txt");
    let child = train_logged(&artifacts, &uri, &log);
    let run = wait_for_checkpoint_1(&log);
    server.kill();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("Training goes on without MLflow").count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("lab10 mlflow sync"), "{stderr}");
    assert_eq!(json(&run.join("report.json"))["status"], "completed");

    // Back, and synced: the run an uninterrupted one is; a second sync sends nothing.
    server.restart();
    assert_eq!(server.run(&run_id_of(&run))["info"]["status"], "RUNNING");
    let sync = |targets: &[&str]| {
        let mut a = vec![
            "mlflow",
            "sync",
            "--mlflow",
            &uri,
            "--artifacts",
            s(&artifacts),
        ];
        a.extend(targets);
        ok_stdout(command(repo(), &a).output().unwrap())
    };
    let said = sync(&[s(&run)]);
    assert!(said.contains("sent"), "{said}");
    server_equals_folder(&server, &run, "FINISHED");
    let said = sync(&[s(&run)]);
    assert!(said.contains("up to date"), "{said}");

    // A run trained without --mlflow (the history) is sent by a sync of everything, once.
    let out = ok_stdout(lab10(&args(
        &["train", "softmax", "--epochs", "2"],
        small(&artifacts),
    )));
    let history = run_line(&out).unwrap();
    assert!(!history.join("mlflow.json").exists());
    sync(&[]);
    server_equals_folder(&server, &history, "FINISHED");
    let said = sync(&[]);
    assert_eq!(said.matches("up to date").count(), 2, "{said}");

    // A run of an earlier lab10 (no SHA256SUMS) is refused until `verify --seal` checked it.
    let out = ok_stdout(lab10(&args(
        &["train", "softmax", "--epochs", "1"],
        small(&artifacts),
    )));
    let legacy = run_line(&out).unwrap();
    std::fs::remove_file(legacy.join("SHA256SUMS")).unwrap();
    let a = ["mlflow", "sync", "--mlflow", &uri, s(&legacy)];
    let said = refused(command(repo(), &a).output().unwrap());
    assert!(
        said.contains("has no SHA256SUMS") && said.contains("verify --seal"),
        "{said}"
    );
    assert!(!legacy.join("SHA256SUMS").exists() && !legacy.join("mlflow.json").exists());
    assert_eq!(server.runs("lab10/xavier").len(), 1);
    assert_eq!(server.runs("lab10/softmax").len(), 1);
}
