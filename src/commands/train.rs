//! `lab10 train` (one experiment, a resumed run, or a --group) and `lab10 ensemble`.

use anyhow::Result;
use lab10_runs::{
    Compute, Experiment, Overrides, RunDir, SavedModel, Stop, WorkerUrl, dataset_root,
};
use lab10_train::{
    EnsembleOptions, GroupOptions, MemberSlots, Members, ensemble_members, find_completed_run,
    find_unfinished_run, get_group, group_members, run_ensemble, run_group,
};

use crate::cli::{EnsembleArgs, Global, RemoteArgs, TrainArgs};
use crate::launcher::ProcessSlots;
use crate::slurm;

pub fn train(g: &Global, args: TrainArgs, stop: &Stop) -> Result<()> {
    refuse_group_flags(&args)?;
    if let Some(name) = args.group.clone() {
        return train_group(g, args, &name, stop);
    }
    let overrides = args.settings.overrides();
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
        &g.train_options(compute, resume, stop, args.json)?,
    )?;
    Ok(())
}

/// clap's `requires = "group"` lets these through beside an experiment, which conflicts with
/// --group: say so instead of silently training one run.
fn refuse_group_flags(args: &TrainArgs) -> Result<()> {
    if args.group.is_some() {
        return Ok(());
    }
    let group_only = [
        ("--seeds", args.seeds.is_some()),
        ("--no-reuse", args.no_reuse),
        ("--workers", args.workers.is_some()),
        ("--jobs", args.jobs.is_some()),
        ("--slurm", args.slurm.slurm),
        ("--collect", args.slurm.collect),
    ];
    match group_only.iter().find(|(_, set)| *set) {
        Some((flag, _)) => anyhow::bail!(
            "{flag} is for a group of runs: use it with --group NAME (or with `lab10 ensemble` \
             for seeds of one experiment)"
        ),
        None => Ok(()),
    }
}

/// `lab10 train --group NAME`: here, side by side (--workers, --jobs), or on Slurm.
fn train_group(g: &Global, args: TrainArgs, name: &str, stop: &Stop) -> Result<()> {
    let catalog = g.catalog();
    let group = get_group(&catalog, name)?;
    let overrides = args.settings.overrides();
    if args.slurm.slurm {
        let opts = GroupOptions {
            train: g.train_options(g.backend()?.into(), None, stop, args.json)?,
            overrides,
            seeds: args.seeds.clone(),
            mode: Members::Train { reuse: true },
            slots: None,
        };
        let planned = group_members(&group, &catalog, &opts)?;
        let job = slurm::Job {
            study: slurm::Study::Group {
                name,
                seeds: args.seeds.as_deref(),
            },
            members: &planned.members,
            runs: &planned.artifacts,
            backend: g.backend()?,
            settings: &args.settings,
            reuse: !args.no_reuse,
        };
        return slurm::submit(g, &job, &args.slurm);
    }
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
        mode: study_mode(args.slurm.collect, args.no_reuse),
        slots,
    };
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
    if let Some((run, _)) = find_completed_run(&runs, &member, backend) {
        return Ok(Own::Finished(run.path));
    }
    Ok(match find_unfinished_run(&runs, &member, backend) {
        Some(run) => Own::Unfinished(run),
        None => Own::None,
    })
}

/// Train (reusing finished identical runs unless `no_reuse`), or only collect (`--collect`).
fn study_mode(collect: bool, no_reuse: bool) -> Members {
    if collect {
        Members::Collect
    } else {
        Members::Train { reuse: !no_reuse }
    }
}

pub fn ensemble(g: &Global, args: EnsembleArgs, stop: &Stop) -> Result<()> {
    let experiment = g.catalog().get(&args.experiment)?;
    if args.slurm.slurm {
        let opts = EnsembleOptions {
            train: g.train_options(g.backend()?.into(), None, stop, args.json)?,
            overrides: args.settings.overrides(),
            members: args.members,
            mode: Members::Train { reuse: true },
            slots: None,
        };
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
            settings: &args.settings,
            reuse: !args.no_reuse,
        };
        return slurm::submit(g, &job, &args.slurm);
    }
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
        mode: study_mode(args.slurm.collect, args.no_reuse),
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
