//! `lab10 train` (one experiment, a resumed run, or a --group) and `lab10 ensemble`.

use anyhow::Result;
use lab10_experiment::{Experiment, Overrides, SavedModel, Stop};
use lab10_runs::{RunDir, dataset_root};
use lab10_train::{
    EnsembleOptions, GroupOptions, Jobs, StudyMode, ensemble_members, find_completed_run,
    find_unfinished_run, get_group, group_members, run_ensemble, run_group,
};

use crate::cli::{EnsembleArgs, Global, RemoteArgs, StudyArgs, TrainArgs};
use crate::{jobs, slurm};

pub fn train(g: &Global, args: TrainArgs, stop: &Stop) -> Result<()> {
    args.study.refuse_workers()?;
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
            match own_run(g, &member)? {
                Own::Finished(run) => {
                    println!("finished already: {}", run.display());
                    return Ok(());
                }
                Own::Unfinished(run) => (SavedModel::open(&run.path, None)?.experiment, Some(run)),
                Own::None => (member, None),
            }
        }
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
        &g.train_options(compute, resume, stop, args.json, &args.tracking)?,
    )?;
    Ok(())
}

/// The study flags are for a group of runs: beside an experiment, say so instead of silently
/// training one run.
fn refuse_group_flags(args: &TrainArgs) -> Result<()> {
    if args.group.is_some() {
        return Ok(());
    }
    let s = &args.study;
    let group_only = [
        ("--seeds", args.seeds.is_some()),
        ("--no-reuse", s.no_reuse),
        ("--jobs", s.jobs.is_some()),
        ("--slurm", s.slurm.slurm),
        ("--collect", s.slurm.collect),
    ];
    match group_only.iter().find(|(_, set)| *set) {
        Some((flag, _)) => anyhow::bail!(
            "{flag} is for a group of runs: use it with --group NAME (or with `lab10 ensemble` \
             for seeds of one experiment)"
        ),
        None => Ok(()),
    }
}

/// `lab10 train --group NAME`: here, side by side (--jobs), or on Slurm.
fn train_group(g: &Global, args: TrainArgs, name: &str, stop: &Stop) -> Result<()> {
    let catalog = g.catalog();
    let group = get_group(&catalog, name)?;
    let (compute, jobs) = study_compute(g, &args.study, &args.remote, args.json, stop)?;
    let opts = GroupOptions {
        train: g.train_options(compute, None, stop, args.json, &args.tracking)?,
        overrides: args.overrides.clone(),
        seeds: args.seeds.clone(),
        mode: study_mode(&args.study),
        jobs,
    };
    if args.study.slurm.slurm {
        let planned = group_members(&group, &catalog, &opts)?;
        let job = slurm::Job {
            study: slurm::Study::Group {
                name,
                seeds: args.seeds.as_deref(),
            },
            members: &planned.members,
            runs: &planned.artifacts,
            backend: g.backend()?,
            overrides: &args.overrides,
            reuse: !args.study.no_reuse,
            mlflow: opts.train.mlflow.as_ref(),
        };
        return slurm::submit(g, &job, &args.study.slurm);
    }
    let (dir, summary) = run_group(&group, &catalog, &opts)?;
    if args.json {
        let written = serde_json::json!({"event": "group", "summary": dir.join("summary.json")});
        println!("{written}");
    } else {
        println!("\n{}\nwrote {}", summary.markdown(), dir.display());
    }
    Ok(())
}

/// What `--continue` finds of a member's own runs.
enum Own {
    Finished(std::path::PathBuf),
    Unfinished(RunDir),
    None,
}

/// The member's identical finished run, else its own unfinished run with a checkpoint, on
/// this backend, under the artifacts folder of its dataset.
fn own_run(g: &Global, member: &Experiment) -> Result<Own> {
    let mut member = member.clone();
    let spec = g.data()?.dataset_for(&member)?;
    member.dataset = spec.name.to_string();
    let runs = dataset_root(&g.artifacts, &member.dataset);
    let backend = g.backend()?.name();
    if let Some((run, _)) = find_completed_run(&runs, &member, backend)? {
        return Ok(Own::Finished(run.path));
    }
    Ok(match find_unfinished_run(&runs, &member, backend) {
        Some(run) => Own::Unfinished(run),
        None => Own::None,
    })
}

/// Train (reusing finished identical runs unless `--no-reuse`), or only collect (`--collect`).
fn study_mode(study: &StudyArgs) -> StudyMode {
    if study.slurm.collect {
        StudyMode::Collect
    } else {
        StudyMode::Train {
            reuse: !study.no_reuse,
        }
    }
}

pub fn ensemble(g: &Global, args: EnsembleArgs, stop: &Stop) -> Result<()> {
    args.study.refuse_workers()?;
    let experiment = g.catalog().get(&args.experiment)?;
    let (compute, jobs) = study_compute(g, &args.study, &args.remote, args.json, stop)?;
    let opts = EnsembleOptions {
        train: g.train_options(compute, None, stop, args.json, &args.tracking)?,
        overrides: args.overrides.clone(),
        members: args.members,
        mode: study_mode(&args.study),
        jobs,
    };
    if args.study.slurm.slurm {
        let (base, members) = ensemble_members(&experiment, &opts)?;
        let runs = dataset_root(&g.artifacts, &base.dataset);
        let job = slurm::Job {
            study: slurm::Study::Ensemble {
                experiment: &args.experiment,
                members: args.members,
            },
            members: &members,
            runs: &runs,
            backend: g.backend()?,
            overrides: &args.overrides,
            reuse: !args.study.no_reuse,
            mlflow: opts.train.mlflow.as_ref(),
        };
        return slurm::submit(g, &job, &args.study.slurm);
    }
    let (dir, report) = run_ensemble(&experiment, &opts)?;
    if args.json {
        let written = serde_json::json!({"event": "ensemble", "report": dir.join("ensemble.json")});
        println!("{written}");
    } else {
        println!("\n{}\nwrote {}", report.markdown(), dir.display());
    }
    Ok(())
}

/// Where a study computes: its members here or on --remote one after another, or side by side
/// in `--jobs` local processes (then this process computes only what comes after, on
/// --backend). A Slurm submission plans on --backend.
fn study_compute(
    g: &Global,
    study: &StudyArgs,
    remote: &RemoteArgs,
    json: bool,
    stop: &Stop,
) -> Result<(lab10_experiment::Compute, Option<Jobs>)> {
    match study.jobs {
        Some(n) => {
            if remote.token_file.is_some() {
                anyhow::bail!("--token-file is for --remote, not --jobs");
            }
            let backend = g.backend()?;
            let jobs = jobs::local_jobs(g, n, backend, !study.no_reuse, json, stop)?;
            Ok((backend.into(), Some(jobs)))
        }
        None if study.slurm.slurm => Ok((g.backend()?.into(), None)),
        None => Ok((g.compute(remote)?, None)),
    }
}
