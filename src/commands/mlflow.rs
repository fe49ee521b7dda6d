//! `lab10 mlflow sync`: runs sent to an MLflow tracking server after the fact; `lab10 mlflow
//! register`: a run's model in its Model Registry.

use anyhow::{Result, bail};
use lab10_runs::{Error::Locked, Health, RunDir, health};
use lab10_track::mlflow::{Mlflow, MlflowError};

use crate::cli::{Global, RegisterArgs, SyncArgs};

pub fn register(g: &Global, args: RegisterArgs) -> Result<()> {
    let mlflow = args.server.mlflow();
    mlflow.check()?;
    let run = RunDir::open(&g.run_targets().resolve(&args.run)?)?;
    register_run(&mlflow, &run, &args.name)
}

/// Registers `run`'s model (its MLflow Model written first if it has none) as `name`.
pub fn register_run(mlflow: &Mlflow, run: &RunDir, name: &str) -> Result<()> {
    mlflow_model(run);
    let (run_id, version) = mlflow.register(run, name)?;
    println!(
        "registered {} as version {version} of model '{name}' on {} (source runs:/{run_id}/model)",
        run.path.display(),
        mlflow.uri
    );
    Ok(())
}

/// A completed run's MLflow Model, if it has none (runs trained without --mlflow get theirs
/// when sent or registered); one that cannot be written is a warning: the rest is sent.
fn mlflow_model(run: &RunDir) {
    if let Err(e) = lab10_exchange::write_mlflow_model(run, false) {
        eprintln!(
            "warning: {}: no MLflow Model sent ({e})",
            run.path.display()
        );
    }
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
                .map_err(MlflowError::from)
                .and_then(|run| {
                    mlflow_model(&run);
                    mlflow.sync(&run)
                }) {
                // Still training (its lock is held): left alone, sent by a later sync.
                Err(MlflowError::Run(Locked { .. })) => {
                    println!("{}: skipped, still training", path.display());
                    continue;
                }
                other => other.map_err(anyhow::Error::from),
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
