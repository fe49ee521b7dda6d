//! `lab10 mlflow sync`: runs sent to an MLflow tracking server after the fact; `lab10 mlflow
//! register`: a run's model in its Model Registry.

use anyhow::{Result, bail};
use lab10_runs::{Error::Locked, Health, RunDir, health};
use lab10_track::mlflow::{MLMODEL, Mlflow, MlflowError};

use crate::cli::{Global, RegisterArgs, SyncArgs};

pub fn register(g: &Global, args: RegisterArgs) -> Result<()> {
    let mlflow = args.server.mlflow();
    mlflow.check()?;
    let run = RunDir::open(&g.run_targets().resolve(&args.run)?)?;
    register_run(g, &mlflow, &run, &args.name)
}

/// Registers `run`'s model (its MLflow Model written first if it has none) as `name`.
pub fn register_run(g: &Global, mlflow: &Mlflow, run: &RunDir, name: &str) -> Result<()> {
    mlflow_model(g, run)?;
    let (run_id, version) = mlflow.register(run, name)?;
    println!(
        "registered {} as version {version} of model '{name}' on {} (source runs:/{run_id}/model)",
        run.path.display(),
        mlflow.uri
    );
    Ok(())
}

/// A finished run's MLflow Model, written (under the run's lock) if it has none: runs trained
/// without --mlflow get theirs when sent or registered.
fn mlflow_model(g: &Global, run: &RunDir) -> Result<()> {
    // Not one of an earlier lab10 (no SHA256SUMS: `sync` refuses it), nor unfinished.
    let sealed = run.manifest().is_ok_and(|m| m.is_some());
    if !sealed || run.file(MLMODEL).is_file() || run.report().is_err() {
        return Ok(());
    }
    let _lock = run.lock().map_err(MlflowError::from)?;
    let device = g.backend()?.device()?;
    lab10_exchange::write_mlflow_model(run, g.provenance().build_commit, &device)?;
    Ok(())
}

pub fn mlflow_sync(g: &Global, args: SyncArgs) -> Result<()> {
    let mlflow = args.server.mlflow();
    mlflow.check()?;
    // Runs only: groups and ensembles are parents made when they are run with --mlflow.
    let runs = g.result_folders(&args.targets, true)?;
    let mut failed = Vec::new();
    for path in &runs {
        let synced = match health(path) {
            Health::Damaged { file, detail } => Err(anyhow::anyhow!(
                "not sent: {} is damaged ({detail})",
                file.display()
            )),
            _ => match RunDir::open(path)
                .map_err(|e| MlflowError::from(e).into())
                .and_then(|run| mlflow_model(g, &run).map(|_| run))
                .and_then(|run| Ok(mlflow.sync(&run)?))
            {
                // Still training (its lock is held): left alone, sent by a later sync.
                Err(e) if matches!(e.downcast_ref(), Some(MlflowError::Run(Locked { .. }))) => {
                    println!("{}: skipped, still training", path.display());
                    continue;
                }
                other => other,
            },
        };
        match (&synced, args.json) {
            (Ok(s), true) => println!(
                "{}",
                serde_json::json!({"path": path, "run_id": s.run_id, "points": s.points,
                                   "artifacts": s.artifacts})
            ),
            (Ok(s), false) if s.points == 0 && s.artifacts == 0 => {
                println!("{}: up to date (MLflow run {})", path.display(), s.run_id)
            }
            (Ok(s), false) => println!(
                "{}: sent {} metric points and {} files to MLflow run {}",
                path.display(),
                s.points,
                s.artifacts,
                s.run_id
            ),
            (Err(e), true) => println!(
                "{}",
                serde_json::json!({"path": path, "error": format!("{e:#}")})
            ),
            (Err(e), false) => eprintln!("{}: {e:#}", path.display()),
        }
        if synced.is_err() {
            failed.push(path.display().to_string());
        }
    }
    if !failed.is_empty() {
        bail!(
            "{} of {} runs were not sent: {}",
            failed.len(),
            runs.len(),
            failed.join(", ")
        );
    }
    Ok(())
}
