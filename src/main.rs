//! `lab10`: the lab-10 MNIST experiments by name. A thin layer: `cli.rs` parses the flags, a
//! function per command in `commands/` calls the libraries (`lab10-train` to train, `lab10-runs`
//! for what runs leave on disk) and prints what came back,
//! `printer.rs` shows a run's progress, `signals.rs` turns Ctrl-C into a stop request,
//! `member.rs` builds a study member's file and command line, which `jobs.rs` runs as a child
//! process (`--jobs`) and `slurm.rs` puts in a job array (`--slurm`). Errors print one line
//! and exit non-zero.

mod cli;
mod commands;
mod jobs;
mod member;
mod printer;
mod signals;
mod slurm;

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;
use lab10_experiment::Stop;

use cli::{Cli, Command, MlflowCommand};

// The CPU backends allocate a fresh buffer for most tensor ops; glibc's malloc hands buffers
// this size back to the kernel and faults them in again every step. mimalloc keeps them:
// `deep`'s step is measured with and without it in bench/README.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stop = Stop::default();
    // Training stops gracefully on the first Ctrl-C; everything else exits at once.
    let graceful = matches!(cli.command, Command::Train(_) | Command::Ensemble(_));
    // A worker stops on Ctrl-C through the handlers of Burn's server.
    let worker = matches!(cli.command, Command::Worker(_));
    if !worker && let Err(e) = signals::install(stop.clone(), graceful) {
        eprintln!("error: {e:#}");
        return ExitCode::FAILURE;
    }
    match lab10_experiment::on_compute_pool(|| run(cli, stop)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => match e.downcast_ref::<lab10_runs::Error>() {
            Some(lab10_runs::Error::Stopped { reason, message }) => {
                eprintln!("{message}");
                ExitCode::from(reason.exit_code())
            }
            _ => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

fn run(cli: Cli, stop: Stop) -> Result<()> {
    let g = &cli.global;
    match cli.command {
        Command::List => commands::list(g),
        Command::Summary(args) => commands::summary(g, args),
        Command::Train(args) => commands::train(g, args, &stop),
        Command::Ensemble(args) => commands::ensemble(g, args, &stop),
        Command::Eval(args) => commands::eval(g, args),
        Command::Export(args) => commands::export(g, args),
        Command::Import(args) => commands::import(g, args),
        Command::Predict(args) => commands::predict(g, args),
        Command::Report(args) => commands::report(g, args),
        Command::Serve(args) => commands::serve(g, args),
        Command::Site(args) => commands::site(g, args),
        Command::Worker(args) => commands::worker(g, args),
        Command::Backends => commands::backends(),
        Command::Datasets => commands::datasets(g),
        Command::Verify(args) => commands::verify(g, args),
        Command::Mlflow(MlflowCommand::Sync(args)) => commands::mlflow_sync(g, args),
    }
}
