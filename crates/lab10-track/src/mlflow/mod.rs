//! MLflow tracking: a run logged to a tracking server (`mlflow server`) through its REST API
//! (`client.rs`), as it trains ([`LiveRun`], a sink of the run's records) or afterwards
//! (`lab10 mlflow sync`), both through one path: [`TrackedRun::reconcile`]. Burn has no MLflow
//! logger.
//!
//! Everything here reconciles rather than appends: a [`TrackedRun`] first asks the server what
//! it holds of the run (params, and the steps of each metric), then sends only what is
//! missing. A resumed run therefore continues its MLflow run without a duplicate step, a run
//! whose server went away mid-way is completed by `sync` into the same run an uninterrupted
//! one gives, and `sync` sends a finished run once however often it is called. Which MLflow
//! run a run folder is, per tracking server, is kept in the folder (`mlflow.json`).
//!
//! A run holds: params (its settings), tags (`lab10.*` and MLflow's own, `mlflow.parentRunId`
//! for a study's member), metrics (lab10-track's names, step = epoch), artifacts (its files,
//! [`ARTIFACTS`], then SHA256SUMS) and a status: FINISHED, KILLED (stopped) or FAILED
//! (diverged, or an error).

mod client;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use lab10_runs::{
    EXPERIMENT_FILE, EpochRecord, Error, MANIFEST_FILE, MODEL_FILE, Manifest, PRETRAIN_FILE,
    REPORT_FILE, Report, RunDir, RunSink, RunStatus, metrics, read_checked, read_if_recorded,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{
    CONFUSION_PNG, MISCLASSIFIED_PNG, Point, Settings, epoch_points, final_points, pretrain_points,
};
pub use client::{Access, MlflowError, Result, is_http, without_user_info};
use client::{Client, MAX_METRICS_PER_BATCH, MAX_PARAMS_PER_BATCH, metric_value};

/// Which MLflow runs a run folder is, per tracking server (in its SHA256SUMS).
pub const MLFLOW_FILE: &str = "mlflow.json";

/// The run's MLflow Model (lab10-exchange writes it): `runs:/<id>/model` on the server.
pub const MODEL_ONNX: &str = "model/model.onnx";
pub const MLMODEL: &str = "model/MLmodel";

/// The run's files sent as artifacts, when they exist, and its SHA256SUMS after them.
const ARTIFACTS: [&str; 9] = [
    EXPERIMENT_FILE,
    "metrics.csv",
    REPORT_FILE,
    MODEL_FILE,
    PRETRAIN_FILE,
    CONFUSION_PNG,
    MISCLASSIFIED_PNG,
    MODEL_ONNX,
    MLMODEL,
];

/// Where runs are logged: `--mlflow URI` (or `MLFLOW_TRACKING_URI`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mlflow {
    /// The tracking server, `http://HOST:PORT`, without user-info.
    pub uri: String,
    /// Its credentials and TLS settings.
    pub access: Access,
    /// The MLflow experiment (`MLFLOW_EXPERIMENT_NAME`); else one per lab10 experiment, group
    /// or ensemble ([`experiment_name`]).
    pub experiment: Option<String>,
    /// The group's or ensemble's run whose nested run this is.
    pub parent: Option<String>,
}

/// What a run's tags say besides its settings: where it computed and which lab10 built it.
#[derive(Debug, Clone, Default)]
pub struct RunFacts {
    pub backend: String,
    pub commit: Option<String>,
}

/// The MLflow experiment of a lab10 experiment, group or ensemble when `MLFLOW_EXPERIMENT_NAME`
/// does not name one: `lab10/xavier`, `lab10/fashion-mnist/xavier`, `lab10/groups/lesson`.
pub fn experiment_name(kind: Option<&str>, name: &str, dataset: &str) -> String {
    let mut parts = vec!["lab10"];
    if dataset != lab10_data::MNIST.name {
        parts.push(dataset);
    }
    parts.extend(kind);
    parts.push(name);
    parts.join("/")
}

/// How far a run got, for [`TrackedRun::reconcile`].
#[derive(Clone, Copy)]
pub enum End<'a> {
    /// Still training.
    Running,
    /// Ended with its report.
    Report(&'a Report),
    /// Killed before its report.
    Killed,
}

impl Mlflow {
    /// The server at `uri` (its user-info taken out into [`Access`], with MLflow's variables).
    pub fn new(uri: &str, experiment: Option<String>) -> Self {
        let (uri, user_info) = without_user_info(uri);
        Self {
            uri,
            access: Access::from_env(user_info),
            experiment,
            parent: None,
        }
    }

    /// MLflow's variables that carry `mlflow` to a member's process (a `--jobs` child, a
    /// Slurm task): the server, the experiment, the parent run, then [`Access::VARS`];
    /// `None`: the variable unset.
    pub fn env(mlflow: Option<&Mlflow>) -> Vec<(&'static str, Option<String>)> {
        let mut vars = vec![
            ("MLFLOW_TRACKING_URI", mlflow.map(|m| m.uri.clone())),
            (
                "MLFLOW_EXPERIMENT_NAME",
                mlflow.and_then(|m| m.experiment.clone()),
            ),
            (
                "LAB10_MLFLOW_PARENT_RUN_ID",
                mlflow.and_then(|m| m.parent.clone()),
            ),
        ];
        vars.extend(
            mlflow
                .map(|m| m.access.env())
                .unwrap_or(Access::VARS.map(|v| (v, None))),
        );
        vars
    }

    fn connect(&self) -> Result<Client> {
        Client::connect(&self.uri, &self.access)
    }

    /// The server answers (checked before any training, so an unreachable one costs nothing).
    pub fn check(&self) -> Result<()> {
        self.connect().map(|_| ())
    }

    /// `run`'s MLflow run: the one its folder records for this server (and parent), continued,
    /// else a new one with the run's tags; its settings the server lacks sent as params (MLflow
    /// refuses a changed value: a run trained further keeps the settings it started with).
    pub fn open_run(&self, run: &RunDir, facts: &RunFacts) -> Result<TrackedRun> {
        let client = self.connect()?;
        let settings = Settings::of(run)?;
        let mut tracked = match self.linked(&client, run)? {
            Some(tracked) => tracked,
            None => self.create(&client, run, &settings, facts)?,
        };
        tracked.send_params(&settings)?;
        Ok(tracked)
    }

    /// The MLflow run `run`'s folder records for this server and parent, if the server still
    /// has it (deleted in MLflow's UI counts as gone: a new run is made).
    fn linked(&self, client: &Client, run: &RunDir) -> Result<Option<TrackedRun>> {
        let Some(link) = Links::read(run)?.find(&client.uri, self.parent.as_deref()) else {
            return Ok(None);
        };
        let got = match client.get("runs/get", &[("run_id", &link.run_id)]) {
            Err(e) if e.code() == Some(client::NOT_FOUND) => return Ok(None),
            got => got?,
        };
        if got["run"]["info"]["lifecycle_stage"] == "deleted" {
            return Ok(None);
        }
        let mut tracked = TrackedRun::new(client.clone(), &got["run"])?;
        for key in list(&got["run"]["data"]["metrics"]).filter_map(|m| m["key"].as_str()) {
            let steps = tracked.client.history(&tracked.run_id, key)?;
            let steps = steps.iter().map(|(s, _)| *s).collect();
            tracked.logged.insert(key.to_string(), steps);
        }
        Ok(Some(tracked))
    }

    fn create(
        &self,
        client: &Client,
        run: &RunDir,
        settings: &Settings,
        facts: &RunFacts,
    ) -> Result<TrackedRun> {
        let name = settings.name();
        let experiment = self
            .experiment
            .clone()
            .unwrap_or_else(|| experiment_name(None, &name, &settings.dataset()));
        let mut tags = vec![
            ("lab10.experiment", name.clone()),
            ("lab10.dataset", settings.dataset()),
            ("lab10.backend", facts.backend.clone()),
            ("lab10.seed", settings.seed()),
            ("lab10.run_folder", run.path.display().to_string()),
            ("lab10.run_id", run.id()),
            ("mlflow.source.type", "LOCAL".into()),
        ];
        if let Some(commit) = &facts.commit {
            tags.push(("lab10.commit", commit.clone()));
            tags.push(("mlflow.source.git.commit", commit.clone()));
        }
        let run_name = format!("{name} {}", run.id());
        let tracked =
            self.create_run(client, &experiment, &run_name, run.started_millis(), tags)?;
        // A link to a run the server no longer has is replaced.
        let mut links = Links::read(run)?;
        links
            .runs
            .retain(|l| !(l.tracking_uri == client.uri && l.parent_run_id == self.parent));
        links.runs.push(Link {
            tracking_uri: client.uri.clone(),
            experiment_id: tracked.experiment_id.clone(),
            run_id: tracked.run_id.clone(),
            parent_run_id: self.parent.clone(),
        });
        links.write(run)?;
        Ok(tracked)
    }

    /// A new MLflow run in `experiment`, nested under this parent if any.
    fn create_run(
        &self,
        client: &Client,
        experiment: &str,
        run_name: &str,
        start_ms: i64,
        mut tags: Vec<(&str, String)>,
    ) -> Result<TrackedRun> {
        let experiment_id = client.experiment_id(experiment)?;
        tags.push(("mlflow.source.name", "lab10".into()));
        if let Some(parent) = &self.parent {
            tags.push(("mlflow.parentRunId", parent.clone()));
        }
        let tags: Vec<Value> = tags
            .iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect();
        let created = client.post(
            "runs/create",
            &json!({"experiment_id": experiment_id, "run_name": run_name,
                    "start_time": start_ms, "tags": tags}),
        )?;
        TrackedRun::new(client.clone(), &created["run"])
    }

    /// A parent run for a group or an ensemble (`kind`: `groups`, `ensembles`) called `name`,
    /// with `params`; its members are logged as its nested runs ([`Mlflow::nested`]). When
    /// these settings name a parent already (`--slurm` made it at submission, and the summary
    /// job collects into it), that run is the study's: its missing params are added.
    pub fn open_parent(
        &self,
        kind: &str,
        name: &str,
        dataset: &str,
        params: &[(&str, String)],
    ) -> Result<TrackedRun> {
        let client = self.connect()?;
        let mut tracked = match &self.parent {
            Some(id) => TrackedRun::new(
                client.clone(),
                &client.get("runs/get", &[("run_id", id)])?["run"],
            )?,
            None => {
                let experiment = self
                    .experiment
                    .clone()
                    .unwrap_or_else(|| experiment_name(Some(kind), name, dataset));
                let tags = vec![
                    ("lab10.study", kind.to_string()),
                    ("lab10.name", name.to_string()),
                    ("lab10.dataset", dataset.to_string()),
                ];
                let top = Mlflow {
                    parent: None,
                    ..self.clone()
                };
                top.create_run(&client, &experiment, name, now_ms(), tags)?
            }
        };
        tracked.log_params(params.iter().map(|(k, v)| (k.to_string(), v.clone())))?;
        Ok(tracked)
    }

    /// The settings for `parent`'s members: nested runs in the parent's experiment.
    pub fn nested(&self, parent: &TrackedRun) -> Mlflow {
        Mlflow {
            uri: self.uri.clone(),
            access: self.access.clone(),
            experiment: parent.experiment_name().or_else(|| self.experiment.clone()),
            parent: Some(parent.run_id.clone()),
        }
    }

    /// Sends a run that trained without the server, or while it was away: everything the
    /// server lacks of it, then its status (a run still training is refused: its lock is
    /// held). Returns what was sent.
    pub fn sync(&self, run: &RunDir) -> Result<Synced> {
        let _lock = run.lock()?;
        if run.manifest()?.is_none() {
            return Err(Error::Invalid(format!(
                "{} has no SHA256SUMS (written by an earlier lab10), so what would be sent cannot \
                 be checked: `lab10 verify --seal {}` checks it and records its files; then sync it",
                run.path.display(),
                run.path.display()
            ))
            .into());
        }
        // No report (killed while training, or its report unrecorded): a killed run.
        let report = match run.report() {
            Ok(report) => Some(report),
            Err(_) if !run.file(REPORT_FILE).is_file() => None,
            Err(Error::Unrecorded { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        let records = match (&report, run.last_checkpoint()) {
            (Some(_), _) => metrics::read(run)?,
            (None, Some(epoch)) => metrics::read_at_checkpoint(run, epoch)?,
            (None, None) => Vec::new(),
        };
        // A run killed before its report: the backend from its id (`<stamp>-<backend>-s<seed>`).
        let id = run.id();
        let from_id = id
            .get(16..)
            .and_then(|l| l.rsplit_once("-s"))
            .map(|(b, _)| b);
        let facts = RunFacts {
            backend: report
                .as_ref()
                .map(|r| r.backend.clone())
                .or(from_id.map(String::from))
                .unwrap_or_default(),
            commit: report.as_ref().and_then(|r| r.git_commit.clone()),
        };
        let end = report.as_ref().map_or(End::Killed, End::Report);
        self.open_run(run, &facts)?.reconcile(run, &records, end)
    }

    /// `run`'s MLflow Model as a new version of the registered model `name` (made if the
    /// registry has none), tagged with the run's test accuracy and lab10 run id. The run is
    /// synced first, so the server holds the model. Returns the MLflow run id and the version.
    pub fn register(&self, run: &RunDir, name: &str) -> Result<(String, String)> {
        let report = run.report()?;
        let listed = run.manifest()?.unwrap_or_default().entries;
        if report.status != RunStatus::Completed || !listed.contains_key(MLMODEL) {
            return Err(MlflowError::Server(format!(
                "{} has no model to register: only a completed run with its model ({MLMODEL}) is",
                run.path.display()
            )));
        }
        let run_id = self.sync(run)?.run_id;
        let client = self.connect()?;
        match client.post("registered-models/create", &json!({ "name": name })) {
            Err(e) if e.code() == Some("RESOURCE_ALREADY_EXISTS") => {}
            created => drop(created?),
        }
        let tags = [
            ("lab10.run_id", run.id()),
            ("lab10.experiment", report.experiment),
            ("lab10.test_accuracy", report.test_accuracy.to_string()),
        ];
        let tags: Vec<Value> = tags
            .iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect();
        let source = format!("runs:/{run_id}/model");
        let body = json!({"name": name, "source": source, "run_id": run_id, "tags": tags});
        let created = client.post("model-versions/create", &body)?;
        let version = client.id_of(&created["model_version"]["version"], "model version")?;
        Ok((run_id, version))
    }
}

/// What [`TrackedRun::reconcile`] sent of a run.
#[derive(Debug, Clone, Default)]
pub struct Synced {
    pub run_id: String,
    /// Metric points the server lacked.
    pub points: usize,
    /// Artifacts the server lacked (or held in another version).
    pub artifacts: usize,
}

/// A run on the tracking server, and what the server holds of it.
pub struct TrackedRun {
    client: Client,
    pub experiment_id: String,
    pub run_id: String,
    /// Where the server's artifact proxy keeps the run's artifacts (`<experiment>/<run>/artifacts`,
    /// from its `artifact_uri`), or why lab10 cannot send artifacts there.
    artifacts: std::result::Result<String, String>,
    /// The timestamp of the last point sent (ms): a killed run's end.
    last_timestamp: Option<i64>,
    /// The run's params on the server.
    params: BTreeMap<String, String>,
    /// The steps the server holds, per metric.
    logged: HashMap<String, BTreeSet<i64>>,
}

impl TrackedRun {
    /// The run the server describes as `run` (`{"info": ..., "data": ...}`).
    fn new(client: Client, run: &Value) -> Result<Self> {
        let info = &run["info"];
        Ok(Self {
            experiment_id: client.id_of(&info["experiment_id"], "experiment")?,
            run_id: client.id_of(&info["run_id"], "run")?,
            artifacts: artifact_path(info),
            client,
            last_timestamp: None,
            params: list(&run["data"]["params"])
                .filter_map(|p| Some((p["key"].as_str()?.into(), p["value"].as_str()?.into())))
                .collect(),
            logged: HashMap::new(),
        })
    }

    /// The tracking server's URI.
    pub fn uri(&self) -> &str {
        &self.client.uri
    }

    fn experiment_name(&self) -> Option<String> {
        let query = [("experiment_id", self.experiment_id.as_str())];
        let got = self.client.get("experiments/get", &query).ok()?;
        got["experiment"]["name"].as_str().map(String::from)
    }

    /// The run's folder in the server's artifact proxy.
    fn artifact_root(&self) -> Result<&str> {
        self.artifacts
            .as_deref()
            .map_err(|why| MlflowError::Server(why.clone()))
    }

    /// Every setting the server lacks, as params. A setting that changed since (`--epochs` of
    /// a run trained further) keeps its param, which MLflow never changes, and gets a tag
    /// `lab10.changed.<setting>` with its value now.
    fn send_params(&mut self, settings: &Settings) -> Result<()> {
        let (held, missing): (Vec<_>, Vec<_>) = settings
            .texts()
            .into_iter()
            .partition(|(k, _)| self.params.contains_key(k));
        self.log_params(missing.into_iter())?;
        for (key, value) in held {
            if self.params[&key] != value {
                self.client.post(
                    "runs/set-tag",
                    &json!({"run_id": self.run_id, "key": format!("lab10.changed.{key}"), "value": value}),
                )?;
            }
        }
        Ok(())
    }

    /// Sends the params the server lacks.
    fn log_params(&mut self, params: impl Iterator<Item = (String, String)>) -> Result<()> {
        let missing: Vec<(String, String)> = params
            .filter(|(k, _)| !self.params.contains_key(k))
            .collect();
        let list: Vec<Value> = missing
            .iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect();
        for batch in list.chunks(MAX_PARAMS_PER_BATCH) {
            self.client.post(
                "runs/log-batch",
                &json!({"run_id": self.run_id, "params": batch}),
            )?;
        }
        self.params.extend(missing);
        Ok(())
    }

    /// Sends what the server lacks of `run`: its pre-training and the points of `records`
    /// (its epochs so far) and, once it ended, its final metrics, its files as artifacts and
    /// its status. The one way to the server: while a run trains (after each epoch), when it
    /// ends, and for `lab10 mlflow sync`. Returns what was sent.
    pub fn reconcile(&mut self, run: &RunDir, records: &[EpochRecord], end: End) -> Result<Synced> {
        let settings = Settings::of(run)?;
        let start = run.started_millis();
        let timed = |points: Vec<Point>, at: f64| {
            points
                .into_iter()
                .map(move |(k, step, v)| (k, step, v, at as i64))
        };
        let mut points = Vec::new();
        // RBM pre-training, before the first epoch, then the epochs.
        let mut at = start as f64;
        for p in metrics::read_pretrain(run)? {
            at += p.seconds.max(0.0) * 1000.0;
            points.extend(timed(pretrain_points(&p), at));
        }
        for r in records {
            at += r.epoch_seconds.max(0.0) * 1000.0;
            points.extend(timed(epoch_points(r, &settings), at));
        }
        let mut synced = Synced {
            run_id: self.run_id.clone(),
            points: self.log_points(points)?,
            artifacts: 0,
        };
        let (status, end_ms) = match end {
            End::Running => return Ok(synced),
            End::Report(report) => {
                let at = start + (report.total_seconds.max(0.0) * 1000.0) as i64;
                synced.points +=
                    self.log_points(timed(final_points(report), at as f64).collect())?;
                let status = match report.status {
                    RunStatus::Completed => "FINISHED",
                    RunStatus::Interrupted => "KILLED",
                    RunStatus::Diverged(_) => "FAILED",
                };
                (status, at)
            }
            End::Killed => ("KILLED", self.last_timestamp.unwrap_or(start)),
        };
        // The status is set even when the files could not be sent (then the error follows).
        let files = self.send_artifacts(run);
        self.set_status(status, Some(end_ms))?;
        synced.artifacts = files?;
        Ok(synced)
    }

    /// Sends the points (key, step, value, timestamp in ms) whose step the server lacks.
    fn log_points(&mut self, points: Vec<(String, i64, f64, i64)>) -> Result<usize> {
        if let Some(last) = points.iter().map(|p| p.3).max() {
            self.last_timestamp = Some(self.last_timestamp.map_or(last, |t| t.max(last)));
        }
        let missing: Vec<(String, i64, f64, i64)> = points
            .into_iter()
            .filter(|(key, step, ..)| !self.logged.get(key).is_some_and(|s| s.contains(step)))
            .collect();
        for batch in missing.chunks(MAX_METRICS_PER_BATCH) {
            let metrics: Vec<Value> = batch
                .iter()
                .map(|(key, step, value, timestamp)| {
                    json!({"key": key, "value": metric_value(*value), "timestamp": timestamp, "step": step})
                })
                .collect();
            self.client.post(
                "runs/log-batch",
                &json!({"run_id": self.run_id, "metrics": metrics}),
            )?;
            for (key, step, ..) in batch {
                self.logged.entry(key.clone()).or_default().insert(*step);
            }
        }
        Ok(missing.len())
    }

    /// The run's files the server lacks or holds in another version; returns how many were
    /// sent. Which version the server holds is what its copy of the run's SHA256SUMS says:
    /// that file is sent last, once the files it lists are there. A file the run's manifest
    /// does not list (metrics.csv of a run killed mid-way) is not sent.
    fn send_artifacts(&self, run: &RunDir) -> Result<usize> {
        let root = self.artifact_root()?;
        let held = self.client.get_artifact(root, MANIFEST_FILE)?;
        let held_entries = held
            .as_deref()
            .and_then(|b| Manifest::parse(b).ok())
            .map(|m| m.entries)
            .unwrap_or_default();
        let manifest = run.manifest()?.unwrap_or_default();
        let mut sent = 0;
        for name in ARTIFACTS {
            let Some(hash) = manifest.entries.get(name) else {
                continue;
            };
            if held_entries.get(name) != Some(hash) {
                let bytes = read_checked(&run.file(name))?;
                self.client.put_artifact(root, name, &bytes)?;
                sent += 1;
            }
        }
        // The manifest is not listed in itself: read as it is.
        if let Ok(bytes) = std::fs::read(run.file(MANIFEST_FILE))
            && held.as_deref() != Some(&bytes[..])
        {
            self.client.put_artifact(root, MANIFEST_FILE, &bytes)?;
            sent += 1;
        }
        Ok(sent)
    }

    /// Sends a file of a group or an ensemble (its comparison table) as an artifact.
    pub fn send_file(&self, path: &Path) -> Result<()> {
        let bytes = read_checked(path)?;
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        self.client
            .put_artifact(self.artifact_root()?, &name, &bytes)
    }

    /// Ends the run now with `status` (KILLED or FAILED: a stop or an error).
    pub fn end_now(&self, status: &str) -> Result<()> {
        self.set_status(status, Some(now_ms()))
    }

    /// MLflow's run status: RUNNING, FINISHED, KILLED or FAILED (with its end time).
    pub fn set_status(&self, status: &str, end_ms: Option<i64>) -> Result<()> {
        let mut body = json!({"run_id": self.run_id, "status": status});
        if let Some(end) = end_ms {
            body["end_time"] = end.into();
        }
        self.client.post("runs/update", &body).map(|_| ())
    }
}

/// A run's MLflow run while it trains (`--mlflow`): a sink of its records, each epoch and its
/// end reconciled with the server as `sync` does. A server that stops answering costs one
/// warning (the error this sink returns once) and nothing else: training goes on, and `lab10
/// mlflow sync` sends the rest later.
pub struct LiveRun {
    /// `None` once a call failed.
    tracked: Option<TrackedRun>,
    uri: String,
    /// Its status is set.
    ended: bool,
}

impl LiveRun {
    /// `run`'s MLflow run (continued for a resumed run, whose `records` so far are sent where
    /// the server lacks them), RUNNING.
    pub fn open(
        mlflow: &Mlflow,
        run: &RunDir,
        facts: &RunFacts,
        records: &[EpochRecord],
    ) -> Result<Self> {
        let mut tracked = mlflow.open_run(run, facts)?;
        tracked.set_status("RUNNING", None)?;
        tracked.reconcile(run, records, End::Running)?;
        Ok(Self {
            tracked: Some(tracked),
            uri: mlflow.uri.clone(),
            ended: false,
        })
    }

    /// What the warning says after `e`: how the run gets to the server later.
    pub fn goes_on_without(e: &dyn std::fmt::Display, run: &RunDir, uri: &str) -> Error {
        Error::Tracking(format!(
            "{e}. Training goes on without MLflow; send the rest later with `lab10 mlflow sync \
             {} --mlflow {uri}`",
            run.path.display()
        ))
    }

    fn reconcile(
        &mut self,
        run: &RunDir,
        records: &[EpochRecord],
        end: End,
    ) -> lab10_runs::Result<()> {
        let Some(tracked) = &mut self.tracked else {
            return Ok(());
        };
        match tracked.reconcile(run, records, end) {
            Ok(_) => Ok(()),
            Err(e) => {
                self.tracked = None;
                Err(Self::goes_on_without(&e, run, &self.uri))
            }
        }
    }
}

impl RunSink for LiveRun {
    fn epoch(&mut self, run: &RunDir, records: &[EpochRecord]) -> lab10_runs::Result<()> {
        self.reconcile(run, records, End::Running)
    }

    fn end(
        &mut self,
        run: &RunDir,
        records: &[EpochRecord],
        report: &Report,
    ) -> lab10_runs::Result<()> {
        self.ended = true;
        self.reconcile(run, records, End::Report(report))
    }

    fn failed(&mut self, error: &Error) {
        let status = match error {
            Error::Stopped { .. } => "KILLED",
            _ => "FAILED",
        };
        if let Some(tracked) = self.tracked.as_ref().filter(|_| !self.ended) {
            let _ = tracked.end_now(status);
        }
        self.ended = true;
    }
}

/// The MLflow runs a run folder is (`mlflow.json`).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Links {
    runs: Vec<Link>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Link {
    tracking_uri: String,
    experiment_id: String,
    run_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent_run_id: Option<String>,
}

impl Links {
    fn read(run: &RunDir) -> lab10_runs::Result<Self> {
        let path = run.file(MLFLOW_FILE);
        let Some(bytes) = read_if_recorded(&path)? else {
            return Ok(Self::default());
        };
        let mut links: Self = serde_json::from_slice(&bytes).map_err(|e| Error::Damaged {
            path,
            message: format!("not lab10's MLflow link file ({e}); delete it to log the run anew"),
        })?;
        // An earlier lab10 kept a URI's user-info here: taken out, and the file rewritten.
        let bare = |l: &Link| without_user_info(&l.tracking_uri).0;
        if links.runs.iter().any(|l| bare(l) != l.tracking_uri) {
            links.runs.iter_mut().for_each(|l| l.tracking_uri = bare(l));
            links.write(run)?;
        }
        Ok(links)
    }

    fn write(&self, run: &RunDir) -> lab10_runs::Result<()> {
        let text = serde_json::to_string_pretty(self).expect("links serialise");
        run.write(MLFLOW_FILE, text.as_bytes())
    }

    /// The link to `uri`'s run nested under `parent` (a plain run's: the first to `uri`).
    fn find(&self, uri: &str, parent: Option<&str>) -> Option<Link> {
        let on_server = || self.runs.iter().filter(|l| l.tracking_uri == uri);
        match parent {
            Some(p) => on_server().find(|l| l.parent_run_id.as_deref() == Some(p)),
            None => on_server().next(),
        }
        .cloned()
    }
}

/// The run's folder in the server's artifact proxy, from its `artifact_uri`
/// (`mlflow-artifacts:/1/<run>/artifacts`), or why lab10 cannot send artifacts there.
fn artifact_path(info: &Value) -> std::result::Result<String, String> {
    let uri = info["artifact_uri"].as_str().unwrap_or_default();
    match uri.strip_prefix("mlflow-artifacts:") {
        // `mlflow-artifacts:/path` or `mlflow-artifacts://host:port/path`.
        Some(rest) => {
            let path = match rest.strip_prefix("//") {
                Some(authority) => authority.split_once('/').map_or("", |(_, p)| p),
                None => rest.trim_start_matches('/'),
            };
            Ok(path.trim_end_matches('/').to_string())
        }
        None => Err(format!(
            "the server keeps this run's artifacts at '{uri}', which lab10 does not write to: \
             it sends files through the server's artifact proxy (`mlflow server` serves \
             artifacts by default; do not pass --no-serve-artifacts, and leave \
             --default-artifact-root unset)"
        )),
    }
}

/// The items of a JSON list (none for anything else).
fn list(value: &Value) -> impl Iterator<Item = &Value> {
    value
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
}

/// Now, in milliseconds since 1970 (MLflow's times).
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn experiment_names_follow_the_artifacts_layout() {
        assert_eq!(experiment_name(None, "xavier", "mnist"), "lab10/xavier");
        assert_eq!(
            experiment_name(Some("groups"), "lesson", "fashion-mnist"),
            "lab10/fashion-mnist/groups/lesson"
        );
    }

    #[test]
    fn non_finite_values_are_protobufs_json_strings_and_read_back() {
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.25] {
            let back = client::as_f64(&metric_value(v));
            assert!(back == v || (v.is_nan() && back.is_nan()), "{v} -> {back}");
        }
        assert_eq!(client::as_i64(&json!("12")), 12);
    }

    #[test]
    fn the_artifact_path_comes_from_the_runs_artifact_uri() {
        let info = |uri: &str| json!({ "artifact_uri": uri });
        assert_eq!(
            artifact_path(&info("mlflow-artifacts:/1/abc/artifacts")),
            Ok("1/abc/artifacts".into())
        );
        assert_eq!(
            artifact_path(&info("mlflow-artifacts://host:5000/7/abc/artifacts")),
            Ok("7/abc/artifacts".into())
        );
        assert!(
            artifact_path(&info("s3://bucket/1/abc"))
                .unwrap_err()
                .contains("s3://bucket")
        );
    }
}
