//! `--slurm`, for real: a one-node Slurm cluster on localhost (Debian's slurmctld, slurmd,
//! slurm-client and munge, which `.ci/run` installs), started and stopped by
//! `scripts/slurm-local.sh`. A group submitted as a job array gives the same summary as the
//! same group run here; a member sent Slurm's pre-timeout SIGUSR1 requeues itself and resumes
//! its own run, every epoch trained once; a refused submission leaves nothing behind. The
//! cluster test is ignored by the README's test command and run by the complete suite
//! (`-- --include-ignored`), where a Slurm that cannot start fails it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::mlflow::{ADMIN_PASSWORD, Server, pairs};
use common::{
    assert_nowhere, command, data_dir, epochs_in, files_holding, json, needs, ok_stdout,
    output_text, refused, repo,
};
use serde_json::Value;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// An experiments folder with the two lesson experiments the tests train and a group of both.
fn experiments(dir: &Path) -> PathBuf {
    let e = dir.join("experiments");
    std::fs::create_dir_all(e.join("groups")).unwrap();
    for name in ["softmax", "xavier", "deep"] {
        let file = format!("{name}.toml");
        std::fs::copy(repo().join("experiments").join(&file), e.join(&file)).unwrap();
    }
    std::fs::write(
        e.join("groups/tiny.toml"),
        "description = \"two experiments\"\nexperiments = [\"softmax\", \"xavier\"]\nseeds = [1, 2]\n",
    )
    .unwrap();
    e
}

/// `lab10 --artifacts A --experiments E --data-dir MNIST ARGS` in `cwd`.
fn lab10(cwd: &Path, artifacts: &Path, args: &[&str]) -> Command {
    let e = cwd.join("experiments");
    let mut all = vec![
        "--artifacts",
        s(artifacts),
        "--experiments",
        s(&e),
        "--data-dir",
    ];
    let data = data_dir();
    all.push(s(&data));
    all.extend_from_slice(args);
    let mut cmd = command(cwd, &all);
    cmd.env_remove("SLURM_CONF");
    cmd
}

const GROUP: &[&str] = &[
    "train",
    "--group",
    "tiny",
    "--epochs",
    "1",
    "--train-size",
    "1000",
    "--test-size",
    "500",
];

#[test]
fn without_sbatch_slurm_is_one_clear_message_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    experiments(dir.path());
    let artifacts = dir.path().join("artifacts");
    let empty = dir.path().join("no-programs");
    std::fs::create_dir(&empty).unwrap();
    let mut args = GROUP.to_vec();
    args.push("--slurm");
    let err = refused(
        lab10(dir.path(), &artifacts, &args)
            .env("PATH", &empty)
            .output()
            .unwrap(),
    );
    assert!(
        err.contains("`sbatch` on PATH") && err.contains("--slurm-dry-run"),
        "{err}"
    );
    assert!(
        !artifacts.join("slurm").exists(),
        "a job folder was written"
    );
}

#[test]
fn a_dry_run_writes_the_job_and_prints_it_without_submitting() {
    let dir = tempfile::tempdir().unwrap();
    experiments(dir.path());
    let artifacts = dir.path().join("artifacts");
    let mut args = GROUP.to_vec();
    // With --mlflow, a dry run makes no MLflow run, so its scripts export none (members
    // submitted by hand would log as runs of their own): they say so instead.
    args.extend(["--slurm", "--slurm-dry-run", "--slurm-signal", "90"]);
    args.extend(["--mlflow", "http://127.0.0.1:9"]);
    let out = ok_stdout(lab10(dir.path(), &artifacts, &args).output().unwrap());
    let job = only_job_folder(&artifacts);
    let array = std::fs::read_to_string(job.join("array.sbatch")).unwrap();
    assert!(
        !array.contains("export MLFLOW") && array.contains("# --mlflow: when submitted"),
        "{array}"
    );
    for line in [
        "#SBATCH --array=0-3",
        "#SBATCH --requeue",
        "#SBATCH --signal=B:USR1@90",
        "scontrol requeue",
        "--continue --backend flex",
    ] {
        assert!(array.contains(line), "{line} missing in:\n{array}");
    }
    let summary = std::fs::read_to_string(job.join("summary.sbatch")).unwrap();
    assert!(
        summary.contains("train --group tiny --collect --epochs 1 --train-size 1000"),
        "{summary}"
    );
    let members: Vec<_> = std::fs::read_dir(job.join("members")).unwrap().collect();
    assert_eq!(members.len(), 4);
    assert!(
        out.contains("array.sbatch") && out.contains("nothing submitted"),
        "{out}"
    );
}

/// The job folder a `--slurm` command wrote under `artifacts`.
fn only_job_folder(artifacts: &Path) -> PathBuf {
    let jobs: Vec<PathBuf> = std::fs::read_dir(artifacts.join("slurm"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    jobs.into_iter().next().unwrap()
}

/// A one-node cluster for the length of a test; stopped when dropped.
struct Cluster {
    state: tempfile::TempDir,
}

impl Cluster {
    fn start() -> Self {
        let state = tempfile::Builder::new()
            .prefix("lab10-slurm-")
            .tempdir()
            .unwrap();
        let out = Command::new("bash")
            .arg(repo().join("scripts/slurm-local.sh"))
            .arg("start")
            .arg(state.path())
            .output()
            .unwrap();
        if !out.status.success() {
            // Whatever did start goes again.
            let _ = Command::new("bash")
                .arg(repo().join("scripts/slurm-local.sh"))
                .arg("stop")
                .arg(state.path())
                .status();
            needs::missing(
                &format!("a one-node Slurm cluster:\n{}", output_text(&out)),
                "apt-get install slurmctld slurmd slurm-client munge",
            );
        }
        Self { state }
    }

    fn conf(&self) -> PathBuf {
        self.state.path().join("slurm.conf")
    }

    /// A Slurm client command (`squeue`, `scancel`, ...) on this cluster.
    fn client(&self, program: &str, args: &[&str]) -> Output {
        Command::new(program)
            .args(args)
            .env("SLURM_CONF", self.conf())
            .output()
            .unwrap()
    }

    /// Waits until no job is queued or running (bounded).
    fn drain(&self, limit: Duration) {
        let started = Instant::now();
        loop {
            let out = self.client("squeue", &["--noheader", "--format=%i %T"]);
            let queue = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if out.status.success() && queue.is_empty() {
                return;
            }
            assert!(started.elapsed() < limit, "jobs still queued: {queue}");
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(repo().join("scripts/slurm-local.sh"))
            .arg("stop")
            .arg(self.state.path())
            .status();
    }
}

/// The rows of a group summary: experiment, runs and test accuracy, as numbers.
fn rows(summary: &Value) -> Vec<(String, u64, f64, f64)> {
    summary["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["experiment"].as_str().unwrap().to_string(),
                r["test_accuracy"]["n"].as_u64().unwrap(),
                r["test_accuracy"]["mean"].as_f64().unwrap(),
                r["test_loss"]["mean"].as_f64().unwrap(),
            )
        })
        .collect()
}

fn only_summary(artifacts: &Path, group: &str) -> Value {
    let dirs: Vec<PathBuf> = std::fs::read_dir(artifacts.join("groups").join(group))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    json(&dirs[0].join("summary.json"))
}

/// A study's MLflow parent run and its nested runs.
fn parent_and_members(server: &Server, experiment: &str) -> (Value, Vec<Value>) {
    let (parents, members): (Vec<Value>, Vec<Value>) = server
        .runs(experiment)
        .into_iter()
        .partition(|r| !pairs(&r["data"]["tags"]).contains_key("mlflow.parentRunId"));
    assert_eq!(parents.len(), 1, "{parents:?}");
    let parent = parents.into_iter().next().unwrap();
    for m in &members {
        assert_eq!(
            pairs(&m["data"]["tags"])["mlflow.parentRunId"],
            parent["info"]["run_id"].as_str().unwrap()
        );
    }
    (parent, members)
}

#[test]
#[ignore = "needs Slurm: apt-get install slurmctld slurmd slurm-client munge (started by the test), and pip install mlflow"]
fn a_group_and_a_preempted_member_run_on_a_real_slurm_cluster() {
    let cluster = Cluster::start();
    let dir = tempfile::tempdir().unwrap();
    experiments(dir.path());
    let conf = cluster.conf();
    let with_slurm = |artifacts: &Path, args: &[&str]| {
        let mut cmd = lab10(dir.path(), artifacts, args);
        cmd.env("SLURM_CONF", &conf);
        cmd.output().unwrap()
    };

    // A rejected submission: Slurm's own message, and no job folder left.
    let refused_artifacts = dir.path().join("refused");
    let mut args = GROUP.to_vec();
    args.extend(["--slurm", "--sbatch-arg=--partition=nosuch"]);
    let err = refused(with_slurm(&refused_artifacts, &args));
    assert!(
        err.contains("sbatch refused") && err.to_lowercase().contains("partition"),
        "{err}"
    );
    let left: Vec<_> = std::fs::read_dir(refused_artifacts.join("slurm"))
        .map(|d| d.collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "left behind: {left:?}");

    // The group through Slurm: the same rows as the same group here; with --mlflow, the
    // members log from their tasks as nested runs of the run made at submission, which the
    // summary job finishes.
    // MLflow's basic-auth app, the password in the URI: the tasks get it from sbatch's
    // environment, and it is in no file (the job folder, its logs, Slurm's spool).
    let mlflow = Server::start_basic_auth(&dir.path().join("mlflow"));
    let uri = mlflow
        .uri()
        .replace("http://", &format!("http://admin:{ADMIN_PASSWORD}@"));
    let local = dir.path().join("local");
    ok_stdout(lab10(dir.path(), &local, GROUP).output().unwrap());
    let slurm = dir.path().join("slurm");
    let mut args = GROUP.to_vec();
    args.extend(["--slurm", "--mlflow", &uri]);
    let out = ok_stdout(with_slurm(&slurm, &args));
    assert!(
        out.contains("submitted job array") && out.contains("squeue"),
        "{out}"
    );
    cluster.drain(Duration::from_secs(300));
    let spool = cluster.state.path().join("spool");
    assert_nowhere(
        ADMIN_PASSWORD,
        &[slurm.clone(), spool, mlflow.artifacts_dir()],
    );
    // slurmctld's own state keeps each batch job's environment (what sbatch passes) until the
    // job is purged, in the controller's private folder: that copy, and nothing else there.
    let state = files_holding(ADMIN_PASSWORD, &[cluster.state.path().join("state")]);
    assert!(
        !state.is_empty() && state.iter().all(|f| f.ends_with("environment")),
        "{state:?}"
    );
    let job = only_job_folder(&slurm);
    let logs = std::fs::read_dir(job.join("logs")).unwrap().count();
    assert_eq!(logs, 5, "four members' logs and the summary's");
    assert_eq!(
        rows(&only_summary(&slurm, "tiny")),
        rows(&only_summary(&local, "tiny"))
    );
    let (parent, members) = parent_and_members(&mlflow, "lab10/groups/tiny");
    assert_eq!(parent["info"]["status"], "FINISHED", "{parent}");
    assert_eq!(members.len(), 4, "{members:?}");
    for member in &members {
        assert_eq!(member["info"]["status"], "FINISHED", "{member}");
        let id = member["info"]["run_id"].as_str().unwrap();
        let steps: Vec<i64> = mlflow
            .history(id, "train/loss")
            .iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(steps, [1]);
    }

    // An ensemble of one `deep` member, sent SIGUSR1 once its first epoch is checkpointed:
    // it requeues itself, resumes its own run, and trains every epoch once.
    let preempted = dir.path().join("preempted");
    let out = ok_stdout(with_slurm(
        &preempted,
        &[
            "ensemble",
            "deep",
            "--members",
            "1",
            "--epochs",
            "6",
            "--train-size",
            "12000",
            "--test-size",
            "500",
            "--slurm",
            "--mlflow",
            &uri,
        ],
    ));
    let array = out
        .split("job array ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no job array id in {out}"))
        .to_string();
    let runs = preempted.join("deep");
    let started = Instant::now();
    let run = loop {
        let checkpointed = std::fs::read_dir(&runs)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.join("checkpoint/model-1.bpk").is_file());
        if let Some(run) = checkpointed {
            break run;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no checkpoint"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let task = format!("{array}_0");
    let sent = cluster.client("scancel", &["--signal=USR1", "--batch", &task]);
    assert!(sent.status.success(), "{}", output_text(&sent));
    cluster.drain(Duration::from_secs(300));
    let log =
        std::fs::read_to_string(only_job_folder(&preempted).join(format!("logs/{array}_0.out")))
            .unwrap();
    assert!(log.contains("requeueing task"), "{log}");
    assert!(log.contains("start 2"), "{log}");
    let report = json(&run.join("report.json"));
    assert_eq!(report["status"], "completed", "{log}");
    assert!(
        report["resumed_from_epoch"].as_u64().unwrap() >= 1,
        "{report}"
    );
    assert_eq!(epochs_in(&run), vec![1, 2, 3, 4, 5, 6], "{log}");
    // Stopped (KILLED), requeued and resumed into the same MLflow run: each epoch once.
    let (parent, members) = parent_and_members(&mlflow, "lab10/ensembles/deep");
    assert_eq!(parent["info"]["status"], "FINISHED", "{parent}");
    assert_eq!(members.len(), 1, "{members:?}");
    assert_eq!(members[0]["info"]["status"], "FINISHED");
    let id = members[0]["info"]["run_id"].as_str().unwrap();
    let steps: Vec<i64> = mlflow
        .history(id, "train/loss")
        .iter()
        .map(|p| p.0)
        .collect();
    assert_eq!(steps, [1, 2, 3, 4, 5, 6], "{log}");
    let member_runs = std::fs::read_dir(&runs)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name() != "latest")
        .count();
    assert_eq!(
        member_runs, 1,
        "the requeued task started a second run:\n{log}"
    );
    let ensembles = preempted.join("ensembles/deep");
    assert!(
        ensembles.is_dir(),
        "the summary job wrote no ensemble:\n{log}"
    );
}
