//! MLflow tracking: a run logged to a tracking server (`mlflow server`) through its REST API
//! (`client.rs`), as it trains or afterwards (`lab10 mlflow sync`). Burn has no MLflow logger.
//!
//! Everything here reconciles rather than appends: a [`TrackedRun`] first asks the server what
//! it holds of the run (params, and the steps of each metric), then sends only what is
//! missing. A resumed run therefore continues its MLflow run without a duplicate step, a run
//! whose server went away mid-way is completed by `sync` into the same run an uninterrupted
//! one gives, and `sync` sends a finished run once however often it is called. Which MLflow
//! run a run folder is, per tracking server, is kept in the folder (`mlflow.json`, in its
//! SHA256SUMS like every file of a run).
//!
//! What a run holds: params, every setting of the resolved experiment (`model.hidden`,
//! `training.batch_size`, ...); tags, `lab10.*` (experiment, dataset, backend, seed, commit, run
//! folder) and MLflow's own (`mlflow.runName`, `mlflow.parentRunId` for a group's or an
//! ensemble's member); metrics per epoch (step = epoch, the names of the TensorBoard file:
//! `train/loss`, `test/accuracy`, ...; `pretrain/layer_K/reconstruction_error` per RBM
//! pre-training epoch) and the final `final/test_loss` and `final/test_accuracy`; artifacts,
//! the run's files (experiment.toml, metrics.csv, report.json, model.bpk, pretrain.csv, the
//! pictures, SHA256SUMS); status, FINISHED, KILLED (stopped) or FAILED (diverged,
//! or an error).

mod client;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::experiment::Experiment;
use crate::data::valid_label;
use crate::error::{Error, Result};
use crate::store::manifest::{MANIFEST_FILE, Manifest, read_checked, read_if_recorded};
use crate::store::metrics::{self, EpochRecord};
use crate::store::report::{Report, RunStatus};
use crate::store::run_dir::{
    CONFUSION_PNG, EXPERIMENT_FILE, MISCLASSIFIED_PNG, MLFLOW_FILE, MODEL_FILE, PRETRAIN_FILE,
    REPORT_FILE, RunDir,
};
use client::{Client, MAX_METRICS_PER_BATCH, MAX_PARAMS_PER_BATCH, metric_value};

/// The run's files sent as artifacts, when they exist, and its SHA256SUMS after them.
const ARTIFACTS: [&str; 7] = [
    EXPERIMENT_FILE,
    "metrics.csv",
    REPORT_FILE,
    MODEL_FILE,
    PRETRAIN_FILE,
    CONFUSION_PNG,
    MISCLASSIFIED_PNG,
];

/// Where runs are logged: `--mlflow URI` (or `MLFLOW_TRACKING_URI`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mlflow {
    /// The tracking server, `http://HOST:PORT`.
    pub uri: String,
    /// The MLflow experiment (`MLFLOW_EXPERIMENT_NAME`); else one per lab10 experiment, group
    /// or ensemble ([`experiment_name`]).
    pub experiment: Option<String>,
    /// The group's or ensemble's run whose nested run this is.
    pub parent: Option<String>,
}

/// What a run's tags say besides its experiment: where it computed and which lab10 built it.
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

impl Mlflow {
    /// The server answers (checked before any training, so an unreachable one costs nothing).
    pub fn check(&self) -> Result<()> {
        Client::connect(&self.uri).map(|_| ())
    }

    /// `run`'s MLflow run: the one its folder records for this server (and parent), continued,
    /// else a new one with the run's tags and params. Params the server holds are not sent
    /// again (MLflow refuses a changed value: a run trained further keeps the settings it
    /// started with as params).
    pub fn open_run(
        &self,
        run: &RunDir,
        experiment: &Experiment,
        facts: &RunFacts,
    ) -> Result<TrackedRun> {
        let client = Client::connect(&self.uri)?;
        let mut tracked = match self.linked(&client, run)? {
            Some(tracked) => tracked,
            None => self.create(client, run, experiment, facts)?,
        };
        tracked.send_params(experiment)?;
        Ok(tracked)
    }

    /// The MLflow run `run`'s folder records for this server and parent, if the server still
    /// has it (deleted in MLflow's UI counts as gone: a new run is made).
    fn linked(&self, client: &Client, run: &RunDir) -> Result<Option<TrackedRun>> {
        let Some(link) = Links::read(run)?.find(&client.uri, self.parent.as_deref()) else {
            return Ok(None);
        };
        let got = match client.get("runs/get", &[("run_id", &link.run_id)]) {
            Ok(got) => got,
            // Deleted on the server: a new run is made.
            Err(Error::Tracking(m)) if m.contains("RESOURCE_DOES_NOT_EXIST") => return Ok(None),
            Err(e) => return Err(e),
        };
        if got["run"]["info"]["lifecycle_stage"] == "deleted" {
            return Ok(None);
        }
        let data = &got["run"]["data"];
        let mut tracked = TrackedRun {
            client: client.clone(),
            experiment_id: link.experiment_id,
            artifacts: artifact_path(&got["run"]["info"]),
            run_id: link.run_id,
            params: pairs(&data["params"]),
            logged: HashMap::new(),
            last_timestamp: None,
        };
        for key in data["metrics"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|m| m["key"].as_str())
        {
            let steps = tracked.client.history(&tracked.run_id, key)?;
            tracked
                .logged
                .insert(key.to_string(), steps.iter().map(|(s, _)| *s).collect());
        }
        Ok(Some(tracked))
    }

    fn create(
        &self,
        client: Client,
        run: &RunDir,
        experiment: &Experiment,
        facts: &RunFacts,
    ) -> Result<TrackedRun> {
        let name = self
            .experiment
            .clone()
            .unwrap_or_else(|| experiment_name(None, &experiment.name, &experiment.dataset));
        let experiment_id = client.experiment_id(&name)?;
        let mut tags = vec![
            ("lab10.experiment", experiment.name.clone()),
            ("lab10.dataset", experiment.dataset.clone()),
            ("lab10.backend", facts.backend.clone()),
            ("lab10.seed", experiment.training.seed.to_string()),
            ("lab10.run_folder", run.path.display().to_string()),
            ("lab10.run_id", run.id()),
            ("mlflow.source.name", "lab10".into()),
            ("mlflow.source.type", "LOCAL".into()),
        ];
        if let Some(commit) = &facts.commit {
            tags.push(("lab10.commit", commit.clone()));
            tags.push(("mlflow.source.git.commit", commit.clone()));
        }
        if let Some(parent) = &self.parent {
            tags.push(("mlflow.parentRunId", parent.clone()));
        }
        let created = client.post(
            "runs/create",
            &json!({
                "experiment_id": experiment_id,
                "run_name": format!("{} {}", experiment.name, run.id()),
                "start_time": run.started_millis(),
                "tags": tags.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>(),
            }),
        )?;
        let info = &created["run"]["info"];
        let run_id = client.id_of(&info["run_id"], "run")?;
        let artifacts = artifact_path(info);
        // A link to a run the server no longer has is replaced.
        let mut links = Links::read(run)?;
        links
            .runs
            .retain(|l| !(l.tracking_uri == client.uri && l.parent_run_id == self.parent));
        links.runs.push(Link {
            tracking_uri: client.uri.clone(),
            experiment_id: experiment_id.clone(),
            run_id: run_id.clone(),
            parent_run_id: self.parent.clone(),
        });
        links.write(run)?;
        Ok(TrackedRun {
            client,
            experiment_id,
            run_id,
            artifacts,
            params: BTreeMap::new(),
            logged: HashMap::new(),
            last_timestamp: None,
        })
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
        let client = Client::connect(&self.uri)?;
        if let Some(id) = &self.parent {
            let got = client.get("runs/get", &[("run_id", id)])?;
            let info = &got["run"]["info"];
            let held = pairs(&got["run"]["data"]["params"]);
            let tracked = TrackedRun {
                experiment_id: client.id_of(&info["experiment_id"], "experiment")?,
                artifacts: artifact_path(info),
                client,
                run_id: id.clone(),
                params: held.clone(),
                logged: HashMap::new(),
                last_timestamp: None,
            };
            let missing = params
                .iter()
                .filter(|(k, _)| !held.contains_key(*k))
                .map(|(k, v)| (k.to_string(), v.clone()));
            tracked.log_params(missing)?;
            return Ok(tracked);
        }
        let experiment = self
            .experiment
            .clone()
            .unwrap_or_else(|| experiment_name(Some(kind), name, dataset));
        let experiment_id = client.experiment_id(&experiment)?;
        let created = client.post(
            "runs/create",
            &json!({
                "experiment_id": experiment_id,
                "run_name": name,
                "start_time": now_ms(),
                "tags": [
                    {"key": "lab10.study", "value": kind},
                    {"key": "lab10.name", "value": name},
                    {"key": "lab10.dataset", "value": dataset},
                    {"key": "mlflow.source.name", "value": "lab10"},
                ],
            }),
        )?;
        let info = &created["run"]["info"];
        let tracked = TrackedRun {
            run_id: client.id_of(&info["run_id"], "run")?,
            artifacts: artifact_path(info),
            client,
            experiment_id: experiment_id.clone(),
            params: BTreeMap::new(),
            logged: HashMap::new(),
            last_timestamp: None,
        };
        tracked.log_params(params.iter().map(|(k, v)| (k.to_string(), v.clone())))?;
        Ok(tracked)
    }

    /// The settings for `parent`'s members: nested runs in the parent's experiment.
    pub fn nested(&self, parent: &TrackedRun) -> Mlflow {
        Mlflow {
            uri: self.uri.clone(),
            experiment: Some(parent.experiment_name().unwrap_or_default())
                .filter(|n| !n.is_empty())
                .or_else(|| self.experiment.clone()),
            parent: Some(parent.run_id.clone()),
        }
    }

    /// Sends a run that trained without the server, or while it was away: everything the
    /// server lacks of it, then its status (a run still training is left alone). Returns what
    /// was sent.
    pub fn sync(&self, run: &RunDir) -> Result<Synced> {
        let _lock = run.lock()?;
        if run.manifest()?.is_none() {
            return Err(Error::Invalid(format!(
                "{} has no SHA256SUMS (written by an earlier lab10), so what would be sent cannot \
                 be checked: `lab10 verify --seal {}` checks it and records its files; then sync it",
                run.path.display(),
                run.path.display()
            )));
        }
        let experiment = run.experiment()?;
        // No report (killed while training, or its report unrecorded): a killed run.
        let report = match run.report() {
            Ok(report) => Some(report),
            Err(_) if !run.file(REPORT_FILE).is_file() => None,
            Err(Error::Checkpoint { .. }) => None,
            Err(e) => return Err(e),
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
        let mut tracked = self.open_run(run, &experiment, &facts)?;
        let mut synced = Synced {
            run_id: tracked.run_id.clone(),
            ..Synced::default()
        };
        synced.points = tracked.log_epochs(&experiment, run, &records)?;
        match &report {
            Some(report) => {
                let (points, files) = tracked.finish(run, report)?;
                synced.points += points;
                synced.artifacts = files;
            }
            // Killed while training: what it has, and KILLED.
            None => {
                synced.artifacts = tracked.send_artifacts(run)?;
                let end = tracked
                    .last_timestamp
                    .unwrap_or_else(|| run.started_millis());
                tracked.set_status("KILLED", Some(end))?;
            }
        }
        Ok(synced)
    }
}

/// What [`Mlflow::sync`] sent of a run.
#[derive(Debug, Clone, Default)]
pub struct Synced {
    pub run_id: String,
    /// Metric points the server lacked.
    pub points: usize,
    /// Artifacts the server lacked (or held in another size).
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
    /// The tracking server's URI.
    pub fn uri(&self) -> &str {
        &self.client.uri
    }

    fn experiment_name(&self) -> Option<String> {
        let got = self
            .client
            .get("experiments/get", &[("experiment_id", &self.experiment_id)])
            .ok()?;
        got["experiment"]["name"].as_str().map(String::from)
    }

    /// The run's folder in the server's artifact proxy.
    fn artifact_root(&self) -> Result<&str> {
        self.artifacts
            .as_deref()
            .map_err(|why| Error::Tracking(why.clone()))
    }

    /// Every setting of `experiment` the server lacks, as params. A setting that changed since
    /// (`--epochs` of a run trained further) keeps its param, which MLflow never changes, and
    /// gets a tag `lab10.changed.<setting>` with its value now.
    fn send_params(&mut self, experiment: &Experiment) -> Result<()> {
        let (held, missing): (Vec<_>, Vec<_>) = settings(experiment)
            .into_iter()
            .partition(|(k, _)| self.params.contains_key(k));
        self.log_params(missing.iter().cloned())?;
        self.params.extend(missing);
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

    fn log_params(&self, params: impl Iterator<Item = (String, String)>) -> Result<()> {
        let params: Vec<Value> = params.map(|(k, v)| json!({"key": k, "value": v})).collect();
        for batch in params.chunks(MAX_PARAMS_PER_BATCH) {
            self.client.post(
                "runs/log-batch",
                &json!({"run_id": self.run_id, "params": batch}),
            )?;
        }
        Ok(())
    }

    /// Sends the epochs of `records` the server lacks; returns how many points that was.
    pub fn log_epochs(
        &mut self,
        experiment: &Experiment,
        run: &RunDir,
        records: &[EpochRecord],
    ) -> Result<usize> {
        let valid = valid_label(experiment.training.holdout);
        let lr = experiment.optimizer.learning_rate();
        let start = run.started_millis();
        let mut points = Vec::new();
        // RBM pre-training, before the first epoch: step = its epoch, per layer.
        let mut at = start as f64;
        for p in metrics::read_pretrain(run)? {
            at += p.seconds.max(0.0) * 1000.0;
            let key = format!("pretrain/layer_{}/reconstruction_error", p.layer);
            points.push((key, p.epoch as i64, p.reconstruction_error, at as i64));
        }
        for r in records {
            at += r.epoch_seconds.max(0.0) * 1000.0;
            let mut values = vec![
                ("train/loss".to_string(), r.train_loss),
                ("train/accuracy".into(), r.train_accuracy),
                (format!("{valid}/loss"), r.valid_loss),
                (format!("{valid}/accuracy"), r.valid_accuracy),
                ("train/learning_rate".into(), lr),
                ("train/epoch_seconds".into(), r.epoch_seconds),
            ];
            for (k, norm) in r.gradient_norms.iter().enumerate() {
                values.push((format!("gradient_norm/layer_{}", k + 1), *norm));
            }
            for (key, value) in values {
                points.push((key, r.epoch as i64, value, at as i64));
            }
        }
        self.log_points(points)
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

    /// The run ended with `report`: its final test metrics, its files as artifacts and its
    /// status. Returns the points and artifacts sent.
    pub fn finish(&mut self, run: &RunDir, report: &Report) -> Result<(usize, usize)> {
        let step = report.epoch_seconds.len() as i64;
        let at = run.started_millis() + (report.total_seconds.max(0.0) * 1000.0) as i64;
        let mut points = 0;
        if report.test_accuracy.is_finite() {
            points = self.log_points(vec![
                ("final/test_loss".into(), step, report.test_loss, at),
                ("final/test_accuracy".into(), step, report.test_accuracy, at),
            ])?;
        }
        // The status is set even when the files could not be sent (then the error follows).
        let files = self.send_artifacts(run);
        let status = match report.status {
            RunStatus::Completed => "FINISHED",
            RunStatus::Interrupted => "KILLED",
            RunStatus::Diverged(_) => "FAILED",
        };
        self.set_status(status, Some(at))?;
        Ok((points, files?))
    }

    /// The run's files the server lacks or holds in another version; returns how many were
    /// sent. Which version the server holds is what its copy of the run's SHA256SUMS says:
    /// that file is sent last, once the files it lists are there. A file the run's manifest
    /// does not list (metrics.csv of a run killed mid-way) is not sent; a run without a
    /// manifest (an earlier lab10's) sends its files each time.
    pub fn send_artifacts(&self, run: &RunDir) -> Result<usize> {
        let held = self
            .client
            .get_artifact(self.artifact_root()?, MANIFEST_FILE)?;
        let held_entries = held
            .as_deref()
            .and_then(|b| Manifest::parse(b).ok())
            .map(|m| m.entries)
            .unwrap_or_default();
        let manifest = run.manifest()?;
        let mut sent = 0;
        for name in ARTIFACTS {
            let path = run.file(name);
            let listed = manifest.as_ref().map(|m| m.entries.get(name));
            if !path.is_file() || listed == Some(None) {
                continue;
            }
            if listed.flatten().is_some() && listed.flatten() == held_entries.get(name) {
                continue;
            }
            let (bytes, _) = read_checked(&path)?;
            self.client
                .put_artifact(self.artifact_root()?, name, &bytes)?;
            sent += 1;
        }
        let path = run.file(MANIFEST_FILE);
        if path.is_file() {
            let bytes = std::fs::read(&path).map_err(|e| Error::read(&path, e))?;
            if held.as_deref() != Some(&bytes[..]) {
                self.client
                    .put_artifact(self.artifact_root()?, MANIFEST_FILE, &bytes)?;
                sent += 1;
            }
        }
        Ok(sent)
    }

    /// Sends a file of a group or an ensemble (its comparison table) as an artifact.
    pub fn send_file(&self, path: &Path) -> Result<()> {
        let (bytes, _) = read_checked(path)?;
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

/// Every setting of the resolved experiment, by its dotted name in experiment.toml
/// (`training.batch_size`, `model.hidden`), each on one line.
fn settings(experiment: &Experiment) -> Vec<(String, String)> {
    let value: toml::Value = toml::from_str(&experiment.to_toml()).expect("written by toml");
    let mut out = Vec::new();
    flatten("", &value, &mut out);
    out
}

fn flatten(prefix: &str, value: &toml::Value, out: &mut Vec<(String, String)>) {
    match value {
        toml::Value::Table(table) => {
            for (k, v) in table {
                let key = match prefix {
                    "" => k.clone(),
                    p => format!("{p}.{k}"),
                };
                flatten(&key, v, out);
            }
        }
        other => out.push((prefix.into(), compact(other))),
    }
}

/// A setting's value on one line: `relu`, `0.001`, `[512, 512, 512, 512]`.
fn compact(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Array(items) => {
            let items: Vec<String> = items.iter().map(compact).collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_string(),
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
    fn read(run: &RunDir) -> Result<Self> {
        let path = run.file(MLFLOW_FILE);
        let Some(bytes) = read_if_recorded(&path)? else {
            return Ok(Self::default());
        };
        serde_json::from_slice(&bytes).map_err(|e| Error::Damaged {
            path,
            message: format!("not lab10's MLflow link file ({e}); delete it to log the run anew"),
        })
    }

    fn write(&self, run: &RunDir) -> Result<()> {
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

fn pairs(list: &Value) -> BTreeMap<String, String> {
    list.as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| Some((p["key"].as_str()?.into(), p["value"].as_str()?.into())))
        .collect()
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
