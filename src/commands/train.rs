//! `lab10 train` (one experiment, a resumed run, or a --group) and `lab10 ensemble`.

use anyhow::Result;
use lab10_experiment::{Experiment, Overrides, SavedModel, Stop};
use lab10_runs::{RunDir, dataset_root};
use lab10_train::{
    StudyMode, StudyOptions, ensemble_members, find_completed_run, find_unfinished_run, get_group,
    group_members, run_ensemble, run_group,
};

use crate::cli::{EnsembleArgs, Global, RemoteArgs, StudyArgs, TrackingArgs, TrainArgs};
use crate::member::MemberCommand;
use crate::{jobs, slurm};

pub fn train(g: &Global, args: TrainArgs, stop: &Stop) -> Result<()> {
    refuse_group_flags(&args)?;
    if let Some(name) = args.group.clone() {
        return train_group(g, args, &name, stop);
    }
    let overrides = args.overrides;
    let name = args
        .experiment
        .expect("clap requires an experiment without --group");
    let (mut experiment, resume) = match args.resume {
        None if args.continue_own => {
            let mut member = g.catalog().get(&name)?;
            member.apply(&overrides)?;
            match own_run(g, member)? {
                Some(start) => start,
                None => return Ok(()),
            }
        }
        None => (g.catalog().get(&name)?, None),
        Some(path) => {
            // A resumed run keeps its own resolved settings; only --epochs may extend it.
            let mut others = overrides.clone();
            others.epochs = None;
            if others != Overrides::default() {
                anyhow::bail!(
                    "--resume continues a run with its own settings; only --epochs may change"
                );
            }
            let path = path.unwrap_or_else(|| g.run_targets().experiment_dir(&name));
            let run = RunDir::open(&path)?;
            (SavedModel::open(&run.path, None)?.experiment, Some(run))
        }
    };
    // A resumed run's experiment.toml is rewritten by the training (under the run's lock), so
    // an extended epoch count is recorded for later resumes and evals.
    experiment.apply(&overrides)?;
    let compute = g.compute(&args.remote)?;
    let opts = g.train_options(compute, resume, stop, args.json, &args.tracking)?;
    let register = match (&args.register, &opts.mlflow) {
        (Some(name), Some(mlflow)) => Some((name, mlflow)),
        (Some(_), None) => anyhow::bail!(
            "--register registers the run's model in an MLflow tracking server's Model \
             Registry: give --mlflow URI (or MLFLOW_TRACKING_URI) too"
        ),
        (None, _) => None,
    };
    let outcome = lab10_train::train(&experiment, &opts)?;
    if let Some((name, mlflow)) = register {
        crate::commands::mlflow::register_run(mlflow, &outcome.run, name)?;
    }
    Ok(())
}

/// The study flags beside an experiment: say so instead of silently training one run.
fn refuse_group_flags(args: &TrainArgs) -> Result<()> {
    let s = &args.study;
    let group_only = [
        ("--seeds", args.seeds.is_some()),
        ("--no-reuse", s.no_reuse),
        ("--jobs", s.jobs.is_some()),
        ("--slurm", s.slurm.slurm),
        ("--collect", s.slurm.collect),
    ];
    match group_only.iter().find(|(_, set)| *set) {
        Some((flag, _)) if args.group.is_none() => anyhow::bail!(
            "{flag} is for a group of runs: use it with --group NAME (or with `lab10 ensemble` \
             for seeds of one experiment)"
        ),
        _ => Ok(()),
    }
}

/// `lab10 train --group NAME`: here, side by side (--jobs), or on Slurm.
fn train_group(g: &Global, args: TrainArgs, name: &str, stop: &Stop) -> Result<()> {
    let catalog = g.catalog();
    let group = get_group(&catalog, name)?;
    let flags = (&args.remote, &args.tracking, &args.overrides);
    let opts = study_options(g, &args.study, flags, args.json, stop)?;
    if args.study.slurm.slurm {
        let planned = group_members(&group, &catalog, &opts, args.seeds.as_deref())?;
        let job = slurm::Job {
            study: slurm::Study::Group {
                name,
                seeds: args.seeds.as_deref(),
            },
            members: &planned.members,
            runs: &planned.artifacts,
            overrides: &args.overrides,
            mlflow: opts.train.mlflow.as_ref(),
        };
        return slurm::submit(g, &job, &args.study);
    }
    let (dir, summary) = run_group(&group, &catalog, &opts, args.seeds.as_deref())?;
    if args.json {
        let written = serde_json::json!({"event": "group", "summary": dir.join("summary.json")});
        println!("{written}");
    } else {
        println!("\n{}\nwrote {}", summary.markdown(), dir.display());
    }
    Ok(())
}

/// `--continue`: `None` (said so) if an identical run finished, else its own run to resume.
fn own_run(g: &Global, member: Experiment) -> Result<Option<(Experiment, Option<RunDir>)>> {
    let mut probe = member.clone();
    probe.dataset = g.data()?.dataset_for(&probe)?.name.to_string();
    let runs = dataset_root(&g.artifacts, &probe.dataset);
    let backend = g.backend()?.name();
    if let Some((run, _)) = find_completed_run(&runs, &probe, backend)? {
        println!("finished already: {}", run.path.display());
        return Ok(None);
    }
    Ok(Some(match find_unfinished_run(&runs, &probe, backend) {
        Some(run) => (SavedModel::open(&run.path, None)?.experiment, Some(run)),
        None => (member, None),
    }))
}

pub fn ensemble(g: &Global, args: EnsembleArgs, stop: &Stop) -> Result<()> {
    let experiment = g.catalog().get(&args.experiment)?;
    let flags = (&args.remote, &args.tracking, &args.overrides);
    let opts = study_options(g, &args.study, flags, args.json, stop)?;
    if args.study.slurm.slurm {
        let (base, members) = ensemble_members(&experiment, &opts, args.members)?;
        let runs = dataset_root(&g.artifacts, &base.dataset);
        let job = slurm::Job {
            study: slurm::Study::Ensemble {
                experiment: &args.experiment,
                members: args.members,
            },
            members: &members,
            runs: &runs,
            overrides: &args.overrides,
            mlflow: opts.train.mlflow.as_ref(),
        };
        return slurm::submit(g, &job, &args.study);
    }
    let (dir, report) = run_ensemble(&experiment, &opts, args.members)?;
    if args.json {
        let written = serde_json::json!({"event": "ensemble", "report": dir.join("ensemble.json")});
        println!("{written}");
    } else {
        println!("\n{}\nwrote {}", report.markdown(), dir.display());
    }
    Ok(())
}

/// How a study's members are trained: here or on --remote, or in `--jobs` processes (then on
/// --backend), reusing finished identical runs unless `--no-reuse`; or only collected.
fn study_options(
    g: &Global,
    study: &StudyArgs,
    (remote, tracking, overrides): (&RemoteArgs, &TrackingArgs, &Overrides),
    json: bool,
    stop: &Stop,
) -> Result<StudyOptions> {
    let (compute, jobs) = match study.jobs {
        Some(n) => {
            if remote.token_file.is_some() {
                anyhow::bail!("--token-file is for --remote, not --jobs");
            }
            let backend = g.backend()?;
            let command = MemberCommand::new(g, backend, !study.no_reuse)?;
            (
                backend.into(),
                Some(jobs::local_jobs(command, n, json, stop)?),
            )
        }
        None if study.slurm.slurm => (g.backend()?.into(), None),
        None => (g.compute(remote)?, None),
    };
    let mode = match study.slurm.collect {
        true => StudyMode::Collect,
        false => StudyMode::Train {
            reuse: !study.no_reuse,
        },
    };
    Ok(StudyOptions {
        train: g.train_options(compute, None, stop, json, tracking)?,
        overrides: overrides.clone(),
        mode,
        jobs,
    })
}
