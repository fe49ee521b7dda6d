//! `lab10 train` (one experiment, a resumed run, or a --group) and `lab10 ensemble`.

use anyhow::Result;
use lab10_runs::{Compute, Overrides, RunDir, SavedModel, Stop, WorkerUrl};
use lab10_train::{EnsembleOptions, GroupOptions, MemberSlots, get_group, run_ensemble, run_group};

use crate::cli::{EnsembleArgs, Global, RemoteArgs, TrainArgs};
use crate::launcher::ProcessSlots;

pub fn train(g: &Global, args: TrainArgs, stop: &Stop) -> Result<()> {
    let overrides = args.settings.overrides();
    // clap's `requires = "group"` lets these through beside an experiment, which conflicts
    // with --group: say so here instead of silently training one run.
    if args.group.is_none() {
        let group_only = [
            ("--seeds", args.seeds.is_some()),
            ("--no-reuse", args.no_reuse),
            ("--workers", args.workers.is_some()),
            ("--jobs", args.jobs.is_some()),
        ];
        if let Some((flag, _)) = group_only.iter().find(|(_, set)| *set) {
            anyhow::bail!(
                "{flag} is for a group of runs: use it with --group NAME (or with `lab10 \
                 ensemble` for seeds of one experiment)"
            );
        }
    }
    if let Some(name) = args.group {
        let catalog = g.catalog();
        let group = get_group(&catalog, &name)?;
        let (slots, compute) = study_compute(
            g,
            args.workers,
            args.jobs,
            &args.remote,
            args.json,
            stop,
            false,
        )?;
        let opts = GroupOptions {
            train: g.train_options(compute, None, stop, args.json)?,
            overrides,
            seeds: args.seeds,
            reuse: !args.no_reuse,
            slots,
        };
        let (dir, summary) = run_group(&group, &catalog, &opts)?;
        if args.json {
            let written =
                serde_json::json!({"event": "group", "summary": dir.join("summary.json")});
            println!("{written}");
        } else {
            println!("\n{}\nwrote {}", summary.markdown(), dir.display());
        }
        return Ok(());
    }
    let name = args
        .experiment
        .expect("clap requires an experiment without --group");
    let (mut experiment, resume) = match args.resume {
        None => (g.catalog().get(&name)?, None),
        Some(path) => {
            // A resumed run keeps its own resolved settings; only --epochs may extend it.
            if (Overrides {
                epochs: None,
                ..overrides.clone()
            }) != Overrides::default()
            {
                anyhow::bail!(
                    "--resume continues a run with its own settings; only --epochs may change"
                );
            }
            let path = path.unwrap_or_else(|| g.experiment_dir(&name));
            let run = RunDir::open(&path)?;
            (SavedModel::open(&run.path, None)?.experiment, Some(run))
        }
    };
    // A resumed run's experiment.toml is rewritten by the training (under the run's lock), so
    // an extended epoch count is recorded for later resumes and evals.
    experiment.apply(&overrides)?;
    let compute = g.compute(&args.remote)?;
    lab10_train::train(
        &experiment,
        &g.train_options(compute, resume, stop, args.json)?,
    )?;
    Ok(())
}

pub fn ensemble(g: &Global, args: EnsembleArgs, stop: &Stop) -> Result<()> {
    let experiment = g.catalog().get(&args.experiment)?;
    // With --workers the members train there; the ensemble is scored on this machine.
    let (slots, compute) = study_compute(
        g,
        args.workers,
        args.jobs,
        &args.remote,
        args.json,
        stop,
        true,
    )?;
    let opts = EnsembleOptions {
        train: g.train_options(compute, None, stop, args.json)?,
        overrides: args.settings.overrides(),
        members: args.members,
        reuse: !args.no_reuse,
        slots,
    };
    let (dir, report) = run_ensemble(&experiment, &opts)?;
    if args.json {
        let written = serde_json::json!({"event": "ensemble", "report": dir.join("ensemble.json")});
        println!("{written}");
    } else {
        println!("\n{}\nwrote {}", report.markdown(), dir.display());
    }
    Ok(())
}

/// Where a group's or an ensemble's members compute: side by side on --workers or --jobs
/// (then this process computes only what comes after, on --backend), or here / on --remote.
fn study_compute(
    g: &Global,
    workers: Option<Vec<WorkerUrl>>,
    jobs: Option<usize>,
    remote: &RemoteArgs,
    json: bool,
    stop: &Stop,
    scores_here: bool,
) -> Result<(Option<Box<dyn MemberSlots>>, Compute)> {
    let slots = ProcessSlots::from_flags(
        g,
        workers,
        jobs,
        remote.token_file.clone(),
        json,
        stop,
        scores_here,
    )?;
    let compute = match &slots {
        Some(_) => g.backend()?.into(),
        None => g.compute(remote)?,
    };
    Ok((slots, compute))
}
